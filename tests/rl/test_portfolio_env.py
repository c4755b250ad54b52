"""The portfolio RL env (issue 22): weights as actions, both env checkers, the engine's fills."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from axon_lab.data import make_synthetic_universe
from axon_lab.errors import ConfigError
from axon_lab.rl import PORTFOLIO_ENV_ID, PortfolioEnv


@pytest.fixture(scope="module")
def universe():
    return make_synthetic_universe(6, 120, seed=4, listings=True)


def test_the_portfolio_env_passes_both_checkers(universe) -> None:
    env = gymnasium.make(PORTFOLIO_ENV_ID, data=universe, episode_length=30, warmup=20)
    gym_check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)
    assert env.action_space.shape == (6,)
    assert env.observation_space.shape == (36,)


def test_actions_become_capped_weights_on_tradable_symbols(universe) -> None:
    env = PortfolioEnv(universe, episode_length=40, warmup=20, invested=0.9, fees=0.0)
    env.reset(seed=0, options={"start": 30})
    w = env.weights(np.ones(6, dtype=np.float32))
    assert math.isclose(float(w.sum()), 0.9)
    row_has = universe.has_bar[30]
    assert (w[~row_has] == 0).all()
    low = env.weights(np.full(6, -0.8, dtype=np.float32))
    np.testing.assert_allclose(low, np.where(row_has, 0.1, 0.0))
    with pytest.raises(ConfigError, match="expected"):
        env.weights(np.zeros(3))


def test_reward_is_the_log_growth_of_the_engines_equity(universe) -> None:
    env = PortfolioEnv(universe, episode_length=20, warmup=20, fees=0.001)
    obs, info = env.reset(seed=1, options={"start": 40})
    total, equity = 0.0, info["equity"]
    rng = np.random.default_rng(0)
    for _ in range(20):
        obs, reward, terminated, truncated, info = env.step(
            rng.uniform(-1, 1, 6).astype(np.float32)
        )
        total += float(reward)
        assert env.observation_space.contains(obs)
        if terminated or truncated:
            break
    assert truncated
    assert math.isclose(math.exp(total) * equity, info["equity"], rel_tol=1e-9)
    assert env._backend is not None
    assert env._backend.fills


def test_bad_settings_are_refused(universe) -> None:
    with pytest.raises(ConfigError, match="exceeds the 120 rows"):
        PortfolioEnv(universe, episode_length=200)
    env = PortfolioEnv(universe, episode_length=20, warmup=20)
    with pytest.raises(ConfigError, match="call reset"):
        env.step(np.zeros(6, dtype=np.float32))
