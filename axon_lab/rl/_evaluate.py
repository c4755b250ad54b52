"""`evaluate_policy`: run a policy over test windows and score it with the backtest engine.

Each test window is one column of a :class:`~axon_lab.rl.MarketSim`; at every bar one batched
``predict`` serves all windows, its actions become target positions, and the targets are then
backtested with :func:`axon_lab.backtest.run` over the windows' prices (one column per window).
The statistics are therefore the same keys as any backtest (:data:`axon_lab.backtest.STATS_KEYS`).
The simulation and the backtest share the fill model, so the environment's equity and the
backtest's agree (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from axon_lab import backtest
from axon_lab.errors import ConfigError
from axon_lab.rl._market import DataLike, MarketArrays, make_market
from axon_lab.rl._sim import EnvConfig, MarketSim
from axon_lab.rl._trained import PolicyLike, TrainedPolicy

__all__ = ["PolicyEvaluation", "evaluate_policy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyEvaluation:
    """What :func:`evaluate_policy` returns.

    Attributes:
        windows: The ``(start, stop)`` bar ranges evaluated, one per column.
        targets: Target positions ``(bars, windows)`` (NaN = hold), aligned with the prices.
        result: The backtest of those targets.
    """

    windows: tuple[tuple[int, int], ...]
    targets: np.ndarray
    result: backtest.BacktestResult

    def stats(self) -> pd.DataFrame | pd.Series:
        """Backtest statistics: a Series for one window, else one row per window."""
        return self.result.stats()

    def mean_stats(self) -> pd.Series:
        """Statistics averaged over windows (numeric keys)."""
        stats = self.stats()
        frame = stats.to_frame().T if isinstance(stats, pd.Series) else stats
        mean: pd.Series = frame.apply(pd.to_numeric, errors="coerce").mean()
        return mean


def _check_windows(windows: Sequence[tuple[int, int]], sim_lo: int, n_bars: int) -> None:
    for start, stop in windows:
        if not (sim_lo <= start and start + 2 <= stop <= n_bars):
            raise ConfigError(
                f"test window ({start}, {stop}) must satisfy {sim_lo} <= start, start + 2 <= "
                f"stop <= {n_bars} (the first {sim_lo} bars are the observation warm-up)."
            )
    lengths = {stop - start for start, stop in windows}
    if len(lengths) != 1:
        raise ConfigError(f"test windows must have one length to run side by side, got {lengths}.")


def evaluate_policy(
    policy: PolicyLike,
    data: DataLike,
    *,
    windows: Sequence[tuple[int, int]] | None = None,
    config: EnvConfig | None = None,
    features: Sequence[str] | None = None,
    deterministic: bool = True,
) -> PolicyEvaluation:
    """Run ``policy`` over test windows through the vectorized engine; return backtest stats.

    Args:
        policy: A :class:`~axon_lab.rl.TrainedPolicy`, an SB3 model, or anything with
            ``predict(obs, deterministic=...)``.
        data: The test data (frame, path, MarketView or MarketArrays).
        windows: Bar ranges ``[start, stop)`` of equal length, decided at bars
            ``start .. stop - 2``; default: all of ``data`` after the warm-up.
        config: Environment settings; default: the policy's own (a TrainedPolicy's).
        features: Feature names; default: the policy's own.
        deterministic: Use the policy's deterministic action.

    Returns:
        A :class:`PolicyEvaluation`.

    Raises:
        ConfigError: If no config is known, or a window does not fit the data.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from gymnasium import spaces
        >>> from axon_lab.rl import RandomPolicy
        >>> cfg = EnvConfig(window=4, episode_length=10)
        >>> ev = evaluate_policy(RandomPolicy(spaces.Discrete(3), seed=0),
        ...                      make_synthetic(300, seed=0), config=cfg)
        >>> sorted(ev.stats().index) == sorted(backtest.STATS_KEYS)
        True
    """
    if config is None:
        if not isinstance(policy, TrainedPolicy):
            raise ConfigError(
                "Pass config=EnvConfig(...) for a policy that is not a TrainedPolicy."
            )
        config = policy.config
    if features is None and isinstance(policy, TrainedPolicy):
        features = policy.features
    market: MarketArrays = (
        make_market(data) if features is None else make_market(data, features=features)
    )
    probe = MarketSim(market, replace(config, episode_length=1), 1)
    if windows is None:
        windows = [(probe.lo, market.n_bars)]
    windows = [(int(a), int(b)) for a, b in windows]
    _check_windows(windows, probe.lo, market.n_bars)
    length = windows[0][1] - windows[0][0]
    sim = MarketSim(
        market, replace(config, episode_length=length - 1, min_equity=0.0), len(windows)
    )
    starts = np.array([w[0] for w in windows])
    sim.reset_envs(np.ones(len(windows), dtype=bool), starts)
    targets = np.full((length, len(windows)), np.nan)
    for step in range(length - 1):
        actions, _ = policy.predict(sim.observe(), deterministic=deterministic)
        targets[step] = sim.targets(actions)
        sim.step_targets(targets[step])
    rows = starts[None, :] + np.arange(length)[:, None]
    prices = {name: getattr(market, name)[rows] for name in ("open", "high", "low", "close")}
    result = backtest.run(
        prices,
        target=targets,
        fees=config.fees,
        slippage_bps=config.slippage_bps,
        init_cash=config.init_cash,
        direction=config.direction,
        leverage=config.leverage,
        timeframe=backtest.bars_per_year(market.index, None),
    )
    return PolicyEvaluation(windows=tuple(windows), targets=targets, result=result)
