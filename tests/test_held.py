"""HeldConnection: one kept SQLite connection, locking, fork safety, invalidation, error mapping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import exc as sa_exc

from axon_lab._held import HeldConnection


@pytest.fixture
def held(tmp_path: Path) -> HeldConnection:
    engine = create_engine(f"sqlite:///{tmp_path / 'h.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
    return HeldConnection(engine, begin="BEGIN IMMEDIATE")


def _count(held: HeldConnection) -> int:
    return int(held.run([("SELECT count(*) FROM t", [()])], write=False).rows[0][0])


def test_writes_commit_and_reads_see_them_on_one_kept_connection(held: HeldConnection) -> None:
    pool = held._engine.pool
    held.run([("INSERT INTO t VALUES (?, ?)", [("a", 1), ("b", 2)])], write=True)
    assert pool.checkedout() == 1  # kept between calls
    first = held._held
    assert _count(held) == 2
    assert held._held is first
    held.close()
    assert pool.checkedout() == 0
    assert _count(held) == 2  # after close: a connection per call, given back
    assert pool.checkedout() == 0


def test_a_driver_error_is_the_sqlalchemy_error_after_a_rollback(held: HeldConnection) -> None:
    held.run([("INSERT INTO t VALUES (?, ?)", [("a", 1)])], write=True)
    statements = [
        ("INSERT INTO t VALUES (?, ?)", [("b", 2)]),
        ("INSERT INTO t VALUES (?, ?)", [("a", 3)]),  # duplicate key: the whole step is undone
    ]
    with pytest.raises(sa_exc.IntegrityError, match="UNIQUE constraint failed"):
        held.run(statements, write=True)
    assert held._held is None  # handed back; the next call takes another
    assert _count(held) == 1


def test_a_kept_connection_that_died_is_replaced_and_the_call_run_again(
    held: HeldConnection,
) -> None:
    held.run([("INSERT INTO t VALUES (?, ?)", [("a", 1)])], write=True)
    dead = held._held
    assert dead is not None
    dead.driver_connection.close()  # e.g. closed under the store between two calls
    held.run([("INSERT INTO t VALUES (?, ?)", [("b", 2)])], write=True)
    assert held._held is not dead
    assert _count(held) == 2


def test_a_second_thread_does_not_queue_when_told_not_to_wait(held: HeldConnection) -> None:
    held.run([("INSERT INTO t VALUES (?, ?)", [("a", 1)])], write=True)
    kept = held._held
    held._lock.acquire()  # another thread is using the kept connection
    try:
        held.run([("INSERT INTO t VALUES (?, ?)", [("b", 2)])], write=True, wait=False)
    finally:
        held._lock.release()
    assert held._held is kept  # the call ran on a pool connection, given back at once
    assert held._engine.pool.checkedout() == 1
    assert _count(held) == 2


def test_a_connection_inherited_across_fork_is_never_used(held: HeldConnection) -> None:
    held.run([("INSERT INTO t VALUES (?, ?)", [("a", 1)])], write=True)
    held._owner = os.getpid() + 1  # as a forked child sees its parent's connection
    parents = held._held
    held.run([("INSERT INTO t VALUES (?, ?)", [("b", 2)])], write=True)
    assert held._held is parents  # not used, not closed: a pool connection served the call
    held.close()  # and close() leaves the parent's connection alone
    assert held._held is parents
    held._owner = os.getpid()
    held._keep = True
    held.close()
