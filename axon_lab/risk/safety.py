"""Defence line 1, SafetyMode: whether an order may be sent at all.

* :class:`DirectMode` passes every order through.
* :class:`DryRunMode` runs every other check but never sends: the result shows the order that
  would have been sent.
* :class:`TwoPhaseMode` asks for confirmation above a notional: the first submission returns a
  confirm token instead of trading; resending the *same* order with the token executes it.
  Tokens are single-use, expire ``ttl`` after issue on the loop's clock, and are bound to the
  order's terms and operation — a token cannot confirm a different or altered order.

Examples:
    >>> from datetime import datetime, timedelta, timezone
    >>> from axon_lab.records import OrderRequest, PortfolioSnapshot
    >>> from axon_lab.risk.context import OrderContext
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> order = OrderRequest(client_order_id="c-1", symbol="X", side="buy", quantity=3.0)
    >>> ctx = OrderContext(order=order, now=t, mark_price=10.0,
    ...                    portfolio=PortfolioSnapshot.build(timestamp=t, cash=100.0))
    >>> mode = TwoPhaseMode(confirm_above=20.0, ttl=timedelta(minutes=1))
    >>> first = mode.check(ctx)
    >>> first.verdict.approved, first.verdict.rule, first.verdict.observed
    (False, 'confirmation_required', 30.0)
    >>> from dataclasses import replace
    >>> second = mode.check(replace(ctx, confirm_token=first.confirm_token))
    >>> second.verdict.approved, second.verdict.rule, second.dispatch
    (True, 'confirmed', True)
    >>> mode.check(replace(ctx, confirm_token=first.confirm_token)).verdict.rule  # single use
    'confirm_token_invalid'
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from axon_lab.errors import ConfigError
from axon_lab.records import DefenceLine, OrderRequest, RiskVerdict

from .context import OrderContext, approve, reject

__all__ = [
    "DirectMode",
    "DryRunMode",
    "SafetyDecision",
    "SafetyMode",
    "TwoPhaseMode",
    "make_safety_mode",
]

_LINE = DefenceLine.SAFETY_MODE


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyDecision:
    """A safety mode's answer.

    Attributes:
        verdict: The line's verdict.
        dispatch: Whether an approved order may reach the backend (False in dry run).
        order: The order to send if approved (a confirmed two-phase order keeps the client
            order id it was first submitted with).
        confirm_token: The token to resend with the order, when confirmation is required.
    """

    verdict: RiskVerdict
    dispatch: bool
    order: OrderRequest
    confirm_token: str | None = None


@runtime_checkable
class SafetyMode(Protocol):
    """Decides, first in the chain, whether an order may be sent."""

    @property
    def name(self) -> str:
        """Short name, e.g. ``"direct"``."""
        ...

    @property
    def sends_orders(self) -> bool:
        """Whether anything ever reaches the backend (False for dry run)."""
        ...

    def check(self, ctx: OrderContext) -> SafetyDecision:
        """Judge one order."""
        ...


class DirectMode:
    """Every order passes this line unchanged."""

    name = "direct"
    sends_orders = True

    def check(self, ctx: OrderContext) -> SafetyDecision:
        """Approve ``ctx``'s order."""
        verdict = approve(ctx, _LINE, "direct", message="direct mode: orders are sent")
        return SafetyDecision(verdict=verdict, dispatch=True, order=ctx.order)

    def __repr__(self) -> str:
        return "DirectMode()"


class DryRunMode:
    """Orders are checked by every line but never sent; the result shows what would be sent."""

    name = "dry_run"
    sends_orders = False

    def check(self, ctx: OrderContext) -> SafetyDecision:
        """Approve ``ctx``'s order for checking, never for sending."""
        return SafetyDecision(
            verdict=approve(
                ctx, _LINE, "dry_run", message="dry run: the order is checked but never sent"
            ),
            dispatch=False,
            order=ctx.order,
        )

    def __repr__(self) -> str:
        return "DryRunMode()"


@dataclass(frozen=True, slots=True)
class _Pending:
    fingerprint: str
    order: OrderRequest
    issued_at: datetime
    expires_at: datetime


def _fingerprint(ctx: OrderContext) -> str:
    terms = ctx.order.to_dict()
    terms.pop("client_order_id")  # a resend may carry a fresh id; the terms must be identical
    payload = json.dumps({"operation": ctx.operation, "terms": terms}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class TwoPhaseMode:
    """Orders above a notional need a second submission carrying a confirm token.

    Args:
        confirm_above: Orders with notional (quantity x limit or mark price) above this need
            confirmation; 0 confirms every order.
        ttl: How long a token stays valid, on the loop's clock.
    """

    name = "two_phase"
    sends_orders = True

    def __init__(self, *, confirm_above: float, ttl: timedelta) -> None:
        if not (math.isfinite(confirm_above) and confirm_above >= 0):
            raise ConfigError(
                f"confirm_above must be a finite notional >= 0, got {confirm_above!r}"
            )
        if ttl <= timedelta(0):
            raise ConfigError(f"ttl must be positive, got {ttl!r}")
        self.confirm_above = float(confirm_above)
        self.ttl = ttl
        self._pending: dict[str, _Pending] = {}

    @property
    def pending_tokens(self) -> int:
        """Tokens issued and neither used nor known to be expired."""
        return len(self._pending)

    def check(self, ctx: OrderContext) -> SafetyDecision:
        """Approve small or confirmed orders; otherwise issue a token and reject for now."""
        self._pending = {t: p for t, p in self._pending.items() if p.expires_at >= ctx.now}
        if ctx.confirm_token is not None:
            return self._confirm(ctx, ctx.confirm_token)
        notional = ctx.notional
        if notional <= self.confirm_above:
            verdict = approve(
                ctx,
                _LINE,
                "below_confirm_threshold",
                limit=self.confirm_above,
                observed=notional,
                message="notional at or below the confirmation threshold",
            )
            return SafetyDecision(verdict=verdict, dispatch=True, order=ctx.order)
        token = secrets.token_urlsafe(16)
        self._pending[token] = _Pending(
            _fingerprint(ctx), ctx.order, issued_at=ctx.now, expires_at=ctx.now + self.ttl
        )
        verdict = reject(
            ctx,
            _LINE,
            "confirmation_required",
            limit=self.confirm_above,
            observed=notional,
            message=(
                f"notional {notional:.6g} is above {self.confirm_above:.6g}: resend the same "
                f"order with confirm_token={token!r} within {self.ttl.total_seconds():g} s "
                "to execute it"
            ),
        )
        return SafetyDecision(verdict=verdict, dispatch=False, order=ctx.order, confirm_token=token)

    def _confirm(self, ctx: OrderContext, token: str) -> SafetyDecision:
        pending = self._pending.pop(token, None)  # single use: gone whatever happens next
        if pending is None:
            verdict = reject(
                ctx,
                _LINE,
                "confirm_token_invalid",
                message=(
                    "the confirm token is unknown, already used or expired; resend the order "
                    "without a token to get a new one"
                ),
            )
        elif _fingerprint(ctx) != pending.fingerprint:
            verdict = reject(
                ctx,
                _LINE,
                "confirm_token_mismatch",
                message=(
                    "the confirm token was issued for a different order; it is now void. "
                    "Resend the order without a token to get a new one"
                ),
            )
        else:
            verdict = approve(
                ctx,
                _LINE,
                "confirmed",
                limit=self.confirm_above,
                observed=ctx.notional,
                message="confirmed with a valid token",
            )
            return SafetyDecision(verdict=verdict, dispatch=True, order=pending.order)
        return SafetyDecision(verdict=verdict, dispatch=False, order=ctx.order)

    def __repr__(self) -> str:
        return f"TwoPhaseMode(confirm_above={self.confirm_above!r}, ttl={self.ttl!r})"


ModeName = Literal["direct", "dry_run", "two_phase"]


def make_safety_mode(
    mode: ModeName | SafetyMode,
    *,
    confirm_above: float = 0.0,
    ttl: timedelta = timedelta(minutes=5),
) -> SafetyMode:
    """Build a safety mode from its name (or pass an instance through).

    Args:
        mode: ``"direct"``, ``"dry_run"``, ``"two_phase"`` or a :class:`SafetyMode`.
        confirm_above: Two-phase threshold notional (default: confirm everything).
        ttl: Two-phase token lifetime.

    Raises:
        ConfigError: If ``mode`` is an unknown name.
    """
    if not isinstance(mode, str):
        return mode
    if mode == "direct":
        return DirectMode()
    if mode == "dry_run":
        return DryRunMode()
    if mode == "two_phase":
        return TwoPhaseMode(confirm_above=confirm_above, ttl=ttl)
    raise ConfigError(
        f"unknown safety mode {mode!r}; use 'direct', 'dry_run', 'two_phase' or a SafetyMode"
    )
