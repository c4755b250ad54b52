"""Fixtures for risk tests: a simulated clock, a mock backend and a recording spy around it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock

PRICES = {"AAA": 20.0, "BBB": 4.0}
START = datetime(2024, 3, 1, 12, tzinfo=UTC)


class SpyBackend:
    """Delegates to a backend and records every order-changing call; can be told to fail."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.placed: list[Any] = []
        self.replaced: list[tuple[str, Any, Any]] = []
        self.cancelled: list[str] = []
        self.fail_with: Exception | None = None
        self.fail_reads_with: Exception | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def clock(self) -> Any:
        return self.inner.clock

    @property
    def symbols(self) -> frozenset[str]:
        return self.inner.symbols

    def _maybe_fail(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    async def place_order(self, order: Any) -> Any:
        self.placed.append(order)
        self._maybe_fail()
        return await self.inner.place_order(order)

    async def replace_order(self, order_id: str, *, quantity: Any = None, price: Any = None) -> Any:
        self.replaced.append((order_id, quantity, price))
        self._maybe_fail()
        return await self.inner.replace_order(order_id, quantity=quantity, price=price)

    async def cancel_order(self, order_id: str) -> Any:
        self.cancelled.append(order_id)
        self._maybe_fail()
        return await self.inner.cancel_order(order_id)

    async def query_portfolio(self) -> Any:
        if self.fail_reads_with is not None:
            raise self.fail_reads_with
        return await self.inner.query_portfolio()

    async def last_price(self, symbol: str) -> float:
        return await self.inner.last_price(symbol)

    async def get_order(self, order_id: str) -> Any:
        return await self.inner.get_order(order_id)

    async def open_orders(self, symbol: str | None = None) -> Any:
        return await self.inner.open_orders(symbol)

    async def fills(self, order_id: str | None = None) -> Any:
        return await self.inner.fills(order_id)

    @property
    def sent(self) -> int:
        return len(self.placed) + len(self.replaced)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def backend(clock: SimulatedClock) -> MockTradingBackend:
    return MockTradingBackend(PRICES, cash=10_000.0, clock=clock)


@pytest.fixture
def spy(backend: MockTradingBackend) -> SpyBackend:
    return SpyBackend(backend)


@pytest.fixture(scope="session")
def spy_class() -> type[SpyBackend]:
    """The spy class itself, for tests that build fresh backends (e.g. per hypothesis example)."""
    return SpyBackend


@pytest.fixture(scope="session")
def prices() -> dict[str, float]:
    return dict(PRICES)
