"""Studies: a factory over a storage URL, seeded TPE, the Pareto front, results as data and JSON.

Objectives in :mod:`axon_lab.hpo` report in-sample values to Optuna and store the walk-forward
out-of-sample values beside them as trial user attributes (``oos_<name>``), so
:func:`study_results` can show both for every trial.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from axon_lab._imports import require
from axon_lab.errors import ConfigError
from axon_lab.hpo._storage import make_storage

__all__ = ["best_trials", "create_study", "export_best_params", "study_results"]

_DIRECTIONS = ("maximize", "minimize")
_NAMES_ATTR = "axon_metric_names"


def create_study(
    name: str,
    *,
    storage: str | Any | None = None,
    directions: Sequence[str] = ("maximize",),
    seed: int | None = None,
    pruner: Any = None,
    load_if_exists: bool = True,
    metric_names: Sequence[str] | None = None,
) -> Any:
    """Create (or join) an Optuna study with a seeded TPE sampler.

    Args:
        name: Study name; workers that pass the same name and storage share the study.
        storage: ``sqlite:///...`` or ``postgresql://...``; default ``sqlite:///runs/axon.db``.
            ``":memory:"`` keeps the study in this process only. An Optuna storage object is
            used as is. Close a URL-built storage with :func:`~axon_lab.hpo.close_storage`.
        directions: One direction per objective value (``"maximize"`` / ``"minimize"``).
        seed: Seed of the TPE sampler (each worker should pass a different one).
        pruner: An Optuna pruner; default a median pruner (single objective only).
        load_if_exists: Join an existing study of that name instead of failing.
        metric_names: A name per objective value (e.g. an objective's ``metrics``), kept in the
            study's user attributes and used as column names by :func:`study_results`.

    Returns:
        The ``optuna.Study``.

    Raises:
        ConfigError: On an unknown direction or a bad storage URL.

    Examples:
        >>> study = create_study("demo", storage=":memory:", seed=0)
        >>> study.optimize(lambda t: -(t.suggest_float("x", -1, 1) ** 2), n_trials=5)
        >>> len(study.trials)
        5
    """
    optuna = require("optuna", "core", purpose="hyperparameter search")
    dirs = [str(d).lower() for d in directions]
    if not dirs or any(d not in _DIRECTIONS for d in dirs):
        raise ConfigError(f"directions={list(directions)!r} must each be one of {_DIRECTIONS}.")
    if pruner is None:
        pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    sampler = optuna.samplers.TPESampler(seed=seed)
    rdb = (
        None
        if storage == ":memory:"
        else make_storage(storage)
        if (storage is None or isinstance(storage, str))
        else storage
    )
    study = optuna.create_study(
        study_name=name,
        storage=rdb,
        directions=dirs,
        sampler=sampler,
        pruner=pruner if len(dirs) == 1 else optuna.pruners.NopPruner(),
        load_if_exists=load_if_exists,
    )
    if metric_names is not None:
        if len(metric_names) != len(dirs):
            raise ConfigError(
                f"metric_names={list(metric_names)} needs one name per direction ({len(dirs)})."
            )
        if study.user_attrs.get(_NAMES_ATTR) != list(metric_names):
            study.set_user_attr(_NAMES_ATTR, list(metric_names))
    return study


def _metric_names(study: Any) -> list[str]:
    names = study.user_attrs.get(_NAMES_ATTR)
    if not names:  # an axon_lab objective records its metric names on every trial
        names = next(
            (t.user_attrs["metrics"] for t in study.trials if "metrics" in t.user_attrs), None
        )
    n = len(study.directions)
    return list(names) if names and len(names) == n else [f"value_{i}" for i in range(n)]


def best_trials(study: Any) -> list[Any]:
    """The Pareto front (multi-objective) or the single best trial, as frozen trials."""
    if len(study.directions) > 1:
        return list(study.best_trials)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    return [study.best_trial] if complete else []


def study_results(study: Any) -> pd.DataFrame:
    """One row per finished trial: params, in-sample values and out-of-sample values side by side.

    Columns: ``number``, ``state``, ``params_<name>``, ``is_<value name>``, ``oos_<value name>``
    (from the trial's user attributes) and ``on_pareto_front``.
    """
    names = _metric_names(study)
    front = {t.number for t in best_trials(study)}
    rows: list[dict[str, Any]] = []
    for t in study.trials:
        if t.state.name not in ("COMPLETE", "PRUNED"):
            continue
        row: dict[str, Any] = {"number": t.number, "state": t.state.name.lower()}
        row.update({f"params_{k}": v for k, v in t.params.items()})
        values = t.values or [None] * len(names)
        for n, v in zip(names, values, strict=True):
            row[f"is_{n}"] = v
            row[f"oos_{n}"] = t.user_attrs.get(f"oos_{n}")
        row["on_pareto_front"] = t.number in front
        rows.append(row)
    return pd.DataFrame(rows)


def export_best_params(study: Any, path: str | Path) -> dict[str, Any]:
    """Write the best parameters (every Pareto-front trial when multi-objective) as JSON.

    The file holds ``study``, ``directions``, ``metric_names`` and ``best``: a list of
    ``{"number", "params", "values", "oos"}``.

    Raises:
        ConfigError: If the study has no complete trial yet.
    """
    trials = best_trials(study)
    if not trials:
        raise ConfigError(f"Study {study.study_name!r} has no complete trial to export yet.")
    names = _metric_names(study)
    doc = {
        "study": study.study_name,
        "directions": [d.name.lower() for d in study.directions],
        "metric_names": list(names),
        "best": [
            {
                "number": t.number,
                "params": t.params,
                "values": list(t.values),
                "oos": {n: t.user_attrs.get(f"oos_{n}") for n in names},
            }
            for t in trials
        ],
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, default=float))
    return doc
