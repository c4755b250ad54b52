"""Integrity check of a stored run: is every step whole, with exactly its child rows?

A step and its child rows are written in one transaction, so this should never find anything; it
is how a crash test (or a user after a power cut) proves it.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from axon_lab.errors import RecordError
from axon_lab.explain import _schema
from axon_lab.explain._rows import child_records
from axon_lab.explain._schema import key_text
from axon_lab.records import Record, StepRecord

__all__ = ["find_problems"]

_KEY = ("run_id", "step", "idx")


def find_problems(conn: Connection, run_id: str) -> list[str]:
    """Check every stored step of ``run_id``; return one message per problem found.

    For each step: its JSON parses and matches its digest, its ``n_*`` counts match its JSON's
    lists (LLM calls, verdicts, rejections, acks, fills), and each child table holds exactly one
    row per child record of its JSON (a rejection), in order, whose ``idx`` is the record's
    position and whose columns equal the record's fields.

    Args:
        conn: A connection, ideally inside one read transaction.
        run_id: The run to check.

    Returns:
        The problems found; empty when the run is sound.
    """
    steps = _schema.steps
    stored = conn.execute(
        select(steps).where(steps.c.run_id == run_id).order_by(steps.c.step)
    ).all()
    children = {
        count: _child_rows(conn, table, run_id) for count, table in _schema.CHILD_TABLES.items()
    }
    problems: list[str] = []
    for row in stored:
        where = f"run {run_id!r} step {row.step}"
        try:
            record = StepRecord.from_json(row.record_json)
        except RecordError as err:
            problems.append(f"{where}: unreadable JSON ({err})")
            continue
        if record.digest() != row.digest:
            problems.append(f"{where}: JSON does not match its digest")
        for count, keys in _schema.LISTS.values():
            length = _length(record, keys)
            if getattr(row, count) != length:
                problems.append(
                    f"{where}: {count}={getattr(row, count)}, the step's JSON has {length}"
                )
        expected = child_records(record)
        for count, table in _schema.CHILD_TABLES.items():
            want = [(i, *_columns(table, child)) for i, child in expected[table.name]]
            got = children[count].get(row.step, [])
            if getattr(row, count) != len(want) or len(got) != len(want):
                problems.append(
                    f"{where}: {len(got)} {table.name} rows stored, {count}="
                    f"{getattr(row, count)}, the step's JSON has {len(want)}"
                )
            elif got != want:
                bad = next(i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w)
                problems.append(
                    f"{where}: {table.name} row {bad} is (idx, ...) = {got[bad]}, its record in "
                    f"the step's JSON says {want[bad]}"
                )
    return problems


def _length(record: StepRecord, keys: tuple[str, ...]) -> int:
    node: Any = record
    for key in keys:
        node = getattr(node, key) if node is not None else None
    return 0 if node is None else len(node)


def _columns(table: Table, record: Record) -> tuple[Any, ...]:
    """The values ``record``'s row in ``table`` should hold (after the key), as read back."""
    values = []
    for column in table.columns:
        if column.name in _KEY:
            continue
        value = getattr(record, column.name)
        if isinstance(value, Enum):
            value = value.value
        values.append(key_text(value) if isinstance(value, str) else value)
    return tuple(values)


def _child_rows(conn: Connection, table: Table, run_id: str) -> dict[int, list[tuple[Any, ...]]]:
    values = [c for c in table.columns if c.name not in _KEY]
    query = (
        select(table.c.step, table.c.idx, *values)
        .where(table.c.run_id == run_id)
        .order_by(table.c.step, table.c.idx)
    )
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for step, *rest in conn.execute(query):
        grouped.setdefault(step, []).append(tuple(rest))
    return grouped
