"""The explain store's write path for steps: plain SQL, built once per table and dialect.

``record_step`` is on the loop's hot path (once per step, five tables). Building a Core
``insert()`` per table per step and letting SQLAlchemy compile (or look up) it, expand the rows
and run the type processors costs more than the database work itself. :class:`StepWriter` does
that work once: per table it renders ``INSERT INTO t (c1, ...) VALUES (?, ...)`` in the dialect's
parameter style, and :class:`~axon_lab.explain._rows.RowBinder` turns a step into parameter
tuples bound as SQLAlchemy binds them. A step is then one transaction on a driver connection:
``BEGIN IMMEDIATE`` on SQLite, one ``execute``/``executemany`` per non-empty table, ``COMMIT``.
Driver errors are re-raised as the SQLAlchemy errors they map to (an ``IntegrityError`` for a
duplicate step), so the store's error handling is unchanged.

The connection. A pooled connection (``engine.raw_connection()``, set up by the engine's connect
hook like any other) is kept checked out between steps, which saves the pool's checkout, reset
and, on PostgreSQL, its pre-ping round trip at every step. Between steps it is idle, outside any
transaction, so it holds no lock or snapshot. It goes back to the pool when a write fails and
when the store closes. A held connection found dead before anything was committed on it (the
pre-ping's case: the server went away since the last step) is replaced and the transaction run
again on a fresh, pinged one. Writes from a second thread, while one is in progress, and on
engines whose pool hands each thread its own connection (in-memory SQLite), check a connection
out per step instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Sequence

from sqlalchemy import Dialect, Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import PoolProxiedConnection, QueuePool

from axon_lab.explain import _schema
from axon_lab.explain._rows import COLUMNS, Row, RowBinder
from axon_lab.records import StepRecord

__all__ = ["StepWriter"]

_Statements = Sequence[tuple[str, Sequence[Row]]]


def _insert_sql(table: str, columns: Sequence[str], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    if dialect.paramstyle not in ("qmark", "format", "pyformat"):
        raise NotImplementedError(f"paramstyle {dialect.paramstyle!r}")
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(quote(name) for name in columns)
    markers = ", ".join(marker for _ in columns)
    return f"INSERT INTO {quote(table)} ({names}) VALUES ({markers})"


class StepWriter:
    """Writes a step row and its child rows with pre-rendered statements.

    Call :meth:`close` before disposing of the engine.

    Args:
        engine: The store's engine (SQLite or PostgreSQL).
    """

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self._engine = engine
        self._dialect = dialect
        self._rows = RowBinder(dialect)
        self._sql = {table: _insert_sql(table, cols, dialect) for table, cols in COLUMNS.items()}
        self._step_sql = self._sql[_schema.steps.name]
        blob_columns = tuple(_schema.blobs.columns.keys())
        # a part seen earlier in the run is stored already: keep the first copy
        self._blob_sql = (
            _insert_sql(_schema.blobs.name, blob_columns, dialect) + " ON CONFLICT DO NOTHING"
        )
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self._begin = "BEGIN IMMEDIATE" if dialect.name == "sqlite" else None
        # Only a pool that shares connections across threads may lend one for good.
        self._keep = isinstance(engine.pool, QueuePool)
        self._lock = threading.Lock()  # taken while the kept connection is in use
        self._held: PoolProxiedConnection | None = None
        self._owner: int | None = None  # the process that checked ``_held`` out

    def commit(self, step: StepRecord, record_json: str, blobs: Sequence[Row] = ()) -> None:
        """Insert ``step`` (whose JSON is ``record_json``), its child rows and blobs; commit.

        ``blobs`` are ``(run_id, digest, size, data)`` rows; one already stored is skipped.

        One transaction: ``BEGIN IMMEDIATE`` on SQLite (the lock is taken up front, as every
        store write does), the driver's implicit one on PostgreSQL. Returns once the commit is
        durable. Driver errors are raised as the SQLAlchemy errors ``Connection.execute`` would
        raise (``IntegrityError`` for a step recorded twice, ``OperationalError`` for a locked or
        unreachable database), after a rollback.
        """
        digest = hashlib.sha256(record_json.encode()).hexdigest()  # == step.digest()
        statements = [(self._step_sql, [self._rows.step(step, record_json, digest)])]
        statements += [(self._sql[table], rows) for table, rows in self._rows.children(step)]
        if blobs:
            statements.append((self._blob_sql, list(blobs)))
        if (
            self._keep
            and self._owner in (None, os.getpid())  # after fork(), the parent's is not ours
            and self._lock.acquire(blocking=False)
        ):
            try:
                self._commit_held(statements)
            finally:
                self._lock.release()
            return
        raw = self._engine.raw_connection()
        try:
            self._transaction(raw, statements, retry_if_lost=False)
        finally:
            raw.close()  # back to the pool, which rolls back anything left open

    def _commit_held(self, statements: _Statements) -> None:
        raw = self._held
        reused = raw is not None
        if raw is None:
            raw = self._held = self._engine.raw_connection()
            self._owner = os.getpid()
        try:
            if self._transaction(raw, statements, retry_if_lost=reused):
                return
            # The kept connection died since the last step and nothing was committed on it:
            # what the pool's pre-ping does at checkout. Run the transaction on a fresh one.
            self._release(invalidate=True)
            raw = self._held = self._engine.raw_connection()
            self._owner = os.getpid()
            self._transaction(raw, statements, retry_if_lost=False)
        except BaseException as exc:
            # back to the pool (or discarded, if the driver lost it); the next step takes another
            self._release(invalidate=getattr(exc, "connection_invalidated", False))
            raise

    def _release(self, *, invalidate: bool) -> None:
        raw, self._held, self._owner = self._held, None, None
        if raw is not None and raw.dbapi_connection is not None:
            if invalidate:
                raw.invalidate()
            else:
                raw.close()

    def _transaction(
        self, raw: PoolProxiedConnection, statements: _Statements, *, retry_if_lost: bool
    ) -> bool:
        """Run the statements in one committed transaction on ``raw``; False means not run.

        Returns False, having written nothing, only if ``retry_if_lost`` and the connection turns
        out to be dead before the COMMIT is sent. Any other driver error is rolled back and
        raised as its SQLAlchemy error.
        """
        dbapi = raw.dbapi_connection
        if dbapi is None:  # invalidated since it was checked out: nothing was sent on it
            if retry_if_lost:
                return False
            raise sa_exc.ResourceClosedError("the store's database connection was closed")
        cursor = None
        sql: str = self._begin or ""
        params: Sequence[Row] = []
        committing = False
        try:
            cursor = dbapi.cursor()
            if self._begin is not None:
                cursor.execute(self._begin)
            for sql, params in statements:
                if len(params) == 1:
                    cursor.execute(sql, params[0])
                else:
                    cursor.executemany(sql, params)
            committing = True
            dbapi.commit()
        except self._dbapi_error as err:
            lost = self._dialect.is_disconnect(err, dbapi, cursor)  # type: ignore[arg-type]
            if lost and retry_if_lost and not committing:
                return False
            if not lost:
                with contextlib.suppress(self._dbapi_error):
                    dbapi.rollback()
            raise sa_exc.DBAPIError.instance(
                sql,
                list(params),
                err,
                self._dbapi_error,
                connection_invalidated=lost,
                dialect=self._dialect,
                ismulti=True,
            ) from err
        finally:
            if cursor is not None:
                with contextlib.suppress(self._dbapi_error):
                    cursor.close()
        return True

    def close(self) -> None:
        """Give the kept connection back to the pool (before the engine is disposed).

        Later writes, if any, check a connection out per step.
        """
        self._keep = False
        if self._owner == os.getpid():  # after fork(), the parent's connection is not ours
            with self._lock:  # waits for a write in progress
                self._release(invalidate=False)
