"""The axon_lab exception hierarchy.

Every error axon_lab raises on purpose is an :class:`AxonError`. Messages follow one rule: say what
failed, show the offending value, and name the fix. Errors from third-party libraries are mapped at
the boundary (``raise DataError(...) from exc``) so callers only ever need to catch ours.

A risk rejection is *not* an exception: it is a recorded :class:`~axon_lab.records.RiskVerdict`.

Hierarchy::

    AxonError
    ├── ConfigError            bad arguments or settings passed to an axon_lab API
    │   └── MissingDependencyError   an optional extra is not installed
    ├── RecordError            a record (records.py) was built with an invalid value
    ├── DataError              market data that cannot be loaded or fails validation
    │   └── LookAheadError     a read asked for data after the point-in-time cut
    ├── ToolError              a tool call with bad arguments or a failed execution
    ├── BackendError           a trading backend failed or refused an operation
    │   └── OrderStateError    an invalid order state transition
    ├── LLMError               an LLM call failed or returned unusable output
    │   ├── LLMTimeoutError
    │   ├── LLMResponseError   the server's body is not a usable chat completion
    │   ├── LLMOutputError     the model's answer breaks the output contract
    │   ├── LLMToolCallError   a call to an unknown tool, or arguments that are not JSON
    │   ├── CacheMissError     replay mode found no recorded response
    │   └── BudgetExceededError
    ├── StoreError             the explain store could not read or write
    ├── EvaluationError        a statistic of the evaluation got input it cannot use
    └── StageError             an OADER stage raised and the loop's policy stopped the run
"""

from __future__ import annotations

__all__ = [
    "AxonError",
    "BackendError",
    "BudgetExceededError",
    "CacheMissError",
    "ConfigError",
    "DataError",
    "EvaluationError",
    "LLMError",
    "LLMOutputError",
    "LLMResponseError",
    "LLMTimeoutError",
    "LLMToolCallError",
    "LookAheadError",
    "MissingDependencyError",
    "OrderStateError",
    "RecordError",
    "StageError",
    "StoreError",
    "ToolError",
]


class AxonError(Exception):
    """Base class of every error axon_lab raises on purpose."""


class ConfigError(AxonError, ValueError):
    """An axon_lab API got an argument or setting it cannot use."""


class MissingDependencyError(ConfigError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class RecordError(AxonError, ValueError):
    """A record was built with an invalid value; the message names the field and the value."""


class DataError(AxonError, ValueError):
    """Market data could not be loaded or failed validation."""


class LookAheadError(DataError):
    """A point-in-time read asked for information from after its cut-off time."""


class ToolError(AxonError):
    """A tool was called with invalid arguments or failed to execute."""


class BackendError(AxonError):
    """A trading backend failed or refused an operation."""


class OrderStateError(BackendError):
    """An order was asked to make a state transition its state machine does not allow."""


class LLMError(AxonError):
    """An LLM call failed, or its output could not be used.

    A client that retries sets ``attempts`` (how many were made) and ``retry_errors`` (why each
    earlier one failed) on the error it finally raises, so the failed call is recorded whole.
    """

    attempts: int = 1
    retry_errors: tuple[str, ...] = ()


class LLMTimeoutError(LLMError, TimeoutError):
    """An LLM call did not finish within its timeout."""


class LLMResponseError(LLMError):
    """The server answered, but its body is not a usable chat completion.

    Raised for an HTML page, invalid UTF-8, truncated JSON or an empty ``choices`` list.
    """


class LLMOutputError(LLMError):
    """The model's answer does not satisfy the output contract (e.g. the Analysis JSON)."""


class LLMToolCallError(LLMError):
    """The model called a tool that does not exist, or passed arguments that are not JSON."""


class CacheMissError(LLMError):
    """Replay mode found no recorded response for a request; the message names the key."""


class BudgetExceededError(LLMError):
    """The next LLM call would push the run's cost past its budget cap."""


class StoreError(AxonError):
    """The explain store could not read or write."""


class EvaluationError(AxonError, ValueError):
    """An evaluation statistic got input it cannot use (too few values, NaN, a bad level).

    The message names the argument, its value and the fix.
    """


class StageError(AxonError):
    """A stage raised and the loop's ``on_error="stop"`` policy stopped the run.

    The failed step is recorded (``failed_stage`` and ``error`` set) before this is raised, except
    when the Record stage itself failed. ``step`` and ``stage`` name where it happened.
    """

    def __init__(self, message: str, *, step: int, stage: str) -> None:
        super().__init__(message)
        self.step = step
        self.stage = stage
