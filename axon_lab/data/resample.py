"""Resample a canonical frame to a coarser timeframe.

Aggregation: ``open`` = first, ``high`` = max, ``low`` = min, ``close`` = last, ``volume`` = sum.
Bins are closed on the left and labelled by their open time (the canonical convention), anchored
at the Unix epoch (so 4-hour bins start at 00:00, 04:00, ... UTC and weekly bins on Thursdays, the
weekday of 1970-01-01; pass ``origin`` to move them, e.g. ``origin="1970-01-05"`` for Mondays).
Bins without any source bar are dropped, never invented.

A bin is *partial* when some of its source bars are absent. Only the **last** bin can be partial
because data ends mid-bin (a bar still forming); by default (``drop_partial=True``) it is dropped
if it holds fewer source bars than the bins usually do. Interior bins with missing source bars
(gaps, holidays) are kept: they aggregate what traded.

Examples:
    >>> idx = pd.date_range("2024-01-01", periods=6, freq="15min", tz="UTC", name="timestamp")
    >>> f = pd.DataFrame({"open": [1.0, 2, 3, 4, 5, 6], "high": [2.0, 3, 4, 5, 6, 7],
    ...                   "low": [0.5, 1, 2, 3, 4, 5], "close": [2.0, 3, 4, 5, 6, 7],
    ...                   "volume": [1.0] * 6}, index=idx.as_unit("ns"))
    >>> f.attrs.update(symbol="X", timeframe="15min")
    >>> resample_ohlcv(f, "30min")[["open", "close", "volume"]].to_dict("list")
    {'open': [1.0, 3.0, 5.0], 'close': [3.0, 5.0, 7.0], 'volume': [2.0, 2.0, 2.0]}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from axon_lab.data.frame import (
    CLOSE,
    HIGH,
    INDEX_NAME,
    LOW,
    OHLCV_COLUMNS,
    OPEN,
    VOLUME,
    Timeframe,
    TimeframeLike,
    detect_timeframe,
)
from axon_lab.errors import ConfigError

__all__ = ["resample_ohlcv"]


def resample_ohlcv(
    frame: pd.DataFrame,
    timeframe: TimeframeLike,
    *,
    drop_partial: bool = True,
    origin: str | pd.Timestamp = "epoch",
) -> pd.DataFrame:
    """Aggregate bars into a coarser timeframe that is a whole multiple of the source.

    Args:
        frame: Canonical frame (``attrs["timeframe"]`` is used, else detected).
        timeframe: Target timeframe, a multiple of the source timeframe.
        drop_partial: Drop the last bin if it has fewer source bars than the typical
            (most common) bin count, i.e. it was still forming when the data ended.
        origin: Bin anchor passed to pandas (``"epoch"`` or a timestamp).

    Returns:
        A new canonical frame with ``attrs["timeframe"]`` set to the target.

    Raises:
        ConfigError: If the target is finer than, or not a whole multiple of, the source.

    Examples:
        >>> from axon_lab.data.synthetic import make_synthetic
        >>> daily = resample_ohlcv(make_synthetic(24 * 10, timeframe="1h", seed=0), "1d")
        >>> len(daily), daily.attrs["timeframe"]
        (10, '1d')
    """
    target = Timeframe.parse(timeframe)
    label = frame.attrs.get("timeframe")
    source = Timeframe.parse(label) if label else detect_timeframe(pd.DatetimeIndex(frame.index))
    if target.nanos < source.nanos or target.nanos % source.nanos:
        raise ConfigError(
            f"Cannot resample {source.label} bars to {target.label}: the target must be a whole "
            f"multiple of the source timeframe ({source.label}), e.g. "
            f"{Timeframe.from_delta(source.delta * 4).label}."
        )
    if target.nanos == source.nanos:
        out = frame.copy()
        out.attrs = {**frame.attrs, "timeframe": target.label}
        return out
    grouped = frame.resample(target.delta, closed="left", label="left", origin=origin)
    agg = pd.DataFrame(
        {
            OPEN: grouped[OPEN].first(),
            HIGH: grouped[HIGH].max(),
            LOW: grouped[LOW].min(),
            CLOSE: grouped[CLOSE].last(),
            VOLUME: grouped[VOLUME].sum(),
        }
    )
    counts = grouped[CLOSE].count()
    keep = counts.to_numpy() > 0
    if drop_partial and keep.any():
        typical = int(np.bincount(counts.to_numpy()[keep]).argmax())
        last = int(np.flatnonzero(keep)[-1])
        if counts.iloc[last] < typical:
            keep[last] = False
    out = agg.loc[keep, list(OHLCV_COLUMNS)].astype(np.float64)
    out.index = pd.DatetimeIndex(out.index).as_unit("ns").rename(INDEX_NAME)
    out.attrs = {k: v for k, v in frame.attrs.items() if k != "report"}
    out.attrs["timeframe"] = target.label
    return out
