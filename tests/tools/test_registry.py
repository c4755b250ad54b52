from __future__ import annotations

import json

import pytest

from axon_lab.errors import ConfigError, ToolError
from axon_lab.tools import PlaceOrderArgs, Tool, ToolRegistry, json_schema, make_trading_tools


@pytest.fixture
def tools(backend):
    return make_trading_tools(backend, id_prefix="t")


def test_openai_definitions_are_self_contained_json_schemas(tools):
    specs = tools.openai_tools()
    assert [s["function"]["name"] for s in specs] == list(tools.names)
    for spec in specs:
        assert spec["type"] == "function"
        params = spec["function"]["parameters"]
        assert params["type"] == "object"
        assert params["additionalProperties"] is False
        text = json.dumps(params)
        assert "$ref" not in text
        assert "$defs" not in text
        assert '"title"' not in text
        assert spec["function"]["description"]
    place = specs[0]["function"]["parameters"]["properties"]
    assert place["side"]["enum"] == ["buy", "sell"]
    assert place["quantity"] == {
        "description": "Units to trade; a finite number > 0.",
        "exclusiveMinimum": 0,
        "type": "number",
    }


def test_schema_matches_the_argument_model(tools):
    assert tools.get("place_order").parameters_schema() == json_schema(PlaceOrderArgs)
    assert set(json_schema(PlaceOrderArgs)["properties"]) == set(PlaceOrderArgs.model_fields)


def test_describe_lists_tools_and_arguments(tools):
    text = tools.describe()
    assert text.startswith("place_order: Place a buy or sell order.")
    assert "  - quantity (number; required) Units to trade" in text
    assert "  - order_type ('market' | 'limit' | 'stop'; optional, default 'market')" in text
    assert "cancel_order: Cancel a resting order" in text


def test_unknown_tool_is_a_json_error_or_a_tool_error(tools):
    answer = json.loads(tools.execute("place_ordr", "{}"))
    assert answer["error"]["type"] == "unknown_tool"
    assert "Did you mean 'place_order'?" in answer["error"]["message"]
    with pytest.raises(ToolError, match="Unknown tool 'nope'"):
        tools["nope"]


def test_registry_container_behaviour(tools):
    assert len(tools) == 4
    assert "cancel_order" in tools
    assert all(isinstance(t, Tool) for t in tools)
    reg = ToolRegistry([tools.place])
    with pytest.raises(ConfigError, match="already registered"):
        reg.register(tools.place)
