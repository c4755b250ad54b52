"""Portfolio views of a run: weights over time and each symbol's contribution to the return.

Both read the ``portfolio`` part of the run's step records (:class:`~axon_lab.records.
PortfolioStep`): the end-of-step weights and the per-symbol PnL of the step. The contribution of a
symbol is the sum of its step PnLs over the starting equity (the contributions of all symbols add
up to the run's return). :func:`get_portfolio_info` is the pure computation; the ``plot_*``
functions render it. Symbols beyond ``top`` (by mean absolute weight) are summed into ``other``.

Examples:
    >>> from datetime import datetime, timedelta, timezone
    >>> from axon_lab.records import PortfolioStep, StepRecord
    >>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> steps = [StepRecord(run_id="r", step=i, timestamp=t0 + timedelta(days=i),
    ...          observation_digest="", equity=100.0 + i, pnl=1.0 if i else 0.0,
    ...          portfolio=PortfolioStep(weights={"A": 0.5}, pnl_by_symbol={"A": 1.0} if i else {}))
    ...          for i in range(3)]
    >>> info = get_portfolio_info(steps)
    >>> info.symbols, info.contribution
    (['A'], [0.02])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord
from axon_lab.viz._common import graph_objects

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["PortfolioInfo", "get_portfolio_info", "plot_contributions", "plot_weights"]


class PortfolioInfo(NamedTuple):
    """Everything the portfolio figures draw.

    Attributes:
        timestamps: Each step's time.
        symbols: Shown symbols (largest mean absolute weight first), then ``"other"`` if any.
        weights: Per shown symbol, its weight at each step.
        cash: The weight of cash at each step (``1 - net``).
        contribution: Per shown symbol, its summed PnL over the starting equity.
        total_return: The run's return (final over starting equity, minus 1).
    """

    timestamps: list[pd.Timestamp]
    symbols: list[str]
    weights: list[list[float]]
    cash: list[float]
    contribution: list[float]
    total_return: float


def portfolio_frames(steps: Sequence[StepRecord]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weights and per-symbol step PnL as ``(steps, symbols)`` frames indexed by time.

    Raises:
        ConfigError: If no step carries a portfolio part (not a portfolio run).
    """
    rows = [s for s in steps if s.portfolio is not None]
    if not rows:
        raise ConfigError(
            "these steps carry no portfolio part; portfolio views need a run of a "
            "PortfolioLoop (axon_lab.portfolio.make_portfolio_agent)."
        )
    index = pd.DatetimeIndex([s.timestamp for s in rows], name="timestamp")
    weights = pd.DataFrame([s.portfolio.weights for s in rows if s.portfolio], index=index)
    pnl = pd.DataFrame([s.portfolio.pnl_by_symbol for s in rows if s.portfolio], index=index)
    return weights.fillna(0.0), pnl.fillna(0.0)


def get_portfolio_info(steps: Sequence[StepRecord], *, top: int = 10) -> PortfolioInfo:
    """Compute the weights and contributions of a portfolio run's steps (see module docstring).

    Args:
        steps: The run's step records, in order.
        top: How many symbols to show by name.

    Raises:
        ConfigError: If the steps are not a portfolio run's, or ``top`` < 1.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be an int >= 1, got {top!r}.")
    weights, pnl = portfolio_frames(steps)
    rows = [s for s in steps if s.portfolio is not None]
    start = rows[0].equity - rows[0].pnl
    if not start > 0:
        raise ConfigError(f"the run starts with equity {start!r}; contributions need it > 0.")
    names = sorted(set(weights.columns) | set(pnl.columns))
    weights = weights.reindex(columns=names, fill_value=0.0)
    pnl = pnl.reindex(columns=names, fill_value=0.0)
    order = weights.abs().mean().sort_values(ascending=False, kind="stable").index.tolist()
    shown, rest = order[:top], order[top:]
    w_cols = [weights[s].tolist() for s in shown]
    contrib = [float(pnl[s].sum()) / start for s in shown]
    labels = list(shown)
    if rest:
        labels.append("other")
        w_cols.append(weights[rest].sum(axis=1).tolist())
        contrib.append(float(pnl[rest].to_numpy().sum()) / start)
    net = weights.sum(axis=1).to_numpy()
    return PortfolioInfo(
        timestamps=list(weights.index),
        symbols=labels,
        weights=w_cols,
        cash=(1.0 - net).tolist(),
        contribution=[float(np.round(c, 12)) for c in contrib],
        total_return=rows[-1].equity / start - 1.0,
    )


def plot_weights(info: PortfolioInfo) -> go.Figure:
    """Stacked weights over time (cash on top)."""
    go = graph_objects()
    fig = go.Figure()
    for sym, w in zip(info.symbols, info.weights, strict=True):
        fig.add_trace(go.Scatter(x=info.timestamps, y=w, name=sym, stackgroup="w", mode="none"))
    fig.add_trace(go.Scatter(x=info.timestamps, y=info.cash, name="cash", stackgroup="w",
                             mode="none", fillcolor="rgba(180,180,180,0.4)"))  # fmt: skip
    fig.update_layout(title="Weights over time", yaxis_title="weight of equity",
                      template="plotly_white", height=380)  # fmt: skip
    return fig


def plot_contributions(info: PortfolioInfo) -> go.Figure:
    """Each symbol's contribution to the run's return (they add up to it)."""
    go = graph_objects()
    colors = ["#2ca02c" if c >= 0 else "#d62728" for c in info.contribution]
    fig = go.Figure(go.Bar(x=info.symbols, y=info.contribution, marker_color=colors))
    fig.update_layout(
        title=f"Contribution to return (total {info.total_return:+.2%})",
        yaxis_tickformat=".1%", template="plotly_white", height=340,
    )  # fmt: skip
    return fig
