"""Many symbols on one clock: the :class:`Universe`, and loading one from a folder or a long file.

A universe holds the bars of many symbols as ``(bars, symbols)`` float64 arrays on **one clock**:
the sorted union of every symbol's bar open times. Where a symbol has no bar at a time of the
clock the arrays hold NaN, and the policy for such cells is stated once, here, and followed by
every portfolio stage, the portfolio backend and the portfolio risk line:

* **No bar, no trade.** A symbol is *tradable* at a step only if it has a bar there
  (:attr:`Universe.has_bar`). An order for a symbol without a bar at the step it would fill on is
  cancelled, never filled at a stale price.
* **Halts.** A missing bar between a symbol's first and last bar is a halt: the symbol is not
  tradable for that step; an open position stays and is marked at its last close.
* **Listings.** Before its first bar a symbol is not listed: not tradable, weight 0.
* **Delistings.** After its last bar (when that is before the end of the clock) the symbol is
  delisted: it never trades again, and a position left in it stays marked at its last close (the
  data holds no delisting price, so none is invented). Strategies should exit before the last bar;
  :meth:`Universe.delisted_at` says when that is.

Marks (:meth:`Universe.marks`) are the closes carried forward over halts and delistings; they are
used for equity and weights only, never as a fill price.

Every symbol's bars are validated with :func:`~axon_lab.data.validate_ohlcv` before they are
aligned, and :attr:`Universe.reports` keeps each symbol's
:class:`~axon_lab.data.ValidationReport`.

Examples:
    >>> from axon_lab.data import make_synthetic
    >>> a = make_synthetic(5, timeframe="1d", start="2024-01-01", seed=1, symbol="A")
    >>> b = make_synthetic(3, timeframe="1d", start="2024-01-03", seed=2, symbol="B")
    >>> uni = align_universe([a, b])
    >>> uni.symbols, uni.n_bars
    (('A', 'B'), 5)
    >>> uni.has_bar[:, 1].tolist()  # B lists on the third day
    [False, False, True, True, True]
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.data.frame import (
    INDEX_NAME,
    OHLCV_COLUMNS,
    Timeframe,
    TimeframeLike,
    check_canonical,
    check_symbol,
)
from axon_lab.data.report import DataRepairWarning, ValidationReport
from axon_lab.data.validation import Policy, validate_ohlcv
from axon_lab.errors import ConfigError, DataError

__all__ = ["Universe", "align_universe"]


@dataclass(frozen=True, slots=True, eq=False)
class Universe:
    """Bars of many symbols on one clock (see the module docstring for the missing-bar policy).

    Attributes:
        symbols: The symbols, in column order.
        index: The clock: bar open times (UTC, sorted, unique), one row per time.
        timeframe: The bar duration shared by every symbol.
        open: Opens, ``(bars, symbols)``; NaN where the symbol has no bar.
        high: Highs, likewise.
        low: Lows, likewise.
        close: Closes, likewise.
        volume: Volumes, likewise.
        reports: Each symbol's validation report.
    """

    symbols: tuple[str, ...]
    index: pd.DatetimeIndex
    timeframe: Timeframe
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    reports: Mapping[str, ValidationReport] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.index), len(self.symbols))
        for name in OHLCV_COLUMNS:
            arr = getattr(self, name)
            if arr.shape != shape:
                raise DataError(f"Universe.{name} has shape {arr.shape}, expected {shape}.")
            arr.flags.writeable = False
        for sym in self.symbols:  # (a symbol reaches prompts and pages: the symbol rule holds)
            check_symbol(sym, hint="name each symbol like 'AAPL' or 'BTC-USD'")
        if len(set(self.symbols)) != len(self.symbols):
            dup = sorted({s for s in self.symbols if self.symbols.count(s) > 1})
            raise DataError(f"Universe symbols repeat: {dup}. Give each symbol once.")

    def __deepcopy__(self, memo: dict[int, Any]) -> Universe:
        # Immutable (read-only arrays): sharing is safe, and gymnasium.make deep-copies kwargs.
        return self

    # ------------------------------------------------------------------ shape
    @property
    def n_bars(self) -> int:
        """Number of times on the clock."""
        return len(self.index)

    @property
    def n_symbols(self) -> int:
        """Number of symbols."""
        return len(self.symbols)

    @property
    def has_bar(self) -> np.ndarray:
        """``(bars, symbols)`` bool: whether the symbol has a bar there (is tradable there)."""
        return np.asarray(~np.isnan(self.close), dtype=bool)

    @property
    def first_bar(self) -> np.ndarray:
        """Row of each symbol's first bar (its listing on the clock)."""
        return np.asarray(self.has_bar.argmax(axis=0), dtype=np.int64)

    @property
    def last_bar(self) -> np.ndarray:
        """Row of each symbol's last bar (its delisting, when before the clock's end)."""
        return np.asarray(self.n_bars - 1 - self.has_bar[::-1].argmax(axis=0), dtype=np.int64)

    def delisted_at(self) -> dict[str, pd.Timestamp]:
        """Symbols whose bars end before the clock does, with the open time of their last bar."""
        last = self.last_bar
        return {
            sym: self.index[int(row)]
            for sym, row in zip(self.symbols, last, strict=True)
            if row < self.n_bars - 1
        }

    def halts(self) -> dict[str, int]:
        """Per symbol, the count of missing bars between its first and last bar."""
        has = self.has_bar
        out = {}
        for j, sym in enumerate(self.symbols):
            lo, hi = int(self.first_bar[j]), int(self.last_bar[j])
            missing = int((~has[lo : hi + 1, j]).sum())
            if missing:
                out[sym] = missing
        return out

    def marks(self) -> np.ndarray:
        """Closes carried forward over halts and delistings (NaN before listing); marks only."""
        return pd.DataFrame(self.close).ffill().to_numpy()

    # ------------------------------------------------------------------ views
    def frame(self, symbol: str) -> pd.DataFrame:
        """The canonical frame of one symbol's own bars (rows where it has a bar)."""
        j = self._col(symbol)
        keep = self.has_bar[:, j]
        data = {c: getattr(self, c)[keep, j] for c in OHLCV_COLUMNS}
        out = pd.DataFrame(data, index=self.index[keep])
        out.attrs = {"symbol": symbol, "timeframe": self.timeframe.label}
        if symbol in self.reports:
            out.attrs["report"] = self.reports[symbol]
        return out

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every symbol's canonical frame."""
        return {s: self.frame(s) for s in self.symbols}

    def prices(self, column: str = "close") -> pd.DataFrame:
        """One price column as a ``(bars, symbols)`` frame on the clock (NaN where no bar)."""
        if column not in OHLCV_COLUMNS:
            raise ConfigError(f"column must be one of {list(OHLCV_COLUMNS)}, got {column!r}.")
        return pd.DataFrame(getattr(self, column), index=self.index, columns=list(self.symbols))

    def to_long(self) -> pd.DataFrame:
        """Long format: one row per (time, symbol) bar, with a ``symbol`` column."""
        parts = []
        for sym in self.symbols:
            f = self.frame(sym)
            parts.append(f.assign(symbol=sym)[["symbol", *OHLCV_COLUMNS]])
        return pd.concat(parts).sort_index(kind="stable")

    def select(self, symbols: Iterable[str]) -> Universe:
        """A universe of some of the symbols (the clock keeps only times where one has a bar)."""
        cols = [self._col(s) for s in symbols]
        if not cols:
            raise ConfigError("select() needs at least one symbol.")
        keep = np.asarray(self.has_bar[:, cols].any(axis=1), dtype=bool)
        rows = np.flatnonzero(keep)
        return Universe(
            symbols=tuple(self.symbols[c] for c in cols),
            index=self.index[rows],
            timeframe=self.timeframe,
            **{c: getattr(self, c)[rows][:, cols].copy() for c in OHLCV_COLUMNS},
            reports={self.symbols[c]: self.reports[self.symbols[c]] for c in cols
                     if self.symbols[c] in self.reports},
        )  # fmt: skip

    def window(self, start: object = None, end: object = None) -> Universe:
        """The rows whose open time is in ``[start, end]`` (either may be None), all symbols.

        Raises:
            DataError: If no row is left.
        """
        lo = 0 if start is None else int(self.index.searchsorted(_utc(start), side="left"))
        hi = self.n_bars if end is None else int(self.index.searchsorted(_utc(end), side="right"))
        if hi <= lo:
            raise DataError(
                f"window({start!r}, {end!r}) holds no bar; the clock runs {self.index[0]} .. "
                f"{self.index[-1]}."
            )
        return Universe(
            symbols=self.symbols,
            index=self.index[lo:hi],
            timeframe=self.timeframe,
            reports=self.reports,
            **{c: getattr(self, c)[lo:hi].copy() for c in OHLCV_COLUMNS},
        )

    def summary(self) -> pd.DataFrame:
        """One row per symbol: first and last bar, bars, halts, whether it delists, repairs."""
        first, last, has = self.first_bar, self.last_bar, self.has_bar
        rows = []
        for j, sym in enumerate(self.symbols):
            rep = self.reports.get(sym)
            rows.append(
                {
                    "symbol": sym,
                    "first": self.index[int(first[j])],
                    "last": self.index[int(last[j])],
                    "bars": int(has[:, j].sum()),
                    "halted_bars": int((~has[int(first[j]) : int(last[j]) + 1, j]).sum()),
                    "delists": bool(last[j] < self.n_bars - 1),
                    "dropped_rows": 0 if rep is None else len(rep.dropped),
                }
            )
        return pd.DataFrame(rows).set_index("symbol")

    def _col(self, symbol: str) -> int:
        try:
            return self.symbols.index(symbol)
        except ValueError:
            import difflib

            near = difflib.get_close_matches(str(symbol), self.symbols, n=3)
            hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
            raise ConfigError(
                f"Unknown symbol {symbol!r}; the universe holds {len(self.symbols)} symbols "
                f"({list(self.symbols[:10])}{'...' if len(self.symbols) > 10 else ''}).{hint}"
            ) from None

    def __repr__(self) -> str:
        return (
            f"Universe({self.n_symbols} symbols, {self.n_bars} bars of {self.timeframe.label}, "
            f"{self.index[0]} .. {self.index[-1]})"
        )


def _utc(t: object) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(t)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Cannot read {t!r} as a time: {exc}") from exc
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def align_universe(
    frames: Mapping[str, pd.DataFrame] | Sequence[pd.DataFrame],
    *,
    timeframe: TimeframeLike | None = None,
    validation: Policy = "repair",
) -> Universe:
    """Validate each symbol's frame and align them all on one clock.

    Args:
        frames: A mapping ``symbol -> frame`` or a sequence of frames carrying
            ``attrs["symbol"]``.
        timeframe: The shared bar duration; defaults to the frames' ``attrs["timeframe"]``.
        validation: ``"repair"`` (drop bad bars and report) or ``"strict"`` (raise), per symbol.

    Returns:
        The :class:`Universe`; ``reports`` holds each symbol's validation report.

    Raises:
        ConfigError: No frames, or frames of different timeframes.
        DataError: A frame without a symbol, a repeated symbol, or (strict) invalid bars.
    """
    named: dict[str, pd.DataFrame] = {}
    items = frames.items() if isinstance(frames, Mapping) else _named(frames)
    for sym, frame in items:
        sym = check_symbol(sym, hint="name each frame with a symbol such as 'AAPL'")
        if sym in named:
            raise DataError(f"Symbol {sym!r} is given twice. Give each symbol's bars once.")
        named[sym] = frame
    if not named:
        raise ConfigError("A universe needs at least one symbol's frame.")
    tf = _shared_timeframe(named, timeframe)
    checked: dict[str, pd.DataFrame] = {}
    reports: dict[str, ValidationReport] = {}
    repaired: list[str] = []
    for sym, frame in named.items():
        given = frame.attrs.get("report")
        if isinstance(given, ValidationReport) and _is_canonical(frame):
            out, report = frame, given  # loaded through a loader: validated already
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataRepairWarning)
                out, report = validate_ohlcv(frame, policy=validation, timeframe=tf, symbol=sym)
        if report.dropped or report.sorted:
            repaired.append(sym)
        checked[sym], reports[sym] = out, report
    if repaired:
        warnings.warn(
            f"universe: {len(repaired)} symbol(s) repaired on validation ({repaired[:10]}); see "
            "universe.reports[symbol].",
            DataRepairWarning,
            stacklevel=2,
        )
    return _stack(checked, tf, reports)


def _named(frames: Sequence[pd.DataFrame]) -> Iterable[tuple[str, pd.DataFrame]]:
    for i, frame in enumerate(frames):
        if not isinstance(frame, pd.DataFrame):
            raise ConfigError(f"frames[{i}] is a {type(frame).__name__}, not a DataFrame.")
        sym = frame.attrs.get("symbol")
        if not sym:
            raise DataError(
                f"frames[{i}] has no attrs['symbol']; pass a mapping {{'SYMBOL': frame}} instead."
            )
        yield str(sym), frame


def _is_canonical(frame: pd.DataFrame) -> bool:
    try:
        check_canonical(frame)
    except DataError:
        return False
    return True


def _shared_timeframe(frames: Mapping[str, pd.DataFrame], given: TimeframeLike | None) -> Timeframe:
    labels = {
        sym: Timeframe.parse(f.attrs["timeframe"])
        for sym, f in frames.items()
        if f.attrs.get("timeframe")
    }
    if given is not None:
        tf = Timeframe.parse(given)
        bad = {s: t.label for s, t in labels.items() if t != tf}
        if bad:
            raise ConfigError(
                f"timeframe={tf.label!r} but these frames carry another: "
                f"{dict(list(bad.items())[:5])}. Fix: resample_ohlcv() them to one timeframe first."
            )
        return tf
    distinct = sorted({t.label for t in labels.values()})
    if len(distinct) == 1:
        return next(iter(labels.values()))
    if not distinct:
        raise ConfigError("The frames carry no attrs['timeframe']; pass timeframe='1d' (or yours).")
    raise ConfigError(
        f"The frames have timeframes {distinct}; a universe needs one. Fix: resample_ohlcv() "
        "them to one timeframe, or pass timeframe=... ."
    )


def _stack(
    frames: Mapping[str, pd.DataFrame], tf: Timeframe, reports: Mapping[str, ValidationReport]
) -> Universe:
    opens = [np.asarray(pd.DatetimeIndex(f.index).as_unit("ns").asi8) for f in frames.values()]
    clock = np.unique(np.concatenate(opens))
    n, m = clock.shape[0], len(frames)
    arrays = {c: np.full((n, m), np.nan) for c in OHLCV_COLUMNS}
    for j, (f, own) in enumerate(zip(frames.values(), opens, strict=True)):
        rows = np.searchsorted(clock, own)
        values = f[list(OHLCV_COLUMNS)].to_numpy(dtype=np.float64)
        for k, c in enumerate(OHLCV_COLUMNS):
            arrays[c][rows, j] = values[:, k]
    index = pd.DatetimeIndex(pd.to_datetime(clock, unit="ns", utc=True), name=INDEX_NAME)
    return Universe(
        symbols=tuple(frames),
        index=index.as_unit("ns"),
        timeframe=tf,
        reports=dict(reports),
        **arrays,
    )
