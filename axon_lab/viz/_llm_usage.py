"""LLM latency and cost per step, from each step's ``Analysis.llm_calls``.

Latency and cost are summed over a step's calls and split into live calls and cache hits, so a
replayed run shows up as cache-hit bars (near-zero latency, no cost). Steps without an analysis
(or whose analyst made no call, e.g. a rules analyst) count as zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord
from axon_lab.viz._common import check_steps, graph_objects, make_subplots

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["LLMUsageInfo", "get_llm_usage_info", "plot_llm_usage"]


class LLMUsageInfo(NamedTuple):
    """Everything :func:`plot_llm_usage` draws, one entry per step.

    Attributes:
        steps: Step numbers.
        x: Step timestamps.
        n_calls: LLM calls made by the step's analysis.
        n_cache_hits: Of those, calls answered from the record/replay cache.
        n_errors: Of those, calls that recorded an error.
        latency_live: Summed latency of live calls, in seconds.
        latency_cached: Summed latency of cache hits, in seconds.
        cost_live: Summed cost of live calls.
        cost_cached: Summed cost of cache hits.
        tokens_in: Summed prompt tokens.
        tokens_out: Summed completion tokens.
    """

    steps: list[int]
    x: list[pd.Timestamp]
    n_calls: list[int]
    n_cache_hits: list[int]
    n_errors: list[int]
    latency_live: list[float]
    latency_cached: list[float]
    cost_live: list[float]
    cost_cached: list[float]
    tokens_in: list[int]
    tokens_out: list[int]


def get_llm_usage_info(steps: Sequence[StepRecord]) -> LLMUsageInfo:
    """Sum each step's LLM latency, cost and tokens, split by cache hit, for the usage figure.

    Args:
        steps: The run's steps.

    Returns:
        One entry per step, ordered by step.

    Raises:
        ConfigError: If the steps are unusable or none of them made an LLM call.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from axon_lab.records import Analysis, LLMCall, StepRecord
        >>> calls = (LLMCall(model="m", request_hash="h1", tokens_in=10, tokens_out=2,
        ...                  latency_s=0.5, cost=0.01),
        ...          LLMCall(model="m", request_hash="h2", tokens_in=10, tokens_out=2,
        ...                  latency_s=0.25, cache_hit=True))
        >>> a = Analysis(thought="t", market_assessment="range", risk_assessment="low",
        ...              confidence=0.5, action="hold", source="llm", analyst="m",
        ...              llm_calls=calls)
        >>> s = StepRecord(run_id="r", step=0, timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        ...                observation_digest="d", analysis=a, equity=1.0, pnl=0.0)
        >>> info = get_llm_usage_info([s])
        >>> info.n_calls, info.n_cache_hits, info.latency_live, info.latency_cached
        ([2], [1], [0.5], [0.25])
    """
    ordered = check_steps(steps)
    info = LLMUsageInfo(*([] for _ in LLMUsageInfo._fields))
    for s in ordered:
        calls = s.analysis.llm_calls if s.analysis is not None else ()
        live = [c for c in calls if not c.cache_hit]
        hits = [c for c in calls if c.cache_hit]
        info.steps.append(s.step)
        info.x.append(pd.Timestamp(s.timestamp))
        info.n_calls.append(len(calls))
        info.n_cache_hits.append(len(hits))
        info.n_errors.append(sum(c.error is not None for c in calls))
        info.latency_live.append(math.fsum(c.latency_s for c in live))
        info.latency_cached.append(math.fsum(c.latency_s for c in hits))
        info.cost_live.append(math.fsum(c.cost for c in live))
        info.cost_cached.append(math.fsum(c.cost for c in hits))
        info.tokens_in.append(sum(c.tokens_in for c in calls))
        info.tokens_out.append(sum(c.tokens_out for c in calls))
    if not any(info.n_calls):
        raise ConfigError(
            f"None of the {len(ordered)} steps made an LLM call (rules or RL analysts make "
            "none), so there is no latency or cost to plot; pass the steps of an LLM run."
        )
    return info


def plot_llm_usage(steps: Sequence[StepRecord]) -> go.Figure:
    """Plot LLM latency (top) and cost (bottom) per step, live calls and cache hits stacked.

    Args:
        steps: The run's steps.

    Returns:
        A two-row plotly figure of ``Bar`` traces: ``latency (live)`` and ``latency (cache hit)``
        in row 1, ``cost (live)`` and ``cost (cache hit)`` in row 2, x = step number.

    Raises:
        ConfigError: As :func:`get_llm_usage_info`.
    """
    info = get_llm_usage_info(steps)
    go = graph_objects()
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True)
    hover = [
        f"step {n} at {t.isoformat()}<br>{c} call(s), {h} cache hit(s), {e} error(s)"
        f"<br>tokens {ti} in / {to} out"
        for n, t, c, h, e, ti, to in zip(
            info.steps, info.x, info.n_calls, info.n_cache_hits, info.n_errors,
            info.tokens_in, info.tokens_out, strict=True,
        )
    ]  # fmt: skip
    series = (
        ("latency (live)", info.latency_live, 1, "#2166ac", ".3f", "s"),
        ("latency (cache hit)", info.latency_cached, 1, "#92c5de", ".3f", "s"),
        ("cost (live)", info.cost_live, 2, "#b2182b", ".6f", ""),
        ("cost (cache hit)", info.cost_cached, 2, "#f4a582", ".6f", ""),
    )
    for name, values, row, colour, fmt, unit in series:
        fig.add_trace(
            go.Bar(
                x=info.steps,
                y=values,
                name=name,
                marker_color=colour,
                text=hover,
                hovertemplate=f"%{{text}}<br>{name}: %{{y:{fmt}}}{unit}<extra></extra>",
                textposition="none",
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(title_text="latency (s)", row=1, col=1)
    fig.update_yaxes(title_text="cost", row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_layout(barmode="stack", title="LLM latency and cost per step")
    return fig
