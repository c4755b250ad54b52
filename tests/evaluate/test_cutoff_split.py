"""An evaluation split by the model's training cutoff (issue 19 item 2 in the harness)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.evaluate import AgentSpec, build_evaluation_report, evaluate, split_by_cutoff
from axon_lab.explain import ExplainStore


@pytest.fixture(scope="module")
def ev():
    data = make_synthetic(400, timeframe="1d", start="2020-01-01", seed=8, symbol="SYN")
    with ExplainStore("sqlite://") as store:
        yield evaluate(
            AgentSpec(name="rules"),
            data,
            n_windows=6,
            warmup=50,
            n_random=1,
            store=store,
            evaluation_id="cut",
            progress=False,
        )


def test_windows_are_classed_against_the_cutoff_and_compared_within_each_class(ev):
    rows = ev.results[ev.results["agent"] == "rules"].set_index("label")
    windows = [(w.label, rows.loc[w.label, "start"], rows.loc[w.label, "end"]) for w in ev.windows]
    # a cutoff inside the third window: two before, one spanning, three after
    cutoff = (windows[2][1] + (windows[2][2] - windows[2][1]) / 2).date()
    splits = {s.window_class: s for s in split_by_cutoff(ev, "rules", cutoff)}
    assert {k: s.n_windows for k, s in splits.items()} == {"before": 2, "spanning": 1, "after": 3}
    assert splits["spanning"].comparison is None
    ours, theirs = ev.window_returns("rules"), ev.window_returns("buy_and_hold")
    assert splits["after"].mean_excess == pytest.approx(float(np.mean(ours[3:] - theirs[3:])))
    assert splits["after"].labels == tuple(label for label, _, _ in windows[3:])
    assert splits["after"].comparison.n == 3
    everything_after = split_by_cutoff(ev, "rules", (windows[0][1] - timedelta(days=1)).date())
    assert [s.window_class for s in everything_after] == ["after"]
    assert [s.window_class for s in split_by_cutoff(ev, "rules", None)] == ["unknown"]
    with pytest.raises(ConfigError, match="compares agents of this evaluation"):
        split_by_cutoff(ev, "gpt", cutoff)


def test_the_report_shows_the_split_or_says_the_cutoff_is_unknown(ev):
    rows = ev.results[ev.results["agent"] == "rules"].set_index("label")
    cutoff = rows["end"].iloc[2].date()
    md = build_evaluation_report(ev, model_cutoff=cutoff).to_markdown()
    assert "## By the model's training cutoff" in md
    assert "window(s) after the cutoff" in md
    unknown = build_evaluation_report(ev).to_markdown()
    assert "training cutoff is unknown" in unknown
