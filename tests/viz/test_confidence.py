from __future__ import annotations

import pandas as pd
import pytest

from axon_lab.errors import ConfigError
from axon_lab.viz import get_confidence_info, plot_confidence


def test_confidence_per_step_from_the_decision_else_skipped(run_steps):
    info = get_confidence_info(run_steps, threshold=0.6)
    # step 3 failed before analysing: no confidence, left out
    assert info.steps == [0, 1, 2, 4, 5, 6, 7]
    assert info.confidence == [0.8, 0.7, 0.3, 0.0, 0.75, 0.65, 0.9]
    assert info.actions == ["buy", "sell", "hold", "hold", "buy", "sell", "buy"]
    assert info.sources == ["llm", "llm", "rules", "abstain", "llm", "llm", "llm"]
    assert info.x == [pd.Timestamp(run_steps[i].timestamp) for i in info.steps]
    assert info.threshold == 0.6


def test_analysis_confidence_is_used_when_there_is_no_decision(make_step):
    step = make_step(0, action="sell", confidence=0.55)
    no_decision = step.replace(decision=None)
    info = get_confidence_info([no_decision])
    assert (info.confidence, info.actions, info.sources) == ([0.55], ["sell"], ["analysis"])


def test_renderer_draws_points_and_threshold_line(run_steps):
    fig = plot_confidence(run_steps, threshold=0.6)
    assert [(t.type, t.name) for t in fig.data] == [
        ("scatter", "confidence"),
        ("scatter", "threshold"),
    ]
    assert list(fig.data[0].y) == [0.8, 0.7, 0.3, 0.0, 0.75, 0.65, 0.9]
    assert list(fig.data[1].y) == [0.6, 0.6]
    assert list(fig.data[1].x) == [fig.data[0].x[0], fig.data[0].x[-1]]
    assert len(set(fig.data[0].marker.color)) == 3  # buy, sell, hold coloured apart
    assert [t.name for t in plot_confidence(run_steps).data] == ["confidence"]


def test_bad_inputs(run_steps, make_step):
    with pytest.raises(ConfigError, match=r"threshold must be in \[0, 1\].*got 1\.5"):
        get_confidence_info(run_steps, threshold=1.5)
    with pytest.raises(ConfigError, match="threshold"):
        get_confidence_info(run_steps, threshold=float("nan"))
    with pytest.raises(ConfigError, match="None of the 1 steps carries a decision"):
        get_confidence_info([make_step(0, failed="observe")])
    with pytest.raises(ConfigError, match="steps is empty"):
        plot_confidence([])
