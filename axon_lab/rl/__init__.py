"""Reinforcement learning: trading environments, SB3 training and the LLM + RL modes.

Importing this module registers the Gymnasium id ``axon_lab/Trading-v0`` (``import axon_lab``
alone does not, so it never imports gymnasium or torch)::

    import gymnasium
    import axon_lab.rl  # registers axon_lab/Trading-v0

    env = gymnasium.make("axon_lab/Trading-v0", data="prices.csv", window=32)

LLM + RL (the seed's three modes, as OADER stages): :class:`RLPolicy` (a trained policy as an
Analyze stage), :class:`RLAugmentedAnalyzer` (RL probabilities fused into the LLM's analysis by a
recorded :class:`FusionRule`), :class:`LLMRewardShaper` and :class:`RegimeCurriculum` (LLM-guided
training) and :class:`RLFallback` (the RL policy decides when the LLM times out, fails or is
unsure).

The only public API is what this module exports.
"""

from __future__ import annotations

import gymnasium

from axon_lab.rl._actions import DISCRETE_ACTIONS, ActionType, actions_to_targets, check_actions
from axon_lab.rl._augmented import FusionRule, RLAugmentedAnalyzer, fuse
from axon_lab.rl._env import ENV_ID, TradingEnv, make_spaces
from axon_lab.rl._evaluate import PolicyEvaluation, evaluate_policy
from axon_lab.rl._fallback import FALLBACK_REASONS, RLFallback, call_with_deadline
from axon_lab.rl._market import DEFAULT_ENV_FEATURES, MarketArrays, make_market
from axon_lab.rl._policy import RLPolicy
from axon_lab.rl._portfolio_env import PORTFOLIO_ENV_ID, PortfolioEnv
from axon_lab.rl._rewards import (
    REWARDS,
    BaseReward,
    DifferentialSharpeReward,
    LogReturnReward,
    PnLDrawdownReward,
    make_reward,
)
from axon_lab.rl._shaping import (
    QUALITY_LEVELS,
    CurriculumCallback,
    LLMRewardShaper,
    MarketQualityAssessor,
    QualityRewardWrapper,
    RegimeCurriculum,
    VecQualityReward,
    trend_regimes,
)
from axon_lab.rl._sim import EnvConfig, MarketSim, StartSampler
from axon_lab.rl._train import ValidationCallback, train_policy
from axon_lab.rl._trained import ALGORITHMS, PolicyLike, RandomPolicy, TrainedPolicy
from axon_lab.rl._vec_env import BatchedTradingEnv

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="axon_lab.rl._env:TradingEnv")
if PORTFOLIO_ENV_ID not in gymnasium.registry:
    gymnasium.register(id=PORTFOLIO_ENV_ID, entry_point="axon_lab.rl._portfolio_env:PortfolioEnv")

__all__ = [
    # data
    "MarketArrays",
    "make_market",
    "DEFAULT_ENV_FEATURES",
    # environments
    "ENV_ID",
    "EnvConfig",
    "TradingEnv",
    "PortfolioEnv",
    "PORTFOLIO_ENV_ID",
    "BatchedTradingEnv",
    "MarketSim",
    "StartSampler",
    "make_spaces",
    # training and evaluation
    "ALGORITHMS",
    "train_policy",
    "ValidationCallback",
    "TrainedPolicy",
    "PolicyLike",
    "RandomPolicy",
    "evaluate_policy",
    "PolicyEvaluation",
    # LLM + RL
    "RLPolicy",
    "FusionRule",
    "fuse",
    "RLAugmentedAnalyzer",
    "RLFallback",
    "FALLBACK_REASONS",
    "call_with_deadline",
    "MarketQualityAssessor",
    "LLMRewardShaper",
    "VecQualityReward",
    "QualityRewardWrapper",
    "QUALITY_LEVELS",
    "RegimeCurriculum",
    "CurriculumCallback",
    "trend_regimes",
    # actions
    "ActionType",
    "DISCRETE_ACTIONS",
    "check_actions",
    "actions_to_targets",
    # rewards
    "REWARDS",
    "BaseReward",
    "LogReturnReward",
    "DifferentialSharpeReward",
    "PnLDrawdownReward",
    "make_reward",
]
