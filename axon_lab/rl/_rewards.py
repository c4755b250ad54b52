"""Reward functions of the trading environments, vectorised over environments.

Each reward turns the equity before and after a step (one value per environment) into a reward.
Stateful rewards keep one row of state per environment, reset with :meth:`BaseReward.reset`.

* ``log_return``: ``log(equity_after / equity_before)``; fees and slippage are already inside the
  equity (fills go through the backtest fill model), so this is the log return net of costs.
* ``differential_sharpe``: Moody & Saffell's differential Sharpe ratio, ``dS = (B dA - A dB / 2)
  / (B - A^2)^(3/2)`` with exponential moving estimates ``A`` (mean) and ``B`` (second moment)
  of the step returns, updated with rate ``eta``; 0 until the variance estimate is positive.
* ``pnl_drawdown``: step PnL as a fraction of the starting equity, minus ``penalty`` times the
  increase of the drawdown from the running equity peak.
"""

from __future__ import annotations

import abc
import difflib

import numpy as np

from axon_lab.errors import ConfigError

__all__ = [
    "REWARDS",
    "BaseReward",
    "DifferentialSharpeReward",
    "LogReturnReward",
    "PnLDrawdownReward",
    "make_reward",
]


class BaseReward(abc.ABC):
    """Bookkeeping base: holds per-environment state; subclasses write :meth:`_compute`."""

    name: str = ""

    def __init__(self, n_envs: int) -> None:
        self.n_envs = n_envs

    def reset(self, mask: np.ndarray, equity: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Reset the state of the environments where ``mask`` is True (equity at their start)."""

    def __call__(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Rewards for a step from equity ``before`` to ``after`` (arrays of ``n_envs``)."""
        return self._compute(np.maximum(before, 1e-12), np.maximum(after, 1e-12))

    @abc.abstractmethod
    def _compute(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """The reward of each environment (equity values are floored at a tiny positive)."""


class LogReturnReward(BaseReward):
    """Log return of equity over the step, net of fees and slippage."""

    name = "log_return"

    def _compute(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.log(after / before)
        return out


class DifferentialSharpeReward(BaseReward):
    """Differential Sharpe ratio (Moody & Saffell 2001) of the step returns.

    Args:
        n_envs: Number of environments.
        eta: Adaptation rate of the moving moments, in (0, 1).
    """

    name = "differential_sharpe"

    def __init__(self, n_envs: int, eta: float = 0.01) -> None:
        super().__init__(n_envs)
        if not 0.0 < eta < 1.0:
            raise ConfigError(f"eta={eta!r} must be in (0, 1); try 0.01.")
        self.eta = eta
        self._a = np.zeros(n_envs)
        self._b = np.zeros(n_envs)

    def reset(self, mask: np.ndarray, equity: np.ndarray) -> None:
        """Forget the moving moments of the masked environments."""
        self._a[mask] = 0.0
        self._b[mask] = 0.0

    def _compute(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        r = after / before - 1.0
        da = r - self._a
        db = r * r - self._b
        var = self._b - self._a**2
        safe = np.where(var > 1e-12, var, 1.0)
        out = np.where(var > 1e-12, (self._b * da - 0.5 * self._a * db) / safe**1.5, 0.0)
        self._a += self.eta * da
        self._b += self.eta * db
        return np.asarray(out, dtype=np.float64)


class PnLDrawdownReward(BaseReward):
    """PnL as a fraction of starting equity, minus a penalty on drawdown increases.

    Args:
        n_envs: Number of environments.
        penalty: Weight of the drawdown increase (>= 0).
    """

    name = "pnl_drawdown"

    def __init__(self, n_envs: int, penalty: float = 1.0) -> None:
        super().__init__(n_envs)
        if not penalty >= 0.0:
            raise ConfigError(f"penalty={penalty!r} must be >= 0.")
        self.penalty = penalty
        self._start = np.ones(n_envs)
        self._peak = np.ones(n_envs)

    def reset(self, mask: np.ndarray, equity: np.ndarray) -> None:
        """Set the start and peak equity of the masked environments."""
        self._start[mask] = equity[mask]
        self._peak[mask] = equity[mask]

    def _compute(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        dd_before = 1.0 - before / self._peak
        self._peak = np.maximum(self._peak, after)
        dd_after = 1.0 - after / self._peak
        pnl = (after - before) / self._start
        return np.asarray(pnl - self.penalty * np.maximum(dd_after - dd_before, 0.0))


REWARDS: dict[str, type[BaseReward]] = {
    cls.name: cls for cls in (LogReturnReward, DifferentialSharpeReward, PnLDrawdownReward)
}
"""Reward names accepted by the environments."""


def make_reward(name: str | BaseReward, n_envs: int) -> BaseReward:
    """Build a reward by name (or pass an instance through).

    Raises:
        ConfigError: For an unknown name (with a "did you mean").

    Examples:
        >>> import numpy as np
        >>> r = make_reward("log_return", 2)
        >>> np.round(r(np.array([100.0, 100.0]), np.array([110.0, 100.0])), 4).tolist()
        [0.0953, 0.0]
    """
    if isinstance(name, BaseReward):
        if name.n_envs != n_envs:
            raise ConfigError(f"The reward was built for {name.n_envs} envs, not {n_envs}.")
        return name
    if name not in REWARDS:
        near = difflib.get_close_matches(str(name), list(REWARDS), n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise ConfigError(f"reward={name!r} is not one of {list(REWARDS)}.{hint}")
    return REWARDS[name](n_envs)
