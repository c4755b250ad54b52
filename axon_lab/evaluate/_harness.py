"""evaluate(): an agent and its baselines over walk-forward windows, each window a stored run.

Every (agent, symbol, window) is one run in the explain store, under one evaluation id: the
run id is ``<evaluation id>--<agent>--<symbol>--wNN`` and the run config holds
``config["evaluation"] = {"id", "agent", "role", "symbol", "window", "start", "end"}``.
A run counts as finished when its step count equals the window's decision bars; a rerun with
the same evaluation id skips finished runs and resumes unfinished ones (the loop re-runs their
recorded steps, checks them and carries on), so a crash or Ctrl-C loses at most the step in
flight and the results are identical.

Baselines, on the same windows with the same cash, fee rate and fill model (decide on a bar's
close, market orders fill at the next bar's open):

- ``rules``: the rules analyst, through the same loop and sim backend (skipped when an agent
  under test is named ``rules``: it is then the agent itself);
- ``random-dK``: K = 0..n_random-1 seeded :class:`RandomAnalyst` draws through the same loop,
  each trading as often as the first agent under test did in that window;
- ``buy_and_hold`` and ``flat``: the vectorized engine (:func:`axon_lab.backtest.run`) with the
  same fee rate, cash and ``execution="next_open"``: the sim backend steps that same fill kernel
  (their parity is tested in ``tests/backtest``), so an all-in entry on the first decision bar is
  exactly what the loop would do, without its risk limits (which cap an order at half the cash).
  Flat keeps the cash. These two are computed, not stored; their "run ids" read ``vectorized:``.

Concurrency: ``kind="cpu"`` agents (rules, random) run in ``workers`` processes
(:class:`concurrent.futures.ProcessPoolExecutor`, forkserver/spawn context, the forkserver warmed
by one tiny window; each worker opens the store by URL, so the store must be a file or a server,
not ``sqlite://``), or on any
:class:`concurrent.futures.Executor` given as ``executor``. With ``cluster`` (a Dask scheduler
address or client) every window, CPU and LLM alike, runs on the cluster's workers, which share
one PostgreSQL store (see :mod:`axon_lab.evaluate._cluster`). Otherwise
``kind="llm"`` agents run in this process with asyncio, ``concurrency`` windows at a time (a
semaphore), sharing the analyst the spec's factory returns once (one cache, one cost ledger, one
keep-alive connection pool: :func:`~axon_lab.llm.pooled_connections`), each step's commit in a
worker thread (:attr:`~axon_lab.oader.ExplainRecorder.offload`) so it blocks no other window; a
:class:`~axon_lab.errors.BudgetExceededError` cancels every window in flight and stops the
evaluation with an :class:`~axon_lab.errors.EvaluationError` that says how to resume.
"""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import secrets
import zlib
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.errors import BudgetExceededError, ConfigError, EvaluationError, StoreError
from axon_lab.evaluate._inputs import load_frames, store_url
from axon_lab.evaluate._results import Evaluation, collect_results
from axon_lab.evaluate._spec import (
    AgentSpec,
    EvalWindow,
    RandomAnalystFactory,
    make_windows,
    trade_rate,
    window_run_id,
)

__all__ = ["evaluate"]

RULES_BASELINE = "rules"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Task:
    """One run to do; plain values (it crosses process boundaries)."""

    evaluation_id: str
    spec: AgentSpec
    role: str
    window: EvalWindow
    frame: pd.DataFrame
    store_url: str
    cash: float
    fee_rate: float

    @property
    def run_id(self) -> str:
        return window_run_id(self.evaluation_id, self.spec.name, self.window)


def _steps_done(store: Any, run_id: str) -> int | None:
    """Steps recorded for ``run_id`` (None: no such run)."""
    try:
        store.get_run(run_id)
    except StoreError:
        return None
    last = store.last_step(run_id)
    return 0 if last is None else last.step + 1


def _make_loop(task: _Task, store: Any, analyst: Any, resume: bool, callbacks: Any = None) -> Any:
    from axon_lab.data import MarketView
    from axon_lab.oader import make_agent

    w = task.window
    view = MarketView(task.frame)
    # decision time = a bar's close: the last n_steps of them are the window's decision bars
    times = view.decision_times(1)[-w.n_steps :]
    return make_agent(
        view,
        analyst=analyst,
        cash=task.cash,
        fee_rate=task.fee_rate,
        store=store,
        run_id=task.run_id,
        resume=resume,
        start=times[0],
        progress=False,
        callbacks=callbacks,
        config={
            "evaluation": {
                "id": task.evaluation_id,
                "agent": task.spec.describe(),
                "role": task.role,
                "symbol": w.symbol,
                "window": w.index,
                "start": times[0].isoformat(),
                "end": times[-1].isoformat(),
                "n_steps": w.n_steps,
            }
        },
        **task.spec.params,
    )


def _run_task(task: _Task) -> tuple[str, int]:
    """Run (or finish) one window in this process; return the run id and the steps run now."""
    from axon_lab.explain import ExplainStore

    with ExplainStore(task.store_url) as store:
        done = _steps_done(store, task.run_id)
        if done == task.window.n_steps:
            return task.run_id, 0
        loop = _make_loop(task, store, task.spec.make_analyst(), resume=done is not None)
        loop.run()
        return task.run_id, task.window.n_steps - (done or 0)


def _pool_context() -> Any:
    # forkserver where the platform has it (no fork of a threaded parent), else spawn
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # the server imports the loop and runs one tiny window (axon_lab.evaluate._warm) once;
    # every worker forks from it already warm
    context.set_forkserver_preload(["axon_lab.evaluate._warm"])
    return context


def _collect(pool: Executor, tasks: list[_Task], bar: Any) -> None:
    futures = [pool.submit(_run_task, task) for task in tasks]
    try:
        for future in as_completed(futures):
            bar.update(future.result()[1])
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _run_cpu(tasks: list[_Task], workers: int, bar: Any, executor: Executor | None) -> None:
    if not tasks:
        return
    if executor is not None:  # the caller's pool (e.g. Dask's client.get_executor()); kept open
        _collect(executor, tasks, bar)
        return
    if workers == 1 or len(tasks) == 1:
        for task in tasks:
            bar.update(_run_task(task)[1])
        return
    with ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)), mp_context=_pool_context()
    ) as pool:
        _collect(pool, tasks, bar)


async def _arun_llm(tasks: list[_Task], concurrency: int, bar: Any, close: bool) -> None:
    from axon_lab.llm import pooled_connections

    analysts: dict[str, Any] = {}
    for task in tasks:
        if task.spec.name not in analysts:
            analysts[task.spec.name] = task.spec.make_analyst()  # one per spec: shared cache
    gate = asyncio.Semaphore(concurrency)
    with _open(tasks[0].store_url) as store:

        async def one(task: _Task) -> None:
            async with gate:
                done = _steps_done(store, task.run_id)
                if done == task.window.n_steps:
                    return
                loop = _make_loop(
                    task,
                    store,
                    analysts[task.spec.name],
                    resume=done is not None,
                    callbacks=lambda _record: bar.update(1),
                )
                # commit in a thread while the other windows go on (a file or a server only)
                loop.record.offload = task.store_url not in _MEMORY
                await loop.arun()

        # one keep-alive connection pool per client for every window, closed at the end
        try:
            async with pooled_connections(), asyncio.TaskGroup() as group:
                for task in tasks:
                    group.create_task(one(task))
        finally:
            for analyst in analysts.values() if close else ():
                if callable(getattr(analyst, "close", None)):
                    analyst.close()


def _budget_error(exc: BaseException) -> BudgetExceededError | None:
    seen: list[BaseException] = [exc]
    while seen:
        err = seen.pop()
        if isinstance(err, BudgetExceededError):
            return err
        if isinstance(err, BaseExceptionGroup):
            seen.extend(err.exceptions)
        if err.__cause__ is not None:
            seen.append(err.__cause__)
    return None


def _run_llm(
    tasks: list[_Task], concurrency: int, bar: Any, evaluation_id: str, close: bool = False
) -> None:
    """Run LLM windows with asyncio; ``close``: close the analysts made for them after."""
    if not tasks:
        return
    try:
        asyncio.run(_arun_llm(tasks, concurrency, bar, close))
    except BaseException as exc:
        budget = _budget_error(exc)
        if budget is None:
            if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
                raise exc.exceptions[0] from None
            raise
        raise EvaluationError(
            f"evaluation {evaluation_id!r} stopped: the LLM budget is spent ({budget}). Every "
            "window in flight was cancelled after its last recorded step; raise the budget and "
            f"rerun with evaluation_id={evaluation_id!r} (axon-lab evaluate --resume "
            f"{evaluation_id}) to finish the unfinished runs"
        ) from budget


def _random_seed(seed: int, window: EvalWindow, draw: int) -> int:
    entropy = [seed, zlib.crc32(window.symbol.encode()), window.index, draw]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _progress(total: int, enabled: bool, evaluation_id: str) -> Any:
    if not enabled:
        return _NoBar()
    # lazy: tqdm.auto may import ipywidgets (and tqdm ships no type stubs)
    tqdm = importlib.import_module("tqdm.auto").tqdm
    return tqdm(total=total, desc=f"evaluate {evaluation_id}", unit="step")


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""


def evaluate(
    agent: AgentSpec | Sequence[AgentSpec],
    data: Any,
    *,
    n_windows: int = 4,
    warmup: int = 60,
    test: int | None = None,
    cash: float = 100_000.0,
    fee_rate: float = 0.001,
    n_random: int = 3,
    seed: int = 0,
    store: Any = None,
    evaluation_id: str | None = None,
    workers: int | None = None,
    concurrency: int = 8,
    progress: bool = True,
    baselines: bool = True,
    executor: Executor | None = None,
    cluster: Any = None,
) -> Evaluation:
    """Run ``agent`` and its baselines over walk-forward windows of one or many symbols.

    Args:
        agent: The agent under test (an :class:`AgentSpec`), or several (each gets the same
            windows; the random baseline matches the first one's trade frequency).
        data: A bundled sample name, a CSV/Parquet path, an OHLCV frame with
            ``attrs["symbol"]``, or a list/dict of them (one symbol each).
        n_windows: Windows per symbol (the last ones that fit).
        warmup: Bars before each window's first decision (the analyst's indicators read them).
        test: Decision bars per window (default: as many as ``n_windows`` windows allow).
        cash: Starting cash of every run.
        fee_rate: Fee rate of every run.
        n_random: Draws of the random baseline per window.
        seed: Seed of the random baseline (each draw's seed derives from it, the symbol, the
            window and the draw) and of the report's bootstrap.
        store: Explain store URL or :class:`~axon_lab.explain.ExplainStore` (default
            ``sqlite:///runs/axon.db``); a file or server URL when ``workers > 1``.
        evaluation_id: The evaluation id; pass an earlier one to resume it (finished runs are
            skipped). Default: a new ``eval-<time>-<hex>`` id.
        workers: Processes for ``kind="cpu"`` agents (default: every core).
        concurrency: Windows in flight at once for ``kind="llm"`` agents.
        progress: Show one tqdm progress bar (steps) for the whole evaluation.
        baselines: False runs only the agents under test (no rules or random runs; the
            vectorized buy-and-hold and flat are still computed), e.g. to time the agents alone.
        executor: Run ``kind="cpu"`` windows on this :class:`concurrent.futures.Executor`
            instead of local processes (``workers`` is then unused), e.g. a Dask cluster's
            ``client.get_executor()``; each task opens the store by URL, so give a store every
            worker reaches (``postgresql://...`` across machines). It is not shut down here.
        cluster: Run every window (CPU and LLM) on a Dask cluster: its scheduler address
            (``"tcp://host:8786"``), a ``distributed.Client`` or a ``distributed.LocalCluster``
            (``pip install 'axon-lab[distributed]'``). Give a ``store`` every worker reaches
            (``postgresql://...``); LLM windows run in shares of at most ``concurrency``
            windows, one share per worker thread or more, each with its own async concurrency
            and its own client from the spec's factory (a budget cap then counts per share).

    Returns:
        The :class:`Evaluation` (per-window results, equity curves, run ids); build its report
        with :func:`build_evaluation_report`.

    Raises:
        ConfigError: Bad arguments (unknown data, windows that do not fit, duplicate names, a
            store a cluster cannot reach).
        EvaluationError: When an LLM budget cap stops the evaluation (it says how to resume).

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> frame = make_synthetic(260, timeframe="1d", seed=3, symbol="SYN")
        >>> ev = evaluate(AgentSpec(name="rules"), frame, n_windows=2, store="sqlite://",
        ...               evaluation_id="doc", n_random=1, progress=False)
        >>> sorted(ev.agents), ev.windows[0].label
        (['buy_and_hold', 'flat', 'random', 'rules'], 'SYN/w00')
    """
    import os

    from axon_lab.explain import ExplainStore

    agents = [agent] if isinstance(agent, AgentSpec) else list(agent)
    if not agents or not all(isinstance(a, AgentSpec) for a in agents):
        raise ConfigError(f"agent must be an AgentSpec or a list of them, got {agent!r}")
    names = [a.name for a in agents]
    if len(set(names)) != len(names):
        raise ConfigError(f"agent names must differ, got {names}")
    clash = {n for n in names if n in ("buy_and_hold", "flat") or n.startswith("random")}
    if clash:
        raise ConfigError(f"agent names {sorted(clash)} are reserved for baselines; rename them")
    for name, value in (("n_random", n_random), ("concurrency", concurrency)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (name == "concurrency"):
            raise ConfigError(
                f"{name} must be a non-negative int (concurrency >= 1), got {value!r}"
            )
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be an int >= 1, got {workers!r}")
    if evaluation_id is None:
        evaluation_id = f"eval-{pd.Timestamp.now('UTC'):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    if (
        not isinstance(evaluation_id, str)
        or not evaluation_id.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise ConfigError(
            f"evaluation_id {evaluation_id!r} must be letters, digits, '-', '_' or '.'"
        )
    url = store_url(store)
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise ConfigError(
            f"executor must be a concurrent.futures.Executor (with submit), got {executor!r}"
        )
    if executor is not None and in_memory:
        raise ConfigError(
            "an executor's workers cannot reach an in-memory store; pass a file or server URL "
            "(sqlite:///runs/axon.db, postgresql://...)"
        )
    if cluster is not None:
        from axon_lab.evaluate._cluster import check_cluster_store

        if executor is not None:
            raise ConfigError("pass executor or cluster, not both (a cluster runs every window)")
        check_cluster_store(url)
    if in_memory and workers > 1:
        workers = 1  # worker processes cannot see an in-memory database; stay in this process
    shared = store if in_memory and isinstance(store, ExplainStore) else None

    frames = load_frames(data)
    windows = [
        w
        for symbol, frame in frames.items()
        for w in make_windows(symbol, len(frame), n_windows=n_windows, warmup=warmup, test=test)
    ]
    specs = list(agents)
    if not baselines:
        n_random = 0
    elif RULES_BASELINE not in names:
        specs.append(AgentSpec(name=RULES_BASELINE))

    def task(spec: AgentSpec, w: EvalWindow, role: str) -> _Task:
        frame = frames[w.symbol].iloc[w.first : w.stop]
        return _Task(
            evaluation_id=evaluation_id,
            spec=spec,
            role=role,
            window=w,
            frame=frame,
            store_url=url,
            cash=float(cash),
            fee_rate=float(fee_rate),
        )

    first = [task(s, w, "agent" if s in agents else "baseline") for s in specs for w in windows]
    total = sum(w.n_steps for w in windows) * (len(specs) + n_random)

    # an in-memory store lives only in this process: keep one connection open throughout
    holder = shared or (ExplainStore(url) if in_memory else None)
    client: Any = None
    own_client = False
    try:
        if cluster is not None:
            from axon_lab.evaluate._cluster import open_client

            client, own_client = open_client(cluster)
        if holder is not None:
            first = [_with_url(t, holder) for t in first]
        bar = _progress(total, progress, evaluation_id)
        try:
            _dispatch(first, workers, concurrency, bar, evaluation_id, holder, executor or client)
            with _open(holder or url) as reader:
                rates = {
                    w: trade_rate(reader.to_frame(task(agents[0], w, "agent").run_id)["action"])
                    for w in windows
                }
            randoms = [
                task(
                    AgentSpec(
                        name=f"random-d{k}",
                        analyst=RandomAnalystFactory(rate=rates[w], seed=_random_seed(seed, w, k)),
                        kind="cpu",
                    ),
                    w,
                    "baseline",
                )
                for k in range(n_random)
                for w in windows
            ]
            if holder is not None:
                randoms = [_with_url(t, holder) for t in randoms]
            _dispatch(randoms, workers, concurrency, bar, evaluation_id, holder, executor or client)
        finally:
            bar.close()
        with _open(holder or url) as reader:
            result = collect_results(
                reader,
                evaluation_id=evaluation_id,
                agents=names,
                windows=windows,
                frames=frames,
                n_random=n_random,
                rules_baseline=baselines,
                cash=float(cash),
                fee_rate=float(fee_rate),
                seed=seed,
                store_url=url,
            )
    finally:
        if own_client and client is not None:
            client.close()
        if holder is not None:
            _MEMORY.pop(f"memory:{id(holder)}", None)
            if holder is not shared:
                holder.close()
    return result


# An in-memory store is reachable only through its live object: tasks then carry the object.
_MEMORY: dict[str, Any] = {}


def _with_url(task: _Task, store: Any) -> _Task:
    key = f"memory:{id(store)}"
    _MEMORY[key] = store
    return _Task(
        evaluation_id=task.evaluation_id,
        spec=task.spec,
        role=task.role,
        window=task.window,
        frame=task.frame,
        store_url=key,
        cash=task.cash,
        fee_rate=task.fee_rate,
    )


class _open:  # noqa: N801 - used like a function in `with`
    """Open a store by URL (closing it after), or lend a live in-memory one (left open)."""

    def __init__(self, where: Any) -> None:
        self.where = where
        self.store: Any = None

    def __enter__(self) -> Any:
        from axon_lab.explain import ExplainStore

        if isinstance(self.where, ExplainStore):
            return self.where
        if isinstance(self.where, str) and self.where in _MEMORY:
            return _MEMORY[self.where]
        self.store = ExplainStore(self.where)
        return self.store

    def __exit__(self, *exc: object) -> None:
        if self.store is not None:
            self.store.close()


def _dispatch(
    tasks: list[_Task],
    workers: int,
    concurrency: int,
    bar: Any,
    evaluation_id: str,
    holder: Any,
    executor: Any = None,
) -> None:
    if not tasks:
        return
    with _open(holder or tasks[0].store_url) as reader:
        done = {t.run_id: _steps_done(reader, t.run_id) or 0 for t in tasks}
    bar.update(sum(min(done[t.run_id], t.window.n_steps) for t in tasks))
    # finished runs are skipped here, before any worker process is started
    tasks = [t for t in tasks if done[t.run_id] != t.window.n_steps]
    if executor is not None and not isinstance(executor, Executor):  # a Dask client
        from axon_lab.evaluate._cluster import run_on_cluster

        run_on_cluster(executor, tasks, concurrency, bar, evaluation_id)
        return
    cpu = [t for t in tasks if t.spec.kind == "cpu"]
    llm = [t for t in tasks if t.spec.kind == "llm"]
    if holder is not None:
        # in memory: everything in this process, one task after another (LLM ones overlapped)
        _run_llm(llm, concurrency, bar, evaluation_id)
        for t in cpu:
            bar.update(_run_in_memory(t))
        return
    _run_llm(llm, concurrency, bar, evaluation_id)
    _run_cpu(cpu, workers, bar, executor)


def _run_in_memory(task: _Task) -> int:
    store = _MEMORY[task.store_url]
    done = _steps_done(store, task.run_id)
    if done == task.window.n_steps:
        return 0
    loop = _make_loop(task, store, task.spec.make_analyst(), resume=done is not None)
    loop.run()
    return task.window.n_steps - (done or 0)
