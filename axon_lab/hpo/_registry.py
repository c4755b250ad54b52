"""Named objectives that sweep workers can build: the built-in ones, and any a user registers.

A sweep's worker processes rebuild the objective themselves (``spawn`` starts them afresh), so an
objective is named, not passed: :func:`make_objective` builds it from a name, the data and plain
options. Names are the built-ins below, names given to :func:`register_objective` in the process,
or an import path ``"package.module:factory"`` that a worker imports (how a user's own objective
reaches workers started by ``axon-lab sweep`` on other machines).

A factory takes the data frame and the options and returns a
:class:`~axon_lab.hpo.BaseObjective`.

Built-ins:

* ``"sma"``: :class:`~axon_lab.hpo.RuleObjective`, an SMA-cross rule on the vectorized engine
  (options: ``fees``);
* ``"rl"``: :class:`~axon_lab.hpo.RLObjective`, RL hyperparameters trained and evaluated per
  split (options: ``fees``, ``config`` as a dict of :class:`~axon_lab.rl.EnvConfig` fields, and
  its other keyword arguments, ``total_timesteps`` defaulting to 2,048);
* ``"loop"``: :class:`~axon_lab.hpo.LoopObjective`, the rules agent's sizing run through the
  OADER loop and the risk chain (options: ``fees`` and ``make_agent`` keyword arguments fixed for
  every trial, e.g. ``cash``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.hpo._objective import BaseObjective

__all__ = ["OBJECTIVES", "ObjectiveFactory", "make_objective", "register_objective"]

ObjectiveFactory = Callable[[pd.DataFrame, Mapping[str, Any]], BaseObjective]


def _sma(data: pd.DataFrame, options: Mapping[str, Any]) -> BaseObjective:
    from axon_lab.hpo._rule import RuleObjective

    return RuleObjective(data, **options)


def _rl(data: pd.DataFrame, options: Mapping[str, Any]) -> BaseObjective:
    from axon_lab.hpo._rl_objective import RLObjective
    from axon_lab.rl import EnvConfig

    kwargs = {"total_timesteps": 2_048, **options}
    env = dict(kwargs.pop("config", None) or {})  # plain values: EnvConfig's fields
    if "fees" in kwargs:
        env["fees"] = kwargs.pop("fees")
    return RLObjective(data, config=EnvConfig(**env), **kwargs)


def _loop(data: pd.DataFrame, options: Mapping[str, Any]) -> BaseObjective:
    import inspect

    from axon_lab.hpo._loop_objective import LoopObjective
    from axon_lab.oader import make_agent

    agent = dict(options)
    if "fees" in agent:
        agent["fee_rate"] = agent.pop("fees")
    known = set(inspect.signature(make_agent).parameters) - {"data", "store", "run_id", "start"}
    unknown = sorted(set(agent) - known)
    if unknown:
        raise ConfigError(f"options {unknown} are not make_agent arguments; known: {sorted(known)}")
    return LoopObjective(data, lambda params: {**agent, **params})


OBJECTIVES: dict[str, ObjectiveFactory] = {"sma": _sma, "rl": _rl, "loop": _loop}
"""The objectives known by name in this process."""


def register_objective(name: str, factory: ObjectiveFactory) -> None:
    """Make ``factory`` buildable as ``name`` in this process.

    Workers on other machines do not see this registry: name the factory by its import path
    (``"package.module:factory"``) there.

    Raises:
        ConfigError: If the name is empty, holds a ``:`` or is taken, or the factory is not
            callable.
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise ConfigError(f"an objective name must be a non-empty str without ':', got {name!r}")
    if name in OBJECTIVES:
        raise ConfigError(f"objective {name!r} is registered already; pick another name")
    if not callable(factory):
        raise ConfigError(f"the factory of {name!r} must be callable, got {factory!r}")
    OBJECTIVES[name] = factory


def _resolve(name: str) -> ObjectiveFactory:
    if name in OBJECTIVES:
        return OBJECTIVES[name]
    if ":" not in name:
        raise ConfigError(
            f"unknown objective {name!r}; use one of {sorted(OBJECTIVES)}, a name given to "
            "register_objective(), or an import path 'package.module:factory'"
        )
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import the objective's module {module_name!r}: {exc}") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ConfigError(f"{module_name!r} has no callable {attr!r} to build the objective")
    return factory  # type: ignore[no-any-return]


def make_objective(
    name: str, data: pd.DataFrame, options: Mapping[str, Any] | None = None
) -> BaseObjective:
    """Build the objective ``name`` over ``data`` with ``options``.

    Raises:
        ConfigError: If the name is unknown, an option is not accepted, or the factory does not
            return an objective.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> data = make_synthetic(300, timeframe="1h", start="2024-01-01", seed=1, symbol="SYN")
        >>> type(make_objective("loop", data, {"cash": 10_000.0})).__name__
        'LoopObjective'
    """
    factory = _resolve(name)
    try:
        objective = factory(data, dict(options or {}))
    except TypeError as exc:
        raise ConfigError(f"objective {name!r} does not take these options: {exc}") from exc
    if not isinstance(objective, BaseObjective):
        raise ConfigError(
            f"objective {name!r} built {type(objective).__name__}, not a BaseObjective"
        )
    return objective
