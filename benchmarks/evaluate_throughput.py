"""Evaluation throughput: LLM windows overlapped with asyncio, rules windows on every core.

LLM: an OpenAI-compatible fake server on 127.0.0.1 (its own process) answers every chat request
with a valid analysis after ``--latency`` seconds (default 100 ms). The same evaluation of
``--windows`` windows x ``--steps`` steps (one LLM call per step) runs once with concurrency 1
(one window after another) and once with ``--concurrency`` windows in flight; target >= 12x.

CPU: a rules evaluation of ``--windows`` windows x ``--cpu-steps`` steps runs in this process
(``workers=1``) and in ``--workers`` processes (forkserver/spawn); target >= 1.6x on two cores.
Both sides are warmed up first: the one-process side loads its imports and compiled kernels, the
pool side starts the forkserver (once per Python session; its time is printed too).
For reference it also times one worker process (pool start-up included), which separates the
start-up cost from the parallel speed-up.

Both evaluate only the agent (``baselines=False``), each run in a fresh SQLite file store, and
repeat ``--repeats`` times; the medians are reported.

Each also measures its floor, what the required work costs whatever the harness does:

- LLM: the concurrent run cannot beat ``steps x latency`` (each window's calls are sequential),
  nor the same evaluation against a server that answers at once (the work in this process and
  the server's: building prompts, HTTP, parsing, one committed step per call). The best speed-up
  is the sequential time over the larger of the two.
- CPU: every step is one committed transaction (``synchronous=FULL``: an fsync), and SQLite has
  one writer, so commits do not parallelise. The same evaluation on a RAM disk (``/dev/shm``,
  where fsync is free) separates the disk's share from the CPU's.

    python benchmarks/evaluate_throughput.py [--repeats 3] [--latency 0.1]

Last line: ``llm_speedup=X cpu_speedup=Y``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from axon_lab.data import make_synthetic
from axon_lab.evaluate import AgentSpec, evaluate

ANSWER = json.dumps(
    {
        "thought": "benchmark",
        "market_assessment": "range",
        "risk_assessment": "medium",
        "confidence": 0.4,
        "action": "hold",
        "reason": "benchmark reply",
    }
)
BASE_URL: dict[str, str] = {}


def serve(latency: float) -> None:
    """Run the fake server (child process): every chat request gets ANSWER after ``latency``."""
    from axon_lab.llm.testing import FakeChatServer, FakeReply

    with FakeChatServer(lambda _request: FakeReply.chat(ANSWER), latency_s=latency) as server:
        sys.stdout.write(server.base_url + "\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            server._stopping.wait()


def llm_client() -> Any:
    from axon_lab.llm import OpenAICompatClient

    return OpenAICompatClient(
        "fake-model", base_url=BASE_URL["url"], api_key="not-needed", max_concurrency=64
    )


def timed(folder: str | None = None, **kwargs: Any) -> float:
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        start = time.perf_counter()
        evaluate(store=f"sqlite:///{Path(tmp) / 'bench.db'}", progress=False, **kwargs)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--cpu-steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--part", choices=["both", "llm", "cpu"], default="both")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return
    warnings.simplefilter("ignore")
    llm_speedup = cpu_speedup = float("nan")
    if args.part in ("both", "llm"):
        with fake_server(args.latency):
            llm_speedup, seq = bench_llm(args)
        with fake_server(0.0):
            llm_floor(args, seq)
    if args.part in ("both", "cpu"):
        cpu_speedup = bench_cpu(args)
    print(f"llm_speedup={llm_speedup:.2f} cpu_speedup={cpu_speedup:.2f}")


@contextlib.contextmanager
def fake_server(latency: float) -> Iterator[None]:
    """The fake server in its own process, answering after ``latency``; BASE_URL points at it."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        BASE_URL["url"] = server.stdout.readline().strip()
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def llm_common(args: argparse.Namespace) -> dict[str, Any]:
    data = make_synthetic(60 + args.windows * args.steps, timeframe="1d", seed=1, symbol="SYN")
    return {
        "agent": AgentSpec(name="llm", analyst=llm_client),
        "data": data,
        "n_windows": args.windows,
        "test": args.steps,
        "warmup": 60,
        "baselines": False,
        "workers": 1,
    }


def bench_llm(args: argparse.Namespace) -> tuple[float, float]:
    common = llm_common(args)
    timed(**common, concurrency=args.concurrency)  # warm-up: imports, connection pool
    seq, par = [], []
    for _ in range(args.repeats):
        seq.append(timed(**common, concurrency=1))
        par.append(timed(**common, concurrency=args.concurrency))
    s, p = statistics.median(seq), statistics.median(par)
    calls = args.windows * args.steps
    print(f"LLM: {args.windows} windows x {args.steps} steps, {args.latency * 1000:.0f} ms a call")
    rounded = [round(x, 2) for x in seq]
    print(f"  one window after another: {s:6.2f} s (median of {args.repeats}; {rounded})")
    ideal = calls * args.latency / args.concurrency
    rounded = [round(x, 2) for x in par]
    print(f"  concurrency {args.concurrency}: {p:6.2f} s (ideal {ideal:.2f} s; {rounded})")
    print(f"  speed-up {s / p:.1f}x (target >= 12)")
    return s / p, s


def llm_floor(args: argparse.Namespace, seq: float) -> None:
    common = llm_common(args)
    timed(**common, concurrency=args.concurrency)
    work = [timed(**common, concurrency=args.concurrency) for _ in range(args.repeats)]
    w = statistics.median(work)
    latency = args.steps * args.latency
    floor = max(latency, w)
    print(
        f"  floor: {floor:.2f} s = max({args.steps} calls x {args.latency * 1000:.0f} ms in a "
        f"row = {latency:.2f} s, the same work answered at once = {w:.2f} s "
        f"{[round(x, 2) for x in work]}); best speed-up {seq / floor:.1f}x"
    )


def bench_cpu(args: argparse.Namespace) -> float:
    data = make_synthetic(60 + args.windows * args.cpu_steps, timeframe="1d", seed=2, symbol="SYN")
    common = {
        "agent": AgentSpec(name="rules"),
        "data": data,
        "n_windows": args.windows,
        "test": args.cpu_steps,
        "warmup": 60,
        "baselines": False,
    }
    timed(**common, workers=1)  # warm-up: numba cache, imports
    # warm-up of the pool: starts the forkserver (imports, one tiny window), once per session
    cold = timed(**common, workers=args.workers)
    one, many, pool_one = [], [], []
    for _ in range(args.repeats):
        one.append(timed(**common, workers=1))
        many.append(timed(**common, workers=args.workers))
        # for reference: one worker process (its start-up is timed: it starts at first submit)
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as single:
            pool_one.append(timed(**common, executor=single))
    ram_one, ram_many = [], []
    ram = "/dev/shm" if Path("/dev/shm").is_dir() else None
    for _ in range(args.repeats if ram else 0):
        ram_one.append(timed(ram, **common, workers=1))
        ram_many.append(timed(ram, **common, workers=args.workers))
    o, m, p1 = (statistics.median(x) for x in (one, many, pool_one))
    print(f"CPU: rules, {args.windows} windows x {args.cpu_steps} steps")
    print(f"  one process: {o:6.2f} s (median of {args.repeats}; {[round(x, 2) for x in one]})")
    print(f"  {args.workers} processes: {m:6.2f} s ({[round(x, 2) for x in many]})")
    print(f"  {args.workers} processes, the session's first pool (forkserver start): {cold:6.2f} s")
    print(f"  1 worker process: {p1:6.2f} s ({[round(x, 2) for x in pool_one]})")
    print(f"  speed-up {o / m:.2f}x (target >= 1.6); {p1 / m:.2f}x against 1 worker process")
    if ram_one:
        ro, rm = statistics.median(ram_one), statistics.median(ram_many)
        print(
            f"  on a RAM disk (fsync free): one process {ro:.2f} s, {args.workers} processes "
            f"{rm:.2f} s, speed-up {ro / rm:.2f}x; the disk's commits cost {o - ro:.2f} s of "
            f"the one-process {o:.2f} s, and one SQLite file takes them one at a time"
        )
        best = o / (ro / args.workers + max(o - ro, 0.0))
        print(f"  floor: the work shared, the commits in a row: best speed-up {best:.2f}x")
    return o / m


if __name__ == "__main__":
    main()
