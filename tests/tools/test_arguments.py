"""Bad arguments give a JSON error an LLM can act on, and never reach the chain."""

from __future__ import annotations

import asyncio
import json

import pytest

from axon_lab.errors import ToolError
from axon_lab.tools import ToolArgumentError, make_trading_tools


@pytest.fixture
def tools(backend):
    return make_trading_tools(backend, id_prefix="t")


def call(tools, name: str, args: str) -> dict:
    return json.loads(tools.execute(name, args))


@pytest.mark.parametrize(
    ("args", "kind", "text"),
    [
        (
            '{"symbol": "AAA", "side": "buy", "quantity": 1, "qty": 2}',
            "invalid_arguments",
            "unknown field 'qty'; allowed fields: client_order_id, confirm_token, order_type",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": 1, "prise": 2}',
            "invalid_arguments",
            "Did you mean 'price'?",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": "1"}',
            "invalid_arguments",
            "'quantity': Input should be a valid number (got \"1\")",
        ),
        (
            '{"symbol": "AAA", "side": "hold", "quantity": 1}',
            "invalid_arguments",
            "'side': Input should be 'buy' or 'sell'",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": NaN}',
            "invalid_arguments",
            "'quantity': Input should be a finite number",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": Infinity}',
            "invalid_arguments",
            "'quantity': Input should be a finite number",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": 1, "order_type": "limit", '
            '"price": -Infinity}',
            "invalid_arguments",
            "'price': Input should be a finite number",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": 0}',
            "invalid_arguments",
            "'quantity': Input should be greater than 0 (got 0)",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": -3}',
            "invalid_arguments",
            "'quantity': Input should be greater than 0 (got -3)",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": 1, "order_type": "limit"}',
            "invalid_arguments",
            "a limit order needs a price",
        ),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": 1, "price": 3}',
            "invalid_arguments",
            "a market order takes no price",
        ),
        ('{"side": "buy", "quantity": 1}', "invalid_arguments", "'symbol' is required"),
        (
            '{"symbol": "AAB", "side": "buy", "quantity": 1}',
            "unknown_symbol",
            "Unknown symbol 'AAB'; tradable symbols: AAA, BBB. Did you mean 'AAA'?",
        ),
        ('{"symbol": "AAA", "side": "buy", "quantity": 1', "invalid_json", "not valid JSON"),
        ("[1, 2]", "invalid_arguments", "arguments must be a JSON object"),
        (
            '{"symbol": "AAA", "side": "buy", "quantity": 1, "order_type": "limit", "price": 10, '
            '"stop_loss": 12}',
            "invalid_arguments",
            "stop_loss 12.0 must be below the price 10.0",
        ),
    ],
)
def test_place_order_argument_errors(tools, backend, args, kind, text):
    answer = call(tools, "place_order", args)
    assert answer["ok"] is False
    assert answer["error"]["type"] == kind
    assert text in answer["error"]["message"]
    assert tools.place.last_result.ok is False
    assert tools.last_report is None  # nothing reached the chain
    assert tools.metrics.snapshot().orders == {}


def test_errors_list_every_problem_with_its_field(tools):
    answer = call(tools, "place_order", '{"symbol": "AAA", "side": "up", "quantity": -1, "x": 1}')
    fields = sorted(d["field"] for d in answer["error"]["details"])
    assert fields == ["quantity", "side", "x"]


def test_replace_needs_a_change_and_cancel_needs_an_id(tools):
    assert (
        "nothing to change" in call(tools, "replace_order", '{"order_id": "o"}')["error"]["message"]
    )
    assert "'order_id' is required" in call(tools, "cancel_order", "{}")["error"]["message"]


def test_empty_arguments_mean_an_empty_object(tools):
    assert call(tools, "query_portfolio", "")["ok"] is True


def test_parse_args_raises_and_raise_for_error(tools):
    with pytest.raises(ToolArgumentError, match="'quantity' is required"):
        tools.place.parse_args('{"symbol": "AAA", "side": "buy"}')
    result = tools.place.run('{"symbol": "ZZZ", "side": "buy", "quantity": 1}')
    with pytest.raises(ToolError, match="place_order: unknown_symbol: Unknown symbol 'ZZZ'"):
        result.raise_for_error()


def test_live_state_is_checked_on_every_call_json_or_typed(tools, monkeypatch):
    checked = []
    monkeypatch.setattr(tools.place, "_validate", checked.append)
    text = '{"symbol": "AAA", "side": "buy", "quantity": 1}'
    tools.place.run(text)
    tools.place.run(text)
    typed = tools.place.parse_args(text)
    asyncio.run(tools.place.acall(typed))
    assert len(checked) == 3
    assert checked[0] == checked[1] == typed
