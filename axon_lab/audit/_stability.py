"""Decision stability: re-sample chosen steps of a run and measure how often the model agrees.

An LLM's decision at a non-zero temperature is a sample; one run shows one draw. This audit
rebuilds the run's Analyze and Decide stages from its stored
:class:`~axon_lab.oader.AgentConfig` (:func:`~axon_lab.oader.rebuild_agent`, same model, same
sampling parameters) and calls them ``n_samples`` times on each chosen step's stored observation
(:func:`axon_lab.explain.observation`).

Sample ``i`` sends the request parameter ``seed = seed + i`` (the OpenAI ``seed``; also what
makes each sample its own entry in the LLM cache, so a re-run of the audit with a
:class:`~axon_lab.llm.CachedClient` is served from the cache, free and identical).

Per step: the actions drawn, the agreement rate (share of the modal action), the action entropy
in bits, and the spread (standard deviation and range) of the quantities. Per run: the means and
the steps where the model disagreed with itself.

The Analyze stage's tools (if the model calls any) answer from the rebuilt agent's fresh account,
not from the account the original step saw; the observation itself is the stored one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from axon_lab.errors import ConfigError

from ._lookahead import call_stage

if TYPE_CHECKING:
    from axon_lab.explain import ExplainStore

__all__ = ["StabilityReport", "StepStability", "check_stability"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStability:
    """How one step's decision varied over the samples.

    Attributes:
        step: The step.
        recorded: The action the run recorded.
        actions: The decision action of each sample.
        quantities: The decision quantity of each sample (0 for a hold).
        agreement: Share of samples with the most common action.
        entropy: Shannon entropy of the actions, in bits (0: always the same).
        quantity_std: Standard deviation of the quantities.
        quantity_range: Largest minus smallest quantity.
    """

    step: int
    recorded: str
    actions: tuple[str, ...]
    quantities: tuple[float, ...]
    agreement: float
    entropy: float
    quantity_std: float
    quantity_range: float

    @property
    def is_stable(self) -> bool:
        """True when every sample chose the same action."""
        return len(set(self.actions)) == 1


@dataclass(frozen=True, slots=True, kw_only=True)
class StabilityReport:
    """The result of :func:`check_stability`.

    Attributes:
        run_id: The run.
        n_samples: Samples per step.
        steps: Each chosen step's figures.
        seed: The base seed (sample ``i`` used ``seed + i``).
    """

    run_id: str
    n_samples: int
    steps: tuple[StepStability, ...]
    seed: int

    @property
    def agreement(self) -> float:
        """Mean agreement rate over the steps."""
        return float(np.mean([s.agreement for s in self.steps]))

    @property
    def entropy(self) -> float:
        """Mean action entropy over the steps, in bits."""
        return float(np.mean([s.entropy for s in self.steps]))

    @property
    def unstable_steps(self) -> tuple[int, ...]:
        """Steps where the samples chose different actions."""
        return tuple(s.step for s in self.steps if not s.is_stable)

    def summary(self) -> str:
        """One line for reports."""
        unstable = self.unstable_steps
        listed = ", ".join(map(str, unstable[:20])) + (" ..." if len(unstable) > 20 else "")
        return (
            f"decision stability ({len(self.steps)} steps x {self.n_samples} samples): mean "
            f"agreement {self.agreement:.0%}, mean action entropy {self.entropy:.2f} bits; "
            + (
                f"the model disagreed with itself at {len(unstable)} step(s): {listed}"
                if unstable
                else "every step gave the same action every time"
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "run_id": self.run_id,
            "n_samples": self.n_samples,
            "seed": self.seed,
            "agreement": self.agreement,
            "entropy": self.entropy,
            "unstable_steps": list(self.unstable_steps),
            "steps": [
                {
                    "step": s.step,
                    "recorded": s.recorded,
                    "actions": list(s.actions),
                    "agreement": s.agreement,
                    "entropy": s.entropy,
                    "quantity_std": s.quantity_std,
                    "quantity_range": s.quantity_range,
                }
                for s in self.steps
            ],
            "summary": self.summary(),
        }


def _entropy(actions: Sequence[str]) -> float:
    counts = np.array(list(Counter(actions).values()), dtype=np.float64)
    p = counts / counts.sum()
    return float(max(0.0, -(p * np.log2(p)).sum()))


def _int(value: Any, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"{name} must be an int >= {least}, got {value!r}")
    return value


def check_stability(
    store: ExplainStore,
    run_id: str,
    *,
    analyst: Any = None,
    data: Any = None,
    steps: Sequence[int] | None = None,
    n_steps: int = 10,
    n_samples: int = 5,
    seed: int,
) -> StabilityReport:
    """Re-sample chosen steps of ``run_id`` ``n_samples`` times and measure the agreement.

    Args:
        store: Where the run is recorded.
        run_id: The run.
        analyst: The run's LLM client (wrap it in a :class:`~axon_lab.llm.CachedClient` to keep
            the samples; the run's own sampling parameters are used).
        data: The run's bars, when they were given as a frame.
        steps: The steps to re-sample (default: ``n_steps`` drawn with ``seed``).
        n_steps: How many steps to draw when ``steps`` is None.
        n_samples: Samples per step (>= 2).
        seed: Base seed: draws the steps and is sent as ``seed + i`` with sample ``i``.

    Returns:
        A :class:`StabilityReport`.

    Raises:
        ConfigError: For bad counts, unknown steps, or a run that cannot be rebuilt.
    """
    from axon_lab.explain import ExplainStore, observation
    from axon_lab.oader import AgentConfig, rebuild_agent

    _int(n_samples, "n_samples", 2)
    _int(n_steps, "n_steps", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an int (sample i sends seed + i), got {seed!r}")
    recorded = {s.step: s for s in store.steps(run_id) if s.decision is not None}
    if not recorded:
        raise ConfigError(f"run {run_id!r} has no step with a decision; run it first")
    if steps is None:
        rng = np.random.default_rng(seed)
        pool = sorted(recorded)
        picked = sorted(
            int(pool[i]) for i in rng.choice(len(pool), min(n_steps, len(pool)), replace=False)
        )
    else:
        picked = sorted(set(steps))
        unknown = [s for s in picked if s not in recorded]
        if unknown or not picked:
            raise ConfigError(
                f"steps {unknown or picked} are not decided steps of run {run_id!r} (it has "
                f"{len(recorded)}: {min(recorded)}..{max(recorded)}); pick among them"
            )
    raw = store.get_run(run_id).config.get("agent")
    if not isinstance(raw, dict):
        raise ConfigError(f"run {run_id!r} holds no agent config; record it with make_agent")
    params = dict(AgentConfig.model_validate(raw).llm_params)
    observations = {s: observation(store, run_id, s) for s in picked}
    drawn: dict[int, list[tuple[str, float]]] = {s: [] for s in picked}
    for i in range(n_samples):
        scratch = ExplainStore("sqlite://")
        try:
            loop = rebuild_agent(
                store,
                run_id,
                analyst=analyst,
                data=data,
                into=scratch,
                new_run_id=f"{run_id}-sample{i}",
                overrides={"llm_params": {**params, "seed": seed + i}},
            )
            for s in picked:
                obs = observations[s]
                decision = call_stage(loop.decide, call_stage(loop.analyze, obs), obs)
                drawn[s].append((decision.action.value, float(decision.quantity or 0.0)))
        finally:
            scratch.close()
    out = []
    for s in picked:
        actions = tuple(a for a, _ in drawn[s])
        qty = np.array([q for _, q in drawn[s]], dtype=np.float64)
        decision = recorded[s].decision
        out.append(
            StepStability(
                step=s,
                recorded="none" if decision is None else decision.action.value,
                actions=actions,
                quantities=tuple(qty.tolist()),
                agreement=max(Counter(actions).values()) / len(actions),
                entropy=_entropy(actions),
                quantity_std=float(qty.std()),
                quantity_range=float(qty.max() - qty.min()) if math.isfinite(qty.sum()) else 0.0,
            )
        )
    return StabilityReport(run_id=run_id, n_samples=n_samples, steps=tuple(out), seed=seed)
