"""Market arrays for the RL environments: prices and normalised features, read point-in-time.

:func:`make_market` turns any OHLCV input the loader reads (a canonical frame, a CSV/Parquet path,
or a :class:`~axon_lab.data.MarketView`) into one frozen :class:`MarketArrays`. Features are read
through ``MarketView.features_as_of`` at each bar's completion time, so the row for bar ``t``
holds only information complete at the close of ``t``. Each feature is then z-scored against its
own trailing ``norm_window`` bars (a causal rolling mean and standard deviation) and clipped, so
the observation scale does not drift with the price level.

With ``forecasts`` (a :class:`~axon_lab.forecast.Forecasts`), its point forecasts ``fc_vol`` and
``fc_p_up`` at each bar's completion are two more columns, normalised like the others (about a
millisecond per bar to compute); pass the arrays to the environment as its ``data``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from axon_lab.data import MarketView, load_ohlcv
from axon_lab.errors import ConfigError

if TYPE_CHECKING:
    from axon_lab.forecast import Forecasts

__all__ = ["DEFAULT_ENV_FEATURES", "MarketArrays", "make_market"]

_FORECAST_COLUMNS = ("fc_vol", "fc_p_up")

DEFAULT_ENV_FEATURES: tuple[str, ...] = ("logret_1", "rsi_14", "vol_20", "macd_12_26_9", "sma_20")
"""Feature names the environments observe by default (see ``compute_features``)."""

DataLike = Any
"""A canonical OHLCV frame, a path, a :class:`MarketView` or a :class:`MarketArrays`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketArrays:
    """Prices and normalised features of one symbol, as read-only numpy arrays.

    Attributes:
        index: Bar open times.
        open: Opens, shape ``(bars,)``. ``high``, ``low``, ``close`` likewise.
        high: Highs.
        low: Lows.
        close: Closes.
        features: Normalised features, shape ``(bars, n_features)``; finite from ``first_valid``.
        feature_names: One name per feature column.
        first_valid: First bar whose normalised features are all finite.
        symbol: The symbol.
        timeframe: The bar length label.
        clip: Bound of the normalised features (``[-clip, clip]``).
    """

    index: pd.DatetimeIndex
    open: np.ndarray = field(repr=False)
    high: np.ndarray = field(repr=False)
    low: np.ndarray = field(repr=False)
    close: np.ndarray = field(repr=False)
    features: np.ndarray = field(repr=False)
    feature_names: tuple[str, ...]
    first_valid: int
    symbol: str
    timeframe: str
    clip: float

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return int(self.close.shape[0])

    def prices(self, lo: int = 0, hi: int | None = None) -> pd.DataFrame:
        """OHLC prices of bars ``[lo, hi)`` as a frame (what ``backtest.run`` takes)."""
        sl = slice(lo, hi)
        return pd.DataFrame(
            {"open": self.open[sl], "high": self.high[sl], "low": self.low[sl],
             "close": self.close[sl]},
            index=self.index[sl],
        )  # fmt: skip

    def slice(self, lo: int, hi: int) -> MarketArrays:
        """Bars ``[lo, hi)`` (features keep their values, normalised on the full history)."""
        if not 0 <= lo < hi <= self.n_bars:
            raise ConfigError(f"slice [{lo}, {hi}) is not inside [0, {self.n_bars}).")
        return MarketArrays(
            index=self.index[lo:hi],
            open=self.open[lo:hi],
            high=self.high[lo:hi],
            low=self.low[lo:hi],
            close=self.close[lo:hi],
            features=self.features[lo:hi],
            feature_names=self.feature_names,
            first_valid=max(self.first_valid - lo, 0),
            symbol=self.symbol,
            timeframe=self.timeframe,
            clip=self.clip,
        )


def _readonly(a: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def _view(data: DataLike, features: Sequence[str]) -> MarketView:
    if isinstance(data, MarketView):
        return data
    if isinstance(data, str | PathLike):
        data = load_ohlcv(data)
    if not isinstance(data, pd.DataFrame):
        raise ConfigError(
            f"data must be an OHLCV DataFrame, a CSV/Parquet path, a MarketView or MarketArrays; "
            f"got {type(data).__name__}. Load it first with axon_lab.data.load_ohlcv(path)."
        )
    frame = data
    if not frame.attrs.get("symbol"):
        frame = frame.copy()
        frame.attrs["symbol"] = "ASSET"
    return MarketView(frame, feature_spec=list(features))


def make_market(
    data: DataLike,
    *,
    features: Sequence[str] = DEFAULT_ENV_FEATURES,
    norm_window: int = 256,
    clip: float = 5.0,
    symbol: str | None = None,
    forecasts: Forecasts | None = None,
) -> MarketArrays:
    """Read prices and normalised features for the RL environments.

    Args:
        data: A canonical OHLCV frame, a CSV/Parquet path, a :class:`MarketView`, or an existing
            :class:`MarketArrays` (returned as is).
        features: Feature names for :func:`~axon_lab.data.compute_features`.
        norm_window: Trailing bars of the causal rolling z-score (>= 2).
        clip: Normalised values are clipped to ``[-clip, clip]``.
        symbol: Which symbol of a multi-symbol view to use.
        forecasts: Adds the point forecasts ``fc_vol`` and ``fc_p_up`` as feature columns.

    Returns:
        The frozen arrays.

    Raises:
        ConfigError: On a bad argument or data with too few bars to normalise.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> m = make_market(make_synthetic(400, seed=0), features=["logret_1"], norm_window=20)
        >>> m.features.shape, m.first_valid
        ((400, 1), 20)
    """
    if isinstance(data, MarketArrays):
        return data
    if isinstance(norm_window, bool) or not isinstance(norm_window, int) or norm_window < 2:
        raise ConfigError(f"norm_window={norm_window!r} must be an int >= 2 bars.")
    if not clip > 0:
        raise ConfigError(f"clip={clip!r} must be > 0.")
    view = _view(data, features)
    sym = symbol or view.symbols[0]
    bars = view.as_of(view.end, sym)
    # one point-in-time read per bar: the row of bar t is what is known at its completion time
    times = pd.DatetimeIndex(bars.index) + view.timeframe.delta
    names = view.feature_names
    raw = np.array(
        [[np.nan if v is None else v for v in view.features_as_of(t, sym).values()] for t in times],
        dtype=np.float64,
    ).reshape(len(bars), len(names))
    frame = pd.DataFrame(raw, index=bars.index, columns=list(names))
    if forecasts is not None:
        # row i: the forecast made at bar i's completion, like the features above
        extra = forecasts.frame(view, sym)[list(_FORECAST_COLUMNS)]
        frame = pd.concat([frame, extra.set_axis(bars.index)], axis=1)
        names = (*names, *_FORECAST_COLUMNS)
    roll = frame.rolling(norm_window, min_periods=norm_window)
    z = (frame - roll.mean()) / roll.std(ddof=0).replace(0.0, np.nan)
    values = z.to_numpy(dtype=np.float64)
    ok = np.isfinite(values).all(axis=1)
    if not ok.any():
        raise ConfigError(
            f"No bar has finite normalised features: {len(bars)} bars with norm_window="
            f"{norm_window}. Pass more data or a smaller norm_window."
        )
    first = int(np.argmax(ok))
    values = np.clip(np.nan_to_num(values, nan=0.0), -clip, clip)
    return MarketArrays(
        index=pd.DatetimeIndex(bars.index),
        open=_readonly(bars["open"].to_numpy()),
        high=_readonly(bars["high"].to_numpy()),
        low=_readonly(bars["low"].to_numpy()),
        close=_readonly(bars["close"].to_numpy()),
        features=_readonly(values),
        feature_names=tuple(names),
        first_valid=first,
        symbol=sym,
        timeframe=view.timeframe.label,
        clip=float(clip),
    )
