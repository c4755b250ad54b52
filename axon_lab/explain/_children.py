r"""Reading child records (LLM calls, verdicts, acks, fills) back out of their steps' JSON.

Child records have no JSON of their own (see :mod:`axon_lab.explain._schema`): each is an element
of a list in its step's ``record_json``. :func:`read_lists` reads whole lists (every verdict of a
run), :func:`read_children` the elements a child table's rows point at (the rejections of a
rule). On SQLite the database picks the elements out (``json_each``, ``json_extract``: each
returns the element's stored text), so only the children's JSON leaves the database.
PostgreSQL's JSON operators refuse text holding an escaped NUL (``\u0000``), which a record may
contain, so there the steps' JSON is read and the elements are picked out in Python, each step
parsed once. Either way a record read back equals the one written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Table, and_, cast, func, literal, select, true
from sqlalchemy.engine import Connection

from axon_lab.explain import _schema

__all__ = ["read_children", "read_lists"]


def read_lists(conn: Connection, name: str, run_id: str) -> tuple[list[str], list[int]]:
    """The JSON of every element of the steps' list ``name`` (see ``LISTS``), in step order.

    Only steps whose count column says the list is non-empty are read.

    Args:
        conn: A connection inside a read transaction.
        name: A key of :data:`~axon_lab.explain._schema.LISTS` (``"fills"``, ...).
        run_id: The run.

    Returns:
        The elements' JSON, and the steps whose list length disagrees with their count column
        (a damaged store; empty normally).
    """
    count, keys = _schema.LISTS[name]
    steps = _schema.steps
    match = and_(steps.c.run_id == run_id, steps.c[count] > 0)
    found: list[tuple[int, str]] = []  # (step, an element's JSON)
    if conn.dialect.name == "sqlite":
        path = "$." + ".".join(keys)  # plain identifiers, no quoting needed
        items = func.json_each(steps.c.record_json, path).table_valued("key", "value", name="item")
        query = (
            select(steps.c.step, cast(items.c.value, String))
            .select_from(steps.join(items, true()))
            .where(match)
            .order_by(steps.c.step, items.c.key)
        )
        found = [(step, text) for step, text in conn.execute(query)]
        wanted = dict(conn.execute(select(steps.c.step, steps.c[count]).where(match)).all())
    else:
        wanted = {}
        query = select(steps.c.step, steps.c[count], steps.c.record_json).where(match)
        for step, n, text in conn.execute(query.order_by(steps.c.step)):
            wanted[step] = n
            node: Any = json.loads(text)
            for key in keys:
                node = node.get(key) if isinstance(node, dict) else None
            for element in node if isinstance(node, list) else ():
                dumped = json.dumps(element, separators=(",", ":"), ensure_ascii=False)
                found.append((step, dumped))
    seen: dict[int, int] = {}
    for step, _text in found:
        seen[step] = seen.get(step, 0) + 1
    bad = sorted(step for step, n in wanted.items() if seen.get(step, 0) != n)
    return [text for _step, text in found], bad


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
