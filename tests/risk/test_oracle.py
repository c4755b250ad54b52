"""An independent oracle for the risk chain (issue 14, item 7).

The oracle shares no code with the chain: :class:`AccountModel` is a small model of the account
(cash, positions, resting orders, marks) written from the written rules, not from the chain's
modules. It is fed the same random interleavings of place, replace, cancel, partial fills
(the OMS's own and outside ones), price moves, clock jumps, marks and kill-switch flips as a real
:class:`~axon_lab.risk.RiskChain` in front of a Mock or OMS backend, and after every event it

* predicts the backend's fills (marketability, partial-fill size, the spot cap that cancels the
  rest) and cross-checks its own book against the backend's cash, positions, fills and open
  orders — any disagreement fails;
* checks, in the worst case (every resting order filled; a replacement counts its new size),
  that no limit is exceeded: ``max_position_abs`` always, the per-order limits, the position
  value, the open-order count and the daily count at each acceptance;
* checks that a spot account never goes below zero cash or position, and that a buy is only
  accepted when cash less what the open buys reserve (fees included) pays for it, a sell only
  when the position less what the open sells promise covers it;
* checks that once its own equity readings (at every ``chain.mark()`` and every order check)
  fell by ``max_drawdown`` from their peak, or while the kill switch is engaged, nothing reaches
  the backend;
* checks that every refusal is a verdict in the report and changed nothing at the backend.

Many symbols (issue 22): :func:`portfolio_oracle` writes the portfolio risk line's rules again in
plain Python (per order, then on the book) and must agree with
:func:`~axon_lab.risk.check_portfolio` on random books of up to 40 symbols with halts, missing
marks, shorts and sector groups; if an order that grows a position passes, the book after the
rebalance is within every limit.

Run ``HYPOTHESIS_PROFILE=thorough pytest tests/risk/test_oracle.py`` for >= 100k sequences.
The named tests at the end are regressions from the issue's list and minimal reproductions of
what the oracle found.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from axon_lab.backends import MockTradingBackend, OmsTradingBackend, run_sync
from axon_lab.clock import SimulatedClock
from axon_lab.errors import AxonError, BackendError
from axon_lab.records import DefenceLine, OrderRequest, OrderStatus
from axon_lab.risk import (
    GateState,
    KillSwitch,
    PnLCircuitBreaker,
    PortfolioLimits,
    RiskChain,
    RiskLimits,
    check_portfolio,
)

from ._oracle_model import (
    ABS,
    START,
    START_PRICES,
    SYMBOLS,
    AccountModel,
    ModelOrder,
    _at_most,
    _close,
    portfolio_measures,
    portfolio_oracle,
)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


def rarely(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """None two times in three, so most scenarios have a few active limits and still trade."""
    return st.one_of(st.none(), st.none(), strategy)


limits_st = st.builds(
    RiskLimits,
    max_order_quantity=rarely(st.floats(0.5, 12)),
    max_order_notional=rarely(st.floats(5, 600)),
    max_position_abs=rarely(st.floats(0, 30)),
    max_position_value=rarely(st.floats(5, 1000)),
    max_open_orders=rarely(st.integers(1, 6)),
    max_daily_orders=rarely(st.integers(1, 25)),
)
place_st = st.tuples(
    st.just("place"),
    st.sampled_from(SYMBOLS),
    st.sampled_from(["buy", "buy", "sell"]),
    st.floats(0.01, 10),
    st.sampled_from(["market", "limit", "limit", "stop"]),
    st.floats(0.5, 1.5),  # limit / stop price as a fraction of the mark
)
# a buy sized at k x what the free cash pays for (the buying-power edge, fees included)
buy_all_st = st.tuples(
    st.just("buy_all"),
    st.sampled_from(SYMBOLS),
    st.sampled_from(["market", "limit", "stop"]),
    st.floats(0.5, 1.5),
    st.floats(0.95, 1.05),
)
move_st = st.tuples(st.just("move"), st.sampled_from(SYMBOLS), st.floats(0.6, 1.5))
replace_st = st.tuples(
    st.just("replace"), st.integers(0, 7), maybe(st.floats(0.01, 10)), maybe(st.floats(0.5, 1.5))
)
# one action in three places an order, one in four moves a price; the rest works on the book,
# the clock and the gates around them
action_st = st.sampled_from(
    [place_st] * 4
    + [move_st] * 3
    + [buy_all_st]
    + [
        replace_st,
        st.tuples(st.just("cancel"), st.integers(0, 7)),
        st.tuples(st.just("fill"), st.integers(0, 7), st.floats(0.05, 1.0)),
        st.tuples(st.just("clock"), st.integers(1, 60 * 36)),  # minutes
        st.tuples(st.just("mark")),
        st.tuples(st.just("kill"), st.sampled_from([True, False, False, False])),
    ]
).flatmap(lambda strategy: strategy)


# a sequence takes a few ms: 600 of them in the default profile (~10 s for both properties),
# the profile's count (100k) under ``thorough``
SEQUENCES = max(settings.default.max_examples, 600)


@settings(max_examples=SEQUENCES)
@given(
    backend_kind=st.sampled_from(["mock", "oms"]),
    max_fill=maybe(st.floats(0.3, 4)),
    cash=st.floats(20, 600),
    fee_rate=st.sampled_from([0.0, 0.0, 0.001, 0.01, 0.05]),
    limits=limits_st,
    max_drawdown=maybe(st.floats(0.02, 0.3)),
    actions=st.lists(action_st, min_size=8, max_size=40),
)
def test_the_chain_never_breaks_the_oracles_rules(
    backend_kind, max_fill, cash, fee_rate, limits, max_drawdown, actions
):
    asyncio.run(_scenario(backend_kind, max_fill, cash, fee_rate, limits, max_drawdown, actions))


# the same oracle on sequences that build positions and move prices a lot, so the drawdown
# breaker trips in most of them (checks "a tripped gate lets nothing through" many times)
buy_st = st.tuples(
    st.just("place"),
    st.sampled_from(SYMBOLS),
    st.just("buy"),
    st.floats(0.5, 10),
    st.sampled_from(["market", "market", "limit", "stop"]),
    st.floats(0.8, 1.2),
)
fall_st = st.tuples(st.just("move"), st.sampled_from(SYMBOLS), st.floats(0.6, 1.3))
# rounds of (buy, price move, one more action), flattened: every sequence trades and moves
crash_actions_st = st.lists(
    st.tuples(
        buy_st,
        fall_st,
        st.sampled_from(
            [st.tuples(st.just("mark"))] * 3
            + [place_st, buy_all_st, replace_st, fall_st]
            + [st.tuples(st.just("fill"), st.integers(0, 7), st.floats(0.05, 1.0))]
        ).flatmap(lambda strategy: strategy),
    ),
    min_size=3,
    max_size=14,
).map(lambda rounds: [action for round_ in rounds for action in round_])


@settings(max_examples=SEQUENCES)
@given(
    backend_kind=st.sampled_from(["mock", "oms"]),
    max_fill=maybe(st.floats(0.3, 4)),
    cash=st.floats(20, 300),
    fee_rate=st.just(0.0),  # (fees are the first property's business)
    limits=limits_st,
    max_drawdown=st.floats(0.02, 0.3),
    actions=crash_actions_st,
)
def test_a_tripped_breaker_lets_nothing_through(
    backend_kind, max_fill, cash, fee_rate, limits, max_drawdown, actions
):
    asyncio.run(_scenario(backend_kind, max_fill, cash, fee_rate, limits, max_drawdown, actions))


async def _scenario(backend_kind, max_fill, cash, fee_rate, limits, max_drawdown, actions):
    clock = SimulatedClock(START)
    if backend_kind == "mock":
        max_fill = None
        backend = MockTradingBackend(START_PRICES, cash=cash, clock=clock, fee_rate=fee_rate)
    else:
        backend = OmsTradingBackend(
            START_PRICES, cash=cash, clock=clock, fee_rate=fee_rate, max_fill_quantity=max_fill
        )
    kill = KillSwitch(clock=clock)
    breaker = None
    gates: list = []
    if max_drawdown is not None:
        breaker = PnLCircuitBreaker(max_drawdown=max_drawdown, trip_to=GateState.HALTED)
        gates.append(breaker)
    gates.append(kill)
    chain = RiskChain(backend, limits=limits, gates=gates, clock=clock)
    model = AccountModel(
        cash=cash,
        marks=dict(START_PRICES),
        fee_rate=fee_rate,
        max_fill=max_fill,
        limits=limits,
        max_drawdown=max_drawdown,
    )
    seq = 0
    for action in actions:
        kind = action[0]
        if kind == "buy_all":
            _, sym, otype, frac, k = action
            free = model.cash - model.reserved_cash()
            mark = model.marks[sym]
            level = {"market": mark, "limit": mark * frac, "stop": mark * max(frac, 1.0)}[otype]
            qty = k * free / (level * (1 + model.fee_rate))
            if qty < 1e-6:
                continue
            action = ("place", sym, "buy", qty, otype, frac)
            kind = "place"
        if kind == "place":
            _, sym, side, qty, otype, frac = action
            seq += 1
            mark = model.marks[sym]
            level = round(mark * frac, 6)
            request = OrderRequest(
                client_order_id=f"c{seq}",
                symbol=sym,
                side=side,
                quantity=qty,
                order_type=otype,
                price=level if otype == "limit" else None,
                stop_price=level if otype == "stop" else None,
            )
            proposed = ModelOrder(
                "?",
                sym,
                side,
                otype,
                qty,
                limit=request.price,
                stop=request.stop_price,
            )
            await _order_event(
                backend, chain, model, proposed, None, chain.place_order(request), clock
            )
        elif kind == "replace":
            _, idx, qty, frac = action
            resting = model.open_orders()
            if not resting:
                continue
            old = resting[idx % len(resting)]
            price = None
            if old.kind == "limit" and frac is not None:
                price = round(model.marks[old.symbol] * frac, 6)
            proposed = ModelOrder(
                "?",
                old.symbol,
                old.side,
                old.kind,
                old.remaining if qty is None else qty,
                limit=old.limit if price is None else price,
                stop=old.stop,
            )
            call = chain.replace_order(old.oid, quantity=qty, price=price)
            await _order_event(backend, chain, model, proposed, old, call, clock)
        elif kind == "cancel":
            resting = model.open_orders()
            if not resting:
                continue
            target = resting[action[1] % len(resting)]
            report = await chain.cancel_order(target.oid)
            assert report.ok, report
            assert report.sent, report
            assert report.ack is not None, report
            assert report.ack.status is OrderStatus.CANCELLED, report
            target.open = False
        elif kind == "move":
            _, sym, frac = action
            price = min(
                max(model.marks[sym] * frac, START_PRICES[sym] / 20), START_PRICES[sym] * 20
            )
            fills = list(backend.set_price(sym, price))
            model.marks[sym] = price
            for o in model.open_orders(sym):
                mine = [f for f in fills if f.order_id == o.oid]
                fills = [f for f in fills if f.order_id != o.oid]
                model.match(o, mine)
            assert not fills, f"fills of orders the model does not know as open: {fills}"
        elif kind == "fill":
            if backend_kind != "oms":
                continue
            _, idx, frac = action
            resting = model.open_orders()
            if not resting:
                continue
            o = resting[idx % len(resting)]
            mark = model.marks[o.symbol]
            if o.kind == "limit":
                assert o.limit is not None
                price = min(o.limit, mark) if o.side == "buy" else max(o.limit, mark)
            elif o.kind == "stop" and not o.triggered:
                continue  # a venue does not fill a stop that has not triggered
            else:
                price = mark
            qty = o.remaining if frac > 0.95 else o.remaining * frac
            # a spot account books an outside fill only if it can carry it; else BackendError
            if o.side == "buy":
                room = max(model.cash, 0.0) / (price * (1 + model.fee_rate))
            else:
                room = max(model.positions[o.symbol], 0.0)
            near = abs(room - qty) <= 1e-9 * qty
            try:
                fill = backend.apply_fill(o.oid, qty, price)
            except BackendError:
                assert qty > room or near, f"an outside fill of {qty} that fits {room} was refused"
                event(f"outside fill of a {o.kind} {o.side} refused")
            else:
                assert qty <= room or near, f"an outside fill of {qty} beyond {room} was booked"
                model.book(o, fill)
                event(f"outside fill of a {o.kind} {o.side}")
        elif kind == "clock":
            clock.advance(timedelta(minutes=action[1]))
        elif kind == "mark":
            model.reading()
            await chain.mark()
            if breaker is not None:
                if model.tripped:
                    assert breaker.state is GateState.HALTED, (
                        f"equity {model.equity()} is down >= {max_drawdown:.2%} from the peak "
                        f"{model.peak}, but the breaker is {breaker.state}"
                    )
                elif not model.uncertain:
                    assert breaker.state is GateState.OPEN, (
                        f"breaker {breaker.state} at equity {model.equity()}, peak {model.peak}"
                    )
        elif kind == "kill":
            if action[1]:
                kill.engage("oracle")
            else:
                kill.release("oracle")
            model.killed = action[1]
        else:  # pragma: no cover - a strategy typo
            raise AssertionError(kind)
        await _reconcile(backend, model)
        _check_always(model)
    event(f"backend: {backend_kind}")
    event(f"drawdown trip seen: {model.tripped}")


async def _order_event(backend, chain, model, proposed, old, call, clock) -> None:
    """Run one place/replace through the chain and judge its outcome against the model."""
    fills_before = len(await backend.fills())
    open_before = {a.order_id for a in await backend.open_orders()}
    today = clock.now().date()
    model.reading()  # the chain reads the portfolio for every order check
    blocked = model.killed or model.tripped
    if model.tripped:
        event("an order checked after a drawdown trip")
    problems = model.acceptance_problems(
        proposed, new=old is None, replaces=None if old is None else old.oid, today=today
    )
    report = await call
    assert report.status != "error", report
    accepted = report.sent and report.ok and report.ack is not None
    if not accepted:
        rejection = report.rejection
        assert rejection is not None, f"a refusal without a verdict: {report}"
        if rejection.line is not DefenceLine.BACKEND:
            assert not report.sent, report
        assert len(await backend.fills()) == fills_before, f"a refused order filled: {report}"
        assert {a.order_id for a in await backend.open_orders()} == open_before, report
        event(f"rejected: {rejection.rule}")
        return
    assert not model.killed, f"an order went through an engaged kill switch: {report}"
    assert not blocked, (
        f"an order went through a tripped drawdown breaker (peak {model.peak}, equity "
        f"{model.equity()}): {report}"
    )
    assert not problems, f"accepted against the rules: {problems}; {report}"
    assert report.ack.status is not OrderStatus.REJECTED, report
    if old is not None:
        old.open = False
    else:
        model.sent_per_day[today] = model.sent_per_day.get(today, 0) + 1
    proposed.oid = report.ack.order_id
    assert proposed.oid not in model.orders, report
    model.orders[proposed.oid] = proposed
    model.match(proposed, list(report.fills))
    event(f"accepted a {proposed.kind} {proposed.side}")


async def _reconcile(backend, model) -> None:
    """The model's book and the backend's must agree after every event."""
    portfolio = await backend.query_portfolio()
    assert _close(portfolio.cash, model.cash), (portfolio.cash, model.cash)
    for sym in SYMBOLS:
        assert _close(portfolio.quantity(sym), model.positions[sym]), (
            sym,
            portfolio.quantity(sym),
            model.positions[sym],
        )
    assert len(await backend.fills()) == model.n_fills
    acks = {a.order_id: a for a in await backend.open_orders()}
    for oid in model.ambiguous:
        o = model.orders[oid]
        o.open = o.open and oid in acks
    model.ambiguous.clear()
    mine = {o.oid: o for o in model.open_orders()}
    assert set(acks) == set(mine), f"backend open {sorted(acks)}, model open {sorted(mine)}"
    for oid, ack in acks.items():
        o = mine[oid]
        assert _close(ack.quantity, o.quantity), (ack, o)
        assert _close(ack.filled_quantity, o.filled), (ack, o)


def _check_always(model: AccountModel) -> None:
    lim = model.limits
    for sym in SYMBOLS:
        long, short = model.worst_case(sym)
        if lim.max_position_abs is not None:
            worst = max(abs(long), abs(short))
            assert _at_most(worst, lim.max_position_abs), (
                f"{sym}: worst-case position {worst} (long {long}, short {short}) > "
                f"max_position_abs {lim.max_position_abs}"
            )
        assert model.positions[sym] >= -ABS, f"{sym}: a spot position went short"
    if lim.max_open_orders is not None:
        n = len(model.open_orders())
        assert n <= lim.max_open_orders, f"{n} open orders > max_open_orders {lim.max_open_orders}"
    assert model.cash >= -ABS, f"spot cash went below zero: {model.cash}"


# ---------------------------------------------------------------------------- regressions


def _clock() -> SimulatedClock:
    return SimulatedClock(START)


def _order(cid: str, side: str, qty: float, **kw) -> OrderRequest:
    return OrderRequest(client_order_id=cid, symbol="X", side=side, quantity=qty, **kw)


def test_three_resting_buys_cannot_exceed_max_position_abs():
    clock = _clock()
    backend = MockTradingBackend({"X": 10.0}, cash=100_000.0, clock=clock)
    chain = RiskChain(backend, limits=RiskLimits(max_position_abs=4.0), clock=clock)
    reports = [
        run_sync(chain.place_order(_order(f"b{i}", "buy", 3.0, order_type="limit", price=9.0)))
        for i in range(3)
    ]
    assert reports[0].ok
    assert reports[0].status == "accepted"
    for report in reports[1:]:
        assert report.rejection is not None, report
        assert report.rejection.rule == "max_position_abs"
        assert not report.sent
    backend.set_price("X", 8.0)
    position = run_sync(backend.query_portfolio()).quantity("X")
    assert position == pytest.approx(3.0)
    assert position <= 4.0


def test_drawdown_between_orders_trips_the_breaker():
    clock = _clock()
    backend = MockTradingBackend({"X": 10.0}, cash=10_000.0, clock=clock)
    breaker = PnLCircuitBreaker(max_drawdown=0.2, trip_to=GateState.HALTED)
    chain = RiskChain(backend, gates=[breaker], clock=clock)
    first = run_sync(chain.place_order(_order("b1", "buy", 500.0)))  # 5k cash, 500 x 10
    assert first.ok
    assert first.status == "filled"
    run_sync(chain.mark())
    equities = []
    for price in (46.0, 11.8):  # equity 5k + 500 x 46 = 28k, then 5k + 500 x 11.8 = 10.9k
        backend.set_price("X", price)
        equities.append(run_sync(chain.mark()).portfolio.equity)
    assert equities == [pytest.approx(28_000.0), pytest.approx(10_900.0)]
    assert breaker.state is GateState.HALTED
    report = run_sync(chain.place_order(_order("b2", "buy", 1.0)))
    assert report.rejection is not None, report
    assert report.rejection.line is DefenceLine.GATE
    assert report.rejection.rule == breaker.name
    assert not report.sent
    assert run_sync(backend.query_portfolio()).quantity("X") == pytest.approx(500.0)


def test_a_buy_beyond_cash_is_rejected_with_a_verdict():
    clock = _clock()
    backend = MockTradingBackend({"X": 10.0}, cash=10_000.0, clock=clock)
    chain = RiskChain(backend, clock=clock)
    report = run_sync(chain.place_order(_order("b", "buy", 1e6)))
    assert report.rejection is not None, report
    assert report.rejection.line is DefenceLine.BUYING_POWER
    assert report.rejection.rule == "buying_power"
    assert not report.sent
    portfolio = run_sync(backend.query_portfolio())
    assert portfolio.cash == pytest.approx(10_000.0)
    assert portfolio.cash >= 0
    assert run_sync(backend.fills()) == ()


def test_a_sell_beyond_the_position_is_rejected():
    clock = _clock()
    backend = MockTradingBackend({"X": 10.0}, cash=10_000.0, clock=clock)
    chain = RiskChain(backend, clock=clock)
    report = run_sync(chain.place_order(_order("s", "sell", 5e6)))
    assert report.rejection is not None, report
    assert report.rejection.rule == "no_short"
    assert not report.sent
    assert run_sync(backend.query_portfolio()).quantity("X") == 0.0
    assert run_sync(backend.fills()) == ()


def test_a_far_sell_limit_is_valued_at_the_market():
    clock = _clock()
    backend = MockTradingBackend({"X": 100.0}, cash=10_000.0, clock=clock)
    held = run_sync(backend.place_order(_order("hold", "buy", 90.0)))  # straight to the backend
    assert held.status is OrderStatus.FILLED
    chain = RiskChain(backend, limits=RiskLimits(max_order_notional=5_000.0), clock=clock)
    market = run_sync(chain.place_order(_order("m", "sell", 90.0)))
    far = run_sync(chain.place_order(_order("l", "sell", 90.0, order_type="limit", price=0.01)))
    for report in (market, far):
        assert report.rejection is not None, report
        assert report.rejection.rule == "max_order_notional"
        assert report.rejection.observed == pytest.approx(9_000.0)
        assert not report.sent
    assert run_sync(backend.query_portfolio()).quantity("X") == pytest.approx(90.0)


@pytest.mark.parametrize("backend_cls", [MockTradingBackend, OmsTradingBackend])
def test_backends_do_not_borrow(backend_cls):
    buyer = backend_cls({"X": 10.0}, cash=10_000.0, clock=_clock())
    ack = run_sync(buyer.place_order(_order("b", "buy", 1e6)))
    portfolio = run_sync(buyer.query_portfolio())
    assert portfolio.cash >= 0
    assert portfolio.quantity("X") == pytest.approx(1_000.0)
    assert ack.status is OrderStatus.CANCELLED
    assert run_sync(buyer.open_orders()) == ()

    seller = backend_cls({"X": 10.0}, cash=10_000.0, clock=_clock())
    run_sync(seller.place_order(_order("s", "sell", 5e6)))
    portfolio = run_sync(seller.query_portfolio())
    assert portfolio.quantity("X") >= 0
    assert portfolio.cash == pytest.approx(10_000.0)
    assert run_sync(seller.open_orders()) == ()


# ---------------------------------------------------------------------------- what the oracle found
# Minimal reproductions of the oracle's findings (see the module docstring's rules).


def test_buying_power_counts_the_backends_fee():
    """A buy whose cost with the backend's fee is more than the cash is refused with a verdict."""
    clock = _clock()
    backend = MockTradingBackend({"X": 20.0}, cash=20.0, clock=clock, fee_rate=0.001)
    chain = RiskChain(backend, clock=clock)
    report = run_sync(chain.place_order(_order("b", "buy", 1.0)))  # 20 + 0.02 fee > 20 cash
    assert report.rejection is not None, report
    assert report.rejection.line is DefenceLine.BUYING_POWER
    assert not report.sent
    assert run_sync(backend.fills()) == ()


def test_a_drawdown_seen_at_a_refused_order_trips_the_breaker():
    """The equity read for an order check counts even when the limits line refuses the order."""
    clock = _clock()
    backend = MockTradingBackend({"X": 20.0}, cash=100.0, clock=clock)
    breaker = PnLCircuitBreaker(max_drawdown=0.2, trip_to=GateState.HALTED)
    chain = RiskChain(
        backend, limits=RiskLimits(max_order_quantity=6.0), gates=[breaker], clock=clock
    )
    assert run_sync(chain.place_order(_order("a", "buy", 5.0))).status == "filled"  # equity 100
    backend.set_price("X", 12.0)  # equity 60: down 40%
    refused = run_sync(chain.place_order(_order("b", "buy", 7.0)))
    assert refused.rejection is not None
    assert refused.rejection.rule == "max_order_quantity"
    backend.set_price("X", 20.0)  # back to 100
    report = run_sync(chain.place_order(_order("c", "sell", 1.0)))
    assert report.rejection is not None, report
    assert report.rejection.rule == breaker.name
    assert not report.sent


def test_an_outside_fill_never_takes_spot_cash_below_zero():
    """A resting market buy filled outside at a higher price must not borrow on a spot account."""
    clock = _clock()
    backend = OmsTradingBackend({"X": 10.0}, cash=30.0, clock=clock, max_fill_quantity=1.0)
    chain = RiskChain(backend, clock=clock)
    report = run_sync(chain.place_order(_order("b", "buy", 3.0)))  # 30 of cash at 10: allowed
    assert report.status == "partially_filled"
    backend.set_price("X", 20.0)  # the second unit fills at 20: cash 0, one unit still resting
    with contextlib.suppress(AxonError):  # refusing the report is one way to stay spot
        backend.apply_fill(report.ack.order_id, 1.0, 20.0)  # the venue reports the last unit
    assert run_sync(backend.query_portfolio()).cash >= 0


# ---------------------------------------------------------------------------- many symbols
# Issue 22: the portfolio risk line against the portfolio oracle of _oracle_model, on random
# books of up to 40 symbols, with halts, missing marks, shorts and sector groups.


_CAP = st.none() | st.floats(0.05, 1.5)


@st.composite
def portfolio_case(draw: st.DrawFn) -> tuple[dict, list, list, list, list, list, float]:
    n = draw(st.integers(1, 40))
    symbols = [f"S{i:02d}" for i in range(n)]
    allow_short = draw(st.booleans())
    marks = [
        draw(st.floats(1.0, 500.0) | st.just(math.nan))
        if draw(st.integers(0, 9)) == 0
        else draw(st.floats(1.0, 500.0))
        for _ in range(n)
    ]
    lo = -50.0 if allow_short else 0.0
    positions = [draw(st.sampled_from([0.0, 0.0]) | st.floats(lo, 50.0)) for _ in range(n)]
    sizes = st.just(0.0) | st.floats(-80.0, 80.0) | st.floats(-80.0, 80.0) | st.just(math.inf)
    orders = [draw(sizes) for _ in range(n)]
    tradable = [draw(st.integers(0, 7)) != 0 for _ in range(n)]
    groups = {
        s: draw(st.sampled_from(["tech", "energy", "banks"]))
        for s in symbols
        if draw(st.booleans())
    }
    limits = {
        "max_weight": draw(_CAP),
        "symbol_max_weight": {
            s: draw(st.floats(0.0, 0.5)) for s in symbols[:3] if draw(st.booleans())
        },
        "max_order_weight": draw(_CAP),
        "max_gross": draw(st.none() | st.floats(0.2, 2.0)),
        "max_net": draw(st.none() | st.floats(0.0, 1.5)),
        "groups": groups,
        "max_group_weight": draw(st.none() | st.floats(0.1, 1.0)),
        "allow_short": allow_short,
        "fee_rate": draw(st.sampled_from([0.0, 0.001, 0.01])),
        "cash_buffer": draw(st.sampled_from([0.0, 0.02])),
        "spot": not allow_short,
    }
    cash = draw(st.floats(-500.0, 20_000.0))
    return limits, symbols, orders, positions, marks, tradable, cash


@settings(max_examples=SEQUENCES)
@given(portfolio_case())
def test_portfolio_risk_agrees_with_the_portfolio_oracle(case) -> None:
    limits, symbols, orders, positions, marks, tradable, cash = case
    result = check_portfolio(
        PortfolioLimits(**limits),
        symbols=symbols,
        orders=np.array(orders),
        positions=np.array(positions),
        marks=np.array(marks),
        tradable=np.array(tradable),
        cash=cash,
        timestamp=START,
    )
    expected = portfolio_oracle(limits, symbols, orders, positions, marks, tradable, cash)
    got = {s: r for s, r, o in zip(symbols, result.rules, orders, strict=True) if o != 0.0}
    assert got == expected
    assert result.approved.tolist() == [expected.get(s, "x") == "" for s in symbols]
    # every rejected order has its verdict, naming the symbol; nothing approved has one
    rejected = {v.client_order_id for v in result.order_verdicts}
    assert rejected == {s for s, r in expected.items() if r}
    for rule in sorted(
        {
            r.split(":")[0] + (":" + r.split(":")[1] if ":" in r else "")
            for r in expected.values()
            if r
        }
    ):
        event(f"rule {rule.split(':group')[0]}")
    # fail-closed invariants, checked on the oracle's own arithmetic: an untradable symbol never
    # trades; if any order that grows a position passed, the book after it is within every limit
    assert not any(result.approved[j] and not tradable[j] for j in range(len(symbols)))
    passing = [s for s in symbols if expected.get(s) == ""]
    mark = {
        s: (m if math.isfinite(m) and m > 0 else 0.0) for s, m in zip(symbols, marks, strict=False)
    }
    equity = cash + sum(p * mark[s] for s, p in zip(symbols, positions, strict=False))
    if equity > 0 and passing:
        w = {}
        c = cash
        for s, o, p in zip(symbols, orders, positions, strict=False):
            q = p + (o if s in passing else 0.0)
            w[s] = q * mark[s] / equity
            if s in passing:
                c -= o * mark[s] + limits["fee_rate"] * abs(o * mark[s])
        grew = [
            s
            for s, o, p in zip(symbols, orders, positions, strict=False)
            if s in passing and (abs(p + o) > abs(p) * (1 + 1e-9) or (p + o) * p < 0)
        ]
        if grew:
            for name, (obs, lim) in portfolio_measures(limits, w, c, equity).items():
                assert obs <= lim + 1e-9 * max(1.0, abs(lim)), (name, obs, lim)


def test_a_halted_symbol_never_trades_and_a_broken_check_approves_nothing() -> None:
    limits = PortfolioLimits(max_weight=0.5)
    res = check_portfolio(
        limits,
        symbols=["A", "B"],
        orders=np.array([1.0, 1.0]),
        positions=np.zeros(2),
        marks=np.array([10.0, 10.0]),
        tradable=np.array([False, True]),
        cash=100.0,
        timestamp=START,
    )
    assert res.rules == ("not_tradable", "")
    broken = check_portfolio(
        limits,
        symbols=["A", "B"],
        orders=np.array([1.0]),
        positions=np.zeros(2),
        marks=np.array([10.0, 10.0]),
        tradable=np.array([True, True]),
        cash=100.0,
        timestamp=START,
    )
    assert not broken.approved.any()
    assert {v.rule for v in broken.order_verdicts} == {"error"}


def test_a_sector_over_its_limit_rejects_the_orders_that_grow_it() -> None:
    limits = PortfolioLimits(
        groups={"A": "tech", "B": "tech", "C": "banks"}, max_group_weight=0.5, max_gross=None
    )
    res = check_portfolio(
        limits,
        symbols=["A", "B", "C"],
        orders=np.array([30.0, 30.0, 10.0]),
        positions=np.array([0.0, 0.0, 5.0]),
        marks=np.array([10.0, 10.0, 10.0]),
        tradable=np.array([True, True, True]),
        cash=1000.0,
        timestamp=START,
    )
    # tech would be 600/1050 > 0.5: every growing order is rejected, the group verdict says why
    assert res.rules == ("portfolio:group_weight:tech",) * 3
    group = next(v for v in res.portfolio_verdicts if v.rule == "portfolio:group_weight:tech")
    assert not group.approved
    assert group.limit == 0.5


def test_a_tiny_equity_still_names_the_order_s_own_rule() -> None:
    """Found by the oracle test: a subnormal cash overflowed the weights to inf, numpy warned,
    and the whole check failed closed as "error" instead of naming the untradable symbol."""
    n = 24
    symbols = [f"S{i:02d}" for i in range(n)]
    orders = [0.0] * (n - 1) + [1.0]
    limits = {"allow_short": False, "fee_rate": 0.0, "cash_buffer": 0.0, "spot": True}
    args = (symbols, orders, [0.0] * n, [1.0] * n, [False] * n, 2.2250738585e-313)
    result = check_portfolio(
        PortfolioLimits(**limits),
        symbols=args[0],
        orders=np.array(args[1]),
        positions=np.array(args[2]),
        marks=np.array(args[3]),
        tradable=np.array(args[4]),
        cash=args[5],
        timestamp=START,
    )
    assert result.rules[-1] == "not_tradable"
    assert portfolio_oracle(limits, *args) == {"S23": "not_tradable"}
    assert not result.approved.any()
