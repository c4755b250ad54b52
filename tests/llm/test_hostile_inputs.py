"""Hostile model output and servers (issue 15): each case is a project error or a recorded
abstention, never a RecursionError, a hang past the deadline, a leaked password or a blow-up."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from axon_lab.errors import LLMError, LLMTimeoutError, StoreError
from axon_lab.llm import (
    CachedClient,
    LLMOutputError,
    LLMRequest,
    LLMResponseError,
    LLMToolCallError,
    MemoryCacheStore,
    OpenAICompatClient,
    RetryPolicy,
    ScriptedClient,
    SQLCacheStore,
    check_tool_call,
    complete_analysis,
    extract_json_object,
)
from axon_lab.llm._wire import parse_chat_completion
from axon_lab.llm.testing import FakeChatServer, FakeReply
from axon_lab.records import AnalysisSource, ToolCall

Make = Callable[..., OpenAICompatClient]
MSGS = [{"role": "user", "content": "analyse BTC-USD"}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_price", "parameters": {"type": "object", "required": []}},
    }
]
DEEP = ["[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000]
GOOD = (
    '{"thought": "flat", "market_assessment": "range", "risk_assessment": "low", '
    '"confidence": 0.3, "action": "hold", "reason": "no edge"}'
)


# ------------------------------------------------------------------ nesting depth


@pytest.mark.parametrize("text", DEEP, ids=["open", "objects", "balanced"])
def test_a_deeply_nested_answer_is_an_output_error(text: str) -> None:
    with pytest.raises(LLMOutputError, match="nests deeper than 64 levels"):
        extract_json_object(text)
    with pytest.raises(LLMOutputError, match="nests deeper"):
        extract_json_object("Here you go: " + text)


def test_nesting_inside_strings_and_after_the_answer_does_not_count() -> None:
    brackets = "[" * 10_000
    assert extract_json_object(json.dumps({"a": brackets})) == {"a": brackets}
    assert extract_json_object('{"a": 1} and then ' + brackets) == {"a": 1}


@pytest.mark.parametrize("text", DEEP, ids=["open", "objects", "balanced"])
def test_deeply_nested_tool_arguments_are_a_tool_call_error(text: str) -> None:
    with pytest.raises(LLMToolCallError, match="get_price"):
        check_tool_call(ToolCall(name="get_price", arguments=text[:4000]), TOOLS)
    with pytest.raises(LLMToolCallError, match="cap is 4,000"):
        check_tool_call(ToolCall(name="get_price", arguments=text), TOOLS)


@pytest.mark.parametrize("text", DEEP, ids=["open", "objects", "balanced"])
def test_a_deeply_nested_body_is_a_response_error(text: str) -> None:
    with pytest.raises(LLMResponseError, match="nested deeper than 64"):
        parse_chat_completion(text.encode(), requested_model="m")
    body = '{"choices": [{"message": {"content": "x"}}], "extra": ' + text + "}"
    with pytest.raises(LLMResponseError, match="nested deeper than 64"):
        parse_chat_completion(body.encode(), requested_model="m")


def test_a_deeply_nested_cache_entry_is_a_store_error() -> None:
    store = MemoryCacheStore()
    key = LLMRequest.build(MSGS).key("scripted")
    store.put(key, "[" * 100_000, model="scripted")
    replay = CachedClient(ScriptedClient([]), mode="replay", store=store)
    with pytest.raises(StoreError, match=f"entry for key {key} is not a recorded response"):
        replay.complete(MSGS)


def test_a_deeply_nested_answer_ends_in_a_recorded_abstention() -> None:
    client = ScriptedClient(["[" * 100_000, '{"a":' * 100_000])
    analysis = complete_analysis(client, MSGS)
    assert analysis.source is AnalysisSource.ABSTAIN
    assert len(analysis.llm_calls) == 2
    assert all("nests deeper" in (c.error or "") for c in analysis.llm_calls)


# ------------------------------------------------------------------ the attempt deadline


@pytest.mark.timeout(60)
def test_a_trickling_server_is_cut_at_the_attempt_deadline(
    make_client: Make, fake_server: FakeChatServer
) -> None:
    # ~250 bytes at one per 0.5 s: every read succeeds, the whole answer would take minutes
    fake_server.enqueue(FakeReply.trickle(0.5))
    client = make_client(timeout_s=1.0, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(LLMTimeoutError, match=r"did not answer within 1 s"):
        client.complete(MSGS)


@pytest.mark.timeout(60)
def test_the_async_path_has_the_same_deadline(
    make_client: Make, fake_server: FakeChatServer
) -> None:
    fake_server.enqueue(FakeReply.trickle(0.5))
    client = make_client(timeout_s=1.0, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(LLMTimeoutError, match=r"within 1 s"):
        asyncio.run(client.acomplete(MSGS))


def test_a_trickled_answer_within_the_deadline_arrives(
    make_client: Make, fake_server: FakeChatServer
) -> None:
    fake_server.enqueue(FakeReply.trickle(0.0001))
    assert make_client(timeout_s=30.0).complete(MSGS).text == "slow"


# ------------------------------------------------------------------ credentials


def test_a_password_in_the_base_url_is_never_shown(fake_server: FakeChatServer) -> None:
    secret_url = fake_server.base_url.replace("http://", "http://alice:s3cr3t-pw@")
    client = OpenAICompatClient(
        "fake-model", base_url=secret_url, retry=RetryPolicy(max_attempts=2, base_delay_s=0.0)
    )
    try:
        assert "s3cr3t" not in client.base_url
        assert "s3cr3t" not in repr(client)
        fake_server.enqueue(FakeReply.error(500, "boom"), FakeReply.error(503, "busy"))
        with pytest.raises(LLMError) as caught:
            client.complete(MSGS)
        message = str(caught.value)
        assert "HTTP 503" in message
        assert "HTTP 500" in message  # the retried attempt is in the history
        assert "s3cr3t" not in message
        assert "alice:" not in message
        assert "***@127.0.0.1" in message
        fake_server.enqueue(FakeReply.error(500), FakeReply.error(500))
        analysis = complete_analysis(client, MSGS)
        stored = analysis.model_dump_json()
        assert analysis.source is AnalysisSource.ABSTAIN
        assert "s3cr3t" not in stored
    finally:
        client.close()


# ------------------------------------------------------------------ every attempt recorded


def test_a_call_that_succeeds_after_retries_records_every_attempt(
    make_client: Make, fake_server: FakeChatServer
) -> None:
    fake_server.enqueue(
        FakeReply.error(500, "boom"), FakeReply.rate_limited(0), FakeReply.chat("ok")
    )
    call = make_client().complete(MSGS).to_llm_call()
    assert call.attempts == 3
    assert len(call.retry_errors) == 2
    assert "HTTP 500" in call.retry_errors[0]
    assert "HTTP 429" in call.retry_errors[1]
    assert call.error is None


# ------------------------------------------------------------------ size caps


def test_a_megabyte_answer_is_clipped_where_it_is_echoed_and_kept() -> None:
    huge = "x" * 1_000_000
    client = ScriptedClient([huge, json.dumps({"action": huge})])
    analysis = complete_analysis(client, MSGS)
    assert analysis.source is AnalysisSource.ABSTAIN
    repair = client.requests[1]
    sent = sum(len(json.dumps(m)) for m in repair.messages)
    assert sent < 10_000  # was ~2 MB: the answer echoed, then quoted again in the problems
    assert "[truncated: " in repair.messages[-2]["content"]
    record = analysis.model_dump_json()
    assert len(record) < 150_000  # was ~5 MB for this one analysis
    assert "[truncated: " in (analysis.raw_text or "")
    assert all("[truncated: " in c.raw_response for c in analysis.llm_calls)


# ------------------------------------------------------------------ the cache key


def test_the_cache_key_includes_the_endpoint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    with FakeChatServer() as first, FakeChatServer() as second:
        first.enqueue(FakeReply.chat("from the first server"))
        second.enqueue(FakeReply.chat("from the second server"))
        a = OpenAICompatClient("fake-model", base_url=first.base_url)
        b = OpenAICompatClient("fake-model", base_url=second.base_url)
        try:
            got_a = CachedClient(a, mode="record", store=SQLCacheStore(url)).complete(MSGS)
            got_b = CachedClient(b, mode="record", store=SQLCacheStore(url)).complete(MSGS)
        finally:
            a.close()
            b.close()
        assert got_a.text == "from the first server"
        assert got_b.text == "from the second server"
        assert not got_b.cache_hit
        assert len(second.chat_requests) == 1


def test_a_cache_written_under_the_old_key_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE llm_cache (key VARCHAR(64) PRIMARY KEY, model VARCHAR(256) NOT NULL, "
            "label VARCHAR(256), created_at FLOAT NOT NULL, response TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO llm_cache VALUES ('k', 'm', NULL, 0, '{}')")
    old_layout = r"1 response\(s\) keyed under cache layout 1.*DELETE FROM"
    with pytest.raises(StoreError, match=old_layout):
        SQLCacheStore(f"sqlite:///{path}")
    fresh = SQLCacheStore(f"sqlite:///{tmp_path / 'new.db'}")
    fresh.put("k", "{}", model="m")
    fresh.close()
    again = SQLCacheStore(f"sqlite:///{tmp_path / 'new.db'}")  # a layout-2 table opens again
    assert again.get("k") == "{}"
    again.close()


_FORKED_CLIENT = """
import multiprocessing as mp, sys
from axon_lab.llm import OpenAICompatClient

def child(client):
    sys.exit(0 if client.complete([{"role": "user", "content": "child"}]).text == "child" else 3)

if __name__ == "__main__":
    client = OpenAICompatClient("fake-model", base_url=sys.argv[1])
    assert client.complete([{"role": "user", "content": "parent"}]).text == "parent"
    proc = mp.get_context("fork").Process(target=child, args=(client,))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0, proc.exitcode
    assert client.complete([{"role": "user", "content": "again"}]).text == "again"
    client.close()
    print("ok")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")
@pytest.mark.timeout(120)
def test_a_forked_child_runs_its_calls_on_its_own_event_loop(
    fake_server: FakeChatServer, tmp_path: Path
) -> None:
    # the deadline machinery's loop thread does not survive fork(): the child starts its own
    script = tmp_path / "forked.py"
    script.write_text(_FORKED_CLIENT)
    done = subprocess.run(
        [sys.executable, str(script), fake_server.base_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
