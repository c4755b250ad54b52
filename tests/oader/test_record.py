"""The Record stage: its in-memory strategy state equals the store's, step by step."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore
from axon_lab.oader import ExplainRecorder
from axon_lab.records import StepRecord

T0 = datetime(2024, 1, 1, tzinfo=UTC)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


def _step(n: int, pnl: float) -> StepRecord:
    return StepRecord(
        run_id="r",
        step=n,
        timestamp=T0 + timedelta(hours=n),
        observation_digest="d",
        equity=1.0,
        pnl=pnl,
    )


@settings(max_examples=40, deadline=None)
@given(pnls=st.lists(finite | st.sampled_from([5e-324, -5e-324, 0.1, 1e16, -0.0]), max_size=25))
def test_cumulative_pnl_is_the_exact_sum_at_every_step(pnls: list[float]) -> None:
    store = ExplainStore("sqlite://")
    try:
        store.create_run({}, run_id="r", data_fingerprint="-", model="rules")
        record = ExplainRecorder(store, "r")
        for n, pnl in enumerate(pnls):
            record(_step(n, pnl))
            assert record.state.cumulative_pnl == math.fsum(pnls[: n + 1])
            assert record.state.step_count == n + 1
        assert record.state == store.strategy_state("r")
        resumed = ExplainRecorder(store, "r")  # starts from the store's resume point
        resumed(_step(len(pnls), 0.25))
        assert resumed.state.cumulative_pnl == math.fsum([math.fsum(pnls), 0.25])
    finally:
        store.close()


def test_a_step_out_of_order_or_of_another_run_is_refused() -> None:
    store = ExplainStore("sqlite://")
    try:
        store.create_run({}, run_id="r", data_fingerprint="-", model="rules")
        record = ExplainRecorder(store, "r")
        with pytest.raises(ConfigError, match="out of order; run 'r' expects step 0"):
            record(_step(1, 0.0))
        with pytest.raises(ConfigError, match="step of run 'x'"):
            record(_step(0, 0.0).model_copy(update={"run_id": "x"}))
        assert store.steps("r") == []
    finally:
        store.close()


def test_offload_commits_in_a_worker_thread_and_a_cancelled_step_waits_for_it(
    tmp_path: Path,
) -> None:
    import asyncio
    import threading

    with ExplainStore(f"sqlite:///{tmp_path / 'r.db'}") as store:
        store.create_run({}, run_id="r", data_fingerprint="-", model="rules")
        recorder = ExplainRecorder(store, "r")
        threads: list[int] = []
        release = threading.Event()
        original = store.record_step

        def held_record(step: StepRecord, **kw: Any) -> None:
            threads.append(threading.get_ident())
            release.wait(10)  # step 1 is held here until it has been cancelled
            original(step, **kw)

        store.record_step = held_record  # type: ignore[method-assign]

        async def main() -> None:
            release.set()
            await recorder.acall(_step(0, 1.0))  # not offloaded: inline, on this thread
            release.clear()
            recorder.offload = True
            task = asyncio.ensure_future(recorder.acall(_step(1, 2.0)))
            while len(threads) < 2:  # the commit is in flight (and held)
                await asyncio.sleep(0.01)
            task.cancel()
            asyncio.get_running_loop().call_later(0.05, release.set)
            with pytest.raises(asyncio.CancelledError):
                await task
            # the cancelled step waited for its commit: it is in the store already
            assert [s.step for s in store.steps("r")] == [0, 1]

        asyncio.run(main())
        assert threads[0] == threading.get_ident()  # inline
        assert threads[1] != threading.get_ident()  # in a worker thread
