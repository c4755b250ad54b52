"""One ccxt async client on its own event loop thread, with our budget and retries.

ccxt's async client holds an aiohttp session and a throttler bound to the event loop that made
them; callers of a backend come from many loops (``run_sync`` makes a new one per call, Jupyter
has its own). :class:`ExchangeSession` therefore runs the client on one private loop in a
background thread and hands each call over with :func:`asyncio.run_coroutine_threadsafe`.

Every request first takes a slot of the :class:`RequestBudget`. :meth:`ExchangeSession.call`
retries network errors (timeouts, 5xx, 429, dropped connections) with backoff, honouring a
``Retry-After``; use it for requests that are safe to repeat. Order placement is not: the backend
calls :meth:`ExchangeSession.once` and decides itself what a failure means.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from axon_lab.errors import BackendError, ConfigError

from ._exchange_budget import RequestBudget

__all__ = ["ExchangeSession", "RetryPolicy"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How network errors are retried.

    Attributes:
        attempts: Tries per operation (>= 1), the first included.
        backoff: Seconds before the first retry; doubles each time.
        max_backoff: The longest pause between tries, ``Retry-After`` included.
    """

    attempts: int = 4
    backoff: float = 0.25
    max_backoff: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff < 0 or self.max_backoff < 0:
            raise ConfigError(
                f"RetryPolicy needs attempts >= 1 and non-negative pauses, got {self!r}"
            )

    def delay(self, attempt: int) -> float:
        """The pause after failed try number ``attempt`` (0-based)."""
        return float(min(self.backoff * 2.0**attempt, self.max_backoff))


class ExchangeSession:
    """A ccxt client living on a private event loop thread.

    Args:
        make_client: Builds the ccxt client (called on the session's loop).
        budget: Our request budget.
        retry: How network errors are retried.
    """

    def __init__(
        self,
        make_client: Callable[[], Any],
        *,
        budget: RequestBudget,
        retry: RetryPolicy,
    ) -> None:
        self._make_client = make_client
        self.budget = budget
        self.retry = retry
        self.client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: Network errors seen, and how many calls failed after every retry.
        self.network_errors = 0
        self.failures = 0

    # ------------------------------------------------------------------ lifecycle

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="axon-exchange-io", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._ensure_loop()
        if asyncio.get_running_loop() is loop:  # already on the session's loop
            return await coro
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        return await asyncio.wrap_future(future)

    async def _client(self) -> Any:
        if self.client is None:
            self.client = self._make_client()
        return self.client

    def close(self) -> None:
        """Close the client and stop the loop thread (idempotent)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if self.client is not None:
            asyncio.run_coroutine_threadsafe(self.client.close(), loop).result()
            self.client = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    # ------------------------------------------------------------------ calls

    async def once(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``client.<method>`` once (after a budget slot); errors propagate as ccxt's."""
        return await self._run(self._once(method, args, kwargs))

    async def _once(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        client = await self._client()
        await self.budget.acquire(method)
        return await getattr(client, method)(*args, **kwargs)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``client.<method>``, retrying network errors; safe only for repeatable requests.

        Raises:
            BackendError: If the exchange stays unreachable through every try.
        """
        return await self._run(self._retried(method, args, kwargs))

    async def _retried(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        ccxt = _ccxt()
        last: BaseException | None = None
        for attempt in range(self.retry.attempts):
            try:
                return await self._once(method, args, kwargs)
            except ccxt.NetworkError as exc:
                last = exc
                await self.after_network_error(exc, attempt)
        self.failures += 1
        raise BackendError(
            f"the exchange did not answer {method} after {self.retry.attempts} tries "
            f"({type(last).__name__}: {last}); check the network and the exchange's status page, "
            "or raise RetryPolicy.attempts"
        ) from last

    async def after_network_error(self, exc: BaseException, attempt: int) -> None:
        """Count a network error and wait before the next try (``Retry-After`` honoured)."""
        self.network_errors += 1
        wait = self.retry.delay(attempt)
        headers = getattr(self.client, "last_response_headers", None) or {}
        retry_after = _retry_after(headers) if isinstance(exc, _ccxt().DDoSProtection) else None
        if retry_after is not None:
            wait = min(max(wait, retry_after), self.retry.max_backoff)
            self.budget.pause(wait)
        await asyncio.sleep(wait)

    def in_loop(self, coro: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
        """Run a coroutine that uses several calls on the session's loop."""
        return self._run(coro)


def _retry_after(headers: Any) -> float | None:
    for key, value in dict(headers).items():
        if str(key).lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _ccxt() -> Any:
    from axon_lab._imports import require

    return require("ccxt.async_support", "exchange", purpose="the exchange backend")
