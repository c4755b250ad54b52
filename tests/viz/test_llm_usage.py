from __future__ import annotations

import pytest

from axon_lab.errors import ConfigError
from axon_lab.records import LLMCall
from axon_lab.viz import get_llm_usage_info, plot_llm_usage


def test_latency_and_cost_per_step_split_by_cache_hit(run_steps):
    info = get_llm_usage_info(run_steps)
    assert info.steps == list(range(8))
    assert info.n_calls == [2, 1, 1, 0, 0, 0, 0, 2]
    assert info.n_cache_hits == [0, 0, 1, 0, 0, 0, 0, 1]
    assert info.n_errors == [0] * 8
    assert info.latency_live == pytest.approx([0.75, 0.4, 0, 0, 0, 0, 0, 0.6])
    assert info.latency_cached == pytest.approx([0, 0, 0.01, 0, 0, 0, 0, 0.02])
    assert info.cost_live == pytest.approx([0.003, 0.003, 0, 0, 0, 0, 0, 0.004])
    assert info.cost_cached == [0.0] * 8
    # llm_call(n=k) has tokens_in 100 + k, tokens_out 10 + k
    assert info.tokens_in == [201, 102, 103, 0, 0, 0, 0, 209]
    assert info.tokens_out == [21, 12, 13, 0, 0, 0, 0, 29]


def test_failed_calls_are_counted(make_step):
    def call(latency: float, error: str | None) -> LLMCall:
        return LLMCall(model="m", request_hash=f"h{latency}", tokens_in=1, tokens_out=1,
                       latency_s=latency, error=error)  # fmt: skip

    info = get_llm_usage_info([make_step(0, calls=[call(1.0, "timeout"), call(0.2, None)])])
    assert (info.n_calls, info.n_errors, info.latency_live) == ([2], [1], [1.2])


def test_renderer_stacks_live_and_cached_bars_in_two_rows(run_steps):
    fig = plot_llm_usage(run_steps)
    assert [(t.type, t.name, t.yaxis) for t in fig.data] == [
        ("bar", "latency (live)", "y"),
        ("bar", "latency (cache hit)", "y"),
        ("bar", "cost (live)", "y2"),
        ("bar", "cost (cache hit)", "y2"),
    ]
    assert all(list(t.x) == list(range(8)) for t in fig.data)
    assert fig.data[1].y[2] == pytest.approx(0.01)
    assert "1 cache hit(s)" in fig.data[0].text[2]
    assert fig.layout.barmode == "stack"


def test_a_run_without_llm_calls_is_refused(make_step):
    with pytest.raises(ConfigError, match="None of the 2 steps made an LLM call"):
        get_llm_usage_info([make_step(0), make_step(1)])
    with pytest.raises(ConfigError, match="steps is empty"):
        get_llm_usage_info([])
