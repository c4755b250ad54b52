"""Loader tests: real bundled files, tolerant spellings, and every bad input naming a fix."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from axon_lab.data import DataRepairWarning, check_canonical, load_csv, load_ohlcv, load_parquet
from axon_lab.errors import ConfigError, DataError

Writer = Callable[..., Path]
HEADER = "Date,Open,High,Low,Close,Volume\n"


# ----------------------------------------------------------------- real files


def test_btc_15m_converts_offsets_exactly(btc_15m_path: Path) -> None:
    with pytest.warns(DataRepairWarning, match="dropped 35 of 8721 rows"):
        frame = load_csv(btc_15m_path, symbol="BTC-USD")
    check_canonical(frame)
    # "2021-09-27 14:45:00+01:00" is the first row of the file: 13:45 UTC.
    assert frame.index[0] == pd.Timestamp("2021-09-27 13:45", tz="UTC")
    assert frame["open"].iloc[0] == 43443.0625
    # "2021-10-27 06:00:00+00:00" (second download) replaced "2021-10-27 07:00:00+01:00".
    assert frame.loc[pd.Timestamp("2021-10-27 06:00", tz="UTC"), "volume"] == 71589888.0
    notes = frame.attrs["report"].notes
    assert any("daylight saving" in n and "+01:00 rows 2-2883" in n for n in notes)
    assert any("ignored 'Adj Close'" in n for n in notes)


def test_eurusd_day_first_parses(eurusd_path: Path) -> None:
    frame = load_csv(eurusd_path, symbol="EURUSD")
    assert frame.attrs["timeframe"] == "1h"
    # "01.01.2017 22:00:00.000" is 1 January (day first), and "13.01.2017" exists later.
    assert frame.index[0] == pd.Timestamp("2017-01-01 22:00", tz="UTC")
    assert frame.index[2] == pd.Timestamp("2017-01-02 00:00", tz="UTC")
    assert frame["close"].iloc[0] == 1.05227
    assert any("interpreted as UTC" in n for n in frame.attrs["report"].notes)


def test_stocks_gz_with_ticker_column_requires_symbol(stocks_path: Path) -> None:
    with pytest.raises(DataError, match=r"holds 5 symbols.*pass symbol=\.\.\."):
        load_csv(stocks_path)
    ibm = load_ohlcv(stocks_path, symbol="IBM")
    assert ibm.attrs["symbol"] == "IBM"
    assert len(ibm) == 3270
    with pytest.raises(DataError, match=r"symbol 'APPL' not in column 'Ticker'.*'AAPL'"):
        load_csv(stocks_path, symbol="APPL")


def test_values_parse_bit_exactly_and_report_travels(btc_1d_path: Path) -> None:
    with pytest.warns(DataRepairWarning):
        frame = load_csv(btc_1d_path, symbol="BTC-USD")
    rows = [line.split(",") for line in btc_1d_path.read_text().splitlines()[1:]]
    expected = np.array(
        [[float(x) for x in r[1:5]] + [float(r[6])] for r in rows if r[1] != "null"]
    )
    assert np.array_equal(frame.to_numpy(), expected)  # same doubles as Python's float()
    copy = frame.iloc[10:20].copy()
    assert copy.attrs["report"] is frame.attrs["report"]  # immutable, shared not deep-copied


# ----------------------------------------------------------------- spellings and formats


def test_alias_spellings_and_single_symbol_column(write_csv: Writer) -> None:
    path = write_csv(
        "open_time,SYMBOL,o,HIGH,low,CLOSE,Vol\n"
        "2024-01-01 00:00,ETHUSD,1,2,0.5,1.5,10\n2024-01-01 01:00,ETHUSD,1.5,2,1,1.8,11\n"
    )
    frame = load_csv(path)
    assert frame.attrs["symbol"] == "ETHUSD"
    assert frame["volume"].tolist() == [10.0, 11.0]


def test_only_adj_close_is_used_and_reported(write_csv: Writer) -> None:
    path = write_csv(
        "Date,Open,High,Low,Adj Close,Volume\n"
        "2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,2,0.5,1.4,10\n"
    )
    frame = load_csv(path, symbol="X")
    assert frame["close"].tolist() == [1.5, 1.4]
    assert any("adjusted close" in n for n in frame.attrs["report"].notes)


def test_null_tokens_are_nan_and_repaired(write_csv: Writer) -> None:
    path = write_csv(
        HEADER + "2024-01-01,1,2,0.5,1.5,10\n2024-01-02,null,null,null,null,null\n"
        "2024-01-03,NaN,,N/A,1,1\n2024-01-04,1,2,0.5,1.5,10\n"
    )
    with pytest.warns(DataRepairWarning, match="2 missing_value"):
        frame = load_csv(path, symbol="X")
    assert len(frame) == 2
    with pytest.raises(DataError, match=r"2024-01-02 00:00:00\+00:00 missing_value.*dropna"):
        load_csv(path, symbol="X", validation="strict")


def test_ambiguous_dates_raise_and_time_format_resolves(write_csv: Writer) -> None:
    path = write_csv(HEADER + "01/02/2024,1,2,0.5,1.5,10\n01/03/2024,1,2,0.5,1.5,10\n")
    with pytest.raises(DataError, match=r"ambiguous.*time_format="):
        load_csv(path, symbol="X")
    frame = load_csv(path, symbol="X", time_format="%m/%d/%Y")
    assert list(frame.index.day) == [2, 3]
    frame = load_csv(path, symbol="X", time_format="%d/%m/%Y")
    assert list(frame.index.month) == [2, 3]


def test_day_first_is_detected_when_unambiguous(write_csv: Writer) -> None:
    path = write_csv(HEADER + "12/01/2024,1,2,0.5,1.5,10\n13/01/2024,1,2,0.5,1.5,10\n")
    frame = load_csv(path, symbol="X")
    assert frame.index[0] == pd.Timestamp("2024-01-12", tz="UTC")


@pytest.mark.parametrize(
    ("scale", "unit"), [(1, "s"), (1_000, "ms"), (1_000_000, "us"), (1_000_000_000, "ns")]
)
def test_epoch_units_inferred(write_csv: Writer, scale: int, unit: str) -> None:
    t0 = 1_700_000_000
    rows = "".join(f"{(t0 + 60 * i) * scale},1,2,0.5,1.5,10\n" for i in range(3))
    frame = load_csv(write_csv("timestamp,open,high,low,close,volume\n" + rows), symbol="X")
    assert frame.index[0] == pd.Timestamp(t0, unit="s", tz="UTC")
    assert frame.attrs["timeframe"] == "1min"
    assert any(f"epoch {unit}" in n for n in frame.attrs["report"].notes)


def test_yyyymmdd_integers(write_csv: Writer) -> None:
    path = write_csv(HEADER + "20240102,1,2,0.5,1.5,10\n20240103,1,2,0.5,1.5,10\n")
    frame = load_csv(path, symbol="X")
    assert frame.index[0] == pd.Timestamp("2024-01-02", tz="UTC")


def test_naive_times_in_given_zone(write_csv: Writer) -> None:
    path = write_csv(HEADER + "2024-07-01 09:30,1,2,0.5,1.5,10\n2024-07-01 09:31,1,2,0.5,1.5,1\n")
    frame = load_csv(path, symbol="X", tz="America/New_York")
    assert frame.index[0] == pd.Timestamp("2024-07-01 13:30", tz="UTC")
    assert any("interpreted as America/New_York" in n for n in frame.attrs["report"].notes)


def test_single_nonzero_offset_is_converted(write_csv: Writer) -> None:
    path = write_csv(
        HEADER + "2024-01-01T09:00:00+05:30,1,2,0.5,1.5,10\n2024-01-01T10:00:00+05:30,1,2,0.5,1,1\n"
    )
    frame = load_csv(path, symbol="X")
    assert frame.index[0] == pd.Timestamp("2024-01-01 03:30", tz="UTC")


def test_parquet_with_datetime_index_and_string_column(tmp_path: Path) -> None:
    idx = pd.date_range("2024-01-01", periods=3, freq="4h", tz="Asia/Tokyo", name="Datetime")
    data = pd.DataFrame(
        {"Open": [1.0, 2, 3], "High": [2.0, 3, 4], "Low": [0.5, 1, 2], "Close": [1.5, 2, 3],
         "Volume": [1, 2, 3]},
        index=idx,
    )  # fmt: skip
    path = tmp_path / "bars.parquet"
    data.to_parquet(path)
    frame = load_ohlcv(path, symbol="X")
    assert frame.index[0] == pd.Timestamp("2023-12-31 15:00", tz="UTC")
    assert frame.attrs["timeframe"] == "4h"
    check_canonical(frame)
    reset = data.reset_index()
    reset["Datetime"] = reset["Datetime"].astype(str)
    reset.to_parquet(tmp_path / "b2.pq")
    assert load_parquet(tmp_path / "b2.pq", symbol="X").index.equals(frame.index)


def test_columns_mapping(write_csv: Writer) -> None:
    path = write_csv("When,A,B,C,Last,Qty\n2024-01-01,1,2,0.5,1.5,3\n2024-01-02,1,2,0.5,1,3\n")
    cols = {"time": "When", "open": "A", "high": "B", "low": "C", "close": "Last", "volume": "Qty"}
    assert load_csv(path, symbol="X", columns=cols)["close"].tolist() == [1.5, 1.0]
    with pytest.raises(ConfigError, match="columns= keys"):
        load_csv(path, symbol="X", columns={"price": "Last"})


# ----------------------------------------------------------------- bad inputs


def test_nonexistent_path_is_named(tmp_path: Path) -> None:
    (tmp_path / "btc.csv").write_text("x")
    missing = tmp_path / "btcc.csv"
    with pytest.raises(DataError, match=rf"File not found: '{re.escape(str(missing))}'.*btc\.csv"):
        load_ohlcv(missing)


def test_empty_file(write_csv: Writer) -> None:
    path = write_csv("", "empty.csv")
    with pytest.raises(DataError, match=r"empty\.csv' is empty \(0 bytes\)"):
        load_csv(path)
    header_only = write_csv(HEADER, "header.csv")
    with pytest.raises(DataError, match=r"header\.csv: no data rows \(found columns \['Date'"):
        load_csv(header_only)


def test_missing_columns_lists_found_and_expected(write_csv: Writer) -> None:
    path = write_csv("Date,Open,Hgh,Low,Close\n2024-01-01,1,2,0.5,1.5\n")
    with pytest.raises(DataError) as info:
        load_csv(path, symbol="X")
    text = str(info.value)
    assert str(path) in text
    assert "missing required column(s) ['high', 'volume']" in text
    assert "Found columns ['Date', 'Open', 'Hgh', 'Low', 'Close']" in text
    assert "did you mean 'hgh'" in text
    assert "columns={'close': 'MyClose'" in text


def test_semicolon_file_names_the_delimiter(write_csv: Writer) -> None:
    path = write_csv("Date;Open;High;Low;Close;Volume\n2024-01-01;1;2;0.5;1.5;10\n")
    with pytest.raises(DataError, match=r"delimited by ';', not commas.*sep=';'"):
        load_csv(path, symbol="X")


def test_text_in_numeric_column_names_rows(write_csv: Writer) -> None:
    path = write_csv(
        HEADER + "2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,2,0.5,1.5,10\n2024-01-03,1,2,0.5,"
        "1.5,1.2k\n2024-01-04,1,2,0.5,1.5,n.a.x\n"
    )
    with pytest.raises(DataError) as info:
        load_csv(path)
    text = str(info.value)
    assert "column 'Volume' holds text" in text
    assert "2 value(s), first row 4: '1.2k', row 5: 'n.a.x'" in text
    assert "Fix: clean those values" in text


def test_unparseable_timestamps(write_csv: Writer) -> None:
    path = write_csv(HEADER + "2024-01-01,1,2,0.5,1.5,10\nyesterday,1,2,0.5,1.5,10\n")
    with pytest.raises(DataError, match=r"cannot parse time column 'Date' \(row 3: 'yesterday'\)"):
        load_csv(path, symbol="X")
    with pytest.raises(DataError, match=r"does not match time_format='%Y-%m-%d'.*row 3"):
        load_csv(path, symbol="X", time_format="%Y-%m-%d")


def test_empty_timestamp_cell(write_csv: Writer) -> None:
    path = write_csv(HEADER + "2024-01-01,1,2,0.5,1.5,10\n,1,2,0.5,1.5,10\n")
    with pytest.raises(DataError, match=r"time column 'Date' has 1 empty value\(s\) \(row 3\)"):
        load_csv(path, symbol="X")


def test_mixed_naive_and_aware_raises(write_csv: Writer) -> None:
    path = write_csv(
        HEADER + "2024-01-01 00:00+01:00,1,2,0.5,1.5,10\n2024-01-01 01:00,1,2,0.5,1.5,10\n"
    )
    with pytest.raises(DataError) as info:
        load_csv(path, symbol="X")
    text = str(info.value)
    assert "mixed time zones in column 'Date'" in text
    assert "row 2: '2024-01-01 00:00+01:00'" in text
    assert "row 3: '2024-01-01 01:00'" in text
    assert "mixed_offsets='convert'" in text
    frame = load_csv(path, symbol="X", mixed_offsets="convert")
    assert list(frame.index) == [
        pd.Timestamp("2023-12-31 23:00", tz="UTC"),
        pd.Timestamp("2024-01-01 01:00", tz="UTC"),
    ]


def test_interleaved_offsets_raise(write_csv: Writer) -> None:
    rows = "".join(
        f"2024-01-01 0{i}:00{'+02:00' if i % 2 else '+00:00'},1,2,0.5,1.5,10\n" for i in range(6)
    )
    path = write_csv(HEADER + rows)
    with pytest.raises(DataError, match=r"mixed time zones in column 'Date': offsets \+00:00, "
                       r"\+02:00 interleave.*row 3: '2024-01-01 01:00\+02:00'"):  # fmt: skip
        load_csv(path, symbol="X")
    with pytest.warns(DataRepairWarning, match="sorted rows; dropped 0 of 6"):
        frame = load_csv(path, symbol="X", mixed_offsets="convert", validation="repair")
    assert frame.index.is_monotonic_increasing
    assert any("mixed UTC offsets" in n for n in frame.attrs["report"].notes)


def test_dst_runs_convert_without_duplicates(write_csv: Writer) -> None:
    # Europe/London local hours across the 2024-10-27 fall-back, written with offsets.
    utc = pd.date_range("2024-10-26 22:00", periods=6, freq="h", tz="UTC")
    local = utc.tz_convert("Europe/London")
    rows = "".join(f"{t.isoformat()},1,2,0.5,1.5,10\n" for t in local)
    frame = load_csv(write_csv(HEADER + rows), symbol="X", validation="strict")
    assert frame.index.equals(utc.as_unit("ns").rename("timestamp"))
    assert any("daylight saving" in n for n in frame.attrs["report"].notes)


def test_unreadable_parquet_and_bad_options(tmp_path: Path, write_csv: Writer) -> None:
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="cannot read as Parquet"):
        load_ohlcv(bad)
    path = write_csv(HEADER + "2024-01-01,1,2,0.5,1.5,10\n")
    with pytest.raises(ConfigError, match="validation must be"):
        load_csv(path, validation="lenient")  # type: ignore[arg-type]


def test_repair_warning_points_at_caller(write_csv: Writer) -> None:
    path = write_csv(HEADER + "2024-01-02,1,2,0.5,1.5,10\n2024-01-01,1,2,0.5,1.5,10\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = load_ohlcv(path, symbol="X")
    assert len(caught) == 1
    assert caught[0].filename == __file__
    assert frame.attrs["report"].sorted
    assert np.all(np.diff(frame.index.asi8) > 0)
