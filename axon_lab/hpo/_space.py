"""Declarative search spaces: frozen :class:`SearchSpaceDef` values, validated at construction.

A space is a mapping ``name -> SearchSpaceDef``; :func:`suggest_params` asks an Optuna trial for
one value of each. Kinds: ``log_uniform`` (floats on a log scale, ``0 < low < high``),
``uniform`` (floats, ``low < high``), ``int`` (integers in ``[low, high]``, optional ``step`` or
``log``) and ``categorical`` (one of ``choices``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from axon_lab.errors import ConfigError

__all__ = ["ParamType", "SearchSpaceDef", "check_space", "suggest_params"]

ParamType = Literal["log_uniform", "uniform", "int", "categorical"]
_TYPES = ("log_uniform", "uniform", "int", "categorical")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchSpaceDef:
    """One hyperparameter's range.

    Attributes:
        param_type: ``"log_uniform"``, ``"uniform"``, ``"int"`` or ``"categorical"``.
        low: Lower bound (numeric kinds).
        high: Upper bound (numeric kinds), ``> low``.
        choices: The values of a categorical parameter (JSON-serialisable scalars).
        step: Grid step of an int parameter (default 1).
        log: Sample an int parameter on a log scale.

    Raises:
        ConfigError: If ``low >= high``, a log scale touches 0 or a negative value, a kind is
            unknown, or a categorical has no choices; the message names the value and the fix.

    Examples:
        >>> SearchSpaceDef(param_type="log_uniform", low=1e-5, high=1e-3).high
        0.001
        >>> SearchSpaceDef(param_type="log_uniform", low=0.0, high=1e-3)
        Traceback (most recent call last):
        ...
        axon_lab.errors.ConfigError: log_uniform needs 0 < low, got low=0.0; ...
    """

    param_type: ParamType
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    step: int | None = None
    log: bool = False

    def __post_init__(self) -> None:
        if self.param_type not in _TYPES:
            raise ConfigError(f"param_type={self.param_type!r} is not one of {list(_TYPES)}.")
        if self.param_type == "categorical":
            if not self.choices:
                raise ConfigError(
                    "A categorical space needs choices=(...) with at least one value."
                )
            object.__setattr__(self, "choices", tuple(self.choices))
            return
        low, high = self.low, self.high
        if low is None or high is None:
            raise ConfigError(f"A {self.param_type} space needs low and high (got {low}, {high}).")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ConfigError(f"low and high must be finite, got low={low!r}, high={high!r}.")
        if low >= high:
            raise ConfigError(
                f"{self.param_type} space has low={low!r} >= high={high!r}; pass low < high "
                f"(e.g. low={min(low, high)!r}, high={max(low, high)!r}), or use a categorical "
                "space for a single value."
            )
        if (self.param_type == "log_uniform" or self.log) and low <= 0:
            raise ConfigError(
                f"{'log_uniform' if self.param_type == 'log_uniform' else 'a log-scale int'} "
                f"needs 0 < low, got low={low!r}; a log scale cannot reach 0. Use a small "
                "positive low such as 1e-6, or a uniform space."
            )
        if self.param_type == "int":
            if not (float(low).is_integer() and float(high).is_integer()):
                raise ConfigError(f"An int space needs integer bounds, got {low!r}, {high!r}.")
            if self.step is not None and (self.step < 1 or self.log):
                raise ConfigError(
                    f"step={self.step!r} must be >= 1 and cannot be combined with log=True."
                )
        elif self.step is not None:
            raise ConfigError("step applies to int spaces only.")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "param_type": self.param_type,
            "low": self.low,
            "high": self.high,
            "choices": list(self.choices) if self.choices is not None else None,
            "step": self.step,
            "log": self.log,
        }


def check_space(
    space: Mapping[str, SearchSpaceDef | Mapping[str, Any]],
) -> dict[str, SearchSpaceDef]:
    """Validate a space; plain dicts are turned into :class:`SearchSpaceDef`.

    Raises:
        ConfigError: On an empty space, a bad name or a bad definition.

    Examples:
        >>> check_space({"lr": {"param_type": "log_uniform", "low": 1e-4, "high": 1e-2}})["lr"].low
        0.0001
    """
    if not space:
        raise ConfigError("The search space is empty; define at least one parameter.")
    out: dict[str, SearchSpaceDef] = {}
    for name, spec in space.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"Parameter names must be non-empty strings, got {name!r}.")
        if isinstance(spec, SearchSpaceDef):
            out[name] = spec
            continue
        try:
            out[name] = SearchSpaceDef(**dict(spec))
        except ConfigError as exc:
            raise ConfigError(f"Parameter {name!r}: {exc}") from exc
        except TypeError as exc:
            raise ConfigError(f"Parameter {name!r}: {exc}") from exc
    return out


def suggest_params(trial: Any, space: Mapping[str, SearchSpaceDef]) -> dict[str, Any]:
    """Ask an Optuna trial for one value of every parameter in ``space``."""
    params: dict[str, Any] = {}
    for name, d in space.items():
        if d.param_type == "categorical":
            params[name] = trial.suggest_categorical(name, list(d.choices or ()))
        elif d.param_type == "int":
            params[name] = trial.suggest_int(
                name, int(d.low or 0), int(d.high or 0), step=d.step or 1, log=d.log
            )
        else:
            params[name] = trial.suggest_float(
                name, float(d.low or 0), float(d.high or 0), log=d.param_type == "log_uniform"
            )
    return params
