"""Loop callbacks, stable-baselines3 style: public hooks do the bookkeeping, protected ones act.

The loop calls the public hooks; subclasses override the protected ones (``_on_step_start``,
``_on_stage_end``, ``_on_step_end``, ``_on_run_start``, ``_on_run_end``). A step hook that returns
``False`` stops the run; a step is never cut in half: stopping from ``on_stage_end`` lets the step
finish and be recorded, stopping from ``on_step_start`` skips the step entirely.

A plain callable ``fn(step_record) -> bool | None`` is accepted wherever a callback is, and runs at
step end (:class:`FunctionCallback`).

Examples:
    >>> class StopAfter(BaseLoopCallback):
    ...     def __init__(self, n):
    ...         super().__init__()
    ...         self.n = n
    ...     def _on_step_end(self, record):
    ...         return self.n_steps < self.n
    >>> cb = make_callback([StopAfter(2), lambda record: None])
    >>> type(cb).__name__, len(cb.callbacks)
    ('CallbackList', 2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord

from .stages import StageName

if TYPE_CHECKING:
    from .loop import OADERLoop

__all__ = [
    "BaseLoopCallback",
    "CallbackList",
    "CallbackLike",
    "FunctionCallback",
    "make_callback",
]


class BaseLoopCallback:
    """Base of loop callbacks; override the protected hooks you need.

    Attributes:
        loop: The loop the callback follows (set when a run starts).
        n_steps: Steps finished since the callback was attached.
    """

    def __init__(self) -> None:
        self.loop: OADERLoop | None = None
        self.n_steps = 0

    # ------------------------------------------------------------------ public hooks
    def on_run_start(self, loop: OADERLoop) -> None:
        """A run (``run``, ``run_until``, ``arun``) is starting."""
        self.loop = loop
        self._on_run_start()

    def on_step_start(self, step: int, now: datetime) -> bool:
        """Step ``step`` is about to run at ``now``; False skips it and stops the run."""
        return self._on_step_start(step, now) is not False

    def on_stage_end(self, stage: StageName, value: Any) -> bool:
        """A stage returned ``value``; False stops the run after this step is recorded."""
        return self._on_stage_end(stage, value) is not False

    def on_step_end(self, record: StepRecord) -> bool:
        """The step was recorded; False stops the run."""
        self.n_steps += 1
        return self._on_step_end(record) is not False

    def on_run_end(self) -> None:
        """The run ended (finished, stopped by a callback, or by an error)."""
        self._on_run_end()

    # ------------------------------------------------------------------ protected hooks
    def _on_run_start(self) -> None:
        """Override: a run starts (``self.loop`` is set)."""

    def _on_step_start(self, step: int, now: datetime) -> bool | None:
        """Override: a step starts; return False to stop."""
        return None

    def _on_stage_end(self, stage: StageName, value: Any) -> bool | None:
        """Override: a stage ended; return False to stop after this step."""
        return None

    def _on_step_end(self, record: StepRecord) -> bool | None:
        """Override: a step was recorded; return False to stop."""
        return None

    def _on_run_end(self) -> None:
        """Override: the run ended."""


class CallbackList(BaseLoopCallback):
    """Several callbacks called in order; any False stops the run (all are still called)."""

    def __init__(self, callbacks: Iterable[BaseLoopCallback]) -> None:
        super().__init__()
        self.callbacks = list(callbacks)

    def on_run_start(self, loop: OADERLoop) -> None:
        """Forward to every callback."""
        self.loop = loop
        for cb in self.callbacks:
            cb.on_run_start(loop)

    def on_step_start(self, step: int, now: datetime) -> bool:
        """Forward to every callback."""
        return all(cb.on_step_start(step, now) for cb in self.callbacks)

    def on_stage_end(self, stage: StageName, value: Any) -> bool:
        """Forward to every callback."""
        return all(cb.on_stage_end(stage, value) for cb in self.callbacks)

    def on_step_end(self, record: StepRecord) -> bool:
        """Forward to every callback."""
        self.n_steps += 1
        return all(cb.on_step_end(record) for cb in self.callbacks)

    def on_run_end(self) -> None:
        """Forward to every callback."""
        for cb in self.callbacks:
            cb.on_run_end()


class FunctionCallback(BaseLoopCallback):
    """A plain function called with each recorded step; returning False stops the run."""

    def __init__(self, fn: Callable[[StepRecord], bool | None]) -> None:
        super().__init__()
        self.fn = fn

    def _on_step_end(self, record: StepRecord) -> bool | None:
        return self.fn(record)

    def __repr__(self) -> str:
        return f"FunctionCallback({getattr(self.fn, '__name__', self.fn)!r})"


CallbackLike: TypeAlias = (
    BaseLoopCallback
    | Callable[[StepRecord], "bool | None"]
    | Iterable["BaseLoopCallback | Callable[[StepRecord], bool | None]"]
    | None
)


def make_callback(callback: CallbackLike) -> BaseLoopCallback | None:
    """Normalise a callback, a plain function, or a list of them into one callback (or None).

    Raises:
        ConfigError: If an item is neither a callback nor callable.
    """
    if callback is None:
        return None
    if isinstance(callback, BaseLoopCallback):
        return callback
    if callable(callback):
        return FunctionCallback(callback)
    items: list[BaseLoopCallback] = []
    for item in callback:
        made = make_callback(item)
        if made is None:
            raise ConfigError(f"callback {item!r} is neither a BaseLoopCallback nor callable")
        items.append(made)
    if not items:
        return None
    return items[0] if len(items) == 1 else CallbackList(items)
