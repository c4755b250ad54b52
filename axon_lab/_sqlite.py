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


def enable_wal(dbapi_connection: Any, *, timeout_s: float) -> str:
    """Ask for WAL mode, retrying while the file is locked; return the journal mode in force.

    An in-memory database stays ``"memory"`` (SQLite has no WAL for it); the caller decides
    whether anything but ``"wal"`` matters.

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
            row = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
            return str(row[0]).lower() if row else ""
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            if time.monotonic() + delay > deadline:
                raise
        finally:
            cursor.close()
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
