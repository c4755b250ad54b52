"""LoopStepper: Step, Run N, Pause, Reset drive the loop; the chart and the views follow."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from axon_lab.widgets import LoopStepper, ReasoningChainView


def stdout(out: Any) -> str:
    return "".join(o.get("text", "") for o in out.outputs if o.get("name") == "stdout")


def test_step_adds_one_point_and_one_entry(agent_factory: Any) -> None:
    loop = agent_factory()
    chain = ReasoningChainView()
    stepper = LoopStepper(loop, views=[chain])
    for expected in (1, 2, 3):
        stepper.step_button.click()
        assert loop.step_index == expected
        assert len(chain.entries) == expected
        assert len(stepper.chart.x) == len(stepper.chart.y) == expected
        trace = stepper.chart.figure.data[0]
        assert len(trace.x) == len(trace.y) == expected
    # the synced state (what a late frontend draws) holds the same points
    synced = stepper.chart.figure._widget_data[0]
    assert synced["y"] == stepper.chart.y
    assert stepper.chart.y[-1] == loop.last_record.equity
    assert chain.steps == [2, 1, 0]
    assert "step 2 " in stdout(stepper.log)
    assert stepper.progress.value == 3
    assert "step 3 of" in stepper.status.value


def test_run_n_without_an_event_loop_runs_to_the_end(agent_factory: Any) -> None:
    loop = agent_factory()
    stepper = LoopStepper(loop, speed=1000.0)
    stepper.n_input.value = 15
    stepper.run_button.click()
    assert loop.step_index == 15
    assert stepper.chart.steps == list(range(15))
    assert "done after 15 steps" in stdout(stepper.log)
    assert not stepper.is_running
    assert not stepper.step_button.disabled


def test_pause_stops_a_run_between_steps() -> None:
    async def scenario(stepper: LoopStepper) -> tuple[int, bool, bool]:
        task = stepper.run(1_000)
        assert isinstance(task, asyncio.Task)
        assert stepper.is_running
        assert stepper.step_button.disabled
        assert not stepper.pause_button.disabled
        while stepper.loop.step_index < 3:
            await asyncio.sleep(0.005)
        stepper.pause_button.click()
        done = await task
        return done, stepper.is_running, stepper.step_button.disabled

    from axon_lab.oader import make_agent

    from .conftest import data

    loop = make_agent(data(), store="sqlite://", run_id="p", progress=False)
    try:
        stepper = LoopStepper(loop, speed=200.0)
        done, running, disabled = asyncio.run(scenario(stepper))
        assert 3 <= done < 1_000
        assert loop.step_index == done
        assert not running
        assert not disabled
        assert stepper.chart.steps == list(range(done))
        assert f"paused after {done} steps" in stdout(stepper.log)
    finally:
        loop.close()


def test_steps_run_elsewhere_reach_the_views(agent_factory: Any) -> None:
    loop = agent_factory()
    chain = ReasoningChainView(max_entries=5)
    stepper = LoopStepper(loop, views=[chain])
    loop.run(12)  # e.g. in another cell
    assert stepper.chart.steps == list(range(12))
    assert chain.steps == [11, 10, 9, 8, 7]
    assert len(chain.widget.children[1].children) == 5
    assert "step 12 of" in stepper.status.value


def test_reset_builds_a_new_run_and_clears_the_views(agent_factory: Any) -> None:
    ids = itertools.count(1)
    first = agent_factory(run_id="r0")
    store = first.store
    chain = ReasoningChainView()
    stepper = LoopStepper(
        first, views=[chain], factory=lambda: agent_factory(run_id=f"r{next(ids)}", store=store)
    )
    stepper.step_button.click()
    stepper.step_button.click()
    stepper.reset_button.click()
    assert stepper.loop.run_id == "r1"
    assert stepper.chart.x == []
    assert chain.entries == []
    stepper.step_button.click()
    assert stepper.chart.steps == [0]
    assert chain.steps == [0]
    assert first.step_index == 2  # the old loop is left alone
    assert "reset: new run r1" in stdout(stepper.log)


def test_reset_without_a_factory_is_disabled(agent_factory: Any) -> None:
    stepper = LoopStepper(agent_factory())
    assert stepper.reset_button.disabled
    assert stepper.reset() is None


def test_a_finished_loop_disables_step_and_run(agent_factory: Any) -> None:
    loop = agent_factory(frame=data_short())
    stepper = LoopStepper(loop)
    stepper.run(100)
    assert loop.done
    assert stepper.step_button.disabled
    assert stepper.run_button.disabled
    assert "done" in stepper.status.value


def data_short() -> Any:
    from .conftest import data

    return data(n=60)


def test_the_follower_batches_steps_until_flush_every_has_passed(agent_factory: Any) -> None:
    from axon_lab.widgets import LoopFollower

    now = [0.0]
    chain = ReasoningChainView()
    follower = LoopFollower([chain], flush_every=1.0, clock=lambda: now[0])
    loop = agent_factory()
    loop.add_callback(follower)
    loop.step()  # the first step is handed over at once
    assert chain.steps == [0]
    loop.step()
    loop.step()  # within a second: queued
    assert chain.steps == [0]
    assert [r.step for r in follower.pending] == [1, 2]
    now[0] = 1.5
    loop.step()
    assert chain.steps == [3, 2, 1, 0]
    assert follower.pending == []


def test_a_failing_step_is_logged_not_raised(agent_factory: Any) -> None:
    def broken(observation: Any) -> Any:
        raise ValueError("analyst exploded")

    stepper = LoopStepper(agent_factory(analyst=broken))
    assert stepper.step() is None
    errors = "".join(o.get("text", "") for o in stepper.log.outputs if o.get("name") == "stderr")
    assert "step failed" in errors
    assert "analyst exploded" in errors
    assert stepper.chart.steps == [0]  # the failed step was recorded and is shown
