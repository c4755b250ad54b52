"""OADERLoop: stepping, runs, callbacks, the decision interval, error policy, plain stages."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock, WallClock
from axon_lab.data import MarketView
from axon_lab.errors import BudgetExceededError, ConfigError
from axon_lab.explain import ExplainStore
from axon_lab.oader import (
    BaseLoopCallback,
    ContextBuilder,
    DecisionEngine,
    Execution,
    ExplainRecorder,
    OADERLoop,
    StageError,
    ToolExecutor,
)
from axon_lab.records import Action, Analysis, AnalysisSource, StepRecord
from axon_lab.tools import make_trading_tools

from .conftest import synthetic


def test_run_records_every_step_and_walks_the_decision_times(agent_factory: Any) -> None:
    loop = agent_factory()
    times = loop.view.decision_times()
    loop.run(40)
    steps = loop.store.steps("t")
    assert [s.step for s in steps] == list(range(40))
    assert [pd.Timestamp(s.timestamp) for s in steps] == list(times[:40])
    assert loop.step_index == 40
    assert loop.remaining == len(times) - 40
    assert steps[-1] == loop.last_record


def test_the_recorders_state_is_the_stores(agent_factory: Any) -> None:
    loop = agent_factory()
    loop.run(120)
    assert loop.record.state == loop.store.strategy_state("t")
    assert loop.record.state.step_count == 120


def test_every_k_bars_decides_on_every_kth_completion(agent_factory: Any) -> None:
    loop = agent_factory(every=4)
    loop.run(10)
    stamps = [pd.Timestamp(s.timestamp) for s in loop.store.steps("t")]
    assert stamps == list(loop.view.decision_times(4)[:10])
    assert all(b - a == timedelta(hours=4) for a, b in itertools.pairwise(stamps))


def test_run_until_stops_at_the_last_time_not_after(agent_factory: Any) -> None:
    loop = agent_factory()
    cut = loop.view.decision_times()[14]
    loop.run_until(cut.to_pydatetime())
    assert loop.step_index == 15
    assert pd.Timestamp(loop.last_record.timestamp) == cut


def test_run_without_n_runs_to_the_end_and_then_step_refuses(agent_factory: Any) -> None:
    loop = agent_factory(synthetic(60))
    loop.run()
    assert loop.done
    assert loop.step_index == len(loop.view.decision_times())
    with pytest.raises(ConfigError, match="no decision time left"):
        loop.step()


def test_arun_runs_inside_an_event_loop(agent_factory: Any) -> None:
    loop = agent_factory()

    async def main() -> int:
        await loop.arun(5)
        return loop.step_index

    assert asyncio.run(main()) == 5


def test_step_inside_a_running_event_loop_still_works(agent_factory: Any) -> None:
    loop = agent_factory()

    async def main() -> StepRecord | None:
        return loop.step()  # run_sync hands it to a worker thread

    assert asyncio.run(main()).step == 0


def test_each_step_is_committed_before_the_next_begins(agent_factory: Any) -> None:
    loop = agent_factory()
    seen: list[int] = []

    class Probe(BaseLoopCallback):
        def _on_step_start(self, step: int, now: datetime) -> bool | None:
            seen.append(len(loop.store.steps("t")))
            return None

    loop.add_callback(Probe())
    loop.run(6)
    assert seen == [0, 1, 2, 3, 4, 5]


class Counting(BaseLoopCallback):
    def __init__(self, stop_after: int | None = None, stop_stage: str | None = None) -> None:
        super().__init__()
        self.stop_after = stop_after
        self.stop_stage = stop_stage
        self.events: list[tuple[str, Any]] = []

    def _on_run_start(self) -> None:
        self.events.append(("run_start", None))

    def _on_step_start(self, step: int, now: datetime) -> bool | None:
        self.events.append(("step_start", step))
        return None

    def _on_stage_end(self, stage: str, value: Any) -> bool | None:
        self.events.append(("stage", stage))
        return stage != self.stop_stage

    def _on_step_end(self, record: StepRecord) -> bool | None:
        self.events.append(("step_end", record.step))
        return self.stop_after is None or self.n_steps < self.stop_after

    def _on_run_end(self) -> None:
        self.events.append(("run_end", None))


def test_callbacks_see_every_hook_in_order(agent_factory: Any) -> None:
    cb = Counting()
    loop = agent_factory(callbacks=cb)
    loop.run(2)
    stages = ["observe", "analyze", "decide", "execute"]
    one = lambda i: [("step_start", i), *(("stage", s) for s in stages), ("step_end", i)]  # noqa: E731
    assert cb.events == [("run_start", None), *one(0), *one(1), ("run_end", None)]
    assert cb.loop is loop


def test_a_step_end_callback_returning_false_stops_the_run(agent_factory: Any) -> None:
    loop = agent_factory(callbacks=Counting(stop_after=3))
    loop.run(50)
    assert loop.step_index == 3


def test_a_stage_callback_returning_false_stops_after_the_step_is_recorded(
    agent_factory: Any,
) -> None:
    loop = agent_factory(callbacks=Counting(stop_stage="decide"))
    loop.run(50)
    assert loop.step_index == 1
    assert loop.store.steps("t")[0].decision is not None


def test_a_plain_function_callback_can_stop_the_run(agent_factory: Any) -> None:
    records: list[int] = []

    def watch(record: StepRecord) -> bool:
        records.append(record.step)
        return record.step < 4

    loop = agent_factory(callbacks=[watch])
    loop.run(50)
    assert records == [0, 1, 2, 3, 4]


def test_the_progress_bar_can_be_shown_and_disabled(
    agent_factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_factory(run_id="quiet").run(3)
    assert "OADER" not in capsys.readouterr().err
    agent_factory(run_id="loud", progress=True).run(3)
    assert "OADER loud" in capsys.readouterr().err


# ---------------------------------------------------------------- hand-built loops, plain stages


def _hand_built(analyze: Any, *, on_error: str = "stop", store: ExplainStore) -> OADERLoop:
    view = MarketView(synthetic(80))
    clock = SimulatedClock(view.start.to_pydatetime())
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=clock)
    tools = make_trading_tools(backend, view=view, id_prefix="h")
    store.create_run({}, run_id="h", data_fingerprint="-", model="test")
    recorder = ExplainRecorder(store, "h")
    return OADERLoop(
        ContextBuilder(view, tools.backend, state=recorder.strategy_state),
        analyze,
        DecisionEngine(),
        ToolExecutor(tools),
        recorder,
        backend,
        clock,
        view=view,
        on_error=on_error,  # type: ignore[arg-type]
        progress=False,
    )


def _hold(obs: Any) -> Analysis:
    return Analysis(
        thought="plain function",
        market_assessment="range",
        risk_assessment="low",
        confidence=0.5,
        action=Action.HOLD,
        source=AnalysisSource.RULES,
        analyst="rules:plain",
    )


def test_plain_sync_and_async_functions_are_stages() -> None:
    async def analyze(obs: Any) -> Analysis:
        return _hold(obs)

    with ExplainStore("sqlite://") as store:
        loop = _hand_built(analyze, store=store)
        loop.run(3)
        assert [s.analysis.analyst for s in store.steps("h")] == ["rules:plain"] * 3
        assert loop.step_index == 3


def _flaky(fail_at: set[int], exc: Exception) -> Any:
    calls = {"n": 0}

    def analyze(obs: Any) -> Analysis:
        calls["n"] += 1
        if calls["n"] - 1 in fail_at:
            raise exc
        return _hold(obs)

    return analyze


def test_a_failing_stage_is_recorded_then_stops_the_run_by_default() -> None:
    with ExplainStore("sqlite://") as store:
        loop = _hand_built(_flaky({2}, ValueError("bad indicator")), store=store)
        want = r"step 2 .* failed in analyze: ValueError: bad"
        with pytest.raises(StageError, match=want) as err:
            loop.run(10)
        assert err.value.step == 2
        assert err.value.stage == "analyze"
        steps = store.steps("h")
        assert len(steps) == 3
        failed = steps[-1]
        assert failed.failed_stage == "analyze"
        assert failed.error == "ValueError: bad indicator"
        assert failed.analysis is None
        assert failed.decision is None
        assert failed.acks == ()
        assert failed.observation_digest  # the observe stage had finished
        assert store.check_run("h") == []


def test_abstain_policy_records_the_failure_and_carries_on() -> None:
    with ExplainStore("sqlite://") as store:
        loop = _hand_built(
            _flaky({1, 3}, RuntimeError("llm down")), store=store, on_error="abstain"
        )
        loop.run(6)
        steps = store.steps("h")
        assert [s.failed_stage for s in steps] == [None, "analyze", None, "analyze", None, None]
        assert [s.step for s in steps] == list(range(6))


def test_budget_errors_stop_even_under_the_abstain_policy() -> None:
    with ExplainStore("sqlite://") as store:
        loop = _hand_built(
            _flaky({1}, BudgetExceededError("budget 1.00 spent")), store=store, on_error="abstain"
        )
        with pytest.raises(StageError, match="BudgetExceededError"):
            loop.run(6)
        assert len(store.steps("h")) == 2


def test_a_failing_record_stage_raises_and_nothing_half_written() -> None:
    view = MarketView(synthetic(60))
    clock = SimulatedClock(view.start.to_pydatetime())
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=clock)
    tools = make_trading_tools(backend, view=view)

    def record(step: StepRecord) -> None:
        raise OSError("disk full")

    loop = OADERLoop(
        ContextBuilder(view, tools.backend),
        _hold,
        DecisionEngine(),
        lambda d, o: Execution(),
        record,
        backend,
        clock,
        run_id="x",
        view=view,
        on_error="abstain",
        progress=False,
    )
    with pytest.raises(StageError, match=r"could not be recorded .*disk full") as err:
        loop.step()
    assert err.value.stage == "record"
    assert loop.step_index == 0


def test_bad_loop_arguments_are_refused() -> None:
    view = MarketView(synthetic(30))
    clock = SimulatedClock(view.start.to_pydatetime())
    backend = MockTradingBackend({"SYN": 100.0}, cash=1.0, clock=clock)
    stages = (_hold, _hold, _hold, _hold, _hold)
    with pytest.raises(ConfigError, match="on_error must be"):
        OADERLoop(*stages, backend, clock, run_id="r", view=view, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="every must be an int >= 1"):
        OADERLoop(*stages, backend, clock, run_id="r", view=view, every=0)
    with pytest.raises(ConfigError, match="needs view="):
        OADERLoop(*stages, backend, clock, run_id="r")
    with pytest.raises(ConfigError, match="pass run_id"):
        OADERLoop(*stages, backend, clock, view=view)


def test_a_live_loop_steps_at_the_wall_clock_and_needs_a_bound() -> None:
    view = MarketView(synthetic(60))
    clock = WallClock()
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=clock)
    tools = make_trading_tools(backend, view=view)
    records: list[StepRecord] = []
    loop = OADERLoop(
        ContextBuilder(view, tools.backend),
        _hold,
        DecisionEngine(),
        ToolExecutor(tools),
        records.append,
        backend,
        clock,
        run_id="live",
        view=view,
        progress=False,
        live_interval=timedelta(0),
    )
    assert loop.remaining is None
    with pytest.raises(ConfigError, match=r"needs n=... or until="):
        loop.run()
    before = datetime.now(UTC)
    loop.run(2)
    assert len(records) == 2
    assert all(r.timestamp >= before for r in records)


def test_make_agent_on_a_wall_clock_backend_makes_a_live_loop(agent_factory: Any) -> None:
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=WallClock())
    loop = agent_factory(backend=backend, live_interval=timedelta(0))
    assert loop.remaining is None
    loop.run(2)
    steps = loop.store.steps("t")
    assert len(steps) == 2
    assert steps[0].analysis.source is AnalysisSource.RULES


def test_the_loop_reads_a_record_stage_only_through_resumable_record():
    from axon_lab.data import make_synthetic
    from axon_lab.errors import ConfigError
    from axon_lab.oader import ExplainRecorder, ResumableRecord, make_agent

    loop = make_agent(
        make_synthetic(80, timeframe="1h", seed=2, symbol="SYN"),
        store="sqlite://",
        run_id="proto",
        progress=False,
    )
    assert isinstance(loop.record, ExplainRecorder)
    assert isinstance(loop.record, ResumableRecord)
    plain = []  # a plain function records, but cannot name its run or be replayed
    assert not isinstance(plain.append, ResumableRecord)
    from axon_lab.oader import OADERLoop

    with pytest.raises(ConfigError, match="not a ResumableRecord naming its run"):
        OADERLoop(
            loop.observe, loop.analyze, loop.decide, loop.execute, plain.append,
            loop.backend, loop.clock, view=loop.view,
        )  # fmt: skip
    other = OADERLoop(
        loop.observe, loop.analyze, loop.decide, loop.execute, plain.append,
        loop.backend, loop.clock, view=loop.view, run_id="p", progress=False,
    )  # fmt: skip
    with pytest.raises(ConfigError, match="fast_forward needs a ResumableRecord"):
        other.fast_forward([])
    loop.close()


def test_the_loop_is_the_clock_s_only_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every clock move in a backtest comes from the loop; the sim backend only reads the clock."""
    import inspect

    from axon_lab.oader import make_agent

    writers: list[str] = []
    original = SimulatedClock.set

    def watched(self: SimulatedClock, moment: datetime) -> datetime:
        caller = inspect.stack()[1]
        writers.append(f"{caller.filename.rsplit('/', 1)[-1]}:{caller.function}")
        return original(self, moment)

    loop = make_agent(synthetic(400), store="sqlite://", run_id="clock", progress=False)
    monkeypatch.setattr(SimulatedClock, "set", watched)
    loop.run()
    steps = loop.store.steps("clock")
    assert len(writers) == len(steps) > 300
    assert set(writers) == {"loop.py:_advance"}
    # the sim backend still caught up by itself: every fill it booked is in a recorded step
    booked = loop.backend.fill_count
    assert booked > 0
    assert booked == sum(len(s.fills) for s in steps)
    loop.close()


def test_one_portfolio_snapshot_is_built_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Marking, observing and closing a step share one snapshot (orders placed included)."""
    from axon_lab.backends import Ledger
    from axon_lab.oader import make_agent

    built = 0
    original = Ledger.snapshot

    def counted(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        nonlocal built
        built += 1
        return original(self, *args, **kwargs)

    loop = make_agent(synthetic(400), store="sqlite://", run_id="reads", progress=False)
    monkeypatch.setattr(Ledger, "snapshot", counted)
    loop.run()
    steps = loop.store.steps("reads")
    assert any(s.acks for s in steps)
    assert any(s.fills for s in steps)
    assert built == len(steps)
    loop.close()
