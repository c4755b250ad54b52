"""Runs side by side: a comparison table, an overlaid equity figure, and where two runs diverge.

* :func:`compare_runs` — one row per run: return, Sharpe, max drawdown, turnover, fees,
  rejections, LLM cost, abstentions and failed steps, with the figures' definitions from
  :func:`~axon_lab.explain.equity_stats`; buy-and-hold of the data beside them when a view is
  given. :func:`get_comparison_info` returns the equity curves for the figure (pure data), and
  :func:`plot_comparison` renders them with plotly.
* :func:`diff_runs` — walks two runs step by step and reports the first step where they differ,
  and in what: the observation the stage saw, the prompt sent to the model (its request hash),
  the model's response, the decision, a verdict, or a fill.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord

from ._stats import equity_stats, periods_per_year

if TYPE_CHECKING:
    import pandas as pd

    from axon_lab.data import MarketView

    from ._store import ExplainStore

__all__ = [
    "COMPARISON_COLUMNS",
    "ComparisonInfo",
    "RunDiff",
    "compare_runs",
    "diff_runs",
    "get_comparison_info",
    "plot_comparison",
]

COMPARISON_COLUMNS = (
    "steps",
    "start_value",
    "end_value",
    "total_return",
    "sharpe",
    "max_drawdown",
    "turnover",
    "fees",
    "orders",
    "fills",
    "rejections",
    "llm_calls",
    "llm_cost",
    "abstentions",
    "failed_steps",
)


def _start(steps: Sequence[StepRecord]) -> float:
    return steps[0].equity - steps[0].pnl


def _row(steps: Sequence[StepRecord]) -> dict[str, float]:
    if not steps:
        return dict.fromkeys(COMPARISON_COLUMNS, math.nan) | {"steps": 0.0}
    start = _start(steps)
    times = [s.timestamp for s in steps]
    ppy = periods_per_year(times) if len(times) > 1 else math.nan
    stats = equity_stats([s.equity for s in steps], start_value=start, periods_per_year=ppy)
    fills = [f for s in steps for f in s.fills]
    calls = [c for s in steps if s.analysis is not None for c in s.analysis.llm_calls]
    traded = math.fsum(f.notional for f in fills)
    return {
        "steps": float(len(steps)),
        "start_value": start,
        "end_value": steps[-1].equity,
        "total_return": stats["total_return"],
        "sharpe": stats["sharpe"],
        "max_drawdown": stats["max_drawdown"],
        # traded notional over the mean equity: how many times the book turned over
        "turnover": traded / (math.fsum(s.equity for s in steps) / len(steps)),
        "fees": math.fsum(f.fee for f in fills),
        "orders": float(sum(len(s.acks) for s in steps)),
        "fills": float(len(fills)),
        "rejections": float(sum(len(s.rejections) for s in steps)),
        "llm_calls": float(len(calls)),
        "llm_cost": math.fsum(c.cost for c in calls),
        "abstentions": float(
            sum(1 for s in steps if s.decision is not None and s.decision.source.value == "abstain")
        ),
        "failed_steps": float(sum(1 for s in steps if s.is_failed)),
    }


def _buy_and_hold(view: MarketView, steps: Sequence[StepRecord]) -> list[float]:
    """All of the starting equity bought at the first step's close, marked at each step.

    Each mark is the close complete at that step's time (point in time, like the run itself).
    """
    symbol = view.symbols[0]
    start = _start(steps)
    closes = []
    for s in steps:
        bars = view.as_of(s.timestamp, symbol, lookback=1)
        closes.append(float(bars["close"].iloc[-1]) if len(bars) else math.nan)
    first = closes[0]
    return [start * c / first for c in closes]


class ComparisonInfo(NamedTuple):
    """The curves of :func:`plot_comparison` (what the figure shows, as data)."""

    names: list[str]
    timestamps: list[list[Any]]
    equity: list[list[float]]


def get_comparison_info(
    store: ExplainStore, run_ids: Sequence[str], *, view: MarketView | None = None
) -> ComparisonInfo:
    """Each run's equity by step time, plus buy-and-hold of the first run's window with a view."""
    names: list[str] = []
    times: list[list[Any]] = []
    equity: list[list[float]] = []
    first: list[StepRecord] = []
    for run_id in run_ids:
        steps = store.steps(run_id)
        first = first or steps
        names.append(run_id)
        times.append([s.timestamp for s in steps])
        equity.append([s.equity for s in steps])
    if view is not None and first:
        names.append("buy & hold")
        times.append([s.timestamp for s in first])
        equity.append(_buy_and_hold(view, first))
    return ComparisonInfo(names, times, equity)


def compare_runs(
    store: ExplainStore, run_ids: Sequence[str], *, view: MarketView | None = None
) -> pd.DataFrame:
    """One row per run (and buy-and-hold with a view), the columns :data:`COMPARISON_COLUMNS`.

    Raises:
        ConfigError: If fewer than one run id is given.
        StoreError: If a run does not exist.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import make_agent
        >>> data = make_synthetic(300, timeframe="1h", seed=4, symbol="S")
        >>> a = make_agent(data, store="sqlite://", run_id="a", progress=False)
        >>> _ = a.run(150)
        >>> b = make_agent(data, store=a.store, run_id="b", progress=False, risk_fraction=0.02)
        >>> _ = b.run(150)
        >>> table = compare_runs(a.store, ["a", "b"], view=a.view)
        >>> list(table.index), int(table.loc["a", "steps"])
        (['a', 'b', 'buy & hold'], 150)
        >>> a.close()
    """
    import pandas as pd

    ids = list(run_ids)
    if not ids:
        raise ConfigError("pass at least one run id to compare")
    rows = {run_id: _row(store.steps(run_id)) for run_id in ids}
    if view is not None:
        steps = store.steps(ids[0])
        if steps:
            curve = _buy_and_hold(view, steps)
            times = [s.timestamp for s in steps]
            stats = equity_stats(
                curve[1:],
                start_value=curve[0],
                periods_per_year=periods_per_year(times) if len(times) > 1 else math.nan,
            )
            rows["buy & hold"] = dict.fromkeys(COMPARISON_COLUMNS, 0.0) | {
                "steps": float(len(steps)),
                "start_value": curve[0],
                "end_value": curve[-1],
                "total_return": stats["total_return"],
                "sharpe": stats["sharpe"],
                "max_drawdown": stats["max_drawdown"],
            }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(COMPARISON_COLUMNS))
    frame.index.name = "run_id"
    return frame


def plot_comparison(info: ComparisonInfo) -> Any:
    """The overlaid equity curves of :func:`get_comparison_info` as a plotly figure."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, x, y in zip(info.names, info.timestamps, info.equity, strict=True):
        dash = "dot" if name == "buy & hold" else None
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line={"dash": dash}))
    fig.update_layout(title="Equity by run", xaxis_title="time (UTC)", yaxis_title="equity")
    return fig


Where = Literal[
    "timestamp", "observation", "prompt", "response", "analysis", "decision", "verdict", "fill"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunDiff:
    """Where two runs first part.

    Attributes:
        step: The first step that differs (or where one run ends).
        where: What differs first, in the order a step is made.
        a: The first run's value there (a short text).
        b: The second run's value there.
        detail: One line for people.
    """

    step: int
    where: Where | Literal["length"]
    a: str
    b: str
    detail: str


def _calls(s: StepRecord) -> tuple[tuple[str, str], ...]:
    if s.analysis is None:
        return ()
    return tuple((c.request_hash, c.raw_response) for c in s.analysis.llm_calls)


def _first_difference(a: StepRecord, b: StepRecord) -> tuple[Where, str, str] | None:
    checks: list[tuple[Where, Any, Any]] = [
        ("timestamp", a.timestamp.isoformat(), b.timestamp.isoformat()),
        ("observation", a.observation_digest, b.observation_digest),
        ("prompt", [h for h, _ in _calls(a)], [h for h, _ in _calls(b)]),
        ("response", [r for _, r in _calls(a)], [r for _, r in _calls(b)]),
        (
            "analysis",
            None if a.analysis is None else a.analysis.model_dump(exclude={"llm_calls"}),
            None if b.analysis is None else b.analysis.model_dump(exclude={"llm_calls"}),
        ),
        ("decision", a.decision, b.decision),
        (
            "verdict",
            [(v.line, v.rule, v.approved, v.limit, v.observed) for v in a.verdicts],
            [(v.line, v.rule, v.approved, v.limit, v.observed) for v in b.verdicts],
        ),
        (
            "fill",
            [(f.side, f.quantity, f.price, f.fee) for f in a.fills],
            [(f.side, f.quantity, f.price, f.fee) for f in b.fills],
        ),
    ]
    for where, x, y in checks:
        if x != y:
            return where, repr(x)[:500], repr(y)[:500]
    return None


def diff_runs(store: ExplainStore, a: str, b: str) -> RunDiff | None:
    """The first step where runs ``a`` and ``b`` differ, and in what; None if they agree.

    Order ids, run ids and latencies are not compared (they differ between any two runs).

    Raises:
        StoreError: If a run does not exist.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import make_agent
        >>> data = make_synthetic(300, timeframe="1h", seed=4, symbol="S")
        >>> x = make_agent(data, store="sqlite://", run_id="x", progress=False)
        >>> _ = x.run(150)
        >>> y = make_agent(data, store=x.store, run_id="y", progress=False, risk_fraction=0.02)
        >>> _ = y.run(150)
        >>> d = diff_runs(x.store, "x", "y")
        >>> d.where, d.step > 0
        ('decision', True)
        >>> diff_runs(x.store, "x", "x") is None
        True
        >>> x.close()
    """
    steps_a, steps_b = store.steps(a), store.steps(b)
    for sa, sb in zip(steps_a, steps_b, strict=False):
        found = _first_difference(sa, sb)
        if found is not None:
            where, va, vb = found
            return RunDiff(
                step=sa.step,
                where=where,
                a=va,
                b=vb,
                detail=f"step {sa.step}: the {where} differs ({a!r}: {va[:80]} | {b!r}: {vb[:80]})",
            )
    if len(steps_a) != len(steps_b):
        n = min(len(steps_a), len(steps_b))
        return RunDiff(
            step=n,
            where="length",
            a=str(len(steps_a)),
            b=str(len(steps_b)),
            detail=f"the runs agree for {n} steps; then {a!r} has {len(steps_a)} steps and "
            f"{b!r} has {len(steps_b)}",
        )
    return None
