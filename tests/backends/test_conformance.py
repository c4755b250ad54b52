"""The conformance suite every TradingBackend passes (factories in tests/backends/conftest.py).

The tests use only the TradingBackend protocol and the harness's ``set_price`` and ``settle``, so
they hold for a backend that fills in one piece, in parts, or later: after placing an order a test
calls ``h.settle()`` (a no-op for backends that fill at once; the next bar for the sim backend) and
re-reads the order's ack by resubmitting its request (idempotent on ``client_order_id``).
"""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

import pytest

from axon_lab.backends import SyncTradingBackend, TradingBackend, run_sync
from axon_lab.errors import BackendError, OrderStateError
from axon_lab.records import Fill, OrderAck, OrderRequest, OrderStatus, Side

from .conftest import Harness

PRICES = {"AAA": 20.0, "BBB": 4.0}


def order(
    cid: str, side: str = "buy", qty: float = 2.0, symbol: str = "AAA", **kw: object
) -> OrderRequest:
    return OrderRequest(client_order_id=cid, symbol=symbol, side=side, quantity=qty, **kw)


def signed(fills: tuple[Fill, ...], symbol: str) -> float:
    return math.fsum(
        f.quantity if f.side is Side.BUY else -f.quantity for f in fills if f.symbol == symbol
    )


def test_satisfies_protocol(make_harness):
    h = make_harness(PRICES)
    assert isinstance(h.backend, TradingBackend)
    assert h.backend.symbols == frozenset(PRICES)


def settled(h: Harness, b: SyncTradingBackend, request: OrderRequest) -> OrderAck:
    """Place ``request``, let the backend fill what it owes, and return the order's ack now."""
    b.place_order(request)
    h.settle()
    return b.place_order(request)


def test_market_order_fills_at_last_price_and_moves_position(make_harness):
    h = make_harness(PRICES)
    b = SyncTradingBackend(h.backend)
    before = b.query_portfolio()
    ack = settled(h, b, order("m-1"))
    assert ack.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)
    fills = b.fills(ack.order_id)
    assert fills
    assert all(f.price == PRICES["AAA"] for f in fills)
    assert math.isclose(sum(f.quantity for f in fills), ack.filled_quantity)
    after = b.query_portfolio()
    assert math.isclose(after.quantity("AAA") - before.quantity("AAA"), signed(fills, "AAA"))
    spent = math.fsum(f.notional + f.fee for f in fills)
    assert math.isclose(before.cash - after.cash, spent)
    assert math.isclose(
        after.equity, after.cash + sum(p.market_value for p in after.positions.values())
    )


def test_resubmitting_a_client_order_id_never_creates_a_second_order(make_harness):
    h = make_harness(PRICES)
    b = SyncTradingBackend(h.backend)
    first = b.place_order(order("dup"))
    again = b.place_order(order("dup"))
    assert again.order_id == first.order_id
    h.settle()
    assert b.place_order(order("dup")).order_id == first.order_id
    assert len({f.order_id for f in b.fills()}) == 1
    assert math.isclose(b.query_portfolio().quantity("AAA"), signed(b.fills(), "AAA"))


def test_reusing_a_client_order_id_for_other_terms_raises(make_harness):
    b = SyncTradingBackend(make_harness(PRICES).backend)
    b.place_order(order("dup"))
    with pytest.raises(BackendError, match="already used"):
        b.place_order(order("dup", qty=3.0))


def test_resting_limit_order_is_open_until_cancelled(make_harness):
    b = SyncTradingBackend(make_harness(PRICES).backend)
    ack = b.place_order(order("lim", order_type="limit", price=PRICES["AAA"] / 2))
    assert ack.status is OrderStatus.ACCEPTED
    assert [a.order_id for a in b.open_orders()] == [ack.order_id]
    assert b.open_orders("BBB") == ()
    cancelled = b.cancel_order(ack.order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert b.open_orders() == ()
    with pytest.raises(OrderStateError, match="cannot go from cancelled to cancelled"):
        b.cancel_order(ack.order_id)


def test_cancel_by_client_order_id(make_harness):
    b = SyncTradingBackend(make_harness(PRICES).backend)
    b.place_order(order("by-cid", order_type="limit", price=PRICES["AAA"] / 2))
    assert b.cancel_order("by-cid").status is OrderStatus.CANCELLED


def test_cancel_unknown_order_raises(make_harness):
    b = SyncTradingBackend(make_harness(PRICES).backend)
    with pytest.raises(BackendError, match="unknown order id 'nope'"):
        b.cancel_order("nope")


def test_limit_order_fills_when_price_reaches_it(make_harness):
    h = make_harness(PRICES)
    b = SyncTradingBackend(h.backend)
    limit = PRICES["AAA"] * 0.9
    ack = b.place_order(order("lim", qty=0.5, order_type="limit", price=limit))
    assert b.fills(ack.order_id) == ()
    h.set_price("AAA", limit)
    fills = b.fills(ack.order_id)
    assert fills
    assert all(f.price <= limit for f in fills)
    assert math.isclose(b.query_portfolio().quantity("AAA"), signed(fills, "AAA"))


def test_replace_changes_price_and_closes_the_old_order(make_harness):
    b = SyncTradingBackend(make_harness(PRICES).backend)
    old = b.place_order(order("r", order_type="limit", price=PRICES["AAA"] / 2))
    new_price = PRICES["AAA"] / 4
    new = b.replace_order(old.order_id, price=new_price, quantity=1.0)
    assert new.order_id != old.order_id
    assert new.status is OrderStatus.ACCEPTED
    assert new.quantity == 1.0
    assert b.get_order(new.order_id).price == new_price
    assert [a.order_id for a in b.open_orders()] == [new.order_id]
    with pytest.raises(OrderStateError, match="from replaced"):
        b.cancel_order(old.order_id)


def test_replace_a_filled_order_raises(make_harness):
    h = make_harness(PRICES)
    b = SyncTradingBackend(h.backend)
    ack = settled(h, b, order("f", qty=0.5))
    assert ack.status is OrderStatus.FILLED
    with pytest.raises(OrderStateError, match="cannot go from filled to replaced"):
        b.replace_order(ack.order_id, quantity=1.0)


def test_unknown_symbol_is_a_rejected_ack_not_an_exception(make_harness):
    b = SyncTradingBackend(make_harness(PRICES).backend)
    ack = b.place_order(order("u", symbol="ZZZ"))
    assert ack.status is OrderStatus.REJECTED
    assert "unknown symbol 'ZZZ'" in ack.message
    assert b.fills() == ()
    with pytest.raises(BackendError, match="no price for 'ZZZ'"):
        b.last_price("ZZZ")


def test_reduce_only_without_a_position_is_rejected(make_harness):
    b = SyncTradingBackend(make_harness(PRICES).backend)
    ack = b.place_order(order("ro", side="sell", reduce_only=True))
    assert ack.status is OrderStatus.REJECTED
    assert "reduce_only" in ack.message
    assert b.query_portfolio().quantity("AAA") == 0.0


def test_round_trip_books_realized_pnl(make_harness):
    h = make_harness(PRICES)
    b = SyncTradingBackend(h.backend)
    settled(h, b, order("in", qty=0.5))
    h.set_price("AAA", PRICES["AAA"] + 2.0)
    settled(h, b, order("out", side="sell", qty=0.5))
    snap = b.query_portfolio()
    assert snap.quantity("AAA") == 0.0
    assert math.isclose(snap.realized_pnl, 0.5 * 2.0)
    assert math.isclose(snap.equity, 1_000.0 + 0.5 * 2.0)


def test_stamps_with_the_backend_clock(make_harness, clock):
    h = make_harness(PRICES)
    b = SyncTradingBackend(h.backend)
    clock.advance(timedelta(hours=3))
    placed = clock.now()
    ack = b.place_order(order("t", qty=0.5))
    assert ack.timestamp == placed
    h.settle()  # a next-bar fill is stamped with that bar's open: the decision time here
    assert b.fills()
    assert all(f.timestamp == placed for f in b.fills())
    assert b.query_portfolio().timestamp == clock.now()
    assert b.clock is clock


def test_sync_wrapper_works_inside_a_running_event_loop(make_harness):
    h = make_harness(PRICES)
    b = SyncTradingBackend(h.backend)

    async def notebook_cell() -> float:
        # asyncio.run would fail here, as it does in a Jupyter cell
        b.place_order(order("nb", qty=0.5))
        h.settle()
        return b.query_portfolio().quantity("AAA")

    assert asyncio.run(notebook_cell()) == 0.5


def test_async_methods_are_awaitable(make_harness):
    h = make_harness(PRICES)
    backend = h.backend

    async def go() -> tuple[float, int]:
        await backend.place_order(order("a", qty=0.5))
        h.settle()
        return await backend.last_price("BBB"), len(await backend.fills())

    assert run_sync(go()) == (PRICES["BBB"], 1)


def _final(h: Harness, b: SyncTradingBackend, request: OrderRequest) -> OrderAck:
    """Let the market move until ``request`` is no longer open; return its last ack."""
    b.place_order(request)
    h.settle()
    for _ in range(200):  # (oms-partial fills half a unit per move)
        ack = b.place_order(request)
        if ack.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            return ack
        h.set_price(request.symbol, PRICES[request.symbol])
    return b.place_order(request)


def test_a_buy_beyond_cash_never_borrows(make_harness):
    # before: the mock and OMS backends took a buy of 1e6 units with 1,000 cash and went to
    # about -2e7 cash; every backend now fills what the cash covers and cancels the rest
    h = make_harness(PRICES, cash=1_000.0)
    b = SyncTradingBackend(h.backend)
    ack = _final(h, b, order("huge", qty=1e6))
    snap = b.query_portfolio()
    assert snap.cash >= -1e-9
    assert snap.quantity("AAA") <= 1_000.0 / PRICES["AAA"] + 1e-9
    assert ack.status is OrderStatus.CANCELLED
    assert "cash" in ack.message


def test_a_sell_beyond_the_position_opens_no_short(make_harness):
    h = make_harness(PRICES, cash=1_000.0)
    b = SyncTradingBackend(h.backend)
    ack = _final(h, b, order("short", side="sell", qty=5e6))
    assert b.query_portfolio().quantity("AAA") == 0.0
    assert b.fills() == ()
    assert ack.status is OrderStatus.CANCELLED
    assert "sell" in ack.message
