"""RL training curves: episode reward and evaluation reward against timesteps.

The input is a DataFrame or a mapping of arrays with the columns

* ``timesteps`` -- the environment steps at which each episode ended (or each row was logged);
* ``reward`` -- that episode's return (may be left out when ``eval_reward`` is given, e.g. for
  ``pd.DataFrame(policy.history, columns=["timesteps", "eval_reward"])`` from
  :class:`axon_lab.rl` training's validation history);
* ``eval_reward`` (optional) -- the evaluation return. 1-D: one value per ``timesteps`` row,
  NaN where no evaluation happened (a merged Monitor + EvalCallback frame). With a separate
  ``eval_timesteps`` key its own grid is used, and it may be 2-D ``(n_evals, n_episodes)``
  exactly as ``EvalCallback`` stores ``results`` in ``evaluations.npz``: then the mean and the
  standard deviation over the episodes are drawn.

SB3's ``Monitor`` CSV holds ``r`` (return) and ``l`` (length) per episode; turn it into this shape
with ``pd.DataFrame({"timesteps": log["l"].cumsum(), "reward": log["r"]})``.
Rows whose ``reward`` is NaN are skipped by the reward curve (they may carry an evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.viz._common import graph_objects, unknown_column

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["TrainingCurveInfo", "get_training_curve_info", "plot_training_curve"]

_MONITOR_HINT = (
    "SB3 Monitor logs hold 'r' and 'l': pass pd.DataFrame({'timesteps': log['l'].cumsum(), "
    "'reward': log['r']})."
)


class TrainingCurveInfo(NamedTuple):
    """Everything :func:`plot_training_curve` draws.

    Attributes:
        timesteps: Timesteps of the episodes with a reward.
        reward: Episode rewards.
        window: Width of the trailing rolling mean, or None.
        reward_smoothed: Trailing rolling mean of ``reward`` (empty when ``window`` is None).
        eval_timesteps: Timesteps of the evaluations (empty without evaluations).
        eval_mean: Mean evaluation reward at each evaluation.
        eval_std: Standard deviation over evaluation episodes (empty unless 2-D input).
    """

    timesteps: list[float]
    reward: list[float]
    window: int | None
    reward_smoothed: list[float]
    eval_timesteps: list[float]
    eval_mean: list[float]
    eval_std: list[float]


def _column(log: Mapping[str, Any] | pd.DataFrame, name: str, ndim: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(log[name], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Column {name!r} is not numeric: {exc}.") from exc
    if arr.ndim not in ndim:
        raise ConfigError(
            f"Column {name!r} must be {' or '.join(f'{d}-D' for d in ndim)}, got shape {arr.shape}."
        )
    return arr


def _check_sorted(t: np.ndarray, name: str) -> None:
    if np.isnan(t).any():
        raise ConfigError(f"{name} holds NaN; every row needs its timestep.")
    if (np.diff(t) < 0).any():
        raise ConfigError(f"{name} is not in increasing order; sort the log by {name} first.")


def _evaluations(
    log: Mapping[str, Any] | pd.DataFrame, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if "eval_timesteps" in log:
        et = _column(log, "eval_timesteps", (1,))
        er = _column(log, "eval_reward", (1, 2))
        if len(er) != len(et):
            raise ConfigError(
                f"eval_reward has {len(er)} rows but eval_timesteps has {len(et)}; pass one row "
                "per evaluation."
            )
        _check_sorted(et, "eval_timesteps")
    else:
        er = _column(log, "eval_reward", (1,))
        if len(er) != len(t):
            raise ConfigError(
                f"eval_reward has {len(er)} values but timesteps has {len(t)}; pass one per row "
                "(NaN where no evaluation ran), or give eval_timesteps for its own grid."
            )
        et = t
    if er.ndim == 2:
        if er.shape[1] == 0 or np.isnan(er).any():
            raise ConfigError(
                f"eval_reward of shape {er.shape} needs at least one finite episode per row."
            )
        return et, er.mean(axis=1), er.std(axis=1)
    keep = np.isfinite(er)
    return et[keep], er[keep], np.empty(0)


def get_training_curve_info(
    log: pd.DataFrame | Mapping[str, Any], *, window: int | None = None
) -> TrainingCurveInfo:
    """Extract the reward and evaluation curves of :func:`plot_training_curve`.

    Args:
        log: A DataFrame or mapping with ``timesteps`` and ``reward`` and/or ``eval_reward``
            (and optionally ``eval_timesteps``); see the module docstring.
        window: Width in episodes of a trailing rolling mean of the reward (>= 1), or None.

    Returns:
        The curves.

    Raises:
        ConfigError: If a required column is missing (naming the available ones), lengths
            differ, timesteps decrease, or there is no finite reward nor evaluation.

    Examples:
        >>> info = get_training_curve_info(
        ...     {"timesteps": [100, 200, 300], "reward": [1.0, 3.0, 2.0],
        ...      "eval_reward": [float("nan"), 2.5, float("nan")]}, window=2)
        >>> info.reward_smoothed, info.eval_timesteps, info.eval_mean
        ([1.0, 2.0, 2.5], [200.0], [2.5])
    """
    if not isinstance(log, pd.DataFrame | Mapping):
        raise ConfigError(
            f"log must be a DataFrame or a mapping of arrays, got {type(log).__name__}."
        )
    available = list(log.columns if isinstance(log, pd.DataFrame) else log.keys())
    if "timesteps" not in available:
        raise unknown_column("log", "timesteps", available, required=True, fix=_MONITOR_HINT)
    if "reward" not in available and "eval_reward" not in available:
        raise unknown_column("log", "reward", available, required=True, fix=_MONITOR_HINT)
    if "eval_timesteps" in available and "eval_reward" not in available:
        raise unknown_column(
            "log", "eval_reward", available, required=True,
            fix="eval_timesteps needs the eval_reward it was measured with.",
        )  # fmt: skip
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int) or window < 1
    ):
        raise ConfigError(f"window must be an int >= 1 (episodes) or None, got {window!r}.")
    t = _column(log, "timesteps", (1,))
    _check_sorted(t, "timesteps")
    r = _column(log, "reward", (1,)) if "reward" in available else np.full(len(t), np.nan)
    if len(t) != len(r):
        raise ConfigError(
            f"timesteps has {len(t)} values but reward has {len(r)}; pass one per episode."
        )
    keep = np.isfinite(r)
    empty = np.empty(0)
    et, em, es = _evaluations(log, t) if "eval_reward" in available else (empty, empty, empty)
    if not keep.any() and not em.size:
        raise ConfigError(
            "reward and eval_reward hold no finite value; there is no training curve to plot."
        )
    reward = r[keep]
    smoothed = pd.Series(reward).rolling(window, min_periods=1).mean().tolist() if window else []
    return TrainingCurveInfo(
        timesteps=t[keep].tolist(),
        reward=reward.tolist(),
        window=window,
        reward_smoothed=smoothed,
        eval_timesteps=et.tolist(),
        eval_mean=em.tolist(),
        eval_std=es.tolist(),
    )


def plot_training_curve(
    log: pd.DataFrame | Mapping[str, Any], *, window: int | None = None
) -> go.Figure:
    """Plot episode reward (and its rolling mean) and evaluation reward against timesteps.

    Args:
        log: The training log (see :func:`get_training_curve_info`).
        window: Width in episodes of the trailing rolling mean, or None.

    Returns:
        A plotly figure with ``Scatter`` traces ``episode reward`` (when there are episode
        rewards), ``episode reward (mean of N)`` when ``window`` is also given, and
        ``eval reward`` (with standard-deviation error bars for 2-D input) when evaluations
        are present.

    Raises:
        ConfigError: As :func:`get_training_curve_info`.
    """
    info = get_training_curve_info(log, window=window)
    go = graph_objects()
    fig = go.Figure()
    if info.reward:
        fig.add_trace(
            go.Scatter(
                x=info.timesteps, y=info.reward, mode="markers", name="episode reward",
                marker={"color": "#92c5de", "size": 5},
            )
        )  # fmt: skip
    if info.window is not None and info.reward:
        fig.add_trace(
            go.Scatter(
                x=info.timesteps, y=info.reward_smoothed, mode="lines",
                name=f"episode reward (mean of {info.window})", line={"color": "#2166ac"},
            )
        )  # fmt: skip
    if info.eval_timesteps:
        error = {"type": "data", "array": info.eval_std} if info.eval_std else None
        fig.add_trace(
            go.Scatter(
                x=info.eval_timesteps, y=info.eval_mean, mode="lines+markers",
                name="eval reward", line={"color": "#d73027"}, error_y=error,
            )
        )  # fmt: skip
    fig.update_layout(title="Training curve", xaxis_title="timesteps", yaxis_title="reward")
    return fig
