"""Confidence intervals by the stationary bootstrap, for returns or statistics that autocorrelate.

References:
    D. N. Politis and J. P. Romano (1994), "The Stationary Bootstrap", Journal of the American
    Statistical Association 89(428): resample blocks of geometric length (mean ``b``) from random
    starts, wrapping around the end, so the resampled series stays stationary.

    D. N. Politis and H. White (2004), "Automatic Block-Length Selection for the Dependent
    Bootstrap", Econometric Reviews 23(1), with the correction of A. Patton, D. N. Politis and
    H. White (2009), Econometric Reviews 28(4): the mean block length when none is given.

With fewer than :data:`MIN_BLOCK_ESTIMATE_OBS` values (a handful of walk-forward windows) the
estimate is noise (it needs autocorrelations up to lag ``sqrt(n) + 5``), so the block length is
1 there: values are resampled one by one. The record always shows the block length used.

Both come from the ``arch`` package (:class:`arch.bootstrap.StationaryBootstrap` and
:func:`arch.bootstrap.optimal_block_length`), imported at first use. The interval is the
percentile interval of the resampled statistic.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._checks import as_vector, check_count, check_level, check_positive

__all__ = [
    "MIN_BLOCK_ESTIMATE_OBS",
    "Interval",
    "bootstrap_distribution",
    "bootstrap_interval",
    "optimal_block_length",
]

MIN_BLOCK_ESTIMATE_OBS = 30
"""Below this many values, :func:`optimal_block_length` returns 1 instead of an estimate."""

Statistic = Callable[[np.ndarray], float]


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """A confidence interval around a point estimate.

    Attributes:
        estimate: The statistic on the data as observed.
        low: Lower bound.
        high: Upper bound.
        level: Coverage, e.g. 0.95.
        method: How the interval was made (e.g. ``"stationary bootstrap, percentile"``).
        block_length: Mean block length of the bootstrap (1 resamples single values).
        n_resamples: Number of resamples behind the bounds (those on which the statistic was
            finite; e.g. a Sharpe ratio is not on a constant resample).
    """

    estimate: float
    low: float
    high: float
    level: float
    method: str
    block_length: int
    n_resamples: int

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies within ``[low, high]``."""
        return self.low <= value <= self.high


def optimal_block_length(values: Any) -> float:
    """Mean block length for the stationary bootstrap (Politis & White 2004; Patton et al. 2009).

    Args:
        values: A series of at least 2 finite values.

    Returns:
        The estimated optimal mean block length, clipped to ``[1, len(values)]``; 1 for fewer
        than :data:`MIN_BLOCK_ESTIMATE_OBS` values or a constant series.

    Raises:
        EvaluationError: On NaN or fewer than 2 values.

    Examples:
        >>> import numpy as np
        >>> white = np.random.default_rng(0).normal(size=500)
        >>> optimal_block_length(white) < 5  # little dependence, short blocks
        True
    """
    x = as_vector(values, "values")
    if x.size < MIN_BLOCK_ESTIMATE_OBS or np.ptp(x) == 0.0:
        return 1.0
    from arch.bootstrap import optimal_block_length as _arch_block_length

    # arch divides by zero-variance autocorrelation sums on short series; NaN is handled below
    with np.errstate(divide="ignore", invalid="ignore"):
        b = float(_arch_block_length(x)["stationary"].iloc[0])
    if not math.isfinite(b):
        return 1.0
    return float(min(max(b, 1.0), x.size))


def resolve_block_length(block_length: float | None, x: np.ndarray) -> int:
    """The integer mean block length arch takes: the given one, or the estimate, rounded."""
    if block_length is None:
        return max(1, round(optimal_block_length(x)))
    b = check_positive(block_length, "block_length")
    if b < 1.0:
        raise EvaluationError(
            f"block_length={block_length!r} must be >= 1 (1 resamples single values)."
        )
    return max(1, round(b))


def bootstrap_distribution(
    values: Any,
    statistic: Statistic,
    *,
    n_resamples: int,
    block_length: float | None = None,
    seed: int | None,
) -> tuple[np.ndarray, int]:
    """The statistic over stationary-bootstrap resamples of ``values`` (Politis & Romano 1994).

    Args:
        values: A series of at least 2 finite values, in time order.
        statistic: Maps a 1-D array to a number.
        n_resamples: Number of resamples (>= 1).
        block_length: Mean block length; ``None`` picks :func:`optimal_block_length`. It is
            rounded to an integer (what arch's bootstrap takes).
        seed: Seed of the ``np.random.default_rng`` that draws the resamples.

    Returns:
        The resampled statistics and the (integer) mean block length used.

    Raises:
        EvaluationError: On bad values, ``n_resamples < 1`` or ``block_length < 1``.
    """
    from arch.bootstrap import StationaryBootstrap

    x = as_vector(values, "values")
    reps = check_count(n_resamples, "n_resamples")
    b = resolve_block_length(block_length, x)
    bs = StationaryBootstrap(b, x, seed=np.random.default_rng(seed))
    out = np.empty(reps)
    for i, (pos, _kw) in enumerate(bs.bootstrap(reps)):
        out[i] = statistic(np.asarray(pos[0]))
    return out, b


def bootstrap_interval(
    values: Any,
    statistic: Statistic = np.mean,
    *,
    level: float = 0.95,
    n_resamples: int = 2000,
    block_length: float | None = None,
    seed: int | None,
) -> Interval:
    """Percentile confidence interval of ``statistic`` by the stationary bootstrap.

    Use it across windows (one value per walk-forward window) or over a run's returns; the
    stationary bootstrap keeps the dependence between neighbouring values that an i.i.d.
    bootstrap would destroy (Politis & Romano 1994).

    Args:
        values: A series of at least 2 finite values, in time order.
        statistic: Maps a 1-D array to a number (default: the mean).
        level: Coverage in (0, 1).
        n_resamples: Number of resamples. Those on which the statistic is not finite are left
            out of the bounds (the record counts the rest).
        block_length: Mean block length; ``None`` estimates it (Politis & White 2004).
        seed: Seed of the ``np.random.default_rng`` that draws the resamples.

    Returns:
        An :class:`Interval`.

    Raises:
        EvaluationError: On bad values (NaN, < 2), a level outside (0, 1), or a statistic that
            is not finite on the data.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(1.0, 1.0, 200)
        >>> ci = bootstrap_interval(x, level=0.9, n_resamples=500, seed=1)
        >>> ci.low < 1.0 < ci.high, ci.level
        (True, 0.9)
    """
    lvl = check_level(level)
    x = as_vector(values, "values")
    estimate = float(statistic(x))
    if not math.isfinite(estimate):
        raise EvaluationError(
            f"statistic {getattr(statistic, '__name__', statistic)!r} gives {estimate!r} on "
            "the data; use a statistic that is finite on it."
        )
    dist, b = bootstrap_distribution(
        x, statistic, n_resamples=n_resamples, block_length=block_length, seed=seed
    )
    dist = dist[np.isfinite(dist)]
    if dist.size == 0:
        raise EvaluationError(
            "the statistic was not finite on any resample; use more values or another statistic."
        )
    tail = (1.0 - lvl) / 2.0
    low, high = np.quantile(dist, [tail, 1.0 - tail])
    return Interval(
        estimate=estimate,
        low=float(low),
        high=float(high),
        level=lvl,
        method="stationary bootstrap, percentile",
        block_length=b,
        n_resamples=int(dist.size),
    )
