from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axon_lab.data import (
    OHLCV_COLUMNS,
    Timeframe,
    check_canonical,
    detect_timeframe,
    make_canonical,
)
from axon_lab.errors import ConfigError, DataError


@pytest.mark.parametrize(
    ("text", "label", "minutes"),
    [
        ("15m", "15min", 15),
        ("15min", "15min", 15),
        ("15T", "15min", 15),
        ("60min", "1h", 60),
        ("1H", "1h", 60),
        ("1h", "1h", 60),
        ("4h", "4h", 240),
        ("D", "1d", 1440),
        ("1d", "1d", 1440),
        ("1 day", "1d", 1440),
        ("7d", "1w", 10080),
        ("W", "1w", 10080),
        ("90min", "90min", 90),
        ("30s", "30s", 0.5),
    ],
)
def test_timeframe_parse_spellings(text: str, label: str, minutes: float) -> None:
    tf = Timeframe.parse(text)
    assert tf.label == label
    assert tf.delta == pd.Timedelta(minutes=minutes)


def test_timeframe_from_timedelta_and_identity() -> None:
    assert Timeframe.parse(pd.Timedelta(hours=4)) == Timeframe.parse("4h")
    tf = Timeframe.parse("1d")
    assert Timeframe.parse(tf) is tf
    assert str(tf) == "1d"


def test_unknown_timeframe_suggests() -> None:
    with pytest.raises(ConfigError, match=r"Unknown timeframe '1hx'.*unit"):
        Timeframe.parse("1hx")
    with pytest.raises(ConfigError, match=r"Did you mean '15min'"):
        Timeframe.parse("15mni")


def test_month_is_rejected_as_ambiguous() -> None:
    with pytest.raises(ConfigError, match="ambiguous"):
        Timeframe.parse("1M")


@pytest.mark.parametrize("bad", ["0h", "-1h", "", "1.5h"])
def test_invalid_timeframes(bad: str) -> None:
    with pytest.raises(ConfigError):
        Timeframe.parse(bad)


def test_detect_timeframe_ignores_weekends_and_gaps() -> None:
    idx = pd.bdate_range("2024-01-01", periods=60, tz="UTC").delete([5, 17, 18])
    assert detect_timeframe(idx).label == "1d"
    hourly = pd.date_range("2024-01-01", periods=100, freq="h", tz="UTC")
    hourly = hourly.delete(range(30, 60)).append(hourly[[-1]])  # gap and a duplicate
    assert detect_timeframe(hourly).label == "1h"


def test_detect_timeframe_tie_takes_smaller() -> None:
    idx = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 00:15", "2024-01-01 01:15"], tz="UTC")
    assert detect_timeframe(idx).label == "15min"


def test_detect_timeframe_needs_two_bars() -> None:
    with pytest.raises(DataError, match="at least two distinct bars"):
        detect_timeframe(pd.DatetimeIndex(["2024-01-01", "2024-01-01"], tz="UTC"))


def _frame() -> pd.DataFrame:
    idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC", name="timestamp")
    f = pd.DataFrame({c: [1.0, 2.0, 3.0] for c in OHLCV_COLUMNS}, index=idx.as_unit("ns"))
    f.attrs.update(symbol="X", timeframe="1d")
    return f


def test_check_canonical_accepts_canonical() -> None:
    check_canonical(_frame())


def test_check_canonical_lists_every_problem() -> None:
    f = _frame().iloc[[1, 0, 0]]
    f.index = f.index.tz_convert("Europe/Berlin").rename("date")
    f = f.rename(columns={"volume": "vol"})
    f.attrs = {}
    with pytest.raises(DataError) as info:
        check_canonical(f)
    text = str(info.value)
    for part in ["not UTC", "not sorted", "duplicate", "not 'timestamp'", "columns are", "symbol"]:
        assert part in text


def test_make_canonical_converts_index_and_dtypes() -> None:
    raw = pd.DataFrame(
        {c: np.array([1, 2], dtype=np.int64) for c in OHLCV_COLUMNS},
        index=pd.DatetimeIndex(["2024-01-01 01:00", "2024-01-01 02:00"], tz="Europe/London"),
    )
    out = make_canonical(raw, symbol="X")
    check_canonical(out)
    assert out.index[0] == pd.Timestamp("2024-01-01 01:00", tz="UTC")
    assert out.attrs == {"symbol": "X", "timeframe": "1h"}


def test_make_canonical_missing_columns() -> None:
    raw = pd.DataFrame({"open": [1.0]}, index=pd.DatetimeIndex(["2024-01-01"]))
    with pytest.raises(DataError, match=r"Columns \['high', 'low', 'close', 'volume'\]"):
        make_canonical(raw, symbol="X", timeframe="1d")
