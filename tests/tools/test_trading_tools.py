from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from axon_lab.records import DefenceLine, OrderStatus
from axon_lab.risk import ExecutionReport, KillSwitch, RiskLimits
from axon_lab.tools import make_trading_tools


def call(tools, name: str, **args) -> dict:
    return json.loads(tools.execute(name, json.dumps(args)))


def test_place_result_carries_status_verdicts_ack_and_fills(backend):
    tools = make_trading_tools(backend, id_prefix="run")
    answer = call(tools, "place_order", symbol="AAA", side="buy", quantity=2)
    assert answer["ok"] is True
    assert answer["status"] == "filled"
    assert [v["line"] for v in answer["verdicts"]] == [
        "safety_mode",
        "limit",
        "gate",
        "buying_power",
        "backend",
    ]
    assert answer["ack"]["client_order_id"] == "run-1"
    assert answer["fills"][0]["quantity"] == 2.0
    assert answer["fills"][0]["price"] == 20.0
    report = tools.place.last_result.report
    assert isinstance(report, ExecutionReport)
    assert report is tools.last_report
    assert report.ack.status is OrderStatus.FILLED


def test_rejection_is_json_with_the_rejecting_verdict(backend, clock):
    kill = KillSwitch(clock=clock)
    tools = make_trading_tools(backend, gates=[kill], id_prefix="run")
    kill.engage("maintenance")
    answer = call(tools, "place_order", symbol="AAA", side="buy", quantity=1)
    assert answer["ok"] is False
    assert answer["status"] == "rejected"
    err = answer["error"]
    assert (err["type"], err["line"], err["rule"], err["gate_state"]) == (
        "risk_rejected",
        "gate",
        "kill_switch",
        "halted",
    )
    assert "maintenance" in err["message"]
    assert answer["verdicts"][-1]["approved"] is False
    assert tools.last_report.rejection.line is DefenceLine.GATE


def test_two_phase_through_the_tool(backend, clock):
    tools = make_trading_tools(
        backend,
        mode="two_phase",
        confirm_above=30.0,
        confirm_ttl=timedelta(minutes=2),
        id_prefix="r",
    )
    first = call(tools, "place_order", symbol="AAA", side="buy", quantity=2)
    assert first["status"] == "pending_confirmation"
    assert first["error"]["type"] == "confirmation_required"
    token = first["confirm_token"]
    assert token in first["error"]["message"]
    altered = call(tools, "place_order", symbol="AAA", side="buy", quantity=3, confirm_token=token)
    assert altered["error"]["rule"] == "confirm_token_mismatch"
    second = call(tools, "place_order", symbol="AAA", side="buy", quantity=2)
    clock.advance(timedelta(minutes=1))
    done = call(
        tools,
        "place_order",
        symbol="AAA",
        side="buy",
        quantity=2,
        confirm_token=second["confirm_token"],
    )
    assert done["ok"]
    assert done["status"] == "filled"
    assert done["ack"]["client_order_id"] == "r-3"  # the id of the submission that was confirmed
    small = call(tools, "place_order", symbol="BBB", side="buy", quantity=1)
    assert small["status"] == "filled"


def test_dry_run_answer_shows_what_would_have_been_sent(backend):
    tools = make_trading_tools(backend, mode="dry_run", id_prefix="d")
    answer = call(
        tools, "place_order", symbol="AAA", side="buy", quantity=1, order_type="limit", price=15
    )
    assert answer["ok"] is True
    assert answer["dry_run"] is True
    assert answer["status"] == "dry_run"
    assert answer["would_send"] == {
        "client_order_id": "d-1",
        "symbol": "AAA",
        "side": "buy",
        "quantity": 1.0,
        "order_type": "limit",
        "price": 15.0,
        "time_in_force": "gtc",
        "reduce_only": False,
    }
    assert asyncio.run(backend.fills()) == ()


def test_query_cancel_and_replace(backend):
    tools = make_trading_tools(backend, limits=RiskLimits(max_order_notional=100.0), id_prefix="q")
    call(tools, "place_order", symbol="AAA", side="buy", quantity=1)
    call(
        tools,
        "place_order",
        symbol="BBB",
        side="buy",
        quantity=2,
        order_type="limit",
        price=3,
        client_order_id="mine",
    )
    pf = call(tools, "query_portfolio")
    assert pf["ok"]
    assert pf["cash"] == 980.0
    assert pf["equity"] == 1000.0
    assert [p["symbol"] for p in pf["positions"]] == ["AAA"]
    assert [o["client_order_id"] for o in pf["open_orders"]] == ["mine"]
    too_big = call(tools, "replace_order", order_id="mine", quantity=50)
    assert too_big["error"]["rule"] == "max_order_notional"
    moved = call(tools, "replace_order", order_id="mine", price=3.5)
    assert moved["ok"]
    assert moved["status"] == "accepted"
    new_id = moved["ack"]["order_id"]
    assert call(tools, "cancel_order", order_id=new_id)["status"] == "cancelled"
    again = call(tools, "cancel_order", order_id=new_id)
    assert again["ok"] is False
    assert again["error"]["type"] == "execution_failed"
    assert call(tools, "query_portfolio", include_open_orders=False).get("open_orders") is None
    snap = tools.metrics.snapshot()
    assert snap.orders == {"filled": 1, "accepted": 1}
    assert snap.modifies == {"rejected": 1, "accepted": 1}
    assert snap.cancels == {"cancelled": 1, "error": 1}


def test_a_tool_that_raises_answers_with_json(backend):
    tools = make_trading_tools(backend, id_prefix="x")

    async def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    backend.query_portfolio = broken  # the chain turns this into a rejection; query surfaces it
    answer = call(tools, "query_portfolio")
    assert answer == {
        "ok": False,
        "error": {
            "type": "execution_failed",
            "message": "query_portfolio failed: RuntimeError: disk full",
        },
    }
    placed = call(tools, "place_order", symbol="AAA", side="buy", quantity=1)
    assert placed["error"]["rule"] == "context_unavailable"


def test_tools_work_inside_a_running_event_loop(backend):
    tools = make_trading_tools(backend, id_prefix="nb")

    async def cell() -> tuple[str, str]:
        sync_answer = tools.execute(
            "place_order", '{"symbol": "AAA", "side": "buy", "quantity": 1}'
        )
        async_answer = await tools.aexecute("query_portfolio", "{}")
        return sync_answer, async_answer

    placed, pf = asyncio.run(cell())
    assert json.loads(placed)["status"] == "filled"
    assert json.loads(pf)["positions"][0]["quantity"] == 1.0


def test_generated_ids_are_unique_across_registries(backend):
    a = make_trading_tools(backend)
    b = make_trading_tools(backend)
    ida = call(a, "place_order", symbol="AAA", side="buy", quantity=1)["ack"]["client_order_id"]
    idb = call(b, "place_order", symbol="AAA", side="buy", quantity=1)["ack"]["client_order_id"]
    assert ida != idb
    assert len(asyncio.run(backend.fills())) == 2
