from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from axon_lab.clock import Clock, SimulatedClock, WallClock, utc_day
from axon_lab.errors import ConfigError

T = datetime(2024, 1, 1, tzinfo=UTC)


def test_simulated_clock_moves_only_forward():
    c = SimulatedClock(T)
    assert c.advance(timedelta(minutes=5)) == T + timedelta(minutes=5)
    with pytest.raises(ConfigError, match="cannot move the clock back"):
        c.set(T)
    with pytest.raises(ConfigError, match="negative delta"):
        c.advance(timedelta(seconds=-1))


def test_naive_times_are_refused_and_offsets_normalised():
    with pytest.raises(ConfigError, match="must be timezone-aware"):
        SimulatedClock(datetime(2024, 1, 1))
    east = datetime(2024, 1, 2, 1, tzinfo=timezone(timedelta(hours=3)))
    assert SimulatedClock(east).now().tzinfo is UTC
    assert utc_day(east).isoformat() == "2024-01-01"


def test_wall_clock_is_aware_utc():
    assert isinstance(WallClock(), Clock)
    assert WallClock().now().tzinfo is UTC
