"""What validation found and changed: frozen, printable, serialisable.

A :class:`ValidationReport` lists exactly what :func:`~axon_lab.data.validate_ohlcv` changed
(every dropped bar with its reason, the duplicates it collapsed) and what it only flagged (gaps,
zero-volume bars), plus notes from the loader (naive timestamps read in a zone, UTC offsets
converted, adjusted close used). It travels with the frame in ``frame.attrs["report"]``.

Examples:
    >>> r = ValidationReport(symbol="X", timeframe="1d", policy="repair", rows_in=3, rows_out=3)
    >>> r.is_clean
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

__all__ = [
    "DataRepairWarning",
    "DropReason",
    "DroppedBar",
    "Gap",
    "ValidationReport",
]

DropReason = Literal[
    "duplicate_timestamp", "missing_value", "non_finite", "non_positive_price",
    "negative_volume", "inconsistent_ohlc", "off_grid",
]  # fmt: skip
"""Why a bar was dropped by ``policy="repair"``."""


class DataRepairWarning(UserWarning):
    """``validate_ohlcv(policy="repair")`` changed the data; the report says exactly how."""


@dataclass(frozen=True, slots=True)
class DroppedBar:
    """One bar removed by repair.

    Attributes:
        timestamp: The bar's open time (UTC).
        reason: Why it was dropped.
        detail: The offending values, e.g. ``"low=10.0 > open=9.5"``.
    """

    timestamp: pd.Timestamp
    reason: DropReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Gap:
    """Expected bars that are absent between two present bars.

    Attributes:
        start: Open time of the first missing bar.
        end: Open time of the next present bar (exclusive end of the gap).
        missing_bars: How many expected bars are absent (session calendar aware).
    """

    start: pd.Timestamp
    end: pd.Timestamp
    missing_bars: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationReport:
    """What validation checked, changed and flagged for one symbol.

    Attributes:
        symbol: The symbol validated.
        timeframe: Canonical timeframe label.
        policy: ``"strict"`` or ``"repair"``.
        rows_in: Rows before validation.
        rows_out: Rows returned.
        sorted: Whether repair had to sort the rows.
        duplicates: Timestamps that occurred more than once (the last row was kept).
        dropped: Bars removed, each with its reason (duplicates are listed here too).
        gaps: Missing bars found against the session calendar (flagged, never filled).
        calendar: How gaps were judged, e.g. ``"24/7"`` or ``"sessions learned from data"``.
        zero_volume_bars: Count of bars with volume 0 (kept).
        notes: Loader and validation notes in plain words.
        source: File the data came from, if any.
    """

    symbol: str
    timeframe: str
    policy: str
    rows_in: int
    rows_out: int
    sorted: bool = False
    duplicates: tuple[pd.Timestamp, ...] = ()
    dropped: tuple[DroppedBar, ...] = ()
    gaps: tuple[Gap, ...] = ()
    calendar: str = ""
    zero_volume_bars: int = 0
    notes: tuple[str, ...] = field(default=())
    source: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> ValidationReport:
        # Immutable: pandas deep-copies attrs on every operation, sharing is safe and cheap.
        return self

    @property
    def missing_bars(self) -> int:
        """Total expected bars absent across all gaps."""
        return sum(g.missing_bars for g in self.gaps)

    @property
    def is_clean(self) -> bool:
        """True when nothing was dropped, sorted or flagged."""
        return not (self.dropped or self.gaps or self.sorted or self.duplicates)

    def dropped_by_reason(self) -> dict[str, int]:
        """Count of dropped bars per reason."""
        counts: dict[str, int] = {}
        for bar in self.dropped:
            counts[bar.reason] = counts.get(bar.reason, 0) + 1
        return counts

    def summary(self, *, max_items: int = 5) -> str:
        """A readable multi-line summary.

        Args:
            max_items: How many dropped bars and gaps to list individually.

        Returns:
            The summary text.
        """
        src = f" from {self.source}" if self.source else ""
        lines = [
            f"ValidationReport {self.symbol} {self.timeframe}{src} (policy={self.policy}): "
            f"{self.rows_in} rows in, {self.rows_out} rows out"
        ]
        if self.sorted:
            lines.append("- rows were not in time order; sorted")
        if self.duplicates:
            lines.append(
                f"- {len(self.duplicates)} duplicate timestamp(s), kept the last row of each "
                f"(first: {self.duplicates[0]})"
            )
        by_reason = self.dropped_by_reason()
        if by_reason:
            parts = ", ".join(f"{n} {reason}" for reason, n in by_reason.items())
            lines.append(f"- dropped {len(self.dropped)} row(s): {parts}")
            for bar in [b for b in self.dropped if b.reason != "duplicate_timestamp"][:max_items]:
                lines.append(f"    {bar.timestamp}  {bar.reason}  {bar.detail}".rstrip())
        if self.gaps:
            lines.append(
                f"- {len(self.gaps)} gap(s), {self.missing_bars} missing bar(s) (not filled; "
                f"calendar: {self.calendar})"
            )
            for gap in sorted(self.gaps, key=lambda g: -g.missing_bars)[:max_items]:
                lines.append(f"    {gap.start} .. {gap.end}  {gap.missing_bars} bar(s)")
        if self.zero_volume_bars:
            lines.append(f"- {self.zero_volume_bars} bar(s) with zero volume (kept)")
        lines.extend(f"- note: {note}" for note in self.notes)
        if len(lines) == 1:
            lines.append("- clean: nothing changed or flagged")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (timestamps as ISO strings).

        Returns:
            The report as plain Python values.
        """
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "policy": self.policy,
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "sorted": self.sorted,
            "duplicates": [t.isoformat() for t in self.duplicates],
            "dropped": [
                {"timestamp": b.timestamp.isoformat(), "reason": b.reason, "detail": b.detail}
                for b in self.dropped
            ],
            "gaps": [
                {
                    "start": g.start.isoformat(),
                    "end": g.end.isoformat(),
                    "missing_bars": g.missing_bars,
                }
                for g in self.gaps
            ],
            "missing_bars": self.missing_bars,
            "calendar": self.calendar,
            "zero_volume_bars": self.zero_volume_bars,
            "notes": list(self.notes),
        }
