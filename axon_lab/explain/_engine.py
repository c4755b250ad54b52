"""Store URLs and engines: one place that knows SQLite and PostgreSQL apart.

* ``postgresql://`` and ``postgres://`` URLs are normalised to ``postgresql+psycopg://`` (psycopg 3,
  the ``postgres`` extra). The driver is imported only when such a URL is used, so ``import
  axon_lab.explain`` never pulls in psycopg.
* SQLite files get their parent directory created, and every connection is set up with
  ``journal_mode=WAL`` (readers never block the writer), ``synchronous=FULL`` (a commit survives a
  power cut, not only a killed process), ``foreign_keys=ON`` and a 30 s ``busy_timeout``. Write
  transactions start with ``BEGIN IMMEDIATE`` so that several processes writing to one file queue
  on the lock instead of failing with "database is locked" on a read-to-write upgrade.
* Errors from SQLAlchemy and the drivers become :class:`~axon_lab.errors.StoreError` carrying the
  URL with its password masked and, where we know it, the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, make_url

from axon_lab._sqlite import enable_wal
from axon_lab.errors import StoreError

__all__ = ["BEGIN_OPTION", "boundary", "make_store_engine", "mask_url", "normalise_url"]

BEGIN_OPTION = "axon_sqlite_begin"
"""Execution option naming the SQLite ``BEGIN`` statement; writes use ``BEGIN IMMEDIATE``."""

_SQLITE_BUSY_TIMEOUT_MS = 30_000
_POSTGRES_FIX = "install the postgres extra: pip install 'axon-lab[postgres]'"


def normalise_url(url: str | URL) -> URL:
    """Parse a store URL, choosing psycopg 3 for plain ``postgresql://`` URLs.

    Args:
        url: An SQLAlchemy database URL, e.g. ``sqlite:///runs/axon.db``.

    Returns:
        The parsed URL.

    Raises:
        StoreError: If the URL cannot be parsed or names an unsupported database.

    Examples:
        >>> normalise_url("postgresql://u:secret@db/axon").drivername
        'postgresql+psycopg'
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError as err:
        raise StoreError(
            f"Cannot parse the explain store URL {url!r}: {err}. Use a URL such as "
            "'sqlite:///runs/axon.db' or 'postgresql://user:password@host:5432/db'."
        ) from err
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"Unsupported explain store URL {mask_url(parsed)!r}: the store runs on SQLite "
            "('sqlite:///runs/axon.db') or PostgreSQL ('postgresql://user:password@host/db')."
        )
    return parsed


def mask_url(url: URL) -> str:
    """Render ``url`` with its password replaced by ``***``.

    Examples:
        >>> mask_url(normalise_url("postgresql://axon:secret@127.0.0.1/axon"))
        'postgresql+psycopg://axon:***@127.0.0.1/axon'
    """
    return url.render_as_string(hide_password=True)


def _driver_fix(url: URL) -> str:
    if url.get_backend_name() == "postgresql":
        return _POSTGRES_FIX
    return f"install the database driver for {url.drivername!r}"


def make_store_engine(url: URL) -> Engine:
    """Create the engine for a normalised store URL (see the module docstring).

    Args:
        url: A URL returned by :func:`normalise_url`.

    Returns:
        An engine; no connection is opened yet.

    Raises:
        StoreError: If the driver is missing or the SQLite directory cannot be created.
    """
    if url.get_backend_name() == "sqlite":
        return _make_sqlite_engine(url)
    try:
        return create_engine(url, pool_pre_ping=True)
    except ImportError as err:
        raise StoreError(
            f"Cannot open the explain store at {mask_url(url)!r}: its driver is not installed "
            f"({err}); {_driver_fix(url)}."
        ) from err


def _make_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    is_file = database not in ("", ":memory:") and not database.startswith("file:")
    if is_file:
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"Cannot create the directory for the explain store {mask_url(url)!r}: {err}. "
                "Pick a writable path, e.g. 'sqlite:///runs/axon.db'."
            ) from err
    engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; _on_begin issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
            if is_file:
                enable_wal(dbapi_connection, timeout_s=_SQLITE_BUSY_TIMEOUT_MS / 1000)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(BEGIN_OPTION, "BEGIN"))

    return engine


@contextmanager
def boundary(url: URL, action: str) -> Iterator[None]:
    """Map SQLAlchemy and driver errors raised inside the block to :class:`StoreError`.

    Args:
        url: The store URL, shown with its password masked.
        action: What was being done, e.g. ``"record step 3 of run 'r1'"``.

    Raises:
        StoreError: Whenever the block raises a database error.
    """
    try:
        yield
    except ImportError as err:
        raise StoreError(
            f"Could not {action}: the driver for {mask_url(url)!r} is not installed ({err}); "
            f"{_driver_fix(url)}."
        ) from err
    except exc.OperationalError as err:
        hint = (
            "check that the server is running and the URL's host, port, user and password are "
            "right (CI starts one with `bash .ci/postgres`)"
            if url.get_backend_name() == "postgresql"
            else "check that the file's directory is writable and not on a network filesystem"
        )
        raise StoreError(
            f"Could not {action} in the explain store at {mask_url(url)!r}: {_first_line(err)}. "
            f"Fix: {hint}."
        ) from err
    except exc.SQLAlchemyError as err:
        raise StoreError(
            f"Could not {action} in the explain store at {mask_url(url)!r}: {_first_line(err)}."
        ) from err


def _first_line(err: exc.SQLAlchemyError) -> str:
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err).strip()
    return text.splitlines()[0] if text else type(err).__name__
