"""Study storage URLs: SQLite under ``runs/`` by default, PostgreSQL to share a study.

The convention is the explain store's: ``sqlite:///runs/axon.db`` unless told otherwise.
``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://`` (psycopg 3) for SQLAlchemy;
a SQLite file gets its parent directory created.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from axon_lab._imports import require
from axon_lab.errors import ConfigError

__all__ = ["DEFAULT_STORAGE", "close_storage", "make_storage", "normalise_storage_url"]

DEFAULT_STORAGE = "sqlite:///runs/axon.db"
"""Where studies live unless a storage URL is given."""


def normalise_storage_url(url: str | None = None) -> str:
    """Normalise a study storage URL for SQLAlchemy.

    Args:
        url: ``sqlite:///path.db``, ``postgresql://user:pw@host/db``, or None for the default.

    Returns:
        The URL to hand to Optuna.

    Raises:
        ConfigError: For an empty URL or an unsupported scheme.

    Examples:
        >>> normalise_storage_url("postgresql://u:p@localhost/axon")
        'postgresql+psycopg://u:p@localhost/axon'
        >>> normalise_storage_url("sqlite:///:memory:")
        'sqlite:///:memory:'
    """
    url = DEFAULT_STORAGE if url is None else str(url).strip()
    if not url:
        raise ConfigError("The storage URL is empty; pass e.g. 'sqlite:///runs/axon.db'.")
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(
            f"storage={url!r} is not a URL; use 'sqlite:///runs/axon.db' or "
            "'postgresql://user:password@host:5432/db'."
        )
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    if scheme.startswith("postgresql+"):
        return url
    if scheme == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return url
    raise ConfigError(
        f"Unsupported storage scheme {scheme!r} in {url!r}; use sqlite:/// or postgresql://."
    )


def make_storage(url: str | None = None) -> Any:
    """An Optuna ``RDBStorage`` for ``url`` (normalised; connections are health-checked).

    Raises:
        ConfigError: For a bad URL, or when the PostgreSQL driver is missing.
    """
    optuna = require("optuna", "core", purpose="hyperparameter search")
    normal = normalise_storage_url(url)
    if normal.startswith("postgresql+psycopg"):
        require("psycopg", "postgres", purpose=f"the study storage {normal.split('@')[-1]}")
    return optuna.storages.RDBStorage(normal, engine_kwargs={"pool_pre_ping": True})


def close_storage(storage: Any) -> None:
    """Close the connection pool of a storage (or of a study's storage); safe to call twice."""
    storage = getattr(storage, "_storage", storage)  # a Study holds its storage privately
    storage = getattr(storage, "_backend", storage)  # a cached storage wraps the RDB one
    engine = getattr(storage, "engine", None)
    if engine is not None:
        engine.dispose()
