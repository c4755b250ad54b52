from __future__ import annotations

import asyncio

import pytest

from axon_lab.errors import ConfigError, LLMError
from axon_lab.llm import (
    AnalysisContract,
    BaseLLMClient,
    CachedClient,
    CostLedger,
    LLMClient,
    LLMRequest,
    MemoryCacheStore,
    MeteredClient,
    ScriptedClient,
    SystemPrompt,
    make_response,
)
from axon_lab.records import Action, MarketAssessment, RiskLevel, ToolCall

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_market_data",
            "description": "Recent bars for a symbol.",
            "parameters": {
                "type": "object",
                "properties": {"symbol": {"type": "string"}, "bars": {"type": "integer"}},
                "required": ["symbol"],
            },
        },
    }
]


def test_system_prompt_has_contract_rules_and_tools() -> None:
    prompt = (
        SystemPrompt(contract=AnalysisContract(min_confidence=0.65), tools=tuple(TOOLS))
        .with_rules("Max position size: 5% of equity")
        .build()
    )
    for enum in (MarketAssessment, RiskLevel, Action):
        assert "|".join(e.value for e in enum) in prompt
    assert 'If confidence < 0.65, action must be "hold".' in prompt
    assert "Additional rules:\n- Max position size: 5% of equity" in prompt
    assert "- get_market_data(symbol: string, required, bars: integer): Recent bars" in prompt
    assert "<untrusted_data>" in prompt


def test_system_prompt_messages() -> None:
    msgs = SystemPrompt().messages("observation text")
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[1]["content"] == "observation text"


def test_scripted_client_function_and_exceptions() -> None:
    client = ScriptedClient(
        [
            make_response("", tool_calls=[ToolCall(name="get_market_data", arguments="{}")]),
            LLMError("boom"),
            "plain",
        ]
    )
    first = client.complete([{"role": "user", "content": "a"}])
    assert first.finish_reason == "tool_calls"
    with pytest.raises(LLMError, match="boom"):
        client.complete([{"role": "user", "content": "b"}])
    assert client.complete([{"role": "user", "content": "c"}]).text == "plain"
    assert client.remaining == 0
    assert [r.messages[0]["content"] for r in client.requests] == ["a", "b", "c"]


@pytest.mark.parametrize("keep", [1, 3, 7])
def test_scripted_client_keeps_the_latest_requests(keep: int) -> None:
    # a function script over a long backtest must not hold every prompt
    client = ScriptedClient(lambda req: "ok", keep=keep)
    sent = [f"q{i}" for i in range(50)]
    for i, text in enumerate(sent, start=1):
        client.complete([{"role": "user", "content": text}])
        held = [r.messages[0]["content"] for r in client.requests]
        assert keep <= len(held) < 2 * keep or len(held) == i
        assert held == sent[i - len(held) : i]  # the latest ones, in order
    assert client.n_requests == 50


def test_scripted_client_keep_all_and_bad_keep() -> None:
    client = ScriptedClient(lambda req: "ok", keep=None)
    for _ in range(30):
        client.complete([{"role": "user", "content": "q"}])
    assert len(client.requests) == 30 == client.n_requests
    for bad in (0, -1, 2.5, True, "10"):
        with pytest.raises(ConfigError, match="keep must be a positive int or None"):
            ScriptedClient(["x"], keep=bad)  # type: ignore[arg-type]


def _all_clients() -> list[BaseLLMClient]:
    echo = ScriptedClient(lambda req: f"echo:{req.messages[-1]['content']}")
    return [
        echo,
        CachedClient(echo, mode="record", store=MemoryCacheStore()),
        MeteredClient(echo, CostLedger()),
    ]


@pytest.mark.parametrize("client", _all_clients(), ids=["scripted", "cached", "metered"])
def test_every_client_satisfies_the_protocol(client: BaseLLMClient) -> None:
    assert isinstance(client, LLMClient)
    resp = client.complete([{"role": "user", "content": "x"}])
    assert resp.text == "echo:x"
    assert len(resp.request_hash) == 64
    aresp = asyncio.run(client.acomplete([{"role": "user", "content": "y"}]))
    assert aresp.text == "echo:y"
    many = asyncio.run(
        client.acomplete_many([LLMRequest.build([{"role": "user", "content": "z"}])])
    )
    assert [r.text for r in many if not isinstance(r, Exception)] == ["echo:z"]
