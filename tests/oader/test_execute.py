"""ToolExecutor: orders go through place_order JSON and the risk chain; fills are all reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from axon_lab.backends import MockTradingBackend
from axon_lab.backends.sim import SimTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.errors import ToolError
from axon_lab.oader import ToolExecutor
from axon_lab.records import Decision, Observation, OrderStatus, PortfolioSnapshot
from axon_lab.risk import KillSwitch, RiskLimits
from axon_lab.tools import make_trading_tools

from .conftest import trend_frame

T = datetime(2024, 1, 2, tzinfo=UTC)
OBS = Observation(
    timestamp=T,
    symbols=("X",),
    timeframe="1h",
    bars={"X": ()},
    portfolio=PortfolioSnapshot.build(timestamp=T, cash=1_000.0),
)


def buy(qty: float, **kw: object) -> Decision:
    return Decision(action="buy", symbol="X", quantity=qty, confidence=0.9, source="rules", **kw)


def test_the_order_is_the_json_an_llm_tool_call_would_send() -> None:
    args = json.loads(
        ToolExecutor.order_arguments(
            buy(2.0, order_type="limit", price=10.5, stop_loss=9.0, take_profit=13.0)
        ).model_dump_json(exclude_none=True, exclude_defaults=True)
    )
    assert args == {
        "symbol": "X",
        "side": "buy",
        "quantity": 2.0,
        "order_type": "limit",
        "price": 10.5,
        "stop_loss": 9.0,
        "take_profit": 13.0,
    }


def test_verdicts_acks_and_fills_come_from_the_execution_report() -> None:
    tools = make_trading_tools(
        MockTradingBackend({"X": 10.0}, cash=1_000.0),
        limits=RiskLimits(max_position_abs=5.0),
        id_prefix="e",
    )
    execute = ToolExecutor(tools)
    done = execute(buy(3.0), OBS)
    assert [v.line.value for v in done.verdicts] == [
        "safety_mode",
        "limit",
        "gate",
        "buying_power",
        "backend",
    ]
    assert done.acks[0].client_order_id == "e-1"
    assert [(f.quantity, f.price) for f in done.fills] == [(3.0, 10.0)]
    rejected = execute(buy(3.0), OBS)
    assert rejected.verdicts[-1].rule == "max_position_abs"
    assert not rejected.verdicts[-1].approved
    assert rejected.acks == ()
    assert rejected.fills == ()


def test_a_gate_rejection_is_data_not_an_exception() -> None:
    kill = KillSwitch()
    kill.engage("operator")
    tools = make_trading_tools(MockTradingBackend({"X": 10.0}, cash=1_000.0), gates=[kill])
    done = ToolExecutor(tools)(buy(1.0), OBS)
    assert (done.verdicts[-1].rule, done.verdicts[-1].approved) == ("kill_switch", False)


def test_a_hold_sends_nothing() -> None:
    tools = make_trading_tools(MockTradingBackend({"X": 10.0}, cash=1_000.0))
    hold = Decision(action="hold", symbol="X", confidence=0.1, source="rules")
    assert ToolExecutor(tools)(hold, OBS).verdicts == ()


def test_arguments_the_tool_refuses_fail_the_stage() -> None:
    tools = make_trading_tools(MockTradingBackend({"X": 10.0}, cash=1_000.0))
    unknown = Decision(action="buy", symbol="Y", quantity=1.0, confidence=0.9, source="rules")
    with pytest.raises(ToolError, match=r"refused the decision's arguments.*Unknown symbol 'Y'"):
        ToolExecutor(tools)(unknown, OBS)


def test_stale_entries_are_cancelled_and_later_fills_are_reported_once() -> None:
    frame = trend_frame(n=30, step=0.01)
    sym = "SYN"
    times = frame.index
    clock = SimulatedClock(times[5].to_pydatetime())
    backend = SimTradingBackend(frame, cash=10_000.0, clock=clock)
    tools = make_trading_tools(backend, id_prefix="s")
    execute = ToolExecutor(tools)
    far = Decision(
        action="buy",
        symbol=sym,
        quantity=1.0,
        order_type="limit",
        price=1.0,
        confidence=0.9,
        source="rules",
    )
    first = execute(far, OBS)
    assert first.acks[0].status is OrderStatus.ACCEPTED
    clock.set(times[6].to_pydatetime())
    backend.advance_to(clock.now())
    hold = Decision(action="hold", symbol=sym, confidence=0.1, source="rules")
    second = execute(hold, OBS)
    assert [a.status for a in second.acks] == [OrderStatus.CANCELLED]
    # a bracketed market entry: its take-profit exit fills later and is reported exactly once
    entry = Decision(
        action="buy",
        symbol=sym,
        quantity=2.0,
        confidence=0.9,
        source="rules",
        stop_loss=float(frame["open"].iloc[6]) * 0.5,
        take_profit=float(frame["open"].iloc[6]) * 1.03,
    )
    placed = execute(entry, OBS)
    assert placed.fills == ()  # a market order sent at t fills at the next bar's open
    later = []
    for i in range(7, 14):
        clock.set(times[i].to_pydatetime())
        backend.advance_to(clock.now())
        later.extend(execute(hold, OBS).fills)
    assert [(f.side.value, f.quantity) for f in later] == [("buy", 2.0), ("sell", 2.0)]
    assert run_positions(backend) == 0.0


def run_positions(backend: SimTradingBackend) -> float:
    from axon_lab.backends import run_sync

    return run_sync(backend.query_portfolio()).quantity("SYN")
