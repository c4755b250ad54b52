"""LoopStepper: Step, Run N, Pause, Reset and speed controls over an OADER loop, with a live chart.

The stepper only calls the loop (``astep``, ``step``) and renders what the loop records: a
:class:`LoopFollower` attached to the loop with ``loop.add_callback`` hands each committed step to
the chart and to any other view, whoever ran the step (a button, or ``loop.run(...)`` in a cell).

How Run N keeps the kernel free. A blocking run would hold the kernel until it ends, and a
Pause click would wait in the queue behind it. So inside a running event loop (a Jupyter or Voilà
kernel), Run N starts an ``asyncio`` task on the kernel's loop and returns at once. The task runs
one step, then ``await asyncio.sleep(1 / speed)``; while it sleeps the kernel handles widget
messages, so a Pause click sets a flag that the task reads before its next step. The views are
refreshed after a batch of steps (at most every ``flush_every`` seconds) and when the run ends.
Without a running event loop (a script, a test), Run N runs the same coroutine to completion.

Button callbacks write to the log with ``log.append_stdout(...)``, never ``with log: print(...)``,
which captures differently under nbval, nbclient and a real frontend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from axon_lab.errors import AxonError
from axon_lab.records import StepRecord

from ._chart import LiveEquityChart
from ._common import BaseView, fmt_num, ipywidgets
from ._confirm import ConfirmationPanel
from ._follow import LoopFollower

if TYPE_CHECKING:
    from axon_lab.oader import OADERLoop

__all__ = ["LoopStepper"]


class LoopStepper(BaseView):
    """Buttons that drive a loop, a progress bar, a status line, a live equity chart and a log.

    Args:
        loop: The loop to drive (e.g. from :func:`~axon_lab.oader.make_agent`).
        factory: Builds a fresh loop for Reset (e.g. ``lambda: make_agent(...)`` with a new
            run id); without one, Reset is disabled.
        views: More views fed with each recorded step (the chart is always fed).
        n: The initial value of the Run N input.
        speed: Steps per second of Run N (the slider's initial value).
        flush_every: Least seconds between two view refreshes during a run.

    Attributes:
        loop: The loop driven now (Reset replaces it).
        chart: The live equity chart.
        confirmations: Orders waiting for two-phase confirmation, with Confirm and Deny.
        follower: The callback attached to the loop.
        step_button, run_button, pause_button, reset_button: The buttons.
        n_input: Steps for Run N. speed_slider: Steps per second.
        progress: Steps done out of all decision times. status: A status line.
        log: An ``Output`` with one line per action.
        task: The running Run N task, if any.
        locked: When True the buttons are disabled (a dashboard showing another run).
        on_reset: Functions called with the new loop after a Reset.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import make_agent
        >>> loop = make_agent(make_synthetic(80, timeframe="1h", seed=1, symbol="SYN"),
        ...                   store="sqlite://", run_id="doc", progress=False)
        >>> stepper = LoopStepper(loop)
        >>> stepper.step_button.click()
        >>> stepper.chart.steps, loop.step_index
        ([0], 1)
        >>> loop.close()
    """

    def __init__(
        self,
        loop: OADERLoop,
        *,
        factory: Callable[[], OADERLoop] | None = None,
        views: Sequence[BaseView] = (),
        n: int = 20,
        speed: float = 20.0,
        flush_every: float = 0.25,
    ) -> None:
        w = ipywidgets()
        self.loop = loop
        self.factory = factory
        self.chart = LiveEquityChart()
        self.confirmations = ConfirmationPanel(_queue(loop))
        self.follower = LoopFollower(
            [self.chart, self.confirmations, *views], flush_every=flush_every
        )
        self.task: asyncio.Task[int] | None = None
        self.on_reset: list[Callable[[OADERLoop], None]] = []
        self.locked = False
        self._paused = False
        button = w.Layout(width="auto")
        self.step_button = w.Button(description="Step", icon="step-forward", layout=button)
        self.run_button = w.Button(description="Run N", icon="play", layout=button)
        self.pause_button = w.Button(
            description="Pause", icon="pause", disabled=True, layout=button
        )
        self.reset_button = w.Button(
            description="Reset",
            icon="undo",
            disabled=factory is None,
            tooltip="rebuild the loop (a new run)" if factory else "pass factory=... to reset",
            layout=button,
        )
        self.n_input = w.BoundedIntText(
            value=n, min=1, max=1_000_000, description="N", layout=w.Layout(width="140px")
        )
        self.speed_slider = w.FloatLogSlider(
            value=speed, base=10, min=0, max=3, step=0.1, description="steps/s"
        )
        self.progress = w.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = w.HTML()
        self.log = w.Output(layout=w.Layout(max_height="160px", overflow="auto"))
        self.step_button.on_click(lambda _b: self.step())
        self.run_button.on_click(lambda _b: self.run(self.n_input.value))
        self.pause_button.on_click(lambda _b: self.pause())
        self.reset_button.on_click(lambda _b: self.reset())
        controls = w.HBox(
            [
                self.step_button,
                self.n_input,
                self.run_button,
                self.pause_button,
                self.reset_button,
                self.speed_slider,
            ]
        )
        self.widget = w.VBox(
            [
                controls,
                w.HBox([self.progress, self.status]),
                self.confirmations.widget,
                self.chart.widget,
                self.log,
            ]
        )
        self.widget.add_class("axon-loop-stepper")
        self.follower.on_flush.append(self._update_status)
        loop.add_callback(self.follower)
        self._update_status()

    # ------------------------------------------------------------------ state shown

    @property
    def is_running(self) -> bool:
        """Whether a Run N task is in flight."""
        return self.task is not None and not self.task.done()

    def _update_status(self) -> None:
        loop = self.loop
        done = loop.step_index
        remaining = loop.remaining
        total = done + remaining if remaining is not None else max(done, 1)
        self.progress.max = max(total, 1)
        self.progress.value = min(done, self.progress.max)
        last = loop.last_record
        equity = f" · equity {fmt_num(last.equity)}" if last is not None else ""
        where = f"{done} of {total}" if remaining is not None else f"{done} (live)"
        state = " · running" if self.is_running else (" · done" if loop.done else "")
        self.status.value = f"run <code>{loop.run_id}</code> · step {where}{equity}{state}"
        busy = self.is_running
        self.step_button.disabled = self.locked or busy or loop.done
        self.run_button.disabled = self.locked or busy or loop.done
        self.pause_button.disabled = not busy
        self.reset_button.disabled = self.locked or self.factory is None

    def refresh(self) -> None:
        """Refresh the progress bar, the status line and which buttons are enabled."""
        self._update_status()

    def _log_step(self, record: StepRecord) -> None:
        action = record.decision.action.value if record.decision is not None else "no decision"
        rejected = f", {len(record.rejections)} rejected" if record.rejections else ""
        self.log.append_stdout(
            f"step {record.step} {record.timestamp:%Y-%m-%d %H:%M}: {action}{rejected}, "
            f"equity {record.equity:,.2f}\n"
        )

    # ------------------------------------------------------------------ actions

    def step(self) -> StepRecord | None:
        """Run one step (the Step button); return its record (None if it was skipped)."""
        if self.is_running:
            self.log.append_stdout("a run is in progress; pause it first\n")
            return None
        try:
            record = self.loop.step()
        except AxonError as exc:
            self.log.append_stderr(f"step failed: {exc}\n")
            record = None
        self.follower.flush()
        if record is not None:
            self._log_step(record)
        self._update_status()
        return record

    async def arun(self, n: int) -> int:
        """Run up to ``n`` steps, sleeping ``1 / speed`` seconds between them; return steps run.

        Stops early when paused, when the decision times run out, or when a step fails (the
        error is logged).
        """
        self._paused = False
        self.log.append_stdout(f"running {n} steps\n")
        done = 0
        self.follower.on_run_start(self.loop)
        try:
            while done < n and not self._paused and not self.loop.done:
                try:
                    record = await self.loop.astep()
                except AxonError as exc:
                    self.log.append_stderr(f"step failed: {exc}\n")
                    break
                done += 1
                if record is None:
                    break
                self._update_status()
                await asyncio.sleep(1.0 / self.speed_slider.value)
        finally:
            self.follower.flush()
            why = "paused" if self._paused else "done"
            self.log.append_stdout(f"{why} after {done} steps (step {self.loop.step_index})\n")
        return done

    def run(self, n: int) -> asyncio.Task[int] | int:
        """Run N (the Run N button): a task on the running event loop, else run to the end.

        Returns:
            The task (inside a running event loop), else the number of steps run.
        """
        if self.is_running:
            self.log.append_stdout("a run is in progress\n")
            return 0
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(n))
        self.task = running.create_task(self.arun(n))
        self.task.add_done_callback(lambda _t: self._update_status())
        self._update_status()
        return self.task

    def pause(self) -> None:
        """Pause a Run N: it stops before its next step (the Pause button)."""
        self._paused = True
        self.log.append_stdout("pause requested\n")

    def reset(self) -> OADERLoop | None:
        """Build a fresh loop with ``factory`` and follow it (the Reset button).

        The old loop is left as is (its run stays in the store). Returns the new loop, or None
        without a factory or while a run is in progress.
        """
        if self.factory is None:
            self.log.append_stdout("reset needs factory=...\n")
            return None
        if self.is_running:
            self.pause()
            self.log.append_stdout("a run is in progress; reset again once it paused\n")
            return None
        try:
            loop = self.factory()
        except AxonError as exc:
            self.log.append_stderr(f"reset failed: {exc}\n")
            return None
        self.loop = loop
        self.confirmations.queue = _queue(loop)
        self.follower.pending = []
        loop.add_callback(self.follower)
        for view in self.follower.views:
            view.clear()
        for hook in self.on_reset:
            hook(loop)
        self.log.append_stdout(f"reset: new run {loop.run_id}\n")
        self._update_status()
        return loop

    # ------------------------------------------------------------------ views

    def add(self, records: Sequence[StepRecord]) -> None:
        """Feed records to the chart and views (what the follower does)."""
        for view in self.follower.views:
            view.add(records)
        self._update_status()

    def clear(self) -> None:
        """Clear the chart and views."""
        for view in self.follower.views:
            view.clear()

    def resync(self) -> None:
        """Re-sync the chart before display."""
        self.chart.resync()
        self._update_status()


def _queue(loop: OADERLoop) -> Any:
    """The loop's confirmation queue, if its Execute stage has one."""
    return getattr(loop.execute, "confirmations", None)
