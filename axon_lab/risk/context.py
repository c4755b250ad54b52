"""What every risk check sees: the order, the time, the mark price and the portfolio.

The chain builds one :class:`OrderContext` per order before any line runs, from the backend's
portfolio and last price and the loop's clock, so every check judges the same facts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict, Unpack

from axon_lab.records import DefenceLine, OrderRequest, PortfolioSnapshot, RiskVerdict
from axon_lab.records._construct import has_layout, raw

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


_DETAILS = frozenset(VerdictDetails.__annotations__)
_FIELDS = (
    "approved", "line", "rule", "limit", "observed", "message", "timestamp", "client_order_id",
    "gate_state",
)  # fmt: skip
_ALWAYS_SET = frozenset({"approved", "line", "rule", "timestamp", "client_order_id"})
# the fast path below lays the fields out itself: only while the schema is still this one
_FAST = has_layout(
    RiskVerdict,
    _FIELDS,
    {"limit": None, "observed": None, "message": "", "client_order_id": None, "gate_state": None},
)
_INF = math.inf
_FIELDS_SET: dict[frozenset[str], frozenset[str]] = {}


def verdict_fields(*details: str) -> frozenset[str]:
    """The ``model_fields_set`` of a verdict given these details (see :func:`build_verdict`)."""
    given = frozenset(details)
    out = _FIELDS_SET.get(given)
    if out is None:
        out = _FIELDS_SET[given] = _ALWAYS_SET | given
    return out


def build_verdict(
    ctx: OrderContext,
    approved: bool,
    line: DefenceLine,
    rule: str,
    limit: float | str | None,
    observed: float | str | None,
    message: str,
    gate_state: str | None,
    fields: frozenset[str],
) -> RiskVerdict:
    """The verdict ``approve``/``reject`` build, with every detail given positionally.

    ``fields`` is :func:`verdict_fields` of the details the caller means to give (the others
    must be at their defaults: None, None, ``""``, None); it becomes ``model_fields_set``, and
    only those details go to validation when the values are not plainly valid.
    """
    now = ctx.now
    client_order_id = ctx.order.client_order_id
    if (
        _FAST
        and type(now) is datetime
        and now.tzinfo is UTC
        and type(client_order_id) is str
        and type(approved) is bool
        and type(line) is DefenceLine
        and type(rule) is str
        and rule
        and (limit is None or type(limit) is str or (type(limit) is float and -_INF < limit < _INF))
        and (
            observed is None
            or type(observed) is str
            or (type(observed) is float and -_INF < observed < _INF)
        )
        and type(message) is str
        and (gate_state is None or type(gate_state) is str)
    ):
        # Every value is exactly what RiskVerdict's validation accepts and returns unchanged
        # (checked just above), so the validated record would be this one: skip validating.
        # Anything else — a NaN or infinite limit/observed, an int, a naive or non-UTC time —
        # takes the validating constructor below, which raises RecordError as before, and the
        # chain turns that into a fail-closed rejection.
        data = {
            "approved": approved,
            "line": line,
            "rule": rule,
            "limit": limit,
            "observed": observed,
            "message": message,
            "timestamp": now,
            "client_order_id": client_order_id,
            "gate_state": gate_state,
        }
        return raw(RiskVerdict, data, set(fields))
    given = {"limit": limit, "observed": observed, "message": message, "gate_state": gate_state}
    details = {key: value for key, value in given.items() if key in fields}
    return RiskVerdict(
        approved=approved,
        line=line,
        rule=rule,
        timestamp=now,
        client_order_id=client_order_id,
        **details,
    )


def _verdict(
    ctx: OrderContext, approved: bool, line: DefenceLine, rule: str, details: VerdictDetails
) -> RiskVerdict:
    if details.keys() <= _DETAILS:
        return build_verdict(
            ctx,
            approved,
            line,
            rule,
            details.get("limit"),
            details.get("observed"),
            details.get("message", ""),
            details.get("gate_state"),
            verdict_fields(*details),
        )
    return RiskVerdict(  # an unknown detail: validation names it
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
