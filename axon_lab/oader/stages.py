"""The five OADER stage protocols, the Execute stage's output, and the stage error.

Each stage is a :class:`typing.Protocol`, so a plain function (sync or ``async``) plugs in where a
class does:

=========  ==================================================  ==========================
stage      call                                                built-in implementation
=========  ==================================================  ==========================
Observe    ``observe(now) -> Observation``                     :class:`ContextBuilder`
Analyze    ``analyze(observation) -> Analysis``                :class:`RulesAnalyst`,
                                                               :class:`ReActAnalyzer`
Decide     ``decide(analysis, observation) -> Decision``       :class:`DecisionEngine`
Execute    ``execute(decision, observation) -> Execution``     :class:`ToolExecutor`
Record     ``record(step_record) -> None``                     :class:`ExplainRecorder`
=========  ==================================================  ==========================

A stage object may also offer ``async def acall(...)`` with the same arguments; the loop prefers
it (the built-in stages do, so one event loop serves a whole run).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict

from axon_lab.errors import ConfigError, StageError
from axon_lab.records import (
    Analysis,
    Decision,
    Fill,
    Observation,
    OrderAck,
    RiskVerdict,
    StepRecord,
)

__all__ = [
    "STAGES",
    "AnalyzeStage",
    "DecideStage",
    "Execution",
    "ExecuteStage",
    "ObserveStage",
    "RecordStage",
    "ResumableRecord",
    "StageError",
    "StageName",
    "as_async",
    "bars_needed",
    "is_driven_inline",
    "run_blocking",
]

# True while run_blocking drives a coroutine inline (inside someone else's running event loop)
_INLINE: contextvars.ContextVar[bool] = contextvars.ContextVar("axon_lab_inline", default=False)


def is_driven_inline() -> bool:
    """Whether the calling coroutine is driven inline by :func:`run_blocking`.

    There it must not suspend on real I/O (nothing would resume it), so a stage that can await
    an async client (e.g. :class:`~axon_lab.oader.ReActAnalyzer`) calls the blocking one
    instead. Under ``asyncio.run`` or ``await loop.arun()`` it is False and stages overlap.
    """
    return _INLINE.get()


_T = TypeVar("_T")

StageName = Literal["observe", "analyze", "decide", "execute", "record"]
STAGES: tuple[StageName, ...] = ("observe", "analyze", "decide", "execute", "record")
"""The stage names, in the order a step runs them (``StepRecord.failed_stage`` uses them)."""


class Execution(BaseModel):
    """What the Execute stage did in one step: every verdict, order ack and fill.

    ``fills`` holds every fill the backend booked since the previous step's Execute stage,
    including fills of orders resting from earlier steps and of bracket exits.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    verdicts: tuple[RiskVerdict, ...] = ()
    acks: tuple[OrderAck, ...] = ()
    fills: tuple[Fill, ...] = ()


@runtime_checkable
class ObserveStage(Protocol):
    """Builds the point-in-time :class:`~axon_lab.records.Observation` at ``now``."""

    def __call__(self, now: datetime, /) -> Observation | Awaitable[Observation]:
        """Observe the market, the portfolio and the strategy state at ``now``."""
        ...


@runtime_checkable
class AnalyzeStage(Protocol):
    """Turns an observation into an :class:`~axon_lab.records.Analysis`."""

    def __call__(self, observation: Observation, /) -> Analysis | Awaitable[Analysis]:
        """Analyse ``observation``."""
        ...


@runtime_checkable
class DecideStage(Protocol):
    """Turns an analysis into a :class:`~axon_lab.records.Decision`."""

    def __call__(
        self, analysis: Analysis, observation: Observation, /
    ) -> Decision | Awaitable[Decision]:
        """Decide what to trade."""
        ...


@runtime_checkable
class ExecuteStage(Protocol):
    """Carries a decision out through the risk chain; returns what happened."""

    def __call__(
        self, decision: Decision, observation: Observation, /
    ) -> Execution | Awaitable[Execution]:
        """Execute ``decision``."""
        ...


@runtime_checkable
class RecordStage(Protocol):
    """Persists a finished step before the next one starts."""

    def __call__(self, step: StepRecord, /) -> Awaitable[None] | None:
        """Record ``step`` durably."""
        ...


@runtime_checkable
class ResumableRecord(RecordStage, Protocol):
    """A record stage that also tells the loop where its run stands, and can replay it.

    The loop reads exactly these members (and only from a record stage that has them all):
    ``run_id`` names the run when the loop is given none; ``next_step``, ``last_timestamp`` and
    ``last_equity`` say where a resumed run continues; :meth:`rewind` and :meth:`replay` let
    :meth:`~axon_lab.oader.OADERLoop.fast_forward` re-run recorded steps without writing them.
    :class:`~axon_lab.oader.ExplainRecorder` is one.
    """

    run_id: str
    next_step: int
    last_timestamp: datetime | None
    last_equity: float | None

    def rewind(self) -> None:
        """Go back to before the run's first step (state only; nothing is deleted)."""
        ...

    def replay(self, step: StepRecord, /) -> None:
        """Take ``step`` as recorded (update state as recording it would, without writing)."""
        ...


def bars_needed(stage: object) -> int:
    """The bars per symbol an Analyze stage reads from its observation (its ``lookback``), or 0.

    A stage that computes from the observation's bars (:class:`~axon_lab.oader.RulesAnalyst`)
    declares how many it needs, so whoever builds its Observe stage gives it at least that many.
    """
    needed = getattr(stage, "lookback", 0)
    return needed if isinstance(needed, int) and not isinstance(needed, bool) else 0


def as_async(stage: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """The stage as an ``async`` callable: its ``acall`` if it has one, else a thin wrapper.

    A sync callable's result is awaited too if it happens to be awaitable.
    """
    acall = getattr(stage, "acall", None)
    if acall is not None and inspect.iscoroutinefunction(acall):
        return acall  # type: ignore[no-any-return]
    if inspect.iscoroutinefunction(stage):
        return stage

    async def call(*args: Any) -> Any:
        result = stage(*args)
        if inspect.isawaitable(result):
            result = await result
        return result

    call.__name__ = getattr(stage, "__name__", type(stage).__name__)
    return call


def run_blocking(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from synchronous code, also inside a running event loop.

    Without a running loop: ``asyncio.run``. Inside one (Jupyter): the coroutine is driven inline
    in this thread, which works because the built-in stages and backends never suspend (their
    ``async`` methods do no I/O); the store, tools and backend stay on the caller's thread, which
    an in-memory SQLite store needs.

    Raises:
        ConfigError: If the coroutine suspends on real I/O while another event loop runs here;
            the step in flight is abandoned unrecorded. Use ``await loop.arun(...)`` instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    token = _INLINE.set(True)
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    finally:
        _INLINE.reset(token)
    coro.close()
    raise ConfigError(
        "a stage or the backend awaits real I/O, which a blocking call cannot wait for inside a "
        "running event loop (e.g. Jupyter); use `await loop.arun(...)` / `await loop.astep()`. "
        "The step in flight was abandoned and not recorded."
    )
