"""Dashboard: follows a live loop, browses past runs of a file-backed ExplainStore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore
from axon_lab.widgets import Dashboard


def test_dashboard_browses_a_past_run_from_a_sqlite_file(
    agent_factory: Any, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    past = agent_factory(store=url, run_id="past")
    past.run(15)
    past.close()
    with ExplainStore(url) as store:
        dash = Dashboard(store=store)
        assert dash.stepper is None
        assert [v for _, v in dash.run_picker.options] == ["past"]
        assert dash.run_id == "past"  # the newest run is shown
        assert dash.chart.steps == list(range(15))
        assert dash.reasoning.steps[0] == 14
        assert dash.detail.record.step == 14
        assert {r.rule for r in dash.rejections.rows} == {"max_daily_orders"}


def test_dashboard_switches_between_the_live_run_and_a_past_one(
    agent_factory: Any, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    past = agent_factory(store=url, run_id="past")
    past.run(5)
    past.close()
    live = agent_factory(store=url, run_id="live")
    dash = Dashboard(live)
    assert dash.run_id == "live"
    assert dash.chart.steps == []
    assert [v for _, v in dash.run_picker.options] == ["past", "live"]
    dash.stepper.step_button.click()
    assert dash.chart.steps == [0]
    assert dash.reasoning.steps == [0]

    dash.run_picker.value = "past"  # browse the past run: the stepper is locked
    assert dash.chart.steps == list(range(5))
    assert dash.detail.record.run_id == "past"
    assert dash.stepper.step_button.disabled
    assert dash.stepper.run_button.disabled
    live.run(2)  # steps of the live run do not leak into the past run's views
    assert dash.chart.steps == list(range(5))

    dash.run_picker.value = "live"  # back: reloaded from the store, following again
    assert dash.chart.steps == [0, 1, 2]
    assert dash.reasoning.steps == [2, 1, 0]
    assert not dash.stepper.step_button.disabled
    dash.stepper.step_button.click()
    assert dash.chart.steps == [0, 1, 2, 3]


def test_dashboard_reset_selects_the_new_run(agent_factory: Any) -> None:
    first = agent_factory(run_id="a")
    dash = Dashboard(first, factory=lambda: agent_factory(run_id="b", store=first.store))
    dash.stepper.step_button.click()
    dash.stepper.reset_button.click()
    assert dash.run_id == "b"
    assert dash.run_picker.value == "b"
    assert dash.chart.steps == []
    assert dash.reasoning.steps == []
    dash.stepper.step_button.click()
    assert dash.loop is not None
    assert dash.loop.run_id == "b"
    assert dash.chart.steps == [0]


def test_dashboard_display_resyncs_the_chart(agent_factory: Any) -> None:
    dash = Dashboard(agent_factory())
    dash.stepper.step_button.click()
    dash.chart.figure._widget_data = []  # as if the synced state had gone stale
    bundle = dash._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert dash.chart.figure._widget_data[0]["y"] == dash.chart.y


def test_dashboard_needs_a_store() -> None:
    with pytest.raises(ConfigError, match="Dashboard needs a loop built by make_agent"):
        Dashboard()


def test_importing_axon_lab_widgets_imports_neither_ipywidgets_nor_plotly() -> None:
    code = (
        "import sys, axon_lab, axon_lab.widgets; "
        "print(sorted(m for m in ('ipywidgets', 'plotly') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
