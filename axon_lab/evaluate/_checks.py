"""Input checks shared by the statistics: each raises :class:`EvaluationError` naming the fix."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError


def as_vector(values: Any, name: str, *, min_len: int = 2) -> np.ndarray:
    """Return ``values`` (array-like or Series) as a finite 1-D float64 array of >= ``min_len``.

    Raises:
        EvaluationError: If it is not 1-D, is shorter than ``min_len``, or holds NaN or inf.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(
            f"{name} must be numbers (an array or a Series of floats); got {type(values).__name__}."
        ) from exc
    if arr.ndim != 1:
        raise EvaluationError(
            f"{name} must be one-dimensional; got shape {arr.shape}. Pass one series at a time."
        )
    if arr.size < min_len:
        raise EvaluationError(
            f"{name} has {arr.size} value(s); at least {min_len} are needed. "
            "Evaluate over more bars or windows."
        )
    _check_finite(arr, name)
    return arr


def as_matrix(values: Any, name: str, *, min_rows: int = 2, min_cols: int = 1) -> np.ndarray:
    """Return ``values`` (2-D array-like or DataFrame) as a finite float64 matrix.

    Raises:
        EvaluationError: If it is not 2-D, too small, or holds NaN or inf.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(
            f"{name} must be a matrix of numbers (rows = periods, columns = strategies); "
            f"got {type(values).__name__}."
        ) from exc
    if arr.ndim != 2:
        raise EvaluationError(
            f"{name} must be two-dimensional (rows = periods, columns = strategies); "
            f"got shape {arr.shape}."
        )
    if arr.shape[0] < min_rows or arr.shape[1] < min_cols:
        raise EvaluationError(
            f"{name} has shape {arr.shape}; at least {min_rows} rows (periods) and {min_cols} "
            "column(s) (strategies) are needed."
        )
    _check_finite(arr, name)
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        where = np.argwhere(bad)[0].tolist()
        raise EvaluationError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s), the first at position "
            f"{where}; drop or fill them first (e.g. `series.dropna()`)."
        )


def check_level(level: float, name: str = "level") -> float:
    """Return ``level`` if it is a probability strictly inside (0, 1).

    Raises:
        EvaluationError: Otherwise.
    """
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.0 < level < 1.0:
        raise EvaluationError(
            f"{name}={level!r} must lie strictly between 0 and 1; e.g. 0.95 for a 95% interval."
        )
    return float(level)


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (>= 0 with ``allow_zero``).

    Raises:
        EvaluationError: Otherwise.
    """
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise EvaluationError(f"{name}={value!r} must be a finite number {bound}.")
    return float(value)


def check_count(value: int, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``.

    Raises:
        EvaluationError: Otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise EvaluationError(f"{name}={value!r} must be an integer >= {minimum}.")
    return int(value)


def frozen(arr: np.ndarray) -> np.ndarray:
    """Return ``arr`` made read-only, so a frozen record cannot be changed through it."""
    arr.flags.writeable = False
    return arr
