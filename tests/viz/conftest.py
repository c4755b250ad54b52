"""Fixtures for the figure tests: a small synthetic frame and a hand-written run over it.

The run (``run_steps``) places step ``i`` half an hour into bar ``i`` of ``frame`` and covers
every decision kind once or more:

====  ==========================================  =================
step  what happened                               kind in the chart
====  ==========================================  =================
0     buy, confidence 0.8                         buy
1     sell, confidence 0.7                        sell
2     hold, confidence 0.3                        hold
3     the analyze stage failed (no decision)      abstain
4     a decision with source ``abstain``          abstain
5     buy rejected by limit/max_position          rejected
6     sell rejected by gate/drawdown_breaker      rejected
7     buy, confidence 0.9, two LLM calls          buy
====  ==========================================  =================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from axon_lab.data import make_synthetic
from axon_lab.records import Analysis, Decision, LLMCall, RiskVerdict, StepRecord

RUN_ID = "run-viz"
SYMBOL = "SYN"
INITIAL_EQUITY = 10_000.0
EQUITY = [10_100.0, 9_595.0, 10_200.0, 9_180.0, 9_180.0, 9_300.0, 9_300.0, 10_500.0]
"""Equity after each step of ``run_steps``; drawdowns 0, -5 %, 0, -10 %, -10 %, ..."""


def llm_call(latency: float, cost: float, *, cache_hit: bool = False, n: int = 0) -> LLMCall:
    return LLMCall(
        model="test-model",
        request_hash=f"h{n}-{latency}-{cache_hit}",
        tokens_in=100 + n,
        tokens_out=10 + n,
        latency_s=latency,
        cost=cost,
        cache_hit=cache_hit,
    )


def verdict(ts: Any, line: str, rule: str, *, approved: bool, **kw: Any) -> RiskVerdict:
    return RiskVerdict(approved=approved, line=line, rule=rule, timestamp=ts, **kw)


StepFactory = Callable[..., StepRecord]


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_synthetic(12, timeframe="1h", start="2024-01-01", seed=3, symbol=SYMBOL)


@pytest.fixture
def make_step(frame: pd.DataFrame) -> StepFactory:
    """Build step ``n`` half an hour into bar ``n`` of ``frame``."""

    def build(
        n: int,
        *,
        action: str | None = "hold",
        confidence: float = 0.5,
        source: str = "llm",
        reason: str = "",
        rejections: Sequence[tuple[str, str, Any, Any]] = (),
        calls: Sequence[LLMCall] = (),
        equity: float = INITIAL_EQUITY,
        pnl: float = 0.0,
        failed: str | None = None,
        offset: timedelta = timedelta(minutes=30),
    ) -> StepRecord:
        ts = frame.index[n].to_pydatetime() + offset
        analysis = Analysis(
            thought="t",
            market_assessment="range",
            risk_assessment="low",
            confidence=confidence,
            action=action or "hold",
            reason=reason,
            source="llm" if calls else "rules",
            analyst="test-model" if calls else "rules-v1",
            llm_calls=tuple(calls),
        )
        decision = None
        if action is not None and failed is None:
            decision = Decision(
                action=action,
                symbol=SYMBOL,
                quantity=None if action == "hold" else 1.0,
                reason=reason,
                confidence=confidence,
                source=source,
            )
        verdicts = tuple(
            verdict(ts, line, rule, approved=False, limit=limit, observed=observed)
            for line, rule, limit, observed in rejections
        )
        return StepRecord(
            run_id=RUN_ID,
            step=n,
            timestamp=ts,
            observation_digest=f"obs-{n}",
            analysis=None if failed else analysis,
            decision=decision,
            verdicts=verdicts,
            equity=equity,
            pnl=pnl,
            failed_stage=failed,
            error=f"{failed} timed out" if failed else None,
        )

    return build


@pytest.fixture
def run_steps(make_step: StepFactory) -> list[StepRecord]:
    prev = [INITIAL_EQUITY, *EQUITY[:-1]]
    money = [{"equity": e, "pnl": e - p} for e, p in zip(EQUITY, prev, strict=True)]
    return [
        make_step(0, action="buy", confidence=0.8, reason="uptrend", **money[0],
                  calls=[llm_call(0.5, 0.002, n=0), llm_call(0.25, 0.001, n=1)]),
        make_step(1, action="sell", confidence=0.7, reason="downtrend", **money[1],
                  calls=[llm_call(0.4, 0.003, n=2)]),
        make_step(2, action="hold", confidence=0.3, reason="no edge", source="rules", **money[2],
                  calls=[llm_call(0.01, 0.0, cache_hit=True, n=3)]),
        make_step(3, failed="analyze", **money[3]),
        make_step(4, action="hold", confidence=0.0, source="abstain", reason="invalid JSON",
                  **money[4]),
        make_step(5, action="buy", confidence=0.75, reason="breakout", **money[5],
                  rejections=[("limit", "max_position", 1.0, 1.5)]),
        make_step(6, action="sell", confidence=0.65, reason="breakdown", **money[6],
                  rejections=[("gate", "drawdown_breaker", "5%", "6.2%")]),
        make_step(7, action="buy", confidence=0.9, reason="<b>trend</b> & volume", **money[7],
                  calls=[llm_call(0.6, 0.004, n=4), llm_call(0.02, 0.0, cache_hit=True, n=5)]),
    ]  # fmt: skip
