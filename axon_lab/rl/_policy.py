"""`RLPolicy`: a trained policy as an OADER stage (observation -> action probabilities / Analysis).

The OADER :class:`~axon_lab.records.Observation` carries the decision time and the portfolio; the
policy's own observation vector (the window of normalised features, position, unrealised PnL) is
rebuilt from the same :class:`~axon_lab.rl.MarketArrays` the policy was trained on, at the last
bar complete at ``observation.timestamp`` — point-in-time, like the environment. The unrealised
PnL is read from the portfolio (position times the move from its average price, over equity).

Used as an Analyze stage, :class:`RLPolicy` returns an :class:`~axon_lab.records.Analysis` with
``source=rl``: the most probable action, its probability as the confidence, the assessment implied
by the action (buy -> uptrend, sell -> downtrend, hold -> range) and ``risk_assessment=medium``
(a policy gives no risk reading; medium is the neutral value the Decide stage neither blocks nor
boosts). The :class:`~axon_lab.oader.DecisionEngine` then sizes it like any analysis and labels the
decision ``source=rl``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.records import (
    Action,
    Analysis,
    AnalysisSource,
    MarketAssessment,
    Observation,
    ReasoningStep,
    RiskLevel,
    RLHint,
)
from axon_lab.rl._actions import DISCRETE_ACTIONS
from axon_lab.rl._market import DataLike, MarketArrays, make_market
from axon_lab.rl._sim import _window_rows
from axon_lab.rl._trained import TrainedPolicy

__all__ = ["RLPolicy"]

_ASSESSMENT = {
    Action.BUY: MarketAssessment.UPTREND,
    Action.SELL: MarketAssessment.DOWNTREND,
    Action.HOLD: MarketAssessment.RANGE,
}


class RLPolicy:
    """A discrete-action trained policy behind the OADER Analyze-stage protocol.

    Args:
        policy: A :class:`~axon_lab.rl.TrainedPolicy` (discrete actions), or any object with
            ``action_probabilities(obs) -> (n, 3)``, ``config`` and ``features``.
        data: The market the policy reads (frame, path, MarketView or MarketArrays).
        name: Analyst name recorded in the analyses.

    Raises:
        ConfigError: If the policy's actions are continuous.
    """

    def __init__(self, policy: TrainedPolicy | Any, data: DataLike, *, name: str = "") -> None:
        if policy.config.action_type != "discrete":
            raise ConfigError("RLPolicy needs a policy trained with action_type='discrete'.")
        self.policy = policy
        self.config = policy.config
        self.market: MarketArrays = make_market(data, features=tuple(policy.features))
        self.name = name or f"rl:{getattr(policy, 'algo', 'policy')}"
        self._rows = _window_rows(self.market.features, self.config.window)
        self._done = self.market.index + pd.Timedelta(self.market.timeframe)

    def bar_at(self, timestamp: Any) -> int:
        """Index of the last bar complete at ``timestamp``.

        Raises:
            ConfigError: If the first observable bar (after the feature warm-up) is not complete.
        """
        t = pd.Timestamp(timestamp)
        i = int(np.searchsorted(self._done.asi8, t.value, side="right")) - 1
        first = max(self.market.first_valid, self.config.window - 1)
        if i < first:
            raise ConfigError(
                f"At {t} the policy has no full observation yet: it needs bar {first} "
                f"({self.market.index[first]}) complete. Start the loop later."
            )
        return i

    def ready(self, timestamp: Any) -> bool:
        """Whether the policy has a full observation at ``timestamp`` (see :meth:`bar_at`)."""
        t = pd.Timestamp(timestamp)
        i = int(np.searchsorted(self._done.asi8, t.value, side="right")) - 1
        return i >= max(self.market.first_valid, self.config.window - 1)

    def observation_vector(self, observation: Observation) -> np.ndarray:
        """The environment observation at ``observation``'s time and portfolio."""
        i = self.bar_at(observation.timestamp)
        vec: np.ndarray = self._rows[i - (self.config.window - 1)].copy()
        pf = observation.portfolio
        symbol = observation.symbols[0]
        qty = pf.quantity(symbol)
        close = float(self.market.close[i])
        equity = max(float(pf.equity), 1e-12)
        clip = self.market.clip
        vec[-2] = np.clip(qty * close / equity, -clip, clip)
        vec[-1] = np.clip(_unrealised(pf, symbol, close), -clip, clip)
        return vec

    def probabilities(self, observation: Observation) -> dict[Action, float]:
        """Action probabilities (hold, buy, sell) at ``observation``."""
        probs = self.policy.action_probabilities(self.observation_vector(observation)[None, :])[0]
        return {a: float(p) for a, p in zip(DISCRETE_ACTIONS, probs, strict=True)}

    def hint(self, observation: Observation) -> RLHint:
        """The policy's recommendation at ``observation``, for the LLM's prompt.

        The action is the most probable one; its probability is the confidence. A DQN policy
        has no distribution: its greedy action comes with its q-values and no confidence. The
        value estimate comes from the policy's ``value_estimates`` when it has one.
        """
        vec = self.observation_vector(observation)[None, :]
        i = self.bar_at(observation.timestamp)
        algo = getattr(self.policy, "algo", "")
        value_of = getattr(self.policy, "value_estimates", None)
        value = float(value_of(vec)[0]) if callable(value_of) else None
        if algo == "dqn":
            q = self.policy.q_values(vec)[0]
            q_values = {a: float(v) for a, v in zip(DISCRETE_ACTIONS, q, strict=True)}
            action = max(q_values, key=lambda a: q_values[a])
            return RLHint(
                policy=self.name,
                action=action,
                q_values=q_values,
                value=value,
                bar_time=self.market.index[i],
            )
        row = self.policy.action_probabilities(vec)[0]
        probs = {a: float(p) for a, p in zip(DISCRETE_ACTIONS, row, strict=True)}
        action = max(probs, key=lambda a: probs[a])
        return RLHint(
            policy=self.name,
            action=action,
            confidence=min(max(probs[action], 0.0), 1.0),
            probabilities={a: min(max(p, 0.0), 1.0) for a, p in probs.items()},
            value=value,
            bar_time=self.market.index[i],
        )

    def analysis(self, observation: Observation) -> Analysis:
        """The policy's proposal as an Analysis (``source=rl``)."""
        probs = self.probabilities(observation)
        action = max(probs, key=lambda a: probs[a])
        shown = ", ".join(f"{a.value}={p:.2f}" for a, p in probs.items())
        return Analysis(
            thought=f"RL policy {self.name}: action probabilities {shown}",
            market_assessment=_ASSESSMENT[action],
            risk_assessment=RiskLevel.MEDIUM,
            confidence=min(max(probs[action], 0.0), 1.0),
            action=action,
            reason=f"most probable action of the RL policy ({shown})",
            source=AnalysisSource.RL,
            analyst=self.name,
            reasoning_steps=(ReasoningStep(thought=f"rl probabilities: {shown}"),),
        )

    def __call__(self, observation: Observation) -> Analysis:
        """The Analyze-stage call: :meth:`analysis`."""
        return self.analysis(observation)


def _unrealised(portfolio: Any, symbol: str, close: float) -> float:
    pos = portfolio.positions.get(symbol)
    if pos is None or pos.quantity == 0 or pos.avg_price <= 0:
        return 0.0
    return float(pos.quantity * (close - pos.avg_price) / max(float(portfolio.equity), 1e-12))
