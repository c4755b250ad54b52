"""Loop-level look-ahead test: perturbing future bars leaves every earlier record unchanged.

Run twice: the plain agent, and the agent with both optional Observe parts (a retrieval memory
and walk-forward forecasts), whose outputs are in each step's observation digest.
"""

from __future__ import annotations

import functools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.explain import ExplainStore, observation
from axon_lab.forecast import Forecasts
from axon_lab.memory import Memory
from axon_lab.oader import make_agent
from axon_lab.records import StepRecord

from .conftest import synthetic

N_BARS = 110


def _parts(with_parts: bool) -> dict[str, object]:
    if not with_parts:
        return {}
    return {
        "memory": Memory("leak", k=3, horizon=4),
        # refits every 15 bars from the 40th: several refits inside the 110 bars
        "forecasts": Forecasts(
            horizon=3, refit_every=15, min_train=40, train_window=60, filter_window=40
        ),
    }


def _run(
    frame: pd.DataFrame, until: pd.Timestamp | None = None, *, with_parts: bool = False
) -> list[StepRecord]:
    with ExplainStore("sqlite://") as store:
        loop = make_agent(
            frame, store=store, run_id="leak", progress=False, cash=50_000.0, **_parts(with_parts)
        )
        if until is None:
            loop.run()
        else:
            loop.run_until(until.to_pydatetime())
        records = store.steps("leak")
        if with_parts and until is None:
            # the parts did fill the observations, or the test would prove little about them
            last = observation(store, "leak", records[-1].step)
            assert last.similar_contexts
            assert last.features["SYN"]["fc_vol"] is not None
        return records


@functools.cache
def _baseline(with_parts: bool = False) -> tuple[pd.DataFrame, tuple[StepRecord, ...]]:
    frame = synthetic(N_BARS, seed=21)
    records = _run(frame, with_parts=with_parts)
    # the rules analyst must have traded, or the test would prove little
    assert any(r.fills for r in records)
    return frame, tuple(records)


def _perturb(frame: pd.DataFrame, k: int, factor: float, keep_open: bool) -> pd.DataFrame:
    out = frame.copy()
    cols = ["open", "high", "low", "close"]
    block = out.iloc[k:][cols] * factor
    if keep_open:  # bar k keeps its open: only what happens after s_k changes
        o = frame["open"].iloc[k]
        block.iloc[0, 0] = o
        block.iloc[0, 1] = max(block.iloc[0, 1], o)
        block.iloc[0, 2] = min(block.iloc[0, 2], o)
    out.iloc[k:, [0, 1, 2, 3]] = block.to_numpy()
    out.iloc[k:, 4] = frame["volume"].iloc[k:].to_numpy() * 3.0
    return out


@pytest.mark.parametrize("with_parts", [False, True], ids=["plain", "memory+forecasts"])
@settings(max_examples=20, deadline=None)
@given(
    k=st.integers(2, N_BARS - 1),
    factor=st.sampled_from([0.5, 0.97, 1.03, 2.0]),
    keep_open=st.booleans(),
)
def test_records_up_to_the_perturbation_point_are_identical(
    with_parts: bool, k: int, factor: float, keep_open: bool
) -> None:
    frame, baseline = _baseline(with_parts)
    s_k = frame.index[k]  # bar k opens at s_k: it is unknown to every decision before s_k
    records = _run(_perturb(frame, k, factor, keep_open), until=s_k, with_parts=with_parts)
    before = [r for r in baseline if r.timestamp < s_k]
    assert [r for r in records if r.timestamp < s_k] == before
    at = [r for r in records if r.timestamp == s_k]
    want = [r for r in baseline if r.timestamp == s_k]
    if keep_open:
        # a decision at s_k fills at bar k's open, which did not move: the step is identical
        assert at == want
    elif at and want:
        # the open moved: fills and marks may differ, but the market data read at s_k did not
        assert at[0].analysis.reasoning_steps[0] == want[0].analysis.reasoning_steps[0]
        assert at[0].analysis.market_assessment == want[0].analysis.market_assessment
