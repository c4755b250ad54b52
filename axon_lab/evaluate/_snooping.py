"""Tests for "the best of many": is any candidate truly better than the benchmark?

References:
    P. R. Hansen (2005), "A Test for Superior Predictive Ability", Journal of Business and
    Economic Statistics 23(4): the SPA test. Null hypothesis: no candidate beats the benchmark.
    Its consistent p-value recentres only candidates that are not clearly worse, so adding poor
    candidates does not hide a good one (White's reality check, the "upper" p-value, does).

    J. P. Romano and M. Wolf (2005), "Stepwise Multiple Testing as Formalized Data Snooping",
    Econometrica 73(4): the StepM procedure, which names *which* candidates beat the
    benchmark with the family-wise error rate held at ``alpha``.

Both run on the stationary bootstrap (Politis & Romano 1994) as implemented by the ``arch``
package (:class:`arch.bootstrap.SPA`, :class:`arch.bootstrap.StepM`), imported at first use.
The inputs are per-period returns (higher is better); arch's tests take losses, so they get
``-returns``. When no block length is given, it is estimated (Politis & White 2004) on the
return differential of the candidate with the highest mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._bootstrap import resolve_block_length
from axon_lab.evaluate._checks import as_matrix, as_vector, check_count, check_level

__all__ = ["RomanoWolfResult", "SPAResult", "romano_wolf", "spa_test"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SPAResult:
    """Hansen's test for superior predictive ability.

    Attributes:
        pvalue: The consistent p-value (Hansen's recommended one).
        pvalue_lower: The liberal p-value (no recentring of poor candidates' means).
        pvalue_upper: The conservative p-value (White's reality check).
        best: Column of the candidate with the highest mean excess return over the benchmark.
        n_candidates: Number of candidates.
        n_obs: Number of periods.
        block_length: Mean block length of the stationary bootstrap.
        n_resamples: Bootstrap resamples.
    """

    pvalue: float
    pvalue_lower: float
    pvalue_upper: float
    best: int
    n_candidates: int
    n_obs: int
    block_length: int
    n_resamples: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RomanoWolfResult:
    """The candidates that beat the benchmark by Romano and Wolf's StepM.

    Attributes:
        superior: Columns of the candidates that beat the benchmark, in column order.
        alpha: The family-wise error rate held.
        n_candidates: Number of candidates.
        n_obs: Number of periods.
        block_length: Mean block length of the stationary bootstrap.
        n_resamples: Bootstrap resamples.
    """

    superior: tuple[int, ...]
    alpha: float
    n_candidates: int
    n_obs: int
    block_length: int
    n_resamples: int


def _inputs(
    benchmark: Any, candidates: Any, block_length: float | None, n_resamples: int
) -> tuple[np.ndarray, np.ndarray, int, int]:
    b = as_vector(benchmark, "benchmark")
    m = as_matrix(candidates, "candidates", min_rows=2, min_cols=1)
    if m.shape[0] != b.size:
        raise EvaluationError(
            f"candidates has {m.shape[0]} periods but benchmark has {b.size}; pass returns of "
            "the same periods, rows in the same order."
        )
    reps = check_count(n_resamples, "n_resamples")
    diff = m - b[:, None]
    best = int(np.argmax(diff.mean(axis=0)))
    size = resolve_block_length(block_length, diff[:, best])
    return b, m, size, reps


def spa_test(
    benchmark: Any,
    candidates: Any,
    *,
    n_resamples: int = 1000,
    block_length: float | None = None,
    seed: int | None,
) -> SPAResult:
    """Hansen's (2005) SPA test: does the best of many candidates beat the benchmark?

    Args:
        benchmark: The benchmark's per-period returns (e.g. buy-and-hold).
        candidates: Per-period returns, rows = periods, columns = candidates (agents, prompts,
            models or parameter sets), same periods as ``benchmark``.
        n_resamples: Bootstrap resamples.
        block_length: Mean block length; ``None`` estimates it.
        seed: Seed of the bootstrap's ``np.random.default_rng``.

    Returns:
        An :class:`SPAResult`; a small ``pvalue`` says some candidate is truly better.

    Raises:
        EvaluationError: On NaN, mismatched lengths, fewer than 2 periods or bad settings.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> bench, cands = rng.normal(0, 0.01, 500), rng.normal(0, 0.01, (500, 10))
        >>> cands[:, 4] += 0.004  # one candidate with real edge
        >>> res = spa_test(bench, cands, n_resamples=300, seed=1)
        >>> res.best, res.pvalue < 0.05
        (4, True)
    """
    from arch.bootstrap import SPA

    b, m, size, reps = _inputs(benchmark, candidates, block_length, n_resamples)
    spa = SPA(-b, -m, block_size=size, reps=reps, seed=np.random.default_rng(seed))
    spa.compute()
    p = spa.pvalues
    return SPAResult(
        pvalue=float(p["consistent"]),
        pvalue_lower=float(p["lower"]),
        pvalue_upper=float(p["upper"]),
        best=int(np.argmax((m - b[:, None]).mean(axis=0))),
        n_candidates=int(m.shape[1]),
        n_obs=int(b.size),
        block_length=size,
        n_resamples=reps,
    )


def romano_wolf(
    benchmark: Any,
    candidates: Any,
    *,
    alpha: float = 0.05,
    n_resamples: int = 1000,
    block_length: float | None = None,
    seed: int | None,
) -> RomanoWolfResult:
    """Romano and Wolf's (2005) StepM: which candidates beat the benchmark (FWER <= alpha)?

    Args:
        benchmark: The benchmark's per-period returns.
        candidates: Per-period returns, rows = periods, columns = candidates.
        alpha: Family-wise error rate, in (0, 1).
        n_resamples: Bootstrap resamples.
        block_length: Mean block length; ``None`` estimates it.
        seed: Seed of the bootstrap's ``np.random.default_rng``.

    Returns:
        A :class:`RomanoWolfResult`.

    Raises:
        EvaluationError: On NaN, mismatched lengths, fewer than 2 periods or bad settings.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> bench, cands = rng.normal(0, 0.01, 500), rng.normal(0, 0.01, (500, 10))
        >>> cands[:, 4] += 0.004
        >>> romano_wolf(bench, cands, n_resamples=300, seed=1).superior
        (4,)
    """
    from arch.bootstrap import StepM

    a = check_level(alpha, "alpha")
    b, m, size, reps = _inputs(benchmark, candidates, block_length, n_resamples)
    step = StepM(-b, -m, size=a, block_size=size, reps=reps, seed=np.random.default_rng(seed))
    step.compute()
    # arch names superior models by column label; a 2-D array's labels are its positions
    superior = tuple(sorted(np.asarray(step.superior_models, dtype=np.int64).tolist()))
    return RomanoWolfResult(
        superior=superior,
        alpha=a,
        n_candidates=int(m.shape[1]),
        n_obs=int(b.size),
        block_length=size,
        n_resamples=reps,
    )
