"""Switching a new SQLite connection to WAL mode when other connections open the same file.

``PRAGMA journal_mode = WAL`` needs exclusive access to the file. While another connection holds
the write lock of a database still in rollback-journal mode (say, one creating the tables of a
file that several threads or processes open at once), SQLite does not run the busy handler for
it: the pragma fails at once with "database is locked", whatever ``busy_timeout`` says.
:func:`enable_wal` retries it, with a short backoff, up to the busy timeout. Once a file is in WAL
mode (which persists), the pragma is a no-op and succeeds at once.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

__all__ = ["enable_wal"]


def enable_wal(dbapi_connection: Any, *, timeout_s: float) -> None:
    """Put the connection's database in WAL mode, retrying while it is locked.

    Args:
        dbapi_connection: A ``sqlite3`` connection (as given to SQLAlchemy's connect hook).
        timeout_s: How long to keep retrying; the busy timeout the caller uses elsewhere.

    Raises:
        sqlite3.OperationalError: If the file stays locked for ``timeout_s`` (or any other
            error); SQLAlchemy reports it as an ``OperationalError``.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.001
    while True:
        cursor = dbapi_connection.cursor()
        try:
            mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is not None and str(mode[0]).lower() == "wal":
                return
            raise sqlite3.OperationalError(
                f"SQLite refused WAL mode (journal mode stays {mode!r}); the file may be on a "
                "filesystem without shared memory support, or opened read-only"
            )
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            if time.monotonic() + delay > deadline:
                raise
        finally:
            cursor.close()
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
