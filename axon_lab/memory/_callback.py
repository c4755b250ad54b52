"""The loop callback that feeds a memory the steps' actions and equity, and saves it."""

from __future__ import annotations

from axon_lab.oader.callbacks import BaseLoopCallback
from axon_lab.records import StepRecord

from ._memory import Memory

__all__ = ["MemoryCallback"]


class MemoryCallback(BaseLoopCallback):
    """Tell ``memory`` each recorded step; save it when a run ends (if it has a directory).

    ``make_agent(..., memory=...)`` adds one; add it yourself when you build the stages by hand.
    """

    def __init__(self, memory: Memory) -> None:
        super().__init__()
        self.memory = memory

    def _on_step_end(self, record: StepRecord) -> None:
        self.memory.on_step_end(record)

    def _on_run_end(self) -> None:
        if self.memory.path is not None:
            self.memory.save()

    def __repr__(self) -> str:
        return f"MemoryCallback({self.memory.name!r})"
