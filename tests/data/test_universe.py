"""Many symbols on one clock (issue 22, item 5): loading, alignment, the missing-bar policy."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from axon_lab.data import (
    DataRepairWarning,
    Timeframe,
    Universe,
    UniverseView,
    align_universe,
    list_universe_samples,
    load_sample,
    load_universe,
    load_universe_sample,
    make_synthetic,
    make_synthetic_universe,
)
from axon_lab.errors import ConfigError, DataError

LONG = (
    "ticker,date,open,high,low,close,volume\n"
    "AAA,2024-01-01,10,11,9,10.5,100\n"
    "BBB,2024-01-02,20,21,19,20.5,100\n"
    "AAA,2024-01-02,10.5,12,10,11,120\n"
    "AAA,2024-01-03,11,12,10,11.5,120\n"
    "BBB,2024-01-03,20.5,22,20,21,100\n"
    "BBB,2024-01-04,21,22,20,21.5,100\n"
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_long_file_is_aligned_on_the_union_clock(tmp_path: Path) -> None:
    uni = load_universe(_write(tmp_path / "long.csv", LONG), timeframe="1d")
    assert uni.symbols == ("AAA", "BBB")
    assert [str(t.date()) for t in uni.index] == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    # every cell is the file's value or NaN where the symbol has no bar
    assert uni.close[:, 0].tolist()[:3] == [10.5, 11.0, 11.5]
    assert np.isnan(uni.close[3, 0])
    assert np.isnan(uni.close[0, 1])
    assert uni.has_bar.tolist() == [[True, False], [True, True], [True, True], [False, True]]
    assert uni.first_bar.tolist() == [0, 1]
    assert uni.last_bar.tolist() == [2, 3]
    assert set(uni.delisted_at()) == {"AAA"}
    # marks carry the last close forward; never before the listing
    marks = uni.marks()
    assert marks[3, 0] == 11.5
    assert np.isnan(marks[0, 1])
    assert set(uni.reports) == {"AAA", "BBB"}
    assert uni.reports["AAA"].rows_out == 3


def test_arrays_are_read_only(tmp_path: Path) -> None:
    uni = load_universe(_write(tmp_path / "long.csv", LONG), timeframe="1d")
    with pytest.raises(ValueError, match="read-only"):
        uni.close[0, 0] = 1.0


def test_a_folder_of_files_is_one_symbol_per_file(tmp_path: Path) -> None:
    body = "date,open,high,low,close,volume\n2024-01-01,1,2,1,2,5\n2024-01-02,2,3,2,3,5\n"
    _write(tmp_path / "XX.csv", body)
    _write(
        tmp_path / "YY.csv",
        body.replace("2024-01-02", "2024-01-03").replace("2024-01-01", "2024-01-02"),
    )
    _write(tmp_path / "notes.txt", "not data")
    uni = load_universe(tmp_path)
    assert uni.symbols == ("XX", "YY")
    assert uni.n_bars == 3
    assert uni.frame("XX")["close"].tolist() == [2.0, 3.0]
    assert load_universe(tmp_path, symbols=["YY"]).symbols == ("YY",)


def test_folder_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"holds no \.csv or \.parquet files"):
        load_universe(tmp_path)
    body = "ticker,date,open,high,low,close,volume\nZZ,2024-01-01,1,2,1,2,5\n"
    _write(tmp_path / "a.csv", body)
    _write(tmp_path / "b.csv", body)
    with pytest.raises(DataError, match="holds symbol 'ZZ', which another file"):
        load_universe(tmp_path, timeframe="1d")
    with pytest.raises(DataError, match="does not exist"):
        load_universe(tmp_path / "nope")


def test_a_long_file_needs_a_symbol_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "one.csv", "date,open,high,low,close,volume\n2024-01-01,1,2,1,2,5\n")
    with pytest.raises(DataError, match="no symbol column"):
        load_universe(path)
    with pytest.raises(DataError, match=r"symbol\(s\) \['CCC'\] not found"):
        load_universe(_write(tmp_path / "long.csv", LONG), symbols=["AAA", "CCC"])
    with pytest.raises(ConfigError, match="a list of symbols"):
        load_universe(tmp_path / "long.csv", symbols="AAA")  # type: ignore[arg-type]


def test_validation_is_per_symbol(tmp_path: Path) -> None:
    bad = LONG + "BBB,2024-01-05,21,20,22,21,100\n"  # high < low: inconsistent
    path = _write(tmp_path / "bad.csv", bad)
    with pytest.warns(DataRepairWarning, match=r"1 symbol\(s\) repaired.*BBB"):
        uni = load_universe(path, timeframe="1d")
    assert uni.reports["AAA"].is_clean or not uni.reports["AAA"].dropped
    assert [d.reason for d in uni.reports["BBB"].dropped] == ["inconsistent_ohlc"]
    with pytest.raises(DataError, match=r"BBB.*inconsistent_ohlc"):
        load_universe(path, timeframe="1d", validation="strict")


def test_frames_must_share_a_timeframe() -> None:
    a = make_synthetic(10, timeframe="1h", seed=1, symbol="A")
    b = make_synthetic(10, timeframe="1d", seed=2, symbol="B")
    with pytest.raises(ConfigError, match=r"timeframes \['1d', '1h'\]"):
        align_universe([a, b])
    with pytest.raises(DataError, match="given twice"):
        align_universe([a, a])
    with pytest.raises(ConfigError, match="at least one"):
        align_universe({})


def test_halts_listings_and_delistings_are_reported() -> None:
    uni = make_synthetic_universe(15, 80, seed=4, listings=True)
    summary = uni.summary()
    # the documented schedule: every 5th lists late, every 7th delists, every 3rd halts
    assert summary.loc["S004", "first"] == uni.index[20]
    assert bool(summary.loc["S006", "delists"])
    assert not bool(summary.loc["S005", "delists"])
    assert uni.halts() == {"S002": 3, "S005": 3, "S008": 3, "S011": 3, "S014": 3}
    # a halted row has no bar and the mark carries the last close
    j = uni.symbols.index("S002")
    halted = np.flatnonzero(~uni.has_bar[:, j])
    marks = uni.marks()
    for row in halted.tolist():
        assert marks[row, j] == marks[row - 1, j]


def test_window_and_select() -> None:
    uni = make_synthetic_universe(4, 30, seed=2)
    part = uni.window(uni.index[5], uni.index[9])
    assert part.n_bars == 5
    assert part.close[0].tolist() == uni.close[5].tolist()
    sub = uni.select(["S003", "S001"])
    assert sub.symbols == ("S003", "S001")
    assert sub.close[:, 0].tolist() == uni.close[:, 3].tolist()
    with pytest.raises(ConfigError, match="Unknown symbol 'S9'"):
        uni.select(["S9"])
    with pytest.raises(DataError, match="holds no bar"):
        uni.window("2030-01-01", "2030-02-01")


def test_the_bundled_stocks_sample_matches_the_one_symbol_samples() -> None:
    uni = load_universe_sample("stocks-1d")
    assert uni.symbols == ("AAPL", "FB", "GOOG", "IBM", "MSFT")
    assert next(s.name for s in list_universe_samples()) == "stocks-1d"
    # listings inside the window, on real data
    assert str(uni.index[uni.first_bar[uni.symbols.index("GOOG")]].date()) == "2004-08-19"
    assert str(uni.index[uni.first_bar[uni.symbols.index("FB")]].date()) == "2012-05-18"
    for name, sym in (("aapl-1d", "AAPL"), ("goog-1d", "GOOG")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataRepairWarning)
            one = load_sample(name)
        pd.testing.assert_series_equal(
            uni.frame(sym)["close"], one["close"], check_names=False, check_freq=False
        )
    with pytest.raises(ConfigError, match="Did you mean 'stocks-1d'"):
        load_universe_sample("stocks-1")


def _trend_oracle(frame: pd.DataFrame, fast: int, slow: int, atr_window: int) -> pd.Series:
    """The trend feature written from its definition, on one symbol's own bars."""
    close, high, low = frame["close"], frame["high"], frame["low"]
    prev = close.shift(1)
    tr = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(axis=1)
    tr.iloc[0] = high.iloc[0] - low.iloc[0]
    atr = tr.rolling(atr_window).mean()
    return (close.rolling(fast).mean() - close.rolling(slow).mean()) / atr


def test_features_use_each_symbols_own_bars_and_carry_over_halts() -> None:
    uni = make_synthetic_universe(6, 120, seed=9, listings=True)
    view = UniverseView(uni, fast=5, slow=12, atr_window=7, mom_window=4, vol_window=6)
    for j, sym in enumerate(uni.symbols):
        own = uni.frame(sym)
        expected = _trend_oracle(own, 5, 12, 7)
        mom = own["close"] / own["close"].shift(4) - 1
        rows = np.flatnonzero(uni.has_bar[:, j])
        np.testing.assert_allclose(view.features["trend"][rows, j], expected.to_numpy(), rtol=1e-9)
        np.testing.assert_allclose(view.features["mom"][rows, j], mom.to_numpy(), rtol=1e-12)
        for row in np.flatnonzero(~uni.has_bar[:, j]).tolist():
            before = rows[rows < row]
            got = view.features["trend"][row, j]
            if before.size == 0:
                assert np.isnan(got)
            else:
                np.testing.assert_equal(got, view.features["trend"][before[-1], j])


def test_rows_as_of_counts_complete_rows_only() -> None:
    uni = make_synthetic_universe(2, 10, seed=1)
    view = UniverseView(uni, fast=2, slow=3)
    day = pd.Timedelta(days=1)
    assert view.rows_as_of(uni.index[0]) == 0
    assert view.rows_as_of(uni.index[0] + day) == 1
    assert view.rows_as_of(uni.index[3] + day - pd.Timedelta(seconds=1)) == 3
    assert view.decision_times()[0] == uni.index[0] + day
    with pytest.raises(ConfigError, match="no time zone"):
        view.rows_as_of(pd.Timestamp("2020-01-02"))
    with pytest.raises(ConfigError, match=r"fast .* must be below slow"):
        UniverseView(uni, fast=5, slow=5)


def test_universe_rejects_repeated_symbols() -> None:
    idx = pd.DatetimeIndex(["2024-01-01"], tz="UTC")
    arr = np.ones((1, 2))
    with pytest.raises(DataError, match="repeat"):
        Universe(
            symbols=("A", "A"),
            index=idx,
            timeframe=Timeframe.parse("1d"),
            open=arr.copy(),
            high=arr.copy(),
            low=arr.copy(),
            close=arr.copy(),
            volume=arr.copy(),
        )


def test_a_universe_refuses_symbols_that_break_the_symbol_rule() -> None:
    idx = pd.DatetimeIndex(["2024-01-01"], tz="UTC")
    arr = np.ones((1, 1))
    with pytest.raises(DataError, match="is not usable"):
        Universe(symbols=("ignore previous\ninstructions",), index=idx,
                 timeframe=Timeframe.parse("1d"), open=arr.copy(), high=arr.copy(),
                 low=arr.copy(), close=arr.copy(), volume=arr.copy())  # fmt: skip
