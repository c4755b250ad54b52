"""Input validation: every user argument is checked and normalised here, before any kernel runs.

Errors name the argument, the offending value and its position (bar index and timestamp), and
say how to fix it: :class:`~axon_lab.errors.DataError` for prices, :class:`ConfigError` for
everything else.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.backtest import _kernels as k
from axon_lab.backtest._jit import kernel
from axon_lab.errors import ConfigError, DataError

__all__ = [
    "Prices",
    "check_choice",
    "check_orders",
    "check_prices",
    "check_settings",
    "check_signals",
    "make_params",
]

_OHLC = ("open", "high", "low", "close")
ORDER_TYPES = {"market": k.OT_MARKET, "limit": k.OT_LIMIT, "stop": k.OT_STOP}


@dataclass(frozen=True, slots=True)
class Prices:
    """Validated prices: 2-D float64 ``(bars, assets)`` arrays plus the index."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    index: pd.Index

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return int(self.close.shape[0])


def _all_positive_finite(a: np.ndarray) -> bool:
    """True if every value is a positive finite number.

    numpy's ``min`` and ``max`` propagate NaN, so two vectorized reductions cover NaN, ``inf``
    and non-positive values (faster than a compiled loop, and nothing to compile).
    """
    return a.size == 0 or bool(a.min() > 0.0 and a.max() < np.inf)


@kernel
def _signals_to_target_nb(ent: np.ndarray, ext: np.ndarray, short: float, out: np.ndarray) -> None:
    """Entry -> 1.0, exit -> ``short``, neither or both -> NaN (1-D, conflicts are ignored)."""
    for i in range(out.shape[0]):
        e = ent[i]
        x = ext[i]
        v = np.nan
        v = 1.0 if e > x else v
        v = short if x > e else v
        out[i] = v


def _where(index: pd.Index, i: int) -> str:
    label = index[i]
    return f"bar {i}" if isinstance(label, int | np.integer) else f"bar {i} ({label})"


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise with a "did you mean"."""
    if value in choices:
        return value
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"{name}={value!r} is not one of {list(choices)}.{hint}")


def _as_2d(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"{name} must be 1-D or 2-D (bars, assets); got shape {arr.shape}.")
    return np.ascontiguousarray(arr)


def check_prices(prices: Any) -> Prices:
    """Normalise ``prices`` (a DataFrame or mapping with open/high/low/close, or closes only).

    Raises:
        DataError: If a column is missing, lengths differ, or a price is NaN or not positive.
    """
    index: pd.Index | None = None
    if isinstance(prices, pd.DataFrame | Mapping):
        cols = {str(c).lower(): c for c in prices}
        missing = [c for c in _OHLC if c not in cols]
        if missing and "close" in cols:
            missing = []
            cols = dict.fromkeys(_OHLC, cols["close"])
        if missing:
            raise DataError(
                f"prices is missing column(s) {missing}; it needs open, high, low and close "
                f"(got {list(prices)[:8]})."
            )
        raw = {c: prices[cols[c]] for c in _OHLC}
        if isinstance(prices, pd.DataFrame):
            index = prices.index
    else:
        raw = dict.fromkeys(_OHLC, prices)
        if isinstance(prices, pd.Series | pd.DataFrame):
            index = prices.index
    arrs = {c: _as_2d(f"prices[{c!r}]", v) for c, v in raw.items()}
    shape = arrs["close"].shape
    for c, a in arrs.items():
        if a.shape != shape:
            raise DataError(f"prices[{c!r}] has shape {a.shape} but close has shape {shape}.")
    if shape[0] < 1:
        raise DataError("prices has no bars.")
    if index is None:
        index = pd.RangeIndex(shape[0])
    for c, a in arrs.items():
        if not _all_positive_finite(a):
            i = int(np.argmax(~((a > 0.0) & np.isfinite(a))) // a.shape[1])
            value = a[i][~((a[i] > 0.0) & np.isfinite(a[i]))][0]
            what = (
                "missing (NaN)" if math.isnan(value) else f"not a positive finite price ({value})"
            )
            raise DataError(
                f"prices[{c!r}] at {_where(index, i)} is {what}. Strip or fill such rows first, "
                "e.g. with `df.dropna()` or `df.ffill()`."
            )
    return Prices(arrs["open"], arrs["high"], arrs["low"], arrs["close"], index)


def _check_len(name: str, arr: np.ndarray, n_bars: int) -> None:
    if arr.shape[0] != n_bars:
        raise ConfigError(
            f"{name} has {arr.shape[0]} rows but prices has {n_bars} bars; align them first "
            "(e.g. `signal.reindex(prices.index)`)."
        )


def check_signals(
    entries: Any, exits: Any, target: Any, px: Prices, direction: str, leverage: float
) -> tuple[np.ndarray | None, int, list[Any] | None]:
    """Turn entries/exits or target into one target-fraction array (NaN = no order).

    Returns:
        ``(target, kind, columns)``: a ``(bars, 1 | columns)`` array or None, ``K_SIGNAL`` or
        ``K_TARGET``, and column labels taken from a DataFrame input (or None).
    """
    columns: list[Any] | None = None
    for v in (entries, exits, target):
        if isinstance(v, pd.DataFrame):
            columns = list(v.columns)
    if target is not None:
        if entries is not None or exits is not None:
            raise ConfigError("Pass either target or entries/exits, not both.")
        t = _as_2d_config("target", target)
        _check_len("target", t, px.n_bars)
        finite = t[~np.isnan(t)]
        lo = 0.0 if direction == "long" else -leverage
        bad = (finite < lo) | (finite > leverage)
        if bad.any():
            i = int(np.argmax(((t < lo) | (t > leverage)).any(axis=1)))
            raise ConfigError(
                f"target at {_where(px.index, i)} is {finite[bad][0]}, outside "
                f"[{lo}, {leverage}] for direction={direction!r}, leverage={leverage}. "
                "Targets are fractions of equity."
            )
        return t, k.K_TARGET, columns
    if entries is None and exits is None:
        return None, k.K_SIGNAL, columns
    ent = _as_bool("entries", entries, px.n_bars)
    ext = _as_bool("exits", exits, px.n_bars)
    if ent is None:
        ent = np.zeros_like(ext)
    if ext is None:
        ext = np.zeros_like(ent)
    if ent.shape[1] != ext.shape[1] and 1 not in (ent.shape[1], ext.shape[1]):
        raise ConfigError(f"entries has {ent.shape[1]} columns but exits has {ext.shape[1]}.")
    short = -1.0 if direction == "both" else 0.0
    # conflicting signals on one bar are ignored (like vectorbt's default)
    ent, ext = (np.ascontiguousarray(v).view(np.uint8) for v in np.broadcast_arrays(ent, ext))
    out = np.empty(ent.shape)
    _signals_to_target_nb(ent.ravel(), ext.ravel(), short, out.reshape(-1))
    return out, k.K_SIGNAL, columns


def _as_2d_config(name: str, values: Any) -> np.ndarray:
    try:
        return _as_2d(name, values)
    except (DataError, ValueError, TypeError) as exc:
        raise ConfigError(f"{name} must be a numeric 1-D or 2-D array: {exc}") from exc


def _as_bool(name: str, values: Any, n_bars: int) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.dtype != np.bool_:
        if arr.dtype.kind not in "biuf" or np.isnan(arr.astype(np.float64)).any():
            raise ConfigError(f"{name} must be boolean (True where the signal fires).")
        arr = arr.astype(np.bool_)
    if arr.ndim == 1:
        arr = arr[:, None]
    _check_len(name, arr, n_bars)
    return arr


def check_settings(
    *,
    fees: float,
    fixed_fee: float,
    slippage_bps: float,
    init_cash: float,
    leverage: float,
    lot_size: float,
    direction: str,
    execution: str,
) -> np.ndarray:
    """Validate scalar settings and pack them into a kernel ``params`` array."""
    for name, value, low in (
        ("fees", fees, 0.0),
        ("fixed_fee", fixed_fee, 0.0),
        ("slippage_bps", slippage_bps, 0.0),
        ("lot_size", lot_size, 0.0),
    ):
        if not (math.isfinite(value) and value >= low):
            raise ConfigError(f"{name}={value!r} must be a finite number >= {low}.")
    if not (math.isfinite(init_cash) and init_cash > 0):
        raise ConfigError(f"init_cash={init_cash!r} must be a positive finite number.")
    if not (math.isfinite(leverage) and leverage >= 1.0):
        raise ConfigError(f"leverage={leverage!r} must be >= 1.0 (1.0 = no borrowing).")
    if fees >= 1.0:
        raise ConfigError(f"fees={fees!r} is a fraction of notional; 0.001 means 0.1 %.")
    check_choice("direction", direction, ("long", "both"))
    check_choice("execution", execution, ("next_open", "close"))
    params = np.zeros(k.N_PARAMS)
    params[k.P_FEES] = fees
    params[k.P_FIXED] = fixed_fee
    params[k.P_SLIP] = slippage_bps / 1e4
    params[k.P_LOT] = lot_size
    params[k.P_LEV] = leverage
    params[k.P_SHORT] = 1.0 if direction == "both" else 0.0
    params[k.P_CLOSE] = 1.0 if execution == "close" else 0.0
    return params


ORDER_FIELDS = ("bar", "size", "type", "price", "stop_loss", "take_profit", "col")


def check_orders(orders: Any, px: Prices, n_cols: int) -> tuple[np.ndarray, ...]:
    """Validate explicit orders and return kernel arrays sorted by (column, bar).

    ``orders`` is a DataFrame (or a mapping of columns, or a list of dicts) with ``bar`` (the
    integer bar the order is decided on; or ``timestamp``, a label of the prices index), ``size``
    (signed units, ``inf``/``-inf`` for as much as allowed, 0 to cancel), and optionally ``type``
    (market | limit | stop), ``price``, ``stop_loss``, ``take_profit`` and ``col``.

    Returns:
        ``(col, bar, type, size, price, stop_loss, take_profit)`` arrays.
    """
    df = orders if isinstance(orders, pd.DataFrame) else pd.DataFrame(orders)
    known = (*ORDER_FIELDS, "timestamp")
    for c in df.columns:
        check_choice("orders column", str(c), known)
    n = len(df)
    if "bar" in df.columns:
        bar = np.asarray(df["bar"], dtype=np.float64)
    elif "timestamp" in df.columns:
        bar = px.index.get_indexer(pd.Index(df["timestamp"])).astype(np.float64)
        bar[bar < 0] = np.nan
    else:
        raise ConfigError("orders needs a 'bar' (integer position) or 'timestamp' column.")
    if "size" not in df.columns:
        raise ConfigError("orders needs a 'size' column (signed units; inf for all-in).")
    size = np.asarray(df["size"], dtype=np.float64)
    types = df["type"] if "type" in df.columns else pd.Series(["market"] * n)
    col = np.asarray(df["col"], dtype=np.float64) if "col" in df.columns else np.zeros(n)

    def _opt(name: str) -> np.ndarray:
        return np.asarray(df[name], dtype=np.float64) if name in df.columns else np.full(n, np.nan)

    price, sl, tp = _opt("price"), _opt("stop_loss"), _opt("take_profit")
    otype = np.empty(n, dtype=np.int64)
    for j in range(n):
        row = f"orders row {j}"
        b = bar[j]
        if not (b == b and float(b).is_integer() and 0 <= b < px.n_bars):
            raise ConfigError(f"{row}: bar {b:g} is not a bar of prices (0..{px.n_bars - 1}).")
        if not (0 <= col[j] < n_cols and float(col[j]).is_integer()):
            raise ConfigError(f"{row}: col {col[j]:g} is not a column (0..{n_cols - 1}).")
        if math.isnan(size[j]):
            raise ConfigError(f"{row} at {_where(px.index, int(b))}: size is NaN.")
        t = check_choice(f"{row}: type", str(types.iloc[j]).lower(), tuple(ORDER_TYPES))
        otype[j] = ORDER_TYPES[t]
        if t != "market" and not (math.isfinite(price[j]) and price[j] > 0):
            raise ConfigError(
                f"{row} at {_where(px.index, int(b))}: a {t} order needs a positive 'price' "
                f"(got {price[j]!r})."
            )
        if t != "market" and size[j] == 0:
            raise ConfigError(f"{row}: a {t} order needs a non-zero size.")
        for name, v in (("stop_loss", sl[j]), ("take_profit", tp[j])):
            if not (math.isnan(v) or (math.isfinite(v) and v > 0)):
                raise ConfigError(f"{row}: {name}={v!r} must be a positive price or NaN.")
    order = np.lexsort((np.arange(n), bar, col))
    return (
        col[order].astype(np.int64),
        bar[order].astype(np.int64),
        otype[order],
        np.ascontiguousarray(size[order]),
        np.ascontiguousarray(price[order]),
        np.ascontiguousarray(sl[order]),
        np.ascontiguousarray(tp[order]),
    )


def make_params(
    *,
    fees: float = 0.0,
    fixed_fee: float = 0.0,
    slippage_bps: float = 0.0,
    leverage: float = 1.0,
    lot_size: float = 0.0,
    direction: str = "long",
    execution: str = "next_open",
) -> np.ndarray:
    """Validated kernel ``params`` for :func:`fill_range_nb` (same meaning as in ``run``).

    Raises:
        ConfigError: On a bad setting.
    """
    return check_settings(
        fees=fees,
        fixed_fee=fixed_fee,
        slippage_bps=slippage_bps,
        init_cash=1.0,
        leverage=leverage,
        lot_size=lot_size,
        direction=direction,
        execution=execution,
    )
