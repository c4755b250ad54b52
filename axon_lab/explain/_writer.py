"""The explain store's write path for steps: plain SQL, built once per table and dialect.

``record_step`` is on the loop's hot path (once per step, five tables). Building a Core
``insert()`` per table per step and letting SQLAlchemy compile (or look up) it, expand the rows
and run the type processors costs more than the database work itself. :class:`StepWriter` does
that work once: per table it renders ``INSERT INTO t (c1, ...) VALUES (?, ...)`` in the dialect's
parameter style and keeps each column's bind processor (the same ones SQLAlchemy would apply:
:class:`~axon_lab.explain._schema.UTCDateTime`, :class:`~axon_lab.explain._schema.KeyText`, the
dialect's own date and boolean handling). A step is then one transaction on a pooled driver
connection (``engine.raw_connection()``, set up by the engine's connect hook like any other):
``BEGIN IMMEDIATE`` on SQLite, one ``executemany`` per non-empty table, ``COMMIT``. Driver errors
are re-raised as the SQLAlchemy errors they map to (an ``IntegrityError`` for a duplicate step),
so the store's error handling is unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Dialect, Engine, Table
from sqlalchemy import exc as sa_exc

from axon_lab.explain import _schema
from axon_lab.explain._rows import child_rows, step_row
from axon_lab.records import StepRecord

__all__ = ["StepWriter"]

_Processor = Callable[[Any], Any] | None


class _TableInsert:
    """One table's INSERT statement and its per-column bind processors."""

    __slots__ = ("columns", "processors", "sql")

    def __init__(self, table: Table, dialect: Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        self.columns: tuple[str, ...] = tuple(c.name for c in table.columns)
        self.processors: tuple[_Processor, ...] = tuple(
            c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns
        )
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        if dialect.paramstyle not in ("qmark", "format", "pyformat"):
            raise NotImplementedError(f"paramstyle {dialect.paramstyle!r}")
        names = ", ".join(quote(name) for name in self.columns)
        markers = ", ".join(marker for _ in self.columns)
        self.sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({markers})"

    def params(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """The rows as positional parameter tuples, bind processors applied."""
        pairs = tuple(zip(self.columns, self.processors, strict=True))
        if len(rows) == 1:
            row = rows[0]
            return [tuple(row[n] if p is None else p(row[n]) for n, p in pairs)]
        # Rows of one step repeat values (run id, timestamp, client order id): process each
        # distinct value once per column. The processors are pure functions of the value, and
        # equal keys (str, datetime, bool) give equal results.
        memo: dict[tuple[int, Any], Any] = {}
        out = []
        for row in rows:
            values = []
            for i, (name, process) in enumerate(pairs):
                value = row[name]
                if process is not None and type(value) is float:
                    value = process(value)  # not memoised: -0.0 == 0.0 but they differ
                elif process is not None:
                    key = (i, value)
                    done = memo.get(key, memo)
                    if done is memo:
                        done = memo[key] = process(value)
                    value = done
                values.append(value)
            out.append(tuple(values))
        return out


class StepWriter:
    """Writes a step row and its child rows with pre-rendered statements.

    Args:
        dialect: The engine's dialect (SQLite or PostgreSQL).
    """

    def __init__(self, dialect: Dialect) -> None:
        tables = (_schema.steps, *_schema.CHILD_TABLES.values())
        self._inserts = {table.name: _TableInsert(table, dialect) for table in tables}
        self._dialect = dialect
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self._begin = "BEGIN IMMEDIATE" if dialect.name == "sqlite" else None

    def commit(self, engine: Engine, step: StepRecord, record_json: str) -> None:
        """Insert ``step`` (whose JSON is ``record_json``) and its child rows; commit.

        One transaction on a pooled driver connection: ``BEGIN IMMEDIATE`` on SQLite (the lock
        is taken up front, as every store write does), the driver's implicit one on PostgreSQL.
        Returns once the commit is durable. Driver errors are raised as the SQLAlchemy errors
        ``Connection.execute`` would raise (``IntegrityError`` for a step recorded twice,
        ``OperationalError`` for a locked or unreachable database), after a rollback.
        """
        digest = hashlib.sha256(record_json.encode()).hexdigest()  # == step.digest()
        batches = [(_schema.steps, [step_row(step, record_json, digest=digest)])]
        batches += child_rows(step)
        statements = []
        for table, rows in batches:
            insert = self._inserts[table.name]
            statements.append((insert.sql, insert.params(rows)))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            sql: str = self._begin or ""
            params: list[tuple[Any, ...]] = []
            try:
                if self._begin is not None:
                    cursor.execute(self._begin)
                for sql, params in statements:
                    cursor.executemany(sql, params)
                raw.commit()
            except self._dbapi_error as err:
                with contextlib.suppress(self._dbapi_error):
                    raw.rollback()
                raise sa_exc.DBAPIError.instance(
                    sql, params, err, self._dbapi_error, dialect=self._dialect, ismulti=True
                ) from err
            finally:
                cursor.close()
        finally:
            raw.close()  # back to the pool, which rolls back anything left open
