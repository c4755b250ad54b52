"""Portfolio risk: per-symbol limits, gross and net exposure, concentration and group limits.

:func:`check_portfolio` judges one rebalance -- a vector of orders (signed units per symbol) placed
on one equity -- in two passes, vectorized over the universe, and fails closed:

1. **Per order** (rejections are per symbol; the other orders go on). An order is rejected when
   its inputs are unusable (a non-finite size or a missing or non-positive mark:
   ``invalid_order``), when its symbol has no bar at this step (``not_tradable``: see the
   missing-bar policy of :mod:`axon_lab.data.universe`), when it would open or grow a short
   without ``allow_short`` (``no_short``), when its notional exceeds ``max_order_weight`` x equity
   (``order_weight``), or when it grows ``|position|`` past the symbol's weight cap
   (``symbol_weight``: ``symbol_max_weight[symbol]``, else ``max_weight``). An order that only
   reduces ``|position|`` (without flipping its sign) is never rejected by a weight cap.
2. **Per portfolio**, on the book after every order that passed: gross exposure
   (``sum |w|`` <= ``max_gross``), net exposure (``|sum w|`` <= ``max_net``), concentration (the
   largest ``|w|`` <= ``max_weight``), each group's gross (<= ``max_group_weight``, groups from
   ``groups``), and spot buying power (cash after every buy at ``mark x (1 + fee_rate)`` and every
   sell at ``mark x (1 - fee_rate)`` stays >= ``cash_buffer`` x equity). If any fails, every order
   that grows ``|position|`` is rejected (rule ``portfolio:<check>``, naming the first failed check
   in this order: gross, net, concentration, groups by name, buying power) and only reducing
   orders go on; if the reduced book is worse than the current one on a failed check, nothing
   goes on.

Weights are position value over equity at the marks. A non-finite or non-positive equity rejects
every order (``equity``). Any exception inside the check rejects every order too (``error``): a
risk line never half-passes.

Examples:
    >>> import numpy as np
    >>> limits = PortfolioLimits(max_weight=0.5, max_gross=1.0)
    >>> res = check_portfolio(
    ...     limits, symbols=("A", "B"), orders=np.array([60.0, 20.0]), positions=np.zeros(2),
    ...     marks=np.array([10.0, 10.0]), tradable=np.array([True, True]), cash=1000.0,
    ... )
    >>> res.approved.tolist(), res.rules
    ([False, True], ('symbol_weight', ''))
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from pydantic import Field

from axon_lab.records import (
    DefenceLine,
    NonNegativeFinite,
    Record,
    RiskVerdict,
    Symbol,
)

__all__ = ["PortfolioLimits", "PortfolioRiskResult", "check_portfolio"]

_TOL = 1e-9


class PortfolioLimits(Record):
    """Limits on a many-symbol book (None: that limit is off).

    Attributes:
        max_weight: Concentration: the largest ``|weight|`` of any symbol; also every symbol's
            cap unless ``symbol_max_weight`` names it.
        symbol_max_weight: Per-symbol weight caps.
        max_order_weight: Largest notional of one order, as a fraction of equity.
        max_gross: Largest gross exposure ``sum |w|`` (1.0: no borrowing).
        max_net: Largest net exposure ``|sum w|``.
        groups: Symbol -> group (e.g. a sector); symbols left out form no group.
        max_group_weight: Largest gross of any group (one number for all groups), or per group.
        allow_short: Whether orders may open or grow shorts.
        fee_rate: Fee rate the buying-power check reserves.
        cash_buffer: Cash to keep, as a fraction of equity, after the rebalance (spot accounts;
            set it above the typical gap between the decision's close and the next open).
        spot: Whether the buying-power check applies (no borrowing).
    """

    max_weight: NonNegativeFinite | None = None
    symbol_max_weight: dict[Symbol, NonNegativeFinite] = Field(default_factory=dict)
    max_order_weight: NonNegativeFinite | None = None
    max_gross: NonNegativeFinite | None = 1.0
    max_net: NonNegativeFinite | None = None
    groups: dict[Symbol, str] = Field(default_factory=dict)
    max_group_weight: NonNegativeFinite | dict[str, NonNegativeFinite] | None = None
    allow_short: bool = False
    fee_rate: NonNegativeFinite = Field(default=0.0, lt=1)
    cash_buffer: NonNegativeFinite = 0.0
    spot: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioRiskResult:
    """The verdicts on one rebalance.

    Attributes:
        symbols: The universe, in column order.
        approved: Per symbol, whether its order may go on (False where there was no order).
        rules: Per symbol, the rule that rejected its order (``""``: approved or no order).
        order_verdicts: One rejected :class:`~axon_lab.records.RiskVerdict` per rejected order.
        portfolio_verdicts: One verdict per portfolio check that is on (approved or not).
        weights_after: The weights after the approved orders, at the marks.
    """

    symbols: tuple[str, ...]
    approved: np.ndarray
    rules: tuple[str, ...]
    order_verdicts: tuple[RiskVerdict, ...]
    portfolio_verdicts: tuple[RiskVerdict, ...]
    weights_after: np.ndarray

    @property
    def verdicts(self) -> tuple[RiskVerdict, ...]:
        """Every verdict: order rejections, then the portfolio checks."""
        return self.order_verdicts + self.portfolio_verdicts

    @property
    def n_rejected(self) -> int:
        """Orders rejected."""
        return len(self.order_verdicts)


def _caps(limits: PortfolioLimits, symbols: Sequence[str]) -> np.ndarray:
    default = math.inf if limits.max_weight is None else limits.max_weight
    caps = limits.symbol_max_weight
    return np.array([caps.get(s, default) for s in symbols], dtype=np.float64)


def _group_cap(limits: PortfolioLimits, group: str) -> float:
    cap = limits.max_group_weight
    if cap is None:
        return math.inf
    if isinstance(cap, Mapping):
        return float(cap.get(group, math.inf))
    return float(cap)


def _measures(
    limits: PortfolioLimits, symbols: Sequence[str], w: np.ndarray, cash_after: float, equity: float
) -> dict[str, tuple[float, float]]:
    """Each portfolio check that is on: ``name -> (observed, limit)``."""
    out: dict[str, tuple[float, float]] = {}
    if limits.max_gross is not None:
        out["gross_exposure"] = (float(np.abs(w).sum()), limits.max_gross)
    if limits.max_net is not None:
        out["net_exposure"] = (abs(float(w.sum())), limits.max_net)
    if limits.max_weight is not None:
        out["concentration"] = (float(np.abs(w).max(initial=0.0)), limits.max_weight)
    if limits.groups and limits.max_group_weight is not None:
        gross: dict[str, float] = {}
        for sym, wj in zip(symbols, np.abs(w).tolist(), strict=True):
            g = limits.groups.get(sym)
            if g is not None:
                gross[g] = gross.get(g, 0.0) + wj
        for g in sorted(gross):
            out[f"group_weight:{g}"] = (gross[g], _group_cap(limits, g))
    if limits.spot:
        out["buying_power"] = (-cash_after / equity, -limits.cash_buffer)
    return out


def _fails(measures: Mapping[str, tuple[float, float]]) -> list[str]:
    return [k for k, (obs, lim) in measures.items() if obs > lim + _TOL * max(1.0, abs(lim))]


def check_portfolio(
    limits: PortfolioLimits,
    *,
    symbols: Sequence[str],
    orders: np.ndarray,
    positions: np.ndarray,
    marks: np.ndarray,
    tradable: np.ndarray,
    cash: float,
    timestamp: datetime | None = None,
) -> PortfolioRiskResult:
    """Judge a rebalance (see the module docstring for every rule).

    Args:
        limits: The limits.
        symbols: The universe, in column order.
        orders: Signed units to trade per symbol (0: no order).
        positions: Signed units held per symbol.
        marks: Each symbol's mark (its last close; NaN where it has none).
        tradable: Whether each symbol has a bar at this step.
        cash: Cash now.
        timestamp: Stamped on the verdicts (default: now, UTC).

    Returns:
        The :class:`PortfolioRiskResult`.
    """
    when = timestamp if timestamp is not None else datetime.now(UTC)
    syms = tuple(symbols)
    n = len(syms)
    try:
        # a tiny positive equity (a subnormal cash) overflows the weights to inf: a weight over
        # every limit, which the checks below refuse, not a reason to stop checking
        with np.errstate(over="ignore"):
            return _check(limits, syms, orders, positions, marks, tradable, cash, when)
    except Exception as exc:  # fail closed: a check that cannot run approves nothing
        has = np.zeros(n, dtype=bool)
        try:
            has = np.asarray(orders, dtype=np.float64) != 0.0
        except (TypeError, ValueError):
            has = np.ones(n, dtype=bool)
        message = f"the portfolio check failed ({type(exc).__name__}: {exc}); nothing passes"
        return _reject_all(syms, has, "error", message, when)


def _reject_all(
    syms: tuple[str, ...], has: np.ndarray, rule: str, message: str, when: datetime
) -> PortfolioRiskResult:
    verdicts = tuple(
        RiskVerdict(
            approved=False,
            line=DefenceLine.LIMIT,
            rule=rule,
            message=message,
            timestamp=when,
            client_order_id=s,
        )
        for s, h in zip(syms, has.tolist(), strict=False)
        if h
    )
    portfolio = (RiskVerdict(approved=False, line=DefenceLine.LIMIT, rule=f"portfolio:{rule}",
                             message=message, timestamp=when),)  # fmt: skip
    return PortfolioRiskResult(
        symbols=syms,
        approved=np.zeros(len(syms), dtype=bool),
        rules=tuple(rule if h else "" for h in has.tolist()),
        order_verdicts=verdicts,
        portfolio_verdicts=portfolio,
        weights_after=np.full(len(syms), np.nan),
    )


def _check(
    limits: PortfolioLimits,
    syms: tuple[str, ...],
    orders_in: np.ndarray,
    positions_in: np.ndarray,
    marks_in: np.ndarray,
    tradable_in: np.ndarray,
    cash: float,
    when: datetime,
) -> PortfolioRiskResult:
    n = len(syms)
    orders = np.asarray(orders_in, dtype=np.float64).reshape(-1)
    pos = np.asarray(positions_in, dtype=np.float64).reshape(-1)
    marks = np.asarray(marks_in, dtype=np.float64).reshape(-1)
    tradable = np.asarray(tradable_in, dtype=bool).reshape(-1)
    for name, arr in (("orders", orders), ("positions", pos), ("marks", marks),
                      ("tradable", tradable)):  # fmt: skip
        if arr.shape[0] != n:
            raise ValueError(f"{name} has {arr.shape[0]} values for {n} symbols")
    has = orders != 0.0
    held = np.where(np.isfinite(marks) & (marks > 0), marks, 0.0)
    equity = float(cash) + float(np.dot(pos, held))
    if not (math.isfinite(equity) and equity > 0.0) or not math.isfinite(float(cash)):
        return _reject_all(
            syms, has, "equity",
            f"equity {equity!r} (cash {cash!r}) is not a positive finite number; nothing trades",
            when,
        )  # fmt: skip
    rules = np.full(n, "", dtype=object)
    after = pos + np.where(np.isfinite(orders), orders, 0.0)
    flips = np.sign(after) * np.sign(pos) < 0
    grows = has & ((np.abs(after) > np.abs(pos) * (1 + _TOL)) | flips)
    bad_input = has & ~(np.isfinite(orders) & np.isfinite(marks) & (marks > 0))
    rules[bad_input] = "invalid_order"
    free = has & (rules == "")
    rules[free & ~tradable] = "not_tradable"
    free = has & (rules == "")
    if not limits.allow_short:
        rules[free & (after < -_TOL * np.maximum(1.0, np.abs(pos))) & (orders < 0)] = "no_short"
    free = has & (rules == "")
    if limits.max_order_weight is not None:
        order_w = np.abs(np.where(free, orders, 0.0)) * held / equity
        rules[free & (order_w > limits.max_order_weight + _TOL)] = "order_weight"
    free = has & (rules == "")
    caps = _caps(limits, syms)
    w_after_each = np.abs(after) * held / equity
    rules[free & grows & (w_after_each > caps + _TOL)] = "symbol_weight"
    ok = has & (rules == "")

    def book(mask: np.ndarray) -> tuple[np.ndarray, float]:
        qty = pos + np.where(mask, orders, 0.0)
        trade = np.where(mask, orders, 0.0) * held
        fees = limits.fee_rate * float(np.abs(trade).sum())
        return qty * held / equity, float(cash) - float(trade.sum()) - fees

    w_now, cash_now = book(np.zeros(n, dtype=bool))
    w_after, cash_after = book(ok)
    measures = _measures(limits, syms, w_after, cash_after, equity)
    failed = _fails(measures)
    if failed and bool((ok & grows).any()):
        reducing = ok & ~grows
        w_red, cash_red = book(reducing)
        reduced = _measures(limits, syms, w_red, cash_red, equity)
        current = _measures(limits, syms, w_now, cash_now, equity)
        worse = [k for k in failed if reduced[k][0] > current[k][0] + _TOL]
        rule = f"portfolio:{failed[0]}"
        rules[ok & grows] = rule
        if worse:
            rules[reducing] = rule
            ok = np.zeros(n, dtype=bool)
        else:
            ok = reducing
        w_after, cash_after = book(ok)
        final = _measures(limits, syms, w_after, cash_after, equity)
        failed_final = set(_fails(final))
        measures = {k: (final[k][0], final[k][1]) for k in measures}
        verdict_fail = set(failed) | failed_final
    else:
        verdict_fail = set(failed)
    order_verdicts = tuple(
        RiskVerdict(
            approved=False, line=DefenceLine.LIMIT, rule=str(rules[j]),
            limit=_limit_of(str(rules[j]), limits, caps[j], equity),
            observed=float(orders[j]) if math.isfinite(float(orders[j])) else str(orders[j]),
            message=_message(str(rules[j]), syms[j], float(w_after_each[j]), caps[j]),
            timestamp=when, client_order_id=syms[j],
        )
        for j in np.flatnonzero(has & ~ok).tolist()
    )  # fmt: skip
    portfolio_verdicts = tuple(
        RiskVerdict(
            approved=name not in verdict_fail, line=DefenceLine.LIMIT, rule=f"portfolio:{name}",
            # an equity so small that weights overflow (a subnormal cash) is shown as "inf"
            limit=lim, observed=obs if math.isfinite(obs) else str(obs),
            message="" if name not in verdict_fail else
            f"{name} {obs:.6g} over the limit {lim:.6g}; orders that grow a position were "
            "rejected, orders that reduce one went on",
            timestamp=when,
        )
        for name, (obs, lim) in measures.items()
    )  # fmt: skip
    return PortfolioRiskResult(
        symbols=syms,
        approved=ok,
        rules=tuple(str(r) for r in rules.tolist()),
        order_verdicts=order_verdicts,
        portfolio_verdicts=portfolio_verdicts,
        weights_after=w_after,
    )


def _limit_of(rule: str, limits: PortfolioLimits, cap: float, equity: float) -> float | str | None:
    if rule == "symbol_weight":
        return float(cap)
    if rule == "order_weight":
        return limits.max_order_weight
    return None


def _message(rule: str, symbol: str, weight: float, cap: float) -> str:
    return {
        "invalid_order": f"{symbol}: the order size or the mark is not a positive finite number",
        "not_tradable": f"{symbol} has no bar at this step (halted, not listed or delisted)",
        "no_short": f"{symbol}: the sell would open a short; shorts need allow_short=True",
        "order_weight": f"{symbol}: the order's notional is over max_order_weight x equity",
        "symbol_weight": f"{symbol}: weight after the order {weight:.6g} is over its cap {cap:.6g}",
    }.get(rule, f"{symbol}: rejected because the book after the rebalance fails {rule}")
