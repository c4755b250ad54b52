from __future__ import annotations

import hashlib
import json

import optuna
import pandas as pd
import pytest

from axon_lab.data import MarketView, make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.hpo import (
    AgentObjective,
    RLObjective,
    WalkForward,
    create_study,
    record_analyses,
    study_results,
)
from axon_lab.llm import CachedClient, MemoryCacheStore, ScriptedClient, SystemPrompt
from axon_lab.rl import EnvConfig

TINY = EnvConfig(window=4, episode_length=32)
FIXED = {"n_steps": 16, "batch_size": 32, "n_epochs": 1}


@pytest.fixture(scope="module")
def rl_frame() -> pd.DataFrame:
    return make_synthetic(900, timeframe="1h", seed=9)


def test_rl_objective_reports_is_and_oos(rl_frame: pd.DataFrame) -> None:
    obj = RLObjective(
        rl_frame,
        total_timesteps=64,
        config=TINY,
        walk_forward=WalkForward(train=200, test=100, max_splits=2),
        fixed=FIXED,
        n_envs=2,
        n_evaluations=2,
    )
    study = create_study("rl", storage=":memory:", directions=obj.directions, seed=0)
    study.optimize(obj, n_trials=1)
    res = study_results(study)
    assert res.loc[0, "state"] == "complete"
    assert {"params_learning_rate", "params_gamma", "oos_sharpe", "is_max_drawdown"} <= set(
        res.columns
    )
    assert len(study.trials[0].user_attrs["folds"]) == 2


def test_rl_trials_are_pruned_on_intermediate_evaluations(rl_frame: pd.DataFrame) -> None:
    obj = RLObjective(
        rl_frame,
        total_timesteps=256,
        config=TINY,
        walk_forward=WalkForward(train=200, test=100, max_splits=1),
        metrics=("sharpe",),
        fixed=FIXED,
        n_envs=2,
        n_evaluations=4,
    )
    pruner = optuna.pruners.ThresholdPruner(lower=float("inf"))  # prune at the first report
    study = create_study("prune", storage=":memory:", seed=0, pruner=pruner)
    study.optimize(obj, n_trials=2)
    states = {t.state for t in study.trials}
    assert states == {optuna.trial.TrialState.PRUNED}
    assert all(len(t.intermediate_values) == 1 for t in study.trials)


def test_rl_objective_validates_its_settings(rl_frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"validation_fraction=1\.5 must be in \(0, 1\)"):
        RLObjective(rl_frame, total_timesteps=8, config=TINY, validation_fraction=1.5)


def _scripted_answer(request) -> str:
    digest = hashlib.sha256(request.messages[-1]["content"].encode()).digest()
    return json.dumps(
        {
            "thought": "scripted",
            "market_assessment": "uptrend" if digest[0] % 2 else "downtrend",
            "risk_assessment": ("low", "medium", "high")[digest[1] % 3],
            "confidence": round(0.6 + (digest[2] % 40) / 100, 2),
            "action": "buy" if digest[0] % 2 else "sell",
            "reason": "scripted",
        }
    )


def test_agent_objective_over_recorded_analyses_replays_without_llm_calls() -> None:
    frame = make_synthetic(160, timeframe="1h", seed=2)
    view = MarketView(frame, feature_spec=["rsi_14"])
    times = view.decision_times()
    variants = {"base": SystemPrompt(), "cautious": SystemPrompt().with_rules("Prefer hold.")}
    store = MemoryCacheStore()
    live = ScriptedClient(_scripted_answer)
    recorded = record_analyses(
        CachedClient(live, mode="record", store=store), view, times, variants
    )
    assert len(live.requests) == 2 * len(times)
    again = ScriptedClient(_scripted_answer)
    replayed = record_analyses(
        CachedClient(again, mode="replay", store=store), view, times, variants
    )
    assert again.requests == []  # zero live calls on the rerun
    assert [a.action for a in replayed["base"]] == [a.action for a in recorded["base"]]

    obj = AgentObjective(frame, replayed, walk_forward=WalkForward(train=80, test=40), fees=0.001)
    assert "prompt_variant" in obj.space
    study = create_study("agent", storage=":memory:", directions=obj.directions, seed=0)
    study.optimize(obj, n_trials=20)
    res = study_results(study)
    assert set(res["params_prompt_variant"]) <= {"base", "cautious"}
    assert res["oos_sharpe"].notna().all()


def test_agent_objective_checks_alignment() -> None:
    frame = make_synthetic(50, seed=0)
    with pytest.raises(ConfigError, match=r"Variant 'v' has 3 analyses for 50 bars"):
        AgentObjective(frame, {"v": [None, None, None]})
    with pytest.raises(ConfigError, match=r"analyses is empty"):
        AgentObjective(frame, {})
    space = {"min_confidence": {"param_type": "uniform", "low": 0.5, "high": 0.4}}
    with pytest.raises(ConfigError, match=r"Parameter 'min_confidence': .*low=0\.5 >= high=0\.4"):
        AgentObjective(frame, {"v": [None] * 50}, space=space)
