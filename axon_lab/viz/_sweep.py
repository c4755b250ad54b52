"""Sweep heatmaps: one metric over two parameter columns of a tidy sweep frame.

The input is what :func:`axon_lab.backtest.sweep` returns (and any frame shaped like it): one row
per parameter set, parameter columns and statistic columns. The rows are grouped by the ``(y, x)``
pair and ``metric`` is aggregated per cell with ``agg``. When other parameters vary too, several
rows fall in one cell: the cell then shows the ``agg`` (by default the mean) over those rows, the
figure's title says so, and :attr:`SweepHeatmapInfo.n_rows` holds the count per cell. To look at
one slice instead, pin the other parameters with ``fixed={"name": value}``. Missing values of the
metric are skipped by the aggregation; a cell with no rows (or only missing values) is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.viz._common import graph_objects, unknown_column

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["SWEEP_AGGREGATIONS", "SweepHeatmapInfo", "get_sweep_heatmap_info", "plot_sweep_heatmap"]

SWEEP_AGGREGATIONS: tuple[str, ...] = ("mean", "median", "min", "max")
"""How rows sharing a heatmap cell can be combined."""


class SweepHeatmapInfo(NamedTuple):
    """Everything :func:`plot_sweep_heatmap` draws.

    Attributes:
        x: Name of the x parameter column.
        y: Name of the y parameter column.
        metric: Name of the metric column.
        agg: The aggregation applied per cell.
        x_values: Distinct x values, sorted (in order of appearance if they do not sort).
        y_values: Distinct y values, sorted likewise.
        z: ``z[i][j]`` is the aggregated metric at ``y_values[i]``, ``x_values[j]`` (NaN if
            none).
        n_rows: ``n_rows[i][j]`` is the number of sweep rows in that cell.
        varying: Other columns whose value differs inside at least one cell (what ``agg``
            averages over); restricted to ``params`` when given.
    """

    x: str
    y: str
    metric: str
    agg: str
    x_values: list[Any]
    y_values: list[Any]
    z: list[list[float]]
    n_rows: list[list[int]]
    varying: list[str]


def _distinct(values: pd.Series) -> list[Any]:
    uniq = values.drop_duplicates().tolist()
    try:
        return sorted(uniq)
    except TypeError:
        return uniq


def _apply_fixed(frame: pd.DataFrame, fixed: Mapping[str, Any]) -> pd.DataFrame:
    for name, value in fixed.items():
        if name not in frame.columns:
            raise unknown_column("fixed", name, frame.columns)
        kept = frame[frame[name] == value]
        if kept.empty:
            raise ConfigError(
                f"fixed={{{name!r}: {value!r}}} matches no row; {name!r} takes the values "
                f"{_distinct(frame[name])}."
            )
        frame = kept
    return frame


def get_sweep_heatmap_info(
    sweep: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    *,
    agg: str = "mean",
    fixed: Mapping[str, Any] | None = None,
    params: Sequence[str] | None = None,
) -> SweepHeatmapInfo:
    """Pivot a tidy sweep frame into the ``y`` x ``x`` grid of ``metric`` values.

    Args:
        sweep: One row per parameter set (e.g. ``axon_lab.backtest.sweep(...)``).
        x: Parameter column for the horizontal axis.
        y: Parameter column for the vertical axis.
        metric: Numeric column to colour the cells by (e.g. ``"sharpe"``).
        agg: How rows sharing a cell are combined: one of :data:`SWEEP_AGGREGATIONS`.
        fixed: Column -> value; keep only rows with these values before pivoting.
        params: The sweep's parameter columns, used to report which ones vary inside a cell;
            None considers every other column.

    Returns:
        The grid, its counts and the columns aggregated over.

    Raises:
        ConfigError: If a named column is missing (the message lists the available ones), x and
            y are the same, the metric is not numeric, ``agg`` is unknown, or ``fixed`` leaves no
            rows.

    Examples:
        >>> sweep = pd.DataFrame({"fast": [5, 5, 10, 10], "slow": [20, 50, 20, 50],
        ...                       "sharpe": [0.5, 1.0, 1.5, -0.5]})
        >>> info = get_sweep_heatmap_info(sweep, "fast", "slow", "sharpe")
        >>> info.x_values, info.y_values, info.z
        ([5, 10], [20, 50], [[0.5, 1.5], [1.0, -0.5]])
    """
    if not isinstance(sweep, pd.DataFrame):
        raise ConfigError(
            f"sweep must be a pandas DataFrame (one row per parameter set), got "
            f"{type(sweep).__name__}; pass the frame returned by axon_lab.backtest.sweep(...)."
        )
    for role, name in (("x", x), ("y", y), ("metric", metric)):
        if name not in sweep.columns:
            raise unknown_column(role, name, sweep.columns)
    if len({x, y, metric}) < 3:
        raise ConfigError(
            f"x={x!r}, y={y!r} and metric={metric!r} must be three different columns."
        )
    if agg not in SWEEP_AGGREGATIONS:
        raise ConfigError(f"agg must be one of {list(SWEEP_AGGREGATIONS)}, got {agg!r}.")
    series = sweep[metric]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise ConfigError(
            f"metric column {metric!r} has dtype {series.dtype}, not a number; pick a numeric "
            "statistic such as 'sharpe' or 'total_return'."
        )
    if sweep.empty:
        raise ConfigError("sweep has no rows; run the sweep over a non-empty grid first.")
    for name in params or ():
        if name not in sweep.columns:
            raise unknown_column("params", name, sweep.columns)
    frame = _apply_fixed(sweep, fixed or {})
    x_values, y_values = _distinct(frame[x]), _distinct(frame[y])
    grouped = frame.groupby([y, x], sort=False, dropna=False)
    values = grouped[metric].agg(agg)
    counts = grouped.size()
    z = np.full((len(y_values), len(x_values)), np.nan)
    n = np.zeros((len(y_values), len(x_values)), dtype=np.int64)
    y_pos = {_key(v): i for i, v in enumerate(y_values)}
    x_pos = {_key(v): j for j, v in enumerate(x_values)}
    cells = zip(
        values.index.tolist(),
        values.to_numpy(dtype=np.float64).tolist(),
        counts.reindex(values.index).to_numpy().tolist(),
        strict=True,
    )
    for (yv, xv), value, count in cells:
        i, j = y_pos[_key(yv)], x_pos[_key(xv)]
        z[i, j] = value
        n[i, j] = count
    pinned = {x, y, metric, *(fixed or {})}
    candidates = [c for c in (params if params is not None else sweep.columns) if c not in pinned]
    varying = [str(c) for c in candidates if (grouped[c].nunique(dropna=False) > 1).any()]
    return SweepHeatmapInfo(
        x=x,
        y=y,
        metric=metric,
        agg=agg,
        x_values=x_values,
        y_values=y_values,
        z=z.tolist(),
        n_rows=n.tolist(),
        varying=varying,
    )


def _key(value: Hashable) -> Hashable:
    # NaN != NaN, so a NaN parameter value needs one stable key to be found again.
    return "__nan__" if isinstance(value, float) and math.isnan(value) else value


def plot_sweep_heatmap(
    sweep: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    *,
    agg: str = "mean",
    fixed: Mapping[str, Any] | None = None,
    params: Sequence[str] | None = None,
) -> go.Figure:
    """Plot ``metric`` as a heatmap over the ``x`` and ``y`` parameters of a sweep.

    Args:
        sweep: One row per parameter set.
        x: Parameter column for the horizontal axis.
        y: Parameter column for the vertical axis.
        metric: Numeric column to colour the cells by.
        agg: How rows sharing a cell are combined (see the module docstring).
        fixed: Column -> value filter applied first.
        params: The sweep's parameter columns (only for reporting what varies).

    Returns:
        A plotly figure with one ``Heatmap`` trace named after the metric; parameter values are
        shown as categories, so uneven grids get even cells.

    Raises:
        ConfigError: As :func:`get_sweep_heatmap_info`.
    """
    info = get_sweep_heatmap_info(sweep, x, y, metric, agg=agg, fixed=fixed, params=params)
    go = graph_objects()
    fig = go.Figure(
        go.Heatmap(
            x=[str(v) for v in info.x_values],
            y=[str(v) for v in info.y_values],
            z=info.z,
            customdata=info.n_rows,
            name=metric,
            colorbar={"title": {"text": metric}},
            hovertemplate=(
                f"{x}=%{{x}}<br>{y}=%{{y}}<br>{metric}=%{{z:.4g}}<br>rows: %{{customdata}}"
                "<extra></extra>"
            ),
        )
    )
    most = max((c for row in info.n_rows for c in row), default=0)
    title = f"{metric} by {x} and {y}"
    if most > 1:
        over = f" ({', '.join(info.varying)} vary)" if info.varying else ""
        title += f": {agg} over up to {most} rows per cell{over}"
    fig.update_layout(
        title=title,
        xaxis={"title": x, "type": "category"},
        yaxis={"title": y, "type": "category"},
    )
    return fig
