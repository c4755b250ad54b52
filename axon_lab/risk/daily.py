"""A count that resets at each UTC midnight of the loop's clock.

Examples:
    >>> from datetime import datetime, timedelta, timezone
    >>> from axon_lab.clock import SimulatedClock
    >>> clock = SimulatedClock(datetime(2024, 1, 1, 23, tzinfo=timezone.utc))
    >>> counter = DailyCounter(clock)
    >>> counter.increment(), counter.increment()
    (1, 2)
    >>> _ = clock.advance(timedelta(hours=1))
    >>> counter.count
    0
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from axon_lab.clock import Clock, utc_day

__all__ = ["DailyCounter", "day_of"]


def day_of(moment: datetime) -> date:
    """:func:`~axon_lab.clock.utc_day` of ``moment`` (a UTC datetime's own date, directly)."""
    if type(moment) is datetime and moment.tzinfo is UTC:
        return moment.date()  # what utc_day returns: the moment is aware and already in UTC
    return utc_day(moment)


class DailyCounter:
    """Counts events per UTC day as the given clock tells it.

    Args:
        clock: The loop's clock; a simulated clock makes a backtest reset per simulated day.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._day: date | None = None
        self._count = 0
        self._rolled_at: datetime | None = None  # the clock reading _day was taken from

    def _roll(self) -> None:
        now = self._clock.now()
        if now is self._rolled_at:  # the very same reading: the same day, nothing to roll
            return
        today = day_of(now)
        if today != self._day:
            self._day = today
            self._count = 0
        self._rolled_at = now

    @property
    def count(self) -> int:
        """Events so far today."""
        self._roll()
        return self._count

    def increment(self) -> int:
        """Count one event today and return today's total."""
        self._roll()
        self._count += 1
        return self._count
