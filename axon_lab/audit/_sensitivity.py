"""Counterfactual sensitivity: does a decision survive noise the data itself carries?

At each sampled decision time ``t`` the stage is called on the real data and on
``n_perturbations`` copies in which each of the last ``window`` bars complete at ``t`` is moved
up or down by a seeded random amount of at most ``fraction`` of its own range (high - low); the
whole bar moves, so it stays a valid bar. Indicators are recomputed from the moved bars. A
decision that flips under such noise is not a signal; the report gives the flip rate per time and
overall, and the times that flipped.

The stage is given by a builder of a :class:`StageContext`, as for :func:`check_lookahead`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.data import MarketView
from axon_lab.errors import ConfigError

from ._lookahead import (
    StageContext,
    call_stage,
    observe_for,
    sample_times,
    stage_context,
    stage_name,
)

__all__ = ["SensitivityReport", "TimeSensitivity", "check_sensitivity"]

_PRICES = ["open", "high", "low", "close"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeSensitivity:
    """One decision time.

    Attributes:
        time: The decision time.
        base: The output field's value on the real data.
        perturbed: Its value on each perturbed copy.
        flip_rate: Share of copies on which it differs from ``base``.
    """

    time: datetime
    base: Any
    perturbed: tuple[Any, ...]
    flip_rate: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SensitivityReport:
    """The result of :func:`check_sensitivity`.

    Attributes:
        stage: The stage's name.
        field: The output field compared (``action`` by default).
        fraction: The largest move, as a fraction of each bar's range.
        times: Each time's figures.
        seed: The seed.
    """

    stage: str
    field: str
    fraction: float
    times: tuple[TimeSensitivity, ...]
    seed: int | None

    @property
    def flip_rate(self) -> float:
        """Share of all perturbed calls whose output differed from the real data's."""
        return float(np.mean([t.flip_rate for t in self.times]))

    @property
    def flipping_times(self) -> tuple[datetime, ...]:
        """Times at which at least one perturbation flipped the output."""
        return tuple(t.time for t in self.times if t.flip_rate > 0)

    def summary(self) -> str:
        """One line for reports."""
        n = len(self.times[0].perturbed) if self.times else 0
        return (
            f"counterfactual sensitivity of {self.stage} ({len(self.times)} times x {n} copies, "
            f"bars moved by up to {self.fraction:.0%} of their range): the {self.field} flipped "
            f"in {self.flip_rate:.0%} of calls, at {len(self.flipping_times)} of "
            f"{len(self.times)} times"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "stage": self.stage,
            "field": self.field,
            "fraction": self.fraction,
            "flip_rate": self.flip_rate,
            "flipping_times": [t.isoformat() for t in self.flipping_times],
            "times": [
                {
                    "time": t.time.isoformat(),
                    "base": repr(t.base)[:100],
                    "perturbed": [repr(p)[:100] for p in t.perturbed],
                    "flip_rate": t.flip_rate,
                }
                for t in self.times
            ],
            "seed": self.seed,
            "summary": self.summary(),
        }


def _jitter(
    frame: pd.DataFrame,
    *,
    cut: pd.Timestamp,
    window: int,
    fraction: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    out = frame.copy()
    past = np.flatnonzero(np.asarray(out.index <= cut))[-window:]
    prices = out[_PRICES].to_numpy(dtype=np.float64, copy=True)
    values = prices[past]
    span = values[:, 1] - values[:, 2]
    move = rng.uniform(-fraction, fraction, len(past)) * span
    move = np.maximum(move, -0.5 * values[:, 2])  # never push a bar to or below zero
    prices[past] = values + move[:, None]
    out[_PRICES] = prices
    return out


def _field(output: Any, name: str) -> Any:
    value = getattr(output, name, None) if not isinstance(output, dict) else output.get(name)
    return getattr(value, "value", value)  # enums compare by their value


def check_sensitivity(
    build: Callable[[StageContext], Any],
    data: pd.DataFrame | MarketView,
    *,
    field: str = "action",
    times: Sequence[datetime | pd.Timestamp | str] | None = None,
    n_times: int = 10,
    warmup: int = 30,
    n_perturbations: int = 5,
    fraction: float = 0.1,
    window: int = 20,
    lookback: int = 20,
    feature_spec: Sequence[str] | None = None,
    cash: float = 100_000.0,
    seed: int | None,
) -> SensitivityReport:
    """How often an Analyze stage's ``field`` flips when recent bars move within their noise.

    Args:
        build: Builds the Analyze stage from a :class:`StageContext`.
        data: The bars: a canonical OHLCV frame or a :class:`~axon_lab.data.MarketView`.
        field: The output field compared (``action``; ``market_assessment``...).
        times: Decision times (default: ``n_times`` sampled after ``warmup``).
        n_times: How many times to sample when ``times`` is None.
        warmup: Decision times skipped at the start when sampling.
        n_perturbations: Perturbed copies per time.
        fraction: Largest move of a bar, as a fraction of its range, in (0, 1].
        window: How many of the latest complete bars move.
        lookback: Bars per observation.
        feature_spec: The views' feature names (default: the loop's).
        cash: Cash of the mock account behind ``ctx.tools``.
        seed: Seed of the times and the moves.

    Raises:
        ConfigError: For bad arguments.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import RulesAnalyst
        >>> frame = make_synthetic(120, timeframe="1h", seed=1, symbol="SYN")
        >>> r = check_sensitivity(lambda ctx: RulesAnalyst(), frame, n_times=2,
        ...                       n_perturbations=2, seed=0)
        >>> len(r.times), 0.0 <= r.flip_rate <= 1.0
        (2, True)
    """
    if not callable(build):
        raise ConfigError(f"build must be a function of a StageContext, got {build!r}")
    if not (isinstance(fraction, int | float) and 0.0 < fraction <= 1.0):
        raise ConfigError(f"fraction must be in (0, 1], got {fraction!r}")
    for name, value in (("n_perturbations", n_perturbations), ("window", window)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
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
    frames = {s: view.as_of(view.end, s) for s in view.symbols}
    tf = view.timeframe
    name = "stage"

    def run(v: MarketView, t: pd.Timestamp, variant: str) -> Any:
        nonlocal name
        ctx = stage_context(v, t, variant, cash)
        stage = build(ctx)
        name = stage_name(stage)
        obs = observe_for(stage, ctx, lookback)
        return _field(call_stage(stage, obs), field)

    out = []
    for t in picked:
        base = run(view, t, "full")
        moved = []
        for i in range(n_perturbations):
            jitter = partial(
                _jitter, cut=t - tf.delta, window=window, fraction=float(fraction), rng=rng
            )
            v = MarketView(
                {s: jitter(f) for s, f in frames.items()},
                timeframe=tf.label,
                feature_spec=feature_spec,
            )
            moved.append(run(v, t, f"jitter-{i}"))
        out.append(
            TimeSensitivity(
                time=t.to_pydatetime(),
                base=base,
                perturbed=tuple(moved),
                flip_rate=float(np.mean([m != base for m in moved])),
            )
        )
    return SensitivityReport(
        stage=name, field=field, fraction=float(fraction), times=tuple(out), seed=seed
    )
