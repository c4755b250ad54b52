"""`ScriptedClient`: a client that answers from a script, for tests (like httpx's MockTransport)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeAlias

from axon_lab.errors import ConfigError, LLMError
from axon_lab.llm._client import BaseLLMClient
from axon_lab.llm._request import LLMRequest
from axon_lab.llm._response import LLMResponse, Usage
from axon_lab.records import ToolCall

__all__ = ["ScriptedClient", "make_response"]

ScriptItem: TypeAlias = "LLMResponse | str | Exception"
ScriptFunction: TypeAlias = Callable[[LLMRequest], "LLMResponse | str"]


def make_response(
    text: str = "",
    *,
    tool_calls: Iterable[ToolCall] = (),
    model: str = "scripted",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    finish_reason: str | None = "stop",
) -> LLMResponse:
    """Build a response by hand (for scripts and tests).

    Examples:
        >>> make_response("hi", prompt_tokens=3).usage.prompt_tokens
        3
    """
    calls = tuple(tool_calls)
    return LLMResponse(
        text=text,
        tool_calls=calls,
        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
        model=model,
        finish_reason="tool_calls" if calls and finish_reason == "stop" else finish_reason,
        raw=text,
    )


class ScriptedClient(BaseLLMClient):
    """Answers each call with the next scripted item, or with a function of the request.

    Args:
        script: A sequence of responses (an ``LLMResponse``, a plain string, or an exception to
            raise), used in order; or a function ``request -> LLMResponse | str``.
        model: The model name responses carry.
        keep: How many of the latest requests :attr:`requests` holds (None: all). A function
            script answering every bar of a long backtest would otherwise hold every prompt.

    Attributes:
        requests: The requests received, in order: all of them, or at least the latest ``keep``.
        n_requests: How many requests were received in all.

    Examples:
        >>> client = ScriptedClient(["first", "second"])
        >>> [client.complete([{"role": "user", "content": "?"}]).text for _ in range(2)]
        ['first', 'second']
        >>> client.complete([{"role": "user", "content": "?"}])
        Traceback (most recent call last):
        ...
        axon_lab.errors.LLMError: ScriptedClient script exhausted after 2 responses; add more.
        >>> echo = ScriptedClient(lambda req: req.messages[-1]["content"].upper())
        >>> echo.complete([{"role": "user", "content": "hi"}]).text
        'HI'
    """

    def __init__(
        self,
        script: Iterable[ScriptItem] | ScriptFunction,
        *,
        model: str = "scripted",
        keep: int | None = 10_000,
    ) -> None:
        super().__init__(model)
        if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
            raise ConfigError(f"keep must be a positive int or None (keep all), got {keep!r}.")
        self._keep = keep
        self._function: ScriptFunction | None = None
        self._items: list[ScriptItem] = []
        if callable(script):
            self._function = script
        else:
            self._items = list(script)
        self._next = 0
        self._lock = threading.Lock()
        self.requests: list[LLMRequest] = []
        self.n_requests = 0

    @property
    def remaining(self) -> int:
        """How many scripted items are left (0 for a function script)."""
        return len(self._items) - self._next

    def _send(self, request: LLMRequest) -> LLMResponse:
        with self._lock:
            self.requests.append(request)
            self.n_requests += 1
            if self._keep is not None and len(self.requests) >= 2 * self._keep:
                del self.requests[: -self._keep]  # (amortised: one trim per keep requests)
            if self._function is None:
                if self._next >= len(self._items):
                    raise LLMError(
                        f"ScriptedClient script exhausted after {len(self._items)} responses; "
                        "add more."
                    )
                item: ScriptItem = self._items[self._next]
                self._next += 1
        if self._function is not None:
            item = self._function(request)
        if isinstance(item, Exception):
            raise item
        if isinstance(item, str):
            return make_response(item, model=self.model)
        return item

    async def _asend(self, request: LLMRequest) -> LLMResponse:
        # answered in-process at once: no worker thread (the base class's default for blocking
        # network clients), so a scripted async run costs what a blocking one does
        return self._send(request)
