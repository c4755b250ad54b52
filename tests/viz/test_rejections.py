from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from axon_lab.errors import ConfigError
from axon_lab.viz import get_rejections_info, plot_rejections

LIMIT = ("limit", "max_position", 1.0, 2.0)
GATE = ("gate", "drawdown_breaker", "5%", "6%")
MODE = ("safety_mode", "max_position", None, None)  # same rule name on another line


@pytest.fixture
def rejecting_steps(make_step):
    # bars are hourly from 2024-01-01 00:00; each step is at hh:30
    return [
        make_step(0, rejections=[LIMIT]),
        make_step(1, rejections=[LIMIT, GATE]),
        make_step(2),
        make_step(3, rejections=[GATE]),
        make_step(4, rejections=[GATE, MODE]),
        make_step(9, rejections=[LIMIT]),
    ]


def test_counts_per_rule_per_bucket(rejecting_steps):
    info = get_rejections_info(rejecting_steps, freq="2h")
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    assert info.freq == pd.Timedelta("2h")
    assert info.buckets == [
        t0,
        t0 + timedelta(hours=2),
        t0 + timedelta(hours=4),
        t0 + timedelta(hours=8),
    ]
    assert info.rules == ["max_position", "drawdown_breaker"]  # 4 vs 3 rejections
    assert info.counts == {"max_position": [2, 0, 1, 1], "drawdown_breaker": [1, 1, 1, 0]}
    assert info.lines == {"max_position": ["limit", "safety_mode"], "drawdown_breaker": ["gate"]}
    assert info.total == 7


def test_automatic_bucket_width_fits_max_buckets(rejecting_steps):
    # the steps span 9 hours: 5-minute buckets would be 110 > 60, 15-minute ones 38 <= 60
    assert get_rejections_info(rejecting_steps).freq == pd.Timedelta("15min")
    # hourly: 9 boundaries crossed + the first bucket + one spare = 11 buckets at most
    assert get_rejections_info(rejecting_steps, max_buckets=10).freq == pd.Timedelta("4h")
    hourly = get_rejections_info(rejecting_steps, max_buckets=11)
    assert hourly.freq == pd.Timedelta("1h")
    assert len(hourly.buckets) == 5  # hours 0, 1, 3, 4 and 9 hold rejections
    assert sum(map(sum, hourly.counts.values())) == hourly.total == 7


def test_no_rejections_is_an_empty_result_not_an_error(make_step):
    info = get_rejections_info([make_step(0), make_step(1)], freq="1h")
    assert (info.buckets, info.rules, info.counts, info.total) == ([], [], {}, 0)
    fig = plot_rejections([make_step(0)])
    assert len(fig.data) == 0
    assert fig.layout.annotations[0].text == "no rejections"


def test_renderer_stacks_one_bar_trace_per_rule(rejecting_steps):
    fig = plot_rejections(rejecting_steps, freq="2h")
    assert [(t.type, t.name) for t in fig.data] == [
        ("bar", "max_position"),
        ("bar", "drawdown_breaker"),
    ]
    assert [list(t.y) for t in fig.data] == [[2, 0, 1, 1], [1, 1, 1, 0]]
    assert all(len(t.x) == 4 for t in fig.data)
    assert fig.layout.barmode == "stack"
    assert "limit, safety_mode" in fig.data[0].hovertemplate


def test_bad_inputs(rejecting_steps):
    with pytest.raises(ConfigError, match="freq 'hourly' is not a fixed duration"):
        get_rejections_info(rejecting_steps, freq="hourly")
    with pytest.raises(ConfigError, match="positive duration"):
        get_rejections_info(rejecting_steps, freq="-1h")
    with pytest.raises(ConfigError, match="max_buckets"):
        get_rejections_info(rejecting_steps, max_buckets=1)
    with pytest.raises(ConfigError, match="steps is empty"):
        get_rejections_info([])
