"""`RuleObjective`: tune a rule strategy on the vectorized backtest engine (fast: ~ms a trial).

The strategy turns closes and parameters into entry/exit signals over the whole history (it must
be causal, as :func:`axon_lab.backtest.sma_cross_signals` is); each split backtests the signals of
its train and its test bars separately.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from axon_lab import backtest
from axon_lab.errors import ConfigError
from axon_lab.hpo._objective import (
    DEFAULT_METRICS,
    BaseObjective,
    FoldScore,
    WalkForward,
    stats_row,
)
from axon_lab.hpo._space import SearchSpaceDef

__all__ = ["SMA_CROSS_SPACE", "RuleObjective", "sma_cross_strategy"]

Strategy = Callable[..., tuple[np.ndarray, np.ndarray]]
"""``strategy(close, **params) -> (entries, exits)``, boolean arrays as long as ``close``."""

SMA_CROSS_SPACE: dict[str, SearchSpaceDef] = {
    "fast": SearchSpaceDef(param_type="int", low=2, high=50),
    "slow_extra": SearchSpaceDef(param_type="int", low=1, high=150),
}
"""The default space of :func:`sma_cross_strategy`: slow = fast + slow_extra, so fast < slow."""


def sma_cross_strategy(close: np.ndarray, *, fast: int, slow_extra: int) -> tuple[Any, Any]:
    """SMA(fast) crossing SMA(fast + slow_extra): entries up, exits down."""
    return backtest.sma_cross_signals(close, int(fast), int(fast) + int(slow_extra))


class RuleObjective(BaseObjective):
    """Walk-forward objective of a rule strategy.

    Args:
        prices: OHLC frame (what :func:`axon_lab.backtest.run` takes).
        strategy: ``strategy(close, **params) -> (entries, exits)``.
        space: Its search space.
        walk_forward: Split settings.
        metrics: Statistics returned (maximised).
        fixed: Fixed strategy parameters.
        **backtest_kwargs: ``fees``, ``slippage_bps``, ``direction``... for the backtests.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.hpo import create_study
        >>> obj = RuleObjective(make_synthetic(600, seed=0), fees=0.001)
        >>> study = create_study("rules", storage=":memory:", directions=obj.directions, seed=0)
        >>> study.optimize(obj, n_trials=3)
        >>> sorted(study.trials[0].user_attrs)  # doctest: +NORMALIZE_WHITESPACE
        ['folds', 'metrics', 'oos_block_returns', 'oos_blocks_per_year', 'oos_max_drawdown',
         'oos_sharpe']
    """

    def __init__(
        self,
        prices: pd.DataFrame,
        *,
        strategy: Strategy = sma_cross_strategy,
        space: Mapping[str, SearchSpaceDef | Mapping[str, Any]] | None = None,
        walk_forward: WalkForward | None = None,
        metrics: Sequence[str] = DEFAULT_METRICS,
        fixed: Mapping[str, Any] | None = None,
        **backtest_kwargs: Any,
    ) -> None:
        if not isinstance(prices, pd.DataFrame) or "close" not in prices:
            raise ConfigError("prices must be a DataFrame with open/high/low/close columns.")
        super().__init__(
            space if space is not None else SMA_CROSS_SPACE,
            len(prices),
            walk_forward=walk_forward,
            metrics=metrics,
            fixed=fixed,
        )
        self.prices = prices[["open", "high", "low", "close"]]
        self.close = prices["close"].to_numpy(dtype=np.float64)
        self.strategy = strategy
        self._signals: tuple[str, np.ndarray, np.ndarray] | None = None
        self.backtest_kwargs = dict(backtest_kwargs)
        self.backtest_kwargs.setdefault("timeframe", backtest.bars_per_year(prices.index, None))

    def _run(self, idx: np.ndarray, entries: np.ndarray, exits: np.ndarray) -> Any:
        sl = slice(int(idx[0]), int(idx[-1]) + 1)
        return backtest.run(
            self.prices.iloc[sl], entries=entries[sl], exits=exits[sl], **self.backtest_kwargs
        )

    def _stats(self, idx: np.ndarray, entries: np.ndarray, exits: np.ndarray) -> dict[str, float]:
        return stats_row(self._run(idx, entries, exits).stats(), self.metrics)

    def _score_fold(
        self,
        params: Mapping[str, Any],
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        trial: Any,
        fold: int,
    ) -> FoldScore:
        key = repr(sorted(params.items()))
        if self._signals is None or self._signals[0] != key:  # once per trial, not per fold
            ent, ext = self.strategy(self.close, **params)
            self._signals = (
                key,
                np.asarray(ent, dtype=bool).reshape(-1),
                np.asarray(ext, dtype=bool).reshape(-1),
            )
        _, entries, exits = self._signals
        oos = self._run(test_idx, entries, exits)
        return FoldScore(
            in_sample=self._stats(train_idx, entries, exits),
            out_of_sample=stats_row(oos.stats(), self.metrics),
            oos_equity=[float(oos.init_cash), *oos.equity.iloc[:, 0].tolist()],
            bars_per_year=float(oos.bars_per_year),
        )
