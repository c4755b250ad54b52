"""Equity and drawdown against buy-and-hold: two rows sharing the time axis.

Drawdown is ``equity / running peak - 1`` (0 at a new high, negative below it). The benchmark
buys at the close of the bar the first equity point is placed on and holds: ``initial_equity *
close(t) / close(t0)``, where each equity timestamp is placed on the latest bar that opened at or
before it (for a backtest's equity, which is indexed by the bars themselves, that is the same
bar).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord
from axon_lab.viz._common import (
    align_to_bars,
    check_bar_frame,
    check_steps,
    graph_objects,
    make_subplots,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["EquityInfo", "drawdown", "get_equity_info", "plot_equity"]

EquityLike = Sequence[StepRecord] | pd.Series | pd.DataFrame
"""Step records (equity after each step), an equity Series, or a one-column equity frame."""


class EquityInfo(NamedTuple):
    """Everything :func:`plot_equity` draws.

    Attributes:
        x: Time of each equity point.
        equity: Equity values.
        drawdown: ``equity / running peak - 1`` at each point.
        initial_equity: The capital both curves start from.
        benchmark: Buy-and-hold equity at each point (empty when no prices were given).
        benchmark_drawdown: Drawdown of the benchmark (empty when no prices were given).
    """

    x: list[pd.Timestamp]
    equity: list[float]
    drawdown: list[float]
    initial_equity: float
    benchmark: list[float]
    benchmark_drawdown: list[float]


def drawdown(values: np.ndarray) -> np.ndarray:
    """Drawdown from the running peak, ``values / peak - 1``, for positive values.

    Args:
        values: A 1-D array of positive equity values.

    Returns:
        An array of the same length, 0 at new highs and negative below them.

    Examples:
        >>> drawdown(np.array([100.0, 120.0, 90.0, 130.0])).tolist()
        [0.0, 0.0, -0.25, 0.0]
    """
    return values / np.maximum.accumulate(values) - 1.0


def _from_steps(steps: Sequence[StepRecord]) -> tuple[pd.DatetimeIndex, np.ndarray, float]:
    ordered = check_steps(steps, what="equity")
    x = pd.DatetimeIndex([pd.Timestamp(s.timestamp) for s in ordered])
    values = np.array([s.equity for s in ordered], dtype=np.float64)
    return x, values, ordered[0].equity - ordered[0].pnl


def _from_series(equity: pd.Series | pd.DataFrame) -> tuple[pd.DatetimeIndex, np.ndarray, float]:
    if isinstance(equity, pd.DataFrame):
        if equity.shape[1] != 1:
            raise ConfigError(
                f"equity is a frame with {equity.shape[1]} columns {list(equity.columns)}; "
                "pass one column, e.g. result.equity[column]."
            )
        equity = equity.iloc[:, 0]
    if not isinstance(equity.index, pd.DatetimeIndex) or equity.index.tz is None:
        raise ConfigError(
            "equity needs a timezone-aware DatetimeIndex, got "
            f"{type(equity.index).__name__}; index it by UTC timestamps."
        )
    if len(equity) == 0:
        raise ConfigError("equity is empty; pass at least one equity value.")
    if not equity.index.is_monotonic_increasing:
        raise ConfigError("equity's index is not sorted; sort it with equity.sort_index().")
    values = equity.to_numpy(dtype=np.float64, na_value=np.nan)
    return equity.index, values, float(values[0])


def _benchmark(close: pd.DataFrame | pd.Series, x: pd.DatetimeIndex, initial: float) -> np.ndarray:
    if isinstance(close, pd.Series):
        close = close.to_frame("close")
    check_bar_frame(close, ("close",), what="close")
    prices = close["close"].to_numpy(dtype=np.float64, na_value=np.nan)
    pos = align_to_bars(pd.DatetimeIndex(close.index), list(x), what="an equity point")
    aligned = prices[pos]
    if not (np.isfinite(aligned).all() and (aligned > 0).all()):
        raise ConfigError(
            "close has missing or non-positive prices on the bars the equity points fall on; "
            "validate the frame with axon_lab.data.validate_ohlcv(...)."
        )
    return np.asarray(initial * aligned / aligned[0], dtype=np.float64)


def get_equity_info(
    equity: EquityLike,
    close: pd.DataFrame | pd.Series | None = None,
    *,
    initial_equity: float | None = None,
) -> EquityInfo:
    """Compute the equity, drawdown and buy-and-hold curves of :func:`plot_equity`.

    Args:
        equity: The run's steps (their ``equity`` after each step), or an equity Series (or a
            one-column frame such as ``BacktestResult.equity``) with a UTC DatetimeIndex.
        close: The bars (a frame with a ``close`` column) or a close Series, for buy-and-hold;
            None draws no benchmark.
        initial_equity: The capital the benchmark starts from. Defaults to the equity before
            the first step (``equity - pnl`` of the first step) for steps, and the first value
            for a Series.

    Returns:
        The curves, one value per equity point.

    Raises:
        ConfigError: For empty or unsorted input, non-positive or non-finite equity, or prices
            that do not cover the equity's period.

    Examples:
        >>> idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
        >>> info = get_equity_info(pd.Series([100.0, 75.0, 120.0], index=idx),
        ...                        pd.Series([10.0, 11.0, 9.0], index=idx))
        >>> info.drawdown, info.benchmark
        ([0.0, -0.25, 0.0], [100.0, 110.0, 90.0])
    """
    if isinstance(equity, pd.Series | pd.DataFrame):
        x, values, initial = _from_series(equity)
    else:
        x, values, initial = _from_steps(equity)
    if initial_equity is not None:
        initial = float(initial_equity)
    if not (np.isfinite(values).all() and (values > 0).all()):
        bad = float(values[~(np.isfinite(values) & (values > 0))][0])
        raise ConfigError(
            f"equity holds {bad!r}; drawdown needs finite, positive equity. Drop missing points "
            "(equity.dropna()) or plot a run that did not go bust."
        )
    if not (np.isfinite(initial) and initial > 0):
        raise ConfigError(f"initial_equity must be finite and > 0, got {initial!r}.")
    bench = np.empty(0) if close is None else _benchmark(close, x, initial)
    return EquityInfo(
        x=list(x),
        equity=values.tolist(),
        drawdown=drawdown(values).tolist(),
        initial_equity=initial,
        benchmark=bench.tolist(),
        benchmark_drawdown=drawdown(bench).tolist() if bench.size else [],
    )


def plot_equity(
    equity: EquityLike,
    close: pd.DataFrame | pd.Series | None = None,
    *,
    initial_equity: float | None = None,
) -> go.Figure:
    """Plot equity over buy-and-hold (top row) and their drawdowns (bottom row), shared x.

    Args:
        equity: Steps, an equity Series or a one-column equity frame (see
            :func:`get_equity_info`).
        close: Bars or a close Series for the buy-and-hold benchmark; None to omit it.
        initial_equity: The benchmark's starting capital (see :func:`get_equity_info`).

    Returns:
        A two-row plotly figure with ``Scatter`` traces ``equity`` and ``buy & hold`` (row 1),
        ``drawdown`` and ``buy & hold drawdown`` (row 2); the benchmark traces only with
        ``close``.

    Raises:
        ConfigError: As :func:`get_equity_info`.
    """
    info = get_equity_info(equity, close, initial_equity=initial_equity)
    go = graph_objects()
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3])
    fig.add_trace(go.Scatter(x=info.x, y=info.equity, mode="lines", name="equity"), row=1, col=1)
    if info.benchmark:
        fig.add_trace(
            go.Scatter(x=info.x, y=info.benchmark, mode="lines", name="buy & hold",
                       line={"dash": "dot"}),
            row=1, col=1,
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=info.x, y=info.drawdown, mode="lines", name="drawdown", fill="tozeroy"),
        row=2, col=1,
    )  # fmt: skip
    if info.benchmark_drawdown:
        fig.add_trace(
            go.Scatter(x=info.x, y=info.benchmark_drawdown, mode="lines",
                       name="buy & hold drawdown", line={"dash": "dot"}),
            row=2, col=1,
        )  # fmt: skip
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="drawdown", tickformat=".0%", row=2, col=1)
    fig.update_layout(title="Equity and drawdown", hovermode="x unified")
    return fig
