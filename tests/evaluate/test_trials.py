"""The number of trials for the DSR, read from an Optuna study."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import deflated_sharpe, n_trials_from_study


def _study(states: list[TrialState]) -> optuna.Study:
    """A study whose trials end in ``states``, run through Optuna's own optimize loop."""
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    todo = iter(states)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        state = next(todo)
        if state == TrialState.PRUNED:
            raise optuna.TrialPruned
        return math.nan if state == TrialState.FAIL else x  # a NaN value fails the trial

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials log a warning
    try:
        study.optimize(objective, n_trials=len(states))
    finally:
        optuna.logging.set_verbosity(before)
    assert [t.state for t in study.trials] == states
    return study


def test_counts_complete_trials_only():
    states = [TrialState.COMPLETE] * 7 + [TrialState.PRUNED] * 3 + [TrialState.FAIL] * 2
    assert n_trials_from_study(_study(states)) == 7


def test_feeds_the_deflated_sharpe():
    study = _study([TrialState.COMPLETE] * 40)
    sweep = np.random.default_rng(0).normal(0.0, 0.01, (500, 5))  # 5 of the 40 kept
    res = deflated_sharpe(sweep, periods_per_year=252, n_trials=n_trials_from_study(study))
    assert res.n_trials == 40


def test_a_study_without_complete_trials_is_an_error():
    with pytest.raises(EvaluationError, match="no COMPLETE trial"):
        n_trials_from_study(_study([TrialState.FAIL, TrialState.PRUNED]))


def test_something_else_is_an_error():
    with pytest.raises(EvaluationError, match=r"must be an optuna\.Study; got int"):
        n_trials_from_study(12)  # type: ignore[arg-type]
