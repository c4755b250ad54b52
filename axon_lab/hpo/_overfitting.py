"""The deflated Sharpe ratio and the PBO of a sweep, next to its best trial.

A sweep picks its best trial out of many; its Sharpe ratio must clear what the best of that many
skill-less trials would reach. Objectives that have each test window's equity (e.g.
:class:`~axon_lab.hpo.RuleObjective`) record every trial's out-of-sample returns in contiguous
blocks (user attr ``oos_block_returns``, :data:`~axon_lab.hpo._objective.OOS_BLOCKS_PER_FOLD` per
walk-forward split, with ``oos_blocks_per_year``). From them:

- the deflated Sharpe ratio of the best trial (the Pareto front's trial with the highest first
  objective): :func:`~axon_lab.evaluate.sharpe_test` of its block returns with ``n_trials`` =
  every complete trial of the study (:func:`~axon_lab.evaluate.n_trials_from_study`) and the
  variance of all recorded trials' annualised Sharpe ratios;
- the PBO by CSCV (:func:`~axon_lab.evaluate.probability_of_backtest_overfitting`) over the
  blocks x trials matrix, with as many partitions as the blocks allow (even, two blocks or more
  each, at most 16); trials whose returns never vary (no trade) are left out of it.

The statistics come from :mod:`axon_lab.evaluate`; nothing is re-implemented here.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError

__all__ = ["SweepOverfitting", "sweep_overfitting"]


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class SweepOverfitting:
    """The best trial of a sweep with its deflated Sharpe ratio and the sweep's PBO.

    Attributes:
        best_trial: Number of the best trial (None without complete trials).
        n_trials: Complete trials of the study (the DSR's N).
        n_recorded: Trials with recorded out-of-sample block returns used here.
        sharpe: The best trial's Sharpe test (``dsr``, ``psr``, ``sharpe``), or None.
        pbo: The PBO result, or None.
        note: Why a number is missing (empty when both are there).
    """

    best_trial: int | None
    n_trials: int
    n_recorded: int
    sharpe: Any
    pbo: Any
    note: str

    def describe(self) -> str:
        """One line for a sweep summary."""
        parts = [f"best trial {self.best_trial}"]
        if self.sharpe is not None:
            parts.append(
                f"out-of-sample Sharpe {self.sharpe.sharpe:.2f}, deflated Sharpe "
                f"{self.sharpe.dsr:.2f} (best of {self.n_trials} trials)"
            )
        if self.pbo is not None:
            parts.append(
                f"PBO {self.pbo.pbo:.2f} (CSCV, {self.pbo.n_partitions} blocks, "
                f"{self.pbo.n_strategies} trials)"
            )
        text = "; ".join(parts)
        return f"{text}; {self.note}" if self.note else text

    def __repr__(self) -> str:
        return f"SweepOverfitting({self.describe()!r})"


def _best(study: Any) -> Any:
    from axon_lab.hpo._study import best_trials

    front = best_trials(study)
    if not front:
        return None
    return max(front, key=lambda t: (t.values[0], -t.number))


def sweep_overfitting(study: Any) -> SweepOverfitting:
    """Deflated Sharpe of the best trial and PBO of the sweep (see the module docstring).

    Args:
        study: An Optuna study whose objective recorded ``oos_block_returns``.

    Returns:
        The :class:`SweepOverfitting`; a missing number comes with a note saying why.
    """
    import optuna

    from axon_lab.evaluate import (
        n_trials_from_study,
        probability_of_backtest_overfitting,
        sharpe_test,
    )

    complete = [
        t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE
    ]
    n_trials = n_trials_from_study(study) if complete else 0
    best = _best(study) if complete else None
    if best is None:
        return SweepOverfitting(
            best_trial=None, n_trials=0, n_recorded=0, sharpe=None, pbo=None, note="no trials"
        )
    recorded = [t for t in complete if t.user_attrs.get("oos_block_returns")]
    lengths = Counter(len(t.user_attrs["oos_block_returns"]) for t in recorded)
    notes: list[str] = []
    if not recorded or best not in recorded:
        return SweepOverfitting(
            best_trial=best.number,
            n_trials=n_trials,
            n_recorded=len(recorded),
            sharpe=None,
            pbo=None,
            note="no DSR/PBO: the objective records no out-of-sample block returns",
        )
    size = len(best.user_attrs["oos_block_returns"])
    same = [t for t in recorded if len(t.user_attrs["oos_block_returns"]) == size]
    if lengths[size] != len(recorded):
        notes.append(f"{len(recorded) - len(same)} trials with other splits left out")
    matrix = np.array([t.user_attrs["oos_block_returns"] for t in same], dtype=float).T
    per_year = float(best.user_attrs.get("oos_blocks_per_year") or 1.0)
    stds = matrix.std(axis=0, ddof=1)
    live = stds > 1e-15
    sharpes = matrix[:, live].mean(axis=0) / stds[live] * math.sqrt(per_year)
    column = [t.number for t in same].index(best.number)
    sharpe = None
    try:
        variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
        sharpe = sharpe_test(
            matrix[:, column],
            periods_per_year=per_year,
            n_trials=n_trials,
            trial_sharpe_variance=variance if n_trials > 1 else None,
        )
    except EvaluationError as exc:
        notes.append(f"no DSR: {exc}")
    pbo = None
    half = size // 2  # CSCV needs at least two periods in each partition
    partitions = min(16, half - half % 2)
    try:
        pbo = probability_of_backtest_overfitting(matrix[:, live], n_partitions=partitions)
    except EvaluationError as exc:
        notes.append(f"no PBO: {exc}")
    return SweepOverfitting(
        best_trial=best.number,
        n_trials=n_trials,
        n_recorded=len(same),
        sharpe=sharpe,
        pbo=pbo,
        note="; ".join(notes),
    )
