"""Clocks: the one place axon_lab reads the time.

Everything time-dependent (daily order counts, confirm-token expiry, circuit-breaker windows)
reads a :class:`Clock` rather than ``datetime.now``, so a backtest on a :class:`SimulatedClock`
behaves exactly like a live run on a :class:`WallClock`, one simulated day at a time.

Examples:
    >>> from datetime import datetime, timedelta, timezone
    >>> clock = SimulatedClock(datetime(2024, 1, 1, tzinfo=timezone.utc))
    >>> clock.advance(timedelta(hours=25)).isoformat()
    '2024-01-02T01:00:00+00:00'
    >>> utc_day(clock.now()).isoformat()
    '2024-01-02'
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

from axon_lab.errors import ConfigError

__all__ = ["Clock", "SimulatedClock", "WallClock", "utc_day"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


def _check_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(
            f"{what} must be timezone-aware, got the naive datetime {value.isoformat()!r}; "
            "pass e.g. datetime(..., tzinfo=timezone.utc)"
        )
    return value.astimezone(UTC)


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of ``moment`` (the boundary daily limits reset on)."""
    return _check_aware(moment, "moment").date()


class WallClock:
    """The real time in UTC."""

    def now(self) -> datetime:
        """The current wall-clock time in UTC."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "WallClock()"


class SimulatedClock:
    """A clock that only moves when told to; the clock of backtests and tests.

    Args:
        start: The initial time; must be timezone-aware (it is converted to UTC).
    """

    def __init__(self, start: datetime) -> None:
        self._now = _check_aware(start, "start")

    def now(self) -> datetime:
        """The current simulated time."""
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Move to ``moment``; time never runs backwards.

        Raises:
            ConfigError: If ``moment`` is naive or earlier than the current time.
        """
        moment = _check_aware(moment, "moment")
        if moment < self._now:
            raise ConfigError(
                f"cannot move the clock back from {self._now.isoformat()} to "
                f"{moment.isoformat()}; create a new SimulatedClock to restart"
            )
        self._now = moment
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time.

        Raises:
            ConfigError: If ``delta`` is negative.
        """
        if delta < timedelta(0):
            raise ConfigError(f"cannot advance the clock by a negative delta {delta!r}")
        self._now = self._now + delta
        return self._now

    def __repr__(self) -> str:
        return f"SimulatedClock({self._now.isoformat()!r})"
