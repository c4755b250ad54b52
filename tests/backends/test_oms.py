from __future__ import annotations

from datetime import UTC, datetime

import pytest

from axon_lab.backends import OmsTradingBackend, SyncTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.errors import ConfigError, OrderStateError
from axon_lab.records import OrderRequest, OrderStatus

T = datetime(2024, 1, 1, tzinfo=UTC)


def req(cid: str, qty: float = 3.0, **kw: object) -> OrderRequest:
    return OrderRequest(client_order_id=cid, symbol="X", side="buy", quantity=qty, **kw)


def test_partial_fills_follow_price_updates():
    oms = OmsTradingBackend({"X": 10.0}, cash=100.0, clock=SimulatedClock(T), max_fill_quantity=1.0)
    b = SyncTradingBackend(oms)
    ack = b.place_order(req("c"))
    assert (ack.status, ack.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 1.0)
    oms.set_price("X", 11.0)
    fills = oms.set_price("X", 12.0)
    assert [f.price for f in fills] == [12.0]
    final = b.open_orders()
    assert final == ()
    assert [e.status for e in oms.history("c")][-1] is OrderStatus.FILLED
    assert b.query_portfolio().quantity("X") == 3.0
    assert sum(f.quantity for f in b.fills("c")) == 3.0


def test_apply_fill_from_an_outside_venue():
    oms = OmsTradingBackend({"X": 10.0}, cash=100.0, clock=SimulatedClock(T), auto_match=False)
    b = SyncTradingBackend(oms)
    ack = b.place_order(req("c"))
    assert ack.status is OrderStatus.ACCEPTED
    f = oms.apply_fill(ack.order_id, 2.0, 9.5)
    assert f.price == 9.5
    assert b.get_order("c").quantity == 3.0
    with pytest.raises(OrderStateError, match=r"cannot fill 2\.0"):
        oms.apply_fill(ack.order_id, 2.0, 9.5)
    with pytest.raises(ConfigError, match="fill price must be"):
        oms.apply_fill(ack.order_id, 1.0, float("nan"))
    oms.apply_fill(ack.order_id, 1.0, 9.0)
    with pytest.raises(OrderStateError, match=r"remaining quantity is 0\.0 in state filled"):
        oms.apply_fill(ack.order_id, 0.5, 9.0)
    assert b.query_portfolio().quantity("X") == 3.0


def test_cancel_after_partial_fill_keeps_the_filled_part():
    oms = OmsTradingBackend({"X": 10.0}, cash=100.0, clock=SimulatedClock(T), max_fill_quantity=1.0)
    b = SyncTradingBackend(oms)
    ack = b.place_order(req("c"))
    done = b.cancel_order(ack.order_id)
    assert (done.status, done.filled_quantity) == (OrderStatus.CANCELLED, 1.0)
    assert oms.set_price("X", 10.0) == ()
    assert b.query_portfolio().quantity("X") == 1.0


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf")])
def test_bad_max_fill_quantity(bad):
    with pytest.raises(ConfigError, match="max_fill_quantity"):
        OmsTradingBackend({"X": 10.0}, cash=0.0, max_fill_quantity=bad)
