"""One pooled SQLite connection kept checked out between calls: the stores' hot-path helper.

Both stores on the loop's hot path use it: the explain store writes a step per loop step, the LLM
cache reads once per model call in a replayed run. Checking a connection out of SQLAlchemy's pool
and resetting it on return costs more than SQLite's own work for either (a primary-key lookup, a
step's inserts), so each keeps one driver connection, opened by the engine (with its connect
hooks: pragmas, WAL) and returned to the pool when it closes. Hand-written because the pool has no
"lend this connection to this object for good" mode; everything around it is SQLAlchemy's:
statements are run as the dialect renders them, and driver errors are raised as the SQLAlchemy
errors they map to (``IntegrityError``, ``OperationalError``, ...).

What it guarantees, in one place:

* **Locking.** One user at a time. With ``wait=False`` a second thread does not queue behind the
  first: it runs on a connection checked out of the pool for that one call.
* **Fork safety.** A connection is only used by the process that opened it (SQLite forbids
  sharing one across ``fork``); a child opens its own, and never closes its parent's.
* **Invalidation.** After a driver error the connection goes back to the pool (or is discarded
  when the driver lost it); the next call takes another. A kept connection found dead before
  anything was sent on it (a server or file handle gone since the last call) is replaced and the
  statements run again on a fresh one: what the pool's pre-ping does at checkout.
* **No pinned snapshots.** Every read is fetched to its end and every write committed, so between
  calls the connection is idle outside any transaction and holds no lock or old WAL snapshot.

Only engines whose pool shares connections across threads lend one for good (a file's
``QueuePool``, an in-memory database's ``StaticPool``); with any other pool each call checks out
its own. PostgreSQL stores do not use this: a network round trip dwarfs the pool's work there, so
they run plain SQLAlchemy Core.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import PoolProxiedConnection, QueuePool, StaticPool

__all__ = ["HeldConnection", "Outcome", "Statement"]

Statement = tuple[str, Sequence[Sequence[Any]]]
"""One SQL string in the dialect's parameter style and its parameter rows (one row: execute,
several: executemany)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the last statement gave: its rows (a read) and its row count."""

    rows: list[Any]
    rowcount: int


class _LostError(Exception):
    """The kept connection was dead before anything was committed on it."""


class HeldConnection:
    """A pooled connection of ``engine`` kept checked out between calls (see the module).

    Args:
        engine: A SQLite engine.
        begin: The statement that opens a write transaction (``"BEGIN IMMEDIATE"`` takes the
            write lock up front), or None for the driver's implicit one.
    """

    def __init__(self, engine: Engine, *, begin: str | None = None) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self._begin = begin
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._keep = isinstance(engine.pool, QueuePool | StaticPool)
        self._lock = threading.Lock()
        self._held: PoolProxiedConnection | None = None
        self._owner: int | None = None  # the process that checked ``_held`` out

    def run(self, statements: Sequence[Statement], *, write: bool, wait: bool = True) -> Outcome:
        """Run ``statements``; a write runs in one committed transaction.

        Args:
            statements: The statements, in order.
            write: Open the transaction with ``begin`` and commit it; else only read (the last
                statement's rows are fetched to the end).
            wait: Wait for the kept connection while another thread uses it; if False, use a
                connection of the pool's for this call instead.

        Raises:
            sqlalchemy.exc.DBAPIError: The SQLAlchemy error a driver error maps to, after a
                rollback.
        """
        if self._keep and self._owner in (None, os.getpid()) and self._lock.acquire(wait):
            try:
                return self._run_held(statements, write)
            finally:
                self._lock.release()
        raw = self._engine.raw_connection()
        try:
            return self._run(raw, statements, write, retry_if_lost=False)
        finally:
            raw.close()  # back to the pool, which rolls back anything left open

    def _run_held(self, statements: Sequence[Statement], write: bool) -> Outcome:
        raw = self._held
        reused = raw is not None
        if raw is None:
            raw = self._checkout()
        try:
            try:
                return self._run(raw, statements, write, retry_if_lost=reused)
            except _LostError:
                self._release(invalidate=True)
                return self._run(self._checkout(), statements, write, retry_if_lost=False)
        except BaseException as exc:
            self._release(invalidate=getattr(exc, "connection_invalidated", False))
            raise

    def _checkout(self) -> PoolProxiedConnection:
        self._held, self._owner = self._engine.raw_connection(), os.getpid()
        return self._held

    def _release(self, *, invalidate: bool) -> None:
        raw, self._held, self._owner = self._held, None, None
        if raw is not None and raw.dbapi_connection is not None:
            if invalidate:
                raw.invalidate()
            else:
                raw.close()

    def _run(
        self,
        raw: PoolProxiedConnection,
        statements: Sequence[Statement],
        write: bool,
        *,
        retry_if_lost: bool,
    ) -> Outcome:
        dbapi = raw.dbapi_connection
        if dbapi is None:  # invalidated since it was checked out: nothing was sent on it
            if retry_if_lost:
                raise _LostError
            raise sa_exc.ResourceClosedError("the store's database connection was closed")
        cursor = None
        sql = self._begin or ""
        params: Sequence[Sequence[Any]] = []
        committing = False
        try:
            cursor = dbapi.cursor()
            if write and self._begin is not None:
                cursor.execute(self._begin)
            for sql, params in statements:
                if len(params) == 1:
                    cursor.execute(sql, params[0])
                else:
                    cursor.executemany(sql, params)
            rows = [] if write else list(cursor.fetchall())
            outcome = Outcome(rows=rows, rowcount=cursor.rowcount)
            if write:
                committing = True
                dbapi.commit()
            return outcome
        except self._dbapi_error as err:
            lost = self._dialect.is_disconnect(err, dbapi, cursor)  # type: ignore[arg-type]
            if lost and retry_if_lost and not committing:
                raise _LostError from err
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
                ismulti=len(params) != 1,
            ) from err
        finally:
            if cursor is not None:
                with contextlib.suppress(self._dbapi_error):
                    cursor.close()

    def close(self) -> None:
        """Give the kept connection back to the pool (before the engine is disposed).

        Later calls check a connection out per call.
        """
        self._keep = False
        if self._owner == os.getpid():  # after fork(), the parent's connection is not ours
            with self._lock:  # waits for a call in progress
                self._release(invalidate=False)
