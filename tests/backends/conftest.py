"""Backend factories for the conformance suite (tests/backends/test_conformance.py).

A later backend joins the suite by adding one ``pytest.param`` to ``BACKEND_FACTORIES``. A
factory takes the symbols' starting prices, the simulated clock and the starting cash, and
returns a :class:`Harness`: the backend plus a way to move a price (the sim backend appends a bar;
the exchange backend's local exchange appends a bar on the server).

The exchange backend runs against one :class:`LocalExchangeServer` per test session (a real HTTP
server on 127.0.0.1 in a background thread), reset to a fresh account for each test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from axon_lab.backends import (
    ExchangeTradingBackend,
    LocalExchangeServer,
    MockTradingBackend,
    OmsTradingBackend,
    RequestBudget,
    RetryPolicy,
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
    close: Callable[[], Any] = _no_op


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


_SERVER: list[LocalExchangeServer] = []  # the session's local exchange, started on first use
QUOTE = "USDT"


def local_exchange() -> LocalExchangeServer:
    """The session's local exchange (started on first use; stopped at the end of the session)."""
    if not _SERVER:
        start = datetime(2020, 1, 1, tzinfo=UTC)
        bars = {f"X/{QUOTE}": _flat_frame(pd.Timestamp(start), 1.0)}
        _SERVER.append(
            LocalExchangeServer(bars, cash=1.0, clock=SimulatedClock(start), timeframe="1h").start()
        )
    return _SERVER[0]


def _flat_frame(at: pd.Timestamp, price: float) -> pd.DataFrame:
    index = pd.DatetimeIndex([at], name="timestamp").as_unit("ns")
    return pd.DataFrame(
        {c: [price] for c in ("open", "high", "low", "close", "volume")}, index=index
    )


def exchange_harness(
    prices: Mapping[str, float],
    clock: SimulatedClock,
    cash: float,
    *,
    retry: RetryPolicy | None = None,
    budget: RequestBudget | None = None,
    timeout_ms: int = 5_000,
) -> Harness:
    """An ExchangeTradingBackend on a fresh account of the session's local exchange."""
    pytest.importorskip("ccxt", reason="the exchange backend needs axon-lab[exchange]")
    server = local_exchange()
    start = pd.Timestamp(clock.now()) - pd.Timedelta(hours=1)
    server.reset({f"{s}/{QUOTE}": _flat_frame(start, p) for s, p in prices.items()}, cash=cash,
                 clock=clock)  # fmt: skip
    config = server.ccxt_config(timeout_ms=timeout_ms)
    config["rateLimit"] = 1  # ccxt's limiter stays on, at a pace a local server can take
    backend = ExchangeTradingBackend(
        "binance",
        symbols={s: f"{s}/{QUOTE}" for s in prices},
        clock=clock,
        config=config,
        url=server.url,
        retry=retry or RetryPolicy(attempts=4, backoff=0.0),
        budget=budget or RequestBudget(10_000, 1.0),  # (its own tests check the waiting)
    )
    return Harness(
        backend,
        lambda sym, p: server.push_prices({f"{sym}/{QUOTE}": p}),
        lambda: server.push_prices({}),
        backend.close,
    )


def _exchange(prices: Mapping[str, float], clock: SimulatedClock, cash: float) -> Harness:
    return exchange_harness(prices, clock, cash)


BACKEND_FACTORIES = [
    pytest.param(_mock, id="mock"),
    pytest.param(_oms, id="oms"),
    pytest.param(_oms_partial, id="oms-partial"),
    pytest.param(_sim, id="sim"),
    pytest.param(_exchange, id="exchange"),
]

START = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture(scope="session", autouse=True)
def _stop_local_exchange() -> Iterator[None]:
    yield
    while _SERVER:
        _SERVER.pop().stop()


@pytest.fixture(params=BACKEND_FACTORIES)
def make_harness(
    request: pytest.FixtureRequest, clock: SimulatedClock
) -> Iterator[Callable[..., Harness]]:
    factory: Factory = request.param
    built: list[Harness] = []

    def build(prices: Mapping[str, float], cash: float = 1_000.0) -> Harness:
        built.append(factory(prices, clock, cash))
        return built[-1]

    yield build
    for harness in built:
        harness.close()
