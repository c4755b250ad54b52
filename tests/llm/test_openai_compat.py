from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from axon_lab.errors import ConfigError, LLMError, LLMTimeoutError
from axon_lab.llm import (
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_MODEL,
    LLMRequest,
    OpenAICompatClient,
    RetryPolicy,
    StructuredMode,
    json_schema_format,
    pooled_connections,
)
from axon_lab.llm.testing import FakeChatServer, FakeReply, RecordedRequest

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
Make = Callable[..., OpenAICompatClient]

ROOT = Path(__file__).resolve().parents[2]


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_complete_sends_openai_body_and_parses_answer(
    client: OpenAICompatClient, fake_server: FakeChatServer
) -> None:
    fake_server.enqueue(FakeReply.chat("hello", prompt_tokens=11, completion_tokens=3))
    resp = client.complete(user("hi"), temperature=0, max_tokens=20, seed=7)
    assert (resp.text, resp.usage.prompt_tokens, resp.usage.completion_tokens) == ("hello", 11, 3)
    assert resp.finish_reason == "stop"
    assert resp.attempts == 1
    assert resp.latency_s > 0
    assert resp.request_hash == LLMRequest.build(
        user("hi"), temperature=0, max_tokens=20, seed=7
    ).key("fake-model")
    body = fake_server.chat_requests[0].body
    assert body == {
        "model": "fake-model",
        "messages": user("hi"),
        "temperature": 0,
        "max_tokens": 20,
        "seed": 7,
    }
    assert json.loads(resp.raw)["choices"][0]["message"]["content"] == "hello"


def test_configuration_from_environment(
    monkeypatch: pytest.MonkeyPatch, fake_server: FakeChatServer
) -> None:
    monkeypatch.setenv(ENV_MODEL, "env-model")
    monkeypatch.setenv(ENV_BASE_URL, fake_server.base_url)
    monkeypatch.setenv(ENV_API_KEY, "sk-env-key")
    with OpenAICompatClient() as client:
        assert client.model == "env-model"
        client.complete(user("x"))
    req = fake_server.chat_requests[0]
    assert req.headers["authorization"] == "Bearer sk-env-key"
    assert req.body is not None
    assert req.body["model"] == "env-model"


def test_missing_model_or_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (ENV_MODEL, ENV_BASE_URL, ENV_API_KEY, "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="AXON_LLM_MODEL"):
        OpenAICompatClient()
    with pytest.raises(ConfigError, match="No API key"):
        OpenAICompatClient("gpt-x")
    with OpenAICompatClient("local", base_url="http://127.0.0.1:9/v1") as client:
        assert client.model == "local"  # a local server needs no key


def test_tool_calls_are_parsed(client: OpenAICompatClient, fake_server: FakeChatServer) -> None:
    tools = [{"type": "function", "function": {"name": "get_price", "parameters": {}}}]
    fake_server.enqueue(
        FakeReply.chat(
            None,
            tool_calls=[{"name": "get_price", "arguments": '{"symbol": "BTC-USD"}'}],
            finish_reason="tool_calls",
        )
    )
    resp = client.complete(user("price?"), tools=tools)
    assert resp.text == ""
    assert [(t.name, json.loads(t.arguments), t.call_id) for t in resp.tool_calls] == [
        ("get_price", {"symbol": "BTC-USD"}, "call_0")
    ]
    assert resp.finish_reason == "tool_calls"
    sent = fake_server.chat_requests[0].body
    assert sent is not None
    assert sent["tools"] == tools


@pytest.mark.parametrize(
    "failure", [FakeReply.rate_limited(), FakeReply.error(500), FakeReply.error(503)]
)
def test_retries_429_and_5xx_and_records_them(
    client: OpenAICompatClient, fake_server: FakeChatServer, failure: FakeReply
) -> None:
    fake_server.enqueue(failure, failure, FakeReply.chat("finally"))
    resp = client.complete(user("x"))
    assert resp.text == "finally"
    assert resp.attempts == 3
    assert len(resp.retry_errors) == 2
    assert f"HTTP {failure.status}" in resp.retry_errors[0]
    assert len(fake_server.chat_requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_4xx_are_not_retried(
    client: OpenAICompatClient, fake_server: FakeChatServer, status: int
) -> None:
    fake_server.enqueue(FakeReply.error(status, "nope"), FakeReply.chat("never sent"))
    with pytest.raises(LLMError, match=f"HTTP {status}"):
        client.complete(user("x"))
    assert len(fake_server.chat_requests) == 1


def test_gives_up_after_max_attempts(
    client: OpenAICompatClient, fake_server: FakeChatServer
) -> None:
    fake_server.enqueue(*[FakeReply.error(502)] * 3, FakeReply.chat("too late"))
    with pytest.raises(LLMError, match="Gave up after 3 attempts"):
        client.complete(user("x"))
    assert len(fake_server.chat_requests) == 3


def test_retry_after_header_is_honoured(make_client: Make, fake_server: FakeChatServer) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=2, base_delay_s=0.0, max_delay_s=5))
    fake_server.enqueue(FakeReply.rate_limited(retry_after=0.3), FakeReply.chat("ok"))
    start = time.perf_counter()
    assert client.complete(user("x")).text == "ok"
    assert time.perf_counter() - start >= 0.3


def test_backoff_grows_exponentially() -> None:
    policy = RetryPolicy(base_delay_s=0.1, multiplier=3.0, max_delay_s=1.0, jitter=0.0)
    assert [policy.delay_s(n) for n in (1, 2, 3, 4)] == pytest.approx([0.1, 0.3, 0.9, 1.0])
    jittered = RetryPolicy(base_delay_s=1.0, jitter=0.5, seed=3)
    waits = [jittered.delay_s(1) for _ in range(50)]
    assert all(0.5 <= w <= 1.5 for w in waits)
    assert len(set(waits)) > 1
    with pytest.raises(ConfigError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_hung_server_is_cut_at_the_timeout(make_client: Make, fake_server: FakeChatServer) -> None:
    client = make_client(timeout_s=0.3, retry=RetryPolicy(max_attempts=2, base_delay_s=0.01))
    fake_server.enqueue(FakeReply.hung(), FakeReply.hung())
    start = time.perf_counter()
    with pytest.raises(LLMTimeoutError, match=r"did not answer within 0\.3 s.*2 attempts"):
        client.complete(user("x"))
    assert time.perf_counter() - start < 2.0


def test_timeout_then_success_is_retried(make_client: Make, fake_server: FakeChatServer) -> None:
    client = make_client(timeout_s=0.3)
    fake_server.enqueue(FakeReply.hung(), FakeReply.chat("second try"))
    resp = client.complete(user("x"))
    assert (resp.text, resp.attempts) == ("second try", 2)
    assert "did not answer" in resp.retry_errors[0]


def test_connection_refused_is_an_llm_error() -> None:
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    with (
        OpenAICompatClient("m", base_url="http://127.0.0.1:9/v1", retry=retry) as client,
        pytest.raises(LLMError, match="Cannot connect"),
    ):
        client.complete(user("x"))


def _refuse_json_schema_with(status: int) -> Callable[[RecordedRequest], FakeReply]:
    def handler(request: RecordedRequest) -> FakeReply:
        fmt = (request.body or {}).get("response_format") or {}
        if fmt.get("type") == "json_schema":
            return FakeReply.error(
                status, "Input should be 'text' or 'json_object' (validation: response_format)"
            )
        return FakeReply.chat('{"a": "x"}')

    return handler


@pytest.mark.parametrize("status", [400, 500])
def test_structured_output_falls_back_and_remembers(make_client: Make, status: int) -> None:
    with FakeChatServer(_refuse_json_schema_with(status)) as server:
        client = make_client(base_url=server.base_url)
        fmt = json_schema_format(SCHEMA, name="a")
        first = client.complete(user("x"), response_format=fmt)
        assert first.structured_mode == "json_object"
        assert client.structured_mode is StructuredMode.JSON_OBJECT
        client.complete(user("y"), response_format=fmt)
        sent = [r.body["response_format"] for r in server.chat_requests if r.body]
        assert sent == [
            fmt,
            {"type": "json_object", "schema": SCHEMA},
            {"type": "json_object", "schema": SCHEMA},
        ]
        assert first.attempts == 1  # a format fallback is not a retry


def test_structured_output_falls_back_to_prompt(make_client: Make) -> None:
    def handler(request: RecordedRequest) -> FakeReply:
        if (request.body or {}).get("response_format"):
            return FakeReply.error(400, "response_format is not supported by this server")
        return FakeReply.chat('{"a": "x"}')

    with FakeChatServer(handler) as server:
        client = make_client(base_url=server.base_url)
        resp = client.complete(
            [{"role": "system", "content": "sys"}, *user("x")],
            response_format=json_schema_format(SCHEMA),
        )
        assert resp.structured_mode == "prompt"
        last = server.chat_requests[-1].body
        assert last is not None
        assert "response_format" not in last
        assert last["messages"][0]["content"].startswith("sys\n\nRespond with a single JSON")
        assert '"required": ["a"]' in last["messages"][0]["content"]


def test_json_schema_is_kept_when_supported(
    client: OpenAICompatClient, fake_server: FakeChatServer
) -> None:
    resp = client.complete(user("x"), response_format=json_schema_format(SCHEMA))
    assert resp.structured_mode == "json_schema"
    assert client.structured_mode is StructuredMode.JSON_SCHEMA


def test_async_twin(client: OpenAICompatClient, fake_server: FakeChatServer) -> None:
    fake_server.enqueue(FakeReply.error(500), FakeReply.chat("async ok"))
    resp = asyncio.run(client.acomplete(user("x")))
    assert (resp.text, resp.attempts) == ("async ok", 2)


def test_async_hang_is_cut(make_client: Make, fake_server: FakeChatServer) -> None:
    client = make_client(timeout_s=0.3, retry=RetryPolicy(max_attempts=1))
    fake_server.enqueue(FakeReply.hung())
    with pytest.raises(LLMTimeoutError, match="did not answer"):
        asyncio.run(client.acomplete(user("x")))


@pytest.mark.parametrize("use_async", [False, True])
def test_batch_respects_concurrency_limit(
    make_client: Make, fake_server: FakeChatServer, use_async: bool
) -> None:
    fake_server.latency_s = 0.1
    client = make_client(max_concurrency=4)
    reqs = [LLMRequest.build(user(f"q{i}")) for i in range(12)]
    start = time.perf_counter()
    if use_async:
        out = asyncio.run(client.acomplete_many(reqs))
    else:
        out = list(client.complete_many(reqs))
    elapsed = time.perf_counter() - start
    assert [r.text for r in out if not isinstance(r, Exception)] == [f"q{i}" for i in range(12)]
    assert fake_server.max_in_flight == 4
    assert 0.3 <= elapsed < 1.0  # 3 waves of 0.1 s, not 12 sequential calls


def test_batch_collects_errors_when_asked(
    client: OpenAICompatClient, fake_server: FakeChatServer
) -> None:
    fake_server.enqueue(FakeReply.error(400, "bad"))
    reqs = [LLMRequest.build(user("a"))] + [LLMRequest.build(user(f"b{i}")) for i in range(3)]
    out = client.complete_many(reqs, max_concurrency=1, return_exceptions=True)
    assert isinstance(out[0], LLMError)
    assert [r.text for r in out[1:] if not isinstance(r, LLMError)] == ["b0", "b1", "b2"]
    fake_server.enqueue(FakeReply.error(400, "bad"))
    with pytest.raises(LLMError, match="HTTP 400"):
        client.complete_many(reqs[:1])


def test_importing_axon_lab_llm_does_not_import_openai() -> None:
    code = (
        "import sys, axon_lab.llm, axon_lab.llm.testing;"
        "print('openai' in sys.modules, 'sqlalchemy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == ["False", "False"]


def test_pooled_connections_reuse_one_async_client_and_close_it(
    client: OpenAICompatClient, fake_server: FakeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Any] = []
    original = client._make_async_sdk

    def spy() -> Any:
        made.append(original())
        return made[-1]

    monkeypatch.setattr(client, "_make_async_sdk", spy)

    async def ask(text: str) -> str:
        return (await client.acomplete(user(text))).text

    async def pooled() -> list[str]:
        async with pooled_connections():
            async with pooled_connections():  # nested: uses the outer block's pool
                first = [await ask("a"), await ask("b")]
            assert not made[0].is_closed()  # the inner block does not close it
            rest = await asyncio.gather(*(ask(f"c{i}") for i in range(3)))
        return first + list(rest)

    assert asyncio.run(pooled()) == ["a", "b", "c0", "c1", "c2"]
    assert len(made) == 1  # five calls, concurrent ones too, on one SDK client
    assert made[0].is_closed()  # closed when the block ends
    asyncio.run(ask("lone"))  # outside a block: a client of its own, closed after the call
    assert len(made) == 2
    assert made[1].is_closed()
