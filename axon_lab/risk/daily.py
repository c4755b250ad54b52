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

from datetime import date

from axon_lab.clock import Clock, utc_day

__all__ = ["DailyCounter"]


class DailyCounter:
    """Counts events per UTC day as the given clock tells it.

    Args:
        clock: The loop's clock; a simulated clock makes a backtest reset per simulated day.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._day: date | None = None
        self._count = 0

    def _roll(self) -> None:
        today = utc_day(self._clock.now())
        if today != self._day:
            self._day = today
            self._count = 0

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
