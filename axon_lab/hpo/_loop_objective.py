"""`LoopObjective`: score any agent through the OADER loop and its risk chain, fold by fold.

The other objectives score a strategy on the vectorized engine; this one runs the agent itself:
each trial builds the agent with :func:`~axon_lab.oader.make_agent` (the analyst, the Decide
stage, the risk limits and gates, the backtest backend), steps it over the train window and over
the test window of every walk-forward split, and scores the equity the loop recorded. So an RL
policy, an LLM behind a replaying cache or the rules analyst is tuned on what it would really
trade: orders sized by the Decide stage, refused by the risk lines, filled at the next bar's open.

A window's run is given ``warmup`` bars before its first decision, so indicators and an RL
policy's observation window are filled, and decides at the open of each of the window's bars
(with the bars before it complete); the equity is scored from the first decision on, with the
statistics of :func:`~axon_lab.explain.equity_stats` (the report's own). Each window is a run
in the explain store (``store``; in memory by default), so a trial's runs can be opened,
reported and compared like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.hpo._objective import DEFAULT_METRICS, BaseObjective, FoldScore, WalkForward
from axon_lab.hpo._space import SearchSpaceDef

__all__ = ["LOOP_METRICS", "LOOP_SPACE", "LoopObjective"]

LOOP_SPACE: dict[str, SearchSpaceDef] = {
    "risk_fraction": SearchSpaceDef(param_type="log_uniform", low=0.002, high=0.05),
    "stop_atr": SearchSpaceDef(param_type="uniform", low=1.0, high=4.0),
}
"""The default space: the Decide stage's risk per entry and its ATR stop distance."""

LOOP_METRICS = ("total_return", "cagr", "annual_volatility", "sharpe", "max_drawdown")
"""The statistics a loop run is scored by (those of the equity curve it records)."""


def _as_kwargs(params: Mapping[str, Any]) -> Mapping[str, Any]:
    return params


class LoopObjective(BaseObjective):
    """Walk-forward objective that runs the agent through the OADER loop in every window.

    Args:
        data: A canonical OHLCV frame (one symbol).
        agent: Turns a trial's parameters into :func:`~axon_lab.oader.make_agent` keyword
            arguments (e.g. ``lambda p: {"analyst": RLPolicy(policy, data), **p}``). Default: the
            parameters themselves, so a space over ``risk_fraction`` and ``stop_atr`` tunes the
            rules agent.
        space: The search space (default :data:`LOOP_SPACE`).
        walk_forward: Split settings (default: three expanding splits).
        metrics: Statistics returned (maximised), among :data:`LOOP_METRICS`.
        fixed: Parameters passed to every trial unchanged.
        warmup: Bars before each window's first decision, given to the agent as history.
        store: Where the window runs are recorded (``"sqlite://"``: in memory).

    Raises:
        ConfigError: On bad arguments, or if ``agent`` returns something that is not a mapping.

    Examples:
        >>> import optuna
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.hpo import LoopObjective, WalkForward, create_study
        >>> data = make_synthetic(400, timeframe="1h", start="2024-01-01", seed=5, symbol="SYN")
        >>> objective = LoopObjective(data, walk_forward=WalkForward(train=150, test=100))
        >>> study = create_study("loop", storage=":memory:", directions=objective.directions,
        ...                      seed=0)
        >>> study.optimize(objective, n_trials=2)
        >>> sorted(study.trials[0].params)
        ['risk_fraction', 'stop_atr']
        >>> len(study.trials[0].user_attrs["folds"])
        2
    """

    def __init__(
        self,
        data: pd.DataFrame,
        agent: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
        *,
        space: Mapping[str, SearchSpaceDef | Mapping[str, Any]] | None = None,
        walk_forward: WalkForward | None = None,
        metrics: Sequence[str] = DEFAULT_METRICS,
        fixed: Mapping[str, Any] | None = None,
        warmup: int = 60,
        store: str = "sqlite://",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise ConfigError(
                f"data must be a canonical OHLCV DataFrame, got {type(data).__name__}; load a "
                "file with axon_lab.data.load_ohlcv(path)"
            )
        bad = [m for m in metrics if m not in LOOP_METRICS]
        if bad:
            raise ConfigError(
                f"metrics {bad} are not measured on a loop's equity; choose among {LOOP_METRICS}"
            )
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ConfigError(f"warmup must be an int >= 0, got {warmup!r}")
        if agent is not None and not callable(agent):
            raise ConfigError(f"agent must be a function of the trial's parameters, got {agent!r}")
        super().__init__(
            space if space is not None else LOOP_SPACE,
            len(data),
            walk_forward=walk_forward,
            metrics=metrics,
            fixed=fixed,
        )
        self.data = data
        self.agent = agent or _as_kwargs
        self.warmup = warmup
        self.store = store
        self._store: Any = None

    @property
    def explain_store(self) -> Any:
        """The :class:`~axon_lab.explain.ExplainStore` the window runs are recorded in."""
        if self._store is None:
            from axon_lab.explain import ExplainStore

            self._store = ExplainStore(self.store)
        return self._store

    def run_window(
        self, params: Mapping[str, Any], idx: np.ndarray, run_id: str
    ) -> tuple[dict[str, float], list[float], float]:
        """Run the agent over the bars ``idx``; return its statistics, equity and bars per year.

        The equity list starts with the cash before the first decision.
        """
        from axon_lab.explain import equity_stats, periods_per_year
        from axon_lab.oader import make_agent

        kwargs = self.agent(dict(params))
        if not isinstance(kwargs, Mapping):
            raise ConfigError(
                f"agent(params) must return make_agent keyword arguments (a dict), got {kwargs!r}"
            )
        first, last = int(idx[0]), int(idx[-1])
        window = self.data.iloc[max(first - self.warmup, 0) : last + 1]
        loop = make_agent(
            window,
            store=self.explain_store,
            run_id=run_id,
            start=self.data.index[first].to_pydatetime(),
            progress=False,
            **kwargs,
        )
        loop.run(last - first + 1)  # decisions at the opens of bars first..last
        steps = loop.store.steps(run_id)
        if not steps:
            raise ConfigError(
                f"the window of bars {first}..{last} gave no decision time; use longer splits"
            )
        cash = float(kwargs.get("cash", 100_000.0))
        equity = [s.equity for s in steps]
        per_year = periods_per_year([s.timestamp for s in steps])
        stats = equity_stats(equity, start_value=cash, periods_per_year=per_year)
        return {m: float(stats[m]) for m in self.metrics}, [cash, *equity], per_year

    def _score_fold(
        self,
        params: Mapping[str, Any],
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        trial: Any,
        fold: int,
    ) -> FoldScore:
        study = getattr(getattr(trial, "study", None), "study_name", "study")
        base = f"{study}-trial-{trial.number}-fold-{fold}"
        in_sample, _, _ = self.run_window(params, train_idx, f"{base}-is")
        out_of_sample, equity, per_year = self.run_window(params, test_idx, f"{base}-oos")
        trial.set_user_attr(f"runs_fold_{fold}", [f"{base}-is", f"{base}-oos"])
        return FoldScore(
            in_sample=in_sample,
            out_of_sample=out_of_sample,
            oos_equity=equity,
            bars_per_year=per_year,
        )

    def close(self) -> None:
        """Close the explain store the window runs were recorded in."""
        if self._store is not None:
            self._store.close()
            self._store = None
