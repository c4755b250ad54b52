"""Scale-out on Optuna's own distributed mode: N worker processes, one study, one storage.

:func:`run_sweep` creates the study once, then starts ``n_workers`` processes that each load it by
name from the shared storage and run their share of the trials; Optuna's storage hands out trial
numbers, so trials are shared and never duplicated. With PostgreSQL the workers may as well run
on other machines: start ``axon-lab sweep`` there with the same ``--storage`` and ``--study``.
Each worker seeds its TPE sampler with ``seed + worker index``.

The objective is named (:func:`~axon_lab.hpo.make_objective`: ``"sma"``, ``"rl"``, ``"loop"``, a
registered name or an import path) and built by every worker from the data given as a path or a
bundled sample name, which the workers load themselves, and plain options.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.hpo._objective import BaseObjective
from axon_lab.hpo._overfitting import SweepOverfitting, sweep_overfitting
from axon_lab.hpo._registry import make_objective
from axon_lab.hpo._storage import close_storage, make_storage
from axon_lab.hpo._study import best_trials, create_study, study_results

__all__ = ["SweepResult", "SweepSpec", "run_sweep", "run_worker"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepSpec:
    """What every worker needs to join the study (plain values: it crosses process boundaries).

    Attributes:
        study: Study name.
        storage: Storage URL (SQLite file or PostgreSQL).
        data: Path of an OHLCV file (CSV/Parquet), or None.
        sample: Name of a bundled sample (see ``axon-lab datasets``), or None.
        seed: Base seed; worker ``i`` uses ``seed + i``.
        fees: Fee fraction of the backtests.
        objective: The objective's name (see :func:`~axon_lab.hpo.make_objective`).
        options: Its options (plain values: they cross process boundaries).
    """

    study: str
    storage: str
    data: str | None = None
    sample: str | None = None
    seed: int = 0
    fees: float = 0.001
    objective: str = "sma"
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.data is None) == (self.sample is None):
            raise ConfigError("Pass exactly one of data=PATH or sample=NAME.")
        if self.storage == ":memory:":
            raise ConfigError(
                "Workers cannot share an in-memory study; use sqlite:///runs/axon.db or a "
                "postgresql:// URL."
            )

    def build_objective(self) -> BaseObjective:
        """Load the data and build the objective."""
        from axon_lab.data import load_ohlcv, load_sample

        frame = load_ohlcv(self.data) if self.data is not None else load_sample(str(self.sample))
        return make_objective(self.objective, frame, {"fees": self.fees, **self.options})


def run_worker(spec: SweepSpec, n_trials: int, worker: int) -> int:
    """Join the study and run ``n_trials`` trials; return how many this worker finished.

    Each trial records ``worker`` and ``pid`` as user attributes.
    """
    objective = spec.build_objective()
    storage = make_storage(spec.storage)
    try:
        study = create_study(
            spec.study,
            storage=storage,
            directions=objective.directions,
            seed=spec.seed + worker,
            load_if_exists=True,
            metric_names=objective.metrics,
        )

        def tagged(trial: Any) -> float | tuple[float, ...]:
            trial.set_user_attr("worker", worker)
            trial.set_user_attr("pid", os.getpid())
            return objective(trial)

        study.optimize(tagged, n_trials=n_trials)
        return sum(1 for t in study.trials if t.user_attrs.get("pid") == os.getpid())
    finally:
        close_storage(storage)


def _worker_entry(spec_dict: dict[str, Any], n_trials: int, worker: int) -> None:
    from axon_lab._imports import require

    optuna = require("optuna", "core")
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the parent reports the results
    run_worker(SweepSpec(**spec_dict), n_trials, worker)


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepResult:
    """What :func:`run_sweep` returns (the study itself stays in the storage).

    Attributes:
        study: Study name.
        storage: Storage URL.
        results: :func:`~axon_lab.hpo.study_results` of the whole study.
        best: Trial numbers on the Pareto front.
        overfitting: The best trial's deflated Sharpe ratio and the sweep's PBO
            (:func:`~axon_lab.hpo.sweep_overfitting`); print ``overfitting.describe()``.
        directions: The study's directions (one per metric of the objective).
    """

    study: str
    storage: str
    results: pd.DataFrame
    best: tuple[int, ...]
    overfitting: SweepOverfitting | None = None
    directions: tuple[str, ...] = ("maximize",)


def run_sweep(spec: SweepSpec, *, n_workers: int, n_trials: int) -> SweepResult:
    """Create the study, run ``n_trials`` trials over ``n_workers`` processes, collect results.

    Args:
        spec: Study, storage and data.
        n_workers: Worker processes (>= 1).
        n_trials: Total trials, split as evenly as possible between workers.

    Returns:
        The results of the whole study (including trials run earlier or elsewhere).

    Raises:
        ConfigError: On bad counts, or if a worker process fails.
    """
    for name, value in (("n_workers", n_workers), ("n_trials", n_trials)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name}={value!r} must be an int >= 1.")
    objective = spec.build_objective()  # fail here, not in N processes, on bad data
    storage = make_storage(spec.storage)
    try:
        study = create_study(
            spec.study,
            storage=storage,
            directions=objective.directions,
            seed=spec.seed,
            metric_names=objective.metrics,
        )
        shares = [n_trials // n_workers + (i < n_trials % n_workers) for i in range(n_workers)]
        ctx = multiprocessing.get_context("spawn")
        procs = [
            ctx.Process(target=_worker_entry, args=(asdict(spec), share, i), name=f"axon-sweep-{i}")
            for i, share in enumerate(shares)
            if share > 0
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        failed = [p.name for p in procs if p.exitcode != 0]
        if failed:
            raise ConfigError(
                f"Sweep worker(s) {failed} exited with an error; see their output above."
            )
        return SweepResult(
            study=spec.study,
            storage=spec.storage,
            results=study_results(study),
            best=tuple(t.number for t in best_trials(study)),
            overfitting=sweep_overfitting(study),
            directions=objective.directions,
        )
    finally:
        close_storage(storage)
