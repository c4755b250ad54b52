"""The vectorised market simulation behind both environments: many windows, one array.

Every environment is one column of the backtest engine's state (``init_state_nb``); each column
has its own episode window over the same bars. A step gathers, for each column, its current bar
``t`` and the next bar ``t + 1`` into ``(2, n_envs)`` price arrays, submits the target positions
at ``t`` and advances with the backtest kernel :func:`~axon_lab.backtest.fill_range_nb` over
those two rows: the order is decided at the close of ``t`` and filled by the backtest fill model
(next open, fees, slippage, leverage caps), exactly as in a vectorized backtest. Because target
orders never rest past the bar after their submission, the state carries no bar numbers between
steps, which is what lets each column sit at a different bar.

Adapter note: the target kind ``K_TARGET`` and the state layout (``S_CASH``, ``S_POS``) are read
from ``axon_lab.backtest._kernels``; the backtest package does not export them yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from axon_lab.backtest import _kernels as kern
from axon_lab.backtest import fill_range_nb, init_state_nb, make_params
from axon_lab.errors import ConfigError
from axon_lab.rl._actions import ActionType, actions_to_targets, check_actions
from axon_lab.rl._market import MarketArrays
from axon_lab.rl._rewards import BaseReward, make_reward

__all__ = ["EnvConfig", "MarketSim", "StartSampler"]

_EMPTY2 = np.empty((0, 0))
_EMPTY_I = np.empty(0, dtype=np.int64)
_EMPTY_F = np.empty(0)

StartSampler = Callable[[np.random.Generator, int, int, int], np.ndarray]
"""``(rng, n, lo, hi) -> n start bars in [lo, hi]``: how episode windows are drawn."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvConfig:
    """Settings of a trading environment (validated at construction).

    Attributes:
        window: Bars of features in each observation (>= 1).
        episode_length: Steps per episode (>= 1); each step is one bar.
        action_type: ``"discrete"`` (hold/buy/sell) or ``"continuous"`` (target in [-1, 1]).
        reward: ``"log_return"``, ``"differential_sharpe"`` or ``"pnl_drawdown"``.
        fees: Fee per fill as a fraction of notional (as in :func:`axon_lab.backtest.run`).
        slippage_bps: Adverse slippage on fills, in basis points.
        direction: ``"both"`` (shorts allowed) or ``"long"``.
        leverage: Gross exposure of a full target, as a multiple of equity (>= 1).
        init_cash: Starting equity of each episode.
        min_equity: An episode terminates when equity falls below this fraction of
            ``init_cash``.
    """

    window: int = 32
    episode_length: int = 256
    action_type: ActionType = "discrete"
    reward: str = "log_return"
    fees: float = 0.001
    slippage_bps: float = 0.0
    direction: str = "both"
    leverage: float = 1.0
    init_cash: float = 10_000.0
    min_equity: float = 0.5

    def __post_init__(self) -> None:
        for name in ("window", "episode_length"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ConfigError(f"{name}={v!r} must be an int >= 1.")
        if self.action_type not in ("discrete", "continuous"):
            raise ConfigError(
                f"action_type={self.action_type!r} must be 'discrete' or 'continuous'."
            )
        if not 0.0 <= self.min_equity < 1.0:
            raise ConfigError(f"min_equity={self.min_equity!r} must be in [0, 1).")
        make_reward(self.reward, 1)  # validates the name
        self.params()  # validates fees, slippage, direction, leverage

    def params(self) -> np.ndarray:
        """The backtest kernel's settings array."""
        return make_params(
            fees=self.fees,
            slippage_bps=self.slippage_bps,
            leverage=self.leverage,
            direction=self.direction,
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (for JSON and run configs)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@njit(cache=True, error_model="numpy")
def _step_nb(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    t: np.ndarray,
    targets: np.ndarray,
    o2: np.ndarray,
    h2: np.ndarray,
    l2: np.ndarray,
    c2: np.ndarray,
    target2: np.ndarray,
    params: np.ndarray,
    state: np.ndarray,
    eq: np.ndarray,
    cash: np.ndarray,
    pos: np.ndarray,
    records: np.ndarray,
    no_i: np.ndarray,
    no_f: np.ndarray,
    no_2: np.ndarray,
) -> int:
    """Gather bars ``t`` and ``t + 1`` of every column, then run the backtest fill kernel.

    ``no_i``, ``no_f`` and ``no_2`` are empty arrays standing for "no explicit orders" and "no
    stats accumulator" (passed in: numba freezes module-level arrays as read-only constants).
    """
    for c in range(t.shape[0]):
        for r in range(2):
            i = t[c] + r
            o2[r, c] = open_[i]
            h2[r, c] = high[i]
            l2[r, c] = low[i]
            c2[r, c] = close[i]
        target2[0, c] = targets[c]
    n: int = fill_range_nb(
        o2, h2, l2, c2, target2, kern.K_TARGET, no_i, no_i, no_i, no_f, no_f, no_f, no_f,
        params, state, 0, 2, eq, cash, pos, records, no_2,
    )  # fmt: skip
    return n


def _window_rows(features: np.ndarray, window: int) -> np.ndarray:
    """Observation rows: row ``t - (window - 1)`` holds bars ``t - window + 1 .. t``.

    Each row is the flattened feature window plus two slots for position and unrealised PnL, so
    a batch of observations is one gather of contiguous rows.
    """
    n, f = features.shape
    if n < window:
        return np.zeros((0, window * f + 2), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(features, window, axis=0)  # (n-w+1, f, w)
    rows = np.zeros((n - window + 1, window * f + 2), dtype=np.float32)
    rows[:, :-2] = view.transpose(0, 2, 1).reshape(n - window + 1, window * f)
    return rows


def _uniform_starts(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    return rng.integers(lo, hi + 1, size=n)


class MarketSim:
    """``n_envs`` episode windows over one market, stepped together.

    Args:
        market: Prices and normalised features.
        config: Environment settings.
        n_envs: Number of environments (columns).
        seed: Seed of the window sampler.

    Raises:
        ConfigError: If a window plus an episode does not fit in the data.
    """

    def __init__(
        self, market: MarketArrays, config: EnvConfig, n_envs: int, seed: int | None = None
    ) -> None:
        if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
            raise ConfigError(f"n_envs={n_envs!r} must be an int >= 1.")
        self.market = market
        self.config = config
        self.n_envs = n_envs
        self.lo = max(market.first_valid, config.window - 1)
        self.hi = market.n_bars - 1 - config.episode_length
        if self.hi < self.lo:
            need = self.lo + config.episode_length + 1
            raise ConfigError(
                f"window={config.window} plus episode_length={config.episode_length} does not "
                f"fit: it needs {need} bars (including {market.first_valid} warm-up bars for "
                f"the features) but the data has {market.n_bars}. Use a shorter window or "
                "episode_length, or more data."
            )
        self.rng = np.random.default_rng(seed)
        self.sampler: StartSampler = _uniform_starts
        self.obs_dim = config.window * market.features.shape[1] + 2
        self.allow_short = config.direction == "both"
        self._params = config.params()
        self._px = [market.open, market.high, market.low, market.close]
        self._windows = _window_rows(market.features, config.window)
        self.state = init_state_nb(n_envs, config.init_cash)
        self._fresh = init_state_nb(1, config.init_cash)[0].copy()
        self.t = np.full(n_envs, self.lo, dtype=np.int64)
        self.end = self.t + config.episode_length
        self.entry_equity = np.full(n_envs, config.init_cash)
        self.equity = np.full(n_envs, config.init_cash)
        self.reward_fn: BaseReward = make_reward(config.reward, n_envs)
        self._gathered = [np.full((2, n_envs), np.nan) for _ in range(5)]  # o, h, l, c, target
        self._out = [np.empty((2, n_envs)) for _ in range(3)]
        self._records = np.empty((2 * n_envs + 1, kern.N_REC))
        self.n_fills = np.zeros(n_envs, dtype=np.int64)

    # ------------------------------------------------------------------ episodes
    def reset_envs(self, mask: np.ndarray, starts: np.ndarray | None = None) -> None:
        """Start new episodes in the masked environments (random windows unless ``starts``)."""
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        if starts is None:
            starts = self.sampler(self.rng, idx.size, self.lo, self.hi)
        starts = np.asarray(starts, dtype=np.int64).reshape(idx.size)
        if ((starts < self.lo) | (starts > self.hi)).any():
            bad = int(starts[(starts < self.lo) | (starts > self.hi)][0])
            raise ConfigError(
                f"start bar {bad} is outside [{self.lo}, {self.hi}], the bars where a window of "
                f"{self.config.window} and an episode of {self.config.episode_length} fit."
            )
        self.t[idx] = starts
        self.end[idx] = starts + self.config.episode_length
        self.state[idx] = self._fresh
        self.equity[idx] = self.config.init_cash
        self.entry_equity[idx] = self.config.init_cash
        self.n_fills[idx] = 0
        full = np.zeros(self.n_envs, dtype=bool)
        full[idx] = True
        self.reward_fn.reset(full, self.equity)

    # ------------------------------------------------------------------ observing
    def position_fraction(self) -> np.ndarray:
        """Position value as a fraction of equity, per environment."""
        close = self.market.close[self.t]
        value = self.state[:, kern.S_POS] * close
        return np.asarray(value / np.maximum(self.equity, 1e-12))

    def observe(self) -> np.ndarray:
        """Observations ``(n_envs, obs_dim)``: the feature window, position and unrealised PnL."""
        obs = self._windows[self.t - (self.config.window - 1)]  # one contiguous row per env
        pos = self.position_fraction()
        held = self.state[:, kern.S_POS] != 0.0
        upnl = np.where(held, self.equity / self.entry_equity - 1.0, 0.0)
        clip = self.market.clip
        obs[:, -2] = np.minimum(np.maximum(pos, -clip), clip)  # np.clip costs more on small arrays
        obs[:, -1] = np.minimum(np.maximum(upnl, -clip), clip)
        return obs

    # ------------------------------------------------------------------ stepping
    def targets(self, actions: Any) -> np.ndarray:
        """Validate actions and map them to target fractions (NaN = hold)."""
        arr = check_actions(actions, self.config.action_type, self.n_envs)
        return actions_to_targets(
            arr,
            self.config.action_type,
            leverage=self.config.leverage,
            allow_short=self.allow_short,
        )

    def step_targets(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance every environment one bar with these targets.

        Returns:
            ``(rewards, terminated, truncated)``.
        """
        if (self.t >= self.end).any():
            i = int(np.argmax(self.t >= self.end))
            raise ConfigError(
                f"Episode of env {i} has ended (bar {int(self.t[i])}); call reset() first."
            )
        eq, cash, pos = self._out
        kernel: Callable[..., int] = _step_nb  # numba's dispatcher is untyped
        n = kernel(
            *self._px, self.t, targets, *self._gathered, self._params, self.state,
            eq, cash, pos, self._records, _EMPTY_I, _EMPTY_F, _EMPTY2,
        )  # fmt: skip
        before = eq[0].copy()
        after = eq[1].copy()
        if n:
            cols = self._records[:n, kern.R_COL].astype(np.int64)
            self.entry_equity[cols] = before[cols]
            np.add.at(self.n_fills, cols, 1)
        rewards = self.reward_fn(before, after)
        self.equity = after
        self.t += 1
        terminated = after < self.config.min_equity * self.config.init_cash
        truncated = (self.t >= self.end) & ~terminated
        return rewards, terminated, truncated
