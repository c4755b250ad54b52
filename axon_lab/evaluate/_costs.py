"""Trading costs beyond a flat fee: half the bid-ask spread plus square-root market impact.

References:
    R. C. Grinold and R. N. Kahn (2000), "Active Portfolio Management", 2nd ed., ch. 16: the
    square-root law of market impact. R. Almgren, C. Thum, E. Hauptmann and H. Li (2005),
    "Direct Estimation of Equity Market Impact", Risk 18(7): impact ``~ sigma * sqrt(Q / V)``.

The model, per trade, as a fraction of the traded notional::

    cost = spread / 2 + impact_coefficient * volatility * sqrt(|Q| / volume)

Every parameter is the caller's: the spread and the impact coefficient depend on the market
and the period, so there are no defaults that would pretend to be calibrated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError

__all__ = ["square_root_cost"]


def _non_negative(value: Any, name: str, *, positive: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"{name}={value!r} must be a number or an array of numbers.") from exc
    bad = ~np.isfinite(arr) | ((arr <= 0.0) if positive else (arr < 0.0))
    if bad.any():
        first = float(arr[bad].flat[0])
        bound = "> 0" if positive else ">= 0"
        raise EvaluationError(f"{name} holds {first!r}; every value must be finite and {bound}.")
    return arr


def square_root_cost(
    quantity: Any,
    *,
    spread: Any,
    volatility: Any,
    volume: Any,
    impact_coefficient: float,
) -> np.ndarray:
    """Cost of each trade as a fraction of its notional: half spread plus square-root impact.

    Arrays broadcast against each other (e.g. one quantity per trade, the volatility and volume
    of each trade's day). Multiply by ``|quantity| * price`` for the cost in cash.

    Args:
        quantity: Traded quantity per trade (units; the sign, buy or sell, is ignored).
        spread: Relative bid-ask spread, ``(ask - bid) / mid`` (>= 0).
        volatility: Return volatility over the volume's horizon, e.g. daily (>= 0).
        volume: Traded volume over the same horizon, in the quantity's units (> 0).
        impact_coefficient: The square-root law's constant (>= 0), of order 1 in the studies
            above; calibrate it to the market traded.

    Returns:
        The cost fraction per trade.

    Raises:
        EvaluationError: On NaN, a negative spread, volatility or coefficient, or a volume <= 0.

    Examples:
        >>> cost = square_root_cost(
        ...     [1_000, -4_000], spread=0.001, volatility=0.02, volume=100_000,
        ...     impact_coefficient=1.0,
        ... )
        >>> cost.round(6).tolist()  # 0.0005 + 0.02 * sqrt(0.01), 0.0005 + 0.02 * sqrt(0.04)
        [0.0025, 0.0045]
    """
    q = np.abs(_finite(quantity, "quantity"))
    s = _non_negative(spread, "spread")
    sigma = _non_negative(volatility, "volatility")
    v = _non_negative(volume, "volume", positive=True)
    k = _non_negative(impact_coefficient, "impact_coefficient")
    try:
        out: np.ndarray = s / 2.0 + k * sigma * np.sqrt(q / v)
    except ValueError as exc:
        raise EvaluationError(
            f"quantity {q.shape}, spread {s.shape}, volatility {sigma.shape} and volume "
            f"{v.shape} do not broadcast together; pass scalars or arrays of one length."
        ) from exc
    return out


def _finite(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"{name}={value!r} must be a number or an array of numbers.") from exc
    if not np.isfinite(arr).all():
        raise EvaluationError(f"{name} holds NaN or inf; drop or fill those trades first.")
    return arr
