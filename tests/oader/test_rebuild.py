"""A run rebuilds from its record: the stored AgentConfig builds the same agent, row for row."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from axon_lab.errors import CacheMissError, ConfigError, StageError
from axon_lab.explain import ExplainStore
from axon_lab.llm import CachedClient, ScriptedClient
from axon_lab.oader import AgentConfig, make_agent, rebuild_agent
from axon_lab.risk import KillSwitch, PnLCircuitBreaker, RejectionCircuitBreaker, RiskLimits

ANSWER = {
    "thought": "up",
    "market_assessment": "uptrend",
    "risk_assessment": "low",
    "confidence": 0.9,
    "action": "buy",
    "reason": "higher highs",
}


def _rows(store: ExplainStore, run_id: str, *, mask_llm: bool = False) -> list[dict]:
    out = []
    for step in store.steps(run_id):
        row = json.loads(step.to_json())
        if mask_llm and row["analysis"]:
            for call in row["analysis"]["llm_calls"]:
                # a replay answers from the cache: a hit, free, and without a wire latency
                call.update(cache_hit=None, latency_s=None, cost=None)
        out.append(row)
    return out


def test_a_rules_run_rebuilds_into_the_same_record():
    gates = [
        RejectionCircuitBreaker(
            max_rejections=3, window=timedelta(hours=6), cooldown=timedelta(hours=12)
        ),
        PnLCircuitBreaker(max_drawdown=0.1, max_daily_loss=500.0),
        KillSwitch(),
    ]
    first = ExplainStore("sqlite://")
    loop = make_agent(
        "synthetic-1h",
        store=first,
        run_id="orig",
        progress=False,
        gates=gates,
        limits=RiskLimits(max_order_notional=20_000.0, max_open_orders=2),
        risk_fraction=0.02,
        min_confidence=0.7,
        every=2,
        start="2020-01-03",
    )
    loop.run(400)
    cfg = AgentConfig.model_validate(first.get_run("orig").config["agent"])
    assert cfg.data == "synthetic-1h"
    assert cfg.min_confidence == 0.7
    # the threshold decided: no order came from an analysis under it
    assert all(
        s.analysis.confidence >= 0.7 for s in first.steps("orig") if s.acks and s.decision.quantity
    )
    assert [g.kind for g in cfg.gates] == [
        "rejection_circuit_breaker",
        "pnl_circuit_breaker",
        "kill_switch",
    ]
    assert cfg.not_rebuildable == ()
    second = ExplainStore("sqlite://")
    again = rebuild_agent(first, "orig", into=second)
    again.run(400)
    assert _rows(second, "orig") == _rows(first, "orig")
    loop.close()
    again.close()


def test_an_llm_run_replays_from_its_cache_into_the_same_record(tmp_path):
    cache = f"sqlite:///{tmp_path}/cache.db"
    live = CachedClient(
        ScriptedClient(lambda request: json.dumps(ANSWER), model="scripted"),
        store=cache,
        mode="record",
    )
    first = ExplainStore("sqlite://")
    loop = make_agent(
        "synthetic-1h",
        analyst=live,
        store=first,
        run_id="llm",
        progress=False,
        llm_params={"temperature": 0.0},
    )
    loop.run(60)
    with pytest.raises(ConfigError, match="pass analyst=CachedClient"):
        rebuild_agent(first, "llm", into=ExplainStore("sqlite://"))
    offline = CachedClient(ScriptedClient([], model="scripted"), store=cache, mode="replay")
    second = ExplainStore("sqlite://")
    again = rebuild_agent(first, "llm", analyst=offline, into=second)
    again.run(60)
    assert _rows(second, "llm", mask_llm=True) == _rows(first, "llm", mask_llm=True)
    # one changed sampling parameter is a different request: the replay cannot answer it
    cfg = first.get_run("llm").config["agent"]
    assert cfg["llm_params"] == {"temperature": 0.0}
    changed = make_agent(
        "synthetic-1h",
        analyst=CachedClient(ScriptedClient([], model="scripted"), store=cache, mode="replay"),
        store=ExplainStore("sqlite://"),
        run_id="llm",
        progress=False,
        llm_params={"temperature": 0.7},
    )
    with pytest.raises(StageError) as err:
        changed.run(1)
    assert isinstance(err.value.__cause__, CacheMissError)
    loop.close()
    again.close()
    changed.close()


def test_parts_that_cannot_be_written_down_are_named():
    def decide(analysis, observation):
        raise AssertionError("never called")

    store = ExplainStore("sqlite://")
    make_agent("synthetic-1h", store=store, run_id="custom", progress=False, decide=decide)
    cfg = store.get_run("custom").config["agent"]
    assert any("Decide stage" in part for part in cfg["not_rebuildable"])
    with pytest.raises(ConfigError, match="cannot be written down: the Decide stage"):
        rebuild_agent(store, "custom", into=ExplainStore("sqlite://"))
    make_agent("synthetic-1h", store=store, run_id="plain", progress=False)
    with pytest.raises(ConfigError, match="pass new_run_id"):
        rebuild_agent(store, "plain")
    rebuilt = rebuild_agent(store, "plain", new_run_id="plain-2")
    assert rebuilt.run_id == "plain-2"
    rebuilt.close()
