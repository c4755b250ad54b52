from __future__ import annotations

import numpy as np
import optuna
import pytest

from axon_lab.errors import ConfigError
from axon_lab.viz import get_pareto_front_info, pareto_mask, plot_pareto_front

# (return, drawdown): maximise return, minimise drawdown
POINTS = [(0.10, 0.05), (0.20, 0.10), (0.15, 0.12), (0.05, 0.02), (0.20, 0.10), (0.12, 0.08)]
DIRS = ["maximize", "minimize"]


@pytest.fixture
def study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=DIRS)
    with pytest.warns(optuna.exceptions.ExperimentalWarning):  # set_metric_names is experimental
        study.set_metric_names(["return", "drawdown"])
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    for i, values in enumerate(POINTS):
        study.add_trial(
            optuna.trial.create_trial(params={"x": i / 10}, distributions=dist, values=list(values))
        )
    study.add_trial(
        optuna.trial.create_trial(
            params={"x": 0.9}, distributions=dist, state=optuna.trial.TrialState.FAIL
        )
    )
    return study


def test_front_of_value_tuples():
    info = get_pareto_front_info(POINTS, directions=DIRS, names=["return", "drawdown"])
    # (0.15, 0.12) is beaten by (0.20, 0.10); (0.12, 0.08) by nothing; the duplicate 0.20s stay
    assert info.on_front == [True, True, False, True, True, True]
    assert info.front == [3, 0, 5, 1, 4]  # sorted by return
    assert info.labels == [f"point {i}" for i in range(6)]
    assert info.values == POINTS
    assert (info.names, info.directions, info.axes) == (["return", "drawdown"], DIRS, (0, 1))


def test_mask_against_brute_force():
    rng = np.random.default_rng(0)
    pts = rng.integers(0, 6, size=(40, 3)).astype(float)  # ties on purpose
    dirs = ["minimize", "maximize", "minimize"]
    signed = pts * np.array([1.0, -1.0, 1.0])

    def dominated(i: int) -> bool:
        return any(
            (signed[j] <= signed[i]).all() and (signed[j] < signed[i]).any()
            for j in range(len(pts))
        )

    assert pareto_mask(pts, dirs).tolist() == [not dominated(i) for i in range(len(pts))]


def test_study_front_matches_optuna_best_trials(study):
    info = get_pareto_front_info(study)
    assert info.names == ["return", "drawdown"]
    assert info.directions == DIRS
    assert len(info.labels) == len(POINTS)  # the failed trial is skipped
    on_front = {info.labels[i] for i in info.front}
    assert on_front == {f"trial {t.number}" for t in study.best_trials}
    # best_trials alone: all on the front (directions are needed without the study)
    best = get_pareto_front_info(study.best_trials, directions=DIRS)
    assert all(best.on_front)
    assert sorted(best.labels) == sorted(on_front)


def test_three_objectives_draw_the_chosen_pair():
    pts = [(1.0, 1.0, 3.0), (2.0, 2.0, 1.0), (3.0, 3.0, 3.0)]
    info = get_pareto_front_info(pts, directions=["minimize"] * 3, axes=(2, 0))
    # (3, 3, 3) is beaten by (1, 1, 3); (2, 2, 1) survives on its third objective
    assert info.on_front == [True, True, False]
    assert info.front == [1, 0]  # by objective 2
    fig = plot_pareto_front(pts, directions=["minimize"] * 3, axes=(2, 0))
    assert list(fig.data[1].x) == [1.0, 3.0]
    assert list(fig.data[1].y) == [2.0, 1.0]


def test_renderer_draws_dominated_points_and_the_front(study):
    fig = plot_pareto_front(study)
    assert [(t.type, t.name) for t in fig.data] == [
        ("scatter", "dominated"),
        ("scatter", "Pareto front"),
    ]
    assert len(fig.data[0].x) == 1
    assert list(fig.data[1].x) == [0.05, 0.10, 0.12, 0.20, 0.20]
    assert list(fig.data[1].y) == [0.02, 0.05, 0.08, 0.10, 0.10]
    assert fig.data[1].text[0].startswith("trial 3<br>return (maximize): 0.05")
    assert fig.layout.xaxis.title.text == "return (maximize)"
    only_front = plot_pareto_front([(1.0, 2.0), (2.0, 1.0)], directions=["minimize"] * 2)
    assert [t.name for t in only_front.data] == ["Pareto front"]


def test_bad_inputs(study):
    with pytest.raises(ConfigError, match="directions is required for 2 objectives"):
        get_pareto_front_info(POINTS)
    with pytest.raises(ConfigError, match="differ from the study's"):
        get_pareto_front_info(study, directions=["minimize", "minimize"])
    with pytest.raises(ConfigError, match="direction 'up' is neither"):
        get_pareto_front_info(POINTS, directions=["up", "minimize"])
    with pytest.raises(ConfigError, match="2 objectives but 3 directions and 2 names"):
        get_pareto_front_info(POINTS, directions=["minimize"] * 3)
    with pytest.raises(ConfigError, match="at least two objectives"):
        get_pareto_front_info([(1.0,), (2.0,)], directions=["minimize"])
    with pytest.raises(ConfigError, match="point 1 has a different number of objectives"):
        get_pareto_front_info([(1.0, 2.0), (1.0, 2.0, 3.0)], directions=DIRS)
    with pytest.raises(ConfigError, match="point 0 has non-finite"):
        get_pareto_front_info([(float("nan"), 1.0)], directions=DIRS)
    with pytest.raises(ConfigError, match="point 0 is 'ab', not a sequence of numbers"):
        get_pareto_front_info(["ab"], directions=DIRS)
    with pytest.raises(ConfigError, match="no complete points"):
        get_pareto_front_info([], directions=DIRS)
    with pytest.raises(
        ConfigError, match=r"axes must be two different objective indices in \[0, 2\)"
    ):
        get_pareto_front_info(POINTS, directions=DIRS, axes=(0, 0))
    with pytest.raises(ConfigError, match="got int"):
        get_pareto_front_info(3, directions=DIRS)
