"""Mode 1, RL-augmented LLM: the RL policy's action probabilities fused with the LLM's analysis.

:class:`FusionRule` is the configurable rule, and every fused analysis records it (its name, its
settings, both inputs and the result) as a :class:`~axon_lab.records.ReasoningStep`, so the
explain report shows why an action was taken. The rule:

1. the LLM's analysis becomes a distribution: its action gets its confidence ``c``, the two
   other actions ``(1 - c) / 2`` each;
2. the fused distribution is ``(1 - rl_weight) * llm + rl_weight * rl``;
3. the fused action is its most probable action; the confidence is that probability, capped at
   ``max_confidence``.

With ``only_when_uncertain``, fusion applies only when the LLM's confidence is below
``uncertain_below`` and the RL's top probability is at least ``rl_min_probability``; otherwise the
LLM's analysis passes unchanged (with the rule still recorded). An abstaining analysis always
passes unchanged. The fused analysis keeps ``source=llm`` when the action is the LLM's and becomes
``source=rl`` when the RL changed it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from axon_lab.errors import ConfigError
from axon_lab.records import (
    Action,
    Analysis,
    AnalysisSource,
    MarketAssessment,
    Observation,
    ReasoningStep,
)
from axon_lab.rl._policy import RLPolicy

__all__ = ["FusionRule", "RLAugmentedAnalyzer", "fuse"]

_ASSESSMENT = {
    Action.BUY: MarketAssessment.UPTREND,
    Action.SELL: MarketAssessment.DOWNTREND,
    Action.HOLD: MarketAssessment.RANGE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FusionRule:
    """How RL probabilities and LLM confidence combine (see the module docstring).

    Attributes:
        rl_weight: Weight of the RL distribution, in [0, 1].
        max_confidence: Cap of the fused confidence, in (0, 1].
        only_when_uncertain: Fuse only when the LLM is unsure and the RL is sure.
        uncertain_below: LLM confidence under which it counts as unsure.
        rl_min_probability: RL top probability from which it counts as sure.
    """

    rl_weight: float = 0.5
    max_confidence: float = 1.0
    only_when_uncertain: bool = False
    uncertain_below: float = 1.0
    rl_min_probability: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rl_weight", "uncertain_below", "rl_min_probability"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{name}={v!r} must be in [0, 1].")
        if not 0.0 < self.max_confidence <= 1.0:
            raise ConfigError(f"max_confidence={self.max_confidence!r} must be in (0, 1].")


def fuse(analysis: Analysis, rl_probs: dict[Action, float], rule: FusionRule) -> Analysis:
    """Fuse an LLM analysis with RL action probabilities by ``rule``; record the rule.

    Examples:
        >>> from axon_lab.records import Analysis
        >>> a = Analysis(thought="", market_assessment="range", risk_assessment="low",
        ...              confidence=0.4, action="hold", source="llm", analyst="m")
        >>> probs = {Action.HOLD: 0.1, Action.BUY: 0.85, Action.SELL: 0.05}
        >>> f = fuse(a, probs, FusionRule(rl_weight=0.5))
        >>> f.action.value, round(f.confidence, 3), f.source.value
        ('buy', 0.575, 'rl')
    """
    if analysis.source is AnalysisSource.ABSTAIN:
        return analysis
    c = analysis.confidence
    llm = {a: (c if a is analysis.action else (1.0 - c) / 2.0) for a in Action}
    top_rl = max(rl_probs.values())
    applies = not rule.only_when_uncertain or (
        c < rule.uncertain_below and top_rl >= rule.rl_min_probability
    )
    w = rule.rl_weight if applies else 0.0
    fused = {a: (1.0 - w) * llm[a] + w * rl_probs.get(a, 0.0) for a in Action}
    action = analysis.action if not applies else max(fused, key=lambda a: fused[a])
    confidence = min(fused[action] if applies else c, rule.max_confidence)
    note = {
        "rule": "fusion",
        "settings": asdict(rule),
        "applied": applies,
        "llm": {"action": analysis.action.value, "confidence": c},
        "rl": {a.value: round(p, 6) for a, p in rl_probs.items()},
        "fused": {"action": action.value, "confidence": round(confidence, 6)},
    }
    changed = action is not analysis.action
    return analysis.replace(
        action=action,
        confidence=confidence,
        market_assessment=_ASSESSMENT[action] if changed else analysis.market_assessment,
        source=AnalysisSource.RL if changed else analysis.source,
        reason=(f"RL changed {analysis.action.value} to {action.value}; " if changed else "")
        + analysis.reason,
        reasoning_steps=(
            *analysis.reasoning_steps,
            ReasoningStep(thought=f"RL-augmented decision: {json.dumps(note, sort_keys=True)}"),
        ),
    )


class RLAugmentedAnalyzer:
    """Analyze stage: the LLM analyses, the RL policy's probabilities are fused in.

    Args:
        llm: The LLM Analyze stage (e.g. :class:`~axon_lab.oader.ReActAnalyzer`), any callable
            ``observation -> Analysis``.
        rl: The :class:`~axon_lab.rl.RLPolicy`.
        rule: The fusion rule (recorded on every analysis).
    """

    def __init__(
        self,
        llm: Callable[[Observation], Analysis],
        rl: RLPolicy,
        rule: FusionRule | None = None,
    ) -> None:
        self.llm = llm
        self.rl = rl
        self.rule = rule or FusionRule()

    def __call__(self, observation: Observation) -> Analysis:
        """Analyse with the LLM, then fuse the RL's probabilities."""
        analysis = self.llm(observation)
        return fuse(analysis, self.rl.probabilities(observation), self.rule)

    def __repr__(self) -> str:
        return f"RLAugmentedAnalyzer(rl={self.rl.name!r}, rule={self.rule!r})"
