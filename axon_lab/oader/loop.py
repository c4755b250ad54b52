"""OADERLoop: Observe -> Analyze -> Decide -> Execute -> Record, one committed step at a time.

Time. The loop is the clock's only writer. With a :class:`~axon_lab.clock.SimulatedClock`
(backtests) and a view, it walks the view's decision times (``view.decision_times(every)``: every
``every``-th bar completion), setting the clock to each before the step; a backend that replays
bars (:class:`~axon_lab.backends.SimTradingBackend`) reads the clock at its next call and catches
up by itself, so the loop never tells it the time. With any other clock (a
:class:`~axon_lab.clock.WallClock` for live trading) each step runs at ``clock.now()`` and
:meth:`OADERLoop.arun` waits ``live_interval`` between steps.

Errors. A stage that raises ends its step early: the step is recorded whole with
``failed_stage`` and ``error`` set and whatever the earlier stages produced (never a half-written
step, never an order after the failure). Then the ``on_error`` policy decides:

* ``"stop"`` (default): raise :class:`~axon_lab.oader.StageError` (the failed step is recorded);
* ``"abstain"``: the step counts as an abstention and the loop carries on with the next one.

Budget, cache-miss and store errors always stop (after recording, where possible): carrying on
would fail the same way at every step. A failing Record stage always raises.

Resume. :meth:`OADERLoop.fast_forward` re-runs the recorded steps of a run without writing,
checking that each reproduces its record (decision, verdicts, acks, fills, equity), then carries
on. Re-running restores everything a backend and the risk chain hold — cash, positions, resting
orders, brackets, daily order counts, circuit-breaker states — which replaying fills alone would
not; its price is the time of the re-run, and it needs deterministic stages (the rules analyst, or
an LLM behind a ``CachedClient`` in record/replay mode).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd

from axon_lab._redact import redact_secrets
from axon_lab._text import MAX_ERROR_CHARS, clip
from axon_lab.backends.protocol import TradingBackend
from axon_lab.clock import Clock, SimulatedClock
from axon_lab.errors import BudgetExceededError, CacheMissError, ConfigError, StoreError
from axon_lab.llm import PROMPTS
from axon_lab.records import Analysis, Decision, Observation, OrderAck, StepRecord
from axon_lab.risk import RiskChain

from .callbacks import BaseLoopCallback, CallbackLike, CallbackList, make_callback
from .stages import (
    AnalyzeStage,
    DecideStage,
    ExecuteStage,
    Execution,
    ObserveStage,
    RecordStage,
    ResumableRecord,
    StageError,
    StageName,
    as_async,
    run_blocking,
)

__all__ = ["OADERLoop", "OnError"]

OnError = Literal["stop", "abstain"]
_FATAL = (BudgetExceededError, CacheMissError, StoreError)


class OADERLoop:
    """The OADER loop: five replaceable stages, a backend and a clock.

    Args:
        observe: ``now -> Observation`` (e.g. :class:`~axon_lab.oader.ContextBuilder`).
        analyze: ``Observation -> Analysis`` (:class:`~axon_lab.oader.RulesAnalyst`,
            :class:`~axon_lab.oader.ReActAnalyzer` or any callable).
        decide: ``(Analysis, Observation) -> Decision``.
        execute: ``(Decision, Observation) -> Execution``.
        record: ``StepRecord -> None``; must commit before returning.
        backend: The trading backend (its equity closes each step).
        clock: A :class:`~axon_lab.clock.SimulatedClock` for backtests, a
            :class:`~axon_lab.clock.WallClock` for live runs.
        run_id: The run the steps belong to (default: ``record.run_id``).
        view: The market view whose decision times a simulated clock walks.
        every: Decide every ``every`` bars.
        start: Skip decision times before this.
        on_error: ``"stop"`` or ``"abstain"`` (see the module docstring).
        progress: Show a tqdm progress bar in ``run``/``run_until``.
        callbacks: A callback, a plain function of the step record, or a list of them.
        live_interval: Wait between live steps (default: ``every`` bars of the view).
        risk: The risk chain behind the Execute stage. Each step begins by marking the
            portfolio to market through it (:meth:`~axon_lab.risk.RiskChain.mark`), so its
            gates see equity every step, not only when an order is checked; the step records
            each gate's state and every transition. ``make_agent`` passes its chain.

    Examples:
        >>> import warnings
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import make_agent
        >>> data = make_synthetic(300, timeframe="1h", start="2024-01-01", seed=11, symbol="SYN")
        >>> loop = make_agent(data, store="sqlite://", run_id="doc", progress=False)
        >>> loop.run(150).step_index
        150
        >>> last = loop.last_record
        >>> last.step, last.analysis.source.value, last.decision.source.value
        (149, 'rules', 'rules')
        >>> len(loop.store.steps("doc"))
        150
        >>> loop.close()
    """

    def __init__(
        self,
        observe: ObserveStage | Callable[..., Any],
        analyze: AnalyzeStage | Callable[..., Any],
        decide: DecideStage | Callable[..., Any],
        execute: ExecuteStage | Callable[..., Any],
        record: RecordStage | Callable[..., Any],
        backend: TradingBackend,
        clock: Clock,
        *,
        run_id: str | None = None,
        view: Any = None,
        every: int = 1,
        start: datetime | None = None,
        on_error: OnError = "stop",
        progress: bool = True,
        callbacks: CallbackLike = None,
        live_interval: timedelta | None = None,
        risk: RiskChain | None = None,
    ) -> None:
        if on_error not in ("stop", "abstain"):
            raise ConfigError(f"on_error must be 'stop' or 'abstain', got {on_error!r}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"every must be an int >= 1, got {every!r}")
        self.observe, self.analyze, self.decide = observe, analyze, decide
        self.execute, self.record = execute, record
        self._stages: dict[StageName, Callable[..., Awaitable[Any]]] = {
            "observe": as_async(observe),
            "analyze": as_async(analyze),
            "decide": as_async(decide),
            "execute": as_async(execute),
            "record": as_async(record),
        }
        self.backend = backend
        self.clock = clock
        self.risk = risk
        resumable = record if isinstance(record, ResumableRecord) else None
        self._resumable = resumable
        rid = run_id if run_id is not None else (resumable.run_id if resumable else None)
        if not rid:
            raise ConfigError(
                "pass run_id=... (the record stage is not a ResumableRecord naming its run)"
            )
        self.run_id: str = rid
        self.view = view
        self.every = every
        self.on_error: OnError = on_error
        self.progress = progress
        self.callback: BaseLoopCallback | None = make_callback(callbacks)
        self.step_index: int = resumable.next_step if resumable else 0
        self.last_record: StepRecord | None = None
        self._prev_equity: float | None = resumable.last_equity if resumable else None
        self._times: list[datetime] | None = None
        self._pos = 0
        if isinstance(clock, SimulatedClock):
            if view is None:
                raise ConfigError(
                    "a SimulatedClock needs view=... (a MarketView) to know the decision times"
                )
            times = view.decision_times(every)
            after = resumable.last_timestamp if resumable else None
            first = pd.Timestamp(clock.now())
            if start is not None:
                first = max(first, pd.Timestamp(start))
            mask = times >= first
            if after is not None:
                mask &= times > pd.Timestamp(after)
            self._times = list(times[mask].to_pydatetime())
        if live_interval is None and view is not None:
            live_interval = view.timeframe.delta * every
        self.live_interval = live_interval
        self._stop = False
        # extra handles make_agent attaches (store, tools, view, ...); None when built by hand
        self.store: Any = None
        self.tools: Any = None
        self.config: dict[str, Any] = {}

    # ------------------------------------------------------------------ schedule

    @property
    def done(self) -> bool:
        """Whether a simulated run has no decision time left."""
        return self._times is not None and self._pos >= len(self._times)

    @property
    def remaining(self) -> int | None:
        """Decision times left (None with a live clock)."""
        return None if self._times is None else len(self._times) - self._pos

    @property
    def next_time(self) -> datetime | None:
        """The next decision time (None when done or live)."""
        if self._times is None or self.done:
            return None
        return self._times[self._pos]

    def _advance(self) -> datetime:
        if self._times is None:
            now = self.clock.now()
        else:
            if self.done:
                raise ConfigError(
                    f"run {self.run_id!r} has no decision time left (stepped {self.step_index} "
                    "times); check loop.done before stepping, or load more data"
                )
            now = self._times[self._pos]
            self._pos += 1
            self.clock.set(now)  # type: ignore[attr-defined]
        return now

    # ------------------------------------------------------------------ one step

    async def _stage(self, name: StageName, *args: Any) -> Any:
        value = await self._stages[name](*args)
        if self.callback is not None and not self.callback.on_stage_end(name, value):
            self._stop = True
        return value

    async def _astep(self, verify: StepRecord | None = None) -> StepRecord | None:
        now = self._advance()
        index = self.step_index
        if self.callback is not None and not self.callback.on_step_start(index, now):
            self._stop = True
            return None
        observation: Observation | None = None
        analysis: Analysis | None = None
        decision: Decision | None = None
        execution: Execution | None = None
        failed: StageName | None = None
        error: BaseException | None = None
        stage: StageName = "observe"
        cancels: tuple[OrderAck, ...] = ()
        try:
            if self.risk is not None:
                # before anything decides: gates see this bar's equity (and a halt cancels)
                marked = await self.risk.mark()
                cancels = tuple(r.ack for r in marked.cancels if r.ack is not None)
            observation = await self._stage("observe", now)
            stage = "analyze"
            analysis = await self._stage("analyze", observation)
            stage = "decide"
            decision = await self._stage("decide", analysis, observation)
            stage = "execute"
            execution = await self._stage("execute", decision, observation)
        except Exception as exc:
            failed, error = stage, exc
        try:
            equity = (await self.backend.query_portfolio()).equity
        except Exception as exc:
            raise StageError(
                f"step {index} of run {self.run_id!r}: cannot read the equity to close the step "
                f"({type(exc).__name__}: {exc}); nothing was recorded",
                step=index,
                stage="record",
            ) from exc
        prev = self._prev_equity if self._prev_equity is not None else equity
        if self._prev_equity is None and observation is not None:
            prev = observation.portfolio.equity
        record = StepRecord(
            run_id=self.run_id,
            step=index,
            timestamp=now,
            # the observation is kept by content: the recorder stores it with the step
            observation_digest="" if observation is None else PROMPTS.put(observation.to_json()),
            analysis=analysis,
            decision=decision,
            verdicts=execution.verdicts if execution is not None else (),
            acks=cancels + (execution.acks if execution is not None else ()),
            fills=execution.fills if execution is not None else (),
            equity=equity,
            pnl=equity - prev,
            gate_states={} if self.risk is None else self.risk.gate_states(),
            gate_transitions=() if self.risk is None else self.risk.drain_transitions(),
            failed_stage=failed,
            error=None if error is None else _error_text(error),
        )
        if verify is not None:
            self._verify(record, verify)
            record = verify
            if self._resumable is not None:
                self._resumable.replay(record)
        else:
            try:
                await self._stages["record"](record)
            except Exception as exc:
                raise StageError(
                    f"step {index} of run {self.run_id!r} could not be recorded "
                    f"({type(exc).__name__}: {exc}); the run stops here",
                    step=index,
                    stage="record",
                ) from exc
        self.step_index = index + 1
        self._prev_equity = record.equity
        self.last_record = record
        if verify is None and self.callback is not None and not self.callback.on_step_end(record):
            self._stop = True
        if error is not None and (self.on_error == "stop" or isinstance(error, _FATAL)):
            raise StageError(
                f"step {index} of run {self.run_id!r} failed in {failed}: {record.error} "
                f"(recorded; on_error={self.on_error!r})",
                step=index,
                stage=failed or "observe",
            ) from error
        return record

    def _verify(self, produced: StepRecord, recorded: StepRecord) -> None:
        fields = ("timestamp", "decision", "verdicts", "acks", "fills", "equity", "failed_stage")
        for name in fields:
            if getattr(produced, name) != getattr(recorded, name):
                raise StageError(
                    f"resuming run {self.run_id!r}: re-running step {recorded.step} gave a "
                    f"different {name} than recorded ({getattr(produced, name)!r} vs "
                    f"{getattr(recorded, name)!r}); the stages are not deterministic. Put the "
                    "LLM behind CachedClient(mode='record') or start a new run.",
                    step=recorded.step,
                    stage="record",
                )

    async def astep(self) -> StepRecord | None:
        """Run one step and return its record (None if a callback skipped it).

        Raises:
            ConfigError: If a simulated run has no decision time left.
            StageError: If a stage failed under ``on_error="stop"``, or recording failed.
        """
        self._stop = False
        return await self._astep()

    def step(self) -> StepRecord | None:
        """Blocking :meth:`astep`."""
        return run_blocking(self.astep())

    # ------------------------------------------------------------------ runs

    async def arun(self, n: int | None = None, *, until: datetime | None = None) -> OADERLoop:
        """Run ``n`` steps (default: every decision time left), or until ``until``.

        Stops early when the decision times run out or a callback returns False.

        Returns:
            The loop itself (``loop.last_record``, ``loop.store.steps(loop.run_id)``).
        """
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ConfigError(f"n must be an int >= 0, got {n!r}")
        if n is None and until is None and self._times is None:
            raise ConfigError("a live loop needs n=... or until=...; it has no last decision time")
        total = n
        if self._times is not None:
            left = self.remaining or 0
            if until is not None:
                cut = pd.Timestamp(until)
                left = sum(1 for t in self._times[self._pos :] if pd.Timestamp(t) <= cut)
            total = left if n is None else min(n, left)
        bar = None
        if self.progress:
            # lazy: tqdm.auto may import ipywidgets (and tqdm ships no type stubs)
            tqdm = importlib.import_module("tqdm.auto").tqdm
            bar = tqdm(total=total, desc=f"OADER {self.run_id}", unit="step", leave=True)
        self._stop = False
        if self.callback is not None:
            self.callback.on_run_start(self)
        done = 0
        try:
            while total is None or done < total:
                if until is not None and self._times is None and self.clock.now() >= until:
                    break
                if done and self._times is None and self.live_interval is not None:
                    await asyncio.sleep(self.live_interval.total_seconds())
                await self._astep()
                done += 1
                if bar is not None:
                    bar.update(1)
                if self._stop:
                    break
        finally:
            if bar is not None:
                bar.close()
            if self.callback is not None:
                self.callback.on_run_end()
        return self

    def run(self, n: int | None = None) -> OADERLoop:
        """Blocking :meth:`arun` over ``n`` steps (default: all that are left)."""
        return run_blocking(self.arun(n))

    def run_until(self, t: datetime) -> OADERLoop:
        """Blocking :meth:`arun` up to and including decision time ``t``."""
        return run_blocking(self.arun(until=t))

    async def afast_forward(self, recorded: Sequence[StepRecord]) -> OADERLoop:
        """Re-run ``recorded`` steps without writing, checking each reproduces its record.

        Raises:
            StageError: If a re-run step differs from its record.
            ConfigError: If the record stage cannot :meth:`rewind` / :meth:`replay`.
        """
        if self._resumable is None:
            raise ConfigError(
                "fast_forward needs a ResumableRecord stage (rewind() and replay(), e.g. "
                "ExplainRecorder)"
            )
        self._resumable.rewind()
        self.step_index = 0
        self._prev_equity = None
        for rec in recorded:
            if self._times is not None and self.next_time != rec.timestamp:
                raise StageError(
                    f"resuming run {self.run_id!r}: step {rec.step} was recorded at "
                    f"{rec.timestamp.isoformat()} but the data's next decision time is "
                    f"{self.next_time}; resume on the same data, start and every",
                    step=rec.step,
                    stage="observe",
                )
            await self._astep(verify=rec)
        return self

    def fast_forward(self, recorded: Sequence[StepRecord]) -> OADERLoop:
        """Blocking :meth:`afast_forward`."""
        return run_blocking(self.afast_forward(recorded))

    def add_callback(self, callback: CallbackLike) -> None:
        """Attach another callback (or plain function of the step record)."""
        made = make_callback(callback)
        if made is None:
            return
        if self.callback is None:
            self.callback = made
        elif isinstance(self.callback, CallbackList):
            self.callback.callbacks.append(made)
        else:
            self.callback = CallbackList([self.callback, made])

    # ------------------------------------------------------------------ housekeeping

    def report(self, **kwargs: Any) -> Any:
        """The explain report of this run (needs ``make_agent``'s store); see ``build_report``."""
        if self.store is None:
            raise ConfigError("this loop has no store attached; build it with make_agent(...)")
        from axon_lab.explain import build_report

        kwargs.setdefault("view", self.view)
        return build_report(self.store, self.run_id, **kwargs)

    def close(self) -> None:
        """Close the attached store, if any."""
        if self.store is not None:
            self.store.close()

    def __repr__(self) -> str:
        where = f", remaining={self.remaining}" if self._times is not None else ", live"
        return f"OADERLoop(run_id={self.run_id!r}, step={self.step_index}{where})"


def _error_text(error: BaseException) -> str:
    """A stage's error as recorded: credentials in URLs redacted, length capped."""
    return clip(redact_secrets(f"{type(error).__name__}: {error}"), MAX_ERROR_CHARS)
