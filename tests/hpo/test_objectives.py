from __future__ import annotations

import json

import numpy as np
import optuna
import pandas as pd
import pytest

from axon_lab.errors import ConfigError
from axon_lab.hpo import (
    RuleObjective,
    WalkForward,
    best_trials,
    create_study,
    export_best_params,
    study_results,
)

WF = WalkForward(train=600, test=300)


def _dominated(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """True if b dominates a (all maximised)."""
    return all(y >= x for x, y in zip(a, b, strict=True)) and any(
        y > x for x, y in zip(a, b, strict=True)
    )


def test_rule_objective_multi_objective_pareto_front_and_oos(frame: pd.DataFrame, tmp_path) -> None:
    obj = RuleObjective(frame, walk_forward=WF, fees=0.001)
    assert obj.directions == ("maximize", "maximize")
    assert len(obj.splits) == 3
    study = create_study(
        "rules", storage=":memory:", directions=obj.directions, seed=0, metric_names=obj.metrics
    )
    study.optimize(obj, n_trials=40)
    front = best_trials(study)
    values = [tuple(t.values) for t in study.trials]
    for t in front:
        assert not any(_dominated(tuple(t.values), v) for v in values)
    res = study_results(study)
    assert {"is_sharpe", "oos_sharpe", "is_max_drawdown", "oos_max_drawdown"} <= set(res.columns)
    assert res["oos_sharpe"].notna().all()
    assert res["on_pareto_front"].sum() == len(front)
    assert not np.allclose(res["is_sharpe"], res["oos_sharpe"])  # two different samples
    folds = study.trials[0].user_attrs["folds"]
    assert len(folds) == 3
    assert study.trials[0].values[0] == pytest.approx(
        np.mean([f["in_sample"]["sharpe"] for f in folds])
    )
    doc = export_best_params(study, tmp_path / "best.json")
    on_disk = json.loads((tmp_path / "best.json").read_text())
    assert on_disk == doc
    assert on_disk["metric_names"] == ["sharpe", "max_drawdown"]
    assert {b["number"] for b in on_disk["best"]} == {t.number for t in front}
    assert set(on_disk["best"][0]["oos"]) == {"sharpe", "max_drawdown"}


def test_rule_objective_is_fast_enough_for_thousands_of_trials(frame: pd.DataFrame) -> None:
    obj = RuleObjective(frame, walk_forward=WF, metrics=("sharpe",), fees=0.001)
    study = create_study("fast", storage=":memory:", seed=1)
    study.optimize(obj, n_trials=200)
    assert len(study.trials) == 200
    assert study.best_value == max(t.value for t in study.trials)


def test_objective_rejects_unknown_metrics(frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"metrics \['sharp'\] must be among"):
        RuleObjective(frame, metrics=("sharp",))


def test_export_needs_a_complete_trial(tmp_path) -> None:
    study = create_study("empty", storage=":memory:")
    with pytest.raises(ConfigError, match=r"no complete trial to export"):
        export_best_params(study, tmp_path / "x.json")


def test_sqlite_storage_persists_the_study(frame: pd.DataFrame, tmp_path) -> None:
    from axon_lab.hpo import close_storage

    url = f"sqlite:///{tmp_path / 'runs' / 'axon.db'}"
    obj = RuleObjective(frame, walk_forward=WF, metrics=("sharpe",), fees=0.001)
    study = create_study("persist", storage=url, seed=0, metric_names=obj.metrics)
    study.optimize(obj, n_trials=3)
    close_storage(study)
    again = create_study("persist", storage=url, seed=1)
    assert len(again.trials) == 3
    assert "is_sharpe" in study_results(again).columns
    close_storage(again)


def test_walk_forward_auto_and_errors() -> None:
    wf = WalkForward.auto(1000)
    assert wf.test == 200
    assert len(wf.splits(1000)) == 3
    with pytest.raises(ConfigError, match=r"No walk-forward split fits"):
        WalkForward(train=900, test=200).splits(1000)
    with pytest.raises(ConfigError, match=r"too few"):
        WalkForward.auto(5)


def test_pruned_trials_show_in_results() -> None:
    study = create_study("p", storage=":memory:", seed=0)

    def objective(trial: optuna.Trial) -> float:
        trial.report(1.0, 0)
        raise optuna.TrialPruned()

    study.optimize(objective, n_trials=2)
    assert set(study_results(study)["state"]) == {"pruned"}
