"""An order-management backend: the full order state machine, partial fills, order history.

:class:`OmsTradingBackend` keeps every order's life as a sequence of state-machine events
(New -> Accepted -> PartiallyFilled -> Filled, Cancelled, Rejected, Replaced; see
:mod:`axon_lab.backends.order_state`). It fills marketable orders at the last price, at most
``max_fill_quantity`` per match (so large orders fill over several price updates), and accepts
execution reports from an outside venue through :meth:`OmsTradingBackend.apply_fill`.
Client order ids are idempotent: resubmitting one never creates a second order.

Examples:
    >>> import asyncio
    >>> from axon_lab.records import OrderRequest
    >>> oms = OmsTradingBackend({"X": 20.0}, cash=100.0, max_fill_quantity=1.0)
    >>> req = OrderRequest(client_order_id="c-1", symbol="X", side="buy", quantity=3.0)
    >>> asyncio.run(oms.place_order(req)).status.value
    'partially_filled'
    >>> asyncio.run(oms.place_order(req)).order_id  # the same id again: the same order
    'oms-1'
    >>> _ = oms.set_price("X", 20.0); _ = oms.set_price("X", 20.0)
    >>> [e.status.value for e in oms.history("oms-1")]
    ['new', 'accepted', 'partially_filled', 'partially_filled', 'filled']
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from axon_lab.clock import Clock
from axon_lab.errors import BackendError, ConfigError
from axon_lab.records import Fill, Instrument, MarginPolicy, Side

from .base import BaseTradingBackend
from .order_state import ManagedOrder, OrderEvent

__all__ = ["OmsTradingBackend"]


class OmsTradingBackend(BaseTradingBackend):
    """An order state machine with partial fills and per-order history.

    Args:
        prices: The symbols traded and their prices.
        cash: Starting cash.
        clock: Stamps acks, fills and events (default: wall clock).
        fee_rate: Fee as a fraction of fill notional.
        margin: What the account may borrow (default: spot: no borrowing, no shorts).
        instruments: What this venue accepts per symbol (lot, tick, minimums).
        max_fill_quantity: Most quantity one match fills (None: the whole remainder).
        auto_match: Whether orders match against :meth:`set_price` prices; False leaves all
            fills to :meth:`apply_fill` (an OMS in front of an outside venue).
    """

    def __init__(
        self,
        prices: Mapping[str, float],
        *,
        cash: float,
        clock: Clock | None = None,
        fee_rate: float = 0.0,
        margin: MarginPolicy | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        max_fill_quantity: float | None = None,
        auto_match: bool = True,
    ) -> None:
        if max_fill_quantity is not None and not (
            math.isfinite(max_fill_quantity) and max_fill_quantity > 0
        ):
            raise ConfigError(
                f"max_fill_quantity must be a finite number > 0 or None, got {max_fill_quantity!r}"
            )
        super().__init__(
            prices,
            cash=cash,
            clock=clock,
            fee_rate=fee_rate,
            id_prefix="oms",
            margin=margin,
            instruments=instruments,
        )
        self._max_fill = max_fill_quantity
        self._auto_match = auto_match

    def _fill_quantity(self, order: ManagedOrder, price: float) -> float:
        if not self._auto_match:
            return 0.0
        if self._max_fill is None:
            return order.remaining
        return min(self._max_fill, order.remaining)

    def history(self, order_id: str) -> tuple[OrderEvent, ...]:
        """The state-machine events of one order, oldest first.

        Raises:
            BackendError: If the order is unknown.
        """
        return tuple(self._lookup(order_id).history)

    def apply_fill(self, order_id: str, quantity: float, price: float) -> Fill:
        """Book an execution reported by an outside venue against an open order.

        Raises:
            BackendError: If the order is unknown, or the fill does not fit the account's
                margin policy (a spot account never books cash below zero or a short).
            OrderStateError: If the order is not open or ``quantity`` exceeds its remainder.
            ConfigError: If ``price`` is not finite and positive.
        """
        managed = self._lookup(order_id)
        if not (math.isfinite(price) and price > 0):
            raise ConfigError(f"fill price must be a finite number > 0, got {price!r}")
        cap = self._fill_cap(managed, price)
        if quantity > cap * (1 + 1e-12):
            held = "cash" if managed.request.side is Side.BUY else "position"
            raise BackendError(
                f"a fill of {quantity:g} at {price:g} on order {managed.order_id!r} does not fit "
                f"the account: its {held} covers {cap:.10g} under {self._margin!r}; the fill is "
                "not booked. Reconcile with the venue (a venue that fills beyond a spot "
                "account's means is out of step with it)"
            )
        return self._book_fill(managed, quantity, price)
