"""A sweep's deflated Sharpe and PBO next to its best trial, from recorded out-of-sample blocks."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.data import make_synthetic
from axon_lab.evaluate import probability_of_backtest_overfitting
from axon_lab.hpo import BaseObjective, FoldScore, RuleObjective, best_trials, sweep_overfitting
from axon_lab.hpo._objective import block_returns


@given(
    st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=1, max_size=60),
    st.integers(1, 12),
)
def test_block_returns_compound_to_the_total(returns: list[float], n_blocks: int) -> None:
    equity = [1000.0]
    for r in returns:
        equity.append(equity[-1] * (1.0 + r))
    blocks = block_returns(equity, n_blocks)
    assert len(blocks) == min(n_blocks, len(returns))
    assert math.prod(1.0 + b for b in blocks) == pytest.approx(equity[-1] / equity[0], rel=1e-9)


def _study(objective: object, n: int) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        directions=objective.directions,  # type: ignore[attr-defined]
        sampler=optuna.samplers.TPESampler(seed=0),
    )
    study.optimize(objective, n_trials=n)  # type: ignore[arg-type]
    return study


def test_the_best_trial_is_deflated_by_every_trial_and_pbo_uses_every_trials_blocks() -> None:
    objective = RuleObjective(make_synthetic(900, timeframe="1d", seed=4, symbol="S"), fees=0.001)
    study = _study(objective, 12)
    result = sweep_overfitting(study)
    front = best_trials(study)
    assert result.best_trial in {t.number for t in front}
    assert result.n_trials == 12
    assert result.sharpe is not None
    assert result.sharpe.n_trials == 12
    assert result.sharpe.dsr <= result.sharpe.psr  # deflating never raises the probability
    # the PBO is CSCV over the recorded blocks of the trials that traded
    blocks = np.array([t.user_attrs["oos_block_returns"] for t in study.trials], dtype=float).T
    live = blocks.std(axis=0, ddof=1) > 1e-15
    assert blocks.shape[0] == 8 * len(objective.splits)
    expected = probability_of_backtest_overfitting(blocks[:, live], n_partitions=12)
    assert result.pbo is not None
    assert result.pbo.pbo == expected.pbo
    text = result.describe()
    assert f"best trial {result.best_trial}" in text
    assert "deflated Sharpe" in text
    assert "PBO" in text


class _NoEquity(BaseObjective):
    def _score_fold(self, params, train_idx, test_idx, trial, fold):  # type: ignore[no-untyped-def]
        return FoldScore(in_sample={"sharpe": params["x"]}, out_of_sample={"sharpe": 0.0})


def test_an_objective_without_out_of_sample_equity_says_so() -> None:
    objective = _NoEquity(
        {"x": {"param_type": "uniform", "low": 0.0, "high": 1.0}}, 300, metrics=("sharpe",)
    )
    result = sweep_overfitting(_study(objective, 3))
    assert result.sharpe is None
    assert result.pbo is None
    assert "records no out-of-sample block returns" in result.describe()
