"""The record shows what the model saw: every request kept by content, read back exactly."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest
from sqlalchemy import func, select

from axon_lab.data import make_synthetic
from axon_lab.errors import StoreError
from axon_lab.explain import (
    ExplainStore,
    _schema,
    llm_request,
    observation,
    prompts_for_order,
    request_json,
)
from axon_lab.llm import ScriptedClient
from axon_lab.oader import make_agent

DATA = make_synthetic(300, timeframe="1h", start="2024-01-01", seed=12, symbol="SYN")
ANSWER = {
    "thought": "up",
    "market_assessment": "uptrend",
    "risk_assessment": "low",
    "confidence": 0.9,
    "action": "buy",
    "reason": "higher highs",
}


def _llm_run(store, run_id="llm", steps=60):
    client = ScriptedClient(lambda request: json.dumps(ANSWER), model="scripted", keep=None)
    loop = make_agent(DATA, analyst=client, store=store, run_id=run_id, progress=False)
    loop.run(steps)
    return loop, client


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request):
    if request.param == "sqlite":
        the_store = ExplainStore("sqlite://")
    else:
        the_store = ExplainStore(request.getfixturevalue("postgres_url"))
    yield the_store
    the_store.close()


def test_one_call_returns_the_exact_prompt_and_response_behind_an_order(store):
    loop, client = _llm_run(store)
    orders = [a for s in store.steps("llm") for a in s.acks]
    assert orders
    records = prompts_for_order(store, "llm", orders[0].client_order_id)
    assert records
    sent = {hashlib.sha256(json.dumps(r.messages, sort_keys=True).encode()).hexdigest(): r
            for r in client.requests}  # fmt: skip
    for record in records:
        # the stored text is what was hashed: its SHA-256 is the call's request hash
        assert hashlib.sha256(record.request.encode()).hexdigest() == record.call.request_hash
        request = json.loads(record.request)
        assert request["model"] == "scripted"
        assert request["messages"][0]["role"] == "system"
        # ... and its messages are exactly those the client received
        key = hashlib.sha256(json.dumps(request["messages"], sort_keys=True).encode()).hexdigest()
        assert key in sent
        assert record.response == record.call.raw_response
        assert json.loads(record.response)["action"] == "buy"
    call = records[-1].call
    assert llm_request(store, "llm", call) == json.loads(request_json(store, "llm", call))
    loop.close()


def test_repeated_parts_are_stored_once_per_run(store):
    loop, _ = _llm_run(store, steps=80)
    calls = [c for s in store.steps("llm") for c in s.analysis.llm_calls]
    referenced = {d for c in calls for d in c.request_parts}
    total_refs = sum(len(c.request_parts) for c in calls)
    with store._reading("count blobs") as conn:
        rows = conn.execute(
            select(func.count()).select_from(_schema.blobs).where(_schema.blobs.c.run_id == "llm")
        ).scalar_one()
    observations = {s.observation_digest for s in store.steps("llm")}
    assert rows == len(referenced | observations)
    assert len(referenced) < total_refs / 2  # the system prompt and tools are shared
    system = {c.request_parts[2] for c in calls}  # the first message: the system prompt
    assert len(system) == 1
    loop.close()


def test_every_step_keeps_the_observation_its_stages_read(store):
    loop = make_agent(DATA, store=store, run_id="rules", progress=False)
    seen = {}

    def keep(record):
        seen[record.step] = record.observation_digest

    loop.add_callback(keep)
    loop.run(40)
    for step in (0, 17, 39):
        obs = observation(store, "rules", step)
        assert obs.digest() == seen[step]
        assert obs.timestamp == store.steps("rules")[step].timestamp
    with pytest.raises(StoreError, match="has no step 99"):
        observation(store, "rules", 99)
    with pytest.raises(StoreError, match="no step of run 'rules' placed an order 'nope'"):
        prompts_for_order(store, "rules", "nope")
    loop.close()


HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">\u202eevil\x00\x07'


def test_hostile_model_text_is_escaped_in_the_report_and_the_widget(tmp_path):
    # markup, script tags, bidi controls, NUL and BEL, and a 1 MB answer, through a full run
    from axon_lab.widgets import render_step_html

    calls = itertools.count()

    def answer(request):
        if next(calls) % 2:
            return HOSTILE + "x" * 1_000_000  # not JSON, and huge: an abstention
        return json.dumps({**ANSWER, "thought": HOSTILE, "reason": HOSTILE})

    client = ScriptedClient(answer, model="scripted")
    store = ExplainStore("sqlite://")
    loop = make_agent(
        DATA, analyst=client, store=store, run_id="hostile", progress=False, on_error="abstain"
    )
    loop.run(40)
    report = loop.report(figures=False)
    paths = report.save(tmp_path)
    page = paths[1].read_text(encoding="utf-8")
    md = paths[0].read_text(encoding="utf-8")
    for text in (page, md):
        assert "<script>alert(1)" not in text
        assert '<img src=x onerror="alert(2)">' not in text
        assert "\u202e" not in text
        assert "\x00" not in text
        assert "\x07" not in text
    assert "<details>" in page  # the prompts behind each order, collapsed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert len(page) < 5_000_000
    for step in store.steps("hostile"):
        html = render_step_html(step)
        assert "<script>alert(1)" not in html
        assert "\u202e" not in html
        assert "\x00" not in html
    loop.close()
    store.close()


def test_the_step_widget_shows_each_calls_prompt_collapsed():
    from axon_lab.widgets import StepDetail

    store = ExplainStore("sqlite://")
    loop, client = _llm_run(store, run_id="widget", steps=5)
    view = StepDetail(store=store)
    view.load(store, "widget")
    page = view.html.value
    assert "<h5>Prompts</h5>" in page
    assert page.count("<details>") == len(view.record.analysis.llm_calls)
    system = client.requests[-1].messages[0]["content"]
    assert system[:40].replace("&", "&amp;").replace("<", "&lt;") in page
    assert "Prompts" not in StepDetail().html.value  # no store, no prompts
    loop.close()
    store.close()


def test_the_step_widget_marks_steps_where_the_model_disagreed_with_itself():
    from datetime import UTC, datetime

    from axon_lab.records import StepRecord
    from axon_lab.widgets import StepDetail

    audit = {
        "stability": {
            "steps": [
                {"step": 0, "actions": ["buy", "hold", "buy"], "agreement": 2 / 3},
                {"step": 1, "actions": ["hold", "hold", "hold"], "agreement": 1.0},
            ]
        }
    }
    view = StepDetail(audit=audit)
    t = datetime(2024, 1, 1, tzinfo=UTC)
    steps = [
        StepRecord(run_id="r", step=i, timestamp=t, observation_digest="", equity=1.0, pnl=0.0)
        for i in range(3)
    ]
    view.add(steps[:1])
    assert "the model disagreed with itself" in view.html.value
    assert "agreement 67% over 3 samples" in view.html.value
    view.add(steps[1:2])
    assert "stable: agreement 100%" in view.html.value
    view.add(steps[2:])
    assert "Decision stability" not in view.html.value  # step 2 was not re-sampled
