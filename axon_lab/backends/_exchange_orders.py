"""The exchange backend's view of one order, and ccxt's order and trade dicts as our records.

A :class:`TrackedOrder` is a live handle: the request we placed, the venue's ids, and the last
status the venue reported. :func:`fill_of` turns a ccxt trade into a
:class:`~axon_lab.records.Fill` (fees converted to the quote asset).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from axon_lab.records import Fill, OrderAck, OrderRequest, OrderStatus, OrderType, Side

from .order_state import TERMINAL_STATES

__all__ = ["TrackedOrder", "fill_of", "from_ms", "request_of"]


def from_ms(value: Any) -> datetime:
    """Unix milliseconds (ccxt's timestamps) as an aware UTC datetime."""
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


@dataclass
class TrackedOrder:
    """One order as the backend knows it (a live, mutable handle)."""

    request: OrderRequest
    venue_client_id: str
    order_id: str  # the venue's id; a local id for orders that never reached it
    status: OrderStatus
    updated: datetime
    filled: float = 0.0
    avg_price: float | None = None
    message: str = ""
    uncertain: bool = False  # no answer yet: the venue may or may not hold it
    sent: bool = False  # a placement went out at least once

    @property
    def is_open(self) -> bool:
        """Whether the order may still fill."""
        return self.status not in TERMINAL_STATES

    @property
    def remaining(self) -> float:
        """The unfilled quantity."""
        return max(self.request.quantity - self.filled, 0.0)

    def to_ack(self) -> OrderAck:
        """The order's ack now."""
        return OrderAck(
            order_id=self.order_id,
            client_order_id=self.request.client_order_id,
            symbol=self.request.symbol,
            side=self.request.side,
            quantity=self.request.quantity,
            status=self.status,
            timestamp=self.updated,
            filled_quantity=self.filled,
            avg_fill_price=self.avg_price,
            message=self.message,
        )

    def update(self, order: dict[str, Any], now: datetime) -> bool:
        """Take a ccxt order dict's status and fills; returns whether anything changed.

        A venue status of ``canceled`` keeps REPLACED when we replaced the order ourselves.
        """
        filled = float(order.get("filled") or 0.0)
        average = order.get("average")
        avg = float(average) if average else None
        raw = str(order.get("status") or "open")
        if raw == "open":
            status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACCEPTED
        elif raw == "closed":
            status = OrderStatus.FILLED
        elif raw == "rejected":
            status = OrderStatus.REJECTED
        else:  # canceled, expired
            status = self.status if self.status is OrderStatus.REPLACED else OrderStatus.CANCELLED
        self.order_id = str(order.get("id") or self.order_id)
        self.uncertain = False
        changed = (status, filled, avg) != (self.status, self.filled, self.avg_price)
        if changed:
            self.status, self.filled, self.avg_price, self.updated = status, filled, avg, now
            if raw == "expired":
                self.message = (
                    f"the exchange expired the order with {filled:.10g} of "
                    f"{self.request.quantity:.10g} filled"
                )
        return changed


def request_of(order: dict[str, Any], symbol: str, client_order_id: str) -> OrderRequest:
    """The request an order seen on the venue (not placed by this process) amounts to."""
    price = order.get("price")
    limit = str(order.get("type") or "").lower() == "limit" and bool(price)
    return OrderRequest(
        client_order_id=client_order_id,
        symbol=symbol,
        side=Side.BUY if order.get("side") == "buy" else Side.SELL,
        quantity=float(order.get("amount") or 0.0),
        order_type=OrderType.LIMIT if limit else OrderType.MARKET,
        price=float(price) if limit and price else None,
    )


def fill_of(trade: dict[str, Any], symbol: str, fill_id: str, base: str, quote: str) -> Fill:
    """A ccxt trade as a :class:`~axon_lab.records.Fill` of ``symbol``.

    The fee is in the quote asset: a fee charged in the base asset is valued at the trade's
    price; one in a third asset (e.g. a discount token) cannot be valued here and is left out,
    which :meth:`ExchangeTradingBackend.reconcile` then reports as a cash difference.
    """
    price = float(trade["price"])
    fee = 0.0
    for item in trade.get("fees") or ([trade["fee"]] if trade.get("fee") else []):
        cost = float(item.get("cost") or 0.0)
        currency = item.get("currency")
        if currency == quote or currency is None:
            fee += cost
        elif currency == base:
            fee += cost * price
    return Fill(
        fill_id=fill_id,
        order_id=str(trade.get("order") or ""),
        symbol=symbol,
        side=Side.BUY if trade.get("side") == "buy" else Side.SELL,
        quantity=float(trade["amount"]),
        price=price,
        fee=fee if math.isfinite(fee) and fee > 0 else 0.0,
        timestamp=from_ms(trade["timestamp"]),
    )
