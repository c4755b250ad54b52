"""Fault injection for the local exchange: what goes wrong, on which endpoints, how often.

A test sets counts on :class:`ExchangeFaults` (``server.faults``); each request to an endpoint the
faults apply to consumes one of the pending faults, in a fixed order (drop, 5xx, 429, then the two
that strike after an order was accepted). Latency applies to every request. What was injected is
counted in :attr:`ExchangeFaults.injected`, so a test can check the fault really happened.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["ExchangeFaults"]

#: Fault kinds in the order a request consumes them.
BEFORE = ("drops", "server_errors", "rate_limits")
AFTER_ACCEPT = ("timeouts_after_accept", "drops_after_accept")


@dataclass
class ExchangeFaults:
    """Faults the local exchange injects; a live, mutable handle (thread-safe).

    Attributes:
        latency: Seconds added before every answer.
        drops: Requests answered by closing the connection without a response.
        server_errors: Requests answered ``503 Service Unavailable``.
        rate_limits: Requests answered ``429`` with a ``Retry-After`` header.
        retry_after: The ``Retry-After`` value, in whole seconds.
        timeouts_after_accept: Order placements that are accepted and then answered only after
            ``hang`` seconds (past the client's timeout).
        drops_after_accept: Order placements that are accepted and then answered by closing the
            connection.
        hang: How long a timeout-after-accept holds its answer, in seconds.
        only: Endpoint names the counted faults apply to (e.g. ``{"order"}``); None: all.
        skip: Matching requests let through before drops, 5xx and 429 begin.
        duplicate_fills: Report every trade twice in ``myTrades`` (same trade id).
        injected: How many faults of each kind were injected so far.
    """

    latency: float = 0.0
    drops: int = 0
    server_errors: int = 0
    rate_limits: int = 0
    retry_after: int = 0
    timeouts_after_accept: int = 0
    drops_after_accept: int = 0
    hang: float = 2.0
    only: frozenset[str] | None = None
    skip: int = 0
    duplicate_fills: bool = False
    injected: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set(self, **values: object) -> ExchangeFaults:
        """Set several attributes at once (under the lock); returns self.

        Raises:
            AttributeError: For an unknown fault name.
        """
        with self._lock:
            for name, value in values.items():
                if name.startswith("_") or not hasattr(self, name):
                    raise AttributeError(f"unknown fault {name!r}")
                setattr(self, name, value)
        return self

    def clear(self) -> None:
        """Remove every pending fault (the injected counts stay)."""
        self.set(
            latency=0.0,
            drops=0,
            server_errors=0,
            rate_limits=0,
            timeouts_after_accept=0,
            drops_after_accept=0,
            only=None,
            skip=0,
            duplicate_fills=False,
        )

    def take(self, endpoint: str, kinds: tuple[str, ...]) -> str | None:
        """Consume the first pending fault of ``kinds`` that applies to ``endpoint``."""
        with self._lock:
            if self.only is not None and endpoint not in self.only:
                return None
            if kinds == BEFORE and self.skip > 0:
                self.skip -= 1
                return None
            for kind in kinds:
                left = getattr(self, kind)
                if left > 0:
                    setattr(self, kind, left - 1)
                    self.injected[kind] += 1
                    return kind
        return None
