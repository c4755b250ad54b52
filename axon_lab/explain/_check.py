"""Integrity check of a stored run: is every step whole, with exactly its child rows?

A step and its child rows are written in one transaction, so this should never find anything; it
is how a crash test (or a user after a power cut) proves it.
"""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from axon_lab.errors import RecordError
from axon_lab.explain import _schema
from axon_lab.explain._rows import child_records
from axon_lab.records import StepRecord

__all__ = ["find_problems"]


def find_problems(conn: Connection, run_id: str) -> list[str]:
    """Check every stored step of ``run_id``; return one message per problem found.

    For each step: its JSON parses and matches its digest, its ``n_*`` counts match its JSON, and
    the child tables hold exactly the LLM calls, verdicts, acks and fills of its JSON, in order.

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
        count: _child_json(conn, table, run_id) for count, table in _schema.CHILD_TABLES.items()
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
        expected = child_records(record)
        for count, table in _schema.CHILD_TABLES.items():
            want = [child.to_json() for child in expected[table.name]]
            got = children[count].get(row.step, [])
            if getattr(row, count) != len(want) or got != want:
                problems.append(
                    f"{where}: {len(got)} {table.name} rows stored, {count}="
                    f"{getattr(row, count)}, the step's JSON has {len(want)}"
                )
    return problems


def _child_json(conn: Connection, table: Table, run_id: str) -> dict[int, list[str]]:
    query = (
        select(table.c.step, table.c.record_json)
        .where(table.c.run_id == run_id)
        .order_by(table.c.step, table.c.idx)
    )
    grouped: dict[int, list[str]] = {}
    for step, record_json in conn.execute(query):
        grouped.setdefault(step, []).append(record_json)
    return grouped
