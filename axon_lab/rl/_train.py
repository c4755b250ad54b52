"""`train_policy`: train PPO, A2C or DQN on the batched environment, with SB3 callbacks.

Training runs on a :class:`~axon_lab.rl.BatchedTradingEnv`. Every ``eval_freq`` environment steps
:class:`ValidationCallback` scores the current policy on a validation window with
:func:`~axon_lab.rl.evaluate_policy` (a backtest statistic, Sharpe by default), keeps the best
weights, stops after ``patience`` evaluations without improvement, and passes each score to an
optional ``on_evaluation`` hook (how Optuna prunes RL trials: the hook raises
``optuna.TrialPruned``). The callback follows SB3's shape: the public hook does the bookkeeping,
``_on_step`` decides, and returning False stops training.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from axon_lab.errors import ConfigError
from axon_lab.rl._evaluate import evaluate_policy
from axon_lab.rl._market import DEFAULT_ENV_FEATURES, DataLike, MarketArrays, make_market
from axon_lab.rl._sim import EnvConfig
from axon_lab.rl._trained import TrainedPolicy, algorithm_class
from axon_lab.rl._vec_env import BatchedTradingEnv

__all__ = ["ValidationCallback", "train_policy"]

EvaluationHook = Callable[[int, float], None]
"""``(timesteps, score) -> None``; may raise (e.g. ``optuna.TrialPruned``) to abort training."""


class ValidationCallback(BaseCallback):
    """Score the policy on a validation window every ``eval_freq`` steps; stop on a plateau.

    Args:
        market: Validation data.
        config: Environment settings.
        features: Observed features.
        eval_freq: Environment steps (summed over environments) between evaluations.
        metric: A backtest statistic to maximise (``"sharpe"``, ``"total_return"`` ...).
        patience: Stop after this many evaluations without improvement (None = never).
        on_evaluation: Hook called with ``(timesteps, score)`` after each evaluation.
        algo: Algorithm name (for the TrainedPolicy handed to the evaluator).
    """

    def __init__(
        self,
        market: MarketArrays,
        config: EnvConfig,
        features: Sequence[str],
        *,
        eval_freq: int,
        metric: str = "sharpe",
        patience: int | None = None,
        on_evaluation: EvaluationHook | None = None,
        algo: str = "ppo",
    ) -> None:
        super().__init__(verbose=0)
        if eval_freq < 1:
            raise ConfigError(f"eval_freq={eval_freq!r} must be >= 1 environment step.")
        if patience is not None and patience < 1:
            raise ConfigError(f"patience={patience!r} must be >= 1 or None.")
        self.market = market
        self.config = config
        self.features = tuple(features)
        self.eval_freq = eval_freq
        self.metric = metric
        self.patience = patience
        self.on_evaluation = on_evaluation
        self.algo = algo
        self.history: list[tuple[int, float]] = []
        self.best_score = -math.inf
        self.best_weights: dict[str, Any] | None = None
        self.stopped_early = False
        self._last = 0
        self._stale = 0

    def score(self) -> float:
        """The validation metric of the current policy (``-inf`` when it is NaN)."""
        handle = TrainedPolicy(
            model=self.model, algo=self.algo, config=self.config, features=self.features
        )
        stats = evaluate_policy(handle, self.market).mean_stats()
        value = float(stats[self.metric])
        return value if math.isfinite(value) else -math.inf

    def _on_step(self) -> bool:
        if self.num_timesteps - self._last < self.eval_freq:
            return True
        self._last = self.num_timesteps
        value = self.score()
        self.history.append((int(self.num_timesteps), value))
        if self.on_evaluation is not None:
            self.on_evaluation(int(self.num_timesteps), value)
        if value > self.best_score:
            self.best_score = value
            self._stale = 0
            state = self.model.policy.state_dict()
            self.best_weights = {k: v.detach().clone() for k, v in state.items()}
            return True
        self._stale += 1
        if self.patience is not None and self._stale >= self.patience:
            self.stopped_early = True
            return False
        return True


def train_policy(
    data: DataLike,
    *,
    algo: str = "ppo",
    total_timesteps: int,
    config: EnvConfig | None = None,
    features: Sequence[str] = DEFAULT_ENV_FEATURES,
    n_envs: int = 8,
    seed: int | None = None,
    hyperparams: Mapping[str, Any] | None = None,
    validation: DataLike | None = None,
    eval_freq: int | None = None,
    metric: str = "sharpe",
    patience: int | None = None,
    restore_best: bool = True,
    on_evaluation: EvaluationHook | None = None,
    callbacks: Sequence[BaseCallback] = (),
    progress_bar: bool = False,
    torch_threads: int | None = 1,
    env_wrapper: Callable[[BatchedTradingEnv], VecEnv] | None = None,
) -> TrainedPolicy:
    """Train an SB3 policy on the batched trading environment.

    Args:
        data: Training data (frame, path, MarketView or MarketArrays).
        algo: ``"ppo"``, ``"a2c"`` or ``"dqn"`` (DQN needs ``action_type="discrete"``).
        total_timesteps: Environment steps to train for (summed over environments).
        config: Environment settings.
        features: Observed feature names.
        n_envs: Parallel episode windows in the batched environment.
        seed: Seed of the windows and of the model.
        hyperparams: Keyword arguments of the SB3 algorithm (``learning_rate``, ``gamma`` ...).
        validation: Validation data; enables periodic evaluation and early stopping.
        eval_freq: Environment steps between evaluations (default: a tenth of the training).
        metric: Backtest statistic scored on the validation window.
        patience: Evaluations without improvement before stopping (None = never stop early).
        restore_best: Reload the best validation weights at the end.
        on_evaluation: Hook ``(timesteps, score)`` after each evaluation (Optuna pruning).
        callbacks: Extra SB3 callbacks.
        progress_bar: Show SB3's progress bar (needs tqdm and rich).
        torch_threads: Torch intra-op threads while training (restored afterwards); one thread
            is fastest for these small networks, more only add contention. None leaves torch's.
        env_wrapper: Wraps the training env, e.g. :meth:`~axon_lab.rl.LLMRewardShaper.wrap`.

    Returns:
        The :class:`~axon_lab.rl.TrainedPolicy`.

    Raises:
        ConfigError: On an unknown algorithm, DQN with continuous actions, or bad settings.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> policy = train_policy(make_synthetic(400, seed=0), total_timesteps=64, n_envs=2,
        ...                       config=EnvConfig(window=4, episode_length=16), seed=0,
        ...                       hyperparams={"n_steps": 16, "batch_size": 32})
        >>> policy.algo, policy.model.num_timesteps
        ('ppo', 64)
    """
    cfg = config or EnvConfig()
    algo = str(algo).lower()
    cls = algorithm_class(algo)
    if algo == "dqn" and cfg.action_type != "discrete":
        raise ConfigError(
            "DQN needs action_type='discrete'; use PPO or A2C for continuous actions."
        )
    if (
        isinstance(total_timesteps, bool)
        or not isinstance(total_timesteps, int)
        or (total_timesteps < 1)
    ):
        raise ConfigError(f"total_timesteps={total_timesteps!r} must be an int >= 1.")
    market = make_market(data, features=features)
    base_env = BatchedTradingEnv(market, n_envs=n_envs, config=cfg, seed=seed)
    env: VecEnv = env_wrapper(base_env) if env_wrapper is not None else base_env
    kwargs: dict[str, Any] = {"seed": seed, "device": "cpu", "verbose": 0}
    kwargs.update(hyperparams or {})
    try:
        model = cls("MlpPolicy", env, **kwargs)
    except TypeError as exc:
        raise ConfigError(
            f"{algo.upper()} rejected the hyperparameters {hyperparams}: {exc}"
        ) from exc
    cbs: list[BaseCallback] = list(callbacks)
    val_cb: ValidationCallback | None = None
    if validation is not None:
        val_cb = ValidationCallback(
            make_market(validation, features=features),
            cfg,
            features,
            eval_freq=eval_freq or max(total_timesteps // 10, 1),
            metric=metric,
            patience=patience,
            on_evaluation=on_evaluation,
            algo=algo,
        )
        cbs.append(val_cb)
    import torch

    threads = torch.get_num_threads()
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    try:
        model.learn(
            total_timesteps=total_timesteps, callback=cbs or None, progress_bar=progress_bar
        )
    finally:
        torch.set_num_threads(threads)
    if val_cb is not None and restore_best and val_cb.best_weights is not None:
        model.policy.load_state_dict(val_cb.best_weights)
    return TrainedPolicy(
        model=model,
        algo=algo,
        config=cfg,
        features=tuple(features),
        history=list(val_cb.history) if val_cb else [],
        stopped_early=bool(val_cb and val_cb.stopped_early),
    )
