"""Look-ahead check of any Analyze or Decide stage, by recomputing it on altered futures.

The project blocks data leakage structurally (stages read bars through
:meth:`MarketView.as_of <axon_lab.data.MarketView.as_of>`), but a stage can still reach the future
through a side channel: a frame it closed over, a feature computed with a centred window, a cache
filled from the whole history. Like freqtrade's ``lookahead-analysis``, this check does not read
the stage's code; it runs it. At each sampled decision time ``t`` the stage is built and called
three ways:

* on the full data (the reference);
* on the data **truncated** at ``t`` (only the bars complete at ``t`` exist);
* on data whose **future is perturbed** (each bar not complete at ``t`` has its OHLC multiplied
  by a seeded random factor and its volume by another; the bars complete at ``t`` are untouched).

A stage that only reads the past gives the same output all three ways; any field that differs
is reported with the time, the variant and both values.

The stage is given as a *builder*, a function of a :class:`StageContext` (the variant's view, a
clock set to ``t`` and trading tools over both), because a side channel is exactly what a
ready-made stage would carry over from the full data unchanged: the builder must build the stage
from what the context hands it, as the loop's ``make_agent`` does from its data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from axon_lab.clock import SimulatedClock
from axon_lab.data import MarketView
from axon_lab.errors import ConfigError
from axon_lab.records import Analysis

__all__ = [
    "LookAheadDifference",
    "LookAheadReport",
    "StageContext",
    "check_lookahead",
    "compare_outputs",
]

StageKind = Literal["analyze", "decide"]

_PRICES = ["open", "high", "low", "close"]
# Fields that describe how an output was produced, not what it says (timings, cache hits).
DEFAULT_IGNORE = ("llm_calls", "latency_s")


@dataclass(frozen=True, slots=True, kw_only=True)
class StageContext:
    """What a stage builder gets: one variant of the data at one decision time.

    Attributes:
        view: The variant's point-in-time view (full, truncated or perturbed).
        clock: A simulated clock set to ``time``.
        tools: Trading tools (``get_market_data`` over ``view``, ``query_portfolio`` of a mock
            account holding ``cash``), as :class:`~axon_lab.oader.RulesAnalyst` and
            :class:`~axon_lab.oader.ReActAnalyzer` take them.
        time: The decision time.
        variant: ``"full"``, ``"truncated"`` or ``"perturbed-<i>"``.
    """

    view: MarketView
    clock: SimulatedClock
    tools: Any
    time: datetime
    variant: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LookAheadDifference:
    """One field whose value on altered future data differs from the full-data value.

    Attributes:
        time: The decision time.
        variant: The data variant that changed the output.
        field: The dotted path of the field (``action``, ``confidence``, ``reasoning_steps.0...``).
        full: The value on the full data.
        other: The value on the variant.
    """

    time: datetime
    variant: str
    field: str
    full: Any
    other: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class LookAheadReport:
    """The result of :func:`check_lookahead`.

    Attributes:
        stage: The stage's name.
        kind: ``"analyze"`` or ``"decide"``.
        times: The decision times checked.
        variants: The data variants compared with the full data.
        differences: Every differing field (empty: no look-ahead found).
        seed: The seed of the sampled times and the perturbations.
    """

    stage: str
    kind: StageKind
    times: tuple[datetime, ...]
    variants: tuple[str, ...]
    differences: tuple[LookAheadDifference, ...] = field(default=())
    seed: int | None = None

    @property
    def is_clean(self) -> bool:
        """True when no output changed with the future."""
        return not self.differences

    @property
    def leaking_times(self) -> tuple[datetime, ...]:
        """The decision times at which the output changed, in order."""
        return tuple(sorted({d.time for d in self.differences}))

    def summary(self) -> str:
        """One line: passed, or how many times and which fields leaked."""
        if self.is_clean:
            return (
                f"look-ahead check of {self.stage}: passed ({len(self.times)} times x "
                f"{len(self.variants)} altered futures, no output changed)"
            )
        fields = sorted({d.field for d in self.differences})
        first = self.differences[0]
        return (
            f"look-ahead check of {self.stage}: FAILED at {len(self.leaking_times)} of "
            f"{len(self.times)} times; fields {', '.join(fields[:6])}; first at "
            f"{first.time.isoformat()} ({first.variant}: {first.field} {first.full!r:.60} -> "
            f"{first.other!r:.60})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (differences listed up to 50)."""
        return {
            "stage": self.stage,
            "kind": self.kind,
            "passed": self.is_clean,
            "times": len(self.times),
            "variants": list(self.variants),
            "leaking_times": [t.isoformat() for t in self.leaking_times],
            "differences": [
                {
                    "time": d.time.isoformat(),
                    "variant": d.variant,
                    "field": d.field,
                    "full": repr(d.full)[:200],
                    "other": repr(d.other)[:200],
                }
                for d in self.differences[:50]
            ],
            "seed": self.seed,
            "summary": self.summary(),
        }


def _flatten(value: Any, prefix: str, ignore: frozenset[str], out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in ignore:
                _flatten(v, f"{prefix}.{k}" if prefix else str(k), ignore, out)
    elif isinstance(value, list | tuple):
        out[f"{prefix}.len" if prefix else "len"] = len(value)
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}.{i}" if prefix else str(i), ignore, out)
    else:
        out[prefix] = value


def _as_plain(output: Any) -> Any:
    dump = getattr(output, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return output


def _same(a: Any, b: Any, rtol: float) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=rtol, abs_tol=rtol * 1e-6)
    return bool(a == b)


def compare_outputs(
    full: Any, other: Any, *, ignore: Sequence[str] = DEFAULT_IGNORE, rtol: float = 1e-9
) -> list[tuple[str, Any, Any]]:
    """The fields in which two stage outputs differ, as ``(path, full value, other value)``.

    Outputs are compared as their JSON form (pydantic records are dumped); ``ignore`` names keys
    skipped at any depth; floats agree within ``rtol``.

    Examples:
        >>> compare_outputs({"action": "buy", "x": [1.0, 2.0]}, {"action": "hold", "x": [1.0]})
        [('action', 'buy', 'hold'), ('x.1', 2.0, None), ('x.len', 2, 1)]
    """
    left: dict[str, Any] = {}
    right: dict[str, Any] = {}
    skip = frozenset(ignore)
    _flatten(_as_plain(full), "", skip, left)
    _flatten(_as_plain(other), "", skip, right)
    return [
        (k, left.get(k), right.get(k))
        for k in sorted(set(left) | set(right))
        if not _same(left.get(k), right.get(k), rtol)
    ]


def _frames(view: MarketView) -> dict[str, pd.DataFrame]:
    return {s: view.as_of(view.end, s) for s in view.symbols}


def _variant_view(
    frames: dict[str, pd.DataFrame],
    timeframe: str,
    feature_spec: Sequence[str] | None,
    keep: Callable[[pd.DataFrame], pd.DataFrame],
) -> MarketView:
    return MarketView(
        {s: keep(f) for s, f in frames.items()}, timeframe=timeframe, feature_spec=feature_spec
    )


def _truncate(frame: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    return frame[frame.index <= cut]


def _perturb(
    frame: pd.DataFrame, cut: pd.Timestamp, rng: np.random.Generator, scale: float
) -> pd.DataFrame:
    """``frame`` with every bar opening after ``cut`` rescaled by a random factor."""
    out = frame.copy()
    future = np.asarray(out.index > cut)
    n = int(future.sum())
    if n:
        # one factor per bar keeps each bar's OHLC ordering; away from 1 so the change is real
        factors = 1.0 + rng.choice([-1.0, 1.0], n) * rng.uniform(0.2 * scale, scale, n)
        out.loc[future, _PRICES] = out.loc[future, _PRICES].to_numpy() * factors[:, None]
        out.loc[future, "volume"] = out.loc[future, "volume"].to_numpy() * rng.uniform(0.3, 3.0, n)
    return out


def stage_context(view: MarketView, t: pd.Timestamp, variant: str, cash: float) -> StageContext:
    """The context of one variant at ``t``: a clock at ``t`` and tools over a mock account."""
    from axon_lab.backends import MockTradingBackend
    from axon_lab.tools import make_trading_tools

    clock = SimulatedClock(t.to_pydatetime())
    prices = {s: view.last_price(t, s) for s in view.symbols}
    backend = MockTradingBackend(prices, cash=cash, clock=clock)
    tools = make_trading_tools(backend, view=view, clock=clock)
    return StageContext(view=view, clock=clock, tools=tools, time=clock.now(), variant=variant)


def observe_for(stage: Any, ctx: StageContext, lookback: int) -> Any:
    """The observation ``stage`` is given at ``ctx.time``, as the loop's Observe stage builds it.

    A stage that reads its bars from the observation and says how many it needs (``lookback``,
    as :class:`~axon_lab.oader.RulesAnalyst` does) gets at least that many, as ``make_agent``
    gives it: an observation too short would leave it warming up, and the audit checking nothing.
    """
    from axon_lab.oader import ContextBuilder, bars_needed

    lookback = max(lookback, bars_needed(stage))
    return ContextBuilder(ctx.view, ctx.tools.backend, lookback=lookback)(ctx.time)


def stage_name(stage: Any) -> str:
    """A stage's name: its ``name``, its function name, else its class name."""
    return str(
        getattr(stage, "name", None) or getattr(stage, "__name__", None) or type(stage).__name__
    )


def call_stage(stage: Any, *args: Any) -> Any:
    """Call a sync or async stage and return its result (blocking)."""
    from axon_lab.oader.stages import as_async, run_blocking

    async def call() -> Any:
        return await as_async(stage)(*args)

    return run_blocking(call())


def sample_times(
    view: MarketView,
    times: Sequence[Any] | None,
    n_times: int,
    warmup: int,
    rng: np.random.Generator,
) -> list[pd.Timestamp]:
    """The decision times to check: ``times`` validated, else ``n_times`` drawn after ``warmup``."""
    decision = view.decision_times()
    if times is not None:
        picked = [pd.Timestamp(t) for t in times]
        bad = [t for t in picked if t.tz is None]
        if bad:
            raise ConfigError(f"times must be timezone-aware; {bad[0]!r} is not (add tz='UTC')")
        late = [t for t in picked if t >= decision[-1]]
        if late:
            raise ConfigError(
                f"time {late[0]} leaves no future bar to alter (the last bar completes at "
                f"{decision[-1]}); pick earlier times"
            )
        if not picked:
            raise ConfigError("times is empty; pass at least one decision time, or times=None")
        return sorted(t.tz_convert("UTC") for t in picked)
    if isinstance(n_times, bool) or not isinstance(n_times, int) or n_times < 1:
        raise ConfigError(f"n_times must be an int >= 1, got {n_times!r}")
    pool = decision[warmup:-1]
    if len(pool) == 0:
        raise ConfigError(
            f"the data has {len(decision)} decision times, none after the {warmup}-bar warm-up "
            "with a future bar left; pass more bars or a smaller warmup"
        )
    idx = np.sort(rng.choice(len(pool), size=min(n_times, len(pool)), replace=False))
    return [pool[int(i)] for i in idx]


def check_lookahead(
    build: Callable[[StageContext], Any],
    data: pd.DataFrame | MarketView,
    *,
    kind: StageKind = "analyze",
    analysis: Analysis | None = None,
    times: Sequence[datetime | pd.Timestamp | str] | None = None,
    n_times: int = 10,
    warmup: int = 30,
    n_perturbations: int = 2,
    scale: float = 0.5,
    lookback: int = 20,
    feature_spec: Sequence[str] | None = None,
    cash: float = 100_000.0,
    ignore: Sequence[str] = DEFAULT_IGNORE,
    rtol: float = 1e-9,
    seed: int | None,
) -> LookAheadReport:
    """Check that a stage's output at ``t`` does not change when the data after ``t`` does.

    Args:
        build: Builds the stage from a :class:`StageContext` (e.g.
            ``lambda ctx: RulesAnalyst()``). It must take every piece of market data
            from the context; a stage that closes over data of its own cannot be checked.
        data: The full data: a canonical OHLCV frame or a :class:`~axon_lab.data.MarketView`.
        kind: ``"analyze"`` (``stage(observation)``) or ``"decide"``
            (``stage(analysis, observation)``).
        analysis: The analysis a Decide stage is given (required for ``kind="decide"``).
        times: Decision times to check (default: ``n_times`` sampled after the warm-up).
        n_times: How many decision times to sample when ``times`` is None.
        warmup: Decision times skipped at the start when sampling (indicators warming up).
        n_perturbations: How many perturbed futures per time (besides the truncation).
        scale: Largest relative change of a future bar's prices (factors in
            ``1 +- [0.2 scale, scale]``).
        lookback: Bars per observation (as the loop's ``lookback``).
        feature_spec: The feature names of the views (default: the loop's default features).
        cash: Cash of the mock account behind ``ctx.tools``.
        ignore: Output keys not compared, at any depth (default: LLM call bookkeeping).
        rtol: Relative tolerance for floats.
        seed: Seed of the sampled times and the perturbations.

    Returns:
        A :class:`LookAheadReport`; ``report.is_clean`` is the verdict.

    Raises:
        ConfigError: For bad arguments (no analysis for a Decide stage, naive or late times,
            too little data).

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import RulesAnalyst
        >>> frame = make_synthetic(120, timeframe="1h", seed=1, symbol="SYN")
        >>> report = check_lookahead(lambda ctx: RulesAnalyst(), frame, n_times=3,
        ...                          n_perturbations=1, seed=0)
        >>> report.is_clean, len(report.times), report.variants
        (True, 3, ('truncated', 'perturbed-0'))
    """
    if kind not in ("analyze", "decide"):
        raise ConfigError(f"kind must be 'analyze' or 'decide', got {kind!r}")
    if kind == "decide" and not isinstance(analysis, Analysis):
        raise ConfigError(
            "a Decide stage needs the analysis it decides on: pass analysis=Analysis(...)"
        )
    if not callable(build):
        raise ConfigError(
            f"build must be a function of a StageContext returning the stage, got {build!r}"
        )
    if isinstance(n_perturbations, bool) or not isinstance(n_perturbations, int):
        raise ConfigError(f"n_perturbations must be an int >= 0, got {n_perturbations!r}")
    if n_perturbations < 0:
        raise ConfigError(f"n_perturbations must be an int >= 0, got {n_perturbations!r}")
    if not (isinstance(scale, int | float) and 0.0 < scale < 1.0):
        raise ConfigError(f"scale must be in (0, 1), got {scale!r}")
    if isinstance(data, pd.DataFrame):
        view = MarketView(data, feature_spec=feature_spec)
    elif isinstance(data, MarketView):
        view = data
    else:
        raise ConfigError(
            f"data must be a canonical OHLCV frame or a MarketView, got {type(data).__name__}"
        )
    rng = np.random.default_rng(seed)
    picked = sample_times(view, times, n_times, warmup, rng)
    frames = _frames(view)
    tf = view.timeframe
    full_view = _variant_view(frames, tf.label, feature_spec, lambda f: f)
    variants = ("truncated", *(f"perturbed-{i}" for i in range(n_perturbations)))
    differences: list[LookAheadDifference] = []
    name = "stage"
    for t in picked:
        cut = t - tf.delta  # bars opening after this are not complete at t
        views = {"full": full_view}
        views["truncated"] = _variant_view(
            frames, tf.label, feature_spec, partial(_truncate, cut=cut)
        )
        for i in range(n_perturbations):
            views[f"perturbed-{i}"] = _variant_view(
                frames,
                tf.label,
                feature_spec,
                partial(_perturb, cut=cut, rng=rng, scale=float(scale)),
            )
        outputs: dict[str, Any] = {}
        for variant, v in views.items():
            ctx = stage_context(v, t, variant, cash)
            stage = build(ctx)
            name = stage_name(stage)
            obs = observe_for(stage, ctx, lookback)
            outputs[variant] = (
                call_stage(stage, obs) if kind == "analyze" else call_stage(stage, analysis, obs)
            )
        for variant in variants:
            for path, a, b in compare_outputs(
                outputs["full"], outputs[variant], ignore=ignore, rtol=rtol
            ):
                differences.append(
                    LookAheadDifference(
                        time=t.to_pydatetime(), variant=variant, field=path, full=a, other=b
                    )
                )
    return LookAheadReport(
        stage=name,
        kind=kind,
        times=tuple(t.to_pydatetime() for t in picked),
        variants=variants,
        differences=tuple(differences),
        seed=seed,
    )
