"""Portfolio views: the info behind the weights and contribution figures, the report, the widget."""

from __future__ import annotations

import math

import pytest

from axon_lab.data import make_synthetic_universe
from axon_lab.errors import ConfigError
from axon_lab.portfolio import RankingAnalyst, build_portfolio_report, make_portfolio_agent
from axon_lab.viz import get_portfolio_info, plot_contributions, plot_weights


@pytest.fixture(scope="module")
def run():
    uni = make_synthetic_universe(14, 120, seed=12)
    loop = make_portfolio_agent(uni, analyst=RankingAnalyst(top_k=4), fees=0.001, run_id="views")
    loop.run()
    steps = loop.store.steps("views")
    yield loop, steps
    loop.close()


def test_contributions_add_up_to_the_return(run) -> None:
    loop, steps = run
    info = get_portfolio_info(steps, top=3)
    assert len(info.symbols) == 4
    assert info.symbols[-1] == "other"
    start = steps[0].equity - steps[0].pnl
    assert math.isclose(sum(info.contribution), steps[-1].equity / start - 1, abs_tol=1e-9)
    assert math.isclose(info.total_return, loop.backend.equity() / loop.backend.init_cash - 1)
    # weights plus cash are the whole equity at every step
    for i in range(len(steps)):
        assert math.isclose(sum(w[i] for w in info.weights) + info.cash[i], 1.0, abs_tol=1e-9)
    # the named symbols are the largest by mean weight
    means = {s: sum(st.portfolio.weights.get(s, 0.0) for st in steps) for s in info.symbols[:3]}
    assert list(means.values()) == sorted(means.values(), reverse=True)
    assert len(plot_weights(info).data) == 5
    assert len(plot_contributions(info).data) == 1


def test_the_report_tables_each_symbol_and_escapes(run) -> None:
    loop, steps = run
    report = build_portfolio_report(loop.store, "views")
    table = report.symbols
    assert math.isclose(table["contribution"].sum(), report.info.total_return, abs_tol=1e-9)
    assert table["fills"].sum() == sum(len(s.fills) for s in steps)
    page = report.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert "Weights over time" in page
    assert page.count("<tr>") == len(table) + 1


def test_views_refuse_runs_without_a_portfolio() -> None:
    with pytest.raises(ConfigError, match="carry no portfolio part"):
        get_portfolio_info([])


def test_the_widget_shows_a_step(run) -> None:
    from axon_lab.widgets import PortfolioView, render_portfolio_step_html

    _, steps = run
    view = PortfolioView(top=3)
    view.add(steps)
    assert view.slider.max == len(steps) - 1
    view.slider.value = 60
    assert "<b>step 60</b>" in view.detail.value
    assert "&lt;b&gt;" in render_portfolio_step_html(
        steps[60].replace(
            portfolio=steps[60].portfolio.replace(
                decision=steps[60].portfolio.decision.replace(reason="<b>x</b>")
            )
        )
    )
    view.clear()
    assert view.detail.value == "<p>no steps yet</p>"


def test_the_one_symbol_report_points_a_portfolio_run_to_its_own(run) -> None:
    from axon_lab.explain import build_report

    loop, _ = run
    with pytest.raises(ConfigError, match="is a portfolio run"):
        build_report(loop.store, "views")
    assert loop.report().steps == 120
