from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axon_lab.data import (
    DataRepairWarning,
    check_canonical,
    load_sample,
    make_synthetic,
    resample_ohlcv,
)
from axon_lab.errors import ConfigError


def test_hand_built_example_with_empty_bin_and_partial_tail() -> None:
    stamps = ["00:00", "00:15", "00:30", "00:45", "02:00", "02:15", "02:30", "02:45", "03:00"]
    idx = pd.DatetimeIndex([f"2024-01-01 {s}" for s in stamps], tz="UTC", name="timestamp")
    frame = pd.DataFrame(
        {
            "open": [10.0, 11, 12, 13, 20, 21, 22, 23, 30],
            "high": [11.0, 14, 13, 14, 25, 22, 23, 24, 31],
            "low": [9.0, 10, 11, 12, 19, 18, 21, 22, 29],
            "close": [11.0, 12, 13, 12.5, 21, 22, 23, 24, 30.5],
            "volume": [1.0, 2, 3, 4, 5, 6, 7, 8, 9],
        },
        index=idx.as_unit("ns"),
    )
    frame.attrs = {"symbol": "X", "timeframe": "15min"}
    out = resample_ohlcv(frame, "1h")
    check_canonical(out)
    expected_idx = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 02:00"], tz="UTC")
    assert list(out.index) == list(expected_idx)  # 01:00 had no bars: not invented
    assert out.to_numpy().tolist() == [
        [10.0, 14.0, 9.0, 12.5, 10.0],
        [20.0, 25.0, 18.0, 24.0, 26.0],
    ]
    assert out.attrs["timeframe"] == "1h"
    kept = resample_ohlcv(frame, "1h", drop_partial=False)
    assert kept.index[-1] == pd.Timestamp("2024-01-01 03:00", tz="UTC")
    assert kept.iloc[-1].tolist() == [30.0, 31.0, 29.0, 30.5, 9.0]


def test_chained_equals_direct_on_synthetic() -> None:
    frame = make_synthetic(96 * 20 + 37, timeframe="15min", start="2024-01-01 05:00", seed=9)
    direct = resample_ohlcv(frame, "1d")
    chained = resample_ohlcv(resample_ohlcv(frame, "1h"), "1d")
    pd.testing.assert_frame_equal(direct, chained, check_exact=False, rtol=1e-12)
    assert np.array_equal(direct["high"].to_numpy(), chained["high"].to_numpy())


def test_chained_equals_direct_on_real_btc_with_gaps() -> None:
    with pytest.warns(DataRepairWarning):
        btc = load_sample("btc-usd-15m")
    direct = resample_ohlcv(btc, "1d")
    chained = resample_ohlcv(resample_ohlcv(btc, "1h"), "1d")
    pd.testing.assert_frame_equal(direct, chained, rtol=1e-12)
    assert direct.index[0] == pd.Timestamp("2021-09-27", tz="UTC")
    # 2021-11-28 had no bars at all (gap 2021-11-27 06:15 .. 11-29 13:45): dropped, not invented
    assert pd.Timestamp("2021-11-28", tz="UTC") not in direct.index
    assert direct["volume"].sum() <= btc["volume"].sum()


@pytest.mark.parametrize(("source", "target"), [("1h", "15min"), ("1h", "90min"), ("4h", "6h")])
def test_finer_or_non_multiple_rejected(source: str, target: str) -> None:
    frame = make_synthetic(50, timeframe=source, seed=0)
    with pytest.raises(ConfigError, match=rf"Cannot resample {source} bars to {target}"):
        resample_ohlcv(frame, target)


def test_weekly_origin_monday() -> None:
    frame = make_synthetic(7 * 6, timeframe="1d", start="2024-01-01", seed=2)  # a Monday
    weekly = resample_ohlcv(frame, "1w", origin=pd.Timestamp("1970-01-05", tz="UTC"))
    assert len(weekly) == 6
    assert all(t.day_name() == "Monday" for t in weekly.index)
    assert weekly["volume"].iloc[0] == pytest.approx(frame["volume"].iloc[:7].sum())
