"""What every risk check sees: the order, the time, the mark price and the portfolio.

The chain builds one :class:`OrderContext` per order before any line runs, from the backend's
portfolio and last price and the loop's clock, so every check judges the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

from axon_lab.records import DefenceLine, OrderRequest, PortfolioSnapshot, RiskVerdict

__all__ = ["OrderContext", "approve", "reject"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderContext:
    """The facts an order is judged on.

    Attributes:
        order: The order under review.
        now: The loop's clock reading (UTC).
        mark_price: The last price of the order's symbol.
        portfolio: The portfolio before the order.
        operation: ``"place"`` or ``"replace:<order id>"``; two-phase tokens bind to it.
        orders_today: Orders already sent today (UTC day of ``now``).
        confirm_token: A two-phase confirmation token sent with the order, if any.
    """

    order: OrderRequest
    now: datetime
    mark_price: float
    portfolio: PortfolioSnapshot
    operation: str = "place"
    orders_today: int = 0
    confirm_token: str | None = None

    @property
    def is_new_order(self) -> bool:
        """Whether this is a new order (a replacement is not)."""
        return self.operation == "place"

    @property
    def price(self) -> float:
        """The price the order is valued at: its limit price, else the mark price."""
        return self.order.price if self.order.price is not None else self.mark_price

    @property
    def notional(self) -> float:
        """Quantity times :attr:`price`."""
        return self.order.quantity * self.price

    @property
    def position(self) -> float:
        """The current signed position in the order's symbol."""
        return self.portfolio.quantity(self.order.symbol)

    @property
    def projected_position(self) -> float:
        """The position if the order fills completely."""
        return self.position + self.order.signed_quantity

    @property
    def reduces_position(self) -> bool:
        """Whether the order only reduces the current position (never opens or flips)."""
        pos = self.position
        return (
            pos != 0
            and (pos > 0) != (self.order.signed_quantity > 0)
            and (self.order.quantity <= abs(pos))
        )


class VerdictDetails(TypedDict, total=False):
    """Optional fields of a verdict: the limit, the observed value, a message, the gate state."""

    limit: float | str | None
    observed: float | str | None
    message: str
    gate_state: str | None


def _verdict(
    ctx: OrderContext, approved: bool, line: DefenceLine, rule: str, details: VerdictDetails
) -> RiskVerdict:
    return RiskVerdict(
        approved=approved,
        line=line,
        rule=rule,
        timestamp=ctx.now,
        client_order_id=ctx.order.client_order_id,
        **details,
    )


def approve(
    ctx: OrderContext, line: DefenceLine, rule: str, **details: Unpack[VerdictDetails]
) -> RiskVerdict:
    """An approving verdict for ``ctx``'s order."""
    return _verdict(ctx, True, line, rule, details)


def reject(
    ctx: OrderContext, line: DefenceLine, rule: str, **details: Unpack[VerdictDetails]
) -> RiskVerdict:
    """A rejecting verdict for ``ctx``'s order."""
    return _verdict(ctx, False, line, rule, details)
