"""The loop's :class:`~axon_lab.records.StepRecord`, without a second validation of its parts.

The loop closes every step by assembling a StepRecord from records the stages already built
and validated (the analysis, the decision, the risk chain's verdicts, the backend's acks and
fills) plus a few values of its own. Validating that once more re-checks nothing new, yet costs
as much as a tenth of the loop's own work. :func:`step_record` tests in plain Python what the
schema would test (exact types, finite equity and pnl, a non-empty run id, a step >= 0, a UTC
timestamp, failed_stage and error set together) and re-runs the model validators pydantic runs
again on nested records (the decision's); when all of that holds it lays the record out
directly, otherwise it calls the validating constructor, which raises the RecordError it
always did. A fast build equals the validated one (value, JSON, fields set, field order):
``tests/oader/test_step_record.py`` holds that for generated inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from axon_lab.records import (
    Analysis,
    Decision,
    Fill,
    GateState,
    GateTransition,
    OrderAck,
    RiskVerdict,
    StepRecord,
)
from axon_lab.records._construct import after_validators, has_layout, raw

__all__ = ["step_record"]

_FIELDS = (
    "run_id", "step", "timestamp", "observation_digest", "analysis", "decision", "verdicts",
    "acks", "fills", "equity", "pnl", "gate_states", "gate_transitions", "failed_stage", "error",
)  # fmt: skip
_FIELDS_SET = frozenset(_FIELDS)
_STEP_CHECKS = after_validators(StepRecord)
_DECISION_CHECKS = after_validators(Decision)
_NESTED_PLAIN = all(
    after_validators(c) == () for c in (Analysis, RiskVerdict, OrderAck, Fill, GateTransition)
)
_FAST = (
    has_layout(StepRecord, _FIELDS, {})
    and _STEP_CHECKS is not None
    and _DECISION_CHECKS is not None
    and _NESTED_PLAIN
)
_INF = math.inf


def _all(items: Any, cls: type) -> bool:
    if type(items) is not tuple:
        return False
    return all(type(item) is cls for item in items)


def _states(states: Any) -> bool:
    if type(states) is not dict:
        return False
    return all(type(k) is str and type(v) is GateState for k, v in states.items())


def _plain(data: dict[str, Any]) -> bool:
    run_id, step, stamp = data["run_id"], data["step"], data["timestamp"]
    analysis, decision = data["analysis"], data["decision"]
    equity, pnl = data["equity"], data["pnl"]
    failed, error = data["failed_stage"], data["error"]
    return (
        type(run_id) is str
        and run_id != ""
        and type(step) is int
        and step >= 0
        and type(stamp) is datetime
        and stamp.tzinfo is UTC
        and type(data["observation_digest"]) is str
        and (analysis is None or type(analysis) is Analysis)
        and (decision is None or type(decision) is Decision)
        and _all(data["verdicts"], RiskVerdict)
        and _all(data["acks"], OrderAck)
        and _all(data["fills"], Fill)
        and _states(data["gate_states"])
        and _all(data["gate_transitions"], GateTransition)
        and type(equity) is float
        and -_INF < equity < _INF
        and type(pnl) is float
        and -_INF < pnl < _INF
        and (failed is None or type(failed) is str)
        and (error is None or type(error) is str)
    )


def step_record(
    *,
    run_id: str,
    step: int,
    timestamp: datetime,
    observation_digest: str,
    analysis: Analysis | None,
    decision: Decision | None,
    verdicts: tuple[RiskVerdict, ...],
    acks: tuple[OrderAck, ...],
    fills: tuple[Fill, ...],
    equity: float,
    pnl: float,
    failed_stage: str | None,
    error: str | None,
    gate_states: dict[str, GateState] | None = None,
    gate_transitions: tuple[GateTransition, ...] = (),
) -> StepRecord:
    """``StepRecord(**fields)``, laid out directly when validation would change nothing.

    Raises:
        RecordError: If a value is invalid (as the validating constructor raises it).
    """
    data: dict[str, Any] = {  # in schema order: the fast path's __dict__
        "run_id": run_id,
        "step": step,
        "timestamp": timestamp,
        "observation_digest": observation_digest,
        "analysis": analysis,
        "decision": decision,
        "verdicts": verdicts,
        "acks": acks,
        "fills": fills,
        "equity": equity,
        "pnl": pnl,
        "gate_states": {} if gate_states is None else gate_states,
        "gate_transitions": gate_transitions,
        "failed_stage": failed_stage,
        "error": error,
    }
    given = set(_FIELDS_SET)  # what the caller set (the gate fields only when given)
    if gate_states is None:
        given.discard("gate_states")
    if not gate_transitions:
        given.discard("gate_transitions")
    if _FAST and _plain(data):
        record = raw(StepRecord, data, given)
        checks: list[tuple[Callable[[Any], Any], Any]] = [(c, record) for c in _STEP_CHECKS or ()]
        if decision is not None:
            checks += [(c, decision) for c in _DECISION_CHECKS or ()]
        try:
            if all(check(obj) is obj for check, obj in checks):
                return record
        except ValueError:
            pass  # the validating constructor raises the RecordError that names it
    return StepRecord(**{key: data[key] for key in given})
