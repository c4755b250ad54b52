"""Backend factories for the conformance suite (tests/backends/test_conformance.py).

A later backend (backtest sim, exchange testnet) joins the suite by adding one ``pytest.param``
to ``BACKEND_FACTORIES``. A factory takes the symbols' starting prices, the simulated clock and
the starting cash, and returns a :class:`Harness`: the backend plus a way to move a price (a
sim backend would append a bar; an exchange test would wait for the market).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from axon_lab.backends import MockTradingBackend, OmsTradingBackend, TradingBackend
from axon_lab.clock import SimulatedClock


@dataclass
class Harness:
    backend: TradingBackend
    set_price: Callable[[str, float], Any]


Factory = Callable[[Mapping[str, float], SimulatedClock, float], Harness]


def _mock(prices: Mapping[str, float], clock: SimulatedClock, cash: float) -> Harness:
    backend = MockTradingBackend(prices, cash=cash, clock=clock)
    return Harness(backend, backend.set_price)


def _oms(prices: Mapping[str, float], clock: SimulatedClock, cash: float) -> Harness:
    backend = OmsTradingBackend(prices, cash=cash, clock=clock)
    return Harness(backend, backend.set_price)


def _oms_partial(prices: Mapping[str, float], clock: SimulatedClock, cash: float) -> Harness:
    # fills at most half a unit per match, so multi-unit orders go through PARTIALLY_FILLED
    backend = OmsTradingBackend(prices, cash=cash, clock=clock, max_fill_quantity=0.5)
    return Harness(backend, backend.set_price)


BACKEND_FACTORIES = [
    pytest.param(_mock, id="mock"),
    pytest.param(_oms, id="oms"),
    pytest.param(_oms_partial, id="oms-partial"),
]

START = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture(params=BACKEND_FACTORIES)
def make_harness(request: pytest.FixtureRequest, clock: SimulatedClock) -> Callable[..., Harness]:
    factory: Factory = request.param

    def build(prices: Mapping[str, float], cash: float = 1_000.0) -> Harness:
        return factory(prices, clock, cash)

    return build
