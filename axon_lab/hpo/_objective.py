"""`BaseObjective`: walk-forward bookkeeping shared by every objective.

A trial's parameters are scored on every walk-forward split
(:func:`axon_lab.backtest.walk_forward_splits`): the in-sample statistics come from the train
window, the out-of-sample ones from the test window that follows it (after the embargo). Optuna
optimises the in-sample means; the out-of-sample means are stored beside them as user attributes
``oos_<metric>`` (per fold as ``folds``, the metric names as ``metrics``), so every result shows
both. Subclasses write one method, :meth:`BaseObjective._score_fold`.

Metrics are backtest statistics (:data:`axon_lab.backtest.STATS_KEYS`), all maximised: the
default pair is ``("sharpe", "max_drawdown")``, the drawdown being a negative fraction so that
maximising it minimises the drawdown. A NaN statistic (e.g. the Sharpe of a flat equity curve)
counts as 0.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.backtest import STATS_KEYS, walk_forward_splits
from axon_lab.errors import ConfigError
from axon_lab.hpo._space import SearchSpaceDef, check_space, suggest_params

__all__ = ["DEFAULT_METRICS", "BaseObjective", "FoldScore", "WalkForward", "stats_row"]

DEFAULT_METRICS: tuple[str, ...] = ("sharpe", "max_drawdown")
"""Sharpe and (negative) maximum drawdown, both maximised."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkForward:
    """Walk-forward split settings (see :func:`axon_lab.backtest.walk_forward_splits`).

    Attributes:
        train: Train window in bars.
        test: Test window in bars.
        step: Bars between splits (default ``test``).
        embargo: Bars skipped between train and test.
        expanding: Grow the train window from bar 0.
        max_splits: Keep only the last ``max_splits`` splits (None = all).
    """

    train: int
    test: int
    step: int | None = None
    embargo: int = 0
    expanding: bool = False
    max_splits: int | None = None

    def splits(self, n_bars: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The ``(train_idx, test_idx)`` pairs over ``n_bars``.

        Raises:
            ConfigError: If no split fits.
        """
        out = walk_forward_splits(
            n_bars, self.train, self.test, self.step, self.embargo, expanding=self.expanding
        )
        return out if self.max_splits is None else out[-self.max_splits :]

    @classmethod
    def auto(cls, n_bars: int, n_splits: int = 3) -> WalkForward:
        """Splits with train = 2 x test that cover ``n_bars`` in ``n_splits`` steps."""
        test = n_bars // (n_splits + 2)
        if test < 2:
            raise ConfigError(f"{n_bars} bars are too few for {n_splits} walk-forward splits.")
        return cls(train=2 * test, test=test)


@dataclass(frozen=True, slots=True, kw_only=True)
class FoldScore:
    """In-sample and out-of-sample statistics of one split.

    Attributes:
        in_sample: Statistics on the train window.
        out_of_sample: Statistics on the test window.
        oos_equity: Equity at each bar of the test window, with the starting cash first (when
            the objective has it): the sweep's deflated Sharpe and PBO are computed from it.
        bars_per_year: Annualisation factor of the bars (with ``oos_equity``).
    """

    in_sample: Mapping[str, float]
    out_of_sample: Mapping[str, float]
    oos_equity: Sequence[float] | None = None
    bars_per_year: float | None = None


OOS_BLOCKS_PER_FOLD = 8
"""Each test window's return is recorded in this many contiguous blocks (``oos_block_returns``)."""


def block_returns(equity: Sequence[float], n_blocks: int) -> list[float]:
    """Returns of ``n_blocks`` contiguous blocks of bars; ``equity[0]`` is the starting value.

    Examples:
        >>> block_returns([100.0, 110.0, 121.0, 121.0, 133.1], 2)
        [0.21, 0.1]
    """
    values = np.asarray(equity, dtype=float)
    bars = np.arange(1, len(values))
    ends = [
        int(chunk[-1]) for chunk in np.array_split(bars, min(n_blocks, len(bars))) if len(chunk)
    ]
    starts = [0, *ends[:-1]]
    # rounded to 12 digits: float noise in the last place would only clutter the study's JSON
    return [
        round(float(values[e] / values[s] - 1.0), 12) for s, e in zip(starts, ends, strict=True)
    ]


def stats_row(stats: pd.Series | pd.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    """The ``metrics`` of a single-column backtest's ``stats()`` as floats."""
    row = stats if isinstance(stats, pd.Series) else stats.iloc[0]
    return {m: float(row[m]) for m in metrics}


def _clean(value: Any) -> float:
    v = float(value)
    return v if math.isfinite(v) else 0.0


class BaseObjective(abc.ABC):
    """Walk-forward objective: suggest, score each split, report in-sample, record out-of-sample.

    Args:
        space: The search space.
        n_bars: Number of bars in the data.
        walk_forward: Split settings (default :meth:`WalkForward.auto`).
        metrics: Backtest statistics to return, one per study direction (all maximised).
        fixed: Parameters passed to every trial unchanged.
    """

    def __init__(
        self,
        space: Mapping[str, SearchSpaceDef | Mapping[str, Any]],
        n_bars: int,
        *,
        walk_forward: WalkForward | None = None,
        metrics: Sequence[str] = DEFAULT_METRICS,
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        self.space = check_space(space)
        unknown = [m for m in metrics if m not in STATS_KEYS]
        if unknown or not metrics:
            raise ConfigError(f"metrics {unknown or list(metrics)} must be among {STATS_KEYS}.")
        self.metrics = tuple(metrics)
        self.walk_forward = walk_forward or WalkForward.auto(n_bars)
        self.splits = self.walk_forward.splits(n_bars)
        self.fixed = dict(fixed or {})

    @property
    def directions(self) -> tuple[str, ...]:
        """One ``"maximize"`` per metric (for :func:`~axon_lab.hpo.create_study`)."""
        return ("maximize",) * len(self.metrics)

    def __call__(self, trial: Any) -> float | tuple[float, ...]:
        """Score one trial; Optuna calls this."""
        params = {**self.fixed, **suggest_params(trial, self.space)}
        folds = [
            self._score_fold(params, tr, te, trial, k) for k, (tr, te) in enumerate(self.splits)
        ]
        is_mean = {m: float(np.mean([_clean(f.in_sample[m]) for f in folds])) for m in self.metrics}
        oos_mean = {
            m: float(np.mean([_clean(f.out_of_sample[m]) for f in folds])) for m in self.metrics
        }
        trial.set_user_attr("metrics", list(self.metrics))
        for m in self.metrics:
            trial.set_user_attr(f"oos_{m}", oos_mean[m])
        if all(f.oos_equity is not None for f in folds):
            # per-period out-of-sample returns of every trial: the sweep's DSR and PBO read them
            blocks = [
                r for f in folds for r in block_returns(f.oos_equity or (), OOS_BLOCKS_PER_FOLD)
            ]
            trial.set_user_attr("oos_block_returns", blocks)
            per_year = folds[0].bars_per_year
            bars = sum(len(f.oos_equity or ()) - 1 for f in folds)
            if per_year and blocks:
                trial.set_user_attr("oos_blocks_per_year", per_year * len(blocks) / bars)
        trial.set_user_attr(
            "folds",
            [
                {
                    "in_sample": {m: _clean(f.in_sample[m]) for m in self.metrics},
                    "out_of_sample": {m: _clean(f.out_of_sample[m]) for m in self.metrics},
                }
                for f in folds
            ],
        )
        values = tuple(is_mean[m] for m in self.metrics)
        return values[0] if len(values) == 1 else values

    @abc.abstractmethod
    def _score_fold(
        self,
        params: Mapping[str, Any],
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        trial: Any,
        fold: int,
    ) -> FoldScore:
        """Statistics (keys include :attr:`metrics`) on the train and the test window."""
