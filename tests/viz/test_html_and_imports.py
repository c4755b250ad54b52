from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from axon_lab.errors import ConfigError
from axon_lab.viz import (
    figures_to_html,
    plot_confidence,
    plot_decisions,
    plot_equity,
    plot_llm_usage,
    plot_pareto_front,
    plot_rejections,
    plot_sweep_heatmap,
    plot_training_curve,
    section_html,
)

PLOTLY_BANNER = "* plotly.js v"  # the licence header at the top of the inlined bundle


def test_importing_viz_does_not_import_plotly_or_optuna():
    code = (
        "import sys, axon_lab.viz\n"
        "print(sorted(m for m in ('plotly', 'optuna') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def every_figure(frame, run_steps):
    sweep = pd.DataFrame(
        {"fast": [5, 5, 10, 10], "slow": [20, 50, 20, 50], "sharpe": [0.1, 0.4, 0.2, 0.3]}
    )
    log = {
        "timesteps": [10, 20, 30],
        "reward": [1.0, 2.0, 1.5],
        "eval_reward": [float("nan"), 2.5, 3.0],
    }
    return [
        plot_decisions(frame, run_steps),
        plot_equity(run_steps, frame),
        plot_confidence(run_steps, threshold=0.6),
        plot_rejections(run_steps, freq="2h"),
        plot_llm_usage(run_steps),
        plot_sweep_heatmap(sweep, "fast", "slow", "sharpe"),
        plot_pareto_front(
            [(0.1, 0.2), (0.2, 0.3), (0.05, 0.3)], directions=["maximize", "minimize"]
        ),
        plot_training_curve(log, window=2),
    ]


def test_every_figure_in_one_self_contained_document(every_figure, tmp_path):
    page = figures_to_html(every_figure, "Run <run-viz> & friends")
    path = tmp_path / "figures.html"
    path.write_text(page, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>Run &lt;run-viz&gt; &amp; friends</title>" in text
    assert text.count(PLOTLY_BANNER) == 1  # plotly.js inlined once, by the first figure
    assert '<script src="http' not in text  # nothing fetched from a CDN
    assert [f'id="axon-figure-{i}"' in text for i in range(8)] == [True] * 8
    names = {t.name for fig in every_figure for t in fig.data}
    assert names >= {
        "SYN", "buy", "sell", "abstain", "rejected", "equity", "buy & hold", "drawdown",
        "confidence", "threshold", "max_position", "drawdown_breaker", "latency (live)",
        "cost (cache hit)", "sharpe", "Pareto front", "episode reward", "eval reward",
    }  # fmt: skip
    for name in names:
        assert f'"name":"{name}"' in text.replace("\\u0026", "&"), name
    assert figures_to_html(every_figure, "same") == figures_to_html(every_figure, "same")


def test_section_html_inlines_js_only_when_asked(every_figure):
    with_js = section_html(every_figure[0], True, div_id="a")
    without = section_html(every_figure[1], False, div_id="b")
    assert with_js.count(PLOTLY_BANNER) == 1
    assert PLOTLY_BANNER not in without
    assert 'id="b"' in without
    assert not without.lstrip().startswith("<html")


def test_bad_html_inputs(every_figure):
    with pytest.raises(ConfigError, match="non-empty sequence of plotly figures"):
        figures_to_html([], "empty")
    with pytest.raises(ConfigError, match="Expected a plotly Figure, got dict"):
        figures_to_html([{}], "x")
    with pytest.raises(ConfigError, match="include_js must be True or False"):
        section_html(every_figure[0], "cdn")  # type: ignore[arg-type]
