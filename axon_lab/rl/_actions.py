"""Action spaces of the trading environments and their mapping to target positions.

* ``"discrete"``: ``Discrete(3)`` with ``0 = hold`` (keep the position, no order), ``1 = buy``
  (target ``+leverage`` of equity) and ``2 = sell`` (target ``-leverage``, or flat when
  ``direction="long"``). The order matches :data:`DISCRETE_ACTIONS`.
* ``"continuous"``: ``Box([-1], [1])``, the target position as a fraction of ``leverage`` times
  equity (SB3's advice: symmetric, normalised actions). With ``direction="long"`` negative targets
  mean flat.

Targets go to the backtest fill model as target fractions of equity; NaN means no order.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from axon_lab.errors import ConfigError
from axon_lab.records import Action

__all__ = ["DISCRETE_ACTIONS", "ActionType", "actions_to_targets", "check_actions"]

ActionType = Literal["discrete", "continuous"]
DISCRETE_ACTIONS: tuple[Action, ...] = (Action.HOLD, Action.BUY, Action.SELL)
"""The meaning of each discrete action index."""


def check_actions(actions: Any, action_type: ActionType, n_envs: int) -> np.ndarray:
    """Validate a batch of actions; return them as a flat float array of ``n_envs``.

    Raises:
        ConfigError: If an action is outside the action space, naming the value and the space.

    Examples:
        >>> check_actions([2], "discrete", 1).tolist()
        [2.0]
        >>> check_actions([3], "discrete", 1)
        Traceback (most recent call last):
        ...
        axon_lab.errors.ConfigError: action 3 (env 0) is outside Discrete(3); ...
    """
    try:
        arr = np.asarray(actions, dtype=np.float64).reshape(n_envs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"Expected {n_envs} action(s) for {n_envs} env(s), got {actions!r} ({exc})."
        ) from exc
    if action_type == "discrete":
        bad = ~((arr == 0.0) | (arr == 1.0) | (arr == 2.0))
        space, fix = "Discrete(3)", "use 0 (hold), 1 (buy) or 2 (sell)"
    else:
        bad = ~(np.isfinite(arr) & (np.abs(arr) <= 1.0 + 1e-6))
        space, fix = "Box(-1, 1)", "clip the target position to [-1, 1]"
    if bad.any():
        i = int(np.argmax(bad))
        value = np.asarray(actions).reshape(n_envs)[i].item()
        raise ConfigError(f"action {value!r} (env {i}) is outside {space}; {fix}.")
    return arr


def actions_to_targets(
    actions: np.ndarray, action_type: ActionType, *, leverage: float, allow_short: bool
) -> np.ndarray:
    """Map validated actions to target fractions of equity (NaN = hold).

    Examples:
        >>> actions_to_targets(np.array([0.0, 1.0, 2.0]), "discrete", leverage=1.0,
        ...                    allow_short=False).tolist()
        [nan, 1.0, 0.0]
    """
    if action_type == "discrete":
        low = -leverage if allow_short else 0.0
        lut = np.array([np.nan, leverage, low])
        mapped: np.ndarray = lut[actions.astype(np.int64)]
        return mapped
    clipped: np.ndarray = np.clip(actions, -1.0, 1.0) * leverage
    return clipped if allow_short else np.maximum(clipped, 0.0)
