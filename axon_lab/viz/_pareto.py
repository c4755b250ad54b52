"""Pareto fronts of multi-objective results: points, trials, or an Optuna study.

A point is on the front when no other point is at least as good in every objective and strictly
better in one (objectives to ``"maximize"`` are compared negated). Equal points do not dominate
each other, so duplicates on the front are all kept. Optuna is never imported here: a study is
anything with ``trials`` and ``directions`` (``study.metric_names`` is used for names when set),
and a trial anything with ``number`` and ``values`` (and, optionally, a ``state`` whose ``name``
must be ``"COMPLETE"``; other trials are skipped).

With more than two objectives the front is computed over all of them and drawn on the two chosen
by ``axes``; a front point may then look dominated in that projection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from axon_lab.errors import ConfigError
from axon_lab.viz._common import graph_objects

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["ParetoFrontInfo", "get_pareto_front_info", "pareto_mask", "plot_pareto_front"]

_DIRECTIONS = ("minimize", "maximize")


class ParetoFrontInfo(NamedTuple):
    """Everything :func:`plot_pareto_front` draws.

    Attributes:
        names: Objective names.
        directions: ``"minimize"`` or ``"maximize"`` per objective.
        axes: The two objectives drawn, as indices into ``names``.
        labels: One label per point (``"trial 7"``, or ``"point 3"`` for bare values).
        values: The objective values of each point.
        on_front: Whether each point is on the Pareto front.
        front: Indices of the front points, sorted by the first drawn objective.
    """

    names: list[str]
    directions: list[str]
    axes: tuple[int, int]
    labels: list[str]
    values: list[tuple[float, ...]]
    on_front: list[bool]
    front: list[int]


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Mark the non-dominated rows of a ``(n_points, n_objectives)`` array.

    Args:
        values: Objective values, one row per point.
        directions: ``"minimize"`` or ``"maximize"`` per column.

    Returns:
        A boolean array, True for rows on the Pareto front.

    Examples:
        >>> pts = np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [4.0, 1.0]])
        >>> pareto_mask(pts, ["minimize", "minimize"]).tolist()
        [True, True, False, True]
    """
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    m = values * sign
    no_worse = (m[:, None, :] <= m[None, :, :]).all(axis=2)  # [j, i]: j no worse than i
    better = (m[:, None, :] < m[None, :, :]).any(axis=2)
    return np.asarray(~(no_worse & better).any(axis=0), dtype=bool)


def _is_study(source: Any) -> bool:
    return hasattr(source, "trials") and hasattr(source, "directions")


def _is_trial(item: Any) -> bool:
    return hasattr(item, "number") and hasattr(item, "values")


def _direction_names(raw: Sequence[Any]) -> list[str]:
    out = []
    for d in raw:
        name = str(getattr(d, "name", d)).lower()
        if name not in _DIRECTIONS:
            raise ConfigError(
                f"direction {d!r} is neither 'minimize' nor 'maximize'; pass directions="
                "['maximize', 'minimize'], one per objective."
            )
        out.append(name)
    return out


def _collect(items: Sequence[Any]) -> tuple[list[str], list[tuple[float, ...]]]:
    labels: list[str] = []
    values: list[tuple[float, ...]] = []
    for i, item in enumerate(items):
        if _is_trial(item):
            state = getattr(item, "state", None)
            if state is not None and getattr(state, "name", "COMPLETE") != "COMPLETE":
                continue
            if item.values is None:
                continue
            label, raw = f"trial {item.number}", item.values
        else:
            label, raw = f"point {i}", item
        try:
            point = tuple(float(v) for v in raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{label} is {raw!r}, not a sequence of numbers; pass one tuple of objective "
                "values per point, or Optuna trials."
            ) from exc
        if not np.isfinite(point).all():
            raise ConfigError(
                f"{label} has non-finite objective values {point}; drop it before plotting."
            )
        labels.append(label)
        values.append(point)
    return labels, values


def get_pareto_front_info(
    source: Any,
    *,
    directions: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    axes: tuple[int, int] = (0, 1),
) -> ParetoFrontInfo:
    """Find the Pareto front of multi-objective results, for :func:`plot_pareto_front`.

    Args:
        source: A multi-objective Optuna study (all its complete trials are drawn), a sequence
            of trials (e.g. ``study.best_trials``), or a sequence of value tuples.
        directions: ``"minimize"``/``"maximize"`` per objective; required unless ``source`` is
            a study (then it must match the study's, if given).
        names: Objective names; default ``study.metric_names`` or ``"objective i"``.
        axes: The two objectives to draw.

    Returns:
        All points, which of them are on the front, and the front in drawing order.

    Raises:
        ConfigError: For no complete points, ragged or non-numeric values, fewer than two
            objectives, missing or mismatched directions or names, or bad ``axes``.

    Examples:
        >>> info = get_pareto_front_info([(0.1, 2.0), (0.3, 1.0), (0.2, 0.5)],
        ...                              directions=["maximize", "minimize"])
        >>> info.on_front, info.front
        ([False, True, True], [2, 1])
    """
    study_names: Sequence[str] | None = None
    if _is_study(source):
        study_dirs = _direction_names(source.directions)
        if directions is not None and _direction_names(directions) != study_dirs:
            raise ConfigError(
                f"directions={list(directions)} differ from the study's {study_dirs}; "
                "omit directions= for a study."
            )
        directions = study_dirs
        study_names = getattr(source, "metric_names", None)
        items = list(source.trials)
    elif isinstance(source, str | bytes) or not isinstance(source, Sequence | np.ndarray):
        raise ConfigError(
            f"source must be an Optuna study, a sequence of trials or of value tuples, got "
            f"{type(source).__name__}."
        )
    else:
        items = list(source)
    labels, values = _collect(items)
    if not values:
        raise ConfigError(
            "There are no complete points to plot; finish some trials (state COMPLETE) or "
            "pass value tuples."
        )
    k = len(values[0])
    ragged = next((lab for lab, v in zip(labels, values, strict=True) if len(v) != k), None)
    if ragged is not None:
        raise ConfigError(f"{ragged} has a different number of objectives than the first ({k}).")
    if k < 2:
        raise ConfigError(f"A Pareto front needs at least two objectives; the points have {k}.")
    if directions is None:
        raise ConfigError(
            f"directions is required for {k} objectives; pass e.g. directions="
            f"{['maximize'] + ['minimize'] * (k - 1)}."
        )
    dirs = _direction_names(directions)
    obj_names = list(names or study_names or [f"objective {i}" for i in range(k)])
    if len(dirs) != k or len(obj_names) != k:
        raise ConfigError(
            f"The points have {k} objectives but {len(dirs)} directions and {len(obj_names)} "
            "names were given; pass one of each per objective."
        )
    a, b = axes
    if not (0 <= a < k and 0 <= b < k and a != b):
        raise ConfigError(f"axes must be two different objective indices in [0, {k}), got {axes}.")
    arr = np.array(values, dtype=np.float64)
    mask = pareto_mask(arr, dirs)
    front = sorted(np.flatnonzero(mask).tolist(), key=lambda i: (arr[i, a], arr[i, b]))
    return ParetoFrontInfo(
        names=[str(n) for n in obj_names],
        directions=dirs,
        axes=(a, b),
        labels=labels,
        values=values,
        on_front=mask.tolist(),
        front=front,
    )


def plot_pareto_front(
    source: Any,
    *,
    directions: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    axes: tuple[int, int] = (0, 1),
) -> go.Figure:
    """Plot all points and the Pareto front over two objectives.

    Args:
        source: An Optuna study, a sequence of trials, or a sequence of value tuples.
        directions: Per objective, ``"minimize"`` or ``"maximize"`` (see
            :func:`get_pareto_front_info`).
        names: Objective names.
        axes: The two objectives to draw.

    Returns:
        A plotly figure with a ``Scatter`` named ``dominated`` (points off the front; omitted
        when there are none) and a ``Scatter`` named ``Pareto front`` (markers joined in order).

    Raises:
        ConfigError: As :func:`get_pareto_front_info`.
    """
    info = get_pareto_front_info(source, directions=directions, names=names, axes=axes)
    go = graph_objects()
    a, b = info.axes

    def hover(i: int) -> str:
        parts = (
            f"{n} ({d}): {v:.6g}"
            for n, d, v in zip(info.names, info.directions, info.values[i], strict=True)
        )
        return "<br>".join([info.labels[i], *parts])

    fig = go.Figure()
    off = [i for i, on in enumerate(info.on_front) if not on]
    if off:
        fig.add_trace(
            go.Scatter(
                x=[info.values[i][a] for i in off],
                y=[info.values[i][b] for i in off],
                mode="markers",
                name="dominated",
                marker={"color": "#bababa"},
                text=[hover(i) for i in off],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[info.values[i][a] for i in info.front],
            y=[info.values[i][b] for i in info.front],
            mode="lines+markers",
            name="Pareto front",
            marker={"color": "#d73027", "size": 9},
            text=[hover(i) for i in info.front],
            hovertemplate="%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Pareto front",
        xaxis_title=f"{info.names[a]} ({info.directions[a]})",
        yaxis_title=f"{info.names[b]} ({info.directions[b]})",
    )
    return fig
