"""Where the LLM cache keeps responses: a :class:`CacheStore` protocol and two implementations.

:class:`SQLCacheStore` (the default) keeps one row per request key in its own table (``llm_cache``)
of the run database, ``sqlite:///runs/axon.db`` by default, through SQLAlchemy. Writers never
conflict: SQLite runs in WAL mode with a busy timeout, and inserts are insert-or-ignore, so two
threads or two processes recording the same request both succeed and the first response is kept.
A PostgreSQL URL works the same way (``ON CONFLICT DO NOTHING``). On SQLite, reads and writes run
on a connection kept checked out between calls (:class:`~axon_lab._held.HeldConnection`: a
replayed run reads once per model call, and the pool's checkout costs more than the lookup); on
PostgreSQL they run through plain SQLAlchemy Core.

A second table (``<table>_layout``) names the key layout, :data:`CACHE_KEY_LAYOUT`. Layout 2 keys
include the endpoint; a table of responses with no layout row was written under layout 1 (keys
without the endpoint), which no request can match any more, so opening it is refused with the
command that clears it, rather than letting every lookup miss in silence.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from axon_lab._sqlite import enable_wal
from axon_lab.errors import ConfigError, StoreError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from axon_lab._held import HeldConnection

__all__ = [
    "CACHE_KEY_LAYOUT",
    "DEFAULT_CACHE_URL",
    "CacheStore",
    "MemoryCacheStore",
    "SQLCacheStore",
]

DEFAULT_CACHE_URL = "sqlite:///runs/axon.db"
CACHE_KEY_LAYOUT = "2"
"""The key layout this code writes: 2 = endpoint, model, messages, tools, format, params."""
_DDL_LOCK = 0x6178_6F6E_6361  # advisory lock key for the table creation on PostgreSQL


@runtime_checkable
class CacheStore(Protocol):
    """A key -> serialised-response store that tolerates concurrent writers."""

    def get(self, key: str) -> str | None:
        """The stored JSON for ``key``, or None."""
        ...

    def put(self, key: str, value: str, *, model: str, label: str | None = None) -> bool:
        """Store ``value`` unless ``key`` is already present; return whether it was inserted."""
        ...

    def __len__(self) -> int: ...


class MemoryCacheStore:
    """An in-process store (for tests and throwaway sessions).

    Examples:
        >>> store = MemoryCacheStore()
        >>> store.put("k", "{}", model="m"), store.put("k", "[]", model="m"), store.get("k")
        (True, False, '{}')
    """

    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The stored JSON for ``key``, or None."""
        return self._data.get(key)

    def put(self, key: str, value: str, *, model: str, label: str | None = None) -> bool:
        """Store ``value`` unless ``key`` is present."""
        with self._lock:
            if key in self._data:
                return False
            self._data[key] = value
            return True

    def __len__(self) -> int:
        return len(self._data)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    enable_wal(dbapi_conn, timeout_s=30)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class SQLCacheStore:
    """The cache table in an SQL database (SQLite by default).

    Args:
        url: SQLAlchemy URL; ``sqlite:///runs/axon.db`` (relative to the working directory) by
            default. The directory of a SQLite file is created if missing.
        table: Table name.

    Raises:
        StoreError: If the database cannot be opened or the table cannot be created, or if the
            table holds responses keyed under an older key layout (the message says how to clear
            them).

    Examples:
        >>> store = SQLCacheStore("sqlite://")
        >>> store.put("k1", '{"text": "x"}', model="m"), store.get("k1"), len(store)
        (True, '{"text": "x"}', 1)
        >>> store.close()
    """

    def __init__(self, url: str = DEFAULT_CACHE_URL, *, table: str = "llm_cache") -> None:
        import sqlalchemy as sa
        from sqlalchemy.pool import StaticPool

        self.url = url
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(
                f"Invalid cache URL {url!r} ({exc}); use e.g. 'sqlite:///runs/axon.db'."
            ) from exc
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")  # the postgres extra's driver
        self._dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {}
        if self._dialect == "sqlite":
            database = parsed.database or ""
            if database in ("", ":memory:"):
                kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
            else:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                kwargs = {"connect_args": {"timeout": 30}}
        try:
            self._engine = sa.create_engine(parsed, **kwargs)
        except ImportError as exc:
            raise StoreError(
                f"Cannot open the LLM cache at {parsed.render_as_string(hide_password=True)!r}: "
                f"its driver is not installed ({exc}); for PostgreSQL: "
                "pip install 'axon-lab[postgres]'."
            ) from exc
        if self._dialect == "sqlite":
            sa.event.listen(self._engine, "connect", _sqlite_pragmas)
        meta = sa.MetaData()
        self._table = sa.Table(
            table,
            meta,
            sa.Column("key", sa.String(64), primary_key=True),
            sa.Column("model", sa.String(256), nullable=False),
            sa.Column("label", sa.String(256), nullable=True),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("response", sa.Text, nullable=False),
        )
        self._layout = sa.Table(
            f"{table}_layout",
            meta,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("value", sa.String(64), nullable=False),
        )
        self._create_table(sa)
        self._select = sa.select(self._table.c.response).where(
            self._table.c.key == sa.bindparam("key")
        )
        self._count = sa.select(sa.func.count()).select_from(self._table)
        self._insert = self._make_insert(sa)
        self._held: HeldConnection | None = None
        if self._dialect == "sqlite" and self._insert is not None:
            from axon_lab._held import HeldConnection  # imports SQLAlchemy: not at import time

            # the statements rendered once, run on the held connection
            self._held = HeldConnection(self._engine)
            self._select_sql = str(self._select.compile(dialect=self._engine.dialect))
            insert = self._insert.compile(dialect=self._engine.dialect)
            self._insert_sql, self._insert_order = str(insert), tuple(insert.positiontup or ())

    def _create_table(self, sa: Any) -> None:
        # Several threads or processes may open the same database at once. The existence check
        # and the CREATE run under the database's write lock, so they cannot interleave: SQLite
        # takes it up front with BEGIN IMMEDIATE (waiting out the busy timeout, where a plain
        # BEGIN would fail at once with "database is locked" when two readers both try to
        # upgrade), PostgreSQL with a transaction-scoped advisory lock.
        try:
            with self._engine.begin() as conn:
                if self._dialect == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif self._dialect == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK})
                self._table.create(conn, checkfirst=True)
                self._layout.create(conn, checkfirst=True)
                self._check_layout(sa, conn)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"Cannot create the cache table {self._table.name!r} in {self.url!r}: {exc}"
            ) from exc

    def _check_layout(self, sa: Any, conn: Any) -> None:
        """Stamp a new table with :data:`CACHE_KEY_LAYOUT`; refuse one keyed otherwise."""
        found = conn.execute(
            sa.select(self._layout.c.value).where(self._layout.c.name == "key_layout")
        ).scalar_one_or_none()
        if found == CACHE_KEY_LAYOUT:
            return
        rows = int(conn.execute(sa.select(sa.func.count()).select_from(self._table)).scalar_one())
        if found is None and rows == 0:
            conn.execute(self._layout.insert(), {"name": "key_layout", "value": CACHE_KEY_LAYOUT})
            return
        raise StoreError(
            f"The LLM cache table {self._table.name!r} in "
            f"{sa.engine.make_url(self.url).render_as_string(hide_password=True)!r} holds {rows} "
            f"response(s) keyed under cache layout {found or '1'}; this version keys by layout "
            f"{CACHE_KEY_LAYOUT} (the endpoint is part of the key), so none of them can match a "
            f"request. Clear them (`DELETE FROM {self._table.name}; DROP TABLE "
            f"{self._layout.name};` if it exists, or delete the database file) and record again, "
            "or give the cache another database."
        )

    def _make_insert(self, sa: Any) -> sa.Insert | None:
        if self._dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(self._table).on_conflict_do_nothing(index_elements=["key"])
        if self._dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(self._table).on_conflict_do_nothing(index_elements=["key"])
        return None

    def get(self, key: str) -> str | None:
        """The stored JSON for ``key``, or None."""
        import sqlalchemy as sa

        try:
            if self._held is not None:
                rows = self._held.run([(self._select_sql, [(key,)])], write=False).rows
                return None if not rows else str(rows[0][0])
            with self._engine.connect() as conn:
                found = conn.execute(self._select, {"key": key}).scalar_one_or_none()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"Cannot read the LLM cache at {self.url!r}: {exc}") from exc
        return None if found is None else str(found)

    def put(self, key: str, value: str, *, model: str, label: str | None = None) -> bool:
        """Insert unless ``key`` is present (insert-or-ignore); return whether it was inserted."""
        import sqlalchemy as sa

        row = {"key": key, "model": model, "label": label, "created_at": time.time()}
        row["response"] = value
        try:
            if self._held is not None:
                params = tuple(row[name] for name in self._insert_order)
                done = self._held.run([(self._insert_sql, [params])], write=True)
                return bool(done.rowcount)
            with self._engine.begin() as conn:
                if self._insert is not None:
                    return bool(conn.execute(self._insert, row).rowcount)
                try:
                    with conn.begin_nested():
                        conn.execute(self._table.insert(), row)
                except sa.exc.IntegrityError:
                    return False
                return True
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"Cannot write the LLM cache at {self.url!r}: {exc}") from exc

    def __len__(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(self._count).scalar_one())

    def close(self) -> None:
        """Release the held connection and the connection pool."""
        if self._held is not None:
            self._held.close()
        self._engine.dispose()
