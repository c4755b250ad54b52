"""Performance statistics of a recorded equity curve (one value per loop step).

A small, dependency-free module: ``axon_lab.backtest`` computes its statistics with streaming
compiled accumulators over bars and exposes no function of a plain equity curve, so the report uses
this one. The definitions are the backtest's (empyrical / quantstats conventions), so numbers agree:

- returns ``r[t] = equity[t] / equity[t-1] - 1`` with ``equity[-1] = start_value``;
- ``total_return = end / start - 1``; ``cagr = (end / start) ** (1 / years) - 1`` with
  ``years = periods / periods_per_year``, and NaN for a window shorter than a year: returns over
  less than a year are not annualised (the GIPS rule), so three weeks up 40 % never reads as a
  CAGR of thousands of percent;
- ``annual_volatility = std(r, ddof=1) * sqrt(periods_per_year)``;
  ``sharpe = mean(r) / std(r, ddof=1) * sqrt(periods_per_year)`` (risk-free rate 0);
- ``max_drawdown = min(equity / running_peak - 1)`` (a negative fraction; the peak includes the
  start value).

Periods per year (:func:`periods_per_year`) come from the median spacing of the steps' timestamps:
data with Saturday or Sunday steps, or steps more than 1.5 days apart, is on a 365-day calendar
(``365 days / spacing``); weekday-only data uses 252 trading days times the median number of steps
per day. So a loop deciding every 4 bars of 15-minute crypto data annualises with
``365 * 24``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

__all__ = ["MIN_YEARS_TO_ANNUALISE", "STATS_KEYS", "equity_stats", "periods_per_year"]

MIN_YEARS_TO_ANNUALISE = 1.0
"""The shortest window whose return is annualised into a CAGR (GIPS: less than a year is not)."""

STATS_KEYS = (
    "start_value",
    "end_value",
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "max_drawdown",
    "periods",
    "periods_per_year",
)
"""Keys of :func:`equity_stats`, in order."""

_DAY = 86_400.0


def periods_per_year(timestamps: Sequence[datetime] | pd.DatetimeIndex) -> float:
    """Annualisation factor from step timestamps (see the module docstring).

    Examples:
        >>> idx = pd.date_range("2024-01-01", periods=1000, freq="15min", tz="UTC")  # 24/7
        >>> periods_per_year(idx)
        35040.0
        >>> periods_per_year(pd.bdate_range("2024-01-01", periods=10, tz="UTC"))
        252.0
    """
    index = pd.DatetimeIndex(list(timestamps))
    if len(index) < 2:
        return 252.0
    ns = index.as_unit("ns").asi8
    spacing = float(np.median(np.diff(ns))) / 1e9
    if spacing <= 0:
        return 252.0
    weekday = index.day_of_week
    if bool((weekday >= 5).any()) or spacing > 1.5 * _DAY:
        return 365.0 * _DAY / spacing
    if spacing >= 0.5 * _DAY:
        return 252.0
    per_day = float(np.median(pd.Series(1, index=index).groupby(index.normalize()).size()))
    return 252.0 * per_day


def equity_stats(
    equity: Sequence[float] | np.ndarray, *, start_value: float, periods_per_year: float
) -> dict[str, float]:
    """Return, CAGR, volatility, Sharpe and max drawdown of an equity curve.

    Args:
        equity: Equity after each step.
        start_value: Equity before the first step.
        periods_per_year: Steps per year (see :func:`periods_per_year`).

    Returns:
        A dict with the keys :data:`STATS_KEYS` (NaN where undefined, e.g. one step's volatility).

    Examples:
        >>> s = equity_stats([110.0, 99.0, 121.0], start_value=100.0, periods_per_year=3)
        >>> round(s["total_return"], 4), round(s["max_drawdown"], 4), round(s["cagr"], 4)
        (0.21, -0.1, 0.21)
        >>> equity_stats([110.0, 121.0], start_value=100.0, periods_per_year=52)["cagr"]  # 2 weeks
        nan
    """
    values = np.asarray(equity, dtype=np.float64)
    n = len(values)
    out = dict.fromkeys(STATS_KEYS, math.nan)
    out["start_value"] = float(start_value)
    out["periods"] = float(n)
    out["periods_per_year"] = float(periods_per_year)
    if n == 0 or start_value <= 0:
        out["end_value"] = float(start_value)
        return out
    end = float(values[-1])
    out["end_value"] = end
    growth = end / start_value
    out["total_return"] = growth - 1.0
    years = n / periods_per_year
    if growth > 0 and years >= MIN_YEARS_TO_ANNUALISE:
        try:
            out["cagr"] = math.exp(math.log(growth) / years) - 1.0
        except OverflowError:  # a short run with a large gain: the annual rate is unbounded
            out["cagr"] = math.inf
    prev = np.concatenate(([start_value], values[:-1]))
    returns = values / prev - 1.0
    if n > 1:
        std = float(np.std(returns, ddof=1))
        out["annual_volatility"] = std * math.sqrt(periods_per_year)
        if std > 0:
            out["sharpe"] = float(np.mean(returns)) / std * math.sqrt(periods_per_year)
    peak = np.maximum.accumulate(np.concatenate(([start_value], values)))[1:]
    out["max_drawdown"] = float(np.min(values / peak - 1.0))
    return out
