"""Turning a :class:`~axon_lab.records.StepRecord` into the rows the explain store writes.

A step's *action* is its decision's action, or its analysis's when there was no decision; its
*source* follows the same rule. Both are ``None`` for a step that failed before analysing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from axon_lab.explain import _schema
from axon_lab.records import StepRecord

__all__ = ["child_rows", "step_action", "step_row"]


def step_action(step: StepRecord) -> tuple[str | None, str | None]:
    """The step's (action, source) as stored in the indexed columns."""
    if step.decision is not None:
        return step.decision.action.value, step.decision.source.value
    if step.analysis is not None:
        return step.analysis.action.value, step.analysis.source.value
    return None, None


def step_row(step: StepRecord, record_json: str, *, digest: str | None = None) -> dict[str, Any]:
    """The ``axon_steps`` row for ``step``, whose JSON is ``record_json``.

    ``digest`` is ``step.digest()`` when the caller already has it (it hashes the same JSON).
    """
    action, source = step_action(step)
    n_calls = len(step.analysis.llm_calls) if step.analysis is not None else 0
    return {
        "run_id": step.run_id,
        "step": step.step,
        "timestamp": step.timestamp,
        "action": action,
        "source": source,
        "equity": step.equity,
        "pnl": step.pnl,
        "failed": step.is_failed,
        "n_llm_calls": n_calls,
        "n_verdicts": len(step.verdicts),
        "n_rejections": len(step.rejections),
        "n_acks": len(step.acks),
        "n_fills": len(step.fills),
        "digest": step.digest() if digest is None else digest,
        "record_json": record_json,
    }


def child_rows(step: StepRecord) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The child rows of ``step``, grouped by table, in record order (``idx``)."""
    key = {"run_id": step.run_id, "step": step.step}
    calls = step.analysis.llm_calls if step.analysis is not None else ()
    grouped: list[tuple[Table, list[dict[str, Any]]]] = [
        (
            _schema.llm_calls,
            [
                {
                    **key,
                    "idx": i,
                    "model": c.model,
                    "request_hash": c.request_hash,
                    "tokens_in": c.tokens_in,
                    "tokens_out": c.tokens_out,
                    "latency_s": c.latency_s,
                    "cost": c.cost,
                    "cache_hit": c.cache_hit,
                    "record_json": c.to_json(),
                }
                for i, c in enumerate(calls)
            ],
        ),
        (
            _schema.verdicts,
            [
                {
                    **key,
                    "idx": i,
                    "approved": v.approved,
                    "line": v.line.value,
                    "rule": v.rule,
                    "client_order_id": v.client_order_id,
                    "timestamp": v.timestamp,
                    "record_json": v.to_json(),
                }
                for i, v in enumerate(step.verdicts)
            ],
        ),
        (
            _schema.acks,
            [
                {
                    **key,
                    "idx": i,
                    "order_id": a.order_id,
                    "client_order_id": a.client_order_id,
                    "symbol": a.symbol,
                    "side": a.side.value,
                    "status": a.status.value,
                    "quantity": a.quantity,
                    "timestamp": a.timestamp,
                    "record_json": a.to_json(),
                }
                for i, a in enumerate(step.acks)
            ],
        ),
        (
            _schema.fills,
            [
                {
                    **key,
                    "idx": i,
                    "fill_id": f.fill_id,
                    "order_id": f.order_id,
                    "symbol": f.symbol,
                    "side": f.side.value,
                    "quantity": f.quantity,
                    "price": f.price,
                    "fee": f.fee,
                    "timestamp": f.timestamp,
                    "record_json": f.to_json(),
                }
                for i, f in enumerate(step.fills)
            ],
        ),
    ]
    return [(table, rows) for table, rows in grouped if rows]
