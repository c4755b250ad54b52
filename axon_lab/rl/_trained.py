"""`TrainedPolicy`: a trained SB3 model plus what is needed to rebuild its environment.

Saved as two files side by side: ``<path>.zip`` (SB3's own format) and ``<path>.json`` (the
algorithm, the :class:`~axon_lab.rl.EnvConfig` and the feature names).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from axon_lab._imports import require
from axon_lab.errors import ConfigError
from axon_lab.rl._sim import EnvConfig

__all__ = ["ALGORITHMS", "PolicyLike", "RandomPolicy", "TrainedPolicy", "algorithm_class"]

ALGORITHMS: tuple[str, ...] = ("ppo", "a2c", "dqn")
"""Stable-baselines3 algorithms :func:`~axon_lab.rl.train_policy` knows."""


@runtime_checkable
class PolicyLike(Protocol):
    """Anything with SB3's ``predict(observation, deterministic=...) -> (actions, state)``."""

    def predict(self, observation: np.ndarray, deterministic: bool = ...) -> tuple[Any, Any]:
        """Actions for a batch of observations."""
        ...


def algorithm_class(algo: str) -> Any:
    """The SB3 class of ``algo`` (``"ppo"``, ``"a2c"`` or ``"dqn"``).

    Raises:
        ConfigError: For an unknown name.
    """
    name = str(algo).lower()
    if name not in ALGORITHMS:
        raise ConfigError(f"algo={algo!r} is not one of {list(ALGORITHMS)}.")
    sb3 = require("stable_baselines3", "core", purpose="RL training")
    return getattr(sb3, name.upper())


class RandomPolicy:
    """Uniformly random actions from an action space: the baseline a policy must beat.

    Args:
        action_space: A Gymnasium space.
        seed: Seed of the generator.

    Examples:
        >>> from gymnasium import spaces
        >>> actions, _ = RandomPolicy(spaces.Discrete(3), seed=0).predict(np.zeros((4, 2)))
        >>> actions.shape
        (4,)
    """

    def __init__(self, action_space: Any, seed: int | None = None) -> None:
        self.action_space = action_space
        self.rng = np.random.default_rng(seed)

    def predict(self, observation: np.ndarray, deterministic: bool = False) -> tuple[Any, None]:
        """Random actions, one per row of ``observation``."""
        n = observation.shape[0]
        if hasattr(self.action_space, "n"):
            return self.rng.integers(0, int(self.action_space.n), size=n), None
        return self.rng.uniform(-1.0, 1.0, size=(n, *self.action_space.shape)), None


@dataclass(kw_only=True)
class TrainedPolicy:
    """A trained model and the environment settings it was trained with.

    Attributes:
        model: The SB3 model.
        algo: ``"ppo"``, ``"a2c"`` or ``"dqn"``.
        config: The environment settings.
        features: The observed feature names.
        history: ``(timesteps, validation score)`` of each periodic evaluation.
        stopped_early: Whether early stopping ended training.
    """

    model: Any
    algo: str
    config: EnvConfig
    features: tuple[str, ...]
    history: list[tuple[int, float]] = field(default_factory=list)
    stopped_early: bool = False

    def predict(self, observation: np.ndarray, deterministic: bool = True) -> tuple[Any, Any]:
        """Actions for a batch of observations (SB3's ``predict``)."""
        return self.model.predict(observation, deterministic=deterministic)  # type: ignore[no-any-return]

    def action_probabilities(self, observation: np.ndarray) -> np.ndarray:
        """Probabilities of the discrete actions (hold, buy, sell), shape ``(n, 3)``.

        DQN has no stochastic policy: its greedy action gets probability 1.

        Raises:
            ConfigError: For a continuous action space.
        """
        if self.config.action_type != "discrete":
            raise ConfigError("action_probabilities needs action_type='discrete'.")
        obs = np.asarray(observation, dtype=np.float32).reshape(-1, *self._obs_shape())
        if self.algo == "dqn":
            actions, _ = self.model.predict(obs, deterministic=True)
            return np.eye(3)[np.asarray(actions, dtype=np.int64)]
        torch = require("torch", "core", purpose="policy probabilities")
        policy = self.model.policy
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            dist = policy.get_distribution(tensor)
            probs = dist.distribution.probs.cpu().numpy()
        return np.asarray(probs, dtype=np.float64)

    def value_estimates(self, observation: np.ndarray) -> np.ndarray:
        """The policy's value estimate of each observation, shape ``(n,)``.

        PPO and A2C: the critic's ``predict_values``. DQN: the largest action value (the value of
        acting greedily).
        """
        if self.algo == "dqn":
            return np.asarray(self.q_values(observation).max(axis=1), dtype=np.float64)
        torch = require("torch", "core", purpose="policy value estimates")
        policy = self.model.policy
        obs = np.asarray(observation, dtype=np.float32).reshape(-1, *self._obs_shape())
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            values = policy.predict_values(tensor).cpu().numpy()
        return np.asarray(values, dtype=np.float64).reshape(-1)

    def q_values(self, observation: np.ndarray) -> np.ndarray:
        """DQN's action values (hold, buy, sell), shape ``(n, 3)``.

        Raises:
            ConfigError: For an algorithm other than DQN (PPO and A2C have no action values).
        """
        if self.algo != "dqn":
            raise ConfigError(
                f"q_values needs a DQN policy; this one is {self.algo!r}: read "
                "action_probabilities and value_estimates instead."
            )
        torch = require("torch", "core", purpose="DQN action values")
        policy = self.model.policy
        obs = np.asarray(observation, dtype=np.float32).reshape(-1, *self._obs_shape())
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(obs)
            q = policy.q_net(tensor).cpu().numpy()
        return np.asarray(q, dtype=np.float64)

    def _obs_shape(self) -> tuple[int, ...]:
        return tuple(self.model.observation_space.shape)

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.zip`` and ``<path>.json``; return the zip path."""
        base = Path(path).with_suffix("")
        base.parent.mkdir(parents=True, exist_ok=True)
        self.model.save(str(base))
        meta = {
            "algo": self.algo,
            "config": self.config.to_dict(),
            "features": list(self.features),
            "history": self.history,
            "stopped_early": self.stopped_early,
        }
        base.with_suffix(".json").write_text(json.dumps(meta, indent=2))
        return base.with_suffix(".zip")

    @classmethod
    def load(cls, path: str | Path) -> TrainedPolicy:
        """Load what :meth:`save` wrote.

        Raises:
            ConfigError: If either file is missing.
        """
        base = Path(path).with_suffix("")
        meta_path = base.with_suffix(".json")
        if not meta_path.exists() or not base.with_suffix(".zip").exists():
            raise ConfigError(
                f"No saved policy at {base}: expected {base}.zip and {meta_path.name}; "
                "save one with TrainedPolicy.save(path)."
            )
        meta = json.loads(meta_path.read_text())
        model = algorithm_class(meta["algo"]).load(str(base), device="cpu")
        return cls(
            model=model,
            algo=meta["algo"],
            config=EnvConfig(**meta["config"]),
            features=tuple(meta["features"]),
            history=[(int(a), float(b)) for a, b in meta["history"]],
            stopped_early=bool(meta["stopped_early"]),
        )
