"""The canonical OHLCV frame, timeframes, and their checks.

Every market-data function in axon_lab takes and returns one *canonical frame* per symbol:

* a :class:`pandas.DataFrame` indexed by a timezone-aware UTC :class:`pandas.DatetimeIndex`
  named ``"timestamp"`` (nanosecond unit), sorted and unique;
* each timestamp is the bar's **open** time, so a bar stamped ``s`` is complete at
  ``s + timeframe``;
* float64 columns ``open, high, low, close, volume`` (exactly these, in this order);
* ``frame.attrs["symbol"]`` and ``frame.attrs["timeframe"]`` (a canonical label such as
  ``"15min"``, ``"1h"``, ``"1d"``, ``"1w"``).

Timeframes are fixed durations (seconds to weeks). Calendar months are not fixed durations and
are not supported.

Examples:
    >>> Timeframe.parse("15m").label, Timeframe.parse("1H").label, Timeframe.parse("D").label
    ('15min', '1h', '1d')
    >>> Timeframe.parse("4h").delta
    Timedelta('0 days 04:00:00')
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError, DataError

__all__ = [
    "OPEN",
    "HIGH",
    "LOW",
    "CLOSE",
    "VOLUME",
    "PRICE_COLUMNS",
    "OHLCV_COLUMNS",
    "INDEX_NAME",
    "Timeframe",
    "TimeframeLike",
    "detect_timeframe",
    "check_canonical",
    "check_symbol",
    "make_canonical",
]

OPEN: Final = "open"
HIGH: Final = "high"
LOW: Final = "low"
CLOSE: Final = "close"
VOLUME: Final = "volume"
PRICE_COLUMNS: Final[tuple[str, ...]] = (OPEN, HIGH, LOW, CLOSE)
OHLCV_COLUMNS: Final[tuple[str, ...]] = (OPEN, HIGH, LOW, CLOSE, VOLUME)
INDEX_NAME: Final = "timestamp"

_NS_PER_UNIT: Final[dict[str, int]] = {
    "s": 1_000_000_000,
    "min": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
    "w": 7 * 86400 * 1_000_000_000,
}
_UNIT_ALIASES: Final[dict[str, str]] = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "min", "min": "min", "mins": "min", "minute": "min", "minutes": "min", "t": "min",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "wk": "w", "week": "w", "weeks": "w",
}  # fmt: skip
_EXAMPLES: Final = ("1min", "5min", "15min", "30min", "1h", "4h", "1d", "1w")
_TF_PATTERN: Final = re.compile(r"^\s*(\d+)?\s*([A-Za-z]+)\s*$")


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A bar duration with a canonical label.

    Attributes:
        label: Canonical label, e.g. ``"15min"``, ``"1h"``, ``"4h"``, ``"1d"``, ``"1w"``.
        delta: The bar duration.

    Examples:
        >>> tf = Timeframe.parse("60min")
        >>> tf.label, tf == Timeframe.parse("1h")
        ('1h', True)
        >>> Timeframe.parse("15 minutes").label
        '15min'
    """

    label: str
    delta: pd.Timedelta

    @classmethod
    def from_delta(cls, delta: pd.Timedelta) -> Timeframe:
        """Build the timeframe of a positive whole-second duration.

        Args:
            delta: The bar duration.

        Returns:
            The timeframe with its canonical label.

        Raises:
            ConfigError: If ``delta`` is not a positive whole number of seconds.
        """
        ns = int(pd.Timedelta(delta).value)
        if ns <= 0 or ns % _NS_PER_UNIT["s"]:
            raise ConfigError(
                f"A timeframe must be a positive whole number of seconds, got {delta!r}. "
                f"Use a label such as {', '.join(_EXAMPLES)}."
            )
        for unit in ("w", "d", "h", "min", "s"):
            if ns % _NS_PER_UNIT[unit] == 0:
                return cls(label=f"{ns // _NS_PER_UNIT[unit]}{unit}", delta=pd.Timedelta(ns, "ns"))
        raise AssertionError("unreachable: every whole-second duration divides by 1s")

    @classmethod
    def parse(cls, value: TimeframeLike) -> Timeframe:
        """Parse a label (``"15m"``, ``"15min"``, ``"1H"``, ``"D"``, ...) or a duration.

        ``"m"`` means minutes; ``"M"`` (month in pandas) and months in general are rejected
        because they are not fixed durations.

        Args:
            value: A label, a :class:`pandas.Timedelta` / ``datetime.timedelta``, or a Timeframe.

        Returns:
            The parsed timeframe.

        Raises:
            ConfigError: For unknown or ambiguous labels, with a "did you mean" suggestion.
        """
        if isinstance(value, Timeframe):
            return value
        if not isinstance(value, str):
            try:
                return cls.from_delta(pd.Timedelta(value))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"Cannot read {value!r} as a timeframe: {exc}") from exc
        match = _TF_PATTERN.match(value)
        unit_raw = match.group(2) if match else ""
        if match and unit_raw == "M":
            raise ConfigError(
                f"Timeframe {value!r} is ambiguous: 'M' is a month in pandas and a minute "
                "elsewhere. Use 'min' for minutes; months are not fixed durations and are not "
                "supported."
            )
        unit = _UNIT_ALIASES.get(unit_raw.lower()) if match else None
        if match is None or unit is None:
            known = [*_EXAMPLES, *_UNIT_ALIASES]
            close = difflib.get_close_matches(value.strip().lower(), known, n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigError(
                f"Unknown timeframe {value!r}.{hint} Use a number and a unit (s, min, h, d, w), "
                f"e.g. {', '.join(_EXAMPLES)}."
            )
        count = int(match.group(1)) if match.group(1) else 1
        if count <= 0:
            raise ConfigError(f"Timeframe {value!r} must be positive.")
        return cls.from_delta(pd.Timedelta(count * _NS_PER_UNIT[unit], "ns"))

    @property
    def nanos(self) -> int:
        """The duration in nanoseconds."""
        return int(self.delta.value)

    def __str__(self) -> str:
        return self.label


TimeframeLike = str | pd.Timedelta | Timeframe
"""Anything :meth:`Timeframe.parse` accepts."""


def detect_timeframe(index: pd.DatetimeIndex) -> Timeframe:
    """Infer the bar duration from timestamps.

    The rule is robust to gaps, weekends and holidays: it takes the most common positive
    difference between consecutive sorted timestamps (the mode); if several differences are
    equally common it takes the smallest of them. Zero differences (duplicates) are ignored.

    Args:
        index: Bar timestamps (any order).

    Returns:
        The detected timeframe.

    Raises:
        DataError: If fewer than two distinct timestamps exist, or the mode is not a whole
            number of seconds.

    Examples:
        >>> idx = pd.DatetimeIndex(["2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"])
        >>> detect_timeframe(idx).label
        '1d'
    """
    values = np.sort(np.asarray(pd.DatetimeIndex(index).as_unit("ns").asi8))
    diffs = np.diff(values)
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        raise DataError(
            f"Cannot detect the timeframe from {len(index)} timestamp(s): need at least two "
            "distinct bars. Pass timeframe=... explicitly."
        )
    uniq, counts = np.unique(diffs, return_counts=True)
    mode = int(uniq[np.flatnonzero(counts == counts.max())[0]])
    try:
        return Timeframe.from_delta(pd.Timedelta(mode, "ns"))
    except ConfigError as exc:
        raise DataError(
            f"The most common spacing between bars is {pd.Timedelta(mode, 'ns')}, which is not "
            "a whole number of seconds. Pass timeframe=... explicitly."
        ) from exc


def check_canonical(frame: pd.DataFrame) -> None:
    """Raise if ``frame`` is not a canonical OHLCV frame (see the module docstring).

    Args:
        frame: The frame to check.

    Raises:
        DataError: Listing every violated rule.

    Examples:
        >>> idx = pd.DatetimeIndex(["2024-01-01"], tz="UTC", name="timestamp").as_unit("ns")
        >>> f = pd.DataFrame({c: [1.0] for c in OHLCV_COLUMNS}, index=idx)
        >>> f.attrs.update(symbol="X", timeframe="1d")
        >>> check_canonical(f)
    """
    problems: list[str] = []
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"Expected a pandas DataFrame, got {type(frame).__name__}.")
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        problems.append(f"index is a {type(index).__name__}, not a DatetimeIndex")
    else:
        if str(index.tz) != "UTC":
            problems.append(f"index timezone is {index.tz!r}, not UTC")
        if index.unit != "ns":
            problems.append(f"index unit is {index.unit!r}, not 'ns'")
        if not index.is_monotonic_increasing:
            problems.append("index is not sorted")
        if not index.is_unique:
            problems.append(f"index has {int(index.duplicated().sum())} duplicate timestamp(s)")
    if index.name != INDEX_NAME:
        problems.append(f"index name is {index.name!r}, not {INDEX_NAME!r}")
    if tuple(frame.columns) != OHLCV_COLUMNS:
        problems.append(f"columns are {list(frame.columns)}, expected {list(OHLCV_COLUMNS)}")
    else:
        bad = [c for c in OHLCV_COLUMNS if frame[c].dtype != np.float64]
        if bad:
            problems.append(f"columns {bad} are not float64")
    for key in ("symbol", "timeframe"):
        if not frame.attrs.get(key):
            problems.append(f"frame.attrs[{key!r}] is missing")
    symbol = frame.attrs.get("symbol")
    if symbol:
        try:
            check_symbol(symbol)
        except DataError as exc:
            problems.append(str(exc).rstrip("."))
    if problems:
        raise DataError(
            "Not a canonical OHLCV frame: "
            + "; ".join(problems)
            + ". Load data with axon_lab.data.load_ohlcv(...) or build it with make_canonical()."
        )


MAX_SYMBOL_CHARS = 32
_SYMBOL = re.compile(r"[A-Za-z0-9^][A-Za-z0-9._:/^=+#-]*")


def check_symbol(symbol: object, *, hint: str = "pass symbol='BTC-USD' (or your own)") -> str:
    """Return ``symbol`` if it is a usable symbol, else raise naming it and the fix.

    A symbol is 1 to 32 ASCII letters, digits and ``. _ - / : ^ = + #``, starting with a letter,
    a digit or ``^`` (``BTC-USD``, ``BTC/USDT``, ``^GSPC``, ``EURUSD=X``, ``BRK.B``). It goes into
    order records, file names and the LLM's prompt, so spaces, line breaks, quotes and brackets
    are refused when data is loaded, not found at the first order.

    Args:
        symbol: The symbol to check.
        hint: How the caller can set another symbol (goes into the message).

    Raises:
        DataError: Naming the bad symbol, the rule and ``hint``.

    Examples:
        >>> check_symbol("BTC-USD")
        'BTC-USD'
        >>> check_symbol("my bars")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        axon_lab.errors.DataError: Symbol 'my bars' is not usable: ... Fix: pass symbol=...
    """
    if not isinstance(symbol, str):
        problem = f"it is a {type(symbol).__name__}, not a string"
    elif not symbol:
        problem = "it is empty"
    elif len(symbol) > MAX_SYMBOL_CHARS:
        problem = f"it has {len(symbol)} characters; the most is {MAX_SYMBOL_CHARS}"
    elif _SYMBOL.fullmatch(symbol) is None:
        problem = (
            "a symbol is ASCII letters, digits and . _ - / : ^ = + # (no spaces, quotes, "
            "brackets or control characters), starting with a letter, a digit or ^"
        )
    else:
        return symbol
    shown = symbol if not isinstance(symbol, str) else symbol[:80]
    raise DataError(f"Symbol {shown!r} is not usable: {problem}. Fix: {hint}.")


def make_canonical(
    frame: pd.DataFrame, *, symbol: str, timeframe: TimeframeLike | None = None
) -> pd.DataFrame:
    """Coerce an OHLCV frame with a datetime index into canonical form (no validation).

    Columns are selected and cast to float64, the index is converted to UTC nanoseconds and named
    ``"timestamp"``, and the attrs are set. Sorting, duplicates and bad values are left to
    :func:`~axon_lab.data.validate_ohlcv`.

    Args:
        frame: A frame with ``open, high, low, close, volume`` columns and a DatetimeIndex
            (naive timestamps are read as UTC).
        symbol: Symbol stored in ``attrs["symbol"]``.
        timeframe: The bar duration; detected from the index when None.

    Returns:
        A new canonical frame.

    Raises:
        DataError: If columns are missing, the index is not a DatetimeIndex, or the symbol breaks
            :func:`check_symbol`'s rule.

    Examples:
        >>> raw = pd.DataFrame({c: [1.0, 2.0] for c in OHLCV_COLUMNS},
        ...                    index=pd.to_datetime(["2024-01-01", "2024-01-02"]))
        >>> make_canonical(raw, symbol="X").attrs["timeframe"]
        '1d'
    """
    check_symbol(symbol)
    missing = [c for c in OHLCV_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"Columns {missing} are missing (found {list(frame.columns)}); a canonical frame "
            f"needs {list(OHLCV_COLUMNS)}."
        )
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(
            f"The index is a {type(frame.index).__name__}; set a DatetimeIndex of bar open times "
            "(frame.set_index('timestamp'))."
        )
    index = frame.index
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    index = index.as_unit("ns").rename(INDEX_NAME)
    out = pd.DataFrame(
        {c: np.asarray(frame[c], dtype=np.float64) for c in OHLCV_COLUMNS}, index=index
    )
    tf = Timeframe.parse(timeframe) if timeframe is not None else detect_timeframe(index)
    out.attrs = {"symbol": symbol, "timeframe": tf.label}
    return out
