"""enable_wal: the WAL switch waits out another connection's lock instead of failing at once."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from axon_lab._sqlite import enable_wal


def _locked(path: Path) -> sqlite3.Connection:
    """A connection holding the write (RESERVED) lock on a fresh rollback-journal database."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    return holder


def test_plain_pragma_fails_at_once_while_locked(tmp_path: Path) -> None:
    # why enable_wal exists: the busy timeout does not cover the journal-mode switch
    holder = _locked(tmp_path / "a.db")
    other = sqlite3.connect(tmp_path / "a.db", timeout=5, isolation_level=None)
    start = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("PRAGMA journal_mode = WAL")
    assert time.monotonic() - start < 4
    holder.close()
    other.close()


def test_waits_for_the_lock_then_switches(tmp_path: Path) -> None:
    holder = _locked(tmp_path / "b.db")
    release = threading.Timer(0.3, holder.execute, args=("COMMIT",))
    release.start()
    other = sqlite3.connect(tmp_path / "b.db", timeout=5, isolation_level=None)
    enable_wal(other, timeout_s=10)
    release.join()
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)]
    holder.close()
    other.close()


def test_gives_up_after_the_timeout(tmp_path: Path) -> None:
    holder = _locked(tmp_path / "c.db")
    other = sqlite3.connect(tmp_path / "c.db", timeout=0.1, isolation_level=None)
    start = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(other, timeout_s=0.5)
    assert 0.4 < time.monotonic() - start < 5
    holder.close()
    other.close()


def test_reports_the_mode_in_force() -> None:
    memory = sqlite3.connect(":memory:", isolation_level=None)
    assert enable_wal(memory, timeout_s=1) == "memory"  # no WAL for an in-memory database
    memory.close()
