"""LoopObjective and the objective registry: agents scored through the loop and the risk chain."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import optuna
import pytest
from typer.testing import CliRunner

from axon_lab.cli import app
from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore
from axon_lab.hpo import (
    LoopObjective,
    SweepSpec,
    WalkForward,
    create_study,
    make_objective,
    register_objective,
    run_sweep,
)
from axon_lab.risk import RiskLimits

DATA = make_synthetic(420, timeframe="1h", start="2024-01-01", seed=12, symbol="SYN")
SPLITS = WalkForward(train=160, test=100)


def _sharpe(equity: list[float], per_year: float) -> float:
    """Sharpe of an equity curve (first value: the cash), written out for the test."""
    r = [b / a - 1.0 for a, b in itertools.pairwise(equity)]
    mean = sum(r) / len(r)
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / (len(r) - 1))
    return mean / sd * math.sqrt(per_year)


def test_each_window_is_a_recorded_loop_run_and_the_score_is_its_equity(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    objective = LoopObjective(DATA, walk_forward=SPLITS, store=url, metrics=("sharpe",))
    study = create_study("loopobj", storage=":memory:", directions=objective.directions, seed=0)
    study.optimize(objective, n_trials=2)
    objective.close()
    trial = study.trials[1]
    with ExplainStore(url) as store:
        is_run, oos_run = trial.user_attrs["runs_fold_0"]
        steps = store.steps(oos_run)
        # the window's first decision is the test window's first bar; history came before it
        test_idx = objective.splits[0][1]
        assert steps[0].timestamp == DATA.index[int(test_idx[0])].to_pydatetime()
        assert len(steps) == len(test_idx)
        # every decision went through the risk chain: verdicts are recorded with the orders
        assert any(s.verdicts for s in steps)
        per_year = 365 * 24  # hourly bars, seven days a week
        equity = [100_000.0, *(s.equity for s in steps)]
        oos = trial.user_attrs["folds"][0]["out_of_sample"]["sharpe"]
        assert oos == pytest.approx(_sharpe(equity, per_year), rel=1e-9)
        assert len(store.steps(is_run)) == len(objective.splits[0][0])
    assert sorted(trial.params) == ["risk_fraction", "stop_atr"]
    assert len(trial.user_attrs["oos_block_returns"]) > 0  # the sweep's DSR and PBO read them


def test_the_risk_chain_binds_the_scored_agent() -> None:
    """Limits that refuse every order leave the equity flat: the score is the loop's, not a
    backtest of the analyst's wishes."""

    def refused(params: dict[str, Any]) -> dict[str, Any]:
        return {"limits": RiskLimits(max_daily_orders=0), **params}

    objective = LoopObjective(DATA, refused, walk_forward=SPLITS, metrics=("total_return",))
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    folds = study.trials[0].user_attrs["folds"]
    assert all(f["out_of_sample"]["total_return"] == 0.0 for f in folds)
    steps = objective.explain_store.steps(study.trials[0].user_attrs["runs_fold_0"][1])
    rejected = [v for s in steps for v in s.verdicts if not v.approved]
    assert rejected
    assert {v.rule for v in rejected} == {"max_daily_orders"}
    objective.close()


class _TrendPolicy:
    """A stand-in RL policy (what RLPolicy reads): buys after a rise, sells after a fall."""

    def __init__(self) -> None:
        from axon_lab.rl import EnvConfig

        self.config = EnvConfig(window=4)
        self.features = ("ret_1",)
        self.algo = "stub"

    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        rising = obs[:, 0].reshape(len(obs), -1)[:, -1] > 0  # the newest return in the window
        out = np.full((len(obs), 3), 0.05)
        out[rising, 1] = 0.9
        out[~rising, 2] = 0.9
        return out


def test_an_rl_policy_is_scored_through_the_loop() -> None:
    from axon_lab.rl import RLPolicy

    policy = _TrendPolicy()
    data = make_synthetic(700, timeframe="1h", start="2024-01-01", seed=3, symbol="SYN")
    objective = LoopObjective(
        data,
        lambda p: {"analyst": RLPolicy(policy, data), **p},
        # the policy's features need ~260 bars of history: the last split starts after them
        walk_forward=WalkForward(train=150, test=100, max_splits=1),
        metrics=("sharpe",),
    )
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    run = study.trials[0].user_attrs["runs_fold_0"][1]
    steps = objective.explain_store.steps(run)
    assert {s.analysis.source.value for s in steps if s.analysis} == {"rl"}
    assert any(s.fills for s in steps)
    objective.close()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="not measured on a loop's equity"):
        LoopObjective(DATA, metrics=("win_rate",))
    with pytest.raises(ConfigError, match="canonical OHLCV DataFrame"):
        LoopObjective("bars.csv")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="warmup must be an int >= 0"):
        LoopObjective(DATA, warmup=-1)
    objective = LoopObjective(DATA, lambda p: ["not", "kwargs"], walk_forward=SPLITS)  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigError, match="must return make_agent keyword arguments"):
        optuna.create_study(directions=objective.directions).optimize(objective, n_trials=1)


def test_objectives_by_name_registered_or_imported() -> None:
    assert type(make_objective("sma", DATA, {"fees": 0.0})).__name__ == "RuleObjective"
    assert type(make_objective("loop", DATA, {"cash": 5_000.0})).__name__ == "LoopObjective"
    with pytest.raises(ConfigError, match="unknown objective 'smaa'"):
        make_objective("smaa", DATA)
    with pytest.raises(ConfigError, match=r"options \['cahs'\] are not make_agent arguments"):
        make_objective("loop", DATA, {"cahs": 1.0})
    with pytest.raises(ConfigError, match="cannot import the objective's module 'no_such_mod'"):
        make_objective("no_such_mod:factory", DATA)
    imported = make_objective("tests.hpo._custom_objective:build", DATA, {"fees": 0.0})
    assert type(imported).__name__ == "LoopObjective"
    register_objective("test-loop-registered", lambda data, opts: LoopObjective(data))
    assert isinstance(make_objective("test-loop-registered", DATA), LoopObjective)
    with pytest.raises(ConfigError, match="is registered already"):
        register_objective("sma", lambda data, opts: LoopObjective(data))


def test_sweep_workers_run_the_loop_objective(tmp_path: Any) -> None:
    path = tmp_path / "bars.csv"
    DATA.to_csv(path)
    spec = SweepSpec(
        study="loop-sweep",
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        data=str(path),
        objective="loop",
        options={"cash": 10_000.0},
    )
    result = run_sweep(spec, n_workers=2, n_trials=2)
    assert len(result.results) == 2
    assert set(result.results.columns) >= {"params_risk_fraction", "params_stop_atr"}
    assert result.results["oos_sharpe"].notna().all()


def test_cli_sweep_takes_an_objective_and_its_options(tmp_path: Any) -> None:
    path = tmp_path / "bars.csv"
    DATA.to_csv(path)
    args = ["sweep", "--storage", f"sqlite:///{tmp_path / 's.db'}", "--workers", "1"]
    args += ["--trials", "1", "--data", str(path), "--objective", "loop"]
    out = CliRunner().invoke(app, [*args, "--option", "cash=20000"])
    assert out.exit_code == 0, out.output
    assert "params_risk_fraction" in out.output
    bad = CliRunner().invoke(app, [*args, "--option", "cash"])
    assert bad.exit_code == 2
    assert "is not KEY=VALUE" in bad.output
