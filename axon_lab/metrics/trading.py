"""TradingMetrics: what the trading tools count and time, with push and pull outlets.

Five labeled counters — orders (by final status), cancels and modifies (by status), risk
rejections (by rule) and backend failures (by operation) — an end-to-end execute-latency
histogram with p50/p95/p99, and a gauge of today's order count. Two outlets: a callback
(:meth:`TradingMetrics.set_callback`) receives every :class:`MetricSample` as it changes, and
:meth:`TradingMetrics.snapshot` returns everything at once. Nothing here depends on a monitoring
stack; :mod:`axon_lab.metrics.prometheus` exposes the same numbers over HTTP.

Examples:
    >>> metrics = TradingMetrics()
    >>> seen = []
    >>> metrics.set_callback(seen.append)
    >>> metrics.record_risk_reject("max_daily_orders")
    >>> metrics.observe_latency(0.002)
    >>> [(s.name, s.labels, s.value) for s in seen]
    [('risk_rejects', (('rule', 'max_daily_orders'),), 1.0), ('execute_latency_seconds', (), 0.002)]
    >>> snap = metrics.snapshot()
    >>> snap.risk_rejects, snap.latency.count
    ({'max_daily_orders': 1}, 1)
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .counter import LabeledCounter
from .histogram import LatencyHistogram

__all__ = ["LatencySummary", "MetricSample", "MetricsSnapshot", "TradingMetrics"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSample:
    """One metric value as pushed to a callback or flattened from a snapshot."""

    name: str
    value: float
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencySummary:
    """Execute latency in seconds: count, sum and windowed percentiles (None when empty)."""

    count: int
    sum: float
    p50: float | None
    p95: float | None
    p99: float | None
    buckets: tuple[tuple[float, int], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsSnapshot:
    """Every trading metric at one moment."""

    orders: Mapping[str, int] = field(default_factory=dict)
    cancels: Mapping[str, int] = field(default_factory=dict)
    modifies: Mapping[str, int] = field(default_factory=dict)
    risk_rejects: Mapping[str, int] = field(default_factory=dict)
    backend_fails: Mapping[str, int] = field(default_factory=dict)
    latency: LatencySummary
    daily_orders: int = 0

    def samples(self) -> tuple[MetricSample, ...]:
        """The snapshot flattened into samples (counters, latency percentiles, the gauge)."""
        out: list[MetricSample] = []
        for name, label, counts in (
            ("orders", "status", self.orders),
            ("cancels", "status", self.cancels),
            ("modifies", "status", self.modifies),
            ("risk_rejects", "rule", self.risk_rejects),
            ("backend_fails", "operation", self.backend_fails),
        ):
            out.extend(
                MetricSample(name=name, value=float(n), labels=((label, key),))
                for key, n in sorted(counts.items())
            )
        lat = self.latency
        out.append(MetricSample(name="execute_latency_seconds_count", value=float(lat.count)))
        out.append(MetricSample(name="execute_latency_seconds_sum", value=lat.sum))
        for q, v in (("0.5", lat.p50), ("0.95", lat.p95), ("0.99", lat.p99)):
            if v is not None:
                out.append(
                    MetricSample(name="execute_latency_seconds", value=v, labels=(("quantile", q),))
                )
        out.append(MetricSample(name="daily_orders", value=float(self.daily_orders)))
        return tuple(out)


class TradingMetrics:
    """Counters, latency histogram and daily-order gauge for the trading tools.

    Args:
        latency: The histogram to time executions with (default buckets and window).
    """

    def __init__(self, latency: LatencyHistogram | None = None) -> None:
        self.orders = LabeledCounter("orders", label="status", description="orders by status")
        self.cancels = LabeledCounter("cancels", label="status", description="cancels by status")
        self.modifies = LabeledCounter(
            "modifies", label="status", description="order replacements by status"
        )
        self.risk_rejects = LabeledCounter(
            "risk_rejects", label="rule", description="rejected verdicts by rule"
        )
        self.backend_fails = LabeledCounter(
            "backend_fails", label="operation", description="backend exceptions by operation"
        )
        self.latency = latency if latency is not None else LatencyHistogram()
        self._daily_orders = 0
        self._callback: Callable[[MetricSample], None] | None = None
        self._lock = threading.Lock()

    @property
    def counters(self) -> tuple[LabeledCounter, ...]:
        """The five labeled counters."""
        return (self.orders, self.cancels, self.modifies, self.risk_rejects, self.backend_fails)

    @property
    def daily_orders(self) -> int:
        """The gauge: orders sent today (mirrors the risk chain's daily counter)."""
        return self._daily_orders

    def set_callback(self, callback: Callable[[MetricSample], None] | None) -> None:
        """Push every changed sample to ``callback`` (None to stop).

        A callback that raises does not stop trading: the error becomes a ``RuntimeWarning``.
        """
        self._callback = callback

    def record_order(self, status: str) -> None:
        """Count one order outcome (an ``OrderStatus`` value or ``"rejected"``)."""
        self._push(self.orders, status)

    def record_cancel(self, status: str) -> None:
        """Count one cancel outcome."""
        self._push(self.cancels, status)

    def record_modify(self, status: str) -> None:
        """Count one replace outcome."""
        self._push(self.modifies, status)

    def record_risk_reject(self, rule: str) -> None:
        """Count one rejected verdict by its rule."""
        self._push(self.risk_rejects, rule)

    def record_backend_fail(self, operation: str) -> None:
        """Count one backend exception by operation (place, cancel, replace, query, ...)."""
        self._push(self.backend_fails, operation)

    def observe_latency(self, seconds: float) -> None:
        """Record one end-to-end execute duration."""
        self.latency.observe(seconds)
        if self._callback is not None:  # a sample is built only for someone to read it
            self._emit(MetricSample(name="execute_latency_seconds", value=seconds))

    def set_daily_orders(self, count: int) -> None:
        """Set the daily-order gauge."""
        with self._lock:
            self._daily_orders = count
        if self._callback is not None:
            self._emit(MetricSample(name="daily_orders", value=float(count)))

    def snapshot(self) -> MetricsSnapshot:
        """All metrics now, as an immutable value."""
        hist = self.latency
        return MetricsSnapshot(
            orders=self.orders.values(),
            cancels=self.cancels.values(),
            modifies=self.modifies.values(),
            risk_rejects=self.risk_rejects.values(),
            backend_fails=self.backend_fails.values(),
            latency=LatencySummary(
                count=hist.count,
                sum=hist.sum,
                p50=hist.quantile(0.5),
                p95=hist.quantile(0.95),
                p99=hist.quantile(0.99),
                buckets=hist.cumulative_buckets(),
            ),
            daily_orders=self._daily_orders,
        )

    def _push(self, counter: LabeledCounter, value: str) -> None:
        count = counter.inc(value)
        if self._callback is not None:
            self._emit(
                MetricSample(
                    name=counter.name, value=float(count), labels=((counter.label, value),)
                )
            )

    def _emit(self, sample: MetricSample) -> None:
        callback = self._callback
        if callback is None:
            return
        try:
            callback(sample)
        except Exception as exc:  # a metrics sink must never break order handling
            warnings.warn(
                f"metrics callback {callback!r} raised {exc!r} on {sample.name}; "
                "the sample was dropped",
                RuntimeWarning,
                stacklevel=3,
            )

    def __repr__(self) -> str:
        totals = ", ".join(f"{c.name}={c.total}" for c in self.counters)
        return f"TradingMetrics({totals}, latency={self.latency!r})"
