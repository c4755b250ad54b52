"""Risk rejections by rule over time: counts per rule per time bucket, as stacked bars.

A rejection is a :class:`~axon_lab.records.RiskVerdict` with ``approved=False``; it is counted in
the bucket of its own timestamp, floored to the bucket width (buckets are aligned to the Unix
epoch, like ``Timestamp.floor``). Only buckets holding at least one rejection are listed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord
from axon_lab.viz._common import check_steps, graph_objects

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["RejectionsInfo", "get_rejections_info", "plot_rejections"]

_LADDER = ("1min", "5min", "15min", "1h", "4h", "1D", "7D", "30D")
"""Bucket widths tried in order when none is given; the first that fits ``max_buckets`` wins."""


class RejectionsInfo(NamedTuple):
    """Everything :func:`plot_rejections` draws.

    Attributes:
        freq: The bucket width.
        buckets: Start of each bucket holding a rejection, in time order.
        rules: Rule names, most frequent first (ties by name).
        counts: Rule -> rejections per bucket (aligned with ``buckets``).
        lines: Rule -> the defence lines (``safety_mode``, ``limit``, ...) it rejected on.
        total: Number of rejections.
    """

    freq: pd.Timedelta
    buckets: list[pd.Timestamp]
    rules: list[str]
    counts: dict[str, list[int]]
    lines: dict[str, list[str]]
    total: int


def _parse_freq(freq: str | pd.Timedelta) -> pd.Timedelta:
    try:
        width = pd.Timedelta(freq)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"freq {freq!r} is not a fixed duration; pass e.g. '15min', '1h' or '1D'."
        ) from exc
    if width <= pd.Timedelta(0):
        raise ConfigError(f"freq must be a positive duration, got {freq!r}.")
    return width


def _auto_freq(first: pd.Timestamp, last: pd.Timestamp, max_buckets: int) -> pd.Timedelta:
    span = last - first
    for label in _LADDER:
        width = pd.Timedelta(label)
        if span // width + 2 <= max_buckets:  # a span can straddle one more boundary
            return width
    days = math.ceil(span / pd.Timedelta("1D") / max(max_buckets - 2, 1))
    return pd.Timedelta(days=days)


def get_rejections_info(
    steps: Sequence[StepRecord],
    *,
    freq: str | pd.Timedelta | None = None,
    max_buckets: int = 60,
) -> RejectionsInfo:
    """Count the run's rejections per rule and time bucket, for :func:`plot_rejections`.

    Args:
        steps: The run's steps.
        freq: Bucket width (a fixed duration such as ``"1h"``); None picks the narrowest of
            1min, 5min, 15min, 1h, 4h, 1D, 7D, 30D that splits the run's span into at most
            ``max_buckets`` buckets (else whole days).
        max_buckets: Most buckets the automatic width may produce (>= 2).

    Returns:
        The counts; empty lists and ``total == 0`` when nothing was rejected.

    Raises:
        ConfigError: If the steps are unusable, or ``freq``/``max_buckets`` is invalid.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from axon_lab.records import RiskVerdict, StepRecord
        >>> t = datetime(2024, 1, 1, 9, 30, tzinfo=UTC)
        >>> no = RiskVerdict(approved=False, line="limit", rule="max_position", timestamp=t)
        >>> s = StepRecord(run_id="r", step=0, timestamp=t, observation_digest="d",
        ...                verdicts=(no,), equity=1.0, pnl=0.0)
        >>> info = get_rejections_info([s], freq="1h")
        >>> str(info.buckets[0]), info.counts
        ('2024-01-01 09:00:00+00:00', {'max_position': [1]})
    """
    ordered = check_steps(steps)
    if not isinstance(max_buckets, int) or max_buckets < 2:
        raise ConfigError(f"max_buckets must be an int >= 2, got {max_buckets!r}.")
    rejections = [v for s in ordered for v in s.rejections]
    if freq is not None:
        width = _parse_freq(freq)
    else:
        stamps = [pd.Timestamp(s.timestamp) for s in ordered]
        stamps += [pd.Timestamp(v.timestamp) for v in rejections]
        width = _auto_freq(min(stamps), max(stamps), max_buckets)
    if not rejections:
        return RejectionsInfo(width, [], [], {}, {}, 0)
    keyed = [(pd.Timestamp(v.timestamp).floor(width), v.rule, v.line.value) for v in rejections]
    buckets = sorted({b for b, _, _ in keyed})
    totals = Counter(rule for _, rule, _ in keyed)
    rules = sorted(totals, key=lambda r: (-totals[r], r))
    per_cell = Counter((b, rule) for b, rule, _ in keyed)
    return RejectionsInfo(
        freq=width,
        buckets=buckets,
        rules=rules,
        counts={r: [per_cell[(b, r)] for b in buckets] for r in rules},
        lines={r: sorted({line for _, rule, line in keyed if rule == r}) for r in rules},
        total=len(keyed),
    )


def plot_rejections(
    steps: Sequence[StepRecord],
    *,
    freq: str | pd.Timedelta | None = None,
    max_buckets: int = 60,
) -> go.Figure:
    """Plot rejections per time bucket as bars stacked by rule.

    Args:
        steps: The run's steps.
        freq: Bucket width, or None to choose one (see :func:`get_rejections_info`).
        max_buckets: Most buckets the automatic width may produce.

    Returns:
        A plotly figure with one ``Bar`` trace per rule (named after the rule), stacked; with no
        rejections, no traces and a "no rejections" annotation.

    Raises:
        ConfigError: As :func:`get_rejections_info`.
    """
    info = get_rejections_info(steps, freq=freq, max_buckets=max_buckets)
    go = graph_objects()
    fig = go.Figure()
    for rule in info.rules:
        lines = ", ".join(info.lines[rule])
        fig.add_trace(
            go.Bar(
                x=info.buckets,
                y=info.counts[rule],
                name=rule,
                hovertemplate=f"{rule} ({lines})<br>%{{x}}: %{{y}}<extra></extra>",
            )
        )
    if not info.total:
        fig.add_annotation(
            text="no rejections", xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False
        )
    fig.update_layout(
        barmode="stack",
        title=f"Rejections by rule per {info.freq} ({info.total} in total)",
        yaxis_title="rejections",
        legend_title="rule",
    )
    return fig
