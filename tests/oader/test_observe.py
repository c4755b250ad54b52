"""ContextBuilder: its observation equals the validated one; the portfolio is read once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.data import MarketView, make_synthetic
from axon_lab.oader import ContextBuilder
from axon_lab.records import Observation
from axon_lab.tools import make_trading_tools


@pytest.fixture
def observe() -> ContextBuilder:
    frame = make_synthetic(80, timeframe="1h", start="2024-01-01", seed=3, symbol="SYN")
    view = MarketView(frame, feature_spec=["rsi_14", "atr_14"])
    return ContextBuilder(view, MockTradingBackend({"SYN": 100.0}, cash=1_000.0), lookback=5)


def test_fast_observation_equals_the_validated_one(observe: ContextBuilder) -> None:
    for hour in (3, 20, 60):  # NaN features (None) early, numbers later
        now = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=hour)
        fast = observe(now)
        checked = Observation(**dict(fast))
        assert fast == checked
        assert fast.to_json() == checked.to_json()
        assert fast.digest() == checked.digest()


def test_the_portfolio_is_the_backends_snapshot_read_once(observe: ContextBuilder) -> None:
    now = datetime(2024, 1, 2, 5, tzinfo=UTC)
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=SimulatedClock(now))
    tools = make_trading_tools(backend)
    tools.place.run('{"symbol": "SYN", "side": "buy", "quantity": 2}')
    reads = 0
    query = backend.query_portfolio

    async def counted() -> Any:
        nonlocal reads
        reads += 1
        return await query()

    backend.query_portfolio = counted  # type: ignore[method-assign]
    obs = ContextBuilder(observe.view, backend, lookback=5)(now)
    assert reads == 1
    assert obs.portfolio.positions["SYN"].quantity == 2
    assert obs.portfolio == asyncio.run(query())
