from __future__ import annotations

import subprocess
import sys

import gymnasium
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from axon_lab import backtest
from axon_lab.errors import ConfigError
from axon_lab.rl import ENV_ID, EnvConfig, TradingEnv, make_market, make_reward

SMALL = {"window": 8, "episode_length": 40}


@pytest.mark.parametrize("action_type", ["discrete", "continuous"])
def test_env_passes_gymnasium_and_sb3_checkers(frame: pd.DataFrame, action_type: str) -> None:
    env = gymnasium.make(ENV_ID, data=frame, action_type=action_type, **SMALL)
    gym_check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)


def test_make_reads_any_file_the_loader_reads(frame: pd.DataFrame, tmp_path) -> None:
    path = tmp_path / "bars.csv"
    frame.to_csv(path)
    env = gymnasium.make(ENV_ID, data=str(path), **SMALL)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.close()


def test_import_axon_lab_stays_light() -> None:
    code = (
        "import sys, axon_lab; "
        "print([m for m in ('torch', 'stable_baselines3', 'optuna', 'gymnasium') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_observation_ignores_future_bars(frame: pd.DataFrame) -> None:
    cut = 700
    changed = frame.copy()
    changed.iloc[cut + 1 :, :4] *= 3.0  # every bar after the cut is different
    a = TradingEnv(frame, **SMALL)
    b = TradingEnv(changed, **SMALL)
    start = cut - 20
    oa, _ = a.reset(options={"start": start})
    ob, _ = b.reset(options={"start": start})
    for _ in range(20):  # up to and including bar `cut`
        np.testing.assert_array_equal(oa, ob)
        oa, *_ = a.step(1)
        ob, *_ = b.step(1)
    np.testing.assert_array_equal(oa, ob)  # observation at bar `cut`
    oa, *_ = a.step(1)
    ob, *_ = b.step(1)
    assert not np.array_equal(oa, ob)  # bar cut + 1 is now visible


@pytest.mark.parametrize(
    ("action_type", "direction"), [("discrete", "both"), ("continuous", "long")]
)
def test_env_equity_equals_a_backtest_of_the_same_targets(
    frame: pd.DataFrame, action_type: str, direction: str
) -> None:
    cfg = EnvConfig(
        **SMALL, action_type=action_type, direction=direction, fees=0.002, slippage_bps=5.0
    )
    env = TradingEnv(frame, cfg)
    start = 300
    env.reset(options={"start": start})
    rng = np.random.default_rng(0)
    targets, equity = [], []
    for _ in range(cfg.episode_length):
        action = rng.integers(0, 3) if action_type == "discrete" else rng.uniform(-1, 1, 1)
        targets.append(env.sim.targets(action)[0])
        _, _, terminated, truncated, info = env.step(action)
        equity.append(info["equity"])
    assert truncated
    assert not terminated
    prices = env.market.prices(start, start + cfg.episode_length + 1)
    res = backtest.run(
        prices,
        target=[*targets, np.nan],
        fees=cfg.fees,
        slippage_bps=cfg.slippage_bps,
        direction=direction,
        init_cash=cfg.init_cash,
    )
    np.testing.assert_allclose(res.equity.iloc[1:, 0].to_numpy(), equity, rtol=1e-12)


def test_reset_seed_draws_reproducible_random_windows(frame: pd.DataFrame) -> None:
    env = TradingEnv(frame, **SMALL)
    starts = [env.reset(seed=s)[1]["bar"] for s in (1, 1, 2, 3, 4)]
    assert starts[0] == starts[1]
    assert len(set(starts[1:])) > 1


def test_window_longer_than_the_data_is_a_config_error(frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"window=1100 plus episode_length=200 does not fit"):
        TradingEnv(frame, window=1100, episode_length=200)


@pytest.mark.parametrize(
    ("action_type", "action", "match"),
    [
        ("discrete", 3, r"action 3 \(env 0\) is outside Discrete\(3\)"),
        ("discrete", -1, r"outside Discrete\(3\); use 0 \(hold\)"),
        ("continuous", [1.5], r"action 1\.5 \(env 0\) is outside Box\(-1, 1\)"),
        ("continuous", [float("nan")], r"outside Box\(-1, 1\); clip"),
    ],
)
def test_action_outside_the_space_is_a_config_error(
    frame: pd.DataFrame, action_type: str, action: object, match: str
) -> None:
    env = TradingEnv(frame, action_type=action_type, **SMALL)
    env.reset(seed=0)
    with pytest.raises(ConfigError, match=match):
        env.step(action)


def test_bad_settings_name_the_value(frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"reward='log_returns' .* Did you mean 'log_return'"):
        EnvConfig(reward="log_returns")
    with pytest.raises(ConfigError, match=r"Unknown setting\(s\) \['windw'\]"):
        TradingEnv(frame, windw=3)
    with pytest.raises(ConfigError, match=r"render_mode='human' is not supported"):
        TradingEnv(frame, render_mode="human", **SMALL)


def test_rewards() -> None:
    before = np.array([100.0, 100.0])
    after = np.array([110.0, 95.0])
    np.testing.assert_allclose(make_reward("log_return", 2)(before, after), np.log(after / before))
    dsr = make_reward("differential_sharpe", 2)
    assert dsr(before, after).tolist() == [0.0, 0.0]  # no variance estimate yet
    assert np.all(np.isfinite(dsr(after, before)))
    pdd = make_reward("pnl_drawdown", 2)
    pdd.reset(np.ones(2, dtype=bool), before)
    r = pdd(before, after)
    assert r[0] == pytest.approx(0.10)
    assert r[1] == pytest.approx(-0.05 - 0.05)  # the loss, plus the new 5 % drawdown


@pytest.mark.parametrize("reward", ["log_return", "differential_sharpe", "pnl_drawdown"])
def test_every_reward_runs_an_episode(frame: pd.DataFrame, reward: str) -> None:
    env = TradingEnv(frame, reward=reward, **SMALL)
    env.reset(seed=0)
    total = sum(float(env.step(1)[1]) for _ in range(10))
    assert np.isfinite(total)


def test_market_features_are_causal_zscores(frame: pd.DataFrame) -> None:
    m = make_market(frame, features=["logret_1"], norm_window=10, clip=2.0)
    assert m.features.shape == (len(frame), 1)
    assert np.abs(m.features).max() <= 2.0
    assert m.first_valid == 10
    with pytest.raises(ConfigError, match=r"norm_window=1 must be an int >= 2"):
        make_market(frame, norm_window=1)
