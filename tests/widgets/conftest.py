"""Builders for the widget tests: rule agents, scripted-LLM agents and hand-made step records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from axon_lab.data import make_synthetic
from axon_lab.llm import (
    CachedClient,
    CostLedger,
    MemoryCacheStore,
    MeteredClient,
    PriceTable,
    ScriptedClient,
    make_response,
)
from axon_lab.oader import OADERLoop, make_agent
from axon_lab.records import RiskVerdict, StepRecord, ToolCall
from axon_lab.risk.limits import RiskLimits

MODEL = "paid-model"
ANSWER = {
    "thought": "higher highs; risk is fine",
    "market_assessment": "uptrend",
    "risk_assessment": "medium",
    "confidence": 0.4,
    "action": "hold",
    "reason": "waiting for a pullback",
}


def data(n: int = 160, seed: int = 2) -> Any:
    return make_synthetic(n, timeframe="1h", start="2024-01-01", seed=seed, symbol="SYN")


def scripted(request: Any) -> Any:
    """First turn: read the market; once a tool result is in the prompt: answer."""
    if any(m.get("role") == "tool" for m in request.messages):
        return make_response(
            json.dumps(ANSWER), model=MODEL, prompt_tokens=900, completion_tokens=60
        )
    call = ToolCall(
        name="get_market_data", arguments='{"symbol": "SYN", "lookback": 3}', call_id="c1"
    )
    return make_response(tool_calls=[call], model=MODEL, prompt_tokens=800, completion_tokens=20)


def llm_client(cache: MemoryCacheStore, mode: str) -> CachedClient:
    ledger = CostLedger(PriceTable({MODEL: (1.0, 2.0)}))
    metered = MeteredClient(ScriptedClient(scripted, model=MODEL), ledger)
    return CachedClient(metered, mode=mode, store=cache)


@pytest.fixture
def agent_factory() -> Iterator[Any]:
    """make_agent on synthetic data with a 1-order-a-day limit (rejections from step 11 on)."""
    made: list[OADERLoop] = []

    def build(**kw: Any) -> OADERLoop:
        frame = kw.pop("frame", None)
        frame = data() if frame is None else frame
        kw.setdefault("store", "sqlite://")
        kw.setdefault("run_id", "w")
        kw.setdefault("progress", False)
        kw.setdefault("limits", RiskLimits(max_daily_orders=1))
        kw.setdefault("start", frame.index[49])
        loop = make_agent(frame, **kw)
        made.append(loop)
        return loop

    yield build
    for loop in made:
        loop.close()


T0 = datetime(2024, 1, 1, tzinfo=UTC)


def verdict(rule: str, line: str, *, approved: bool = False, **kw: Any) -> RiskVerdict:
    return RiskVerdict(approved=approved, line=line, rule=rule, timestamp=T0, **kw)


def record(
    step: int, *verdicts: RiskVerdict, equity: float = 100.0, pnl: float = 0.0
) -> StepRecord:
    return StepRecord(
        run_id="hand",
        step=step,
        timestamp=T0 + timedelta(hours=step),
        observation_digest=f"d{step}",
        verdicts=verdicts,
        equity=equity,
        pnl=pnl,
    )
