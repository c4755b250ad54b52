from __future__ import annotations

from datetime import UTC, datetime

import pytest

from axon_lab.backends import (
    OPEN_STATES,
    ORDER_TRANSITIONS,
    TERMINAL_STATES,
    ManagedOrder,
    check_transition,
)
from axon_lab.errors import OrderStateError
from axon_lab.records import OrderRequest, OrderStatus

T = datetime(2024, 1, 1, tzinfo=UTC)
MACHINE = [s for s in OrderStatus if s in ORDER_TRANSITIONS]
PAIRS = [(a, b) for a in MACHINE for b in MACHINE]


def make(qty: float = 2.0) -> ManagedOrder:
    req = OrderRequest(client_order_id="c", symbol="X", side="buy", quantity=qty)
    return ManagedOrder("o", req, created_at=T)


@pytest.mark.parametrize(("src", "dst"), [p for p in PAIRS if p[1] in ORDER_TRANSITIONS[p[0]]])
def test_allowed_transitions_pass(src, dst):
    check_transition("o", "c", src, dst)


@pytest.mark.parametrize(("src", "dst"), [p for p in PAIRS if p[1] not in ORDER_TRANSITIONS[p[0]]])
def test_every_other_transition_raises(src, dst):
    with pytest.raises(OrderStateError, match=f"cannot go from {src.value} to {dst.value}"):
        check_transition("o", "c", src, dst)


def test_terminal_and_open_states():
    assert {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.REPLACED,
    } == TERMINAL_STATES
    assert {OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED} == OPEN_STATES


def test_fills_move_through_partial_to_filled_with_vwap():
    o = make()
    o.transition(OrderStatus.ACCEPTED, at=T)
    assert o.record_fill(0.5, 10.0, at=T) is OrderStatus.PARTIALLY_FILLED
    assert o.record_fill(1.5, 14.0, at=T) is OrderStatus.FILLED
    assert o.avg_fill_price == pytest.approx((0.5 * 10 + 1.5 * 14) / 2)
    assert o.remaining == 0.0
    assert [e.status for e in o.history] == [
        OrderStatus.NEW,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
    ]
    ack = o.to_ack()
    assert ack.filled_quantity == 2.0
    assert ack.status is OrderStatus.FILLED


def test_overfill_and_fill_before_accept_raise():
    o = make()
    with pytest.raises(OrderStateError, match="cannot go from new to partially_filled"):
        o.record_fill(1.0, 10.0, at=T)
    assert o.filled_quantity == 0.0
    assert o.avg_fill_price is None
    o.transition(OrderStatus.ACCEPTED, at=T)
    with pytest.raises(OrderStateError, match=r"cannot fill 3\.0"):
        o.record_fill(3.0, 10.0, at=T)
    assert o.filled_quantity == 0.0
