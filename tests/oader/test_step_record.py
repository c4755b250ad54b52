"""The loop's StepRecord builder equals the validating constructor, value for value.

``axon_lab.oader._step_record.step_record`` lays the record out directly when its parts are
plainly valid. For any input it must give the very record ``StepRecord(**fields)`` gives (equal,
the same JSON, fields set and order) or raise the same RecordError.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.oader import _step_record
from axon_lab.oader._step_record import step_record
from axon_lab.records import (
    Action,
    Analysis,
    AnalysisSource,
    Decision,
    DecisionSource,
    DefenceLine,
    Fill,
    OrderAck,
    OrderStatus,
    OrderType,
    RiskVerdict,
    Side,
    StepRecord,
)
from axon_lab.records.testing import assert_same_outcome, outcome

T = datetime(2024, 1, 1, 12, tzinfo=UTC)
ANALYSIS = Analysis(
    thought="t",
    market_assessment="uptrend",
    risk_assessment="low",
    confidence=0.7,
    action="buy",
    source=AnalysisSource.RULES,
    analyst="rules-v1",
)
DECISION = Decision(
    action=Action.BUY,
    symbol="X",
    quantity=1.0,
    order_type=OrderType.LIMIT,
    price=10.0,
    stop_loss=9.0,
    take_profit=12.0,
    confidence=0.7,
    source=DecisionSource.RULES,
)
# built without validation, so its model validator fails when pydantic re-runs it nested
BAD_DECISION = Decision.model_construct(
    action=Action.BUY, symbol="X", quantity=None, confidence=0.7, source=DecisionSource.RULES
)
VERDICT = RiskVerdict(approved=True, line=DefenceLine.LIMIT, rule="max_order_value", timestamp=T)
ACK = OrderAck(
    order_id="o-1",
    client_order_id="c-1",
    symbol="X",
    side=Side.BUY,
    quantity=1.0,
    status=OrderStatus.ACCEPTED,
    timestamp=T,
)
FILL = Fill(
    fill_id="f-1",
    order_id="o-1",
    symbol="X",
    side=Side.BUY,
    quantity=1.0,
    price=10.0,
    fee=0.0,
    timestamp=T,
)

finite = st.floats(allow_nan=False, allow_infinity=False)


def _records(item: Any) -> st.SearchStrategy[Any]:
    return st.lists(st.just(item), max_size=3).map(tuple)


# per field: values the fast path takes, and odd ones validation converts or refuses
PLAIN: dict[str, st.SearchStrategy[Any]] = {
    "run_id": st.text(min_size=1, max_size=8),
    "step": st.integers(0, 10**9),
    "timestamp": st.datetimes(timezones=st.just(UTC)),
    "observation_digest": st.text(max_size=8),
    "analysis": st.sampled_from([None, ANALYSIS]),
    "decision": st.sampled_from([None, DECISION]),
    "verdicts": _records(VERDICT),
    "acks": _records(ACK),
    "fills": _records(FILL),
    "equity": finite,
    "pnl": finite,
}
ODD: dict[str, list[Any]] = {
    "run_id": ["", 3, None],
    "step": [-1, True, 1.0, "2"],
    "timestamp": [
        T.astimezone(timezone(timedelta(hours=-5))),  # aware, not UTC: normalised
        T.replace(tzinfo=None),  # naive: refused
        pd.Timestamp(T),  # converted
    ],
    "observation_digest": [None, 3],
    "analysis": [ANALYSIS.model_dump(), "x"],
    "decision": [BAD_DECISION, DECISION.model_dump(), ANALYSIS],
    "verdicts": [[VERDICT], (VERDICT.model_dump(),), ("x",), (ACK,)],
    "acks": [[ACK], (ACK.model_dump(),), (FILL,)],
    "fills": [[FILL], (FILL.model_dump(),), (None,)],
    "equity": [float("nan"), float("inf"), -float("inf"), 1, True, "1.5"],
    "pnl": [float("nan"), -float("inf"), 0, False, "0"],
    "failure": [("observe", None), (None, "x"), (3, "x"), ("observe", b"x")],
}
FAILURES = [(None, None), ("observe", "ValueError: x")]


def _fields(data: st.DataObject) -> dict[str, Any]:
    kw = {name: data.draw(PLAIN[name], label=name) for name in PLAIN}
    kw["failed_stage"], kw["error"] = data.draw(st.sampled_from(FAILURES), label="failure")
    return kw


@given(data=st.data())
def test_plain_fields_give_the_validated_record(data: st.DataObject) -> None:
    kw = _fields(data)
    assert_same_outcome(outcome(step_record, **kw), outcome(StepRecord, **kw))


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in ODD.items() for value in values]
)
@settings(max_examples=15)  # (each odd value is its own case; the rest only varies around it)
@given(data=st.data())
def test_an_odd_field_gives_what_validation_gives(data: st.DataObject, name: str, value: Any):
    kw = _fields(data)
    if name == "failure":
        kw["failed_stage"], kw["error"] = value
    else:
        kw[name] = value
    assert_same_outcome(outcome(step_record, **kw), outcome(StepRecord, **kw))


def test_plain_parts_skip_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _step_record._FAST  # the schema still has the layout the fast path writes

    def refuse(self: Any, /, **data: Any) -> None:
        raise AssertionError("validated a plainly valid step")

    monkeypatch.setattr(StepRecord, "__init__", refuse)
    record = step_record(
        run_id="run",
        step=3,
        timestamp=T,
        observation_digest="d",
        analysis=ANALYSIS,
        decision=DECISION,
        verdicts=(VERDICT,),
        acks=(ACK,),
        fills=(FILL,),
        equity=100.0,
        pnl=-1.5,
        failed_stage=None,
        error=None,
    )
    monkeypatch.undo()
    assert record.decision is DECISION
    assert record.fills == (FILL,)
    assert record.model_dump_json() == StepRecord.model_validate(record.model_dump()).to_json()
