"""The order state machine shared by every backend that keeps its own order book.

States and the transitions allowed between them::

    NEW ──> ACCEPTED ──> PARTIALLY_FILLED ──> FILLED
     │          │  │            │  │  │
     │          │  │            │  │  └──> PARTIALLY_FILLED (another partial fill)
     │          │  └──> FILLED  │  └─────> CANCELLED
     │          ├──> CANCELLED  └────────> REPLACED
     │          └──> REPLACED
     └──> REJECTED

FILLED, CANCELLED, REJECTED and REPLACED are terminal. Any other transition raises
:class:`~axon_lab.errors.OrderStateError`, so a bug in a matcher or an out-of-order venue message
surfaces at once instead of corrupting positions.

Examples:
    >>> from datetime import datetime, timezone
    >>> from axon_lab.records import OrderRequest, OrderStatus
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> req = OrderRequest(client_order_id="c-1", symbol="X", side="buy", quantity=2.0)
    >>> order = ManagedOrder("o-1", req, created_at=t)
    >>> order.transition(OrderStatus.ACCEPTED, at=t).value
    'accepted'
    >>> order.transition(OrderStatus.NEW, at=t)
    Traceback (most recent call last):
    ...
    axon_lab.errors.OrderStateError: Order 'o-1' (client id 'c-1') cannot go from accepted to new; \
allowed from accepted: cancelled, filled, partially_filled, replaced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from axon_lab.errors import OrderStateError
from axon_lab.records import OrderAck, OrderRequest, OrderStatus

__all__ = [
    "OPEN_STATES",
    "ORDER_TRANSITIONS",
    "TERMINAL_STATES",
    "ManagedOrder",
    "OrderEvent",
    "check_transition",
]

S = OrderStatus

ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.ACCEPTED, S.REJECTED}),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REPLACED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REPLACED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.REPLACED: frozenset(),
}
"""For each state, the states an order may move to next."""

OPEN_STATES = frozenset({S.ACCEPTED, S.PARTIALLY_FILLED})
"""States in which an order rests on the book and may still fill."""

TERMINAL_STATES = frozenset(s for s, nxt in ORDER_TRANSITIONS.items() if not nxt)
"""States an order never leaves."""

_NEW, _FILLED, _PARTIALLY_FILLED = S.NEW, S.FILLED, S.PARTIALLY_FILLED
_NO_MOVES: frozenset[OrderStatus] = frozenset()


def check_transition(
    order_id: str, client_order_id: str, src: OrderStatus, dst: OrderStatus
) -> None:
    """Raise unless the state machine allows ``src -> dst``.

    Raises:
        OrderStateError: If the transition is not allowed.
    """
    allowed = ORDER_TRANSITIONS.get(src, _NO_MOVES)
    if dst not in allowed:
        names = ", ".join(sorted(s.value for s in allowed)) or "nothing (terminal state)"
        raise OrderStateError(
            f"Order {order_id!r} (client id {client_order_id!r}) cannot go from {src.value} to "
            f"{dst.value}; allowed from {src.value}: {names}."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    """One state change of an order, as kept in its history."""

    timestamp: datetime
    status: OrderStatus
    reason: str = ""


class ManagedOrder:
    """A live order on a backend's book: its request, state, fills so far and history.

    Args:
        order_id: The backend's id for the order.
        request: The order as submitted.
        created_at: When the backend received it.
    """

    def __init__(self, order_id: str, request: OrderRequest, *, created_at: datetime) -> None:
        self.order_id = order_id
        self.request = request
        self.status = _NEW
        self.filled_quantity = 0.0
        self._fill_notional = 0.0
        self.message = ""
        self.updated_at = created_at
        self.history: list[OrderEvent] = [OrderEvent(timestamp=created_at, status=_NEW)]

    @property
    def remaining(self) -> float:
        """Quantity not yet filled (0.0 once terminal)."""
        if self.status in TERMINAL_STATES:
            return 0.0
        return max(self.request.quantity - self.filled_quantity, 0.0)

    @property
    def is_open(self) -> bool:
        """Whether the order rests on the book."""
        return self.status in OPEN_STATES

    @property
    def avg_fill_price(self) -> float | None:
        """Volume-weighted average fill price, or None before the first fill."""
        if self.filled_quantity <= 0:
            return None
        return self._fill_notional / self.filled_quantity

    def transition(self, dst: OrderStatus, *, at: datetime, reason: str = "") -> OrderStatus:
        """Move to ``dst``, recording the event.

        Raises:
            OrderStateError: If the state machine does not allow the move.
        """
        check_transition(self.order_id, self.request.client_order_id, self.status, dst)
        self.status = dst
        self.updated_at = at
        if reason:
            self.message = reason
        self.history.append(OrderEvent(timestamp=at, status=dst, reason=reason))
        return dst

    def record_fill(self, quantity: float, price: float, *, at: datetime) -> OrderStatus:
        """Add a fill and move to PARTIALLY_FILLED or FILLED.

        Raises:
            OrderStateError: If the order is not open or the fill exceeds the remaining quantity.
        """
        remaining = self.remaining
        if quantity <= 0 or quantity > remaining * (1 + 1e-12):
            raise OrderStateError(
                f"Order {self.order_id!r} cannot fill {quantity!r}: remaining quantity is "
                f"{remaining!r} in state {self.status.value}."
            )
        filled = self.filled_quantity + quantity
        done = math.isclose(filled, self.request.quantity, rel_tol=1e-12)
        target = _FILLED if done else _PARTIALLY_FILLED
        check_transition(self.order_id, self.request.client_order_id, self.status, target)
        self.filled_quantity = self.request.quantity if done else filled
        self._fill_notional += quantity * price
        return self.transition(target, at=at)

    def to_ack(self) -> OrderAck:
        """The order's current state as an :class:`~axon_lab.records.OrderAck`."""
        req = self.request
        return OrderAck(
            order_id=self.order_id,
            client_order_id=req.client_order_id,
            symbol=req.symbol,
            side=req.side,
            quantity=req.quantity,
            status=self.status,
            timestamp=self.updated_at,
            filled_quantity=self.filled_quantity,
            avg_fill_price=self.avg_fill_price,
            message=self.message,
        )

    def __repr__(self) -> str:
        return (
            f"ManagedOrder({self.order_id!r}, {self.request.side.value} {self.request.quantity} "
            f"{self.request.symbol}, {self.status.value}, filled={self.filled_quantity})"
        )
