"""The Record stage: its in-memory strategy state equals the store's, step by step."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

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
