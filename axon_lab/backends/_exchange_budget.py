"""Our own request budget for an exchange client, on top of ccxt's rate limiter.

ccxt spaces requests by its per-exchange ``rateLimit``; it knows nothing about other processes
sharing the key, nor about an exchange that answers 429. :class:`RequestBudget` caps requests in
a sliding window (waiting when the window is full), waits out a ``Retry-After``, and counts
everything so a test or a dashboard can see how the budget was spent. Hand-written because the
rule is small and the counters are the point (aiolimiter has no per-endpoint counts nor a
server-imposed pause).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable

from axon_lab.errors import ConfigError

__all__ = ["RequestBudget"]


class RequestBudget:
    """At most ``max_requests`` requests per ``per_seconds``, plus pauses the exchange asks for.

    Args:
        max_requests: Requests allowed in any window of ``per_seconds``.
        per_seconds: The window length, in seconds.
        monotonic: The time source (a test passes a fake one).
        sleep: How to wait (a test passes a fake one that advances its time).

    Attributes:
        calls: Requests made, by endpoint (ccxt method name).
        waits: How many times a request waited for the window.
        waited: Seconds spent waiting for the window or a ``Retry-After``.
        retry_after_pauses: How many ``Retry-After`` pauses were honoured.

    Examples:
        >>> budget = RequestBudget(max_requests=2, per_seconds=1.0)
        >>> import asyncio
        >>> asyncio.run(budget.acquire("fetch_balance")); budget.calls["fetch_balance"]
        1
    """

    def __init__(
        self,
        max_requests: int = 10,
        per_seconds: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not (isinstance(max_requests, int) and max_requests >= 1):
            raise ConfigError(f"max_requests must be an integer >= 1, got {max_requests!r}")
        if not per_seconds > 0:
            raise ConfigError(f"per_seconds must be > 0, got {per_seconds!r}")
        self.max_requests = max_requests
        self.per_seconds = float(per_seconds)
        self._now = monotonic
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self.calls: Counter[str] = Counter()
        self.waits = 0
        self.waited = 0.0
        self.retry_after_pauses = 0

    @property
    def total(self) -> int:
        """Requests made so far, all endpoints."""
        return sum(self.calls.values())

    async def acquire(self, endpoint: str) -> None:
        """Wait until a request may go out, then count it against ``endpoint``."""
        while True:
            now = self._now()
            while self._sent and self._sent[0] <= now - self.per_seconds:
                self._sent.popleft()
            delay = self._paused_until - now
            if len(self._sent) >= self.max_requests:
                delay = max(delay, self._sent[0] + self.per_seconds - now)
            if delay <= 0:
                break
            self.waits += 1
            self.waited += delay
            await self._sleep(delay)
        self._sent.append(self._now())
        self.calls[endpoint] += 1

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (the exchange's ``Retry-After``)."""
        self.retry_after_pauses += 1
        self._paused_until = max(self._paused_until, self._now() + max(seconds, 0.0))

    def __repr__(self) -> str:
        return (
            f"RequestBudget({self.max_requests}/{self.per_seconds:g}s, used={self.total}, "
            f"waits={self.waits})"
        )
