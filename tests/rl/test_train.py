from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gymnasium import spaces

from axon_lab import backtest
from axon_lab.errors import ConfigError
from axon_lab.rl import (
    EnvConfig,
    RandomPolicy,
    TrainedPolicy,
    ValidationCallback,
    evaluate_policy,
    train_policy,
)

TINY = EnvConfig(window=4, episode_length=32)
TINY_PPO = {"n_steps": 16, "batch_size": 32, "n_epochs": 1}


def _split(f: pd.DataFrame, at: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    a, b = f.iloc[:at].copy(), f.iloc[at:].copy()
    a.attrs = b.attrs = dict(f.attrs)
    return a, b


def test_ppo_beats_a_random_policy_out_of_sample(trending: pd.DataFrame) -> None:
    train, test = _split(trending, 1000)
    cfg = EnvConfig(window=8, episode_length=128, fees=0.001)
    policy = train_policy(
        train,
        algo="ppo",
        total_timesteps=6144,
        config=cfg,
        n_envs=8,
        seed=0,
        hyperparams={"n_steps": 64, "batch_size": 128, "n_epochs": 4, "learning_rate": 1e-3},
    )
    trained = evaluate_policy(policy, test).stats()
    randoms = [
        evaluate_policy(RandomPolicy(spaces.Discrete(3), seed=s), test, config=cfg).stats()
        for s in range(3)
    ]
    best_random = max(float(r["total_return"]) for r in randoms)
    assert float(trained["total_return"]) > best_random + 0.1
    assert float(trained["sharpe"]) > max(float(r["sharpe"]) for r in randoms)


@pytest.mark.parametrize(("algo", "action_type"), [("a2c", "continuous"), ("dqn", "discrete")])
def test_other_algorithms_train_save_and_load(
    frame: pd.DataFrame, tmp_path, algo: str, action_type: str
) -> None:
    hp = {"n_steps": 8} if algo == "a2c" else {"learning_starts": 16, "buffer_size": 500}
    cfg = EnvConfig(window=4, episode_length=32, action_type=action_type)
    policy = train_policy(
        frame, algo=algo, total_timesteps=96, config=cfg, n_envs=2, seed=0, hyperparams=hp
    )
    path = policy.save(tmp_path / "model")
    loaded = TrainedPolicy.load(path)
    assert (loaded.algo, loaded.config) == (algo, cfg)
    obs = np.random.default_rng(0).normal(size=(5, policy.model.observation_space.shape[0]))
    obs = obs.astype(np.float32)
    np.testing.assert_array_equal(policy.predict(obs)[0], loaded.predict(obs)[0])


def test_dqn_rejects_continuous_actions(frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"DQN needs action_type='discrete'"):
        train_policy(
            frame, algo="dqn", total_timesteps=8, config=EnvConfig(action_type="continuous")
        )
    with pytest.raises(ConfigError, match=r"algo='sac' is not one of"):
        train_policy(frame, algo="sac", total_timesteps=8)


def test_load_names_the_missing_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"No saved policy at .*nothing"):
        TrainedPolicy.load(tmp_path / "nothing")


def test_validation_history_and_early_stop(frame: pd.DataFrame, monkeypatch) -> None:
    train, val = _split(frame, 800)
    monkeypatch.setattr(ValidationCallback, "score", lambda self: 1.0)  # a plateau
    seen: list[tuple[int, float]] = []
    policy = train_policy(
        train,
        total_timesteps=2048,
        config=TINY,
        n_envs=2,
        seed=0,
        hyperparams=TINY_PPO,
        validation=val,
        eval_freq=64,
        patience=2,
        on_evaluation=lambda steps, score: seen.append((steps, score)),
    )
    assert policy.stopped_early
    assert len(policy.history) == 3  # the best, then two without improvement
    assert seen == policy.history
    assert policy.model.num_timesteps < 2048


def test_on_evaluation_can_abort_training(frame: pd.DataFrame) -> None:
    train, val = _split(frame, 800)

    class StopError(Exception):
        pass

    def hook(steps: int, score: float) -> None:
        raise StopError(steps)

    with pytest.raises(StopError):
        train_policy(
            train,
            total_timesteps=512,
            config=TINY,
            n_envs=2,
            hyperparams=TINY_PPO,
            validation=val,
            eval_freq=64,
            on_evaluation=hook,
        )


def test_evaluate_returns_backtest_stats_and_matches_the_env(frame: pd.DataFrame) -> None:
    policy = RandomPolicy(spaces.Discrete(3), seed=0)
    ev = evaluate_policy(policy, frame, config=TINY, windows=[(300, 400), (500, 600)])
    stats = ev.stats()
    assert list(stats.columns) == list(backtest.STATS_KEYS)
    assert len(stats) == 2
    assert ev.targets.shape == (100, 2)
    assert np.isnan(ev.targets[-1]).all()
    with pytest.raises(ConfigError, match=r"test windows must have one length"):
        evaluate_policy(policy, frame, config=TINY, windows=[(300, 400), (500, 550)])
    with pytest.raises(ConfigError, match=r"test window \(0, 50\) must satisfy"):
        evaluate_policy(policy, frame, config=TINY, windows=[(0, 50)])
    with pytest.raises(ConfigError, match=r"Pass config=EnvConfig"):
        evaluate_policy(policy, frame)
