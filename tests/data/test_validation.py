"""validate_ohlcv: strict raises with the fix, repair drops exactly what is wrong and says so.

The real-file tests pin what the bundled files really contain (found by inspecting them).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from axon_lab.data import (
    DataRepairWarning,
    Timeframe,
    ValidationReport,
    check_canonical,
    find_gaps,
    load_csv,
    validate_ohlcv,
)
from axon_lab.errors import ConfigError, DataError

UTC = "UTC"


def bars(n: int = 6, freq: str = "1h", start: str = "2024-01-01") -> pd.DataFrame:
    idx = pd.date_range(start, periods=n, freq=freq, tz=UTC, name="timestamp").as_unit("ns")
    close = 100.0 + np.arange(n, dtype=float)
    frame = pd.DataFrame(
        {"open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close,
         "volume": np.full(n, 10.0)},
        index=idx,
    )  # fmt: skip
    frame.attrs = {"symbol": "T", "timeframe": Timeframe.parse(freq).label}
    return frame


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def test_clean_frame_passes_strict_unchanged() -> None:
    frame = bars()
    out, report = validate_ohlcv(frame, policy="strict")
    pd.testing.assert_frame_equal(out, frame, check_exact=True)
    assert report.is_clean
    assert report.rows_in == report.rows_out == 6
    assert "clean: nothing changed" in report.summary()


@pytest.mark.parametrize(
    ("row", "column", "value", "reason", "fix"),
    [
        (2, "close", np.nan, "missing_value", r"frame\.dropna\(\)"),
        (2, "high", np.inf, "non_finite", "inf"),
        (3, "low", -1.0, "non_positive_price", "prices must be positive"),
        (3, "volume", -5.0, "negative_volume", "negative volume"),
        (4, "low", 200.0, "inconsistent_ohlc", "low > open/close"),
        (4, "high", 100.0, "inconsistent_ohlc", "high < open/close"),
    ],
)
def test_strict_names_row_values_and_fix(
    row: int, column: str, value: float, reason: str, fix: str
) -> None:
    frame = bars()
    frame.iloc[row, frame.columns.get_loc(column)] = value
    stamp = frame.index[row]
    with pytest.raises(DataError, match=rf"1 bar\(s\) fail validation \(1 {reason}\)") as info:
        validate_ohlcv(frame, policy="strict")
    text = str(info.value)
    assert f"{stamp} {reason}: open=" in text
    assert f"{column}={value!r}" in text
    assert re.search(fix, text)
    assert "policy='repair'" in text


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (2, "close", np.nan, "missing_value"),
        (2, "open", -np.inf, "non_finite"),
        (3, "open", 0.0, "non_positive_price"),
        (3, "volume", -1.0, "negative_volume"),
        (4, "low", 150.0, "inconsistent_ohlc"),
    ],
)
def test_repair_drops_exactly_the_bad_row(row: int, column: str, value: float, reason: str) -> None:
    frame = bars()
    frame.iloc[row, frame.columns.get_loc(column)] = value
    with pytest.warns(DataRepairWarning, match=rf"dropped 1 of 6 rows \(1 {reason}\)"):
        out, report = validate_ohlcv(frame, policy="repair")
    assert list(out.index) == list(frame.index.delete(row))
    assert [(b.timestamp, b.reason) for b in report.dropped] == [(frame.index[row], reason)]
    assert report.gaps[0].start == frame.index[row]
    assert report.gaps[0].missing_bars == 1
    assert out.attrs["report"] is report
    check_canonical(out)


def test_duplicates_keep_last_and_unsorted() -> None:
    frame = bars(4)
    dup = frame.iloc[[1]].copy()
    dup["volume"] = 99.0
    messy = pd.concat([frame.iloc[[2, 0, 1]], dup, frame.iloc[[3]]])
    with pytest.raises(
        DataError, match=r"not in time order: the bar at position 1 \(0-based\) is 2024-01-01 00"
    ):
        validate_ohlcv(messy, policy="strict")
    with pytest.raises(DataError, match=r"1 duplicate timestamp\(s\), first: 2024-01-01 01:00"):
        validate_ohlcv(messy.sort_index(kind="stable"), policy="strict")
    with pytest.warns(DataRepairWarning) as record:
        out, report = validate_ohlcv(messy, policy="repair")
    assert len(record) == 1
    assert report.sorted
    assert report.duplicates == (ts("2024-01-01 01:00"),)
    assert out.loc[ts("2024-01-01 01:00"), "volume"] == 99.0
    assert "differs from the kept row" in report.dropped[0].detail
    assert list(out.index) == list(frame.index)


def test_off_grid_bar_is_dropped() -> None:
    frame = bars(8, "15min")
    partial = frame.iloc[[-1]].copy()
    partial.index = partial.index + pd.Timedelta(seconds=62)
    messy = pd.concat([frame, partial])
    with pytest.raises(DataError, match="off_grid"):
        validate_ohlcv(messy, policy="strict")
    with pytest.warns(DataRepairWarning, match="1 off_grid"):
        out, report = validate_ohlcv(messy, policy="repair")
    assert report.dropped[0].timestamp == ts("2024-01-01 01:46:02")
    assert len(out) == 8


def test_all_rows_bad_raises() -> None:
    frame = bars(3)
    frame["close"] = np.nan
    with pytest.raises(DataError, match="every one of the 3 rows was dropped"):
        validate_ohlcv(frame, policy="repair")


def test_bad_policy_and_missing_symbol() -> None:
    with pytest.raises(ConfigError, match="policy must be"):
        validate_ohlcv(bars(), policy="fix")  # type: ignore[arg-type]
    frame = bars()
    frame.attrs = {}
    with pytest.raises(ConfigError, match="pass symbol="):
        validate_ohlcv(frame)


def test_gaps_are_flagged_not_filled_and_do_not_warn() -> None:
    frame = bars(10).drop(index=[ts("2024-01-01 03:00"), ts("2024-01-01 04:00")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, report = validate_ohlcv(frame, policy="repair")
    assert len(out) == 8
    assert [(g.start, g.end, g.missing_bars) for g in report.gaps] == [
        (ts("2024-01-01 03:00"), ts("2024-01-01 05:00"), 2)
    ]


def test_calendar_weekends_are_not_gaps_but_holidays_are() -> None:
    days = pd.bdate_range("2024-01-01", "2024-03-29", tz=UTC)
    holidays = [ts("2024-01-15"), ts("2024-02-19")]  # two Mondays
    idx = days.drop(holidays)
    gaps, calendar = find_gaps(idx, Timeframe.parse("1d"))
    assert calendar == "sessions learned from data (no bars on Sat, Sun)"
    assert [(g.start, g.end, g.missing_bars) for g in gaps] == [
        (ts("2024-01-15"), ts("2024-01-16"), 1),
        (ts("2024-02-19"), ts("2024-02-20"), 1),
    ]


def test_calendar_intraday_sessions() -> None:
    # 09:00-16:00 UTC hourly bars on weekdays; one missing hour on a Wednesday.
    hours = pd.date_range("2024-01-01", "2024-02-01", freq="h", tz=UTC)
    idx = hours[(hours.day_of_week < 5) & (hours.hour >= 9) & (hours.hour < 16)]
    idx = idx.drop(ts("2024-01-10 12:00"))
    gaps, calendar = find_gaps(idx, Timeframe.parse("1h"))
    assert calendar.startswith("sessions learned from data (no bars on Sat, Sun)")
    assert [(g.start, g.missing_bars) for g in gaps] == [(ts("2024-01-10 12:00"), 1)]


def test_short_data_uses_24_7() -> None:
    idx = pd.date_range("2024-01-05", periods=5, freq="D", tz=UTC).delete(2)
    gaps, calendar = find_gaps(idx, Timeframe.parse("1d"))
    assert calendar.startswith("24/7")
    assert [g.missing_bars for g in gaps] == [1]


def test_report_is_frozen_and_serialisable() -> None:
    frame = bars()
    frame.iloc[1, 3] = np.nan
    with pytest.warns(DataRepairWarning):
        _, report = validate_ohlcv(frame, policy="repair", notes=["from a test"])
    with pytest.raises(AttributeError):
        report.rows_out = 0  # type: ignore[misc]
    data = json.loads(json.dumps(report.to_dict()))
    assert data["dropped"] == [
        {"timestamp": "2024-01-01T01:00:00+00:00", "reason": "missing_value",
         "detail": "open=100.5 high=102.0 low=100.0 close=nan volume=10.0"}
    ]  # fmt: skip
    assert data["missing_bars"] == 1
    assert data["notes"] == ["from a test"]
    text = str(report)
    assert "6 rows in, 5 rows out" in text
    assert "note: from a test" in text


# ----------------------------------------------------------------- the real bundled files


def test_btc_15m_real_anomalies(btc_15m_path: Path) -> None:
    with pytest.warns(DataRepairWarning):
        frame = load_csv(btc_15m_path, symbol="BTC-USD")
    report: ValidationReport = frame.attrs["report"]
    assert (report.rows_in, report.rows_out) == (8721, 8686)
    assert report.sorted  # UTC conversion puts the +00:00 download before the +01:00 tail
    # The two downloads overlap 2021-10-27 06:00..13:45 UTC: 32 bars, 11 with different values.
    assert len(report.duplicates) == 32
    assert report.duplicates[0] == ts("2021-10-27 06:00")
    assert report.duplicates[-1] == ts("2021-10-27 13:45")
    dup_rows = [b for b in report.dropped if b.reason == "duplicate_timestamp"]
    assert sum("differs" in b.detail for b in dup_rows) == 11
    # Three partial "live" bars stamped off the 15-minute grid, each with volume 0.
    off = [b for b in report.dropped if b.reason == "off_grid"]
    assert [b.timestamp for b in off] == [
        ts("2021-10-27 13:46:02"), ts("2021-11-27 06:01:03"), ts("2021-12-29 13:50:02")
    ]  # fmt: skip
    assert report.dropped_by_reason() == {"duplicate_timestamp": 32, "off_grid": 3}
    assert [(g.start, g.missing_bars) for g in report.gaps] == [
        (ts("2021-11-16 06:45"), 1),
        (ts("2021-11-16 07:15"), 1),
        (ts("2021-11-24 03:45"), 4),
        (ts("2021-11-27 06:15"), 222),
        (ts("2021-12-01 03:45"), 9),
        (ts("2021-12-11 14:15"), 1),
        (ts("2021-12-14 21:15"), 3),
        (ts("2021-12-15 05:15"), 1),
        (ts("2021-12-15 12:15"), 1),
    ]
    assert report.missing_bars == 243
    assert report.zero_volume_bars == 2080
    assert report.calendar.startswith("24/7")
    assert frame.index[-1] == ts("2021-12-29 13:45")


def test_btc_1d_null_rows(btc_1d_path: Path) -> None:
    with pytest.raises(DataError, match=r"4 bar\(s\) fail validation \(4 missing_value\)"):
        load_csv(btc_1d_path, symbol="BTC-USD", validation="strict")
    with pytest.warns(DataRepairWarning, match="dropped 4 of 666 rows"):
        frame = load_csv(btc_1d_path, symbol="BTC-USD")
    report = frame.attrs["report"]
    assert [b.timestamp for b in report.dropped] == [
        ts("2020-04-17"), ts("2020-10-09"), ts("2020-10-12"), ts("2020-10-13")
    ]  # fmt: skip
    assert [(g.start, g.missing_bars) for g in report.gaps] == [
        (ts("2020-04-17"), 1), (ts("2020-10-09"), 1), (ts("2020-10-12"), 2)
    ]  # fmt: skip


def test_equity_holidays_are_reported(stocks_path: Path) -> None:
    frame = load_csv(stocks_path, symbol="AAPL", validation="strict")
    report = frame.attrs["report"]
    assert report.calendar == "sessions learned from data (no bars on Sat, Sun)"
    assert (len(report.gaps), report.missing_bars) == (118, 123)
    by_start = {g.start: g.missing_bars for g in report.gaps}
    assert by_start[ts("2001-09-11")] == 4  # markets closed after 9/11
    assert by_start[ts("2012-10-29")] == 2  # hurricane Sandy
    assert by_start[ts("2000-07-04")] == 1


def test_forex_weekend_is_not_a_gap(eurusd_path: Path) -> None:
    report = load_csv(eurusd_path, symbol="EURUSD", validation="strict").attrs["report"]
    assert report.calendar == "sessions learned from data (no bars on Sat)"
    assert (len(report.gaps), report.missing_bars) == (18, 32)
    assert max(report.gaps, key=lambda g: g.missing_bars).start == ts("2017-12-25 08:00")
