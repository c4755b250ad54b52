"""The RL policy in the LLM's prompt (seed 001's RL-augmented LLM): :class:`RLHintStage`.

A part of the Observe stage: it wraps another Observe stage (the
:class:`~axon_lab.oader.ContextBuilder`) and adds the policy's recommendation — its action, the
action's probability (the confidence) and its value estimate — to the observation as a typed
:class:`~axon_lab.records.RLHint`. :func:`~axon_lab.oader.render_observation` shows it to the LLM,
which weighs it with its own reading; the explain store keeps it with the step's observation.

This is the *before-the-answer* mode. The fusion after the answer
(:class:`~axon_lab.rl.RLAugmentedAnalyzer`) stays a separate mode; the two can be combined.

Before the policy has a full observation (its feature warm-up and window), the observation carries
no hint and the prompt has no RL section (``on_warmup="skip"``, the default), or the step fails
(``on_warmup="error"``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from axon_lab.errors import ConfigError
from axon_lab.records import Observation, RLHint

from .stages import ObserveStage, as_async, run_blocking

__all__ = ["HintPolicy", "RLHintStage"]


@runtime_checkable
class HintPolicy(Protocol):
    """What the stage needs of a policy: ``hint(observation) -> RLHint`` (an ``RLPolicy``)."""

    def hint(self, observation: Observation, /) -> RLHint:
        """The policy's recommendation at ``observation``."""
        ...


class RLHintStage:
    """Observe stage part: the wrapped stage's observation plus an RL policy's hint.

    Args:
        observe: The Observe stage to wrap (``now -> Observation``).
        policy: A :class:`~axon_lab.rl.RLPolicy` (or anything with ``hint(observation)``; an
            optional ``ready(timestamp) -> bool`` says when it can give one).
        on_warmup: ``"skip"`` (no hint before the policy can observe) or ``"error"``.

    Raises:
        ConfigError: If ``policy`` has no ``hint`` method or ``on_warmup`` is unknown.
    """

    def __init__(
        self,
        observe: ObserveStage | Any,
        policy: HintPolicy | Any,
        *,
        on_warmup: Literal["skip", "error"] = "skip",
    ) -> None:
        if not callable(getattr(policy, "hint", None)):
            raise ConfigError(
                f"rl_hint needs a policy with hint(observation), such as "
                f"axon_lab.rl.RLPolicy(trained, data); got {type(policy).__name__}"
            )
        if on_warmup not in ("skip", "error"):
            raise ConfigError(f"on_warmup must be 'skip' or 'error', got {on_warmup!r}")
        self.observe = observe
        self.policy = policy
        self.on_warmup = on_warmup
        self._observe = as_async(observe)

    @property
    def name(self) -> str:
        """The policy's name."""
        return str(getattr(self.policy, "name", type(self.policy).__name__))

    async def acall(self, now: datetime) -> Observation:
        """Observe at ``now``, then add the policy's hint."""
        observation: Observation = await self._observe(now)
        ready = getattr(self.policy, "ready", None)
        if callable(ready) and not ready(observation.timestamp) and self.on_warmup == "skip":
            return observation
        return observation.replace(rl_hint=self.policy.hint(observation))

    def __call__(self, now: datetime) -> Observation:
        """Blocking :meth:`acall`."""
        return run_blocking(self.acall(now))

    def __repr__(self) -> str:
        return f"RLHintStage({self.observe!r}, policy={self.name!r})"
