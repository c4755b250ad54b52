"""An optional Prometheus exporter for :class:`~axon_lab.metrics.TradingMetrics`.

Needs the ``metrics`` extra (``pip install 'axon-lab[metrics]'``); ``prometheus_client`` is
imported only when an exporter is created. Each exporter serves its own registry, so several can
run in one process and none touches the global default registry.

Metric names (prefix ``axon_`` by default): ``axon_orders_total{status}``,
``axon_cancels_total{status}``, ``axon_modifies_total{status}``, ``axon_risk_rejects_total{rule}``,
``axon_backend_fails_total{operation}``, ``axon_execute_latency_seconds`` (histogram),
``axon_execute_latency_seconds_quantile{quantile}`` and ``axon_daily_orders``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from axon_lab._imports import require

from .trading import TradingMetrics

__all__ = ["PrometheusExporter", "start_prometheus_exporter"]


class _TradingCollector:
    """Turns a metrics snapshot into Prometheus metric families at scrape time."""

    def __init__(self, metrics: TradingMetrics, prefix: str, core: Any) -> None:
        self._metrics = metrics
        self._prefix = prefix
        self._core = core

    def collect(self) -> Iterator[Any]:
        core = self._core
        snap = self._metrics.snapshot()
        p = self._prefix
        for counter in self._metrics.counters:
            family = core.CounterMetricFamily(
                f"{p}{counter.name}", counter.description, labels=[counter.label]
            )
            for value, count in sorted(counter.values().items()):
                family.add_metric([value], count)
            yield family
        lat = snap.latency
        buckets = [("+Inf" if b == float("inf") else repr(b), n) for b, n in lat.buckets]
        yield core.HistogramMetricFamily(
            f"{p}execute_latency_seconds",
            "end-to-end tool execute latency",
            buckets=buckets,
            sum_value=lat.sum,
        )
        quantiles = core.GaugeMetricFamily(
            f"{p}execute_latency_seconds_quantile",
            "execute latency percentiles over the recent window",
            labels=["quantile"],
        )
        for q, v in (("0.5", lat.p50), ("0.95", lat.p95), ("0.99", lat.p99)):
            if v is not None:
                quantiles.add_metric([q], v)
        yield quantiles
        yield core.GaugeMetricFamily(
            f"{p}daily_orders", "orders sent today (UTC, loop clock)", value=snap.daily_orders
        )


class PrometheusExporter:
    """Serves a :class:`TradingMetrics` on ``http://addr:port/metrics`` in a daemon thread.

    Use :func:`start_prometheus_exporter` to create one; call :meth:`stop` (or use it as a
    context manager) to shut the server down.
    """

    def __init__(self, server: Any, thread: Any, registry: Any) -> None:
        self._server = server
        self._thread = thread
        self.registry = registry

    @property
    def port(self) -> int:
        """The port the server listens on (the actual one when started with port 0)."""
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """The scrape URL."""
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> PrometheusExporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_prometheus_exporter(
    metrics: TradingMetrics, *, port: int = 0, addr: str = "127.0.0.1", prefix: str = "axon_"
) -> PrometheusExporter:
    """Start serving ``metrics`` for Prometheus to scrape.

    Args:
        metrics: The metrics to expose.
        port: TCP port; 0 picks a free one (read it from :attr:`PrometheusExporter.port`).
        addr: Interface to bind; the default keeps it local.
        prefix: Prefix of every metric name.

    Returns:
        The running exporter.

    Raises:
        MissingDependencyError: If ``prometheus-client`` is not installed.
    """
    client = require("prometheus_client", "metrics", purpose="the Prometheus exporter")
    core = require("prometheus_client.core", "metrics", purpose="the Prometheus exporter")
    registry = client.CollectorRegistry(auto_describe=False)
    registry.register(_TradingCollector(metrics, prefix, core))
    server, thread = client.start_http_server(port, addr=addr, registry=registry)
    return PrometheusExporter(server, thread, registry)
