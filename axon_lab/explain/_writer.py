"""The explain store's write path for steps: plain SQL, built once per table and dialect.

``record_step`` is on the loop's hot path (once per step, five tables). Building a Core
``insert()`` per table per step and letting SQLAlchemy compile (or look up) it, expand the rows
and run the type processors costs more than the database work itself. :class:`StepWriter` does
that work once: per table it renders ``INSERT INTO t (c1, ...) VALUES (?, ...)`` in the dialect's
parameter style, and :class:`~axon_lab.explain._rows.RowBinder` turns a step into parameter
tuples bound as SQLAlchemy binds them. A step is then one transaction: ``BEGIN IMMEDIATE`` on
SQLite, one ``execute``/``executemany`` per non-empty table, ``COMMIT``.

The connection. On SQLite the step runs on a connection kept checked out between steps
(:class:`~axon_lab._held.HeldConnection`: locking, fork safety, invalidation and error mapping);
a second thread writing meanwhile takes a connection of the pool's for its step. On PostgreSQL
it runs through plain SQLAlchemy Core (``engine.begin()``, the pool's pre-ping replaces a
connection lost between steps): there the commit's network round trip and the server's fsync
dwarf what a kept connection would save.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import Dialect, Engine

from axon_lab._held import HeldConnection, Statement
from axon_lab.explain import _schema
from axon_lab.explain._rows import COLUMNS, Row, RowBinder
from axon_lab.records import StepRecord

__all__ = ["StepWriter"]


def _insert_sql(table: str, columns: Sequence[str], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    if dialect.paramstyle not in ("qmark", "format", "pyformat"):
        raise NotImplementedError(f"paramstyle {dialect.paramstyle!r}")
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(quote(name) for name in columns)
    markers = ", ".join(marker for _ in columns)
    return f"INSERT INTO {quote(table)} ({names}) VALUES ({markers})"


class StepWriter:
    """Writes a step row, its child rows and blobs with pre-rendered statements.

    Call :meth:`close` before disposing of the engine.

    Args:
        engine: The store's engine (SQLite or PostgreSQL).
    """

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self._engine = engine
        self._rows = RowBinder(dialect)
        self._sql = {table: _insert_sql(table, cols, dialect) for table, cols in COLUMNS.items()}
        self._step_sql = self._sql[_schema.steps.name]
        blob_columns = tuple(_schema.blobs.columns.keys())
        # a part seen earlier in the run is stored already: keep the first copy
        self._blob_sql = (
            _insert_sql(_schema.blobs.name, blob_columns, dialect) + " ON CONFLICT DO NOTHING"
        )
        self._held = (
            HeldConnection(engine, begin="BEGIN IMMEDIATE") if dialect.name == "sqlite" else None
        )

    def commit(self, step: StepRecord, record_json: str, blobs: Sequence[Row] = ()) -> None:
        """Insert ``step`` (whose JSON is ``record_json``), its child rows and blobs; commit.

        ``blobs`` are ``(run_id, digest, size, data)`` rows; one already stored is skipped.

        One transaction, taking SQLite's write lock up front. Returns once the commit is durable.
        Driver errors are raised as the SQLAlchemy errors ``Connection.execute`` would raise
        (``IntegrityError`` for a step recorded twice, ``OperationalError`` for a locked or
        unreachable database), after a rollback.
        """
        digest = hashlib.sha256(record_json.encode()).hexdigest()  # == step.digest()
        statements: list[Statement] = [
            (self._step_sql, [self._rows.step(step, record_json, digest)])
        ]
        statements += [(self._sql[table], rows) for table, rows in self._rows.children(step)]
        if blobs:
            statements.append((self._blob_sql, list(blobs)))
        if self._held is not None:
            self._held.run(statements, write=True, wait=False)
            return
        with self._engine.begin() as conn:
            for sql, rows in statements:
                conn.exec_driver_sql(sql, rows[0] if len(rows) == 1 else list(rows))

    def close(self) -> None:
        """Give a kept connection back to the pool (before the engine is disposed)."""
        if self._held is not None:
            self._held.close()
