"""The OADER loop with the exchange backend: the explain store and the exchange agree at the end.

The rules analyst decides on a synthetic series served by the local exchange; a simple Decide
stage turns its buy/sell calls into market orders (the exchange backend does not take attached
stop-loss / take-profit levels). The loop's simulated clock is the exchange's clock, so each step
lets the exchange fill what the bars since the last one fill. Some placements time out after the
exchange accepted them, and some trade reports are duplicated; at the end the store's fills are
exactly the exchange's trades and the backend's balances are the exchange's.
"""

from __future__ import annotations

import pandas as pd
import pytest

from axon_lab.backends import ExchangeTradingBackend, RequestBudget, RetryPolicy, run_sync
from axon_lab.clock import SimulatedClock
from axon_lab.data import make_synthetic
from axon_lab.oader import make_agent
from axon_lab.records import Action, Analysis, Decision, Observation

from .conftest import local_exchange


def market_only(analysis: Analysis, observation: Observation) -> Decision:
    """Enter on the analyst's buy, or every 6th bar when flat; exit 3 bars later (market orders)."""
    held = observation.portfolio.quantity("SYN")
    hour = observation.timestamp.hour
    if held == 0 and (analysis.action is Action.BUY or hour % 6 == 0):
        qty = 0.4 * observation.portfolio.cash / observation.bars["SYN"][-1].close
        return _decision(Action.BUY, round(qty, 4), analysis)
    if held > 0 and (analysis.action is Action.SELL or hour % 6 == 3):
        return _decision(Action.SELL, held, analysis)
    return Decision(
        action=Action.HOLD, symbol="SYN", confidence=analysis.confidence, source="rules"
    )


def _decision(action: Action, qty: float, analysis: Analysis) -> Decision:
    return Decision(
        action=action,
        symbol="SYN",
        quantity=qty,
        confidence=analysis.confidence,
        source="rules",
        reason=analysis.reason,
    )


def test_store_and_exchange_agree_after_a_run_with_faults():
    pytest.importorskip("ccxt")
    bars = make_synthetic(160, timeframe="1h", start="2024-02-01", seed=21, symbol="SYN")
    clock = SimulatedClock((bars.index[0] + pd.Timedelta(hours=1)).to_pydatetime())
    server = local_exchange()
    server.reset({"SYN/USDT": bars}, cash=10_000.0, clock=clock)
    timeouts_before = server.faults.injected["timeouts_after_accept"]
    server.faults.set(timeouts_after_accept=2, duplicate_fills=True, hang=0.6)
    config = server.ccxt_config(timeout_ms=300) | {"rateLimit": 1}
    backend = ExchangeTradingBackend(
        symbols={"SYN": "SYN/USDT"},
        clock=clock,
        config=config,
        url=server.url,
        retry=RetryPolicy(attempts=4, backoff=0.0),
        budget=RequestBudget(10_000, 1.0),
    )
    loop = make_agent(
        bars,
        backend=backend,
        decide=market_only,
        cash=10_000.0,
        store="sqlite://",
        run_id="exchange-loop",
        progress=False,
        fee_rate=0.0,
    )
    try:
        loop.run(60)
        assert server.faults.injected["timeouts_after_accept"] == timeouts_before + 2
        fills = loop.store.fills("exchange-loop")
        assert len(fills) >= 4  # the run traded
        engine = server.engine
        assert engine.duplicate_submissions == 0
        trades = engine.my_trades("SYNUSDT", order_id=None, start=None, from_id=None, limit=1000)
        assert sorted(f.fill_id for f in fills) == sorted(f"SYN/USDT#{t['id']}" for t in trades)
        report = run_sync(backend.reconcile(expected_fills=fills))
        assert report.ok, report.discrepancies
    finally:
        loop.close()
        backend.close()
