"""Causal technical features on canonical frames.

Every feature at bar ``i`` uses only bars ``<= i`` (strictly causal), and is NaN until its window
has filled. Conventions (the reference each one is tested against is named in the tests):

* ``ema``: ``alpha = 2 / (window + 1)``, recursive (pandas ``adjust=False``) and **seeded with the
  first value**; the first ``window - 1`` values are NaN (as in the ``ta`` library).
* ``rsi``: Wilder's original definition: average gain and loss over the first ``window`` price
  changes are simple means, later ones are Wilder-smoothed
  (``avg = (prev * (window - 1) + x) / window``). Because ``window`` *changes* need ``window + 1``
  prices, the first ``window`` values are NaN. RSI is 100 when the average loss is 0.
* ``atr``: true range ``max(high - low, |high - prev close|, |low - prev close|)`` (the first bar
  uses ``high - low``), first ATR the mean of the first ``window`` true ranges, then Wilder
  smoothing; first ``window - 1`` values are NaN.
* ``bollinger``: middle = SMA, bands = middle +- ``k`` x population std (ddof=0).
* ``rolling_volatility``: sample std (ddof=1) of log returns; annualised with
  ``sqrt(periods_per_year)``, by default ``365 days / timeframe`` (a 24/7 market; pass 252 for
  daily equities).
* ``macd``: ``ema(fast) - ema(slow)``; signal = ``ema(signal)`` of that line from its first valid
  value; hist = line - signal.

Examples:
    >>> close = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> sma(close, 3).tolist()
    [nan, nan, 2.0, 3.0, 4.0]
    >>> ema(close, 2).round(4).tolist()
    [nan, 1.6667, 2.5556, 3.5185, 4.5062]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Final, NamedTuple

import numpy as np
import pandas as pd

from axon_lab.data.frame import CLOSE, HIGH, LOW, Timeframe, detect_timeframe
from axon_lab.errors import ConfigError

__all__ = [
    "DEFAULT_FEATURES",
    "Bollinger",
    "Macd",
    "atr",
    "bollinger",
    "compute_features",
    "ema",
    "log_returns",
    "macd",
    "returns",
    "rolling_volatility",
    "rsi",
    "sma",
]

DEFAULT_FEATURES: Final[tuple[str, ...]] = (
    "ret_1", "logret_1", "sma_20", "ema_20", "rsi_14", "atr_14", "bb_20_2", "vol_20",
    "macd_12_26_9",
)  # fmt: skip
"""Feature names computed by :func:`compute_features` when no spec is given."""


class Bollinger(NamedTuple):
    """Bollinger bands: middle, upper and lower band series."""

    mid: pd.Series
    upper: pd.Series
    lower: pd.Series


class Macd(NamedTuple):
    """MACD line, signal line and histogram."""

    line: pd.Series
    signal: pd.Series
    hist: pd.Series


def _window(value: object, name: str = "window") -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be an int >= 1, got {value!r}.")
    return int(value)


def returns(close: pd.Series, periods: int = 1) -> pd.Series:
    """Simple returns ``close / close.shift(periods) - 1`` (first ``periods`` values NaN)."""
    p = _window(periods, "periods")
    return close / close.shift(p) - 1.0


def log_returns(close: pd.Series, periods: int = 1) -> pd.Series:
    """Log returns ``log(close / close.shift(periods))`` (first ``periods`` values NaN)."""
    p = _window(periods, "periods")
    return pd.Series(np.log(close / close.shift(p)), index=close.index)


def sma(series: pd.Series, window: int) -> pd.Series:
    """Simple moving average over ``window`` bars."""
    w = _window(window)
    return series.rolling(w, min_periods=w).mean()


def ema(series: pd.Series, window: int) -> pd.Series:
    """Exponential moving average, ``alpha = 2/(window+1)``, seeded with the first value."""
    w = _window(window)
    return series.ewm(span=w, adjust=False, min_periods=w).mean()


def _wilder(values: np.ndarray, window: int, first: int) -> np.ndarray:
    """Wilder smoothing: mean of ``values[first - window + 1 : first + 1]``, then recursive."""
    out = np.full(values.shape, np.nan)
    if values.size <= first:
        return out
    seeded = values[first:].copy()
    seeded[0] = values[first - window + 1 : first + 1].mean()
    # pandas' recursive EWM with alpha = 1/window is exactly y_i = y_{i-1} (1 - 1/w) + x_i / w
    out[first:] = pd.Series(seeded).ewm(alpha=1.0 / window, adjust=False).mean().to_numpy()
    return out


def rsi(close: pd.Series, window: int = 14) -> pd.Series:
    """Wilder's relative strength index in [0, 100] (first ``window`` values NaN)."""
    w = _window(window)
    diff = close.diff().to_numpy(dtype=np.float64)
    gain = np.where(diff > 0, diff, 0.0)
    loss = np.where(diff < 0, -diff, 0.0)
    avg_gain = _wilder(gain, w, w)
    avg_loss = _wilder(loss, w, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(avg_loss == 0, 100.0, 100.0 - 100.0 / (1.0 + avg_gain / avg_loss))
    value[np.isnan(avg_gain)] = np.nan
    return pd.Series(value, index=close.index)


def atr(frame: pd.DataFrame, window: int = 14) -> pd.Series:
    """Wilder's average true range (first ``window - 1`` values NaN)."""
    w = _window(window)
    high, low = frame[HIGH].to_numpy(np.float64), frame[LOW].to_numpy(np.float64)
    prev = frame[CLOSE].shift(1).to_numpy(np.float64)
    tr = np.fmax(high - low, np.fmax(np.abs(high - prev), np.abs(low - prev)))
    return pd.Series(_wilder(tr, w, w - 1), index=frame.index)


def bollinger(close: pd.Series, window: int = 20, k: float = 2.0) -> Bollinger:
    """Bollinger bands: SMA +- ``k`` population standard deviations."""
    w = _window(window)
    if not np.isfinite(k) or k <= 0:
        raise ConfigError(f"k must be a positive number, got {k!r}.")
    mid = sma(close, w)
    std = close.rolling(w, min_periods=w).std(ddof=0)
    return Bollinger(mid, mid + k * std, mid - k * std)


def rolling_volatility(
    close: pd.Series,
    window: int = 20,
    *,
    annualize: bool = False,
    timeframe: str | None = None,
    periods_per_year: float | None = None,
) -> pd.Series:
    """Rolling sample std of log returns, optionally annualised.

    Args:
        close: Close prices.
        window: Number of returns in the window (first ``window`` values are NaN).
        annualize: Multiply by ``sqrt(periods_per_year)``.
        timeframe: Bar duration used for the default ``periods_per_year`` (365 days / bar);
            detected from the index when None.
        periods_per_year: Explicit annualisation factor (e.g. 252 for daily equities).

    Returns:
        The volatility series.
    """
    w = _window(window)
    vol = log_returns(close).rolling(w, min_periods=w).std(ddof=1)
    if not annualize:
        return vol
    if periods_per_year is None:
        if timeframe is not None:
            tf = Timeframe.parse(timeframe)
        elif isinstance(close.index, pd.DatetimeIndex):
            tf = detect_timeframe(close.index)
        else:
            raise ConfigError("annualize=True needs timeframe=... or periods_per_year=...")
        periods_per_year = pd.Timedelta(days=365) / tf.delta
    if not periods_per_year > 0:
        raise ConfigError(f"periods_per_year must be > 0, got {periods_per_year!r}.")
    return vol * float(np.sqrt(periods_per_year))


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> Macd:
    """MACD line, signal and histogram (see the module docstring for seeding)."""
    f, s, g = _window(fast, "fast"), _window(slow, "slow"), _window(signal, "signal")
    if f >= s:
        raise ConfigError(f"fast ({f}) must be shorter than slow ({s}).")
    line = ema(close, f) - ema(close, s)
    sig = line.ewm(span=g, adjust=False, min_periods=g).mean()
    return Macd(line, sig, line - sig)


_SPEC = re.compile(r"^(ret|logret|sma|ema|rsi|atr|vol|annvol|bb|macd)((?:_\d+(?:\.\d+)?)*)$")
_ARITY: Final = {"ret": 1, "logret": 1, "sma": 1, "ema": 1, "rsi": 1, "atr": 1, "vol": 1,
                 "annvol": 1, "bb": 2, "macd": 3}  # fmt: skip
_EXAMPLES: Final = ("ret_1", "logret_1", "sma_20", "ema_20", "rsi_14", "atr_14", "vol_20",
                    "annvol_20", "bb_20_2", "macd_12_26_9")  # fmt: skip


def _one(frame: pd.DataFrame, name: str, timeframe: str | None) -> dict[str, pd.Series]:
    match = _SPEC.match(name)
    kind = match.group(1) if match else ""
    args = [a for a in (match.group(2).split("_") if match else []) if a]
    if match is None or len(args) != _ARITY[kind]:
        near = difflib.get_close_matches(name, _EXAMPLES, n=2, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise ConfigError(f"Unknown feature {name!r}.{hint} Known forms: {', '.join(_EXAMPLES)}.")
    ints = [int(float(a)) if float(a).is_integer() else -1 for a in args]
    close = frame[CLOSE]
    if kind == "bb":
        bands = bollinger(close, ints[0], float(args[1]))
        sfx = f"{args[0]}_{args[1]}"
        return {f"bb_mid_{sfx}": bands.mid, f"bb_upper_{sfx}": bands.upper,
                f"bb_lower_{sfx}": bands.lower}  # fmt: skip
    if kind == "macd":
        m = macd(close, *ints)
        sfx = "_".join(args)
        return {f"macd_{sfx}": m.line, f"macd_signal_{sfx}": m.signal, f"macd_hist_{sfx}": m.hist}
    n = ints[0]
    funcs = {
        "ret": lambda: returns(close, n),
        "logret": lambda: log_returns(close, n),
        "sma": lambda: sma(close, n),
        "ema": lambda: ema(close, n),
        "rsi": lambda: rsi(close, n),
        "atr": lambda: atr(frame, n),
        "vol": lambda: rolling_volatility(close, n),
        "annvol": lambda: rolling_volatility(close, n, annualize=True, timeframe=timeframe),
    }
    return {name: funcs[kind]()}


def compute_features(frame: pd.DataFrame, spec: Sequence[str] | None = None) -> pd.DataFrame:
    """Compute named features on a canonical frame.

    Names encode their parameters: ``ret_1``, ``logret_1``, ``sma_20``, ``ema_20``, ``rsi_14``,
    ``atr_14``, ``vol_20`` (per-bar), ``annvol_20`` (annualised for the frame's timeframe),
    ``bb_20_2`` (-> ``bb_mid_20_2``, ``bb_upper_20_2``, ``bb_lower_20_2``) and ``macd_12_26_9``
    (-> ``macd_12_26_9``, ``macd_signal_12_26_9``, ``macd_hist_12_26_9``).

    Args:
        frame: Canonical OHLCV frame.
        spec: Feature names; :data:`DEFAULT_FEATURES` when None.

    Returns:
        A float64 frame on the same index, one column per output.

    Raises:
        ConfigError: For unknown names or invalid parameters (with a "did you mean").

    Examples:
        >>> from axon_lab.data.synthetic import make_synthetic
        >>> feats = compute_features(make_synthetic(100, seed=3), ["sma_5", "rsi_14"])
        >>> list(feats.columns), int(feats["rsi_14"].isna().sum())
        (['sma_5', 'rsi_14'], 14)
    """
    names = DEFAULT_FEATURES if spec is None else tuple(spec)
    if isinstance(spec, str):
        raise ConfigError(f"spec must be a list of feature names, got the string {spec!r}.")
    if len(set(names)) != len(names):
        raise ConfigError(f"spec lists a feature twice: {list(names)}.")
    timeframe = frame.attrs.get("timeframe")
    columns: dict[str, pd.Series] = {}
    for name in names:
        columns.update(_one(frame, name, timeframe))
    return pd.DataFrame(columns, index=frame.index).astype(np.float64)
