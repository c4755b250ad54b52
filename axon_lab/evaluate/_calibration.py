"""How well the agent's stated confidence matches how often it was right.

Reference:
    M. P. Naeini, G. F. Cooper and M. Hauskrecht (2015), "Obtaining Well Calibrated
    Probabilities Using Bayesian Binning", AAAI: the expected calibration error over
    equal-width bins, ``ECE = sum_b n_b / n * |accuracy_b - confidence_b|``; the reliability
    diagram plots ``accuracy_b`` against ``confidence_b`` (C. Guo et al. 2017, "On Calibration of
    Modern Neural Networks", ICML, section 2).

A stage that states no confidence cannot be scored: the result then says "not evaluable" with
its reason and carries no number. Confidences that are missing (None or NaN) are left out and
counted; bin ``b`` of ``n_bins`` holds confidences in ``((b - 1) / n_bins, b / n_bins]`` (the
first bin also holds 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._checks import check_count

__all__ = ["CalibrationBin", "CalibrationResult", "calibration"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationBin:
    """One bar of the reliability diagram.

    Attributes:
        low: Lower edge of the bin (exclusive, except 0 for the first bin).
        high: Upper edge of the bin (inclusive).
        count: Number of stated confidences in the bin.
        mean_confidence: Their mean (None for an empty bin).
        accuracy: Share of them that turned out right (None for an empty bin).
    """

    low: float
    high: float
    count: int
    mean_confidence: float | None
    accuracy: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationResult:
    """Reliability diagram data and the expected calibration error, or why there are none.

    Attributes:
        ece: Expected calibration error in [0, 1]; None when not evaluable.
        bins: The reliability diagram's bins (empty when not evaluable).
        n: Number of decisions with a stated confidence.
        n_missing: Number of decisions without one (left out).
        reason: Why the calibration is not evaluable; None when it is.
    """

    ece: float | None
    bins: tuple[CalibrationBin, ...]
    n: int
    n_missing: int
    reason: str | None

    @property
    def is_evaluable(self) -> bool:
        """Whether there was any stated confidence to score."""
        return self.ece is not None


def _as_confidences(values: Sequence[float | None] | Any) -> np.ndarray:
    items = list(values)
    out = np.empty(len(items))
    for i, v in enumerate(items):
        if v is None:
            out[i] = math.nan
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError) as exc:
            raise EvaluationError(
                f"confidences[{i}] = {v!r} is not a number; pass a probability in [0, 1] "
                "or None where the stage stated none."
            ) from exc
        if not (0.0 <= out[i] <= 1.0) and not math.isnan(out[i]):
            raise EvaluationError(
                f"confidences[{i}] = {v!r} lies outside [0, 1]; pass a probability."
            )
    return out


def _as_outcomes(values: Any, n: int) -> np.ndarray:
    items = list(values)
    if len(items) != n:
        raise EvaluationError(
            f"outcomes has {len(items)} values but confidences has {n}; pass one outcome "
            "(right: True/1, wrong: False/0) per decision."
        )
    out = np.empty(n, dtype=bool)
    for i, v in enumerate(items):
        if isinstance(v, bool | np.bool_) or v in (0, 1):
            out[i] = bool(v)
        else:
            raise EvaluationError(
                f"outcomes[{i}] = {v!r} is not right/wrong; pass True/False or 1/0."
            )
    return out


def calibration(confidences: Any, outcomes: Any, *, n_bins: int = 10) -> CalibrationResult:
    """Reliability diagram data and expected calibration error (equal-width bins).

    Args:
        confidences: The agent's stated confidence per decision, in [0, 1]; None or NaN where
            the stage stated none.
        outcomes: Whether each decision turned out right (True/1) or wrong (False/0).
        n_bins: Number of equal-width bins over [0, 1].

    Returns:
        A :class:`CalibrationResult`; ``ece`` is None with a ``reason`` when no confidence was
        stated (never a made-up value).

    Raises:
        EvaluationError: If the lengths differ, a confidence is outside [0, 1], an outcome is not
            right/wrong, or ``n_bins < 1``.

    Examples:
        >>> res = calibration([0.9, 0.9, 0.3, 0.3], [True, False, True, True], n_bins=2)
        >>> round(res.ece, 4), [b.count for b in res.bins]  # 0.5 * 0.7 + 0.5 * 0.4
        (0.55, [2, 2])
        >>> calibration([None, None], [True, False]).reason
        'not evaluable: no decision stated a confidence (2 without one)'
    """
    bins_n = check_count(n_bins, "n_bins")
    conf = _as_confidences(confidences)
    right = _as_outcomes(outcomes, conf.size)
    stated = ~np.isnan(conf)
    n = int(stated.sum())
    n_missing = int(conf.size - n)
    if n == 0:
        return CalibrationResult(
            ece=None,
            bins=(),
            n=0,
            n_missing=n_missing,
            reason=f"not evaluable: no decision stated a confidence ({n_missing} without one)",
        )
    c, y = conf[stated], right[stated].astype(np.float64)
    # bin b holds (b/n_bins, (b+1)/n_bins]; 0 goes to the first bin
    idx = np.clip(np.ceil(c * bins_n).astype(np.int64) - 1, 0, bins_n - 1)
    bins = []
    ece = 0.0
    for b in range(bins_n):
        mask = idx == b
        count = int(mask.sum())
        mean_c = float(c[mask].mean()) if count else None
        acc = float(y[mask].mean()) if count else None
        if mean_c is not None and acc is not None:
            ece += count / n * abs(acc - mean_c)
        bins.append(
            CalibrationBin(
                low=b / bins_n,
                high=(b + 1) / bins_n,
                count=count,
                mean_confidence=mean_c,
                accuracy=acc,
            )
        )
    return CalibrationResult(ece=ece, bins=tuple(bins), n=n, n_missing=n_missing, reason=None)
