from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.errors import ConfigError
from axon_lab.metrics import LabeledCounter, LatencyHistogram, MetricSample, TradingMetrics


def test_five_counters_with_their_labels():
    m = TradingMetrics()
    assert [(c.name, c.label) for c in m.counters] == [
        ("orders", "status"),
        ("cancels", "status"),
        ("modifies", "status"),
        ("risk_rejects", "rule"),
        ("backend_fails", "operation"),
    ]
    m.record_order("filled")
    m.record_order("filled")
    m.record_order("rejected")
    m.record_cancel("cancelled")
    m.record_modify("accepted")
    m.record_risk_reject("max_order_notional")
    m.record_backend_fail("place")
    m.set_daily_orders(3)
    snap = m.snapshot()
    assert snap.orders == {"filled": 2, "rejected": 1}
    assert (snap.cancels, snap.modifies) == ({"cancelled": 1}, {"accepted": 1})
    assert (snap.risk_rejects, snap.backend_fails) == ({"max_order_notional": 1}, {"place": 1})
    assert snap.daily_orders == 3


def test_callback_receives_every_change_and_can_be_removed():
    m = TradingMetrics()
    seen: list[MetricSample] = []
    m.set_callback(seen.append)
    m.record_order("filled")
    m.record_order("filled")
    m.set_daily_orders(1)
    assert seen == [
        MetricSample(name="orders", value=1.0, labels=(("status", "filled"),)),
        MetricSample(name="orders", value=2.0, labels=(("status", "filled"),)),
        MetricSample(name="daily_orders", value=1.0),
    ]
    m.set_callback(None)
    m.record_order("filled")
    assert len(seen) == 3


def test_a_failing_callback_warns_and_counting_continues():
    m = TradingMetrics()

    def sink(sample: MetricSample) -> None:
        raise OSError("sink down")

    m.set_callback(sink)
    with pytest.warns(RuntimeWarning, match="raised OSError\\('sink down'\\) on orders"):
        m.record_order("filled")
    assert m.orders.get("filled") == 1


def test_snapshot_percentiles_and_flat_samples():
    m = TradingMetrics()
    data = [0.001 * k for k in range(1, 101)]
    for d in data:
        m.observe_latency(d)
    lat = m.snapshot().latency
    assert lat.count == 100
    assert lat.sum == pytest.approx(sum(data))
    assert (lat.p50, lat.p95, lat.p99) == pytest.approx(tuple(np.quantile(data, [0.5, 0.95, 0.99])))
    names = {s.name for s in m.snapshot().samples()}
    assert {"execute_latency_seconds", "execute_latency_seconds_count", "daily_orders"} <= names
    assert TradingMetrics().snapshot().latency.p99 is None


def test_counter_and_histogram_validation():
    with pytest.raises(ConfigError, match="cannot decrease"):
        LabeledCounter("x", label="y").inc("a", -1)
    with pytest.raises(ConfigError, match="strictly increasing"):
        LatencyHistogram(buckets=(0.1, 0.1))
    with pytest.raises(ConfigError, match="finite positive"):
        LatencyHistogram(buckets=(0.0, 1.0))
    with pytest.raises(ConfigError, match="latency must be finite"):
        LatencyHistogram().observe(float("nan"))
    with pytest.raises(ConfigError, match="quantile must be in"):
        LatencyHistogram().quantile(1.5)


def test_window_bounds_percentiles_but_not_counts():
    h = LatencyHistogram(buckets=(1.0,), window=2)
    for v in (5.0, 0.1, 0.2):
        h.observe(v)
    assert h.count == 3
    assert h.quantile(1.0) == 0.2
    assert h.cumulative_buckets() == ((1.0, 2), (float("inf"), 3))


@given(st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=200))
def test_buckets_are_cumulative_and_match_the_data(values):
    h = LatencyHistogram()
    for v in values:
        h.observe(v)
    buckets = h.cumulative_buckets()
    assert [n for _, n in buckets] == sorted(n for _, n in buckets)
    for bound, n in buckets:
        assert n == sum(v <= bound for v in values)
    assert h.quantile(0.5) == pytest.approx(float(np.quantile(values, 0.5)))
