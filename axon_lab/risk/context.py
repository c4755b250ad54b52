"""What every risk check sees: the order, the time, the mark, the portfolio and the open orders.

The chain builds one :class:`OrderContext` per order before any line runs, from the backend's
portfolio, open orders and last price and the loop's clock, so every check judges the same
facts, and judges the worst case: what the order can cost, and the position if every open order
on its side fills too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

from axon_lab.backends.protocol import TradingBackend
from axon_lab.records import (
    AccountState,
    DefenceLine,
    Instrument,
    OrderRequest,
    PortfolioSnapshot,
    RiskVerdict,
    Side,
)

__all__ = ["OrderContext", "RestingOrder", "approve", "read_resting", "reject"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RestingOrder:
    """An order on the book that can still fill: its request, what is left, and its value.

    Attributes:
        order_id: The backend's order id.
        request: The request it was placed with.
        remaining: The quantity not yet filled.
        value_price: The price it is valued at (``request.value_price(mark)``).
    """

    order_id: str
    request: OrderRequest
    remaining: float
    value_price: float

    @property
    def is_buy(self) -> bool:
        """Whether it buys."""
        return self.request.side is Side.BUY


async def read_resting(
    backend: TradingBackend, *, exclude: str | None = None, marks: dict[str, float] | None = None
) -> tuple[RestingOrder, ...]:
    """Every open order of ``backend`` that can still fill, valued at its symbol's mark.

    Args:
        backend: Where the orders rest.
        exclude: An order id to leave out (the order a replacement replaces).
        marks: Marks already read, by symbol; the others are read from the backend.
    """
    known = dict(marks or {})
    out: list[RestingOrder] = []
    for ack in await backend.open_orders():
        if ack.order_id == exclude or ack.client_order_id == exclude:
            continue
        remaining = ack.quantity - ack.filled_quantity
        if remaining <= 0:
            continue
        request = await backend.get_order(ack.order_id)
        mark = known.get(request.symbol)
        if mark is None:
            mark = known[request.symbol] = await backend.last_price(request.symbol)
        out.append(
            RestingOrder(
                order_id=ack.order_id,
                request=request,
                remaining=remaining,
                value_price=request.value_price(mark),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderContext:
    """The facts an order is judged on.

    Every figure is the worst case: the order is valued at the worst price it can trade at
    (:meth:`~axon_lab.records.OrderRequest.value_price`), and positions count every open order
    on the same side as if it filled.

    Attributes:
        order: The order under review.
        now: The loop's clock reading (UTC).
        mark_price: The last price of the order's symbol.
        portfolio: The portfolio before the order.
        operation: ``"place"`` or ``"replace:<order id>"``; two-phase tokens bind to it.
        orders_today: Orders already sent today (UTC day of ``now``).
        confirm_token: A two-phase confirmation token sent with the order, if any.
        resting: Every open order on the book (all symbols), without the one being replaced.
        fee_rate: The fee rate reserved for on buys (the symbol's instrument, if known).
        instrument: What the venue accepts for the order's symbol, if known.
    """

    order: OrderRequest
    now: datetime
    mark_price: float
    portfolio: PortfolioSnapshot
    operation: str = "place"
    orders_today: int = 0
    confirm_token: str | None = None
    resting: tuple[RestingOrder, ...] = ()
    fee_rate: float = 0.0
    instrument: Instrument | None = None

    @property
    def is_new_order(self) -> bool:
        """Whether this is a new order (a replacement is not)."""
        return self.operation == "place"

    @property
    def price(self) -> float:
        """The price the order is valued at: the worst it can trade at given the mark."""
        return self.order.value_price(self.mark_price)

    @property
    def notional(self) -> float:
        """Quantity times :attr:`price`."""
        return self.order.quantity * self.price

    @property
    def position(self) -> float:
        """The current signed position in the order's symbol."""
        return self.portfolio.quantity(self.order.symbol)

    @property
    def same_side_resting(self) -> tuple[RestingOrder, ...]:
        """Open orders on the order's symbol and side: they fill in the same direction."""
        symbol, side = self.order.symbol, self.order.side
        return tuple(
            r for r in self.resting if r.request.symbol == symbol and r.request.side is side
        )

    @property
    def projected_position(self) -> float:
        """The position if this order and every open order on its side fill completely."""
        resting = math.fsum(r.remaining for r in self.same_side_resting)
        signed = resting if self.order.side is Side.BUY else -resting
        return self.position + signed + self.order.signed_quantity

    @property
    def reduces_position(self) -> bool:
        """Whether the order can only shrink the position, even with its side's open orders."""
        pos = self.position
        return pos != 0 and abs(self.projected_position) <= abs(pos)

    @property
    def resting_note(self) -> str:
        """Which open orders the worst case counted, for a verdict's message."""
        counted = self.same_side_resting
        if not counted:
            return "no open orders on this side"
        ids = ", ".join(f"{r.order_id} ({r.remaining:g})" for r in counted)
        return f"counting open {self.order.side.value} orders {ids}"

    def account_state(self) -> AccountState:
        """Cash, equity, the position and what the book reserves, for a buying-power check."""
        symbol = self.order.symbol
        buys = sells = reserved = 0.0
        for r in self.resting:
            if r.is_buy:
                reserved += r.remaining * r.value_price * (1 + self.fee_rate)
            if r.request.symbol != symbol:
                continue
            if r.is_buy:
                buys += r.remaining
            else:
                sells += r.remaining
        gross_other = math.fsum(
            abs(p.market_value) for s, p in self.portfolio.positions.items() if s != symbol
        )
        return AccountState(
            cash=self.portfolio.cash,
            equity=self.portfolio.equity,
            position=self.position,
            resting_buy_quantity=buys,
            resting_sell_quantity=sells,
            reserved_cash=reserved,
            gross_other=gross_other,
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
