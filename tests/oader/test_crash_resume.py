"""A loop killed with SIGKILL mid-run loses no reported step, and its resumed run ends identically.

Runs on SQLite and, when ``AXON_TEST_POSTGRES_URL`` is set (CI sets it), on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from axon_lab.explain import ExplainStore
from axon_lab.oader import make_agent

HERE = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get("AXON_TEST_POSTGRES_URL", "")
TOTAL = 160
KILL_AFTER = 40


def _frame():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(HERE))
    try:
        from _crash_agent import frame
    finally:
        sys.path.remove(str(HERE))
    return frame()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not POSTGRES_URL, reason="AXON_TEST_POSTGRES_URL is not set"),
            ],
        ),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crash.db'}"
    return str(request.getfixturevalue("postgres_url"))  # a fresh schema (tests/conftest.py)


def test_sigkilled_loop_keeps_every_reported_step_and_resumes_identically(
    store_url: str, tmp_path: Path
) -> None:
    run_id = f"crash-{uuid.uuid4().hex[:8]}"
    reported: list[int] = []
    with subprocess.Popen(
        [sys.executable, str(HERE / "_crash_agent.py"), store_url, run_id, str(TOTAL)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("recorded "):
                reported.append(int(line.split()[1]))
            if len(reported) >= KILL_AFTER:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert reported == list(range(KILL_AFTER))

    with ExplainStore(store_url) as store:
        stored = store.steps(run_id)
        assert [s.step for s in stored][:KILL_AFTER] == reported
        assert len(stored) < TOTAL  # it really died mid-run
        assert store.check_run(run_id) == []  # no half-written step

    resumed = make_agent(_frame(), store=store_url, run_id=run_id, resume=True, progress=False)
    assert resumed.step_index == len(stored)
    resumed.run(TOTAL - len(stored))
    after_crash = resumed.store.steps(run_id)
    resumed.close()

    whole_url = f"sqlite:///{tmp_path / 'whole.db'}"
    whole = make_agent(_frame(), store=whole_url, run_id=run_id, progress=False)
    whole.run(TOTAL)
    uninterrupted = whole.store.steps(run_id)
    whole.close()

    assert len(uninterrupted) == TOTAL
    assert sum(len(s.fills) for s in uninterrupted) > 0
    assert after_crash == uninterrupted
