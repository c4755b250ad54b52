"""Property: whatever text and numbers a record holds, the store gives back an equal record."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axon_lab.explain import ExplainStore
from axon_lab.records import Analysis, Fill, LLMCall, RiskVerdict, StepRecord

_ids = itertools.count()
finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-9, max_value=1e12, allow_nan=False)
text = st.text(max_size=40)
word = st.text(st.characters(blacklist_categories=("Zs", "Cc", "Cs")), min_size=1, max_size=12)
moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9998, 12, 30), timezones=st.just(UTC)
)


@st.composite
def steps(draw: st.DrawFn) -> StepRecord:
    when = draw(moments)
    call = LLMCall(
        model=draw(word),
        request_hash=draw(word),
        tokens_in=draw(st.integers(0, 2**31 - 1)),
        tokens_out=draw(st.integers(0, 2**31 - 1)),
        latency_s=draw(positive),
        raw_response=draw(text),
    )
    return StepRecord(
        run_id="placeholder",
        step=draw(st.integers(0, 2**31 - 1)),
        timestamp=when,
        observation_digest=draw(text),
        analysis=Analysis(
            thought=draw(text),
            market_assessment=draw(st.sampled_from(["uptrend", "downtrend", "range"])),
            risk_assessment=draw(st.sampled_from(["low", "medium", "high"])),
            confidence=draw(st.floats(0, 1)),
            action=draw(st.sampled_from(["buy", "sell", "hold"])),
            source="llm",
            analyst=draw(word),
            llm_calls=(call,),
        ),
        verdicts=(
            RiskVerdict(
                approved=draw(st.booleans()),
                line=draw(st.sampled_from(["safety_mode", "limit", "gate", "backend"])),
                rule=draw(word),
                limit=draw(finite | word | st.none()),
                observed=draw(finite | st.none()),
                message=draw(text),
                timestamp=when,
            ),
        ),
        fills=(
            Fill(
                fill_id=draw(text),
                order_id=draw(text),
                symbol=draw(word),
                side=draw(st.sampled_from(["buy", "sell"])),
                quantity=draw(positive),
                price=draw(positive),
                timestamp=when + timedelta(microseconds=draw(st.integers(0, 10**6))),
            ),
        ),
        equity=draw(finite),
        pnl=draw(finite),
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=steps())
def test_any_step_round_trips(store: ExplainStore, step: StepRecord) -> None:
    run_id = f"prop-{next(_ids)}"
    store.create_run({}, run_id=run_id, data_fingerprint="-", model="m", code_version="x")
    step = step.replace(run_id=run_id)
    store.record_step(step)
    assert store.steps(run_id) == [step]
    assert store.steps(run_id, start=step.timestamp, end=step.timestamp + timedelta(1)) == [step]
    assert store.llm_calls(run_id) == list(step.analysis.llm_calls)  # type: ignore[union-attr]
    assert store.verdicts(run_id) == list(step.verdicts)
    assert store.fills(run_id) == list(step.fills)
    assert store.check_run(run_id) == []
    store.record_step(step)  # idempotent
