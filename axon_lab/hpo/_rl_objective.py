"""`RLObjective`: tune RL hyperparameters by training and evaluating on walk-forward splits.

Per split: train on the train window (its last ``validation_fraction`` held out as a validation
window that drives periodic evaluation), then score the policy with
:func:`~axon_lab.rl.evaluate_policy` on the train window (in-sample) and on the test window
(out-of-sample). On the first split every validation score is reported to Optuna
(``trial.report``) and the trial is pruned when the pruner says so. :mod:`axon_lab.rl` (and with it
torch) is imported when the objective is built, not when :mod:`axon_lab.hpo` is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from axon_lab._imports import require
from axon_lab.errors import ConfigError
from axon_lab.hpo._objective import DEFAULT_METRICS, BaseObjective, FoldScore, WalkForward
from axon_lab.hpo._space import SearchSpaceDef

__all__ = ["DEFAULT_RL_SPACE", "RLObjective"]

DEFAULT_RL_SPACE: dict[str, SearchSpaceDef] = {
    "learning_rate": SearchSpaceDef(param_type="log_uniform", low=1e-5, high=1e-2),
    "gamma": SearchSpaceDef(param_type="uniform", low=0.9, high=0.9999),
}
"""A starting space for PPO/A2C: learning rate and discount."""


class RLObjective(BaseObjective):
    """Walk-forward objective over RL hyperparameters.

    Args:
        data: OHLCV data (frame, path, MarketView or MarketArrays).
        algo: ``"ppo"``, ``"a2c"`` or ``"dqn"``.
        total_timesteps: Training steps per split.
        config: Environment settings (:class:`~axon_lab.rl.EnvConfig`).
        space: Search space over the algorithm's keyword arguments.
        walk_forward: Split settings.
        metrics: Statistics returned (maximised).
        fixed: Algorithm keyword arguments fixed for every trial (e.g. ``n_steps``).
        n_envs: Batched environments per training.
        n_evaluations: Validation evaluations per training (the pruning points).
        validation_fraction: Share of each train window held out for validation.
        seed: Seed of every training.
    """

    def __init__(
        self,
        data: Any,
        *,
        algo: str = "ppo",
        total_timesteps: int,
        config: Any = None,
        space: Mapping[str, SearchSpaceDef | Mapping[str, Any]] | None = None,
        walk_forward: WalkForward | None = None,
        metrics: Sequence[str] = DEFAULT_METRICS,
        fixed: Mapping[str, Any] | None = None,
        n_envs: int = 4,
        n_evaluations: int = 4,
        validation_fraction: float = 0.25,
        seed: int | None = 0,
    ) -> None:
        rl = require("axon_lab.rl", "core", purpose="the RL objective")
        self.rl = rl
        self.config = config or rl.EnvConfig()
        self.market = rl.make_market(data)
        super().__init__(
            space if space is not None else DEFAULT_RL_SPACE,
            self.market.n_bars,
            walk_forward=walk_forward,
            metrics=metrics,
            fixed=fixed,
        )
        if not 0.0 < validation_fraction < 1.0:
            raise ConfigError(f"validation_fraction={validation_fraction!r} must be in (0, 1).")
        if n_evaluations < 1:
            raise ConfigError(f"n_evaluations={n_evaluations!r} must be >= 1.")
        self.algo = algo
        self.total_timesteps = total_timesteps
        self.n_envs = n_envs
        self.n_evaluations = n_evaluations
        self.validation_fraction = validation_fraction
        self.seed = seed

    def _window(self, idx: np.ndarray) -> Any:
        """The slice holding ``idx`` plus the observation warm-up before it."""
        lo = max(int(idx[0]) - (self.config.window - 1), 0)
        return self.market.slice(lo, int(idx[-1]) + 1)

    def _stats(self, policy: Any, idx: np.ndarray) -> dict[str, float]:
        stats = self.rl.evaluate_policy(policy, self._window(idx)).mean_stats()
        return {m: float(stats[m]) for m in self.metrics}

    def _score_fold(
        self,
        params: Mapping[str, Any],
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        trial: Any,
        fold: int,
    ) -> FoldScore:
        optuna = require("optuna", "core")
        n_val = max(int(len(train_idx) * self.validation_fraction), self.config.window + 2)
        fit_idx, val_idx = train_idx[:-n_val], train_idx[-n_val:]
        if len(fit_idx) < 2:
            raise ConfigError("The train window is too short to hold out a validation window.")

        def report(timesteps: int, score: float) -> None:
            if fold != 0:
                return
            trial.report(score, timesteps)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at {timesteps} steps (score {score:.4g})")

        policy = self.rl.train_policy(
            self.market.slice(int(fit_idx[0]), int(fit_idx[-1]) + 1),
            algo=self.algo,
            total_timesteps=self.total_timesteps,
            config=self.config,
            features=self.market.feature_names,
            n_envs=self.n_envs,
            seed=self.seed,
            hyperparams=dict(params),
            validation=self._window(val_idx),
            eval_freq=max(self.total_timesteps // self.n_evaluations, 1),
            on_evaluation=report if len(self.directions) == 1 else None,
        )
        return FoldScore(
            in_sample=self._stats(policy, train_idx), out_of_sample=self._stats(policy, test_idx)
        )
