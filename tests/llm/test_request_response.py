from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.errors import ConfigError
from axon_lab.llm import LLMRequest, LLMResponse, Usage, make_response, request_key
from axon_lab.records import ToolCall

MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]

ROOT = Path(__file__).resolve().parents[2]


def test_key_is_stable_across_dict_order_and_processes() -> None:
    key = request_key("m", MSGS, params={"temperature": 0, "max_tokens": 5})
    reordered = [{"content": m["content"], "role": m["role"]} for m in MSGS]
    assert key == request_key("m", reordered, params={"max_tokens": 5, "temperature": 0})
    code = (
        "from axon_lab.llm import request_key;"
        f"print(request_key('m', {MSGS!r}, params={{'temperature': 0, 'max_tokens': 5}}))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert other == key


@pytest.mark.parametrize(
    "change",
    [
        {"model": "other"},
        {"messages": [*MSGS, {"role": "user", "content": "more"}]},
        {"tools": [{"type": "function", "function": {"name": "t"}}]},
        {"response_format": {"type": "json_object"}},
        {"params": {"temperature": 0.5}},
    ],
)
def test_key_changes_with_every_part(change: dict[str, object]) -> None:
    base: dict[str, object] = {"model": "m", "messages": MSGS, "params": {"temperature": 0}}
    assert request_key(**base) != request_key(**{**base, **change})  # type: ignore[arg-type]


def test_build_rejects_bad_requests() -> None:
    with pytest.raises(ConfigError, match="not a string"):
        LLMRequest.build("hello")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="messages is empty"):
        LLMRequest.build([])
    with pytest.raises(ConfigError, match="role 'robot'"):
        LLMRequest.build([{"role": "robot", "content": "x"}])
    with pytest.raises(ConfigError, match="JSON-serialisable"):
        LLMRequest.build(MSGS, temperature=float("nan"))
    with pytest.raises(ConfigError, match="JSON-serialisable"):
        LLMRequest.build(MSGS, stop={"a"})


def test_build_copies_the_callers_data() -> None:
    msgs = [{"role": "user", "content": "x"}]
    req = LLMRequest.build(msgs)
    msgs[0]["content"] = "changed"
    assert req.messages[0]["content"] == "x"


def test_response_round_trips_and_makes_llm_call() -> None:
    resp = LLMResponse(
        text="",
        tool_calls=(ToolCall(name="get_price", arguments='{"symbol": "ETH"}', call_id="c1"),),
        usage=Usage(prompt_tokens=7, completion_tokens=2),
        latency_s=0.25,
        model="m",
        finish_reason="tool_calls",
        request_hash="abc",
        raw='{"raw": true}',
        attempts=2,
        retry_errors=("HTTP 429",),
        cost=0.5,
    )
    assert LLMResponse.from_dict(json.loads(json.dumps(resp.to_dict()))) == resp
    call = resp.to_llm_call()
    assert (call.tokens_in, call.tokens_out, call.cost, call.raw_response) == (
        7,
        2,
        0.5,
        '{"raw": true}',
    )
    assert resp.to_llm_call(cost=0.0, error="bad").error == "bad"


def test_response_is_frozen() -> None:
    resp = make_response("x")
    with pytest.raises(AttributeError):
        resp.text = "y"  # type: ignore[misc]


_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_json_scalars |= st.floats(allow_nan=False, allow_infinity=False)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
_roles = st.sampled_from(["system", "user", "assistant", "tool", "developer"])
_messages = st.lists(
    st.fixed_dictionaries({"role": _roles, "content": st.text(max_size=20)})
    | st.fixed_dictionaries({"role": _roles}, optional={"content": _json, "name": _json}),
    min_size=1,
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(
    model=st.text(min_size=1, max_size=10),
    messages=_messages,
    tools=st.none() | st.lists(st.dictionaries(st.text(max_size=5), _json, max_size=3), max_size=3),
    fmt=st.none() | st.dictionaries(st.text(max_size=5), _json, max_size=3),
    params=st.dictionaries(st.text(min_size=1, max_size=6), _json, max_size=3),
)
def test_key_from_kept_texts_equals_request_key(
    model: str,
    messages: list[dict[str, object]],
    tools: list[dict[str, object]] | None,
    fmt: dict[str, object] | None,
    params: dict[str, object],
) -> None:
    # build() keeps each part's canonical JSON and key() joins them; the hash must be the one
    # request_key computes from scratch (recorded caches are looked up by it)
    request = LLMRequest.build(messages, tools=tools, response_format=fmt, **params)
    assert request.key(model) == request_key(model, messages, tools, fmt, params)
    again = LLMRequest.build(messages, tools=tools, response_format=fmt, **params)
    assert again.key(model) == request.key(model)  # the memoised system-prompt path


def test_memoised_messages_are_fresh_copies() -> None:
    messages = [{"role": "system", "content": "same every step"}]
    first = LLMRequest.build(messages)
    first.messages[0]["content"] = "mutated by a client"
    second = LLMRequest.build(messages)
    assert second.messages[0]["content"] == "same every step"
    assert second.key("m") == request_key("m", messages)


def test_replace_keeps_the_original_and_refuses_unknown_fields() -> None:
    base = LLMResponse(text="t", model="m", raw="{}", attempts=2, tool_calls=(ToolCall(name="x"),))
    new = base.replace(request_hash="h", latency_s=0.5)
    assert (new.request_hash, new.latency_s, new.text, new.attempts) == ("h", 0.5, "t", 2)
    assert base.request_hash == ""
    with pytest.raises(TypeError, match="bogus"):
        base.replace(bogus=1)
