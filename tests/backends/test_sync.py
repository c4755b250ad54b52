from __future__ import annotations

import asyncio
import threading

from axon_lab.backends import run_sync


async def where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def test_runs_on_this_thread_without_a_loop():
    assert run_sync(where()) == threading.current_thread().name


def test_runs_on_a_worker_thread_inside_a_running_loop():
    async def cell() -> str:
        return run_sync(where())

    assert asyncio.run(cell()).startswith("axon-run-sync")
