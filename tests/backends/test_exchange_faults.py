"""The exchange backend under injected faults: no duplicate order, no lost fill, views agree.

Each test runs a fixed order script against a fresh account of the session's local exchange
(tests/backends/conftest.py) with one kind of fault switched on, then checks the end state
against the exchange's own book, read from the server's engine (not through the backend):

* every client order id reached the exchange at most once, and none was sent twice;
* the backend's fills are exactly the exchange's trades (by id and quantity);
* the backend's cash and positions equal the exchange's balances (reconcile() finds nothing).
"""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.backends import (
    ExchangeTradingBackend,
    ReconciliationWarning,
    RetryPolicy,
    SyncTradingBackend,
    run_sync,
)
from axon_lab.clock import SimulatedClock
from axon_lab.errors import BackendError
from axon_lab.records import DefenceLine, GateState, OrderRequest, OrderStatus
from axon_lab.risk import RejectionCircuitBreaker, RiskChain

from .conftest import Harness, exchange_harness, local_exchange

pytest.importorskip("ccxt", reason="the exchange backend needs axon-lab[exchange]")

START = datetime(2024, 5, 1, tzinfo=UTC)
PRICES = {"AAA": 20.0, "BBB": 4.0}
TIMEOUT_MS = 300  # the client's timeout; a timeout-after-accept holds its answer longer


def make(cash: float = 1_000.0, **kw: object) -> tuple[Harness, SyncTradingBackend]:
    h = exchange_harness(
        PRICES,
        SimulatedClock(START),
        cash,
        timeout_ms=TIMEOUT_MS,
        retry=RetryPolicy(attempts=5, backoff=0.0, max_backoff=0.05),
        **kw,  # type: ignore[arg-type]
    )
    return h, SyncTradingBackend(h.backend)


@pytest.fixture
def harness():
    h, b = make()
    local_exchange().faults.set(hang=2 * TIMEOUT_MS / 1000)
    yield h, b
    h.close()


def order(cid: str, side: str = "buy", qty: float = 2.0, symbol: str = "AAA", **kw: object):
    return OrderRequest(client_order_id=cid, symbol=symbol, side=side, quantity=qty, **kw)


def script(h: Harness, b: SyncTradingBackend) -> list[OrderRequest]:
    """Orders of every kind: market buy, resting limit, replace, cancel, a limit that fills."""
    # (one working order per symbol: the sim kernel's rule, which the local exchange keeps)
    sent = [order("m1"), order("l1", order_type="limit", price=3.0, symbol="BBB")]
    b.place_order(sent[0])
    rest = b.place_order(sent[1])
    h.settle()
    b.replace_order(rest.order_id, price=3.5)
    b.place_order(sent[0])  # a resubmission: must not create a second order
    sell = order("s1", side="sell", qty=1.5, order_type="limit", price=22.0, symbol="AAA")
    sent.append(sell)
    (replacement,) = b.open_orders("BBB")
    b.cancel_order(replacement.order_id)
    b.place_order(sell)
    h.set_price("AAA", 22.0)
    b.fills()  # a loop reads fills and the portfolio every step
    b.query_portfolio()
    sent.append(order("b2", qty=10.0, symbol="BBB"))
    b.place_order(sent[-1])
    h.settle()
    for request in sent:
        b.place_order(request)  # re-read every order's final state
    b.fills()
    return sent


def check_agreement(h: Harness, b: SyncTradingBackend) -> None:
    engine = local_exchange().engine
    assert engine.duplicate_submissions == 0
    trades = {
        f"{sym}#{t['id']}": float(t["qty"])
        for sid, sym in engine.symbol_ids.items()
        for t in engine.my_trades(sid, order_id=None, start=None, from_id=None, limit=1000)
    }
    fills = b.fills()
    assert {f.fill_id: f.quantity for f in fills} == trades
    assert len(fills) == len(trades)  # no fill booked twice
    balances = {
        x["asset"]: float(x["free"]) + float(x["locked"]) for x in engine.account()["balances"]
    }
    snap = b.query_portfolio()
    assert math.isclose(snap.cash, balances["USDT"], abs_tol=1e-9)
    for sym in PRICES:
        assert math.isclose(snap.quantity(sym), balances[sym], abs_tol=1e-9)
    backend = h.backend
    assert isinstance(backend, ExchangeTradingBackend)
    assert run_sync(backend.reconcile()).ok


def check_orders(sent: list[OrderRequest], b: SyncTradingBackend) -> None:
    engine = local_exchange().engine
    # each request reached the exchange exactly once, plus the replacement: nothing else
    assert engine.orders_sent() == len(sent) + 1
    acks = [b.place_order(r) for r in sent]
    assert len({a.order_id for a in acks}) == len(sent)
    assert acks[0].status is OrderStatus.FILLED
    assert acks[-1].status is OrderStatus.FILLED


FAULTS = {
    "latency": {"latency": 0.02},
    "5xx-on-orders": {"server_errors": 2, "only": frozenset({"order"})},
    "5xx-everywhere": {"server_errors": 3},
    "429-retry-after": {"rate_limits": 2, "retry_after": 1, "only": frozenset({"order"})},
    "timeout-after-accept": {"timeouts_after_accept": 2},
    "drop-after-accept": {"drops_after_accept": 2},
    "drop-before": {"drops": 2, "only": frozenset({"order", "cancelReplace"})},
    "drop-anywhere": {"drops": 3},
    "duplicate-fills": {"duplicate_fills": True},
}


@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
def test_no_duplicate_order_and_no_lost_fill_under_fault(harness, faults):
    h, b = harness
    server = local_exchange()
    before = dict(server.faults.injected)
    server.faults.set(**faults)
    sent = script(h, b)
    injected = {k: v - before.get(k, 0) for k, v in server.faults.injected.items()}
    counted = set(faults) - {"latency", "only", "retry_after"}
    assert all(injected.get(k, 0) > 0 for k in counted), injected  # the fault really happened
    server.faults.clear()
    check_orders(sent, b)
    check_agreement(h, b)


def test_429_retry_after_is_honoured_by_the_budget(harness):
    h, b = harness
    server = local_exchange()
    server.faults.set(rate_limits=2, retry_after=1, only=frozenset({"order"}))
    b.place_order(order("r1"))
    assert h.backend.budget.retry_after_pauses == 2  # type: ignore[attr-defined]
    assert local_exchange().engine.orders_sent() == 1


def test_partial_fills_arrive_piece_by_piece_and_none_is_lost(harness):
    h, b = harness
    engine = local_exchange().engine
    engine.fill_pieces = 3
    b.place_order(order("p1", qty=3.0))
    h.settle()
    first = b.place_order(order("p1", qty=3.0))
    assert first.status is OrderStatus.PARTIALLY_FILLED
    assert math.isclose(first.filled_quantity, 1.0)
    assert math.isclose(b.query_portfolio().quantity("AAA"), 1.0)
    engine.reveal()
    engine.reveal()
    last = b.place_order(order("p1", qty=3.0))
    assert last.status is OrderStatus.FILLED
    assert len(b.fills("p1")) == 3
    assert math.isclose(sum(f.quantity for f in b.fills("p1")), 3.0)
    check_agreement(h, b)


def test_an_exchange_that_stays_down_raises_then_the_resubmission_finds_the_order(harness):
    h, b = harness
    server = local_exchange()
    # the first placement is accepted but its answer never arrives; then nothing answers
    server.faults.set(
        timeouts_after_accept=1, skip=1, server_errors=1_000, only=frozenset({"order", "getOrder"})
    )
    with pytest.raises(BackendError, match="may or may not be on the exchange"):
        b.place_order(order("down"))
    server.faults.clear()
    ack = b.place_order(order("down"))  # looks it up by client id: it was accepted
    assert ack.status is OrderStatus.ACCEPTED
    assert server.engine.orders_sent() == 1
    assert server.engine.duplicate_submissions == 0
    h.settle()
    assert b.place_order(order("down")).status is OrderStatus.FILLED
    check_agreement(h, b)


def test_an_exchange_that_stays_down_trips_the_rejection_breaker(harness):
    h, _b = harness
    server = local_exchange()
    breaker = RejectionCircuitBreaker(
        max_rejections=2, window=timedelta(hours=1), cooldown=timedelta(hours=1)
    )
    chain = RiskChain(h.backend, gates=[breaker])
    server.faults.set(server_errors=1_000, only=frozenset({"order", "getOrder"}))
    reports = [run_sync(chain.place_order(order(f"x{i}", qty=0.5))) for i in range(3)]
    server.faults.clear()
    assert [r.ok for r in reports] == [False, False, False]
    assert [r.verdicts[-1].line for r in reports] == [
        DefenceLine.BACKEND,
        DefenceLine.BACKEND,
        DefenceLine.GATE,
    ]
    assert "did not answer" in reports[0].verdicts[-1].message
    assert breaker.state is GateState.HALTED
    assert server.engine.orders_sent() == 0  # 503s: nothing was accepted, nothing was sent twice


def test_reconcile_reports_an_order_it_did_not_place_and_store_disagreements(harness):
    h, b = harness
    backend = h.backend
    assert isinstance(backend, ExchangeTradingBackend)
    b.place_order(order("mine", qty=1.0))
    h.settle()
    stored = list(b.fills())
    # a second client (another process on the same key) leaves an order resting
    other, ob = make_second_client(h)
    ob.place_order(order("theirs", order_type="limit", price=5.0, qty=1.0, symbol="BBB"))
    other.close()
    with pytest.warns(ReconciliationWarning, match="not placed by this backend") as caught:
        report = run_sync(backend.reconcile(expected_fills=stored))
    assert len(caught) == 1
    assert [d.kind for d in report.discrepancies] == ["unknown_order"]
    assert [a.client_order_id for a in b.open_orders("BBB")] == ["theirs"]
    # the store lacks a fill the exchange reports, and holds one the exchange does not
    phantom = stored[0].replace(fill_id="AAA/USDT#999")
    with pytest.warns(ReconciliationWarning, match="not in the store"):
        report = run_sync(backend.reconcile(expected_fills=[phantom]))
    kinds = sorted(d.kind for d in report.discrepancies)
    assert kinds == ["missing_fill", "unrecorded_fill"]


def make_second_client(h: Harness) -> tuple[ExchangeTradingBackend, SyncTradingBackend]:
    """Another backend on the same account (as a restarted process would be)."""
    server = local_exchange()
    config = server.ccxt_config(timeout_ms=TIMEOUT_MS)
    config["rateLimit"] = 1
    other = ExchangeTradingBackend(
        "binance",
        symbols={s: f"{s}/USDT" for s in PRICES},
        clock=h.backend.clock,
        config=config,
        url=server.url,
    )
    return other, SyncTradingBackend(other)


def test_a_restarted_backend_adopts_its_open_orders_and_stays_idempotent(harness):
    h, b = harness
    resting = order("rest-1", order_type="limit", price=10.0, qty=1.0)
    first = b.place_order(resting)
    h.close()
    other, ob = make_second_client(h)
    try:
        with pytest.warns(ReconciliationWarning, match="not placed by this backend"):
            ack = ob.place_order(resting)  # start() reconciles and adopts the open order
        assert ack.order_id == first.order_id
        assert local_exchange().engine.orders_sent() == 1
        assert ob.cancel_order("rest-1").status is OrderStatus.CANCELLED
    finally:
        other.close()


def test_balances_move_with_the_fill_pieces_reported(harness):
    h, b = harness
    engine = local_exchange().engine
    engine.fill_pieces = 2
    b.place_order(order("half", qty=2.0))
    h.settle()
    backend = h.backend
    assert isinstance(backend, ExchangeTradingBackend)
    assert run_sync(backend.reconcile()).ok  # one piece reported: balances show one piece
    assert math.isclose(b.query_portfolio().quantity("AAA"), 1.0)
    engine.reveal()
    b.place_order(order("half", qty=2.0))
    assert run_sync(backend.reconcile()).ok
    assert math.isclose(b.query_portfolio().quantity("AAA"), 2.0)


FAULT_MIX = st.fixed_dictionaries(
    {
        "drops": st.integers(0, 2),
        "server_errors": st.integers(0, 2),
        "rate_limits": st.integers(0, 1),
        "timeouts_after_accept": st.integers(0, 1),
        "drops_after_accept": st.integers(0, 1),
        "duplicate_fills": st.booleans(),
        "only": st.sampled_from(
            [None, frozenset({"order"}), frozenset({"order", "getOrder", "myTrades"})]
        ),
    }
)
ORDERS = st.lists(
    st.tuples(
        st.sampled_from(["AAA", "BBB"]),
        st.sampled_from(["buy", "sell"]),
        st.integers(1, 40).map(lambda n: n / 8),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=8, deadline=None)
@given(faults=FAULT_MIX, orders=ORDERS)
def test_any_mix_of_faults_leaves_one_order_per_request_and_every_fill(faults, orders):
    h, b = make()
    server = local_exchange()
    server.faults.set(hang=2 * TIMEOUT_MS / 1000, retry_after=1, **faults)
    try:
        sent = [order(f"p{i}", side, qty, sym) for i, (sym, side, qty) in enumerate(orders)]
        for request in sent:
            with contextlib.suppress(BackendError):  # the exchange stayed down: retried below
                b.place_order(request)
            h.settle()
        server.faults.clear()
        for request in sent:
            b.place_order(request)  # finds what was accepted, sends what was not
        h.settle()
        acks = [b.place_order(request) for request in sent]
        assert server.engine.orders_sent() == len(sent)
        assert all(a.status in (OrderStatus.FILLED, OrderStatus.CANCELLED) for a in acks)
        check_agreement(h, b)
    finally:
        server.faults.clear()
        h.close()


def test_cancelling_an_order_that_never_arrived_sends_nothing(harness):
    _h, b = harness
    server = local_exchange()
    server.faults.set(drops=1_000, only=frozenset({"order"}))
    with pytest.raises(BackendError, match="may or may not"):
        b.place_order(order("lost", order_type="limit", price=10.0, qty=1.0))
    server.faults.clear()
    ack = b.cancel_order("lost")
    assert ack.status is OrderStatus.REJECTED
    assert "before it reached the exchange" in ack.message
    assert b.place_order(order("lost", order_type="limit", price=10.0, qty=1.0)) == ack
    assert server.engine.orders_sent() == 0


@pytest.mark.parametrize("fault", ["timeouts_after_accept", "drops_after_accept", "drops"])
def test_a_replace_that_got_no_answer_is_found_not_sent_again(harness, fault):
    h, b = harness
    server = local_exchange()
    old = b.place_order(order("r", order_type="limit", price=10.0, qty=1.0))
    before = server.faults.injected[fault]
    server.faults.set(**{fault: 1}, only=frozenset({"cancelReplace"}))
    new = b.replace_order(old.order_id, price=11.0)
    assert server.faults.injected[fault] == before + 1
    assert [a.order_id for a in b.open_orders()] == [new.order_id]
    assert b.get_order(new.order_id).price == 11.0
    assert server.engine.orders_sent() == 2  # the original and one replacement
    assert server.engine.duplicate_submissions == 0
    check_agreement(h, b)
