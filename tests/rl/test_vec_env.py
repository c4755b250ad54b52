from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv

from axon_lab.errors import ConfigError
from axon_lab.rl import BatchedTradingEnv, TradingEnv

SMALL = {"window": 8, "episode_length": 30}


def test_is_an_sb3_vecenv_with_batched_shapes(frame: pd.DataFrame) -> None:
    venv = BatchedTradingEnv(frame, n_envs=5, seed=0, **SMALL)
    assert isinstance(venv, VecEnv)
    obs = venv.reset()
    assert obs.shape == (5, venv.observation_space.shape[0])
    assert obs.dtype == np.float32
    obs, rewards, dones, infos = venv.step(np.zeros(5, dtype=np.int64))
    assert rewards.shape == (5,)
    assert dones.shape == (5,)
    assert len(infos) == 5


def test_matches_single_envs_step_for_step(frame: pd.DataFrame) -> None:
    n = 4
    venv = BatchedTradingEnv(frame, n_envs=n, seed=0, fees=0.001, **SMALL)
    starts = [300, 450, 451, 600]
    venv.set_options([{"start": s} for s in starts])
    vobs = venv.reset()
    singles = [TradingEnv(frame, fees=0.001, **SMALL) for _ in range(n)]
    sobs = np.stack(
        [e.reset(options={"start": s})[0] for e, s in zip(singles, starts, strict=True)]
    )
    np.testing.assert_array_equal(vobs, sobs)
    rng = np.random.default_rng(1)
    for _ in range(SMALL["episode_length"] - 1):
        actions = rng.integers(0, 3, size=n)
        vobs, vrew, _, _ = venv.step(actions)
        outs = [e.step(a) for e, a in zip(singles, actions, strict=True)]
        np.testing.assert_array_equal(vobs, np.stack([o[0] for o in outs]))
        np.testing.assert_allclose(vrew, [o[1] for o in outs], rtol=1e-6)


def test_finished_episodes_restart_with_terminal_observation(frame: pd.DataFrame) -> None:
    venv = BatchedTradingEnv(frame, n_envs=3, seed=0, **SMALL)
    venv.reset()
    for _ in range(SMALL["episode_length"] - 1):
        _, _, dones, _ = venv.step(np.ones(3, dtype=np.int64))
        assert not dones.any()
    obs, _, dones, infos = venv.step(np.ones(3, dtype=np.int64))
    assert dones.all()
    for i, info in enumerate(infos):
        assert info["TimeLimit.truncated"] is True
        assert info["terminal_observation"].shape == obs[i].shape
    assert (venv.sim.n_fills == 0).all()  # the new episodes start flat
    assert (venv.sim.equity == venv.config.init_cash).all()


def test_seed_makes_windows_reproducible(frame: pd.DataFrame) -> None:
    a = BatchedTradingEnv(frame, n_envs=6, **SMALL)
    b = BatchedTradingEnv(frame, n_envs=6, **SMALL)
    a.seed(7)
    b.seed(7)
    np.testing.assert_array_equal(a.reset(), b.reset())


def test_invalid_actions_are_config_errors(frame: pd.DataFrame) -> None:
    venv = BatchedTradingEnv(frame, n_envs=2, seed=0, **SMALL)
    venv.reset()
    with pytest.raises(ConfigError, match=r"action 5 \(env 1\) is outside Discrete\(3\)"):
        venv.step(np.array([0, 5]))
    with pytest.raises(ConfigError, match=r"Expected 2 action\(s\) for 2 env\(s\)"):
        venv.step(np.array([0, 1, 2]))


def test_sb3_trains_on_it(frame: pd.DataFrame) -> None:
    venv = BatchedTradingEnv(frame, n_envs=4, seed=0, action_type="continuous", **SMALL)
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(128)
    assert model.num_timesteps == 128
