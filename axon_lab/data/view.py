"""Point-in-time access to bars and features: the only door through which stages read prices.

Convention: a bar is stamped with its **open** time ``s`` and is *complete* at ``s + timeframe``.
``view.as_of(t)`` returns exactly the bars complete at ``t`` (``s + timeframe <= t``), so a decision
taken at ``t`` can never see the bar that is still forming, let alone later ones. Features are
computed once on the full history (they are strictly causal, see :mod:`axon_lab.data.features`) and
read at the last complete bar, which makes each read ``O(log n)`` plus a copy of the rows returned.

Examples:
    >>> from axon_lab.data.synthetic import make_synthetic
    >>> view = MarketView(make_synthetic(48, timeframe="1h", start="2024-01-01", seed=0))
    >>> t = pd.Timestamp("2024-01-01 03:30", tz="UTC")
    >>> view.as_of(t).index[-1]  # the 02:00 bar completed at 03:00; 03:00 is still forming
    Timestamp('2024-01-01 02:00:00+0000', tz='UTC')
    >>> len(view.as_of(t)), view.decision_times()[0]
    (3, Timestamp('2024-01-01 01:00:00+0000', tz='UTC'))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from axon_lab.data.features import compute_features
from axon_lab.data.frame import (
    CLOSE,
    OHLCV_COLUMNS,
    Timeframe,
    TimeframeLike,
    check_canonical,
)
from axon_lab.errors import ConfigError, DataError
from axon_lab.records import Bar

__all__ = ["MarketView"]

TimeLike = pd.Timestamp | datetime | str


@dataclass(frozen=True, slots=True)
class _Series:
    frame: pd.DataFrame
    opens: np.ndarray  # int64 ns, sorted
    features: pd.DataFrame
    feature_values: np.ndarray
    ohlcv: np.ndarray  # float64, OHLCV_COLUMNS order, read-only
    feature_names: tuple[str, ...]


def _as_utc(t: TimeLike) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(t)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Cannot read {t!r} as a time: {exc}") from exc
    if ts.tz is None:
        raise ConfigError(
            f"Time {t!r} has no time zone, so the cut-off is ambiguous. Fix: pass an aware time, "
            f"e.g. pd.Timestamp({str(t)!r}, tz='UTC')."
        )
    return ts.tz_convert("UTC")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _ns(t: TimeLike) -> int:
    """``_as_utc(t).value``: nanoseconds since the epoch."""
    if type(t) is datetime and t.tzinfo is UTC:
        # the loop's clock hands out plain aware datetimes: integer arithmetic, exact to the
        # microsecond (all a datetime holds), without building a pandas Timestamp per call
        return ((t - _EPOCH) // _US) * 1_000
    return int(_as_utc(t).value)


class MarketView:
    """Point-in-time view over one or more canonical frames of one timeframe.

    Args:
        data: One canonical frame, or a mapping ``symbol -> frame``.
        timeframe: The bar duration; defaults to the frames' ``attrs["timeframe"]``.
        feature_spec: Feature names for :func:`~axon_lab.data.compute_features`
            (None = defaults, ``()`` = no features).

    Raises:
        DataError: If a frame is not canonical (unsorted, duplicates, wrong columns...).
        ConfigError: If the frames disagree on the timeframe or no data is given.

    Examples:
        >>> from axon_lab.data.synthetic import make_synthetic
        >>> a = make_synthetic(30, timeframe="1d", seed=1, symbol="A")
        >>> b = make_synthetic(30, timeframe="1d", seed=2, symbol="B")
        >>> view = MarketView({"A": a, "B": b}, feature_spec=["sma_5"])
        >>> t = view.start + pd.Timedelta(days=6)
        >>> view.symbols, len(view.as_of(t, "A")), view.features_as_of(t, "A")["sma_5"] is None
        (('A', 'B'), 6, False)
        >>> view.last_price(t, "B") == float(b["close"].iloc[5])
        True
    """

    def __init__(
        self,
        data: pd.DataFrame | Mapping[str, pd.DataFrame],
        *,
        timeframe: TimeframeLike | None = None,
        feature_spec: Sequence[str] | None = None,
    ) -> None:
        if isinstance(data, pd.DataFrame):
            if not data.attrs.get("symbol"):
                raise ConfigError(
                    "The frame has no attrs['symbol']; pass MarketView({'SYMBOL': frame}) or set "
                    "frame.attrs['symbol']."
                )
            frames = {str(data.attrs["symbol"]): data}
        else:
            frames = dict(data)
        if not frames:
            raise ConfigError("MarketView needs at least one frame.")
        labels = {f.attrs.get("timeframe") for f in frames.values()} - {None}
        if timeframe is None:
            if len(labels) != 1:
                raise ConfigError(
                    f"The frames have timeframes {sorted(map(str, labels))}; pass timeframe=... "
                    "(and resample_ohlcv() frames to one timeframe first)."
                )
            timeframe = str(next(iter(labels)))
        tf = Timeframe.parse(timeframe)
        for sym, frame in frames.items():
            label = frame.attrs.get("timeframe")
            if label is not None and Timeframe.parse(label) != tf:
                raise ConfigError(
                    f"Frame {sym!r} has timeframe {label!r} but the view uses {tf.label!r}. "
                    "Fix: resample_ohlcv(frame, ...) to a common timeframe."
                )
        self._tf = tf
        self._tf_ns = tf.nanos
        self._spec = feature_spec
        self._series: dict[str, _Series] = {}
        for sym, frame in frames.items():
            own = frame.copy()
            own.attrs = {**frame.attrs, "symbol": sym, "timeframe": tf.label}
            if len(own) == 0:
                raise DataError(f"Frame {sym!r} has no bars.")
            check_canonical(own)
            feats = (
                compute_features(own, feature_spec)
                if feature_spec is None or len(feature_spec)
                else pd.DataFrame(index=own.index)
            )
            values = feats.to_numpy(dtype=np.float64, copy=True)
            values.flags.writeable = False
            opens = np.asarray(pd.DatetimeIndex(own.index).asi8).copy()
            opens.flags.writeable = False
            ohlcv = own[list(OHLCV_COLUMNS)].to_numpy(dtype=np.float64, copy=True)
            ohlcv.flags.writeable = False
            names = tuple(feats.columns)
            self._series[sym] = _Series(own, opens, feats, values, ohlcv, names)

    # ------------------------------------------------------------------ properties
    @property
    def symbols(self) -> tuple[str, ...]:
        """Symbols in the view, in the order given."""
        return tuple(self._series)

    @property
    def timeframe(self) -> Timeframe:
        """The bar duration shared by every symbol."""
        return self._tf

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Columns returned by :meth:`features_as_of`."""
        return tuple(next(iter(self._series.values())).features.columns)

    @property
    def start(self) -> pd.Timestamp:
        """Open time of the earliest bar across symbols."""
        return pd.Timestamp(min(int(s.opens[0]) for s in self._series.values()), tz="UTC")

    @property
    def end(self) -> pd.Timestamp:
        """Completion time of the latest bar across symbols."""
        last = max(int(s.opens[-1]) for s in self._series.values())
        return pd.Timestamp(last, tz="UTC") + self._tf.delta

    # ------------------------------------------------------------------ reads
    def _get(self, symbol: str | None) -> _Series:
        if symbol is None:
            if len(self._series) == 1:
                return next(iter(self._series.values()))
            raise ConfigError(f"This view holds {list(self._series)}; pass symbol=....")
        try:
            return self._series[symbol]
        except KeyError:
            import difflib

            near = difflib.get_close_matches(symbol, list(self._series), n=2)
            hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
            raise ConfigError(
                f"Unknown symbol {symbol!r}; the view holds {list(self._series)}.{hint}"
            ) from None

    def _count(self, series: _Series, t: TimeLike) -> int:
        cut = _ns(t) - self._tf_ns  # bars with open <= t - timeframe are complete
        # (the method: np.searchsorted's dispatch wrapper costs as much as the search, per call)
        return int(series.opens.searchsorted(cut, side="right"))

    def as_of(
        self, t: TimeLike, symbol: str | None = None, lookback: int | None = None
    ) -> pd.DataFrame:
        """Bars complete at ``t`` (open + timeframe <= t), oldest first.

        Args:
            t: A timezone-aware time.
            symbol: Needed when the view holds several symbols.
            lookback: Return only the last ``lookback`` complete bars (>= 1); all when None.

        Returns:
            A copy of the canonical rows (possibly empty).

        Raises:
            ConfigError: For a naive ``t``, an unknown symbol or a bad lookback.
        """
        series = self._get(symbol)
        n = self._count(series, t)
        lo = 0 if lookback is None else max(0, n - _lookback(lookback))
        return series.frame.iloc[lo:n].copy()

    def bar_arrays_as_of(
        self, t: TimeLike, symbol: str | None = None, *, lookback: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The last ``lookback`` complete bars as arrays, without building a frame.

        The hot-path twin of :meth:`as_of`: the same rows, as read-only views (no copy).

        Returns:
            ``(opens, values)``: open times (int64 ns since the epoch, UTC) and a float64 array
            with one row per bar and the columns ``open, high, low, close, volume``.

        Raises:
            ConfigError: For a naive ``t``, an unknown symbol or a bad lookback.
        """
        series = self._get(symbol)
        n = self._count(series, t)
        lo = max(0, n - _lookback(lookback))
        return series.opens[lo:n], series.ohlcv[lo:n]

    def features_as_of(self, t: TimeLike, symbol: str | None = None) -> dict[str, float | None]:
        """Feature values of the last bar complete at ``t`` (None where NaN or no bar yet)."""
        series = self._get(symbol)
        n = self._count(series, t)
        names = series.feature_names
        if n == 0:
            return dict.fromkeys(names)
        row = series.feature_values[n - 1].tolist()  # Python floats; NaN is the one v != v
        return {k: (None if v != v else v) for k, v in zip(names, row, strict=True)}

    def bars_as_of(
        self, t: TimeLike, symbol: str | None = None, *, lookback: int
    ) -> tuple[Bar, ...]:
        """The last ``lookback`` complete bars as :class:`~axon_lab.records.Bar` records."""
        rows = self.as_of(t, symbol, lookback)
        return tuple(
            Bar(timestamp=ts, **dict(zip(OHLCV_COLUMNS, vals, strict=True)))
            for ts, vals in zip(rows.index, rows.to_numpy().tolist(), strict=True)
        )

    def last_price(self, t: TimeLike, symbol: str | None = None) -> float:
        """Close of the last bar complete at ``t``.

        Raises:
            DataError: If no bar of the symbol is complete at ``t``.
        """
        series = self._get(symbol)
        n = self._count(series, t)
        if n == 0:
            first = pd.Timestamp(int(series.opens[0]), tz="UTC") + self._tf.delta
            raise DataError(
                f"No bar of {series.frame.attrs['symbol']!r} is complete at {_as_utc(t)}; the "
                f"first completes at {first}. Ask for a later time."
            )
        return float(series.frame[CLOSE].to_numpy()[n - 1])

    def decision_times(self, every: int = 1) -> pd.DatetimeIndex:
        """Times at which at least one bar completes (sorted), taking every ``every``-th.

        Args:
            every: Step between decision times (>= 1), e.g. 24 on hourly bars for daily decisions.

        Returns:
            UTC completion times, suitable for stepping a loop.
        """
        step = _lookback(every, "every")
        opens = np.unique(np.concatenate([s.opens for s in self._series.values()]))
        done = pd.DatetimeIndex(opens + self._tf.nanos, tz="UTC").as_unit("ns")
        return done[::step].rename("decision_time")

    def __repr__(self) -> str:
        return (
            f"MarketView(symbols={list(self.symbols)}, timeframe={self._tf.label!r}, "
            f"start={self.start}, end={self.end})"
        )


def _lookback(value: object, name: str = "lookback") -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be an int >= 1, got {value!r}.")
    return int(value)
