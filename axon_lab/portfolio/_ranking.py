"""RankingAnalyst: the rules analyst of a universe -- rank symbols by a score, weight the best.

Each step, vectorized over the universe:

1. ``score`` is the observation's feature ``feature`` (default ``trend``: the rules analyst's
   spread, ``(sma_fast - sma_slow) / atr``, so a symbol ranks high when it trends up strongly
   in ATR units).
2. Eligible symbols are tradable at this step with a finite score of at least ``min_score``.
3. The ``top_k`` highest scores (ties broken by column order) share the weight budget: equally
   (``weighting="equal"``) or in proportion to their score (``"score"``), each capped at
   ``max_weight`` (what a cap cuts stays in cash).
4. The budget is ``invested`` less the weights of positions that cannot trade at this step (a
   halted symbol keeps its weight; it is carried in the target unchanged).

The decision records every eligible symbol's score, so a report can show why each symbol was or
was not held. Its source is ``rules``; it is never labelled an LLM.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from axon_lab.errors import ConfigError
from axon_lab.records import DecisionSource, PortfolioDecision, PortfolioObservation

__all__ = ["RankingAnalyst"]


class RankingAnalyst:
    """Rank the universe by a feature and hold the top ``top_k`` (see the module docstring).

    Args:
        feature: The observation feature to rank by.
        top_k: How many symbols to hold at most.
        min_score: Lowest score a held symbol may have.
        invested: Fraction of equity to invest (the rest is a cash buffer).
        weighting: ``"equal"`` or ``"score"``.
        max_weight: Cap on any one weight (None: no cap).

    Raises:
        ConfigError: On a bad setting.
    """

    def __init__(
        self,
        *,
        feature: str = "trend",
        top_k: int = 10,
        min_score: float = 0.0,
        invested: float = 0.95,
        weighting: Literal["equal", "score"] = "equal",
        max_weight: float | None = None,
    ) -> None:
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ConfigError(f"top_k must be an int >= 1, got {top_k!r}.")
        if not (isinstance(invested, int | float) and 0.0 <= invested <= 1.0):
            raise ConfigError(f"invested must be in [0, 1], got {invested!r}.")
        if weighting not in ("equal", "score"):
            raise ConfigError(f"weighting must be 'equal' or 'score', got {weighting!r}.")
        if max_weight is not None and not (0.0 < max_weight <= 1.0):
            raise ConfigError(f"max_weight must be in (0, 1], got {max_weight!r}.")
        if not math.isfinite(min_score):
            raise ConfigError(f"min_score must be finite, got {min_score!r}.")
        self.feature = feature
        self.top_k = top_k
        self.min_score = float(min_score)
        self.invested = float(invested)
        self.weighting = weighting
        self.max_weight = max_weight

    def scores(self, observation: PortfolioObservation) -> np.ndarray:
        """Each symbol's score (NaN where undefined)."""
        try:
            col = observation.features[self.feature]
        except KeyError:
            raise ConfigError(
                f"the observation has no feature {self.feature!r}; it has "
                f"{sorted(observation.features)}."
            ) from None
        return np.array(col, dtype=np.float64)

    def weights(self, observation: PortfolioObservation) -> tuple[np.ndarray, np.ndarray]:
        """Target weights and scores, one per symbol."""
        score = self.scores(observation)
        tradable = np.array(observation.tradable, dtype=bool)
        current = np.array(observation.weights, dtype=np.float64)
        stuck = ~tradable & (current != 0.0)
        target = np.where(stuck, current, 0.0)
        budget = self.invested - float(np.abs(target).sum())
        eligible = tradable & np.isfinite(score) & (score >= self.min_score)
        idx = np.flatnonzero(eligible)
        if idx.size and budget > 0:
            # stable: equal scores keep column order
            order = idx[np.argsort(-score[idx], kind="stable")][: self.top_k]
            if self.weighting == "equal":
                raw = np.full(order.size, budget / order.size)
            else:
                s = np.maximum(score[order], 0.0)
                total = float(s.sum())
                raw = budget * s / total if total > 0 else np.full(order.size, budget / order.size)
            if self.max_weight is not None:
                raw = np.minimum(raw, self.max_weight)
            target[order] = raw
        return target, score

    def __call__(self, observation: PortfolioObservation) -> PortfolioDecision:
        """Rank the observation's universe into target weights."""
        target, score = self.weights(observation)
        syms = observation.symbols
        held = np.flatnonzero(target != 0.0)
        finite = np.flatnonzero(np.isfinite(score))
        n_held = int(held.size)
        return PortfolioDecision(
            timestamp=observation.timestamp,
            target_weights={syms[j]: w for j, w in zip(held.tolist(), target[held].tolist(),
                                                        strict=True)},
            scores={syms[j]: v for j, v in zip(finite.tolist(), score[finite].tolist(),
                                                strict=True)},
            reason=(
                f"ranked {finite.size} symbols by {self.feature}; holding the top {n_held} "
                f"(top_k={self.top_k}, min_score={self.min_score:g}, {self.weighting} weights)"
            ),
            confidence=1.0,
            source=DecisionSource.RULES,
        )  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"RankingAnalyst(feature={self.feature!r}, top_k={self.top_k}, "
            f"min_score={self.min_score:g}, invested={self.invested:g})"
        )
