"""Trading metrics: labeled counters, a latency histogram, a daily-order gauge.

The Prometheus exporter needs the ``metrics`` extra and imports ``prometheus_client`` only when
started. The only public API is what is exported here.
"""

from .counter import LabeledCounter
from .histogram import DEFAULT_LATENCY_BUCKETS, LatencyHistogram
from .prometheus import PrometheusExporter, start_prometheus_exporter
from .trading import LatencySummary, MetricSample, MetricsSnapshot, TradingMetrics

__all__ = [
    # the collector
    "TradingMetrics",
    "MetricsSnapshot",
    "MetricSample",
    "LatencySummary",
    # building blocks
    "LabeledCounter",
    "LatencyHistogram",
    "DEFAULT_LATENCY_BUCKETS",
    # export
    "PrometheusExporter",
    "start_prometheus_exporter",
]
