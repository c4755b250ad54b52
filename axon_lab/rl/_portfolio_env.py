"""`PortfolioEnv`: a Gymnasium environment over a universe, with target weights as actions.

Registered as ``axon_lab/Portfolio-v0`` when :mod:`axon_lab.rl` is imported.

One step is one row of the universe's clock. At row ``t`` the agent sees, for every symbol, its
features as of ``t`` (``ret_1``, ``mom``, ``vol``, ``trend`` of
:class:`~axon_lab.data.UniverseView`, scaled and clipped to ``[-clip, clip]``, 0 where
undefined), whether it is tradable at ``t`` (1/0) and its current weight: a flat ``float32``
vector of ``n_symbols x 6`` values.

The action is a ``Box(-1, 1, (n_symbols,))`` (SB3's advice: a symmetric, normalised box). Action
``a`` becomes target weights ``w = (a + 1) / 2`` for tradable symbols (0 elsewhere: a symbol
without a bar cannot trade), scaled down so that ``sum(w) <= invested`` -- long only, no
borrowing. The weights are sized at the close of ``t`` and filled at the open of ``t + 1`` by
:class:`~axon_lab.portfolio.PortfolioSimBackend` (the vectorized engine's fill model, fees and
slippage included); the reward is ``log(equity[t + 1] / equity[t])``. Episodes start at a row
drawn from ``reset(seed=...)`` after ``warmup`` rows (or at ``options={"start": row}``), last
``episode_length`` rows, and terminate early when equity falls below ``min_equity`` of the cash.
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

from axon_lab.data import UNIVERSE_FEATURES, Universe, UniverseView
from axon_lab.errors import ConfigError
from axon_lab.portfolio import PortfolioSimBackend

__all__ = ["PORTFOLIO_ENV_ID", "PortfolioEnv"]

PORTFOLIO_ENV_ID = "axon_lab/Portfolio-v0"
"""The Gymnasium id :mod:`axon_lab.rl` registers for :class:`PortfolioEnv`."""

# features are of different units: returns ~1e-2, trend ~1; scale them to O(1) before clipping
_SCALE = {"ret_1": 20.0, "mom": 5.0, "vol": 20.0, "trend": 0.5}


class PortfolioEnv(gymnasium.Env[np.ndarray, np.ndarray]):
    """A many-symbol environment whose actions are target weights (see the module docstring).

    Args:
        data: A :class:`~axon_lab.data.Universe` or :class:`~axon_lab.data.UniverseView`.
        episode_length: Rows per episode.
        warmup: Rows skipped at the start (features need history).
        cash: Starting cash.
        fees: Fee as a fraction of notional per fill.
        slippage_bps: Adverse slippage on fills, in basis points.
        invested: Largest sum of weights.
        min_equity: Terminate when equity falls below this fraction of the cash.
        clip: Observation bound.
        render_mode: Only ``None`` is supported.

    Raises:
        ConfigError: On a bad setting, or data too short for one episode.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's class attribute)

    def __init__(
        self,
        data: Universe | UniverseView,
        *,
        episode_length: int = 128,
        warmup: int = 40,
        cash: float = 100_000.0,
        fees: float = 0.001,
        slippage_bps: float = 0.0,
        invested: float = 1.0,
        min_equity: float = 0.2,
        clip: float = 5.0,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ConfigError(f"render_mode must be None, got {render_mode!r}.")
        view = data if isinstance(data, UniverseView) else UniverseView(data)
        n = view.universe.n_bars
        for name, value in (("episode_length", episode_length), ("warmup", warmup)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}.")
        if warmup + episode_length + 1 > n:
            raise ConfigError(
                f"warmup {warmup} + episode_length {episode_length} + 1 exceeds the "
                f"{n} rows of the universe; use a shorter episode or more data."
            )
        if not 0.0 < invested <= 1.0:
            raise ConfigError(f"invested must be in (0, 1], got {invested!r}.")
        self.view = view
        self.episode_length = episode_length
        self.warmup = warmup
        self.cash, self.fees, self.slippage_bps = float(cash), float(fees), float(slippage_bps)
        self.invested, self.min_equity, self.clip = float(invested), float(min_equity), float(clip)
        m = view.universe.n_symbols
        self._features = np.stack(
            [np.clip(np.nan_to_num(view.features[f] * _SCALE[f], nan=0.0), -clip, clip)
             for f in UNIVERSE_FEATURES], axis=2,
        ).astype(np.float32)  # fmt: skip
        self.observation_space = spaces.Box(-clip, clip, shape=(m * 6,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(m,), dtype=np.float32)
        self._backend: PortfolioSimBackend | None = None
        self._row = 0
        self._end = 0
        self._equity = self.cash

    def _obs(self) -> np.ndarray:
        row = self._row
        be = self._backend
        if be is None:
            raise ConfigError("call reset() before step().")
        marks = np.nan_to_num(self.view.marks[row], nan=0.0)
        equity = be.equity()
        weights = be.positions * marks / equity if equity > 0 else np.zeros_like(marks)
        tradable = self.view.has_bar[row].astype(np.float32)
        parts = [self._features[row], tradable[:, None],
                 np.clip(weights, -self.clip, self.clip)[:, None]]  # fmt: skip
        return np.concatenate(parts, axis=1).astype(np.float32).reshape(-1)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode at a random row (or ``options["start"]``)."""
        super().reset(seed=seed)
        last = self.view.universe.n_bars - self.episode_length - 1
        start = (options or {}).get("start")
        if start is None:
            start = int(self.np_random.integers(self.warmup, last + 1))
        elif isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= last:
            raise ConfigError(f"options['start'] must be an int in [0, {last}], got {start!r}.")
        self._backend = PortfolioSimBackend(
            self.view, cash=self.cash, fees=self.fees, slippage_bps=self.slippage_bps
        )
        self._backend.advance_to_row(start + 1)
        self._row = start
        self._end = start + self.episode_length
        self._equity = self._backend.equity()
        return self._obs(), {"row": start, "equity": self._equity}

    def weights(self, action: np.ndarray) -> np.ndarray:
        """The target weights an action stands for at the current row."""
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(-1), -1.0, 1.0)
        if a.shape != self.action_space.shape:
            raise ConfigError(f"action has shape {a.shape}; expected {self.action_space.shape}.")
        w = np.where(self.view.has_bar[self._row], (a + 1.0) / 2.0, 0.0)
        total = float(w.sum())
        return w * (self.invested / total) if total > self.invested else w

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Rebalance to the action's weights, move one row, and reward the log growth."""
        be = self._backend
        if be is None:
            raise ConfigError("call reset() before step().")
        w = self.weights(action)
        marks = self.view.marks[self._row]
        ok = self.view.has_bar[self._row] & np.isfinite(marks)
        safe = np.where(ok, marks, 1.0)
        orders = np.where(ok, w * self._equity / safe - be.positions, 0.0)
        be.submit(orders)
        self._row += 1
        be.advance_to_row(self._row + 1)
        equity = be.equity()
        reward = math.log(equity / self._equity) if equity > 0 and self._equity > 0 else -10.0
        self._equity = equity
        terminated = equity < self.min_equity * self.cash
        truncated = not terminated and self._row >= self._end
        info = {"row": self._row, "equity": equity, "gross": float(w.sum())}
        return self._obs(), float(reward), bool(terminated), bool(truncated), info
