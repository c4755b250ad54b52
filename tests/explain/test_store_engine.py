"""URLs, drivers, SQLite settings and error mapping of the explain store (no server needed)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from axon_lab.errors import StoreError
from axon_lab.explain import DEFAULT_URL, ExplainStore
from axon_lab.explain._engine import mask_url, normalise_url


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("postgres://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+psycopg2"),
        ("sqlite:///runs/axon.db", "sqlite"),
    ],
)
def test_urls_are_normalised(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


def test_passwords_are_masked() -> None:
    url = normalise_url("postgresql://axon:hunter2@db.example:5432/axon")
    assert mask_url(url) == "postgresql+psycopg://axon:***@db.example:5432/axon"


def test_unsupported_and_malformed_urls() -> None:
    with pytest.raises(StoreError, match=r"Unsupported .*'mysql://u:\*\*\*@h/db'.*SQLite"):
        ExplainStore("mysql://u:secret@h/db")
    with pytest.raises(StoreError, match=r"Cannot parse the explain store URL 'not a url'"):
        ExplainStore("not a url")


def test_missing_postgres_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes `import psycopg` fail
    with pytest.raises(StoreError, match=r"pip install 'axon-lab\[postgres\]'") as caught:
        ExplainStore("postgresql://axon:hunter2@127.0.0.1:5432/axon")
    assert "hunter2" not in str(caught.value)
    assert "axon:***@127.0.0.1" in str(caught.value)


def test_unreachable_server_is_a_store_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    # Port 9 (discard) on localhost: nothing listens, so the connection is refused at once.
    with pytest.raises(StoreError, match=r"axon:\*\*\*@127\.0\.0\.1:9/.*server is running") as err:
        ExplainStore("postgresql://axon:hunter2@127.0.0.1:9/axon?connect_timeout=2")
    assert "hunter2" not in str(err.value)


def test_sqlite_file_gets_its_directory_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "axon.db"
    with ExplainStore(f"sqlite:///{path}") as store:
        assert store.url == f"sqlite:///{path}"
        assert repr(store) == f"ExplainStore('sqlite:///{path}')"
        assert store.runs() == []
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"axon_meta", "axon_runs", "axon_steps", "axon_rejections"} <= tables


def test_default_url_is_runs_axon_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert DEFAULT_URL == "sqlite:///runs/axon.db"
    with ExplainStore() as store:
        store.create_run({}, run_id="r", data_fingerprint="-", model="rules")
    assert (tmp_path / "runs" / "axon.db").is_file()


def test_unwritable_sqlite_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match=r"Cannot create the directory .*writable path"):
        ExplainStore(f"sqlite:///{blocker / 'sub' / 'axon.db'}")


def test_importing_stays_light() -> None:
    code = (
        "import sys, axon_lab\n"
        "from axon_lab.explain import ExplainStore\n"
        "with ExplainStore('sqlite://') as store:\n"
        "    store.create_run({}, run_id='r', data_fingerprint='-', model='rules')\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported without a PostgreSQL URL'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


def test_ci_runs_the_postgresql_backend() -> None:
    # In CI (.ci/test exports it) the PostgreSQL half of the conformance suite must run, not skip.
    if os.environ.get("CI") == "true":
        assert os.environ.get("AXON_TEST_POSTGRES_URL", "").startswith("postgresql://")
