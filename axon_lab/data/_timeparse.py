"""Turn a raw time column into UTC nanoseconds, explaining every interpretation.

Rules (each interpretation becomes a note in the validation report):

* numbers (or digit strings) are epoch times; the unit is inferred from the magnitude of the
  median: < 1e11 seconds, < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds. Eight-digit
  values 19000101..21001231 are read as ``YYYYMMDD`` dates;
* strings are tried against ISO 8601 and explicit day-first / month-first formats; if both a
  day-first and a month-first format read every value, the column is ambiguous and a
  :class:`~axon_lab.errors.DataError` asks for ``time_format=``. Day and month are never swapped
  silently;
* values without a UTC offset are interpreted in ``tz``;
* values with offsets are converted exactly; if the offsets change only as daylight saving time
  would (contiguous runs in file order, each change +-1 hour, at most two changes per year spanned)
  the conversion is noted; any other mix (naive with aware, offsets jumping back and forth) is a
  "mixed time zones" error unless ``mixed_offsets="convert"``.
"""

from __future__ import annotations

import re
from typing import Final, Literal

import numpy as np
import pandas as pd

from axon_lab.errors import DataError

__all__ = ["MixedOffsets", "parse_times"]

MixedOffsets = Literal["raise", "convert"]

_OFFSET: Final = re.compile(r"(?:\s*(Z|UTC|GMT)|\s*([+-])(\d{2}):?(\d{2}))$", re.IGNORECASE)
_NUMERIC: Final = re.compile(r"^-?\d+(?:\.\d+)?$")
_TIMES: Final = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f", "T%H:%M", "T%H:%M:%S", "T%H:%M:%S.%f")
_ORDERS: Final = {"ymd": ("%Y", "%m", "%d"), "dmy": ("%d", "%m", "%Y"), "mdy": ("%m", "%d", "%Y")}
_SHOW: Final = 5


def _candidates() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for family, parts in _ORDERS.items():
        for sep in ("-", "/", "."):
            for time in _TIMES:
                out.append((family, sep.join(parts) + time))
    out.append(("ymd", "%Y%m%d"))
    return out


_CANDIDATES: Final = _candidates()


def _bad_rows(values: pd.Series, parsed: pd.Series) -> str:
    bad = parsed.isna() & values.notna()
    return ", ".join(f"row {i + 2}: {values.iloc[i]!r}" for i in np.flatnonzero(bad)[:_SHOW])


def _epoch(numbers: np.ndarray, column: str, where: str, notes: list[str]) -> np.ndarray:
    finite = numbers[np.isfinite(numbers)]
    if finite.size == 0:
        raise DataError(f"{where}: time column {column!r} holds no values.")
    if np.all((finite >= 19000101) & (finite <= 21001231) & (finite == np.floor(finite))):
        parsed = pd.to_datetime(
            finite.astype(np.int64).astype(str), format="%Y%m%d", errors="coerce"
        )
        if not parsed.isna().any():
            notes.append(f"time column {column!r} read as YYYYMMDD dates")
            full = pd.to_datetime(
                pd.Series(numbers).map(lambda x: str(int(x)) if np.isfinite(x) else None),
                format="%Y%m%d",
            )
            return np.asarray(pd.DatetimeIndex(full).as_unit("ns").asi8)
    magnitude = float(np.median(np.abs(finite)))
    unit, scale = (
        ("s", 10**9) if magnitude < 1e11 else
        ("ms", 10**6) if magnitude < 1e14 else
        ("us", 10**3) if magnitude < 1e17 else ("ns", 1)
    )  # fmt: skip
    notes.append(f"time column {column!r} read as epoch {unit} (inferred from magnitude), UTC")
    return np.asarray(np.round(numbers * scale).astype(np.int64))


def _localize(naive: pd.DatetimeIndex, tz: str, column: str, where: str) -> np.ndarray:
    if tz.upper() == "UTC":
        return np.asarray(naive.as_unit("ns").asi8)
    try:
        local = naive.tz_localize(tz, ambiguous="infer", nonexistent="raise")
    except Exception as exc:  # pytz/zoneinfo errors differ across versions
        raise DataError(
            f"{where}: cannot interpret naive times in column {column!r} in zone {tz!r}: {exc}. "
            "Fix: pass the zone the file was written in (tz=...), or convert the column to UTC."
        ) from exc
    return np.asarray(local.tz_convert("UTC").as_unit("ns").asi8)


def _parse_strings(
    text: pd.Series, column: str, where: str, time_format: str | None
) -> pd.DatetimeIndex:
    if time_format is not None:
        parsed = pd.to_datetime(text, format=time_format, errors="coerce")
        if parsed.isna().any():
            raise DataError(
                f"{where}: time column {column!r} does not match time_format={time_format!r} "
                f"({_bad_rows(text, parsed)}). Fix: correct time_format or the values."
            )
        return pd.DatetimeIndex(parsed)
    sample = text.iloc[: min(len(text), 200)]
    iso = pd.to_datetime(sample, format="ISO8601", errors="coerce")
    if not iso.isna().any():
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if not parsed.isna().any():
            return pd.DatetimeIndex(parsed)
    matched: dict[str, tuple[str, pd.Series]] = {}
    for family, fmt in _CANDIDATES:
        if family in matched:
            continue
        if pd.to_datetime(sample, format=fmt, errors="coerce").isna().any():
            continue
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if not parsed.isna().any():
            matched[family] = (fmt, parsed)
    if "dmy" in matched and "mdy" in matched:
        raise DataError(
            f"{where}: time column {column!r} is ambiguous: every value reads both day-first "
            f"({matched['dmy'][0]!r}) and month-first ({matched['mdy'][0]!r}), e.g. "
            f"{text.iloc[0]!r}. Fix: pass time_format=... (e.g. "
            f"time_format={matched['dmy'][0]!r})."
        )
    if not matched:
        best = pd.to_datetime(text, format="ISO8601", errors="coerce")
        raise DataError(
            f"{where}: cannot parse time column {column!r} ({_bad_rows(text, best)}). Fix: pass "
            "time_format=... (strftime codes, e.g. '%d.%m.%Y %H:%M:%S.%f') or clean the values."
        )
    return pd.DatetimeIndex(next(iter(matched.values()))[1])


def _check_offsets(
    offsets: np.ndarray, aware: np.ndarray, text: pd.Series, column: str, where: str,
    utc_ns: np.ndarray, mixed_offsets: MixedOffsets, notes: list[str],
) -> None:  # fmt: skip
    def examples(rows: np.ndarray) -> str:
        return ", ".join(f"row {i + 2}: {text.iloc[i]!r}" for i in rows[:_SHOW])

    fix = (
        "Fix: pass mixed_offsets='convert' to convert every value to UTC, or convert the "
        "column to one zone before loading."
    )
    if aware.any() and not aware.all():
        if mixed_offsets == "raise":
            raise DataError(
                f"{where}: mixed time zones in column {column!r}: {int(aware.sum())} values "
                f"carry a UTC offset ({examples(np.flatnonzero(aware))}) and "
                f"{int((~aware).sum())} do not ({examples(np.flatnonzero(~aware))}). {fix}"
            )
        notes.append(f"column {column!r} mixed naive and offset-aware values; converted all to UTC")
        return
    uniq = np.unique(offsets)
    if uniq.size == 1:
        if offsets[0] != 0:
            notes.append(f"column {column!r} carried UTC offset {_fmt_offset(int(offsets[0]))}; "
                         "converted to UTC")  # fmt: skip
        return
    change = np.flatnonzero(np.diff(offsets) != 0) + 1
    steps = offsets[change] - offsets[change - 1]
    years = (utc_ns.max() - utc_ns.min()) / (365.25 * 86400e9)
    dst_like = bool(np.all(np.abs(steps) == 60) and change.size <= 2 * (int(years) + 1))
    runs = np.split(np.arange(offsets.size), change)
    desc = "; ".join(
        f"{_fmt_offset(int(offsets[r[0]]))} rows {r[0] + 2}-{r[-1] + 2}" for r in runs[:_SHOW]
    )
    if dst_like:
        notes.append(
            f"column {column!r} changes UTC offset like daylight saving time ({desc}); every "
            "value converted exactly to UTC"
        )
        return
    if mixed_offsets == "raise":
        raise DataError(
            f"{where}: mixed time zones in column {column!r}: offsets "
            f"{', '.join(_fmt_offset(int(o)) for o in uniq)} interleave or jump in a way daylight "
            f"saving time does not ({examples(change)}; runs: {desc}). {fix}"
        )
    notes.append(f"column {column!r} mixed UTC offsets ({desc}); converted all to UTC")


def _fmt_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _split_offsets(text: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Find a trailing UTC offset per value: (has offset, offset minutes, value without it).

    The regex runs once per distinct 7-character tail (an offset is at most 7 characters with
    its separator), not once per row, which keeps million-row files fast.
    """
    codes, tails = pd.factorize(text.str.slice(start=-7))
    n = len(tails)
    has = np.zeros(n, dtype=bool)
    minutes = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, dtype=np.int64)
    for i, tail in enumerate(tails):
        m = _OFFSET.search(str(tail))
        if m is None:
            continue
        has[i] = True
        cut[i] = len(m.group(0))
        if m.group(2):
            sign = -1 if m.group(2) == "-" else 1
            minutes[i] = sign * (int(m.group(3)) * 60 + int(m.group(4)))
    aware, offsets, cuts = has[codes], minutes[codes], cut[codes]
    stripped = text
    for k in np.unique(cuts[aware]):
        rows = cuts == k
        part = text[rows].str.slice(stop=-int(k)).str.strip()
        stripped = stripped.mask(pd.Series(rows, index=text.index), part)
    return aware, offsets, stripped


def parse_times(
    values: pd.Series,
    *,
    column: str,
    where: str,
    tz: str,
    time_format: str | None,
    mixed_offsets: MixedOffsets,
    notes: list[str],
) -> np.ndarray:
    """Parse a time column to int64 UTC nanoseconds, appending notes on how it was read.

    Args:
        values: The raw column (strings, numbers or datetimes).
        column: Column name, for messages.
        where: The file, for messages.
        tz: Zone for naive values.
        time_format: Explicit strftime format, overriding detection.
        mixed_offsets: ``"raise"`` or ``"convert"`` for mixed offsets (see module docstring).
        notes: Receives one note per interpretation.

    Returns:
        UTC nanoseconds since the epoch, one per input value.

    Raises:
        DataError: For empty, unparseable, ambiguous or mixed-zone values, and for times outside
            what a nanosecond timestamp holds (1677-09-21 to 2262-04-11, e.g. 9999-12-31).
    """
    try:
        return _parse_times(values, column, where, tz, time_format, mixed_offsets, notes)
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
        raise DataError(
            f"{where}: time column {column!r} holds a time outside the range axon_lab can "
            f"represent ({pd.Timestamp.min:%Y-%m-%d} to {pd.Timestamp.max:%Y-%m-%d}): {exc}. "
            "Fix: drop or correct those rows (a placeholder date such as 9999-12-31 is common)."
        ) from None


def _parse_times(
    values: pd.Series,
    column: str,
    where: str,
    tz: str,
    time_format: str | None,
    mixed_offsets: MixedOffsets,
    notes: list[str],
) -> np.ndarray:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return np.asarray(pd.DatetimeIndex(values).tz_convert("UTC").as_unit("ns").asi8)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        notes.append(f"naive timestamps in column {column!r} interpreted as {tz}")
        return _localize(pd.DatetimeIndex(values), tz, column, where)
    if pd.api.types.is_numeric_dtype(values.dtype) and time_format is None:
        return _epoch(np.asarray(values, dtype=np.float64), column, where, notes)
    text = values.astype("string").str.strip()
    missing = text.isna() | (text == "")
    if missing.any():
        rows = ", ".join(f"row {i + 2}" for i in np.flatnonzero(missing)[:_SHOW])
        raise DataError(
            f"{where}: time column {column!r} has {int(missing.sum())} empty value(s) ({rows}). "
            "Fix: drop those rows or fill their times."
        )
    if (
        time_format is None
        and _NUMERIC.match(str(text.iloc[0]))
        and text.str.fullmatch(_NUMERIC.pattern).all()
    ):
        return _epoch(text.astype(float).to_numpy(), column, where, notes)
    aware, offsets, stripped = _split_offsets(text)
    local = _parse_strings(stripped, column, where, time_format)
    if local.tz is not None:  # an offset spelling our regex does not know, parsed by pandas
        local = local.tz_convert("UTC").tz_localize(None)
        aware = np.ones(len(local), dtype=bool)
        offsets = np.zeros(len(local), dtype=np.int64)
    local_ns = np.asarray(local.as_unit("ns").asi8)
    utc_ns = local_ns - offsets * 60_000_000_000
    if aware.any():
        if not aware.all() and mixed_offsets == "convert":
            utc_ns[~aware] = _localize(local[~aware], tz, column, where)
        _check_offsets(
            offsets, aware, text, column, where, utc_ns, mixed_offsets, notes
        )  # fmt: skip
        return np.asarray(utc_ns)
    notes.append(f"naive timestamps in column {column!r} interpreted as {tz}")
    return _localize(local, tz, column, where)
