"""Market regimes (bull, bear, sideways) under a stated rule, and results split by them.

The rule, :func:`classify_regimes`: at bar ``t`` the trailing return over ``lookback`` bars,
``close[t] / close[t - lookback] - 1``, above ``+threshold`` is ``"bull"``, below ``-threshold``
``"bear"``, otherwise ``"sideways"``; the first ``lookback`` bars have no trailing return and are
``"undetermined"``. The label at ``t`` uses closes up to ``t`` only. Both parameters are the
caller's: there is no default that would pretend to be the market's own definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._checks import as_vector, check_count, check_positive

__all__ = ["REGIMES", "RegimeStats", "classify_regimes", "split_by_regime"]

REGIMES: tuple[str, ...] = ("bull", "bear", "sideways")
"""The regime labels, in report order; warm-up bars are ``"undetermined"``."""

UNDETERMINED = "undetermined"


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimeStats:
    """Returns of the bars in one regime.

    Attributes:
        regime: ``"bull"``, ``"bear"`` or ``"sideways"``.
        n_bars: Number of bars in the regime.
        mean_return: Mean per-bar return (None without bars).
        total_return: Compounded return over those bars (0.0 without bars).
        sharpe: Annualised Sharpe ratio, ``mean / std(ddof=1) * sqrt(periods_per_year)``
            (None with fewer than 2 bars or no variation).
    """

    regime: str
    n_bars: int
    mean_return: float | None
    total_return: float
    sharpe: float | None


def classify_regimes(close: Any, *, lookback: int, threshold: float) -> np.ndarray:
    """Label each bar bull, bear or sideways by its trailing return (rule in the module doc).

    Args:
        close: Closing prices, positive and finite, in time order.
        lookback: Bars in the trailing return (>= 1).
        threshold: Trailing return beyond which the market is trending (> 0), e.g. 0.1 over
            a 63-bar quarter of daily bars.

    Returns:
        An array of labels, one per bar.

    Raises:
        EvaluationError: On non-positive or NaN prices, ``lookback < 1`` or ``threshold <= 0``.

    Examples:
        >>> classify_regimes([100, 100, 120, 90, 91], lookback=1, threshold=0.05).tolist()
        ['undetermined', 'sideways', 'bull', 'bear', 'sideways']
    """
    px = as_vector(close, "close", min_len=1)
    if (px <= 0.0).any():
        bad = float(px[px <= 0.0][0])
        raise EvaluationError(
            f"close holds a non-positive price ({bad!r}); pass prices, not returns."
        )
    k = check_count(lookback, "lookback")
    thr = check_positive(threshold, "threshold")
    labels = np.full(px.size, UNDETERMINED, dtype=object)
    if px.size > k:
        trailing = px[k:] / px[:-k] - 1.0
        labels[k:] = np.where(trailing > thr, "bull", np.where(trailing < -thr, "bear", "sideways"))
    return labels


def split_by_regime(
    returns: Any, regimes: Any, *, periods_per_year: float
) -> tuple[RegimeStats, ...]:
    """Split per-bar returns by the regime of each bar (e.g. from :func:`classify_regimes`).

    Args:
        returns: Per-bar returns of a run.
        regimes: One label per bar; ``"undetermined"`` bars are left out.
        periods_per_year: Annualisation factor of the Sharpe ratio.

    Returns:
        One :class:`RegimeStats` per regime in :data:`REGIMES` order.

    Raises:
        EvaluationError: If the lengths differ, a label is unknown or the returns hold NaN.

    Examples:
        >>> out = split_by_regime(
        ...     [0.01, 0.02, -0.01, 0.0], ["bull", "bull", "bear", "sideways"], periods_per_year=252
        ... )
        >>> [(s.regime, s.n_bars, round(s.total_return, 4)) for s in out]
        [('bull', 2, 0.0302), ('bear', 1, -0.01), ('sideways', 1, 0.0)]
    """
    r = as_vector(returns, "returns", min_len=1)
    ppy = check_positive(periods_per_year, "periods_per_year")
    labels = np.asarray(list(regimes), dtype=object)
    if labels.size != r.size:
        raise EvaluationError(
            f"regimes has {labels.size} labels but returns has {r.size} values; pass one "
            "label per bar."
        )
    known = {*REGIMES, UNDETERMINED}
    unknown = [x for x in labels if x not in known]
    if unknown:
        raise EvaluationError(
            f"regimes holds the unknown label {unknown[0]!r}; use one of {sorted(known)}."
        )
    out = []
    for regime in REGIMES:
        x = r[labels == regime]
        sharpe = None
        if x.size >= 2:
            std = float(x.std(ddof=1))
            if std > 0.0:
                sharpe = float(x.mean()) / std * math.sqrt(ppy)
        out.append(
            RegimeStats(
                regime=regime,
                n_bars=int(x.size),
                mean_return=float(x.mean()) if x.size else None,
                total_return=float(np.prod(1.0 + x) - 1.0),
                sharpe=sharpe,
            )
        )
    return tuple(out)
