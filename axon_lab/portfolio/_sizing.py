"""From a portfolio decision to orders, sized under one equity, vectorized over the universe.

``target_qty = weight x equity / mark`` for every tradable symbol; the order is
``target_qty - position``. A symbol without a bar at the step gets no order (it cannot trade; see
:mod:`axon_lab.data.universe`). Orders whose notional is below ``band x equity`` are skipped, so a
book that drifted a little is not churned every step. With a ``lot_size`` the order is rounded
toward zero to a multiple of it. Per-symbol decisions trade their own quantities (buy +, sell -,
hold 0) as market orders; a per-symbol decision with another order type or with a stop-loss or
take-profit is refused (the portfolio backend fills market orders only), not silently changed.
"""

from __future__ import annotations

import numpy as np

from axon_lab.errors import ConfigError
from axon_lab.records import Action, OrderType, PortfolioDecision

__all__ = ["target_vector", "weights_to_orders"]


def target_vector(decision: PortfolioDecision, symbols: tuple[str, ...]) -> np.ndarray | None:
    """The decision's target weights, one per symbol (0 where left out; None: per-symbol form).

    Raises:
        ConfigError: If the decision names a symbol outside the universe.
    """
    if decision.target_weights is None:
        return None
    col = {s: j for j, s in enumerate(symbols)}
    out = np.zeros(len(symbols))
    unknown = [s for s in decision.target_weights if s not in col]
    if unknown:
        raise ConfigError(
            f"the decision weights symbols outside the universe: {unknown[:10]}; weight only "
            "symbols of the observation."
        )
    for s, w in decision.target_weights.items():
        out[col[s]] = w
    return out


def weights_to_orders(
    decision: PortfolioDecision,
    *,
    symbols: tuple[str, ...],
    positions: np.ndarray,
    marks: np.ndarray,
    tradable: np.ndarray,
    equity: float,
    band: float = 0.0,
    lot_size: float = 0.0,
) -> np.ndarray:
    """Signed units to trade per symbol to carry out ``decision``.

    Args:
        decision: Target weights or per-symbol decisions.
        symbols: The universe, in column order.
        positions: Units held per symbol.
        marks: Each symbol's mark (NaN where none).
        tradable: Whether each symbol has a bar at this step.
        equity: The account's equity at the marks.
        band: Skip orders whose notional is below ``band x equity``.
        lot_size: Round orders toward zero to a multiple of this (0: fractional).

    Returns:
        One signed size per symbol (0: no order).

    Raises:
        ConfigError: If the decision names a symbol outside the universe.

    Examples:
        >>> from datetime import datetime, timezone
        >>> d = PortfolioDecision(timestamp=datetime(2024, 1, 2, tzinfo=timezone.utc),
        ...                       target_weights={"A": 0.5}, source="rules")
        >>> weights_to_orders(d, symbols=("A", "B"), positions=np.array([0.0, 3.0]),
        ...                   marks=np.array([10.0, 20.0]), tradable=np.array([True, True]),
        ...                   equity=1000.0).tolist()
        [50.0, -3.0]
    """
    ok = tradable & np.isfinite(marks) & (marks > 0)
    target = target_vector(decision, symbols)
    if target is None:
        col = {s: j for j, s in enumerate(symbols)}
        orders = np.zeros(len(symbols))
        for d in decision.decisions:
            if d.symbol not in col:
                raise ConfigError(f"decision for {d.symbol!r}, which is not in the universe")
            if d.order_type is not OrderType.MARKET or d.stop_loss or d.take_profit:
                raise ConfigError(
                    f"decision for {d.symbol!r} is a {d.order_type.value} order with brackets "
                    f"{d.stop_loss}/{d.take_profit}; the portfolio backend fills market orders "
                    "only: decide market orders without stop_loss/take_profit"
                )
            if d.action is not Action.HOLD and d.quantity is not None:
                orders[col[d.symbol]] = d.quantity if d.action is Action.BUY else -d.quantity
    else:
        safe = np.where(ok, marks, 1.0)
        orders = np.where(ok, target * equity / safe - positions, 0.0)
    orders = np.where(ok, orders, 0.0)
    if lot_size > 0:
        orders = np.trunc(orders / lot_size + np.sign(orders) * 1e-9) * lot_size
    if band > 0:
        notional = np.abs(orders) * np.where(ok, marks, 0.0)
        small = notional < band * equity
        if target is not None:
            # closing a position out completely is never skipped: a 0 weight means flat
            small &= ~((target == 0.0) & (positions != 0.0))
        orders = np.where(small, 0.0, orders)
    return orders
