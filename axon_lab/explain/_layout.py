"""The explain store's layout version: written into a new store, checked when one is opened.

A store written by an axon_lab with another table layout (:data:`~axon_lab.explain._schema.LAYOUT`)
is refused with a clear error rather than failing on its first insert or, worse, answering
queries from tables that mean something else.
"""

from __future__ import annotations

from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection

from axon_lab.errors import StoreError
from axon_lab.explain import _schema

__all__ = ["check_layout", "stamp_layout"]


def _stored(conn: Connection) -> str | None:
    meta = _schema.meta
    return conn.execute(select(meta.c.value).where(meta.c.key == "layout")).scalar_one_or_none()


def check_layout(conn: Connection, url: str) -> None:
    """Refuse a database whose explain tables were written with another layout.

    Args:
        conn: A connection in the transaction that creates the tables.
        url: The store's URL, password masked (for the message).

    Raises:
        StoreError: If the database holds explain tables of another layout.
    """
    names = set(inspect(conn).get_table_names())
    if _schema.steps.name not in names:
        return  # a new store
    found = _stored(conn) if _schema.meta.name in names else None
    if found != str(_schema.LAYOUT):
        raise StoreError(
            f"The explain store at {url!r} was written by an earlier axon_lab (store layout "
            f"{found or 1}; this version reads layout {_schema.LAYOUT}). Record new runs into a "
            "new database file or URL; the old one stays readable by the version that wrote it."
        )


def stamp_layout(conn: Connection) -> None:
    """Record this layout in a store that does not say yet (a new one)."""
    if _stored(conn) is None:
        conn.execute(insert(_schema.meta).values(key="layout", value=str(_schema.LAYOUT)))
