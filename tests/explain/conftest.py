"""Fixtures for the explain-store tests: one store per backend (SQLite always, PostgreSQL if set).

PostgreSQL runs when ``AXON_TEST_POSTGRES_URL`` is set (``export AXON_TEST_POSTGRES_URL="$(bash
.ci/postgres)"``); each test gets a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from axon_lab.explain import ExplainStore

HERE = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get("AXON_TEST_POSTGRES_URL", "")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL,
                reason="AXON_TEST_POSTGRES_URL is not set; run "
                'export AXON_TEST_POSTGRES_URL="$(bash .ci/postgres)" to test PostgreSQL',
            ),
        ],
    ),
]


def _load_steps() -> ModuleType:
    name = "axon_explain_test_steps"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "_steps.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def gen() -> ModuleType:
    """The deterministic step stream (tests/explain/_steps.py)."""
    return _load_steps()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty store on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs' / 'axon.db'}"
        return
    yield request.getfixturevalue("postgres_url")  # a fresh schema (tests/conftest.py)


@pytest.fixture
def store(store_url: str) -> Iterator[ExplainStore]:
    """An open, empty store on each backend."""
    with ExplainStore(store_url) as opened:
        yield opened
