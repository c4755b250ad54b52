"""`BatchedTradingEnv`: many episode windows in one array, as a stable-baselines3 ``VecEnv``.

All environments step together in one call of the backtest kernel (see ``_sim``): no Python loop
over environments, no subprocesses. Finished episodes restart at once on a new random window, as
SB3 expects: the returned observation is the new episode's first, the final one is in
``infos[i]["terminal_observation"]`` and a time-limit end sets ``infos[i]["TimeLimit.truncated"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium
import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from axon_lab.errors import ConfigError
from axon_lab.rl._env import make_spaces
from axon_lab.rl._market import DEFAULT_ENV_FEATURES, DataLike, make_market
from axon_lab.rl._sim import EnvConfig, MarketSim

__all__ = ["BatchedTradingEnv"]


class BatchedTradingEnv(VecEnv):
    """``n_envs`` trading environments over one market, vectorised with numpy.

    Args:
        data: OHLCV data, as for :class:`~axon_lab.rl.TradingEnv`.
        n_envs: Number of environments.
        config: Settings; keyword arguments override its fields.
        features: Feature names observed.
        seed: Seed of the window sampler (also settable with :meth:`seed`).
        **overrides: Fields of :class:`~axon_lab.rl.EnvConfig`.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> venv = BatchedTradingEnv(make_synthetic(600, seed=0), n_envs=4, window=8,
        ...                          episode_length=20, seed=0)
        >>> obs = venv.reset()
        >>> obs.shape
        (4, 58)
        >>> obs, rewards, dones, infos = venv.step(np.array([1, 2, 0, 1]))
        >>> rewards.shape, dones.any()
        ((4,), np.False_)
    """

    def __init__(
        self,
        data: DataLike,
        n_envs: int = 16,
        config: EnvConfig | None = None,
        *,
        features: tuple[str, ...] = DEFAULT_ENV_FEATURES,
        seed: int | None = None,
        **overrides: Any,
    ) -> None:
        base = config or EnvConfig()
        unknown = set(overrides) - set(base.__dataclass_fields__)
        if unknown:
            raise ConfigError(
                f"Unknown setting(s) {sorted(unknown)}; EnvConfig has "
                f"{sorted(base.__dataclass_fields__)}."
            )
        self.config = EnvConfig(**{**base.to_dict(), **overrides})
        self.market = make_market(data, features=features)
        self.sim = MarketSim(self.market, self.config, n_envs, seed=seed)
        self.render_mode = None
        obs_space, act_space = make_spaces(self.config, self.market)
        super().__init__(n_envs, obs_space, act_space)
        self._targets = np.full(n_envs, np.nan)
        self._all = np.ones(n_envs, dtype=bool)

    # ------------------------------------------------------------------ VecEnv API
    def reset(self) -> np.ndarray:
        """Start a new random window in every environment."""
        seeds = [s for s in self._seeds if s is not None]
        if seeds:
            self.sim.rng = np.random.default_rng(seeds[0])
        starts = [o.get("start") for o in self._options]
        if all(s is not None for s in starts):
            self.sim.reset_envs(self._all, np.asarray(starts))
        else:
            self.sim.reset_envs(self._all)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self.sim.observe()

    def step_async(self, actions: np.ndarray) -> None:
        """Validate the actions and turn them into target positions."""
        self._targets = self.sim.targets(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Advance every environment one bar; restart finished ones."""
        rewards, terminated, truncated = self.sim.step_targets(self._targets)
        done = terminated | truncated
        obs = self.sim.observe()
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done.any():
            equity = self.sim.equity.copy()
            for i in np.flatnonzero(done):
                infos[i] = {
                    "terminal_observation": obs[i].copy(),
                    "TimeLimit.truncated": bool(truncated[i]),
                    "episode_equity": float(equity[i]),
                }
            self.sim.reset_envs(done)
            obs = self.sim.observe()
        return obs, rewards.astype(np.float32), done, infos

    def close(self) -> None:
        """Nothing to release (no subprocesses)."""

    def _indices(self, indices: int | Iterable[int] | None) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_attr(self, attr_name: str, indices: int | Iterable[int] | None = None) -> list[Any]:
        """The attribute of this batched env, once per requested index."""
        return [getattr(self, attr_name) for _ in self._indices(indices)]

    def set_attr(
        self, attr_name: str, value: Any, indices: int | Iterable[int] | None = None
    ) -> None:
        """Set an attribute of this batched env (shared by all its environments)."""
        setattr(self, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: int | Iterable[int] | None = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Call a method of this batched env once per requested index."""
        method = getattr(self, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(
        self,
        wrapper_class: type[gymnasium.Wrapper[Any, Any, Any, Any]],
        indices: int | Iterable[int] | None = None,
    ) -> list[bool]:
        """No environment is wrapped."""
        return [False for _ in self._indices(indices)]
