"""A deterministic, realistic stream of steps, shared by the tests and the crash-writer script.

Each step's PnL depends on the equity after the previous step, so a resumed run only matches an
uninterrupted one if ``ExplainStore.resume`` hands back the right equity.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from axon_lab.explain import ExplainStore
from axon_lab.records import (
    Analysis,
    Decision,
    Fill,
    LLMCall,
    OrderAck,
    ReasoningStep,
    RiskVerdict,
    StepRecord,
    ToolCall,
)

BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
INITIAL_EQUITY = 10_000.0
SYMBOL = "BTC-USD"


def step_time(step: int) -> datetime:
    return BASE_TIME + timedelta(hours=step)


def _llm_calls(step: int, n: int) -> tuple[LLMCall, ...]:
    return tuple(
        LLMCall(
            model="gpt-4o-mini",
            request_hash=f"sha256:{step:06d}{i}",
            tokens_in=900 + 13 * step + i,
            tokens_out=120 + i,
            latency_s=0.25 + 0.01 * i,
            cost=0.000_15 * (i + 1),
            cache_hit=i % 2 == 1,
            raw_response='{"action": "buy", "confidence": 0.8}' if i == n - 1 else "",
            finish_reason="stop" if i == n - 1 else "tool_calls",
        )
        for i in range(n)
    )


def _analysis(step: int, action: str, *, n_calls: int, confidence: float) -> Analysis:
    trend = {"buy": "uptrend", "sell": "downtrend", "hold": "range"}[action]
    return Analysis(
        thought=f"Step {step}: momentum reads {trend}; checking volatility first.",
        market_assessment=trend,
        risk_assessment="high" if action == "hold" else "medium",
        confidence=confidence,
        action=action,
        reason=f"{trend} with acceptable risk" if action != "hold" else "no edge",
        source="llm",
        analyst="gpt-4o-mini",
        reasoning_steps=(
            ReasoningStep(
                thought="Need recent volatility.",
                action=ToolCall(
                    name="get_features", arguments='{"symbol": "BTC-USD"}', call_id=f"t{step}"
                ),
                observation='{"atr_14": 812.5, "rsi_14": 61.2}',
            ),
            ReasoningStep(thought="Volatility is moderate; decide."),
        ),
        llm_calls=_llm_calls(step, n_calls),
    )


def _verdict(
    step: int, line: str, rule: str, *, approved: bool = True, **kw: object
) -> RiskVerdict:
    return RiskVerdict(
        approved=approved,
        line=line,
        rule=rule,
        timestamp=step_time(step),
        client_order_id=f"c-{step}",
        message="ok" if approved else f"{rule} rejected the order",
        **kw,
    )


def make_step(run_id: str, step: int, prev_equity: float) -> StepRecord:
    """The ``step``-th step of the stream, given the equity after the previous one."""
    ts = step_time(step)
    price = round(40_000 + 1_500 * math.sin(step / 7), 2)
    pnl = round(((step * 37) % 11 - 5) * 1.25 + prev_equity * 1e-5, 6)
    common = {
        "run_id": run_id,
        "step": step,
        "timestamp": ts,
        "observation_digest": f"obs-{step:06d}",
        "equity": prev_equity + pnl,
        "pnl": pnl,
    }
    kind = step % 8
    if kind in (0, 4):  # a buy that passes every line and fills in two parts
        qty = 0.01 * (1 + step % 3)
        order_id = f"o-{step}"
        return StepRecord(
            **common,
            analysis=_analysis(step, "buy", n_calls=2, confidence=0.8),
            decision=Decision(
                action="buy",
                symbol=SYMBOL,
                quantity=qty,
                order_type="limit",
                price=price,
                stop_loss=round(price * 0.98, 2),
                take_profit=round(price * 1.04, 2),
                reason="uptrend",
                confidence=0.8,
                source="llm",
            ),
            verdicts=(
                _verdict(step, "safety_mode", "paper_mode"),
                _verdict(step, "limit", "max_position", limit=1.0, observed=qty),
                _verdict(step, "gate", "drawdown_breaker", gate_state="closed"),
                _verdict(step, "backend", "accepted"),
            ),
            acks=(
                OrderAck(
                    order_id=order_id,
                    client_order_id=f"c-{step}",
                    symbol=SYMBOL,
                    side="buy",
                    quantity=qty,
                    status="filled",
                    timestamp=ts,
                    filled_quantity=qty,
                    avg_fill_price=price,
                ),
            ),
            fills=tuple(
                Fill(
                    fill_id=f"f-{step}-{i}",
                    order_id=order_id,
                    symbol=SYMBOL,
                    side="buy",
                    quantity=qty / 2,
                    price=price,
                    fee=round(qty / 2 * price * 0.001, 6),
                    timestamp=ts + timedelta(seconds=i),
                )
                for i in range(2)
            ),
        )
    if kind in (1, 5):  # low-confidence hold: no order, no verdicts
        return StepRecord(
            **common,
            analysis=_analysis(step, "hold", n_calls=1, confidence=0.3),
            decision=Decision(
                action="hold", symbol=SYMBOL, reason="confidence", confidence=0.3, source="rules"
            ),
        )
    if kind in (2, 6):  # a sell rejected by the position limit
        return StepRecord(
            **common,
            analysis=_analysis(step, "sell", n_calls=1, confidence=0.7),
            decision=Decision(
                action="sell",
                symbol=SYMBOL,
                quantity=1.5,
                reason="downtrend",
                confidence=0.7,
                source="llm",
            ),
            verdicts=(
                _verdict(step, "safety_mode", "paper_mode"),
                _verdict(step, "limit", "max_position", approved=False, limit=1.0, observed=1.5),
            ),
            acks=(
                OrderAck(
                    order_id=f"o-{step}",
                    client_order_id=f"c-{step}",
                    symbol=SYMBOL,
                    side="sell",
                    quantity=1.5,
                    status="rejected",
                    timestamp=ts,
                    message="max_position",
                ),
            ),
        )
    if kind == 3:  # the analyze stage failed: abstain, keep the error
        return StepRecord(
            **common, failed_stage="analyze", error="LLMTimeoutError: no answer within 30 s"
        )
    # kind == 7: a buy stopped by the open drawdown circuit breaker
    return StepRecord(
        **common,
        analysis=_analysis(step, "buy", n_calls=3, confidence=0.9),
        decision=Decision(
            action="buy",
            symbol=SYMBOL,
            quantity=0.02,
            reason="breakout",
            confidence=0.9,
            source="llm",
        ),
        verdicts=(
            _verdict(step, "safety_mode", "paper_mode"),
            _verdict(step, "limit", "max_position", limit=1.0, observed=0.02),
            _verdict(
                step,
                "gate",
                "drawdown_breaker",
                approved=False,
                limit="5%",
                observed="6.2%",
                gate_state="open",
            ),
        ),
    )


def make_steps(run_id: str, n: int) -> list[StepRecord]:
    """The first ``n`` steps of the stream, computed in memory."""
    out: list[StepRecord] = []
    equity = INITIAL_EQUITY
    for step in range(n):
        out.append(make_step(run_id, step, equity))
        equity = out[-1].equity
    return out


def run_loop(
    store: ExplainStore,
    run_id: str,
    n_steps: int,
    *,
    delay: float = 0.0,
    on_recorded: Callable[[int], None] | None = None,
) -> None:
    """Record steps up to ``n_steps``, continuing from wherever ``run_id`` stopped."""
    point = store.resume(run_id)
    equity = point.last_equity if point.last_equity is not None else INITIAL_EQUITY
    for step in range(point.next_step, n_steps):
        record = make_step(run_id, step, equity)
        store.record_step(record)
        equity = record.equity
        if on_recorded is not None:
            on_recorded(step)
        if delay:
            time.sleep(delay)
