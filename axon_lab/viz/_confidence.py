"""Confidence over time, with the decision threshold when given.

A step's confidence is its decision's confidence, or its analysis's when no decision was made;
steps with neither (a stage failed before analysis) are left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord
from axon_lab.viz._common import check_steps, graph_objects

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["ConfidenceInfo", "get_confidence_info", "plot_confidence"]

_ACTION_COLOURS = {"buy": "#1a9850", "sell": "#d73027", "hold": "#878787", "": "#762a83"}


class ConfidenceInfo(NamedTuple):
    """Everything :func:`plot_confidence` draws.

    Attributes:
        steps: Step numbers of the points.
        x: Step timestamps.
        confidence: Confidence in [0, 1].
        actions: The decision's action, or the analysis's when there was no decision.
        sources: The decision's source, or ``"analysis"`` when it came from the analysis.
        threshold: The decision threshold, or None.
    """

    steps: list[int]
    x: list[pd.Timestamp]
    confidence: list[float]
    actions: list[str]
    sources: list[str]
    threshold: float | None


def get_confidence_info(
    steps: Sequence[StepRecord], *, threshold: float | None = None
) -> ConfidenceInfo:
    """Collect each step's confidence for :func:`plot_confidence`.

    Args:
        steps: The run's steps, in any order.
        threshold: The policy's confidence threshold in [0, 1], drawn as a line; None for none.

    Returns:
        One point per step that carries a decision or an analysis, ordered by step.

    Raises:
        ConfigError: If the steps are unusable, none carries a confidence, or the threshold is
            outside [0, 1].

    Examples:
        >>> from datetime import UTC, datetime
        >>> from axon_lab.records import Decision, StepRecord
        >>> d = Decision(action="hold", symbol="X", confidence=0.3, source="rules")
        >>> s = StepRecord(run_id="r", step=0, timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        ...                observation_digest="d", decision=d, equity=1.0, pnl=0.0)
        >>> get_confidence_info([s], threshold=0.6)[2:]
        ([0.3], ['hold'], ['rules'], 0.6)
    """
    ordered = check_steps(steps)
    if threshold is not None and not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
        raise ConfigError(
            f"threshold must be in [0, 1] (a confidence), got {threshold!r}; pass e.g. the "
            "policy's min_confidence, or None for no line."
        )
    info = ConfidenceInfo([], [], [], [], [], None if threshold is None else float(threshold))
    for s in ordered:
        if s.decision is not None:
            conf, action, source = s.decision.confidence, s.decision.action, s.decision.source
            src = str(source.value)
        elif s.analysis is not None:
            conf, action, src = s.analysis.confidence, s.analysis.action, "analysis"
        else:
            continue
        info.steps.append(s.step)
        info.x.append(pd.Timestamp(s.timestamp))
        info.confidence.append(conf)
        info.actions.append(str(action.value))
        info.sources.append(src)
    if not info.steps:
        raise ConfigError(
            f"None of the {len(ordered)} steps carries a decision or an analysis (every step "
            "failed before analysing), so there is no confidence to plot; check the steps' "
            "failed_stage and error."
        )
    return info


def plot_confidence(steps: Sequence[StepRecord], *, threshold: float | None = None) -> go.Figure:
    """Plot each step's confidence over time, coloured by action, with the threshold line.

    Args:
        steps: The run's steps.
        threshold: The decision threshold in [0, 1], or None.

    Returns:
        A plotly figure with a ``Scatter`` named ``confidence`` and, when a threshold is given,
        a two-point ``Scatter`` named ``threshold`` spanning the same time range.

    Raises:
        ConfigError: As :func:`get_confidence_info`.
    """
    info = get_confidence_info(steps, threshold=threshold)
    go = graph_objects()
    fig = go.Figure()
    hover = [
        f"step {n}<br>action: {a}<br>source: {src}<br>confidence: {c:.2f}"
        for n, a, src, c in zip(
            info.steps, info.actions, info.sources, info.confidence, strict=True
        )
    ]
    fig.add_trace(
        go.Scatter(
            x=info.x,
            y=info.confidence,
            mode="lines+markers",
            name="confidence",
            line={"color": "#bababa"},
            marker={"color": [_ACTION_COLOURS.get(a, _ACTION_COLOURS[""]) for a in info.actions]},
            text=hover,
            hovertemplate="%{text}<extra></extra>",
        )
    )
    if info.threshold is not None:
        fig.add_trace(
            go.Scatter(
                x=[info.x[0], info.x[-1]],
                y=[info.threshold, info.threshold],
                mode="lines",
                name="threshold",
                line={"dash": "dash", "color": "#000000"},
            )
        )
    fig.update_layout(title="Confidence over time", yaxis={"title": "confidence", "range": [0, 1]})
    return fig
