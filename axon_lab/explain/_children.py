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


def read_lists(conn: Connection, name: str, run_id: str) -> tuple[list[str], str | None]:
    """The JSON of every element of the steps' list ``name`` (see ``LISTS``), in step order.

    Only steps whose count column says the list is non-empty are read.

    Args:
        conn: A connection inside a read transaction.
        name: A key of :data:`~axon_lab.explain._schema.LISTS` (``"fills"``, ...).
        run_id: The run.

    Returns:
        The elements' JSON, and what is damaged (None normally): the steps whose list length
        disagrees with their count column.
    """
    count, keys = _schema.LISTS[name]
    steps = _schema.steps
    match = and_(steps.c.run_id == run_id, steps.c[count] > 0)
    rows: list[tuple[int, int, str | None]] = []  # (step, its count, an element's JSON or None)
    if conn.dialect.name == "sqlite":
        path = "$." + ".".join(keys)  # plain identifiers, no quoting needed
        items = func.json_each(steps.c.record_json, path).table_valued("key", "value", name="item")
        query = (  # a step whose list is missing still gives one row (value NULL): a left join
            select(steps.c.step, steps.c[count], cast(items.c.value, String))
            .select_from(steps.outerjoin(items, true()))
            .where(match)
            .order_by(steps.c.step, items.c.key)
        )
        rows = [(step, n, text) for step, n, text in conn.execute(query)]
    else:
        query = select(steps.c.step, steps.c[count], steps.c.record_json).where(match)
        for step, n, text in conn.execute(query.order_by(steps.c.step)):
            node = _at(json.loads(text), keys)
            elements = node if isinstance(node, list) else []
            rows += [(step, n, _dump(e)) for e in elements] or [(step, n, None)]
    seen: dict[int, int] = {}
    wanted: dict[int, int] = {}
    for step, n, text in rows:
        wanted[step] = n
        seen[step] = seen.get(step, 0) + (text is not None)
    bad = [step for step, n in wanted.items() if seen[step] != n]
    texts = [text for _step, _n, text in rows if text is not None]
    if not bad:
        return texts, None
    return texts, (
        f"Step {bad[0]} of run {run_id!r} stores {count} that disagrees with its JSON "
        f"({len(bad)} such steps)"
    )


def read_children(
    conn: Connection, table: Table, run_id: str, conditions: Sequence[ColumnElement[bool]]
) -> tuple[list[str], str | None]:
    """The JSON of the records of ``table``'s rows that match, in step and ``idx`` order.

    Also returns what is damaged (None normally): a row whose step's JSON has no such element.

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
        return _found(list(conn.execute(query).scalars()), table, run_id)
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
    return _found(out, table, run_id)


def _found(texts: list[str | None], table: Table, run_id: str) -> tuple[list[str], str | None]:
    kept = [text for text in texts if text is not None]
    if len(kept) == len(texts):
        return kept, None
    what = table.name.removeprefix("axon_").removesuffix("s")  # "rejection"
    return kept, f"A stored {what} of run {run_id!r} has no record in its step's JSON"


def _at(step: Any, keys: Sequence[str]) -> Any:
    """The node of a parsed step's JSON at ``keys`` (None where a key is missing)."""
    node = step
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _dump(element: Any) -> str:
    # compact JSON as pydantic writes it; floats print exactly (repr), strings re-escaped
    return json.dumps(element, separators=(",", ":"), ensure_ascii=False)


def _element(step: Any, keys: Sequence[str], idx: int) -> str | None:
    node = _at(step, keys)
    if not isinstance(node, list) or not 0 <= idx < len(node):
        return None
    return _dump(node[idx])
