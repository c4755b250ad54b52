"""Point-in-time access to a :class:`~axon_lab.data.Universe`: the portfolio stages' door to prices.

The same convention as :class:`~axon_lab.data.MarketView`: a row of the clock is stamped with its
open time and is complete at ``open + timeframe``; :meth:`UniverseView.rows_as_of` counts the rows
complete at ``t``, and every read takes rows before that count only. Features are computed once,
vectorized over the universe, each symbol on **its own bars** (a halted row is skipped, not
interpolated), then carried forward over rows where the symbol has no bar, so a read at any row
returns the feature of the symbol's last complete bar.

Features (all strictly causal):

* ``ret_1``: close over the previous close, minus 1;
* ``mom``: close over the close ``mom_window`` bars earlier, minus 1;
* ``vol``: standard deviation of ``ret_1`` over ``vol_window`` bars;
* ``trend``: ``(sma(fast) - sma(slow)) / atr(atr_window)`` -- the rules analyst's spread (trend in
  ATR units), with the ATR the simple mean of true ranges.

Examples:
    >>> from axon_lab.data import make_synthetic_universe
    >>> view = UniverseView(make_synthetic_universe(4, 60, seed=0))
    >>> t = view.universe.index[40] + view.timeframe.delta
    >>> view.rows_as_of(t)  # rows 0..40 are complete at the end of row 40
    41
    >>> view.feature("trend", 40).shape
    (4,)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from axon_lab.data.frame import Timeframe
from axon_lab.data.universe import Universe
from axon_lab.errors import ConfigError

__all__ = ["FEATURES", "UniverseView"]

FEATURES = ("ret_1", "mom", "vol", "trend")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _compact(values: np.ndarray, has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift each column's present values to the top; return them and each value's source row."""
    rank = np.cumsum(has, axis=0) - 1  # position of each present value in its column
    out = np.full(values.shape, np.nan)
    rows, cols = np.nonzero(has)
    out[rank[rows, cols], cols] = values[rows, cols]
    return out, rank


def _expand(compact: np.ndarray, has: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Put compacted values back on the clock, carried forward over rows without a bar."""
    n, m = has.shape
    idx = np.maximum(rank, 0)
    out = compact[idx, np.arange(m)[None, :]]
    out[rank < 0] = np.nan  # before the symbol's first bar
    return np.asarray(out, dtype=np.float64).reshape(n, m)


class UniverseView:
    """Point-in-time reads over a universe, with features precomputed for every symbol.

    Args:
        universe: The universe.
        fast: Fast SMA window of ``trend``.
        slow: Slow SMA window of ``trend``.
        atr_window: ATR window of ``trend``.
        mom_window: Look-back of ``mom``.
        vol_window: Window of ``vol``.

    Raises:
        ConfigError: On a bad window.
    """

    def __init__(
        self,
        universe: Universe,
        *,
        fast: int = 10,
        slow: int = 30,
        atr_window: int = 14,
        mom_window: int = 20,
        vol_window: int = 20,
    ) -> None:
        for name, value in (("fast", fast), ("slow", slow), ("atr_window", atr_window),
                            ("mom_window", mom_window), ("vol_window", vol_window)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}.")
        if fast >= slow:
            raise ConfigError(f"fast ({fast}) must be below slow ({slow}).")
        self.universe = universe
        self.params = {"fast": fast, "slow": slow, "atr_window": atr_window,
                       "mom_window": mom_window, "vol_window": vol_window}  # fmt: skip
        self._opens = np.asarray(universe.index.asi8, dtype=np.int64)
        self._tf_ns = int(universe.timeframe.delta.value)
        self.has_bar = universe.has_bar
        self.has_bar.flags.writeable = False
        self.marks = universe.marks()
        self.marks.flags.writeable = False
        self.features = self._features()

    def __deepcopy__(self, memo: dict[int, object]) -> UniverseView:
        return self  # immutable after construction (read-only arrays)

    @property
    def timeframe(self) -> Timeframe:
        """The bar duration."""
        return self.universe.timeframe

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols, in column order."""
        return self.universe.symbols

    def _features(self) -> dict[str, np.ndarray]:
        u, has, p = self.universe, self.has_bar, self.params
        close, rank = _compact(u.close, has)
        high, _ = _compact(u.high, has)
        low, _ = _compact(u.low, has)
        c = pd.DataFrame(close)
        prev = c.shift(1)
        ret = c / prev - 1.0
        tr = np.fmax(
            high - low, np.fmax(np.abs(high - prev.to_numpy()), np.abs(low - prev.to_numpy()))
        )
        tr[0] = (high - low)[0]  # (the first bar has no previous close)
        atr = pd.DataFrame(tr).rolling(p["atr_window"]).mean()
        spread = c.rolling(p["fast"]).mean() - c.rolling(p["slow"]).mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            trend = (spread / atr.where(atr > 0)).to_numpy()
        compact = {
            "ret_1": ret.to_numpy(),
            "mom": (c / c.shift(p["mom_window"]) - 1.0).to_numpy(),
            "vol": ret.rolling(p["vol_window"]).std().to_numpy(),
            "trend": trend,
        }
        out = {}
        for name, values in compact.items():
            arr = _expand(values, has, rank)
            arr.flags.writeable = False
            out[name] = arr
        return out

    # ------------------------------------------------------------------ reads
    def rows_as_of(self, t: datetime | pd.Timestamp) -> int:
        """How many rows of the clock are complete at ``t`` (row ``n - 1`` is the current one)."""
        if type(t) is datetime and t.tzinfo is UTC:
            t_ns = ((t - _EPOCH) // _US) * 1_000
        else:
            ts = pd.Timestamp(t)
            if ts.tz is None:
                raise ConfigError(f"Time {t!r} has no time zone; pass an aware (UTC) time.")
            t_ns = int(ts.value)
        return int(self._opens.searchsorted(t_ns - self._tf_ns, side="right"))

    def feature(self, name: str, row: int) -> np.ndarray:
        """Feature ``name`` of every symbol as of row ``row`` (NaN where undefined)."""
        try:
            return np.asarray(self.features[name][row], dtype=np.float64)
        except KeyError:
            raise ConfigError(f"Unknown feature {name!r}; the view has {list(FEATURES)}.") from None

    def decision_times(self, every: int = 1) -> pd.DatetimeIndex:
        """Completion times of the clock's rows, every ``every``-th (one per portfolio step)."""
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"every must be an int >= 1, got {every!r}.")
        done = pd.DatetimeIndex(self._opens + self._tf_ns, tz="UTC").as_unit("ns")
        return done[::every].rename("decision_time")

    def __repr__(self) -> str:
        return f"UniverseView({self.universe!r})"
