"""A latency histogram with cumulative buckets and windowed percentiles.

Bucket counts, the sum and the count cover every observation (what Prometheus scrapes);
percentiles are exact over the most recent ``window`` observations, so a long backtest keeps
bounded memory and the percentiles follow the current behaviour.

Examples:
    >>> hist = LatencyHistogram(buckets=(0.001, 0.01, 0.1))
    >>> for seconds in (0.0005, 0.002, 0.003, 0.05):
    ...     hist.observe(seconds)
    >>> hist.count, hist.cumulative_buckets()
    (4, ((0.001, 1), (0.01, 3), (0.1, 4), (inf, 4)))
    >>> hist.quantile(0.5)
    0.0025
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import deque
from collections.abc import Sequence

import numpy as np

from axon_lab.errors import ConfigError

__all__ = ["DEFAULT_LATENCY_BUCKETS", "LatencyHistogram"]

DEFAULT_LATENCY_BUCKETS: tuple[float, ...] = (
    *(round(base * 10.0**exp, 10) for exp in range(-5, 1) for base in (1.0, 2.5, 5.0)),
    10.0,
)
"""Bucket upper bounds in seconds, 10 us to 10 s."""


class LatencyHistogram:
    """Durations in seconds: bucket counts over all time, percentiles over a recent window.

    Args:
        buckets: Increasing finite upper bounds in seconds; ``+inf`` is added.
        window: How many recent observations percentiles are computed over.
    """

    def __init__(
        self, buckets: Sequence[float] = DEFAULT_LATENCY_BUCKETS, *, window: int = 10_000
    ) -> None:
        bounds = [float(b) for b in buckets]
        if not bounds or any(not math.isfinite(b) or b <= 0 for b in bounds):
            raise ConfigError(f"buckets must be finite positive seconds, got {list(buckets)!r}")
        if any(a >= b for a, b in itertools.pairwise(bounds)):
            raise ConfigError(f"buckets must be strictly increasing, got {bounds!r}")
        if window < 1:
            raise ConfigError(f"window must be >= 1, got {window!r}")
        self.bounds = (*bounds, math.inf)
        self._bucket_counts = [0] * len(self.bounds)
        self._recent: deque[float] = deque(maxlen=window)
        self.count = 0
        self.sum = 0.0
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        """Record one duration.

        Raises:
            ConfigError: If ``seconds`` is negative or not finite.
        """
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ConfigError(f"latency must be finite and >= 0 seconds, got {seconds!r}")
        with self._lock:
            for i, bound in enumerate(self.bounds):
                if seconds <= bound:
                    self._bucket_counts[i] += 1
                    break
            self._recent.append(seconds)
            self.count += 1
            self.sum += seconds

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile (linear interpolation) of the recent window; None when empty.

        Raises:
            ConfigError: If ``q`` is outside [0, 1].
        """
        if not 0 <= q <= 1:
            raise ConfigError(f"quantile must be in [0, 1], got {q!r}")
        with self._lock:
            if not self._recent:
                return None
            data = np.fromiter(self._recent, dtype=float)
        return float(np.quantile(data, q))

    def cumulative_buckets(self) -> tuple[tuple[float, int], ...]:
        """``(upper bound, observations <= bound)`` pairs, Prometheus style."""
        with self._lock:
            counts = list(self._bucket_counts)
        total = 0
        out = []
        for bound, n in zip(self.bounds, counts, strict=True):
            total += n
            out.append((bound, total))
        return tuple(out)

    def __repr__(self) -> str:
        return f"LatencyHistogram(count={self.count}, sum={self.sum:.6g})"
