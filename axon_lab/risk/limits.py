"""Defence line 2, RiskLimits: static rules every order must satisfy.

Rules run in a fixed order and stop at the first rejection; every rule that ran leaves a
:class:`~axon_lab.records.RiskVerdict` naming the rule, the limit and the observed value. Every
rule judges the worst case: an order is valued at the worst price it can trade at
(:meth:`~axon_lab.records.OrderRequest.value_price`: a buy limit at its limit, anything else at
the higher of its own price and the mark), and a position counts every open order on the same
side as filled (a replacement counts its new size instead of its old one):

1. ``blocked_symbols`` — the symbol is not on the block list;
2. ``allowed_symbols`` — the symbol is on the allow list (when one is given);
3. ``instrument`` — the venue's rules for the symbol, when the context knows its instrument:
   quantity on the lot grid, at least the minimum quantity and notional, prices on the tick grid;
4. ``max_order_quantity`` — the order's quantity (the seed's per-order ``max_qty``);
5. ``max_order_notional`` — quantity x the price the order is valued at;
6. ``max_position_abs`` — |position + open same-side orders + this order|, unless that is no
   larger than the position now (the order only reduces it);
7. ``max_position_value`` — that worst-case position x the higher of the order's value price and
   the mark, same exception;
8. ``max_open_orders`` — open orders on the book (all symbols) with this one;
9. ``max_daily_orders`` — orders sent today (UTC day of the loop's clock) plus this one; a
   replacement is not a new order and is not counted.

Unset rules are skipped; with none set, one approving ``no_limits`` verdict records that the line
ran.

Examples:
    >>> from datetime import datetime, timezone
    >>> from axon_lab.records import OrderRequest, PortfolioSnapshot
    >>> from axon_lab.risk.context import OrderContext
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> order = OrderRequest(client_order_id="c-1", symbol="X", side="buy", quantity=3.0)
    >>> ctx = OrderContext(order=order, now=t, mark_price=10.0,
    ...                    portfolio=PortfolioSnapshot.build(timestamp=t, cash=100.0))
    >>> verdicts = RiskLimits(max_order_notional=25.0, max_daily_orders=5).check(ctx)
    >>> [(v.rule, v.approved, v.limit, v.observed) for v in verdicts]
    [('max_order_notional', False, 25.0, 30.0)]
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from axon_lab.errors import ConfigError
from axon_lab.records import DefenceLine, RiskVerdict

from .context import OrderContext, approve, reject

__all__ = ["RiskLimits"]

_LINE = DefenceLine.LIMIT
_EXEMPT = "over the limit, but the order only reduces the position"


class RiskLimits(BaseModel):
    """Static risk limits; ``None`` (or an empty set) disables a rule.

    Attributes:
        max_order_quantity: Largest quantity of one order.
        max_order_notional: Largest quantity x value price of one order.
        max_daily_orders: Most orders sent per UTC day of the loop's clock.
        max_position_abs: Largest worst-case |position| (in units).
        max_position_value: Largest worst-case |position| x price.
        max_open_orders: Most orders open at once, this one included.
        allowed_symbols: If given, only these symbols may be traded.
        blocked_symbols: These symbols may never be traded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_order_quantity: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_order_notional: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_daily_orders: int | None = Field(default=None, ge=0)
    max_position_abs: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    max_position_value: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    max_open_orders: int | None = Field(default=None, ge=1)
    allowed_symbols: frozenset[str] | None = None
    blocked_symbols: frozenset[str] = frozenset()

    def __init__(self, /, **data: object) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}={e.get('input')!r}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise ConfigError(f"Invalid RiskLimits: {problems}") from None

    def check(self, ctx: OrderContext) -> tuple[RiskVerdict, ...]:
        """Run the configured rules on ``ctx`` until one rejects.

        Returns:
            The verdicts of the rules that ran; the last one is the rejection, if any.
        """
        verdicts: list[RiskVerdict] = []
        for verdict in self._verdicts(ctx):
            verdicts.append(verdict)
            if not verdict.approved:
                break
        if not verdicts:
            verdicts.append(approve(ctx, _LINE, "no_limits", message="no limits configured"))
        return tuple(verdicts)

    def _verdicts(self, ctx: OrderContext) -> list[RiskVerdict]:
        out: list[RiskVerdict] = []
        symbol = ctx.order.symbol
        if self.blocked_symbols:
            blocked = symbol in self.blocked_symbols
            out.append(
                (reject if blocked else approve)(
                    ctx,
                    _LINE,
                    "blocked_symbols",
                    limit=",".join(sorted(self.blocked_symbols)),
                    observed=symbol,
                    message=f"{symbol} is blocked" if blocked else "",
                )
            )
            if blocked:
                return out
        if self.allowed_symbols is not None:
            allowed = symbol in self.allowed_symbols
            out.append(
                (approve if allowed else reject)(
                    ctx,
                    _LINE,
                    "allowed_symbols",
                    limit=",".join(sorted(self.allowed_symbols)),
                    observed=symbol,
                    message="" if allowed else f"{symbol} is not in allowed_symbols",
                )
            )
            if not allowed:
                return out
        instrument = ctx.instrument
        if instrument is not None:
            problem = instrument.request_problem(ctx.order, ctx.mark_price)
            out.append(
                (reject if problem else approve)(
                    ctx, _LINE, "instrument", observed=ctx.order.quantity, message=problem
                )
            )
            if problem:
                return out
        if self.max_order_quantity is not None:
            out.append(
                self._at_most(
                    ctx, "max_order_quantity", ctx.order.quantity, self.max_order_quantity
                )
            )
        if self.max_order_notional is not None:
            out.append(
                self._at_most(ctx, "max_order_notional", ctx.notional, self.max_order_notional)
            )
        projected = abs(ctx.projected_position)
        reducing = projected <= abs(ctx.position)
        if self.max_position_abs is not None:
            out.append(
                self._at_most(
                    ctx,
                    "max_position_abs",
                    projected,
                    self.max_position_abs,
                    exempt=reducing,
                    note=ctx.resting_note,
                )
            )
        if self.max_position_value is not None:
            out.append(
                self._at_most(
                    ctx,
                    "max_position_value",
                    projected * max(ctx.price, ctx.mark_price),
                    self.max_position_value,
                    exempt=reducing,
                    note=ctx.resting_note,
                )
            )
        if self.max_open_orders is not None:
            ids = ", ".join(r.order_id for r in ctx.resting) or "none"
            out.append(
                self._at_most(
                    ctx,
                    "max_open_orders",
                    float(len(ctx.resting) + 1),
                    float(self.max_open_orders),
                    note=f"open orders: {ids}",
                )
            )
        if self.max_daily_orders is not None and ctx.is_new_order:
            out.append(
                self._at_most(
                    ctx,
                    "max_daily_orders",
                    float(ctx.orders_today + 1),
                    float(self.max_daily_orders),
                )
            )
        return out

    @staticmethod
    def _at_most(
        ctx: OrderContext,
        rule: str,
        observed: float,
        limit: float,
        *,
        exempt: bool = False,
        note: str = "",
    ) -> RiskVerdict:
        suffix = f" ({note})" if note else ""
        if observed <= limit:
            return approve(ctx, _LINE, rule, limit=limit, observed=observed, message=note)
        if exempt:
            return approve(
                ctx, _LINE, rule, limit=limit, observed=observed, message=_EXEMPT + suffix
            )
        message = f"{rule}: {observed:.6g} would exceed the limit {limit:.6g}{suffix}"
        return reject(ctx, _LINE, rule, limit=limit, observed=observed, message=message)
