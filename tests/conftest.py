"""Shared test configuration: hypothesis profiles and a fresh PostgreSQL schema per test.

``default`` keeps CI fast; ``HYPOTHESIS_PROFILE=thorough`` runs >= 100k examples per property.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "thorough",
    max_examples=100_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to an empty schema of the test server (``AXON_TEST_POSTGRES_URL``), dropped after.

    Every test starts from no tables, whatever earlier runs (or axon_lab versions) left behind.
    """
    from sqlalchemy import create_engine, text

    from axon_lab.explain._engine import normalise_url

    server = os.environ.get("AXON_TEST_POSTGRES_URL", "")
    if not server:
        pytest.skip("AXON_TEST_POSTGRES_URL is not set")
    base = normalise_url(server)
    schema = f"axon_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
