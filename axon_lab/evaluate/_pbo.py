"""The probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

Reference:
    D. H. Bailey, J. M. Borwein, M. López de Prado and Q. J. Zhu (2017), "The Probability of
    Backtest Overfitting", Journal of Computational Finance 20(4) (working paper 2015).

The algorithm (section 2.2 of the paper), as implemented here:

1. The returns matrix (rows = periods, columns = the N configurations of a sweep) is cut into
   S contiguous blocks of rows, S even (:func:`numpy.array_split`: when S does not divide the
   number of periods the first blocks hold one row more, so no period is dropped).
2. For each of the C(S, S/2) ways to pick S/2 blocks, the picked rows are the in-sample set and
   the rest the out-of-sample set. Each configuration's performance on each set is its
   per-period Sharpe ratio ``mean / std(ddof=1)``.
3. The in-sample best configuration n* is found (the first one on a tie); its out-of-sample
   relative rank is ``w = rank / (N + 1)`` (rank 1 = worst, ties share their average rank) and
   its logit ``lambda = ln(w / (1 - w))``.
4. PBO is the fraction of splits with ``lambda <= 0``: the in-sample best ranks at or below the
   out-of-sample median.

Hand-written: no maintained library implements CSCV. The per-split statistics come from block
sums (one matrix product), so 12,870 splits (S = 16) of 100 configurations take milliseconds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._checks import as_matrix, check_count, frozen

__all__ = ["PBOResult", "probability_of_backtest_overfitting"]

_MAX_SPLITS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class PBOResult:
    """The outcome of CSCV over a sweep (arrays are read-only, one entry per split).

    Attributes:
        pbo: Probability of backtest overfitting: the share of splits whose in-sample best
            configuration ranks at or below the out-of-sample median. Near 0.5 for pure noise.
        logits: ``lambda`` per split (positive: the in-sample best stayed above the median).
        is_sharpe: In-sample per-period Sharpe ratio of the selected configuration.
        oos_sharpe: Out-of-sample per-period Sharpe ratio of the same configuration.
        selected: Index of the selected configuration per split.
        prob_oos_loss: Share of splits in which the selected configuration lost out of sample.
        degradation_slope: Least-squares slope of ``oos_sharpe`` on ``is_sharpe`` (negative or
            near 0 when in-sample rankings say nothing about the out-of-sample ones).
        n_partitions: S, the number of blocks.
        n_splits: C(S, S/2).
        n_strategies: N, the number of configurations.
        n_periods: T, the number of rows.
    """

    pbo: float
    logits: np.ndarray
    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray
    selected: np.ndarray
    prob_oos_loss: float
    degradation_slope: float
    n_partitions: int
    n_splits: int
    n_strategies: int
    n_periods: int


def _sharpe(count: np.ndarray, total: np.ndarray, total_sq: np.ndarray) -> np.ndarray:
    """Per-period Sharpe ratios from row counts, sums and sums of squares (split x strategy)."""
    mean = total / count
    var = (total_sq - total * mean) / (count - 1.0)
    std = np.sqrt(np.maximum(var, 0.0))
    # a configuration flat over a whole half: Sharpe 0 with no return, else +-inf (never NaN)
    with np.errstate(divide="ignore", invalid="ignore"):
        flat = np.where(mean == 0.0, 0.0, np.sign(mean) * np.inf)
        out: np.ndarray = np.where(std > 0.0, mean / std, flat)
    return out


def probability_of_backtest_overfitting(returns: Any, *, n_partitions: int = 16) -> PBOResult:
    """Probability that a sweep's best configuration is overfit (CSCV, Bailey et al. 2017).

    Args:
        returns: Per-period returns, rows = periods, columns = the sweep's configurations
            (a DataFrame or a 2-D array), at least 2 configurations.
        n_partitions: S, an even number of blocks (>= 2); the paper uses 16. Each half-sample
            must hold at least 2 periods.

    Returns:
        A :class:`PBOResult`.

    Raises:
        EvaluationError: On NaN, too few periods or configurations, odd or too small S, or S so
            large that the C(S, S/2) splits exceed one million.

    Examples:
        >>> import numpy as np
        >>> noise = np.random.default_rng(0).normal(0.0, 0.01, (1000, 50))
        >>> res = probability_of_backtest_overfitting(noise, n_partitions=10)
        >>> res.n_splits, 0.3 < res.pbo < 0.7
        (252, True)
    """
    s = check_count(n_partitions, "n_partitions", minimum=2)
    if s % 2:
        raise EvaluationError(
            f"n_partitions={s} must be even (CSCV splits the blocks into two equal halves); "
            f"use {s - 1} or {s + 1}."
        )
    m = as_matrix(returns, "returns", min_rows=2 * s, min_cols=2)
    n_splits = math.comb(s, s // 2)
    if n_splits > _MAX_SPLITS:
        raise EvaluationError(
            f"n_partitions={s} makes {n_splits} splits; use at most 20 (the paper uses 16)."
        )
    t, n = m.shape
    blocks = np.array_split(np.arange(t), s)
    count = np.array([b.size for b in blocks], dtype=np.float64)
    total = np.stack([m[b].sum(axis=0) for b in blocks])
    total_sq = np.stack([(m[b] ** 2).sum(axis=0) for b in blocks])

    picks = np.zeros((n_splits, s))
    for row, combo in enumerate(itertools.combinations(range(s), s // 2)):
        picks[row, list(combo)] = 1.0
    rest = 1.0 - picks
    is_perf = _sharpe((picks @ count)[:, None], picks @ total, picks @ total_sq)
    oos_perf = _sharpe((rest @ count)[:, None], rest @ total, rest @ total_sq)

    rows = np.arange(n_splits)
    best = np.argmax(is_perf, axis=1)
    chosen_oos = oos_perf[rows, best]
    below = (oos_perf < chosen_oos[:, None]).sum(axis=1)
    equal = (oos_perf == chosen_oos[:, None]).sum(axis=1)  # includes the chosen one
    rank = below + (equal + 1) / 2.0
    w = rank / (n + 1.0)
    logits = np.log(w / (1.0 - w))
    chosen_is = is_perf[rows, best]
    finite = np.isfinite(chosen_is) & np.isfinite(chosen_oos)
    slope = (
        float(np.polyfit(chosen_is[finite], chosen_oos[finite], 1)[0])
        if finite.sum() >= 2 and np.ptp(chosen_is[finite]) > 0
        else math.nan
    )
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=frozen(logits),
        is_sharpe=frozen(chosen_is),
        oos_sharpe=frozen(chosen_oos),
        selected=frozen(best),
        prob_oos_loss=float(np.mean(chosen_oos < 0.0)),
        degradation_slope=slope,
        n_partitions=s,
        n_splits=n_splits,
        n_strategies=n,
        n_periods=t,
    )
