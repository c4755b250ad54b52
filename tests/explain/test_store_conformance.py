"""One conformance suite for the explain store, run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import create_engine, delete, update

import axon_lab
from axon_lab.errors import ConfigError, StoreError
from axon_lab.explain import ExplainStore, ResumePoint, RunInfo, _schema
from axon_lab.explain._engine import normalise_url
from axon_lab.records import Action, StepRecord, StrategyState

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
N = 24  # three full cycles of the 8-kind step stream


def _new_run(store: ExplainStore, run_id: str = "run-a") -> RunInfo:
    return store.create_run(
        {"symbol": "BTC-USD", "timeframe": "1h", "risk": {"max_position": 1.0}},
        run_id=run_id,
        data_fingerprint="sha256:0123abcd",
        model="gpt-4o-mini",
        model_cutoff=date(2023, 10, 1),
    )


def _recorded(store: ExplainStore, gen: ModuleType, n: int = N) -> list[StepRecord]:
    _new_run(store)
    written = gen.make_steps("run-a", n)
    for step in written:
        store.record_step(step)
    return written


# ---------------------------------------------------------------------------- runs


def test_run_info_round_trips(store: ExplainStore) -> None:
    info = store.create_run(
        {"symbol": "BTC-USD", "windows": (1, 2), "nested": {"a": [1.5, None]}},
        run_id="r1",
        data_fingerprint="sha256:feed",
        model="gpt-4o-mini",
        model_cutoff=date(2023, 10, 1),
    )
    assert info.config == {"symbol": "BTC-USD", "windows": [1, 2], "nested": {"a": [1.5, None]}}
    assert info.code_version.startswith(axon_lab.__version__)
    assert info.created_at.tzinfo is not None
    assert store.runs() == [info]
    assert store.get_run("r1") == info
    assert RunInfo.from_json(info.to_json()) == info


def test_generated_run_ids_are_unique(store: ExplainStore) -> None:
    first = store.create_run({}, data_fingerprint="-", model="rules", code_version="x")
    second = store.create_run({}, data_fingerprint="-", model="rules", code_version="x")
    assert first.run_id != second.run_id
    assert first.run_id.startswith("run-")
    assert {r.run_id for r in store.runs()} == {first.run_id, second.run_id}


def test_duplicate_run_id_is_refused(store: ExplainStore) -> None:
    _new_run(store)
    with pytest.raises(StoreError, match=r"run-a.*already exists.*store\.resume\('run-a'\)"):
        _new_run(store)


def test_unserialisable_config_is_refused(store: ExplainStore) -> None:
    with pytest.raises(ConfigError, match="cannot be stored as JSON"):
        store.create_run({"fn": print}, data_fingerprint="-", model="rules")
    with pytest.raises(ConfigError, match="cannot be stored as JSON"):
        store.create_run({"x": math.nan}, data_fingerprint="-", model="rules")
    with pytest.raises(ConfigError, match="contains a NUL character"):
        store.create_run({}, run_id="a\x00b", data_fingerprint="-", model="rules")
    assert store.runs() == []


def test_nul_characters_survive_and_filter(store: ExplainStore, gen: ModuleType) -> None:
    _new_run(store)
    step = gen.make_step("run-a", 2, 1_000.0)
    odd = step.replace(verdicts=(step.verdicts[1].replace(rule="max\x00pos"),))
    store.record_step(odd)
    assert store.steps("run-a") == [odd]
    assert store.steps("run-a", rejected_rule="max\x00pos") == [odd]
    assert store.rejections("run-a", rule="max\x00pos") == list(odd.verdicts)
    assert store.check_run("run-a") == []


def test_unknown_run_is_an_error_with_a_suggestion(store: ExplainStore, gen: ModuleType) -> None:
    _new_run(store, "momentum-2024")
    with pytest.raises(StoreError, match=r"No run 'momentum-2042'.*Did you mean 'momentum-2024'"):
        store.steps("momentum-2042")
    with pytest.raises(StoreError, match=r"No run 'nope'.*create_run"):
        store.record_step(gen.make_step("nope", 0, 1_000.0))
    for query in (store.resume, store.fills, store.rejections, store.get_run, store.to_frame):
        with pytest.raises(StoreError, match="No run 'nope'"):
            query("nope")


# ---------------------------------------------------------------------------- round trip


def test_every_record_kind_round_trips(store: ExplainStore, gen: ModuleType) -> None:
    written = _recorded(store, gen)
    assert store.steps("run-a") == written
    assert [s.to_json() for s in store.steps("run-a")] == [s.to_json() for s in written]
    calls = [c for s in written if s.analysis for c in s.analysis.llm_calls]
    verdicts = [v for s in written for v in s.verdicts]
    assert store.llm_calls("run-a") == calls
    assert store.verdicts("run-a") == verdicts
    assert store.rejections("run-a") == [v for v in verdicts if not v.approved]
    assert store.orders("run-a") == [a for s in written for a in s.acks]
    assert store.fills("run-a") == [f for s in written for f in s.fills]
    # The stream really exercises every kind of record.
    assert calls
    assert store.fills("run-a")
    assert store.orders("run-a")
    assert any(v.approved for v in verdicts)
    assert any(not v.approved for v in verdicts)
    assert any(s.is_failed for s in written)
    assert store.last_step("run-a") == written[-1]
    assert store.check_run("run-a") == []


def test_steps_of_one_run_do_not_leak_into_another(store: ExplainStore, gen: ModuleType) -> None:
    written = _recorded(store, gen, 8)
    _new_run(store, "run-b")
    other = gen.make_steps("run-b", 3)
    for step in other:
        store.record_step(step)
    assert store.steps("run-a") == written
    assert store.steps("run-b") == other
    assert len(store.fills("run-b")) == 2


# ---------------------------------------------------------------------------- queries


def test_query_by_time_range_is_half_open(store: ExplainStore, gen: ModuleType) -> None:
    written = _recorded(store, gen)
    start, end = gen.step_time(5), gen.step_time(9)
    assert [s.step for s in store.steps("run-a", start=start, end=end)] == [5, 6, 7, 8]
    assert store.steps("run-a", start=gen.step_time(N - 2)) == written[-2:]
    assert store.steps("run-a", end=gen.step_time(2)) == written[:2]
    # Any time zone works: the bounds are compared in UTC.
    shifted = start.astimezone(pd.Timestamp("2024-01-01", tz="Asia/Tokyo").tzinfo)
    assert [s.step for s in store.steps("run-a", start=shifted, end=end)] == [5, 6, 7, 8]
    assert store.steps("run-a", start=end, end=start) == []


def test_query_by_action(store: ExplainStore, gen: ModuleType) -> None:
    written = _recorded(store, gen)
    for action in Action:
        want = [
            s
            for s in written
            if (s.decision.action if s.decision else s.analysis.action if s.analysis else None)
            is action
        ]
        assert store.steps("run-a", action=action) == want
        assert store.steps("run-a", action=action.value) == want
        assert want
    with pytest.raises(ConfigError, match=r"Unknown action 'short'.*'buy', 'sell', 'hold'"):
        store.steps("run-a", action="short")


def test_query_by_rejection_rule(store: ExplainStore, gen: ModuleType) -> None:
    _recorded(store, gen)
    limited = store.steps("run-a", rejected_rule="max_position")
    assert [s.step for s in limited] == [s for s in range(N) if s % 8 in (2, 6)]
    # max_position also *approves* orders in other steps: only rejections count.
    gated = store.steps("run-a", rejected_rule="drawdown_breaker")
    assert [s.step for s in gated] == [7, 15, 23]
    assert store.steps("run-a", rejected_rule="no_such_rule") == []
    both = store.steps("run-a", rejected_rule="max_position", start=gen.step_time(8), action="sell")
    assert [s.step for s in both] == [10, 14, 18, 22]


def test_rejections_by_rule(store: ExplainStore, gen: ModuleType) -> None:
    _recorded(store, gen)
    gate = store.rejections("run-a", rule="drawdown_breaker")
    assert len(gate) == 3
    assert {(v.line.value, v.gate_state, v.observed) for v in gate} == {("gate", "open", "6.2%")}
    assert len(store.rejections("run-a", rule="max_position")) == 6
    assert len(store.rejections("run-a")) == 9
    assert store.rejections("run-a", rule="paper_mode") == []


def test_naive_datetimes_are_refused(store: ExplainStore, gen: ModuleType) -> None:
    _recorded(store, gen, 2)
    naive = gen.step_time(1).replace(tzinfo=None)
    with pytest.raises(ConfigError, match=r"start=.*timezone-aware"):
        store.steps("run-a", start=naive)
    with pytest.raises(ConfigError, match=r"end=.*timezone-aware"):
        store.steps("run-a", end=naive)


def test_to_frame(store: ExplainStore, gen: ModuleType) -> None:
    written = _recorded(store, gen)
    frame = store.to_frame("run-a")
    assert list(frame.index) == list(range(N))
    assert frame.index.name == "step"
    assert list(frame["equity"]) == [s.equity for s in written]
    assert list(frame["pnl"]) == [s.pnl for s in written]
    assert frame.loc[3, "failed"]
    assert not frame.loc[0, "failed"]
    assert frame.loc[0, "action"] == "buy"
    assert frame.loc[0, "source"] == "llm"
    assert frame.loc[3, "action"] is None or pd.isna(frame.loc[3, "action"])
    assert frame.loc[0, "timestamp"] == pd.Timestamp(gen.step_time(0))
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["n_rejections"].sum() == 9
    assert frame["n_fills"].sum() == len(store.fills("run-a"))
    _new_run(store, "empty")
    assert store.to_frame("empty").empty


# ---------------------------------------------------------------------------- resume


def test_resume_and_strategy_state(store: ExplainStore, gen: ModuleType) -> None:
    written = _recorded(store, gen, 11)
    expected_state = StrategyState(
        step_count=11,
        last_action=Action.SELL,  # step 10 is a rejected sell
        cumulative_pnl=math.fsum(s.pnl for s in written),
    )
    assert store.strategy_state("run-a") == expected_state
    assert store.resume("run-a") == ResumePoint(
        run_id="run-a",
        next_step=11,
        last_timestamp=written[-1].timestamp,
        last_equity=written[-1].equity,
        state=expected_state,
    )


def test_resume_of_an_empty_run(store: ExplainStore) -> None:
    _new_run(store)
    point = store.resume("run-a")
    assert (point.next_step, point.last_timestamp, point.last_equity) == (0, None, None)
    assert point.state == StrategyState()
    assert store.last_step("run-a") is None


def test_resume_follows_the_highest_step_not_the_latest_write(
    store: ExplainStore, gen: ModuleType
) -> None:
    _new_run(store)
    steps = gen.make_steps("run-a", 4)
    for step in (steps[3], steps[0], steps[1]):
        store.record_step(step)
    assert store.resume("run-a").next_step == 4
    assert store.last_step("run-a") == steps[3]
    assert [s.step for s in store.steps("run-a")] == [0, 1, 3]


# ---------------------------------------------------------------------------- writes


def test_rerecording_an_identical_step_is_a_no_op(store: ExplainStore, gen: ModuleType) -> None:
    written = _recorded(store, gen, 3)
    store.record_step(written[0].replace())  # an equal copy, byte-identical JSON
    assert store.steps("run-a") == written
    assert store.check_run("run-a") == []


def test_rerecording_a_different_step_is_refused(store: ExplainStore, gen: ModuleType) -> None:
    written = _recorded(store, gen, 3)
    changed = written[1].replace(pnl=written[1].pnl + 1.0)
    with pytest.raises(StoreError, match=r"Step 1 of run 'run-a' is already recorded .*different"):
        store.record_step(changed)
    assert store.steps("run-a") == written


def test_record_step_takes_only_step_records(store: ExplainStore) -> None:
    _new_run(store)
    with pytest.raises(ConfigError, match="takes a StepRecord, got dict"):
        store.record_step({"run_id": "run-a", "step": 0})  # type: ignore[arg-type]


def test_check_run_finds_a_missing_child_row(
    store: ExplainStore, store_url: str, gen: ModuleType
) -> None:
    _recorded(store, gen, 3)
    assert store.check_run("run-a") == []
    rejections = _schema.rejections
    _tamper(store_url, delete(rejections).where(rejections.c.step == 2))
    problems = store.check_run("run-a")
    assert len(problems) == 1
    assert (
        "step 2: 0 axon_rejections rows stored, n_rejections=1, the step's JSON has 1"
        in (problems[0])
    )


def _tamper(store_url: str, statement: Any) -> None:
    engine = create_engine(normalise_url(store_url))
    try:
        with engine.begin() as conn:
            conn.execute(statement)
    finally:
        engine.dispose()


def test_check_run_finds_a_child_row_that_disagrees_with_its_record(
    store: ExplainStore, store_url: str, gen: ModuleType
) -> None:
    written = _recorded(store, gen, 3)
    rejections = _schema.rejections
    rule = written[2].verdicts[1].rule
    _tamper(
        store_url,
        update(rejections).where(rejections.c.step == 2).values(rule="edited"),
    )
    problems = store.check_run("run-a")
    assert len(problems) == 1
    assert "step 2: axon_rejections row 0 is (idx, ...) = (1, " in problems[0]
    assert "'edited'" in problems[0]
    assert repr(rule) in problems[0]


def test_a_child_row_without_its_record_is_a_read_error(
    store: ExplainStore, store_url: str, gen: ModuleType
) -> None:
    _recorded(store, gen, 3)
    rejections = _schema.rejections
    _tamper(store_url, update(rejections).where(rejections.c.step == 2).values(idx=7))
    with pytest.raises(StoreError, match=r"has no record in its step's JSON.*check_run"):
        store.rejections("run-a")
    assert any("axon_rejections" in problem for problem in store.check_run("run-a"))


def test_a_list_count_that_disagrees_with_the_json_is_found(
    store: ExplainStore, store_url: str, gen: ModuleType
) -> None:
    written = _recorded(store, gen, 3)
    assert len(written[0].fills) == 2
    steps = _schema.steps
    _tamper(store_url, update(steps).where(steps.c.step == 0).values(n_fills=3))
    assert store.check_run("run-a") == ["run 'run-a' step 0: n_fills=3, the step's JSON has 2"]
    with pytest.raises(StoreError, match=r"Step 0 of run 'run-a' stores n_fills that disagrees"):
        store.fills("run-a")
    assert store.orders("run-a") == [a for s in written for a in s.acks]  # other lists still read


def test_a_store_of_another_layout_is_refused(store: ExplainStore, store_url: str) -> None:
    _new_run(store)
    meta = _schema.meta
    _tamper(store_url, update(meta).where(meta.c.key == "layout").values(value="2"))
    with pytest.raises(StoreError, match=r"earlier axon_lab \(store layout 2; this version reads"):
        ExplainStore(store_url)
    _tamper(store_url, delete(meta))  # a layout-1 store had no axon_meta row at all
    with pytest.raises(StoreError, match=r"layout 1;.*into a new database"):
        ExplainStore(store_url)


def test_closed_store_refuses_work(store_url: str) -> None:
    store = ExplainStore(store_url)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match=r"is closed; open a new ExplainStore"):
        store.runs()


def test_reopening_sees_the_same_data(store_url: str, gen: ModuleType) -> None:
    with ExplainStore(store_url) as first:
        written = _recorded(first, gen, 5)
    with ExplainStore(store_url) as second:
        assert second.steps("run-a") == written
        assert [r.run_id for r in second.runs()] == ["run-a"]


# ---------------------------------------------------------------------------- processes


def _writer(url: str, run_id: str, n: int, delay: float) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, str(HERE / "_crash_writer.py"), url, run_id, str(n), str(delay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    with proc:
        return proc.communicate(timeout=120)


@pytest.mark.slow
def test_crash_safety_sigkill_mid_run(store_url: str, gen: ModuleType) -> None:
    total = 400
    with _writer(store_url, "crashed", total, 0.005) as proc:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line)
            if line == "recorded 29\n":
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=30)
        lines += proc.stdout.readlines()  # what it printed before dying that we had not read
        err = proc.stderr.read() if proc.stderr else ""
    reported = [int(x.split()[1]) for x in lines if x.startswith("recorded ")]
    assert reported, f"the writer reported nothing: {err}"
    assert proc.returncode == -signal.SIGKILL
    assert reported == list(range(len(reported)))

    with ExplainStore(store_url) as store:
        stored = store.steps("crashed")
        # Every step reported as recorded is there and whole; at most the one in flight is extra.
        assert [s.step for s in stored][: len(reported)] == reported
        assert len(stored) in (len(reported), len(reported) + 1)  # + the step in flight
        assert len(stored) < total, "the writer finished before it was killed"
        assert store.check_run("crashed") == []
        assert stored == gen.make_steps("crashed", len(stored))

        # Resume in-process and finish; the result equals an uninterrupted run.
        gen.run_loop(store, "crashed", total)
        _new_run(store, "uninterrupted")
        gen.run_loop(store, "uninterrupted", total)
        resumed, clean = store.steps("crashed"), store.steps("uninterrupted")
        assert len(resumed) == total
        assert [s.model_dump(exclude={"run_id"}) for s in resumed] == [
            s.model_dump(exclude={"run_id"}) for s in clean
        ]
        assert [s.replace(run_id="x").to_json() for s in resumed] == [
            s.replace(run_id="x").to_json() for s in clean
        ]
        assert store.strategy_state("crashed") == store.strategy_state("uninterrupted")
        assert store.fills("crashed") == store.fills("uninterrupted")
        assert store.rejections("crashed") == store.rejections("uninterrupted")
        assert store.check_run("crashed") == []


@pytest.mark.slow
def test_concurrent_writers_of_different_runs(store_url: str, gen: ModuleType) -> None:
    n_procs, n_steps = 4, 40
    with ExplainStore(store_url):
        pass  # create the tables once, so the writers race on rows, not on DDL
    procs = [_writer(store_url, f"w{i}", n_steps, 0.0) for i in range(n_procs)]
    outputs = [_finish(proc) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.splitlines()[-1] == "done"
    with ExplainStore(store_url) as store:
        assert sorted(r.run_id for r in store.runs()) == [f"w{i}" for i in range(n_procs)]
        for i in range(n_procs):
            assert store.steps(f"w{i}") == gen.make_steps(f"w{i}", n_steps)
            assert store.check_run(f"w{i}") == []


@pytest.mark.slow
def test_concurrent_writers_creating_the_schema(store_url: str, gen: ModuleType) -> None:
    procs = [_writer(store_url, f"fresh{i}", 5, 0.0) for i in range(3)]
    outputs = [_finish(proc) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    with ExplainStore(store_url) as store:
        for i in range(3):
            assert store.steps(f"fresh{i}") == gen.make_steps(f"fresh{i}", 5)


def test_timestamps_keep_their_instant(store: ExplainStore, gen: ModuleType) -> None:
    _new_run(store)
    step = gen.make_step("run-a", 0, 1_000.0)
    store.record_step(step.replace(timestamp=step.timestamp + timedelta(microseconds=7)))
    (got,) = store.steps("run-a")
    assert got.timestamp == step.timestamp + timedelta(microseconds=7)
    assert store.to_frame("run-a").loc[0, "timestamp"] == pd.Timestamp(got.timestamp)
