"""Hyperparameter search with Optuna: studies, declarative spaces, walk-forward objectives.

Importing this module imports Optuna but not torch, stable-baselines3 or gymnasium; the RL
objective imports :mod:`axon_lab.rl` only when it is built.

* Studies: :func:`create_study` over a storage URL (``sqlite:///runs/axon.db`` by default,
  ``postgresql://...`` to share one study between processes and machines), seeded TPE,
  multi-objective Pareto fronts (:func:`best_trials`), results with in-sample and walk-forward
  out-of-sample columns side by side (:func:`study_results`), JSON export.
* Spaces: :class:`SearchSpaceDef` (log-uniform, uniform, int, categorical), validated when built.
* Objectives: :class:`RuleObjective` (a rule strategy on the vectorized engine),
  :class:`RLObjective` (train + evaluate an RL policy, pruned on intermediate evaluations),
  :class:`AgentObjective` (thresholds, risk limits and prompt variant over recorded LLM analyses).
* Scale-out: :func:`run_sweep` (also ``axon-lab sweep``) runs N workers on one study.

The only public API is what this module exports.

Examples:
    >>> study = create_study("quick", storage=":memory:", seed=1)
    >>> space = {"x": SearchSpaceDef(param_type="uniform", low=-2.0, high=2.0)}
    >>> study.optimize(lambda t: -suggest_params(t, space)["x"] ** 2, n_trials=10)
    >>> abs(study.best_params["x"]) < 2
    True
"""

from __future__ import annotations

from axon_lab.hpo._agent import AGENT_SPACE, AgentObjective, agent_targets, record_analyses
from axon_lab.hpo._loop_objective import LOOP_METRICS, LOOP_SPACE, LoopObjective
from axon_lab.hpo._objective import DEFAULT_METRICS, BaseObjective, FoldScore, WalkForward
from axon_lab.hpo._overfitting import SweepOverfitting, sweep_overfitting
from axon_lab.hpo._registry import OBJECTIVES, ObjectiveFactory, make_objective, register_objective
from axon_lab.hpo._rl_objective import DEFAULT_RL_SPACE, RLObjective
from axon_lab.hpo._rule import SMA_CROSS_SPACE, RuleObjective, sma_cross_strategy
from axon_lab.hpo._space import ParamType, SearchSpaceDef, check_space, suggest_params
from axon_lab.hpo._storage import (
    DEFAULT_STORAGE,
    close_storage,
    make_storage,
    normalise_storage_url,
)
from axon_lab.hpo._study import best_trials, create_study, export_best_params, study_results
from axon_lab.hpo._sweep import SweepResult, SweepSpec, run_sweep, run_worker

__all__ = [
    # studies and storage
    "create_study",
    "best_trials",
    "study_results",
    "export_best_params",
    "DEFAULT_STORAGE",
    "normalise_storage_url",
    "make_storage",
    "close_storage",
    # search spaces
    "SearchSpaceDef",
    "ParamType",
    "check_space",
    "suggest_params",
    # objectives
    "BaseObjective",
    "FoldScore",
    "WalkForward",
    "DEFAULT_METRICS",
    "RuleObjective",
    "SMA_CROSS_SPACE",
    "sma_cross_strategy",
    "RLObjective",
    "DEFAULT_RL_SPACE",
    "LoopObjective",
    "LOOP_SPACE",
    "LOOP_METRICS",
    "OBJECTIVES",
    "ObjectiveFactory",
    "make_objective",
    "register_objective",
    "AgentObjective",
    "AGENT_SPACE",
    "agent_targets",
    "record_analyses",
    # overfitting of a sweep
    "sweep_overfitting",
    "SweepOverfitting",
    # scale-out
    "SweepSpec",
    "SweepResult",
    "run_sweep",
    "run_worker",
]
