"""Validate an OHLCV frame: strict (raise) or repair (fix, report, warn once).

Checks, in the order a bar's drop reason is assigned:

* rows in time order, unique timestamps (duplicates: the **last** row wins, like a re-download
  overwriting an earlier one);
* missing values (NaN), non-finite values (inf), prices <= 0, negative volume;
* OHLC consistency: ``low <= min(open, close)``, ``max(open, close) <= high`` (hence low <= high);
* bars off the timeframe grid (e.g. a partial bar stamped 14:46:02 among 15-minute bars);
* gaps against the session calendar learned from the data (see :mod:`axon_lab.data.calendar`).

``policy="strict"`` raises :class:`~axon_lab.errors.DataError` naming the first bad rows and the
fix. ``policy="repair"`` sorts, drops the bad rows, flags gaps (never fills them), emits one
:class:`~axon_lab.data.DataRepairWarning` when it changed anything, and returns a frozen
:class:`~axon_lab.data.ValidationReport`. Gaps never raise and never warn on their own: every
equity series has holidays; they are listed in the report.

Examples:
    >>> import warnings
    >>> idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    >>> f = pd.DataFrame({"open": [1.0, 2, 3, 4], "high": [2.0, 3, 4, 5], "low": [0.5, 1, 2, 3],
    ...                   "close": [1.5, 2.5, float("nan"), 4.5], "volume": [1.0, 1, 1, 1]},
    ...                  index=idx)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     clean, report = validate_ohlcv(f, policy="repair", symbol="X")
    >>> len(clean), report.dropped[0].reason, caught[0].category.__name__
    (3, 'missing_value', 'DataRepairWarning')
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

from axon_lab.data.calendar import find_gaps, off_grid_mask
from axon_lab.data.frame import (
    OHLCV_COLUMNS,
    VOLUME,
    Timeframe,
    TimeframeLike,
    detect_timeframe,
    make_canonical,
)
from axon_lab.data.report import DataRepairWarning, DroppedBar, DropReason, ValidationReport
from axon_lab.errors import ConfigError, DataError

__all__ = ["Policy", "validate_ohlcv"]

Policy = Literal["strict", "repair"]
_MAX_SHOWN = 5


def _fmt_row(values: np.ndarray) -> str:
    return " ".join(f"{c}={v!r}" for c, v in zip(OHLCV_COLUMNS, values.tolist(), strict=True))


def _ns(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(frame.index).asi8)


def _ts(ns: object) -> pd.Timestamp:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC")  # type: ignore[call-overload]


def _row_reasons(data: np.ndarray) -> np.ndarray:
    """Per-row drop reason ("" when the row is fine); first matching reason wins."""
    o, h, lo, c, v = (data[:, i] for i in range(5))
    reasons = np.full(len(data), "", dtype=object)
    nan = np.isnan(data).any(axis=1)
    inf = np.isinf(data).any(axis=1)
    with np.errstate(invalid="ignore"):
        nonpos = (data[:, :4] <= 0).any(axis=1)
        negvol = v < 0
        inconsistent = (lo > np.minimum(o, c)) | (h < np.maximum(o, c)) | (lo > h)
    for mask, reason in (
        (inconsistent, "inconsistent_ohlc"),
        (negvol, "negative_volume"),
        (nonpos, "non_positive_price"),
        (inf, "non_finite"),
        (nan, "missing_value"),
    ):
        reasons[mask] = reason  # later assignments win: order above is reverse priority
    return reasons


def _fix_hint(reason: str) -> str:
    return {
        "missing_value": "drop them with frame.dropna()",
        "non_finite": "replace or drop the inf values",
        "non_positive_price": "drop rows with prices <= 0 (prices must be positive)",
        "negative_volume": "drop or correct rows with negative volume",
        "inconsistent_ohlc": "correct rows where low > open/close or high < open/close",
        "off_grid": "drop bars not aligned to the timeframe (partial bars) or resample",
        "duplicate_timestamp": "drop duplicates with frame[~frame.index.duplicated(keep='last')]",
    }.get(reason, "clean the data")


def validate_ohlcv(
    frame: pd.DataFrame,
    policy: Policy = "strict",
    timeframe: TimeframeLike | None = None,
    *,
    symbol: str | None = None,
    notes: Iterable[str] = (),
    source: str | None = None,
    _stacklevel: int = 2,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Check an OHLCV frame and, with ``policy="repair"``, fix what can be fixed safely.

    Args:
        frame: OHLCV frame with a DatetimeIndex of bar open times (canonical or close to it:
            it is coerced with :func:`~axon_lab.data.make_canonical`).
        policy: ``"strict"`` raises on the first problem; ``"repair"`` drops bad rows and
            reports them.
        timeframe: Bar duration; defaults to ``frame.attrs["timeframe"]``, else detected.
        symbol: Symbol; defaults to ``frame.attrs["symbol"]``.
        notes: Extra notes to carry in the report (loaders pass theirs here).
        source: File the data came from, for messages and the report.

    Returns:
        The validated canonical frame (a new object; ``attrs["report"]`` holds the report)
        and the :class:`~axon_lab.data.ValidationReport`.

    Raises:
        DataError: ``strict`` and the data has a problem; the message names the first bad
            rows, their values and the fix.
        ConfigError: For an unknown policy or a missing symbol.

    Examples:
        >>> idx = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
        >>> f = pd.DataFrame({"open": [1.0, 1, 1], "high": [1.0, 1, 1], "low": [1.0, 1, 0.5],
        ...                   "close": [1.0, 1, 2], "volume": [0.0, 0, 0]}, index=idx)
        >>> validate_ohlcv(f, symbol="X")
        Traceback (most recent call last):
        ...
        axon_lab.errors.DataError: X: 1 bar(s) fail validation (1 inconsistent_ohlc). First bad rows: 2024-01-01 02:00:00+00:00 inconsistent_ohlc: open=1.0 high=1.0 low=0.5 close=2.0 volume=0.0. Fix: correct rows where low > open/close or high < open/close, or call validate_ohlcv(frame, policy='repair') to drop and report them.
    """  # noqa: E501
    if policy not in ("strict", "repair"):
        raise ConfigError(f"policy must be 'strict' or 'repair', got {policy!r}.")
    sym = symbol or frame.attrs.get("symbol")
    if not sym:
        raise ConfigError("The frame has no attrs['symbol']; pass symbol=... to validate_ohlcv.")
    tf_given = timeframe if timeframe is not None else frame.attrs.get("timeframe")
    where = f"{sym} ({source})" if source else str(sym)
    notes_list = list(notes)
    rows_in = len(frame)
    if rows_in == 0:
        raise DataError(f"{where}: no rows to validate. Check the file or the symbol filter.")
    tf_for_coerce = tf_given if tf_given is not None else pd.Timedelta(1, "s")
    work = make_canonical(frame, symbol=str(sym), timeframe=tf_for_coerce)

    # ---- order and duplicates
    was_sorted = False
    if not work.index.is_monotonic_increasing:
        if policy == "strict":
            pos = int(np.flatnonzero(np.diff(_ns(work)) < 0)[0])
            raise DataError(
                f"{where}: timestamps are not in time order: the bar at position {pos + 1} "
                f"(0-based) is {work.index[pos + 1]}, after {work.index[pos]}. Fix: "
                "frame.sort_index(), or call validate_ohlcv(frame, policy='repair')."
            )
        work = work.iloc[np.argsort(_ns(work), kind="stable")]
        was_sorted = True
    dropped: list[DroppedBar] = []
    dup_mask = np.asarray(work.index.duplicated(keep="last"))
    duplicates: tuple[pd.Timestamp, ...] = ()
    if dup_mask.any():
        dup_index = work.index[dup_mask]
        duplicates = tuple(pd.DatetimeIndex(dup_index.unique()))
        if policy == "strict":
            shown = ", ".join(str(t) for t in duplicates[:_MAX_SHOWN])
            raise DataError(
                f"{where}: {len(duplicates)} duplicate timestamp(s), first: {shown}. Fix: "
                f"{_fix_hint('duplicate_timestamp')}, or call validate_ohlcv(frame, "
                "policy='repair') (keeps the last row of each)."
            )
        values = work.to_numpy()
        stamps = _ns(work)
        kept_pos = {int(t): i for i, t in enumerate(stamps)}  # last occurrence wins
        for dpos in np.flatnonzero(dup_mask):
            other = values[kept_pos[int(stamps[dpos])]]
            same = np.array_equal(values[dpos], other, equal_nan=True)
            detail = "identical to the kept row" if same else (
                f"differs from the kept row: dropped {_fmt_row(values[dpos])}; "
                f"kept {_fmt_row(other)}"
            )  # fmt: skip
            dropped.append(DroppedBar(_ts(stamps[dpos]), "duplicate_timestamp", detail))
        work = work.iloc[~dup_mask]

    # ---- values
    data = work.to_numpy()
    reasons = _row_reasons(data)
    tf = Timeframe.parse(tf_given) if tf_given is not None else None
    if tf is None:
        ok_rows = reasons == ""
        idx = pd.DatetimeIndex(work.index)
        tf = detect_timeframe(idx[ok_rows] if ok_rows.sum() >= 2 else idx)
    off = off_grid_mask(np.asarray(_ns(work)), tf) & (reasons == "")
    reasons[off] = "off_grid"
    bad = np.flatnonzero(reasons != "")
    if bad.size:
        counts = pd.Series(reasons[bad]).value_counts()
        summary = ", ".join(f"{n} {r}" for r, n in counts.items())
        if policy == "strict":
            shown = "; ".join(
                f"{work.index[i]} {reasons[i]}: {_fmt_row(data[i])}" for i in bad[:_MAX_SHOWN]
            )
            first_reason = str(reasons[bad[0]])
            raise DataError(
                f"{where}: {bad.size} bar(s) fail validation ({summary}). First bad rows: "
                f"{shown}. Fix: {_fix_hint(first_reason)}, or call validate_ohlcv(frame, "
                "policy='repair') to drop and report them."
            )
        for i in bad:
            reason: DropReason = reasons[i]
            dropped.append(DroppedBar(_ts(_ns(work)[i]), reason, _fmt_row(data[i])))
        keep = np.ones(len(work), dtype=bool)
        keep[bad] = False
        work = work.iloc[keep]

    if len(work) == 0:
        raise DataError(
            f"{where}: every one of the {rows_in} rows was dropped by validation "
            f"({', '.join(sorted({b.reason for b in dropped}))}); there is no usable data."
        )
    gaps, calendar = find_gaps(pd.DatetimeIndex(work.index), tf)
    zero_volume = int((work[VOLUME].to_numpy() == 0).sum())
    report = ValidationReport(
        symbol=str(sym),
        timeframe=tf.label,
        policy=policy,
        rows_in=rows_in,
        rows_out=len(work),
        sorted=was_sorted,
        duplicates=duplicates,
        dropped=tuple(sorted(dropped, key=lambda b: (b.timestamp, b.reason))),
        gaps=tuple(gaps),
        calendar=calendar,
        zero_volume_bars=zero_volume,
        notes=tuple(notes_list),
        source=source,
    )
    out = work.copy()
    out.attrs = {"symbol": str(sym), "timeframe": tf.label, "report": report}
    if source:
        out.attrs["source"] = source
    if policy == "repair" and (dropped or was_sorted):
        warnings.warn(
            f"{where}: repaired OHLCV data: "
            + ("sorted rows; " if was_sorted else "")
            + f"dropped {len(dropped)} of {rows_in} rows "
            + f"({', '.join(f'{n} {r}' for r, n in report.dropped_by_reason().items())}); "
            + f"{len(gaps)} gap(s) flagged. See frame.attrs['report'] for every change.",
            DataRepairWarning,
            stacklevel=_stacklevel,
        )
    return out, report
