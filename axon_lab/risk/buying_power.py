"""The buying-power line: an order the account cannot pay for, or deliver, never reaches a backend.

It runs after the gates and before the backend. Spot by default (:class:`~axon_lab.records.
MarginPolicy`): a buy must fit in the cash left after every open buy and its fees have reserved
theirs, and a sell must fit in the position left after every open sell. With leverage or shorts
configured, the gross exposure after the worst-case fill must fit in leverage x equity. Backends
apply the same :meth:`~axon_lab.records.MarginPolicy.check` at their own door, so an order that
slips past one line (a backend's fill at a worse price, a stale context) still meets the other.

Examples:
    >>> from datetime import datetime, timezone
    >>> from axon_lab.records import OrderRequest, PortfolioSnapshot
    >>> from axon_lab.risk.context import OrderContext
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> wallet = PortfolioSnapshot.build(timestamp=t, cash=10_000.0)
    >>> order = OrderRequest(client_order_id="c", symbol="X", side="buy", quantity=1e6)
    >>> v = BuyingPowerLine().check(OrderContext(order=order, now=t, mark_price=10.0,
    ...                                           portfolio=wallet))
    >>> v.approved, v.line.value, v.rule, v.limit, v.observed
    (False, 'buying_power', 'buying_power', 10000.0, 10000000.0)
"""

from __future__ import annotations

from axon_lab.records import DefenceLine, MarginPolicy, RiskVerdict

from .context import OrderContext, approve, reject

__all__ = ["BuyingPowerLine"]

_LINE = DefenceLine.BUYING_POWER


class BuyingPowerLine:
    """Checks that the account can carry an order in the worst case.

    Args:
        margin: What the account may borrow (default: spot, nothing).
    """

    def __init__(self, margin: MarginPolicy | None = None) -> None:
        self.margin = margin if margin is not None else MarginPolicy()

    def check(self, ctx: OrderContext) -> RiskVerdict:
        """Approve or reject ``ctx``'s order against cash, position and margin."""
        order = ctx.order
        result = self.margin.check(
            order.side, order.quantity, ctx.price, fee_rate=ctx.fee_rate, state=ctx.account_state()
        )
        verdict = approve if result.ok else reject
        return verdict(
            ctx,
            _LINE,
            result.rule,
            limit=result.limit,
            observed=result.observed,
            message=result.message,
        )

    def __repr__(self) -> str:
        return f"BuyingPowerLine(margin={self.margin!r})"
