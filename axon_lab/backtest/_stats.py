"""Performance statistics, computed in one streaming pass so sweeps never keep an equity curve.

A stats *accumulator* is a float64 row (layout: the ``A_*`` constants) updated bar by bar with
:func:`stats_update_nb` and trade by trade with :func:`trade_stats_update_nb`; :func:`finalize`
turns it into the named statistics. Runs and sweeps share these kernels, so a sweep row equals
the stats of the corresponding run.

Definitions (they follow empyrical / quantstats and are checked against empyrical in the tests):

- returns: ``r[t] = equity[t] / equity[t-1] - 1`` with ``equity[-1] = init_cash``; one per bar;
- ``total_return = final / init_cash - 1``; ``cagr = (final / init_cash) ** (1 / years) - 1`` with
  ``years = bars / bars_per_year``;
- ``annual_volatility = std(r, ddof=1) * sqrt(bars_per_year)``;
  ``sharpe = mean(r) / std(r, ddof=1) * sqrt(bars_per_year)`` (risk-free rate 0);
- ``sortino = mean(r) * bars_per_year / (sqrt(mean(min(r, 0) ** 2)) * sqrt(bars_per_year))``;
- ``max_drawdown = min(equity / running_peak - 1)`` (a negative fraction, the peak includes
  ``init_cash``); ``max_drawdown_duration`` is the longest time under water, in bars;
  ``calmar = cagr / |max_drawdown|``;
- trade stats use closed trades: ``win_rate`` (PnL > 0), ``profit_factor`` (gross profit over
  gross loss), ``avg_trade`` (mean PnL in cash); ``n_open_trades`` counts a trade still open;
- ``exposure`` is the fraction of bars that end with a non-zero position.

Bars per year (:func:`bars_per_year`): from the median bar spacing of a DatetimeIndex. Data with
bars on Saturdays or Sundays trades 24/7 and uses a 365-day calendar
(``365 * 1 day / spacing``); weekday-only data uses 252 trading days (daily bars: 252; intraday
bars: 252 times the median number of bars per day; bars spaced more than 1.5 days apart use the
calendar rule).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.backtest._jit import inline_helper, kernel
from axon_lab.errors import ConfigError

# accumulator layout
A_N = 0
A_SUM = 1
A_SUMSQ = 2
A_DOWN2 = 3
A_PREV = 4
A_PEAK = 5
A_MAXDD = 6
A_PEAK_BAR = 7
A_MAXDD_DUR = 8
A_EXPO = 9
A_FINAL = 10
A_NTR = 11
A_NWIN = 12
A_GP = 13
A_GL = 14
A_SUMPNL = 15
A_FEES = 16
A_NOPEN = 17
N_ACC = 18

STATS_KEYS: tuple[str, ...] = (
    "start_value",
    "end_value",
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration",
    "calmar",
    "n_trades",
    "n_open_trades",
    "win_rate",
    "profit_factor",
    "avg_trade",
    "exposure",
    "fees_paid",
)
"""The keys of :meth:`BacktestResult.stats`, in order (pinned by a test)."""


@kernel
def init_acc_nb(acc: np.ndarray, init_cash: float) -> None:
    """Reset accumulator row ``acc`` for a run starting with ``init_cash``."""
    acc[:] = 0.0
    acc[A_PREV] = init_cash
    acc[A_PEAK] = init_cash
    acc[A_PEAK_BAR] = -1.0
    acc[A_FINAL] = init_cash


StatsTuple = tuple[float, float, float, float, float, float, float, float, float, float]
"""The per-bar part of an accumulator, ``acc[:10]``, as a tuple a kernel keeps in registers."""

NO_STATS: StatsTuple = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
"""Placeholder for kernels that fold no stats (a compiled-in constant: no ``np.zeros`` call)."""


@inline_helper
def stats_step_nb(a: StatsTuple, i: int, equity: float, pos: float) -> StatsTuple:
    """Fold bar ``i`` (its closing equity and position) into the tuple ``a`` (= ``acc[:10]``)."""
    n, s1, s2, down2, prev, peak, maxdd, peak_bar, maxdur, expo = a
    # written branch-free (min/max/select): return signs are coin flips for a branch predictor
    r = equity / prev - 1.0 if prev > 0.0 else 0.0
    n += 1.0
    s1 += r
    s2 += r * r
    neg = min(r, 0.0)
    down2 += neg * neg
    at_peak = equity >= peak
    peak = max(peak, equity)
    peak_bar = float(i) if at_peak else peak_bar
    if equity < peak * (1.0 + maxdd):  # rare: a candidate new maximum drawdown
        maxdd = min(maxdd, equity / peak - 1.0)
    maxdur = max(maxdur, i - peak_bar)
    expo += 1.0 if pos != 0.0 else 0.0
    return (n, s1, s2, down2, equity, peak, maxdd, peak_bar, maxdur, expo)


@inline_helper
def load_stats_nb(acc: np.ndarray) -> StatsTuple:
    """Return ``acc[:10]`` as a tuple."""
    return (acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7], acc[8], acc[9])


@inline_helper
def store_stats_nb(acc: np.ndarray, a: StatsTuple) -> None:
    """Write tuple ``a`` back to ``acc[:10]`` and the final equity."""
    # unpacked, not looped: indexing a tuple with a loop variable compiles much slower
    n, s1, s2, down2, prev, peak, maxdd, peak_bar, maxdur, expo = a
    acc[A_N] = n
    acc[A_SUM] = s1
    acc[A_SUMSQ] = s2
    acc[A_DOWN2] = down2
    acc[A_PREV] = prev
    acc[A_PEAK] = peak
    acc[A_MAXDD] = maxdd
    acc[A_PEAK_BAR] = peak_bar
    acc[A_MAXDD_DUR] = maxdur
    acc[A_EXPO] = expo
    acc[A_FINAL] = prev


@inline_helper
def stats_update_nb(acc: np.ndarray, i: int, equity: float, pos: float) -> None:
    """Fold bar ``i`` (its closing equity and position) into ``acc``."""
    store_stats_nb(acc, stats_step_nb(load_stats_nb(acc), i, equity, pos))


@inline_helper
def trade_stats_update_nb(acc: np.ndarray, pnl: float) -> None:
    """Fold one closed trade's PnL into ``acc``."""
    acc[A_NTR] += 1.0
    if pnl > 0.0:
        acc[A_NWIN] += 1.0
        acc[A_GP] += pnl
    else:
        acc[A_GL] -= pnl
    acc[A_SUMPNL] += pnl


@kernel
def equity_stats_nb(
    equity: np.ndarray, pos: np.ndarray, init_cash: float, acc: np.ndarray, col: int
) -> None:
    """Fold a whole equity / position column into accumulator row ``acc``."""
    init_acc_nb(acc, init_cash)
    a = load_stats_nb(acc)
    for i in range(equity.shape[0]):
        a = stats_step_nb(a, i, equity[i, col], pos[i, col])
    store_stats_nb(acc, a)


def fold_trades(acc: np.ndarray, col: np.ndarray, is_open: np.ndarray, pnl: np.ndarray) -> None:
    """Set the trade fields of accumulator rows ``acc`` from trades (column, open flag, PnL).

    Sums run in trade order, as :func:`trade_stats_update_nb` does one trade at a time.
    """
    n_cols = acc.shape[0]
    cols = col.astype(np.int64)
    closed = (~is_open).astype(np.float64)
    pnl = np.where(is_open, 0.0, pnl)

    def per_col(weights: np.ndarray) -> np.ndarray:
        return np.bincount(cols, weights=weights, minlength=n_cols)

    acc[:, A_NOPEN] = per_col(is_open.astype(np.float64))
    acc[:, A_NTR] = per_col(closed)
    acc[:, A_NWIN] = per_col(closed * (pnl > 0))
    acc[:, A_GP] = per_col(np.maximum(pnl, 0.0))
    acc[:, A_GL] = per_col(closed * np.maximum(-pnl, 0.0))
    acc[:, A_SUMPNL] = per_col(pnl)


def _ratio(num: float, den: float) -> float:
    if den == 0.0 or not math.isfinite(den):
        return math.nan if num == 0.0 else math.copysign(math.inf, num)
    return num / den


def finalize(acc: np.ndarray, init_cash: float, bars_per_year: float) -> dict[str, Any]:
    """Turn one accumulator row into the statistics named in :data:`STATS_KEYS`."""
    n = float(acc[A_N])
    final = float(acc[A_FINAL])
    growth = final / init_cash
    years = n / bars_per_year if n > 0 else math.nan
    cagr = growth ** (1.0 / years) - 1.0 if growth > 0 and years > 0 else -1.0
    mean = float(acc[A_SUM]) / n if n > 0 else math.nan
    var = (float(acc[A_SUMSQ]) - float(acc[A_SUM]) * mean) / (n - 1.0) if n > 1 else math.nan
    std = math.sqrt(max(var, 0.0)) if n > 1 else math.nan
    ann = math.sqrt(bars_per_year)
    sharpe = mean / std * ann if n > 1 and std > 0 else math.nan
    down = math.sqrt(acc[A_DOWN2] / n) * ann if n > 0 else math.nan
    sortino = _ratio(mean * bars_per_year, down) if n > 0 else math.nan
    maxdd = float(acc[A_MAXDD])
    ntr = int(acc[A_NTR])
    return {
        "start_value": float(init_cash),
        "end_value": final,
        "total_return": growth - 1.0,
        "cagr": cagr,
        "annual_volatility": std * ann,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": maxdd,
        "max_drawdown_duration": int(acc[A_MAXDD_DUR]),
        "calmar": cagr / abs(maxdd) if maxdd < 0 else math.nan,
        "n_trades": ntr,
        "n_open_trades": int(acc[A_NOPEN]),
        "win_rate": acc[A_NWIN] / ntr if ntr else math.nan,
        "profit_factor": _ratio(float(acc[A_GP]), float(acc[A_GL])) if ntr else math.nan,
        "avg_trade": acc[A_SUMPNL] / ntr if ntr else math.nan,
        "exposure": acc[A_EXPO] / n if n > 0 else math.nan,
        "fees_paid": float(acc[A_FEES]),
    }


def bars_per_year(index: pd.Index | None, timeframe: float | str | pd.Timedelta | None) -> float:
    """Annualisation factor: bars per year from ``timeframe`` or the index (see module doc).

    Args:
        index: The bars' index; a DatetimeIndex lets the factor be inferred.
        timeframe: Bars per year (a number), or a bar length (``"15min"``, a Timedelta) read on
            a 365-day calendar. ``None`` infers from ``index`` (252 if it has no timestamps).

    Returns:
        Bars per year.

    Raises:
        ConfigError: If ``timeframe`` is not a positive number or a parseable bar length.

    Examples:
        >>> idx = pd.date_range("2024-01-01", periods=10, freq="D")
        >>> bars_per_year(idx, None)
        365.0
        >>> bars_per_year(pd.bdate_range("2024-01-01", periods=10), None)
        252.0
    """
    day = 86400.0
    if timeframe is not None:
        if isinstance(timeframe, int | float) and not isinstance(timeframe, bool):
            if not (timeframe > 0 and math.isfinite(timeframe)):
                raise ConfigError(f"timeframe={timeframe!r} must be a positive number of bars.")
            return float(timeframe)
        try:
            secs = pd.Timedelta(timeframe).total_seconds()
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"timeframe={timeframe!r} is neither bars per year nor a bar length; "
                "pass e.g. 252, '1D' or '15min'."
            ) from exc
        if secs <= 0:
            raise ConfigError(f"timeframe={timeframe!r} must be a positive bar length.")
        return 365.0 * day / secs
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return 252.0
    ticks = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[str(index.unit)]
    secs_arr = np.diff(index.asi8) / ticks
    spacing = float(np.median(secs_arr))
    if spacing <= 0:
        return 252.0
    wall = index if index.tz is None else index.tz_localize(None)
    weekday = (wall.asi8 // int(ticks * day) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    if bool((weekday >= 5).any()) or spacing > 1.5 * day:
        return 365.0 * day / spacing
    if spacing >= 0.5 * day:
        return 252.0
    per_day = float(np.median(pd.Series(1, index=index).groupby(index.normalize()).size()))
    return 252.0 * per_day
