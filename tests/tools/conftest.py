from __future__ import annotations

from datetime import UTC, datetime

import pytest

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock

PRICES = {"AAA": 20.0, "BBB": 4.0}


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2024, 3, 1, 12, tzinfo=UTC))


@pytest.fixture
def backend(clock: SimulatedClock) -> MockTradingBackend:
    return MockTradingBackend(PRICES, cash=1_000.0, clock=clock)
