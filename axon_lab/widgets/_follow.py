"""LoopFollower: the loop callback that hands recorded steps to views, a batch at a time.

The loop calls :meth:`~axon_lab.oader.BaseLoopCallback.on_step_end` after each step is committed;
the follower queues the record and hands the queue to its views when ``flush_every`` seconds have
passed since the last hand-over, when a run ends, or when :meth:`LoopFollower.flush` is called.
Batching keeps a fast run from redrawing the views at every step. The follower never stops a run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from axon_lab.oader.callbacks import BaseLoopCallback
from axon_lab.records import StepRecord

from ._common import BaseView

__all__ = ["LoopFollower"]


class LoopFollower(BaseLoopCallback):
    """Queue each recorded step and hand batches of them to views.

    Args:
        views: The views to feed (more can be appended to ``views`` later).
        flush_every: Least seconds between two hand-overs while a run goes on.
        clock: A monotonic time source (tests pass a fake one).

    Attributes:
        views: The fed views.
        pending: Records not yet handed over.
        enabled: When False, steps are ignored (a dashboard browsing another run).
        on_flush: Functions called after each hand-over (e.g. to refresh a status line).

    Examples:
        >>> follower = LoopFollower([], flush_every=0.0)
        >>> follower.pending, follower.flush()
        ([], 0)
    """

    def __init__(
        self,
        views: Iterable[BaseView] = (),
        *,
        flush_every: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.views: list[BaseView] = list(views)
        self.pending: list[StepRecord] = []
        self.enabled = True
        self.flush_every = flush_every
        self._clock = clock
        self.on_flush: list[Callable[[], None]] = []
        self._last = -float("inf")

    def _on_step_end(self, record: StepRecord) -> bool | None:
        if self.enabled:
            self.pending.append(record)
            if self._clock() - self._last >= self.flush_every:
                self.flush()
        return None

    def _on_run_end(self) -> None:
        self.flush()

    def flush(self) -> int:
        """Hand the queued records to every view now; return how many there were."""
        batch, self.pending = self.pending, []
        self._last = self._clock()
        if batch:
            for view in self.views:
                view.add(batch)
            for hook in self.on_flush:
                hook()
        return len(batch)
