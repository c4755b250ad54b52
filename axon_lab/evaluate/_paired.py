"""A paired comparison of the agent against one baseline over the same windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._bootstrap import Interval, bootstrap_interval
from axon_lab.evaluate._checks import as_vector

__all__ = ["PairedComparison", "paired_comparison"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PairedComparison:
    """The agent against one baseline, window by window.

    Attributes:
        n: Number of windows compared.
        win_rate: Share of windows in which the agent scored strictly higher.
        n_ties: Windows with equal scores (counted neither as wins nor as losses).
        mean_diff: Mean of ``agent - baseline`` over the windows.
        interval: Stationary-bootstrap interval of the mean difference.
    """

    n: int
    win_rate: float
    n_ties: int
    mean_diff: float
    interval: Interval


def paired_comparison(
    agent: Any,
    baseline: Any,
    *,
    level: float = 0.95,
    n_resamples: int = 2000,
    block_length: float | None = None,
    seed: int | None,
) -> PairedComparison:
    """Compare per-window scores (returns, Sharpe ratios, ...) of an agent and a baseline.

    The two series must come from the same windows in the same order: the test works on the
    differences, so what the windows share (the market) cancels. The interval of the mean
    difference comes from the stationary bootstrap of the differences (Politis & Romano 1994),
    since consecutive walk-forward windows can be dependent.

    Args:
        agent: The agent's score per window (at least 2).
        baseline: The baseline's score on the same windows.
        level: Coverage of the interval, in (0, 1).
        n_resamples: Bootstrap resamples.
        block_length: Mean block length; ``None`` estimates it.
        seed: Seed of the bootstrap's ``np.random.default_rng``.

    Returns:
        A :class:`PairedComparison`.

    Raises:
        EvaluationError: If the series differ in length, hold NaN, or have fewer than 2 values.

    Examples:
        >>> res = paired_comparison([0.03, 0.01, 0.02, 0.05], [0.01, 0.02, 0.0, 0.01], seed=0)
        >>> res.n, res.win_rate, round(res.mean_diff, 4)
        (4, 0.75, 0.0175)
    """
    a = as_vector(agent, "agent")
    b = as_vector(baseline, "baseline")
    if a.size != b.size:
        raise EvaluationError(
            f"agent has {a.size} windows but baseline has {b.size}; score both on the same "
            "windows, in the same order."
        )
    diff = a - b
    interval = bootstrap_interval(
        diff,
        np.mean,
        level=level,
        n_resamples=n_resamples,
        block_length=block_length,
        seed=seed,
    )
    return PairedComparison(
        n=int(diff.size),
        win_rate=float(np.mean(diff > 0.0)),
        n_ties=int(np.sum(diff == 0.0)),
        mean_diff=float(diff.mean()),
        interval=interval,
    )
