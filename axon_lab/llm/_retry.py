"""The retry policy: which failures are retried, and how long to wait before the next attempt.

Timeouts, connection errors, HTTP 429 and HTTP 5xx are retried; any other 4xx is the caller's
mistake and is not. The wait grows exponentially from ``base_delay_s`` by ``multiplier`` up to
``max_delay_s``; a server's ``Retry-After`` header (seconds) is honoured up to ``max_delay_s``.
Jitter is drawn from a generator seeded by ``seed`` so a run's waits are reproducible.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from axon_lab.errors import ConfigError

__all__ = ["RetryPolicy", "is_retryable_status"]


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth retrying (429 and 5xx).

    Examples:
        >>> [is_retryable_status(s) for s in (400, 404, 429, 500, 503)]
        [False, False, True, True, True]
    """
    return status == 429 or 500 <= status <= 599


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How many attempts a call gets and how long to back off between them.

    Args:
        max_attempts: Total attempts including the first (1 disables retries).
        base_delay_s: Wait before the second attempt.
        multiplier: Growth factor of the wait per attempt.
        max_delay_s: Upper bound of any single wait, including ``Retry-After``.
        jitter: Relative random spread of each wait, in [0, 1].
        seed: Seed of the jitter generator.

    Examples:
        >>> policy = RetryPolicy(max_attempts=4, base_delay_s=0.5, jitter=0.0)
        >>> [policy.delay_s(n) for n in (1, 2, 3)]
        [0.5, 1.0, 2.0]
        >>> policy.delay_s(1, retry_after="7")
        7.0
    """

    max_attempts: int = 4
    base_delay_s: float = 0.5
    multiplier: float = 2.0
    max_delay_s: float = 20.0
    jitter: float = 0.1
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be >= 1, got {self.max_attempts!r}.")
        for name in ("base_delay_s", "max_delay_s"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)!r}.")
        if not self.multiplier >= 1:
            raise ConfigError(f"multiplier must be >= 1, got {self.multiplier!r}.")
        if not 0 <= self.jitter <= 1:
            raise ConfigError(f"jitter must be in [0, 1], got {self.jitter!r}.")
        object.__setattr__(self, "_rng", random.Random(self.seed))
        object.__setattr__(self, "_lock", threading.Lock())

    def delay_s(self, failed_attempt: int, *, retry_after: str | None = None) -> float:
        """Seconds to wait after attempt number ``failed_attempt`` (1-based) failed.

        Args:
            failed_attempt: The attempt that just failed.
            retry_after: The server's ``Retry-After`` header, if it sent one.
        """
        if retry_after is not None:
            try:
                hinted = float(retry_after)
            except ValueError:
                hinted = -1.0  # an HTTP date or garbage: fall back to our own schedule
            if hinted >= 0:
                return min(hinted, self.max_delay_s)
        wait = min(self.base_delay_s * self.multiplier ** (failed_attempt - 1), self.max_delay_s)
        if self.jitter:
            with self._lock:
                wait *= 1 + self.jitter * (2 * self._rng.random() - 1)
        return max(wait, 0.0)
