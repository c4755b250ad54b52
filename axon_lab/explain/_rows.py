"""Turning a :class:`~axon_lab.records.StepRecord` into the rows the explain store writes.

A step's *action* is its decision's action, or its analysis's when there was no decision; its
*source* follows the same rule. Both are ``None`` for a step that failed before analysing.

:class:`RowBinder` builds each table's rows as parameter tuples in :data:`COLUMNS` order, with
every value already bound as the column's SQLAlchemy type binds it on the dialect, so the driver
receives exactly what ``insert(table).values(...)`` would send. It runs once per step, so it
writes the tuples out directly instead of building dicts and applying each column's processor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Dialect, Float, Table
from sqlalchemy.engine import processors

from axon_lab.explain import _schema
from axon_lab.explain._schema import key_text
from axon_lab.records import Record, RiskVerdict, StepRecord

__all__ = ["COLUMNS", "RowBinder", "child_records", "step_action"]

Row = tuple[Any, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    table.name: tuple(table.columns.keys())
    for table in (_schema.steps, *_schema.CHILD_TABLES.values())
}
"""The order of the values in each table's row tuples: the schema's column order, which the
row builders of :class:`RowBinder` follow."""


def step_action(step: StepRecord) -> tuple[str | None, str | None]:
    """The step's (action, source) as stored in the indexed columns."""
    if step.decision is not None:
        return step.decision.action.value, step.decision.source.value
    if step.analysis is not None:
        return step.analysis.action.value, step.analysis.source.value
    return None, None


_REJECTIONS = _schema.rejections.name


def child_records(step: StepRecord) -> dict[str, Sequence[tuple[int, Record]]]:
    """The child records of ``step`` by child table name, each with its ``idx``, in order.

    A rejection's ``idx`` is its position among all of the step's verdicts.
    """
    return {_REJECTIONS: [(i, v) for i, v in enumerate(step.verdicts) if not v.approved]}


_MISSING = object()


def _key_or_none(value: str | None) -> str | None:
    return None if value is None else key_text(value)


class RowBinder:
    """Builds a step's rows for one dialect, values bound as the columns' types bind them.

    The binds, per column type (checked against SQLAlchemy's own processors when built):

    * ``KeyText``: :func:`~axon_lab.explain._schema.key_text` (its ``process_bind_param``);
    * ``UTCDateTime``: its SQLAlchemy bind processor (on SQLite memoised for recent instants);
    * ``Boolean``: ``int`` without a native boolean type (SQLite), else ``bool``, which is what
      ``Boolean``'s processor does to a bool;
    * ``Float``: nothing; the records hold exact ``float`` values (pydantic converts), on which
      SQLite's ``float()`` processor is the identity and PostgreSQL has none;
    * ``Integer`` and ``Text``: nothing (no processor on either dialect).

    Args:
        dialect: The engine's dialect.

    Raises:
        NotImplementedError: If the dialect binds a column type differently from the above.
    """

    def __init__(self, dialect: Dialect) -> None:
        self._flag: Callable[[bool], Any] = bool if dialect.supports_native_boolean else int
        _check_binds(dialect, self._flag)
        utc = _schema.UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        if utc is None:  # a TypeDecorator with process_bind_param always has one
            raise NotImplementedError(f"{dialect.name} has no bind processor for UTCDateTime")
        self._utc: Callable[[datetime], Any] = utc
        self._stamps: dict[datetime, Any] = {}
        # SQLite binds a datetime as text of its UTC fields: the costly part, and a function of
        # the instant alone. PostgreSQL's bind is a cheap astimezone() that keeps the object.
        self._stamp: Callable[[datetime], Any] = (
            self._text_stamp if dialect.name == "sqlite" else self._utc
        )

    def _text_stamp(self, value: datetime) -> Any:
        # A step's records share a few instants, and equal aware datetimes are the same instant.
        bound = self._stamps.get(value, _MISSING)
        if bound is _MISSING:
            if len(self._stamps) >= 64:
                self._stamps.clear()
            bound = self._stamps[value] = self._utc(value)
        return bound

    def step(self, step: StepRecord, step_json: str, digest: str) -> Row:
        """The ``axon_steps`` row of ``step``, whose JSON ``step_json`` hashes to ``digest``."""
        action, source = step_action(step)
        return (
            key_text(step.run_id),
            step.step,
            self._stamp(step.timestamp),
            _key_or_none(action),
            _key_or_none(source),
            step.equity,
            step.pnl,
            self._flag(step.is_failed),
            len(step.analysis.llm_calls) if step.analysis is not None else 0,
            len(step.verdicts),
            len(step.rejections),
            len(step.acks),
            len(step.fills),
            key_text(digest),
            step_json,
        )

    def children(self, step: StepRecord) -> list[tuple[str, list[Row]]]:
        """The child rows of ``step`` by table (as :func:`child_records`), non-empty ones only."""
        run_id, n = step.run_id, step.step
        rows = [
            self._rejection(run_id, n, i, v) for i, v in enumerate(step.verdicts) if not v.approved
        ]
        return [(_REJECTIONS, rows)] if rows else []

    def _rejection(self, run_id: str, n: int, i: int, v: RiskVerdict) -> Row:
        return (
            key_text(run_id),
            n,
            i,
            key_text(v.line.value),
            key_text(v.rule),
            _key_or_none(v.client_order_id),
            self._stamp(v.timestamp),
        )


def _check_binds(dialect: Dialect, flag: Callable[[bool], Any]) -> None:
    """Fail if a column's SQLAlchemy type binds differently from what :class:`RowBinder` does."""
    tables: list[Table] = [_schema.steps, *_schema.CHILD_TABLES.values()]
    for table in tables:
        for column in table.columns:
            kind = column.type
            process = kind.dialect_impl(dialect).bind_processor(dialect)
            if isinstance(kind, _schema.UTCDateTime):
                ok = True  # RowBinder calls this very processor
            elif isinstance(kind, _schema.KeyText):
                ok = _same(process, _key_or_none, ("key", "k\x00y", None))
            elif isinstance(kind, Boolean):
                ok = _same(process, flag, (True, False))
            else:  # no processor, or SQLite's float() for Float, the identity on float values
                ok = process is None or (isinstance(kind, Float) and process is processors.to_float)
            if not ok:
                raise NotImplementedError(
                    f"{dialect.name} binds {table.name}.{column.name} ({kind!r}) differently"
                )


def _same(
    process: Callable[[Any], Any] | None, ours: Callable[[Any], Any], probes: tuple[Any, ...]
) -> bool:
    if process is None:
        return False
    return all((type(process(v)), process(v)) == (type(ours(v)), ours(v)) for v in probes)
