"""`OpenAICompatClient`: any OpenAI-compatible chat-completions server, through the official SDK.

OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio and OpenRouter all speak this protocol. The SDK
is imported when a client is built (``pip install 'axon-lab[llm]'``), never by ``import axon_lab``.

Configuration, each argument falling back to an environment variable:

=================  ==========================================  ================================
argument           environment variable                        default
=================  ==========================================  ================================
``model``          ``AXON_LLM_MODEL``                          required
``base_url``       ``AXON_LLM_BASE_URL``                       the SDK's (api.openai.com)
``api_key``        ``AXON_LLM_API_KEY``, then ``OPENAI_API_KEY``  required without ``base_url``
=================  ==========================================  ================================

Local servers usually need no key; with a ``base_url`` and no key a placeholder is sent.

Requests go through the SDK's documented raw-request path (``client.post("/chat/completions",
body=..., cast_to=<httpx Response>)``): the SDK supplies auth, base URL, timeouts and error types,
and the body is decoded here so every kind of bad answer gets its own error. The SDK's own retries
are off (``max_retries=0``): :class:`~axon_lab.llm.RetryPolicy` decides, so
retries are testable and each response records its attempts and why they failed.

``timeout_s`` is a deadline for the whole attempt (connect, send, every byte of the answer), not
for each read: a server that trickles a byte at a time is cut at ``timeout_s`` all the same. To
get that, every attempt runs as a coroutine under ``asyncio.timeout``; blocking calls run on the
client's own event-loop thread (:class:`~axon_lab.llm._loop_thread.LoopThread`).

Credentials in ``base_url`` (``http://user:secret@host/v1``) are used but never shown: the
``base_url`` attribute, ``repr`` and every error message carry ``***`` in their place.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from axon_lab._imports import require
from axon_lab._redact import redact_secrets
from axon_lab.errors import ConfigError, LLMError, LLMTimeoutError
from axon_lab.llm._client import BaseLLMClient
from axon_lab.llm._connections import pooled_sdk
from axon_lab.llm._loop_thread import LoopThread
from axon_lab.llm._request import LLMRequest
from axon_lab.llm._response import LLMResponse
from axon_lab.llm._retry import RetryPolicy, is_retryable_status
from axon_lab.llm._structured import StructuredMode, apply_structured_mode, names_response_format
from axon_lab.llm._wire import parse_chat_completion

__all__ = ["ENV_API_KEY", "ENV_BASE_URL", "ENV_MODEL", "OpenAICompatClient"]

ENV_BASE_URL = "AXON_LLM_BASE_URL"
ENV_API_KEY = "AXON_LLM_API_KEY"
ENV_MODEL = "AXON_LLM_MODEL"
_NO_KEY = "sk-no-key-needed"

_batch_sdk: contextvars.ContextVar[Any] = contextvars.ContextVar("axon_llm_batch_sdk", default=None)


class _Failure:
    """One failed attempt, classified."""

    __slots__ = ("error", "retry_after", "retryable", "unsupported_format")

    def __init__(
        self,
        error: LLMError,
        *,
        retryable: bool,
        retry_after: str | None = None,
        unsupported_format: bool = False,
    ) -> None:
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after
        self.unsupported_format = unsupported_format


class OpenAICompatClient(BaseLLMClient):
    """A client for any OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        model: Model name (default ``$AXON_LLM_MODEL``).
        base_url: API root such as ``http://127.0.0.1:8080/v1`` (default ``$AXON_LLM_BASE_URL``,
            else OpenAI).
        api_key: API key (default ``$AXON_LLM_API_KEY``, then ``$OPENAI_API_KEY``).
        timeout_s: Deadline of each attempt in seconds, from connecting to the last byte of the
            answer; a hung or trickling server is cut here.
        retry: The retry policy (default: 4 attempts, exponential backoff from 0.5 s).
        max_concurrency: Calls in flight at once for this client (threads and batches).
        structured_mode: Force a :class:`StructuredMode`; None detects it on first use.
        endpoint: What the cache keys responses by (default: ``base_url`` without credentials).
            Name the model's identity instead when the URL changes between runs of the same
            model (a local server on a free port).

    Raises:
        ConfigError: If no model is given, or no key is given for the default OpenAI endpoint.
        MissingDependencyError: If the ``openai`` package is not installed.

    Examples:
        >>> client = OpenAICompatClient("my-model", base_url="http://127.0.0.1:9/v1")
        >>> client.model, client.base_url
        ('my-model', 'http://127.0.0.1:9/v1/')
        >>> client.close()
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 8,
        structured_mode: StructuredMode | str | None = None,
        endpoint: str | None = None,
    ) -> None:
        model = model or os.environ.get(ENV_MODEL)
        if not model:
            raise ConfigError(
                f"No model given; pass model=... or set ${ENV_MODEL} (e.g. 'gpt-4o-mini')."
            )
        super().__init__(model, max_concurrency=max_concurrency)
        base_url = base_url or os.environ.get(ENV_BASE_URL) or None
        api_key = api_key or os.environ.get(ENV_API_KEY) or os.environ.get("OPENAI_API_KEY")
        if not api_key:
            if base_url is None:
                raise ConfigError(
                    f"No API key for the OpenAI endpoint; set ${ENV_API_KEY} or $OPENAI_API_KEY, "
                    f"or point ${ENV_BASE_URL} at a local server (no key needed)."
                )
            api_key = _NO_KEY
        if not timeout_s > 0:
            raise ConfigError(f"timeout_s must be > 0, got {timeout_s!r}.")
        self.timeout_s = float(timeout_s)
        self.retry = retry if retry is not None else RetryPolicy()
        self._openai = require("openai", "llm", purpose="OpenAICompatClient")
        self._api_key = api_key
        self._sdk = self._openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=self.timeout_s, max_retries=0
        )
        self._base_url = str(self._sdk.base_url)  # with any credentials: only the SDK sees it
        self.base_url = redact_secrets(self._base_url)
        self._endpoint = self.base_url if endpoint is None else str(endpoint)
        self._runner = LoopThread()
        # (pid, the async SDK client of the runner's loop): made on that loop, remade in a
        # forked child, whose runner starts a loop of its own
        self._loop_sdk: tuple[int, Any] | None = None
        # The SDK's documented way to get the raw HTTP response is ``post(..., cast_to=<its
        # httpx Response class>)``; openai 1.x/2.x use ``httpx``, 3.x ``httpx2``.
        base = sys.modules[type(self._sdk).__mro__[1].__module__]
        http = getattr(base, "httpx2", None) or base.httpx
        self._raw_type: type[Any] = http.Response
        self._http = http
        self._ssl_context: Any = None
        self._mode_lock = threading.Lock()
        self._mode: StructuredMode | None = (
            StructuredMode(structured_mode) if structured_mode is not None else None
        )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the HTTP connection pools and stop the client's event-loop thread."""
        self._sdk.close()

        async def close_loop_sdk() -> None:
            held, self._loop_sdk = self._loop_sdk, None
            if held is not None and held[0] == os.getpid():
                await held[1].close()

        self._runner.close(close_loop_sdk)

    def __repr__(self) -> str:
        return f"OpenAICompatClient(model={self.model!r}, base_url={self.base_url!r})"

    def __enter__(self) -> OpenAICompatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        """The cache's name for this server: ``base_url`` without credentials, unless set."""
        return self._endpoint

    @property
    def structured_mode(self) -> StructuredMode | None:
        """The structured-output mode that works with this server (None until detected)."""
        return self._mode

    # ------------------------------------------------------------------ request building

    def _current_mode(self) -> StructuredMode:
        with self._mode_lock:
            return self._mode or StructuredMode.JSON_SCHEMA

    def _downgrade(self, tried: StructuredMode) -> StructuredMode | None:
        with self._mode_lock:
            current = self._mode or StructuredMode.JSON_SCHEMA
            if list(StructuredMode).index(current) > list(StructuredMode).index(tried):
                return current  # another thread already stepped further down
            self._mode = tried.fallback()
            return self._mode

    def _confirm(self, mode: StructuredMode) -> None:
        with self._mode_lock:
            if self._mode is None:
                self._mode = mode

    def _body(self, request: LLMRequest, mode: StructuredMode) -> dict[str, Any]:
        messages, fmt = apply_structured_mode(list(request.messages), request.response_format, mode)
        body: dict[str, Any] = {"model": self.model, "messages": messages, **request.params}
        if request.tools is not None:
            body["tools"] = list(request.tools)
        if fmt is not None:
            body["response_format"] = fmt
        return body

    # ------------------------------------------------------------------ error mapping

    def _classify(self, exc: Exception) -> _Failure:
        failure = self._classify_raw(exc)
        failure.error = type(failure.error)(redact_secrets(str(failure.error)))
        return failure

    def _classify_raw(self, exc: Exception) -> _Failure:
        oa = self._openai
        where = f"{self.model!r} at {self.base_url}"
        if isinstance(exc, oa.APITimeoutError | TimeoutError):
            return _Failure(
                LLMTimeoutError(
                    f"{where} did not answer within {self.timeout_s:g} s; raise timeout_s or "
                    "check that the server is not stuck."
                ),
                retryable=True,
            )
        if isinstance(exc, oa.APIStatusError):
            status = int(exc.status_code)
            body = exc.response.content.decode("utf-8", errors="replace")
            return _Failure(
                LLMError(f"{where} answered HTTP {status}: {body[:300]!r}."),
                retryable=is_retryable_status(status),
                retry_after=exc.response.headers.get("retry-after"),
                unsupported_format=names_response_format(status, body),
            )
        if isinstance(exc, oa.APIConnectionError):
            return _Failure(
                LLMError(f"Cannot connect to {where} ({exc}); is the server running?"),
                retryable=True,
            )
        return _Failure(LLMError(f"{where} failed: {exc!r}"), retryable=False)

    def _give_up(self, failure: _Failure, attempts: int, errors: list[str]) -> LLMError:
        error = failure.error
        if attempts > 1:
            history = "; ".join(errors)
            msg = f"{failure.error} Gave up after {attempts} attempts; earlier: {history}"
            error = type(failure.error)(msg)
        error.attempts, error.retry_errors = attempts, tuple(errors)
        return error

    # ------------------------------------------------------------------ the call

    def _finish(
        self, raw: Any, mode: StructuredMode, request: LLMRequest, attempts: int, errors: list[str]
    ) -> LLMResponse:
        response = parse_chat_completion(
            raw.content,
            content_type=raw.headers.get("content-type", ""),
            requested_model=self.model,
        )
        structured = None
        if request.response_format is not None:
            self._confirm(mode)
            structured = str(mode)
        return response.replace(
            attempts=attempts, retry_errors=tuple(errors), structured_mode=structured
        )

    def _send(self, request: LLMRequest) -> LLMResponse:
        # blocking calls run on the client's loop thread, where asyncio can hold the deadline
        return self._runner.run(self._asend_on_loop(request))

    async def _asend_on_loop(self, request: LLMRequest) -> LLMResponse:
        if self._loop_sdk is None or self._loop_sdk[0] != os.getpid():
            self._loop_sdk = (os.getpid(), self._make_async_sdk())
        return await self._asend_with(self._loop_sdk[1], request)

    async def _asend(self, request: LLMRequest) -> LLMResponse:
        sdk = _batch_sdk.get()
        if sdk is None:
            sdk = pooled_sdk(self, self._make_async_sdk)
        if sdk is not None:
            return await self._asend_with(sdk, request)
        async with self._make_async_sdk() as sdk:
            return await self._asend_with(sdk, request)

    async def _asend_with(self, sdk: Any, request: LLMRequest) -> LLMResponse:
        mode = self._current_mode()
        attempts, errors = 0, list[str]()
        start = time.perf_counter()
        while True:
            attempts += 1
            try:
                async with asyncio.timeout(self.timeout_s):  # the whole attempt, not each read
                    raw = await sdk.post(
                        "/chat/completions", body=self._body(request, mode), cast_to=self._raw_type
                    )
            except (self._openai.OpenAIError, TimeoutError) as exc:
                failure = self._classify(exc)
                wait = self._next_step(failure, request, mode, attempts, errors)
                if isinstance(wait, StructuredMode):
                    mode, attempts = wait, attempts - 1
                    continue
                await asyncio.sleep(wait)
                continue
            response = self._finish(raw, mode, request, attempts, errors)
            return response.replace(latency_s=time.perf_counter() - start)

    def _next_step(
        self,
        failure: _Failure,
        request: LLMRequest,
        mode: StructuredMode,
        attempts: int,
        errors: list[str],
    ) -> StructuredMode | float:
        """A weaker structured mode to try now, or seconds to wait before retrying; else raise."""
        if failure.unsupported_format and request.response_format is not None:
            weaker = self._downgrade(mode)
            if weaker is not None:
                return weaker
        if not failure.retryable or attempts >= self.retry.max_attempts:
            raise self._give_up(failure, attempts, errors) from None
        errors.append(str(failure.error))
        return self.retry.delay_s(attempts, retry_after=failure.retry_after)

    def _make_async_sdk(self) -> Any:
        # An async SDK client lives on one event loop, so each batch or lone async call makes
        # its own; sharing one SSL context makes that ~1 ms instead of ~35 ms.
        kwargs: dict[str, Any] = {}
        make_ctx = getattr(self._http, "create_ssl_context", None)
        if make_ctx is not None:
            with self._mode_lock:
                if self._ssl_context is None:
                    self._ssl_context = make_ctx()
            kwargs["http_client"] = self._openai.DefaultAsyncHttpxClient(
                verify=self._ssl_context, timeout=self.timeout_s
            )
        return self._openai.AsyncOpenAI(
            api_key=self._api_key,
            base_url=self._base_url,
            timeout=self.timeout_s,
            max_retries=0,
            **kwargs,
        )

    async def acomplete_many(
        self,
        requests: Iterable[LLMRequest],
        *,
        max_concurrency: int | None = None,
        return_exceptions: bool = False,
    ) -> list[LLMResponse | LLMError]:
        """Send independent requests concurrently over one async connection pool.

        See :meth:`BaseLLMClient.acomplete_many`.
        """
        async with self._make_async_sdk() as sdk:
            token = _batch_sdk.set(sdk)
            try:
                return await super().acomplete_many(
                    requests, max_concurrency=max_concurrency, return_exceptions=return_exceptions
                )
            finally:
                _batch_sdk.reset(token)
