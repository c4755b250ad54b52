"""Record: :class:`ExplainRecorder` commits each step to the explain store before the next begins.

It also answers the Observe stage's question "what has the strategy done so far?"
(:class:`~axon_lab.records.StrategyState`) from memory, updated as each step is committed, so the
loop never re-reads the whole run per step. A recorder opened on an existing run starts from the
store's :meth:`~axon_lab.explain.ExplainStore.resume` point.

With each step it stores what the step's stages saw, by content: the observation (its digest is
the step's ``observation_digest``) and every part of every LLM request (``LLMCall.request_parts``),
taken from the process's :data:`~axon_lab.llm.PROMPTS`; a part the run already stored is not
stored again. ``axon_lab.explain.prompts_for_order`` and ``observation`` read them back.

In an async loop the commit runs inline (the loop never suspends, which ``run_blocking`` in a
notebook needs) unless ``offload`` is set: then it runs in a worker thread while the event loop
serves other runs (an evaluation's concurrent windows), and the step still waits for it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from axon_lab.errors import ConfigError
from axon_lab.llm import PROMPTS
from axon_lab.records import StepRecord, StrategyState

if TYPE_CHECKING:  # the store imports SQLAlchemy; keep `import axon_lab.oader` light
    from axon_lab.explain import ExplainStore

__all__ = ["ExplainRecorder"]

# Every finite float is an integer multiple of 2**-1074, so a sum of floats held as an integer
# count of 2**-1074 is exact, and int / int is correctly rounded in Python: the running sum
# equals math.fsum of the same values (what the store computes) at every step. Fraction does the
# same exactly, at ~5x the cost per step; math.fsum would re-add the whole run each time.
_UNIT_BITS = 1074
_UNIT = 1 << _UNIT_BITS


def _units(x: float) -> int:
    """``x`` as an exact integer count of ``2**-1074``."""
    num, den = x.as_integer_ratio()  # den is a power of two <= 2**1074
    return num << (_UNIT_BITS + 1 - den.bit_length())


def _seen(step: StepRecord) -> list[str]:
    """The digests of what the step's stages saw: its observation and each request's parts."""
    digests = [step.observation_digest] if step.observation_digest else []
    if step.analysis is not None:
        for call in step.analysis.llm_calls:
            digests.extend(call.request_parts)
    if step.portfolio is not None and step.portfolio.decision is not None:
        for call in step.portfolio.decision.llm_calls:  # a portfolio step's LLM calls
            digests.extend(call.request_parts)
    return digests


class ExplainRecorder:
    """The Record stage: ``store.record_step`` (one committed transaction) per step.

    Args:
        store: The explain store.
        run_id: The run to record into; it must exist (``store.create_run``).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from axon_lab.explain import ExplainStore
        >>> store = ExplainStore("sqlite://")
        >>> _ = store.create_run({}, run_id="r", data_fingerprint="-", model="rules")
        >>> record = ExplainRecorder(store, "r")
        >>> record(StepRecord(run_id="r", step=0, timestamp=datetime(2024, 1, 1,
        ...        tzinfo=timezone.utc), observation_digest="d", equity=100.0, pnl=1.5))
        >>> record.state.step_count, record.state.cumulative_pnl
        (1, 1.5)
        >>> store.close()
    """

    def __init__(self, store: ExplainStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        point = store.resume(run_id)
        self.next_step = point.next_step
        self.last_timestamp = point.last_timestamp
        self.last_equity = point.last_equity
        self._state = point.state
        # exact running sum (see _units): the state equals what store.strategy_state() computes,
        # also after a resume
        self._pnl_units = _units(point.state.cumulative_pnl)
        # what this recorder has stored already: a part sent at every step (the system prompt,
        # the tool schemas) is compressed and written once, not once per step
        self._kept: set[str] = set()

    @property
    def state(self) -> StrategyState:
        """Step count, last action and cumulative PnL after the last committed step."""
        return self._state

    def strategy_state(self) -> StrategyState:
        """The Observe stage's hook: the current :attr:`state`."""
        return self._state

    offload = False
    """Commit in a worker thread in async loops (set it when other runs share the event loop)."""

    async def acall(self, step: StepRecord) -> None:
        """Async :meth:`__call__`: inline, or in a worker thread when :attr:`offload` is set.

        A cancelled step still waits for a commit in flight, so the store is never closed
        under it (the step is then recorded; a resume starts after it).
        """
        if not self.offload:
            self(step)
            return
        commit = asyncio.get_running_loop().run_in_executor(None, self, step)
        try:
            await asyncio.shield(commit)
        except asyncio.CancelledError:
            await asyncio.wait([commit])
            raise

    def __call__(self, step: StepRecord) -> None:
        """Commit ``step``; returns once it is durable.

        Raises:
            ConfigError: If the step belongs to another run or is out of order.
            StoreError: If the write fails.
        """
        if step.run_id != self.run_id:
            raise ConfigError(
                f"step of run {step.run_id!r} given to the recorder of run {self.run_id!r}"
            )
        if step.step != self.next_step:
            raise ConfigError(
                f"step {step.step} recorded out of order; run {self.run_id!r} expects step "
                f"{self.next_step} next"
            )
        blobs = PROMPTS.take(d for d in _seen(step) if d not in self._kept)
        self.store.record_step(step, blobs=blobs)
        self._kept.update(blobs)
        self.replay(step)

    def rewind(self) -> None:
        """Forget the state, as before step 0 (the loop re-runs recorded steps to resume)."""
        self.next_step = 0
        self.last_timestamp = None
        self.last_equity = None
        self._state = StrategyState()
        self._pnl_units = 0

    def replay(self, step: StepRecord) -> None:
        """Update the state with an already committed ``step`` (no write)."""
        action = None
        if step.decision is not None:
            action = step.decision.action
        elif step.analysis is not None:
            action = step.analysis.action
        self._pnl_units += _units(step.pnl)
        self._state = StrategyState(
            step_count=self._state.step_count + 1,
            last_action=action,
            cumulative_pnl=self._pnl_units / _UNIT,
        )
        self.next_step = step.step + 1
        self.last_timestamp = step.timestamp
        self.last_equity = step.equity

    def __repr__(self) -> str:
        return f"ExplainRecorder({self.store!r}, run_id={self.run_id!r})"
