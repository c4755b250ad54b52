"""The seam: the :class:`LLMClient` protocol consumers depend on, and :class:`BaseLLMClient`.

Consumers (the Analyze stage, notebooks) type against :class:`LLMClient`, so any object with a
``model`` attribute and ``complete``/``acomplete`` methods plugs in. Implementers subclass
:class:`BaseLLMClient` and write one method, :meth:`BaseLLMClient._send`; the base validates the
request, hashes it, limits concurrency, stamps latency and offers batch calls.
"""

from __future__ import annotations

import abc
import asyncio
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Protocol, overload, runtime_checkable

from axon_lab.errors import ConfigError, LLMError
from axon_lab.llm._archive import request_parts
from axon_lab.llm._request import LLMRequest
from axon_lab.llm._response import LLMResponse

__all__ = ["BaseLLMClient", "LLMClient", "send_request", "asend_request"]


@runtime_checkable
class LLMClient(Protocol):
    """Anything that completes chat messages: the one seam between agents and models."""

    @property
    def model(self) -> str:
        """The model requests are sent to."""
        ...

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> LLMResponse:
        """Complete ``messages`` and return the frozen response."""
        ...

    async def acomplete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> LLMResponse:
        """Async twin of :meth:`complete`."""
        ...


def send_request(client: LLMClient, request: LLMRequest) -> LLMResponse:
    """Send an already-built request through any client (fast path for :class:`BaseLLMClient`)."""
    if isinstance(client, BaseLLMClient):
        return client.send(request)
    return client.complete(
        request.messages,
        tools=request.tools,
        response_format=request.response_format,
        **request.params,
    )


async def asend_request(client: LLMClient, request: LLMRequest) -> LLMResponse:
    """Async twin of :func:`send_request`."""
    if isinstance(client, BaseLLMClient):
        return await client.asend(request)
    return await client.acomplete(
        request.messages,
        tools=request.tools,
        response_format=request.response_format,
        **request.params,
    )


def _check_limit(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    return value


class BaseLLMClient(abc.ABC):
    """Base class for clients: subclasses implement :meth:`_send` (and optionally :meth:`_asend`).

    Args:
        model: The model requests are sent to.
        max_concurrency: At most this many calls of this client are in flight at once, across
            threads; it is also the default width of :meth:`complete_many`.

    Examples:
        >>> class EchoClient(BaseLLMClient):
        ...     def _send(self, request):
        ...         return LLMResponse(text=request.messages[-1]["content"], model=self.model)
        >>> EchoClient("echo").complete([{"role": "user", "content": "hi"}]).text
        'hi'
    """

    def __init__(self, model: str, *, max_concurrency: int = 8) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"model must be a non-empty string, got {model!r}.")
        self._model = model
        self.max_concurrency = _check_limit(max_concurrency, "max_concurrency")
        self._slots = threading.BoundedSemaphore(self.max_concurrency)

    @property
    def model(self) -> str:
        """The model requests are sent to."""
        return self._model

    @property
    def endpoint(self) -> str:
        """Where requests go, as the cache keys them ("" for an in-process client).

        A server client returns its API root (credentials removed), a wrapper its inner client's
        endpoint, so a cache never answers one server's request with another's response.
        """
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self._model!r})"

    # ------------------------------------------------------------------ single calls

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> LLMResponse:
        """Complete chat ``messages``.

        Args:
            messages: Chat messages in the OpenAI format.
            tools: OpenAI tool schemas the model may call.
            response_format: Structured-output request (see :func:`json_schema_format`).
            **params: Body parameters such as ``temperature``, ``max_tokens``, ``seed``.

        Returns:
            The frozen response, with ``request_hash`` and ``latency_s`` filled in.

        Raises:
            ConfigError: If the request is malformed.
            LLMError: If the call fails (subclasses say how).
        """
        return self.send(
            LLMRequest.build(messages, tools=tools, response_format=response_format, **params)
        )

    async def acomplete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> LLMResponse:
        """Async twin of :meth:`complete`."""
        return await self.asend(
            LLMRequest.build(messages, tools=tools, response_format=response_format, **params)
        )

    def send(self, request: LLMRequest) -> LLMResponse:
        """Send a built request (what :meth:`complete` does after validation)."""
        start = time.perf_counter()
        with self._slots:
            response = self._send(request)
        return self._stamp(request, response, start)

    async def asend(self, request: LLMRequest) -> LLMResponse:
        """Async twin of :meth:`send`."""
        start = time.perf_counter()
        response = await self._asend(request)
        return self._stamp(request, response, start)

    def _stamp(self, request: LLMRequest, response: LLMResponse, start: float) -> LLMResponse:
        changes: dict[str, Any] = {}
        if not response.request_hash:
            changes["request_hash"] = request.key(self.model)
        if not response.request_parts:  # what the model was sent, kept by content
            changes["request_parts"] = request_parts(request, self.model)
        if not response.latency_s and not response.cache_hit:
            changes["latency_s"] = time.perf_counter() - start
        return response.replace(**changes) if changes else response

    @abc.abstractmethod
    def _send(self, request: LLMRequest) -> LLMResponse:
        """Perform one call. Raise an :class:`~axon_lab.errors.LLMError` subclass on failure."""

    async def _asend(self, request: LLMRequest) -> LLMResponse:
        """Perform one call asynchronously; the default runs :meth:`send` in a worker thread."""
        return await asyncio.to_thread(self.send, request)

    # ------------------------------------------------------------------ batches

    @overload
    def complete_many(
        self,
        requests: Iterable[LLMRequest],
        *,
        max_concurrency: int | None = ...,
        return_exceptions: Literal[False] = ...,
    ) -> list[LLMResponse]: ...

    @overload
    def complete_many(
        self,
        requests: Iterable[LLMRequest],
        *,
        max_concurrency: int | None = ...,
        return_exceptions: Literal[True],
    ) -> list[LLMResponse | LLMError]: ...

    def complete_many(
        self,
        requests: Iterable[LLMRequest],
        *,
        max_concurrency: int | None = None,
        return_exceptions: bool = False,
    ) -> list[LLMResponse] | list[LLMResponse | LLMError]:
        """Send independent requests on a thread pool, at most ``max_concurrency`` at once.

        Args:
            requests: Requests built with :meth:`LLMRequest.build`.
            max_concurrency: Width of the pool (default: the client's ``max_concurrency``).
            return_exceptions: Put each :class:`~axon_lab.errors.LLMError` in the result list
                instead of raising the first one.

        Returns:
            Responses (or errors) in the order of ``requests``.
        """
        reqs = list(requests)
        width = _check_limit(max_concurrency or self.max_concurrency, "max_concurrency")
        if not reqs:
            return []
        with ThreadPoolExecutor(max_workers=min(width, len(reqs))) as pool:
            futures = [pool.submit(self.send, r) for r in reqs]
            results: list[LLMResponse | LLMError] = []
            for fut in futures:
                try:
                    results.append(fut.result())
                except LLMError as exc:
                    if not return_exceptions:
                        raise
                    results.append(exc)
        return results

    async def acomplete_many(
        self,
        requests: Iterable[LLMRequest],
        *,
        max_concurrency: int | None = None,
        return_exceptions: bool = False,
    ) -> list[LLMResponse | LLMError]:
        """Async twin of :meth:`complete_many`, limited by an ``asyncio.Semaphore``."""
        width = _check_limit(max_concurrency or self.max_concurrency, "max_concurrency")
        gate = asyncio.Semaphore(width)

        async def one(request: LLMRequest) -> LLMResponse | LLMError:
            async with gate:
                try:
                    return await self.asend(request)
                except LLMError as exc:
                    if not return_exceptions:
                        raise
                    return exc

        return list(await asyncio.gather(*(one(r) for r in requests)))
