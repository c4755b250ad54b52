from __future__ import annotations

import sys
import urllib.request

import pytest

from axon_lab.errors import MissingDependencyError
from axon_lab.metrics import TradingMetrics, start_prometheus_exporter


def test_importing_metrics_does_not_import_prometheus_client():
    import subprocess

    code = (
        "import sys, axon_lab.metrics, axon_lab.tools, axon_lab.risk, axon_lab.backends; "
        "heavy = {'prometheus_client', 'plotly', 'torch', 'openai'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scrape_over_real_http():
    pytest.importorskip("prometheus_client")
    m = TradingMetrics()
    m.record_order("filled")
    m.record_order("filled")
    m.record_risk_reject("max_daily_orders")
    m.record_backend_fail("place")
    m.observe_latency(0.003)
    m.set_daily_orders(2)
    with start_prometheus_exporter(m, port=0) as exporter:
        assert exporter.port > 0
        assert exporter.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(exporter.url, timeout=5) as resp:
            body = resp.read().decode()
        m.record_order("rejected")  # values are read at scrape time
        with urllib.request.urlopen(exporter.url, timeout=5) as resp:
            later = resp.read().decode()
    assert 'axon_orders_total{status="filled"} 2.0' in body
    assert 'axon_risk_rejects_total{rule="max_daily_orders"} 1.0' in body
    assert 'axon_backend_fails_total{operation="place"} 1.0' in body
    assert "axon_execute_latency_seconds_count 1.0" in body
    assert 'axon_execute_latency_seconds_bucket{le="0.005"} 1.0' in body
    assert 'axon_execute_latency_seconds_quantile{quantile="0.99"} 0.003' in body
    assert "axon_daily_orders 2.0" in body
    assert 'axon_orders_total{status="rejected"} 1.0' in later


def test_missing_prometheus_client_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'axon-lab\[metrics\]'"):
        start_prometheus_exporter(TradingMetrics())
