"""ToolResult: the JSON an LLM reads and the typed values code reads, from one call."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.tools import ToolResult, make_trading_tools
from axon_lab.tools.trading import report_payload

T = datetime(2024, 1, 2, tzinfo=UTC)


@pytest.fixture
def tools() -> Any:
    backend = MockTradingBackend({"X": 10.0}, cash=1_000.0, clock=SimulatedClock(T))
    return make_trading_tools(backend, id_prefix="t")


def test_a_refused_order_reads_the_same_error(tools):
    result = tools.place.run('{"symbol": "X", "side": "sell", "quantity": 2, "reduce_only": true}')
    assert result.ok is False
    assert result.error is not None
    assert result.error["type"] == "risk_rejected"
    assert result.payload == report_payload(result.report)
    assert ToolResult(tool="t", ok=True) == ToolResult(tool="t", ok=True, payload={})


def test_query_portfolio_lists_positions_as_before(tools):
    tools.place.run('{"symbol": "X", "side": "buy", "quantity": 2}')
    payload = tools.query.run("{}").payload
    snap = tools.backend._portfolio()
    expected = [
        {**p.to_dict(), "market_value": p.market_value, "unrealized_pnl": p.unrealized_pnl}
        for p in snap.positions.values()
    ]
    assert payload["positions"] == expected
    assert [list(p) for p in payload["positions"]] == [list(p) for p in expected]


def test_query_portfolio_carries_the_snapshot_its_json_is_made_from(tools):
    tools.place.run('{"symbol": "X", "side": "buy", "quantity": 2}')
    result = tools.query.run("{}")
    snap = result.value
    assert snap == tools.backend._portfolio()
    assert result.payload["equity"] == snap.equity
    assert result.payload["cash"] == snap.cash
    assert [p["symbol"] for p in result.payload["positions"]] == list(snap.positions)
    with_orders = tools.query.run('{"include_open_orders": true}')
    assert with_orders.value == snap
    assert "open_orders" in with_orders.payload
    assert pickle.loads(pickle.dumps(result)).value == snap
    # the value is a view of the payload, not part of the result's identity
    assert result == ToolResult(tool="query_portfolio", ok=True, payload=result.payload)


def test_query_portfolio_lists_the_open_orders_of_the_moment_it_was_called(tools):
    placed = tools.place.run(
        '{"symbol": "X", "side": "buy", "quantity": 1, "order_type": "limit", "price": 5}'
    )
    order_id = placed.report.ack.order_id
    result = tools.query.run("{}")  # the payload is made later, on first read
    tools.cancel.run(json.dumps({"order_id": order_id}))
    assert [o["order_id"] for o in result.payload["open_orders"]] == [order_id]
    assert tools.query.run("{}").payload["open_orders"] == []
