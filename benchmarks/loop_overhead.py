"""OADER loop overhead: us per step with a zero-latency LLM, the full risk chain and SQLite.

What one step does here: advance the simulated clock and the next-open backend; observe (MarketView
reads, the query_portfolio tool, the recorder's state); analyse with a ReActAnalyzer over a
ScriptedClient that answers instantly (buy/sell alternating, so every step sends an order); decide
(risk-sized limit order with brackets); execute through the place_order tool and the whole risk
chain (safety mode, limits, rejection and drawdown breakers, backend); record the StepRecord in one
committed SQLite transaction before the next step starts.

Two stores are timed, because SQLite's commit cost is the disk's, not the loop's:

* ``tmpfs`` (``/dev/shm``): the store's ``synchronous=FULL`` fsync returns at once, so this is the
  loop's own overhead (SQL work included). The last line reports it.
* ``disk`` (the system temp dir): the same run with a real fsync per step, for comparison.

The peer is the floor (``loop_floor.py``): the same step's required work, hand-written with no
framework, timed in the same run on the same data; ``ratio_vs_floor`` is the loop's median over
the floor's, the framework's cost over the work itself. Both time the same five stages, and the
run prints each stage's median for the loop and the floor side by side (the floor's observe is
three array reads; its prompt is built in analyze, as the loop's is). The loop's ``advance`` (the
clock and the backend move one bar, filling the last step's order) is in the floor's execute.

Then a 10k-step run in **replay** mode: the LLM is a ``CachedClient(mode="replay")`` over the
answers recorded by an identical first run; nothing may call the model (the inner client raises).

Usage: ``python benchmarks/loop_overhead.py [--steps 10000] [--profile]``. The last lines:
``floor_us_per_step=F ratio_vs_floor=R`` (target R <= 3), ``replay_vs_plain=P`` (the replayed
run's wall time over the plain run's, target <= 1.2), and ``us_per_step=X replay_10k_s=Y
plain_10k_s=Z``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from loop_floor import run_floor

from axon_lab.data import make_synthetic
from axon_lab.errors import LLMError
from axon_lab.llm import CachedClient, LLMRequest, ScriptedClient, SQLCacheStore
from axon_lab.oader import BaseLoopCallback, make_agent
from axon_lab.records import StepRecord

WARMUP = 60  # the first decision times: features still NaN


def answer_script() -> Any:
    counter = itertools.count()

    def answer(request: LLMRequest) -> str:
        i = next(counter)
        return json.dumps(
            {
                "thought": "scripted",
                "market_assessment": "uptrend" if i % 2 == 0 else "downtrend",
                "risk_assessment": "low",
                "confidence": 0.8,
                "action": "buy" if i % 2 == 0 else "sell",
                "reason": "benchmark",
            }
        )

    return answer


class StepTimer(BaseLoopCallback):
    """Wall time between consecutive step ends (a step's full cost), and per stage."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[float] = []
        self.stages: dict[str, list[float]] = {}
        self._last = 0.0

    def _lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages.setdefault(name, []).append((now - self._last) * 1e6)
        self._last = now

    def _on_step_start(self, step: int, now: Any) -> bool | None:
        self._last = time.perf_counter()
        if self.marks:  # since the last step's end: the clock and the backend moved a bar
            self.stages.setdefault("advance", []).append((self._last - self.marks[-1]) * 1e6)
        return None

    def _on_stage_end(self, stage: str, value: Any) -> bool | None:
        self._lap(stage)
        return None

    def _on_step_end(self, record: StepRecord) -> bool | None:
        self._lap("record")  # closing equity, the StepRecord and store.record_step (commit)
        self.marks.append(time.perf_counter())
        return None

    def breakdown(self) -> str:
        return ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in self.stages.items())

    def per_step_us(self) -> list[float]:
        return [(b - a) * 1e6 for a, b in itertools.pairwise(self.marks)]


def _raise(request: LLMRequest) -> str:
    raise LLMError("replay mode must not call the model")


def bench_frame(steps: int) -> Any:
    return make_synthetic(steps + WARMUP + 10, timeframe="1h", start="2020-01-01", seed=7)


def floor(steps: int, folder: Path, stages: dict[str, list[float]]) -> float:
    """The floor's median us per step over ``steps`` steps (the loop's data and answers).

    Each stage's time per step is appended to ``stages``.
    """
    times = run_floor(bench_frame(steps), steps, WARMUP, folder, answer_script(), stages)
    return statistics.median(times)


def stage_ratios(loop: StepTimer, floor_stages: dict[str, list[float]]) -> str:
    """Per stage: the loop's median us, the floor's, and their ratio."""
    parts = []
    for name, values in loop.stages.items():
        mine = statistics.median(values)
        if name not in floor_stages:
            parts.append(f"{name} {mine:.0f}/- (the floor fills in execute)")
            continue
        bare = statistics.median(floor_stages[name])
        parts.append(f"{name} {mine:.0f}/{bare:.0f} ({mine / bare:.1f}x)")
    return ", ".join(parts)


def run(steps: int, folder: Path, *, client: Any, run_id: str) -> tuple[float, StepTimer]:
    frame = bench_frame(steps)
    timer = StepTimer()
    loop = make_agent(
        frame,
        analyst=client,
        store=f"sqlite:///{folder / 'axon.db'}",
        run_id=run_id,
        progress=False,
        callbacks=timer,
        start=frame.index[WARMUP],
        cash=1e9,  # keep the cash caps out of the way
        fee_rate=0.0,  # no fee drag, so the drawdown breaker never trips: orders keep flowing
    )
    try:
        start = time.perf_counter()
        loop.run(steps)
        total = time.perf_counter() - start
        if loop.step_index != steps:
            raise SystemExit(f"{run_id}: ran {loop.step_index} of {steps} steps")
        recorded = loop.store.steps(run_id)
        orders = sum(1 for s in recorded if s.acks)
        rejected = sum(1 for s in recorded if s.rejections)
        print(
            f"  {run_id}: {steps:,} steps in {total:.2f} s; {orders:,} steps sent orders, "
            f"{rejected:,} had a rejection"
        )
    finally:
        loop.close()
    return total, timer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    n = args.steps
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=shm) as fast, tempfile.TemporaryDirectory() as disk:
        fast_dir, disk_dir = Path(fast), Path(disk)
        f = min(n, 3_000)
        print(f"floor (loop_floor.py), {f:,} steps, store on tmpfs:")
        floor_stages: dict[str, list[float]] = {}
        floor_before = floor(f, fast_dir, floor_stages)
        print(f"  median {floor_before:.0f} us/step")
        print(f"loop overhead, {n:,} steps, store on tmpfs ({fast_dir}):")
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
        total_s, timer = run(n, fast_dir, client=ScriptedClient(answer_script()), run_id="tmpfs")
        tmpfs = timer.per_step_us()
        if args.profile:
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        median = statistics.median(tmpfs)
        p90 = statistics.quantiles(tmpfs, n=10)[-1]
        print(f"  median {median:.0f} us/step, p90 {p90:.0f} us, {1e6 / median:,.0f} steps/s")
        print(f"  median us by stage: {timer.breakdown()}")
        floor_after = floor(f, fast_dir, floor_stages)  # again: the machine's speed drifts
        floor_us = statistics.mean([floor_before, floor_after])
        print(f"floor again: median {floor_after:.0f} us/step")
        print(f"  median us by stage, loop/floor: {stage_ratios(timer, floor_stages)}")

        m = min(n, 1_000)
        print(f"same loop, {m:,} steps, store on disk ({disk_dir}, fsync per commit):")
        _, on_disk = run(m, disk_dir, client=ScriptedClient(answer_script()), run_id="disk")
        print(f"  median {statistics.median(on_disk.per_step_us()):.0f} us/step")
        print(f"  median us by stage: {on_disk.breakdown()}")

        cache = SQLCacheStore(f"sqlite:///{fast_dir / 'llm_cache.db'}")
        recording = CachedClient(ScriptedClient(answer_script()), mode="record", store=cache)
        print(f"replay: record {n:,} steps, then replay them (the model must not be called):")
        run(n, fast_dir, client=recording, run_id="record")
        replaying = CachedClient(ScriptedClient(_raise), mode="replay", store=cache)
        replay_s, _ = run(n, fast_dir, client=replaying, run_id="replay")
        replay_10k = replay_s * 10_000 / n
    print(f"cpus={os.cpu_count()}")
    print(f"floor_us_per_step={floor_us:.0f} ratio_vs_floor={median / floor_us:.2f}")
    plain_10k = total_s * 10_000 / n  # the plain loop's run, wall time, same steps
    print(f"replay_vs_plain={replay_10k / plain_10k:.2f} (target <= 1.2)")
    print(f"us_per_step={median:.0f} replay_10k_s={replay_10k:.2f} plain_10k_s={plain_10k:.2f}")


if __name__ == "__main__":
    main()
