from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axon_lab.errors import ConfigError
from axon_lab.viz import get_training_curve_info, plot_training_curve

NAN = float("nan")


def test_monitor_log_with_rolling_mean():
    monitor = pd.DataFrame({"r": [1.0, 3.0, 2.0, 6.0], "l": [100, 120, 80, 100], "t": [0.1] * 4})
    log = pd.DataFrame({"timesteps": monitor["l"].cumsum(), "reward": monitor["r"]})
    info = get_training_curve_info(log, window=3)
    assert info.timesteps == [100, 220, 300, 400]
    assert info.reward == [1.0, 3.0, 2.0, 6.0]
    assert info.reward_smoothed == pytest.approx([1.0, 2.0, 2.0, 11 / 3])
    assert (info.eval_timesteps, info.eval_mean, info.eval_std) == ([], [], [])


def test_merged_frame_keeps_eval_rows_apart_from_reward_rows():
    log = pd.DataFrame(
        {
            "timesteps": [100, 200, 200, 300, 400],
            "reward": [1.0, 2.0, NAN, 4.0, 5.0],
            "eval_reward": [NAN, NAN, 7.5, NAN, 9.0],
            "episode_length": [100] * 5,  # extra columns are ignored
        }
    )
    info = get_training_curve_info(log)
    assert info.timesteps == [100, 200, 300, 400]
    assert info.reward == [1.0, 2.0, 4.0, 5.0]
    assert info.reward_smoothed == []
    assert (info.eval_timesteps, info.eval_mean, info.eval_std) == ([200, 400], [7.5, 9.0], [])


def test_evalcallback_results_give_mean_and_std():
    # evaluations.npz: timesteps (n_evals,), results (n_evals, n_eval_episodes)
    log = {
        "timesteps": np.array([10, 20, 30]),
        "reward": np.array([0.0, 1.0, 2.0]),
        "eval_timesteps": np.array([15, 30]),
        "eval_reward": np.array([[1.0, 3.0], [4.0, 4.0]]),
    }
    info = get_training_curve_info(log)
    assert info.eval_timesteps == [15, 30]
    assert info.eval_mean == [2.0, 4.0]
    assert info.eval_std == [1.0, 0.0]
    fig = plot_training_curve(log, window=2)
    assert [(t.type, t.name) for t in fig.data] == [
        ("scatter", "episode reward"),
        ("scatter", "episode reward (mean of 2)"),
        ("scatter", "eval reward"),
    ]
    assert [len(t.x) for t in fig.data] == [3, 3, 2]
    assert list(fig.data[2].error_y.array) == [1.0, 0.0]


def test_renderer_without_evaluations():
    fig = plot_training_curve({"timesteps": [1, 2], "reward": [0.5, 0.7]})
    assert [t.name for t in fig.data] == ["episode reward"]
    assert list(fig.data[0].y) == [0.5, 0.7]


def test_validation_history_alone():
    # what axon_lab.rl's TrainedPolicy.history holds: (timesteps, validation score)
    history = [(1_000, -0.5), (2_000, 0.25), (3_000, 0.75)]
    log = pd.DataFrame(history, columns=["timesteps", "eval_reward"])
    info = get_training_curve_info(log, window=5)
    assert (info.timesteps, info.reward, info.reward_smoothed) == ([], [], [])
    assert (info.eval_timesteps, info.eval_mean) == ([1_000, 2_000, 3_000], [-0.5, 0.25, 0.75])
    fig = plot_training_curve(log, window=5)
    assert [t.name for t in fig.data] == ["eval reward"]


def test_bad_logs_name_the_fix():
    with pytest.raises(
        ConfigError,
        match=r"log has no 'timesteps' column; its columns are \['r', 'l', 't'\]\. "
        r"SB3.*log\['l'\]\.cumsum\(\)",
    ):
        get_training_curve_info(pd.DataFrame({"r": [1.0], "l": [1], "t": [0.1]}))
    with pytest.raises(ConfigError, match="Rename 'rewards' to 'reward'"):
        get_training_curve_info({"timesteps": [1], "rewards": [1.0]})
    with pytest.raises(ConfigError, match="timesteps has 2 values but reward has 3"):
        get_training_curve_info({"timesteps": [1, 2], "reward": [1.0, 2.0, 3.0]})
    with pytest.raises(ConfigError, match="eval_reward has 1 values but timesteps has 2"):
        get_training_curve_info({"timesteps": [1, 2], "reward": [1.0, 2.0], "eval_reward": [1.0]})
    with pytest.raises(ConfigError, match="eval_reward has 2 rows but eval_timesteps has 1"):
        get_training_curve_info(
            {
                "timesteps": [1],
                "reward": [1.0],
                "eval_timesteps": [1],
                "eval_reward": [[1.0], [2.0]],
            }
        )
    with pytest.raises(ConfigError, match="log has no 'eval_reward' column"):
        get_training_curve_info({"timesteps": [1], "reward": [1.0], "eval_timesteps": [1]})
    with pytest.raises(ConfigError, match="not in increasing order"):
        get_training_curve_info({"timesteps": [2, 1], "reward": [1.0, 2.0]})
    with pytest.raises(ConfigError, match="no finite value"):
        get_training_curve_info({"timesteps": [1], "reward": [NAN]})
    with pytest.raises(ConfigError, match="no finite value"):
        get_training_curve_info({"timesteps": [1], "reward": [NAN], "eval_reward": [NAN]})
    with pytest.raises(ConfigError, match="'reward' is not numeric"):
        get_training_curve_info({"timesteps": [1], "reward": ["high"]})
    with pytest.raises(ConfigError, match="'reward' must be 1-D"):
        get_training_curve_info({"timesteps": [1], "reward": [[1.0]]})
    with pytest.raises(ConfigError, match="window must be an int >= 1"):
        get_training_curve_info({"timesteps": [1], "reward": [1.0]}, window=0)
    with pytest.raises(ConfigError, match="window must be an int >= 1"):
        get_training_curve_info({"timesteps": [1], "reward": [1.0]}, window=True)
    with pytest.raises(ConfigError, match="mapping of arrays, got list"):
        get_training_curve_info([1, 2])  # type: ignore[arg-type]
