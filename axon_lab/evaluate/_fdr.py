"""Benjamini-Hochberg control of the false discovery rate, for many agents, prompts or models.

Reference:
    Y. Benjamini and Y. Hochberg (1995), "Controlling the False Discovery Rate: A Practical and
    Powerful Approach to Multiple Testing", Journal of the Royal Statistical Society B 57(1).

The step-up rule: sort the m p-values, find the largest k with ``p_(k) <= k / m * alpha`` and
reject the k smallest. The adjusted p-values (``min_{j >= i} m / j * p_(j)``, capped at 1) come
from :func:`scipy.stats.false_discovery_control`; a hypothesis is rejected when its adjusted
p-value is at most ``alpha``, which is the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._checks import as_vector, check_level, frozen

__all__ = ["FDRResult", "benjamini_hochberg"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FDRResult:
    """The Benjamini-Hochberg decisions, in the order the p-values were given.

    Attributes:
        alpha: The false discovery rate controlled.
        pvalues: The p-values as given (read-only).
        adjusted: BH-adjusted p-values (read-only).
        rejected: Whether each hypothesis is rejected (read-only).
        n_rejected: Number of rejections.
    """

    alpha: float
    pvalues: np.ndarray
    adjusted: np.ndarray
    rejected: np.ndarray
    n_rejected: int


def benjamini_hochberg(pvalues: Any, *, alpha: float = 0.05) -> FDRResult:
    """Which of several tests stay significant with the false discovery rate held at ``alpha``.

    Args:
        pvalues: One p-value per comparison (agent, prompt or model vs its baseline), each in
            [0, 1]; at least 1.
        alpha: The false discovery rate, in (0, 1).

    Returns:
        An :class:`FDRResult`.

    Raises:
        EvaluationError: On an empty list, NaN, a p-value outside [0, 1] or alpha outside (0, 1).

    Examples:
        >>> res = benjamini_hochberg([0.01, 0.04, 0.03, 0.20], alpha=0.05)
        >>> res.rejected.tolist(), res.adjusted.round(3).tolist()
        ([True, False, False, False], [0.04, 0.053, 0.053, 0.2])
    """
    from scipy.stats import false_discovery_control

    a = check_level(alpha, "alpha")
    p = as_vector(pvalues, "pvalues", min_len=1)
    if ((p < 0.0) | (p > 1.0)).any():
        bad = float(p[(p < 0.0) | (p > 1.0)][0])
        raise EvaluationError(f"pvalues holds {bad!r}; every p-value must lie in [0, 1].")
    adjusted = np.asarray(false_discovery_control(p, method="bh"), dtype=np.float64)
    rejected = adjusted <= a
    return FDRResult(
        alpha=a,
        pvalues=frozen(p.copy()),
        adjusted=frozen(adjusted),
        rejected=frozen(rejected),
        n_rejected=int(rejected.sum()),
    )
