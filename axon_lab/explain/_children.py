r"""Reading child records (LLM calls, verdicts, acks, fills) back out of their steps' JSON.

A child row stores no JSON of its own (see :mod:`axon_lab.explain._schema`): its record is the
``idx``-th element of a list in its step's ``record_json``. On SQLite the database extracts that
element (``json_extract`` returns the element's stored text), so only the child's JSON leaves the
database. PostgreSQL's JSON operators refuse text holding an escaped NUL (``\u0000``), which a
record may contain, so there the steps' JSON is read and the elements are picked out in Python,
each step parsed once. Either way a record read back equals the one written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Table, and_, cast, func, literal, select
from sqlalchemy.engine import Connection

from axon_lab.explain import _schema

__all__ = ["read_children"]


def read_children(
    conn: Connection, table: Table, run_id: str, conditions: Sequence[ColumnElement[bool]]
) -> list[str | None]:
    """The JSON of the records of ``table``'s rows that match, in step and ``idx`` order.

    ``None`` stands for a row whose step's JSON has no such element (a damaged store).

    Args:
        conn: A connection inside a read transaction.
        table: A child table (a value of :data:`~axon_lab.explain._schema.CHILD_TABLES`).
        run_id: The run.
        conditions: Filters on ``table``'s columns.
    """
    keys = _schema.CHILD_PATHS[table.name]
    steps = _schema.steps
    match = and_(table.c.run_id == run_id, *conditions)
    if conn.dialect.name == "sqlite":
        # '$.analysis.llm_calls[3]'; the keys are plain identifiers, no quoting needed
        path = literal("$." + ".".join(keys) + "[") + cast(table.c.idx, String) + literal("]")
        query = (
            select(func.json_extract(steps.c.record_json, path, type_=String))
            .select_from(
                table.join(
                    steps, and_(steps.c.run_id == table.c.run_id, steps.c.step == table.c.step)
                )
            )
            .where(match)
            .order_by(table.c.step, table.c.idx)
        )
        return list(conn.execute(query).scalars())
    rows = conn.execute(
        select(table.c.step, table.c.idx).where(match).order_by(table.c.step, table.c.idx)
    ).all()
    texts = conn.execute(
        select(steps.c.step, steps.c.record_json).where(
            steps.c.run_id == run_id, steps.c.step.in_(select(table.c.step).where(match))
        )
    ).all()
    by_step = dict(texts)
    out: list[str | None] = []
    parsed: tuple[int, Any] = (-1, None)
    for step, idx in rows:
        if parsed[0] != step:
            text = by_step.get(step)
            parsed = (step, None if text is None else json.loads(text))
        out.append(_element(parsed[1], keys, idx))
    return out


def _element(step: Any, keys: Sequence[str], idx: int) -> str | None:
    node = step
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, list) or not 0 <= idx < len(node):
        return None
    # compact JSON as pydantic writes it; floats print exactly (repr), strings re-escaped
    return json.dumps(node[idx], separators=(",", ":"), ensure_ascii=False)
