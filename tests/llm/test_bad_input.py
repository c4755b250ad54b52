"""Bad server output: each case gets a specific error or a recorded abstention, never a crash."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from axon_lab.errors import LLMError, LLMTimeoutError
from axon_lab.llm import (
    LLMResponseError,
    LLMToolCallError,
    OpenAICompatClient,
    RetryPolicy,
    SystemPrompt,
    check_tool_call,
    complete_analysis,
)
from axon_lab.llm.testing import FakeChatServer, FakeReply
from axon_lab.records import Action, AnalysisSource, ToolCall

Make = Callable[..., OpenAICompatClient]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_price",
            "description": "Last price of a symbol.",
            "parameters": {
                "type": "object",
                "properties": {"symbol": {"type": "string"}},
                "required": ["symbol"],
            },
        },
    }
]
MSGS = [{"role": "user", "content": "analyse BTC-USD"}]


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (FakeReply.empty_choices(), "empty 'choices' list"),
        (FakeReply.html(), "HTML page, not JSON"),
        (FakeReply.invalid_utf8(), "not valid UTF-8"),
        (FakeReply.truncated_json(), "not valid JSON .* cut off"),
        (FakeReply(body=b'["a", "list"]'), "Expected a JSON object"),
        (FakeReply(body=b'{"choices": [{"finish_reason": "stop"}]}'), "no 'message'"),
        (FakeReply(body=b'{"choices": [{"message": {"content": 42}}]}'), "must be a string"),
    ],
)
def test_broken_bodies_raise_specific_errors(
    client: OpenAICompatClient, fake_server: FakeChatServer, reply: FakeReply, match: str
) -> None:
    fake_server.enqueue(reply)
    with pytest.raises(LLMResponseError, match=match):
        client.complete(MSGS)
    assert len(fake_server.chat_requests) == 1  # a broken 200 is not retried


def test_callers_loop_keeps_running_through_every_failure(
    make_client: Make, fake_server: FakeChatServer
) -> None:
    client = make_client(timeout_s=0.3, retry=RetryPolicy(max_attempts=1))
    script = [
        FakeReply.chat("fine"),
        FakeReply.empty_choices(),
        FakeReply.html(),
        FakeReply.invalid_utf8(),
        FakeReply.truncated_json(),
        FakeReply.hung(),
        FakeReply.error(500),
        FakeReply.chat("fine again"),
    ]
    fake_server.enqueue(*script)
    outcomes = []
    for step in range(len(script)):
        try:
            outcomes.append(client.complete([{"role": "user", "content": f"step {step}"}]).text)
        except LLMError as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes == [
        "fine",
        "LLMResponseError",
        "LLMResponseError",
        "LLMResponseError",
        "LLMResponseError",
        "LLMTimeoutError",
        "LLMError",
        "fine again",
    ]


@pytest.mark.parametrize(
    "reply",
    [FakeReply.empty_choices(), FakeReply.html(), FakeReply.invalid_utf8(), FakeReply.hung()],
)
def test_analysis_abstains_visibly_on_transport_failures(
    make_client: Make, fake_server: FakeChatServer, reply: FakeReply
) -> None:
    client = make_client(timeout_s=0.3, retry=RetryPolicy(max_attempts=1))
    fake_server.enqueue(reply)
    analysis = complete_analysis(client, SystemPrompt().messages("BTC-USD bars ..."))
    assert analysis.source is AnalysisSource.ABSTAIN
    assert analysis.action is Action.HOLD
    assert "the LLM call failed" in analysis.reason
    assert len(analysis.llm_calls) == 1
    assert analysis.llm_calls[0].error
    assert len(analysis.llm_calls[0].request_hash) == 64


def test_timeout_error_is_also_a_timeout_error() -> None:
    assert issubclass(LLMTimeoutError, TimeoutError)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (ToolCall(name="get_prise", arguments='{"symbol": "BTC"}'), "Did you mean 'get_price'"),
        (ToolCall(name="rm_rf", arguments="{}"), r"Available: \['get_price'\]"),
        (ToolCall(name="get_price", arguments='{"symbol": "BTC"'), "not valid JSON"),
        (ToolCall(name="get_price", arguments='["BTC"]'), "needs a JSON object"),
        (ToolCall(name="get_price", arguments="{}"), r"missing required arguments \['symbol'\]"),
    ],
)
def test_bad_tool_calls_raise_tool_call_errors(call: ToolCall, match: str) -> None:
    with pytest.raises(LLMToolCallError, match=match):
        check_tool_call(call, TOOLS)


def test_tool_call_over_http_then_checked(
    client: OpenAICompatClient, fake_server: FakeChatServer
) -> None:
    fake_server.enqueue(
        FakeReply.chat(None, tool_calls=[{"name": "place_order", "arguments": "{not json"}]),
        FakeReply.chat(None, tool_calls=[{"name": "get_price", "arguments": {"symbol": "ETH"}}]),
    )
    first = client.complete(MSGS, tools=TOOLS)
    with pytest.raises(LLMToolCallError, match="Unknown tool 'place_order'"):
        check_tool_call(first.tool_calls[0], TOOLS)
    second = client.complete(MSGS, tools=TOOLS)  # an object instead of a JSON string
    assert json.loads(second.tool_calls[0].arguments) == {"symbol": "ETH"}
    assert check_tool_call(second.tool_calls[0], TOOLS) == {"symbol": "ETH"}


def test_malformed_tool_call_entry_is_a_response_error(
    client: OpenAICompatClient, fake_server: FakeChatServer
) -> None:
    body = {"choices": [{"message": {"content": None, "tool_calls": [{"id": "x"}]}}]}
    fake_server.enqueue(FakeReply(body=json.dumps(body).encode()))
    with pytest.raises(LLMResponseError, match="no 'function' object"):
        client.complete(MSGS, tools=TOOLS)
