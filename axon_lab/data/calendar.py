"""Session-aware gap detection.

A gap is an *expected* bar that is absent. What is expected is learned from the data itself, so
the same rule serves 24/7 crypto, 24/5 forex and exchange-traded equities:

1. Bars are placed on their timeframe grid (the most common phase of ``timestamp mod timeframe``
   is the grid origin; each bar is rounded to the nearest grid point, which tolerates the
   one-hour shifts of exchange sessions across daylight saving time).
2. When the timeframe divides a week and the data spans at least two weeks, each grid point is
   assigned a *weekly slot* (its position within a Monday-00:00-UTC week). A slot is **in
   session** when it holds at least half as many bars as the busiest slot. Slots outside the
   session (weekends for equities, Friday night to Sunday evening for forex) are never gaps.
3. Otherwise every grid point is expected (24/7).

Holidays are absences of in-session slots, so they are reported as gaps: they are facts about the
data, and the report shows them rather than hiding them.

Examples:
    >>> idx = pd.date_range("2024-01-01", periods=30, freq="B", tz="UTC")  # weekdays only
    >>> gaps, calendar = find_gaps(idx.delete(10), Timeframe.parse("1d"))
    >>> [(g.start.date().isoformat(), g.missing_bars) for g in gaps], calendar
    ([('2024-01-15', 1)], 'sessions learned from data (no bars on Sat, Sun)')
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from axon_lab.data.frame import Timeframe
from axon_lab.data.report import Gap

__all__ = ["find_gaps", "grid_phase", "off_grid_mask"]

_HOUR_NS: Final = 3600 * 1_000_000_000
_DAY_NS: Final = 24 * _HOUR_NS
_WEEK_NS: Final = 7 * _DAY_NS
_MONDAY_NS: Final = 4 * _DAY_NS  # 1970-01-05, the first Monday after the epoch
_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SESSION_THRESHOLD: Final = 0.5
"""A weekly slot is in session when it holds >= this fraction of the busiest slot's bars."""


def _mode(values: np.ndarray) -> int:
    uniq, counts = np.unique(values, return_counts=True)
    return int(uniq[int(np.argmax(counts))])


def grid_phase(ts_ns: np.ndarray, modulus: int) -> int:
    """Most common ``timestamp mod modulus`` (the grid origin), in nanoseconds."""
    return _mode(np.mod(ts_ns, modulus)) if ts_ns.size else 0


def off_grid_mask(ts_ns: np.ndarray, timeframe: Timeframe) -> np.ndarray:
    """Bars whose timestamp is not on the grid of the data (e.g. a partial bar at 14:46:02).

    The grid is checked modulo ``min(timeframe, 1h)`` so that daily or 4-hour bars whose UTC
    stamps shift by an hour with daylight saving time are not flagged.

    Args:
        ts_ns: Timestamps as int64 nanoseconds since the epoch.
        timeframe: The bar duration.

    Returns:
        Boolean mask, True for off-grid bars.
    """
    modulus = min(timeframe.nanos, _HOUR_NS)
    phase = grid_phase(ts_ns, modulus)
    return np.asarray(np.mod(ts_ns - phase, modulus) != 0)


def find_gaps(index: pd.DatetimeIndex, timeframe: Timeframe) -> tuple[list[Gap], str]:
    """Find runs of expected-but-absent bars in a sorted, unique index.

    Args:
        index: Sorted unique bar open times (UTC).
        timeframe: The bar duration.

    Returns:
        The gaps in time order and a description of the calendar used.
    """
    ts = np.asarray(pd.DatetimeIndex(index).as_unit("ns").asi8, dtype=np.int64)
    tf = timeframe.nanos
    if ts.size < 2:
        return [], "too few bars to judge"
    phase = grid_phase(ts, tf)
    shift = (phase - _MONDAY_NS) // tf  # grid index -> global index counted from a Monday
    g = (ts - phase + tf // 2) // tf + shift
    spw = _WEEK_NS // tf if (tf < _WEEK_NS and _WEEK_NS % tf == 0) else 0
    if spw and ts[-1] - ts[0] >= 2 * _WEEK_NS:
        counts = np.bincount(np.mod(g, spw), minlength=spw)
        active = counts >= SESSION_THRESHOLD * counts.max()
    else:
        spw = 1
        active = np.ones(1, dtype=bool)
    if active.all():
        calendar = "24/7: every bar on the grid is expected"
        spw = 1
        active = np.ones(1, dtype=bool)
    else:
        slot_days = (np.arange(spw) * tf + (phase - _MONDAY_NS) % tf) // _DAY_NS
        idle = [_DAYS[d] for d in range(7) if not active[slot_days == d].any()]
        where = f" (no bars on {', '.join(idle)})" if idle else " (intraday sessions)"
        calendar = f"sessions learned from data{where}"
    cum = np.concatenate([[0], np.cumsum(active)])
    n_active = int(cum[-1])

    def before(x: np.ndarray) -> np.ndarray:  # active slots with global index < x
        return np.asarray((x // spw) * n_active + cum[np.mod(x, spw)])

    nxt = g[1:]
    after = g[:-1] + 1
    missing = before(nxt) - before(after)
    where_gap = np.flatnonzero(missing > 0)
    if where_gap.size == 0:
        return [], calendar
    # first active slot at or after `after`: distance to the next active slot, per slot
    active_at = np.flatnonzero(np.concatenate([active, active]))
    slots = np.arange(spw)
    next_offset = active_at[np.searchsorted(active_at, slots)] - slots
    first = after[where_gap] + next_offset[np.mod(after[where_gap], spw)]
    starts = (first - shift) * tf + phase
    gaps = [
        Gap(
            start=pd.Timestamp(int(s), unit="ns", tz="UTC"),
            end=pd.Timestamp(int(ts[i + 1]), unit="ns", tz="UTC"),
            missing_bars=int(missing[i]),
        )
        for s, i in zip(starts, where_gap, strict=True)
    ]
    return gaps, calendar
