"""`TradingEnv`: a Gymnasium environment over one market, filled by the backtest fill model.

Registered as ``axon_lab/Trading-v0`` when :mod:`axon_lab.rl` is imported::

    import gymnasium, axon_lab.rl
    env = gymnasium.make("axon_lab/Trading-v0", data="prices.csv")

One step is one bar. At bar ``t`` the agent sees the last ``window`` rows of normalised features
(read point-in-time through :class:`~axon_lab.data.MarketView`, so nothing after the close of
``t``), its position as a fraction of equity and the unrealised PnL since the position last
changed; its action becomes a target position submitted at the close of ``t`` and filled at the
open of ``t + 1`` with fees and slippage; the reward is computed from the equity at the closes of
``t`` and ``t + 1``. Episodes start at a random bar drawn from ``reset(seed=...)`` (or at
``options={"start": bar}``) and last ``episode_length`` bars; they terminate early if equity
falls below ``min_equity`` of the starting cash.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

from axon_lab.errors import ConfigError
from axon_lab.rl._market import DEFAULT_ENV_FEATURES, DataLike, MarketArrays, make_market
from axon_lab.rl._sim import EnvConfig, MarketSim

__all__ = ["ENV_ID", "TradingEnv", "make_spaces"]

ENV_ID = "axon_lab/Trading-v0"
"""The Gymnasium id :mod:`axon_lab.rl` registers."""


def make_spaces(config: EnvConfig, market: MarketArrays) -> tuple[spaces.Box, spaces.Space[Any]]:
    """Observation and action spaces for ``config`` over ``market``."""
    dim = config.window * market.features.shape[1] + 2
    obs = spaces.Box(-market.clip, market.clip, shape=(dim,), dtype=np.float32)
    act: spaces.Space[Any] = (
        spaces.Discrete(3)
        if config.action_type == "discrete"
        else spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
    )
    return obs, act


class TradingEnv(gymnasium.Env[np.ndarray, Any]):
    """A single-asset trading environment (see the module docstring).

    Args:
        data: OHLCV data: a canonical frame, a CSV/Parquet path, a
            :class:`~axon_lab.data.MarketView` or :class:`~axon_lab.rl.MarketArrays`.
        config: Settings; keyword arguments override its fields (``window=64`` ...).
        features: Feature names observed (ignored when ``data`` is MarketArrays).
        render_mode: Only ``None`` is supported.
        **overrides: Fields of :class:`EnvConfig`.

    Raises:
        ConfigError: On a bad setting, or a window plus episode longer than the data.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> env = TradingEnv(make_synthetic(600, seed=0), window=8, episode_length=50)
        >>> obs, info = env.reset(seed=1)
        >>> obs.shape, env.action_space
        ((58,), Discrete(3))
        >>> obs, reward, terminated, truncated, info = env.step(1)
        >>> info["position"] > 0
        True
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 - gymnasium's convention

    def __init__(
        self,
        data: DataLike,
        config: EnvConfig | None = None,
        *,
        features: tuple[str, ...] = DEFAULT_ENV_FEATURES,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode is not None:
            raise ConfigError(f"render_mode={render_mode!r} is not supported; pass None.")
        self.render_mode = render_mode
        base = config or EnvConfig()
        unknown = set(overrides) - set(base.__dataclass_fields__)
        if unknown:
            raise ConfigError(
                f"Unknown setting(s) {sorted(unknown)}; EnvConfig has "
                f"{sorted(base.__dataclass_fields__)}."
            )
        self.config = EnvConfig(**{**base.to_dict(), **overrides})
        self.market = make_market(data, features=features)
        self.sim = MarketSim(self.market, self.config, 1)
        self.observation_space, self.action_space = make_spaces(self.config, self.market)

    def _info(self) -> dict[str, Any]:
        sim = self.sim
        return {
            "bar": int(sim.t[0]),
            "equity": float(sim.equity[0]),
            "position": float(sim.position_fraction()[0]),
            "n_fills": int(sim.n_fills[0]),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode at a random window (or ``options={"start": bar}``)."""
        super().reset(seed=seed)
        if seed is not None:
            self.sim.rng = np.random.default_rng(seed)
        start = (options or {}).get("start")
        self.sim.reset_envs(np.ones(1, dtype=bool), None if start is None else np.array([start]))
        return self.sim.observe()[0], self._info()

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Trade toward the action's target position and advance one bar.

        Raises:
            ConfigError: If ``action`` is outside the action space.
        """
        rewards, terminated, truncated = self.sim.step_targets(self.sim.targets(action))
        info = self._info()
        return (
            self.sim.observe()[0],
            float(rewards[0]),
            bool(terminated[0]),
            bool(truncated[0]),
            info,
        )
