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

import pandas as pd
import pytest

from axon_lab.backends import (
    MockTradingBackend,
    OmsTradingBackend,
    SimTradingBackend,
    TradingBackend,
)
from axon_lab.clock import SimulatedClock


def _no_op() -> None:
    return None


@dataclass
class Harness:
    """A backend under test plus how to move its market.

    ``settle`` lets the fills a backend owes happen: a no-op for backends that fill at once; the
    sim backend (market orders fill at the next bar's open) appends a bar at the last prices and
    moves the clock past it. The suite calls it after placing an order and before checking fills.
    """

    backend: TradingBackend
    set_price: Callable[[str, float], Any]
    settle: Callable[[], Any] = _no_op


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


def _sim(prices: Mapping[str, float], clock: SimulatedClock, cash: float) -> Harness:
    # one flat bar per symbol completing at the clock's start; each price move is a new bar
    # opening at the clock's time, after which the clock moves to that bar's completion
    hour = pd.Timedelta(hours=1)

    def frames(at: pd.Timestamp, price: Mapping[str, float]) -> dict[str, pd.DataFrame]:
        index = pd.DatetimeIndex([at], name="timestamp").as_unit("ns")
        return {
            sym: pd.DataFrame({c: [p] for c in ("open", "high", "low", "close")}, index=index)
            for sym, p in price.items()
        }

    backend = SimTradingBackend(
        frames(pd.Timestamp(clock.now()) - hour, prices),
        cash=cash,
        clock=clock,
        timeframe="1h",
        streaming=True,
    )

    def append(moves: Mapping[str, float]) -> None:
        now = pd.Timestamp(clock.now())
        backend.append_bars(frames(now, {s: moves.get(s, backend.price(s)) for s in prices}))
        clock.set((now + hour).to_pydatetime())

    return Harness(backend, lambda sym, p: append({sym: p}), lambda: append({}))


BACKEND_FACTORIES = [
    pytest.param(_mock, id="mock"),
    pytest.param(_oms, id="oms"),
    pytest.param(_oms_partial, id="oms-partial"),
    pytest.param(_sim, id="sim"),
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
