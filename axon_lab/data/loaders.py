r"""Load OHLCV data from CSV or Parquet into a validated canonical frame.

Column names are matched case-insensitively after normalising spaces, dashes and dots to
underscores: ``Open/OPEN/o``, ``High/h``, ``Low/l``, ``Close/c``, ``Adj Close/adj_close``,
``Volume/Vol/v``; the time column is one of ``timestamp, date, datetime, time, open_time, ts``
(or a datetime index in Parquet). If both ``Close`` and ``Adj Close`` exist, ``Close`` is used
and the report notes that the adjusted close was ignored; if only ``Adj Close`` exists it is used
and the report says so. A ``ticker``/``symbol`` column selects the symbol.

Strings ``""``, ``"null"``, ``"NaN"``, ``"NA"``, ``"N/A"``, ``"None"`` are missing values; any other
text in a numeric column is an error that names the column, the rows and the values.

Examples:
    >>> import tempfile, pathlib, warnings
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.csv"
    >>> _ = path.write_text("Date,Open,High,Low,Close,Volume\n"
    ...                     "2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11,120\n")
    >>> frame = load_ohlcv(path, symbol="DEMO")
    >>> frame.attrs["symbol"], frame.attrs["timeframe"], list(frame.columns)
    ('DEMO', '1d', ['open', 'high', 'low', 'close', 'volume'])
    >>> frame.index[0]
    Timestamp('2024-01-02 00:00:00+0000', tz='UTC')
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from axon_lab.data._timeparse import MixedOffsets, parse_times
from axon_lab.data.frame import INDEX_NAME, OHLCV_COLUMNS, TimeframeLike, check_symbol
from axon_lab.data.validation import Policy, validate_ohlcv
from axon_lab.errors import ConfigError, DataError

__all__ = ["load_csv", "load_ohlcv", "load_parquet"]

_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "open": ("open", "o", "open_price", "opening_price"),
    "high": ("high", "h", "high_price", "max"),
    "low": ("low", "l", "low_price", "min"),
    "close": ("close", "c", "close_price", "closing_price", "last"),
    "adj_close": ("adj_close", "adjclose", "adjusted_close", "adj_close_price"),
    "volume": ("volume", "vol", "v", "volume_traded", "base_volume"),
    "time": ("timestamp", "date", "datetime", "time", "open_time", "ts", "date_time", "opentime"),
    "symbol": ("symbol", "ticker"),
}
_NA_TOKENS: Final = frozenset({"", "null", "nan", "na", "n/a", "none", "#n/a"})
_NA_VALUES: Final = sorted(
    {v for t in _NA_TOKENS for v in (t, t.upper(), t.capitalize())} | {"NaN", "N/a"}
)
_SHOW: Final = 5

PathLikeStr = str | PathLike[str]


def _norm(name: object) -> str:
    return re.sub(r"[\s\-.]+", "_", str(name).strip()).lower()


def _find(columns: list[str], role: str) -> str | None:
    normed = {_norm(c): c for c in columns}
    for alias in _ALIASES[role]:
        if alias in normed:
            return normed[alias]
    return None


def _check_path(path: PathLikeStr) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        near = (
            difflib.get_close_matches(p.name, [c.name for c in p.parent.iterdir()], n=3)
            if p.parent.is_dir()
            else []
        )
        hint = f" Did you mean {', '.join(repr(str(p.parent / n)) for n in near)}?" if near else ""
        raise DataError(f"File not found: {str(p)!r}.{hint} Check the path.")
    if not p.is_file():
        raise DataError(f"{str(p)!r} is not a file. Pass the path of a CSV or Parquet file.")
    if p.stat().st_size == 0:
        raise DataError(f"{str(p)!r} is empty (0 bytes). Check that the download finished.")
    return p


def _to_float(raw: pd.Series, column: str, where: str, fix_arg: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise DataError(f"{where}: column {column!r} is boolean, not numeric.")
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return np.asarray(raw, dtype=np.float64)
    text = raw.astype("string").str.strip()
    is_na = text.isna() | text.str.lower().isin(_NA_TOKENS)
    numbers = pd.to_numeric(text.mask(is_na), errors="coerce")
    bad = numbers.isna() & ~is_na
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        shown = ", ".join(f"row {i + 2}: {text.iloc[i]!r}" for i in rows[:_SHOW])
        raise DataError(
            f"{where}: column {column!r} holds text where numbers are expected: {int(bad.sum())} "
            f"value(s), first {shown}. Fix: clean those values (thousands separators, currency "
            f"signs, stray text) or map the right column with {fix_arg}."
        )
    return np.asarray(numbers, dtype=np.float64)


def _build(
    raw: pd.DataFrame,
    *,
    where: str,
    source: str,
    symbol: str | None,
    timeframe: TimeframeLike | None,
    validation: Policy,
    tz: str,
    time_format: str | None,
    mixed_offsets: MixedOffsets,
    columns: Mapping[str, str] | None,
    stacklevel: int,
) -> pd.DataFrame:
    if validation not in ("strict", "repair"):
        raise ConfigError(f"validation must be 'strict' or 'repair', got {validation!r}.")
    if mixed_offsets not in ("raise", "convert"):
        raise ConfigError(f"mixed_offsets must be 'raise' or 'convert', got {mixed_offsets!r}.")
    if raw.empty:
        raise DataError(f"{where}: no data rows (found columns {list(raw.columns)}).")
    notes: list[str] = []
    found = [str(c) for c in raw.columns]
    mapping = {role: _find(found, role) for role in _ALIASES}
    for role, name in (columns or {}).items():
        if role not in _ALIASES:
            raise ConfigError(f"columns= keys must be among {sorted(_ALIASES)}, got {role!r}.")
        if name not in found:
            raise DataError(f"{where}: columns={{{role!r}: {name!r}}} but found only {found}.")
        mapping[role] = name

    if mapping["close"] is None and mapping["adj_close"] is not None:
        mapping["close"] = mapping["adj_close"]
        notes.append(f"no close column; used {mapping['adj_close']!r} (adjusted close) as close")
    elif mapping["close"] is not None and mapping["adj_close"] is not None:
        notes.append(f"used {mapping['close']!r} as close; ignored {mapping['adj_close']!r}")
    missing = [r for r in ("open", "high", "low", "close", "volume") if mapping[r] is None]
    if mapping["time"] is None and not isinstance(raw.index, pd.DatetimeIndex):
        missing.insert(0, "time")
    if missing:
        details = []
        for role in missing:
            near = difflib.get_close_matches(role, [_norm(c) for c in found], n=2, cutoff=0.6)
            hint = f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""
            details.append(f"{role}: one of {list(_ALIASES[role][:4])}{hint}")
        sep = next((d for d in (";", "\t", "|") if len(found) == 1 and d in found[0]), None)
        if sep is not None:
            raise DataError(
                f"{where}: found a single column {found[0][:60]!r}: the file seems to be "
                f"delimited by {sep!r}, not commas. Fix: convert it to comma-separated CSV, e.g. "
                f"pd.read_csv(path, sep={sep!r}).to_csv('bars.csv', index=False)."
            )
        raise DataError(
            f"{where}: missing required column(s) {missing}. Found columns {found}. Expected "
            f"spellings (case-insensitive) - {'; '.join(details)}. Fix: rename the columns or "
            "pass columns={'close': 'MyClose', ...}."
        )

    sym_col = mapping["symbol"]
    if sym_col is not None:
        tickers = raw[sym_col].astype("string").str.strip()
        present = sorted(str(t) for t in tickers.dropna().unique())
        if symbol is not None:
            if symbol not in present:
                near = difflib.get_close_matches(symbol, present, n=3)
                hint = f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""
                raise DataError(
                    f"{where}: symbol {symbol!r} not in column {sym_col!r} "
                    f"(has {present[:20]}).{hint}"
                )
            raw = raw.loc[(tickers == symbol).to_numpy()]
            if len(present) > 1:
                notes.append(f"kept the {len(raw)} rows of {symbol!r} from column {sym_col!r}")
        elif len(present) == 1:
            symbol = present[0]
        else:
            raise DataError(
                f"{where}: column {sym_col!r} holds {len(present)} symbols ({present[:20]}). "
                "Fix: pass symbol=... to pick one, e.g. symbol="
                f"{present[0]!r}."
            )
    if symbol is None:
        symbol = Path(source).name.split(".")[0]
        notes.append(f"symbol taken from the file name: {symbol!r} (pass symbol=... to set it)")
        hint = "pass symbol='MY-BARS' (or rename the file: the symbol was taken from its name)"
    elif sym_col is not None:
        hint = f"pass symbol=... or correct column {sym_col!r}"
    else:
        hint = "pass a symbol such as symbol='BTC-USD'"
    try:
        check_symbol(symbol, hint=hint)  # here, not at the first order record
    except DataError as exc:
        raise DataError(f"{where}: {exc}") from None

    time_col = mapping["time"]
    times_raw = raw[time_col] if time_col is not None else pd.Series(raw.index, index=raw.index)
    utc_ns = parse_times(
        times_raw.reset_index(drop=True),
        column=str(time_col or raw.index.name or "index"),
        where=where,
        tz=tz,
        time_format=time_format,
        mixed_offsets=mixed_offsets,
        notes=notes,
    )
    fix_arg = "columns={...}"
    data = {
        col: _to_float(raw[str(mapping[col])].reset_index(drop=True), str(mapping[col]), where,
                       fix_arg)
        for col in OHLCV_COLUMNS
    }  # fmt: skip
    index = pd.DatetimeIndex(pd.to_datetime(utc_ns, unit="ns", utc=True), name=INDEX_NAME)
    frame = pd.DataFrame(data, index=index.as_unit("ns"))
    frame.attrs = {"symbol": symbol}
    out, _ = validate_ohlcv(
        frame,
        policy=validation,
        timeframe=timeframe,
        symbol=symbol,
        notes=notes,
        source=source,
        _stacklevel=stacklevel,
    )
    return out


def load_csv(
    path: PathLikeStr,
    *,
    symbol: str | None = None,
    timeframe: TimeframeLike | None = None,
    validation: Policy = "repair",
    tz: str = "UTC",
    time_format: str | None = None,
    mixed_offsets: MixedOffsets = "raise",
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    r"""Load an OHLCV CSV (also ``.csv.gz``, ``.zip``, ...) into a canonical frame.

    Args:
        path: The file.
        symbol: Symbol to keep (filters a ``ticker``/``symbol`` column) or to record; defaults to
            the only symbol in the file or the file name (noted in the report).
        timeframe: Bar duration; detected when None.
        validation: ``"repair"`` (drop bad rows, report, warn once) or ``"strict"`` (raise).
        tz: Zone in which naive timestamps are interpreted.
        time_format: strftime format of the time column, overriding detection.
        mixed_offsets: ``"raise"`` on mixed UTC offsets that are not DST-like, or ``"convert"``.
        columns: Explicit column mapping, e.g. ``{"close": "Last", "time": "When"}``.

    Returns:
        The canonical frame; ``frame.attrs["report"]`` holds its ValidationReport.

    Raises:
        DataError: Missing or empty file, missing columns, text in numeric columns,
            unparseable/ambiguous/mixed-zone times, or (strict) invalid bars.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "eurusd.csv"
        >>> _ = p.write_text("Time,Open,High,Low,Close,Volume\n"
        ...                  "13.01.2017 22:00:00.000,1.05,1.06,1.04,1.055,10\n"
        ...                  "13.01.2017 23:00:00.000,1.055,1.06,1.05,1.06,12\n")
        >>> load_csv(p, symbol="EURUSD").index[0]
        Timestamp('2017-01-13 22:00:00+0000', tz='UTC')
    """
    return _load(path, "csv", **_kw(locals()))


def _kw(local: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in local.items() if k != "path"}


def _load(path: PathLikeStr, kind: str, **kw: object) -> pd.DataFrame:
    # Depth is fixed: user -> load_* -> _load -> _build -> validate_ohlcv (stacklevel=5).
    p = _check_path(path)
    where = str(p)
    raw = _read_csv(p, where) if kind == "csv" else _read_parquet(p, where)
    return _build(raw, where=where, source=where, stacklevel=5, **kw)  # type: ignore[arg-type]


def _read_csv(p: Path, where: str) -> pd.DataFrame:
    # Time and symbol columns stay text; the rest parse as numbers in C, with our NA tokens
    # (anything else non-numeric stays text and is reported by _to_float).
    try:
        header = [str(c) for c in pd.read_csv(p, nrows=0).columns]
        text_cols = {c for c in (_find(header, "time"), _find(header, "symbol")) if c}
        return pd.read_csv(
            p,
            dtype=dict.fromkeys(text_cols, str),
            keep_default_na=False,
            na_values={c: _NA_VALUES for c in header if c not in text_cols},
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{where}: the file has no header and no rows (empty CSV).") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataError(
            f"{where}: cannot read as CSV ({type(exc).__name__}: {exc}). Fix: check the delimiter "
            "(comma expected), the encoding (UTF-8) and the compression."
        ) from exc


def _read_parquet(p: Path, where: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise DataError(
            f"{where}: cannot read as Parquet ({type(exc).__name__}: {exc}). Check the file."
        ) from exc


def load_parquet(
    path: PathLikeStr,
    *,
    symbol: str | None = None,
    timeframe: TimeframeLike | None = None,
    validation: Policy = "repair",
    tz: str = "UTC",
    time_format: str | None = None,
    mixed_offsets: MixedOffsets = "raise",
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Load an OHLCV Parquet file; a datetime index may stand in for the time column.

    Arguments, return value and errors are those of :func:`load_csv`.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.parquet"
        >>> idx = pd.date_range("2024-01-01", periods=3, freq="4h", tz="UTC", name="ts")
        >>> pd.DataFrame({"o": [1.0] * 3, "h": [2.0] * 3, "l": [0.5] * 3, "c": [1.5] * 3,
        ...               "v": [9.0] * 3}, index=idx).to_parquet(p)
        >>> load_parquet(p, symbol="X").attrs["timeframe"]
        '4h'
    """
    return _load(path, "parquet", **_kw(locals()))


def load_ohlcv(
    path: PathLikeStr,
    *,
    symbol: str | None = None,
    timeframe: TimeframeLike | None = None,
    validation: Policy = "repair",
    tz: str = "UTC",
    time_format: str | None = None,
    mixed_offsets: MixedOffsets = "raise",
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    r"""Load a CSV or Parquet file, chosen by suffix (``.parquet/.pq`` else CSV).

    Arguments, return value and errors are those of :func:`load_csv`.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "two.csv"
        >>> _ = p.write_text("ticker,date,o,h,l,c,v\nA,2024-01-02,1,2,1,2,5\n"
        ...                  "B,2024-01-02,3,4,3,4,5\nA,2024-01-03,2,3,2,3,5\n")
        >>> load_ohlcv(p, symbol="A")["close"].tolist()
        [2.0, 3.0]
    """
    kw = _kw(locals())
    suffix = Path(path).suffix.lower()
    return _load(path, "parquet" if suffix in (".parquet", ".pq") else "csv", **kw)
