"""Explain reports: stats from the equity curve, the buy-and-hold baseline, the order table."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plotly.offline import get_plotlyjs

from axon_lab.data import MarketView, make_synthetic
from axon_lab.errors import ConfigError, StoreError
from axon_lab.explain import (
    STATS_KEYS,
    ExplainBridge,
    ExplainStore,
    build_report,
    equity_stats,
    periods_per_year,
)
from axon_lab.oader import make_agent


@pytest.fixture(scope="module")
def run() -> Iterator[tuple[ExplainStore, MarketView]]:
    frame = make_synthetic(400, timeframe="1h", start="2024-01-01", seed=13, symbol="SYN")
    loop = make_agent(frame, store="sqlite://", run_id="rep", progress=False, fee_rate=0.002)
    loop.run(300)
    yield loop.store, loop.view
    loop.close()


def test_stats_match_a_direct_computation() -> None:
    eq = np.array([101.0, 99.0, 104.0, 102.0])
    s = equity_stats(eq, start_value=100.0, periods_per_year=12)
    r = eq / np.array([100.0, 101.0, 99.0, 104.0]) - 1
    assert s["total_return"] == pytest.approx(0.02)
    assert s["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(12))
    assert s["annual_volatility"] == pytest.approx(r.std(ddof=1) * math.sqrt(12))
    assert s["max_drawdown"] == pytest.approx(99.0 / 101.0 - 1)
    assert math.isnan(s["cagr"])  # four months: a return under a year is not annualised
    assert tuple(s) == STATS_KEYS
    two_years = equity_stats(eq, start_value=100.0, periods_per_year=2)
    assert two_years["cagr"] == pytest.approx(1.02 ** (2 / 4) - 1)


def test_a_three_week_window_gets_no_cagr_and_a_note_says_why() -> None:
    # before: the summary annualised a three-week window into a CAGR of 44,695 %
    frame = make_synthetic(600, timeframe="1h", start="2024-01-01", seed=5, symbol="SYN")
    loop = make_agent(frame, store="sqlite://", run_id="short", progress=False)
    loop.run(500)
    report = build_report(loop.store, "short", view=loop.view, figures=False)
    assert math.isnan(report.summary["cagr"])
    assert any("CAGR is not shown" in n and "less than a year" in n for n in report.notes)
    assert "| CAGR | n/a |" in report.to_markdown()
    loop.close()


def test_stats_agree_with_the_backtest_engine_definitions() -> None:
    bt = pytest.importorskip("axon_lab.backtest._stats")
    rng = np.random.default_rng(0)
    eq = 1_000.0 * np.cumprod(1 + rng.normal(0, 0.01, 300))
    acc = np.zeros((1, bt.N_ACC))
    bt.equity_stats_nb(eq[:, None], np.ones((300, 1)), 1_000.0, acc[0], 0)
    # (a full year of bars: the engine annualises any window, the report only a year or more)
    theirs = bt.finalize(acc[0], 1_000.0, 300.0)
    ours = equity_stats(eq, start_value=1_000.0, periods_per_year=300.0)
    for key in ("total_return", "cagr", "annual_volatility", "sharpe", "max_drawdown"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-9), key


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(1.0, 1e6), min_size=1, max_size=60))
def test_max_drawdown_is_a_nonpositive_fraction(values: list[float]) -> None:
    s = equity_stats(values, start_value=values[0], periods_per_year=252)
    assert -1.0 < s["max_drawdown"] <= 0.0


def test_periods_per_year_from_the_step_spacing() -> None:
    hourly = pd.date_range("2024-01-01", periods=500, freq="4h", tz="UTC")
    assert periods_per_year(hourly) == pytest.approx(365 * 6)
    assert periods_per_year(pd.DatetimeIndex([pd.Timestamp("2024-01-01", tz="UTC")])) == 252.0


def test_the_summary_is_computed_from_the_recorded_run(
    run: tuple[ExplainStore, MarketView],
) -> None:
    store, view = run
    report = build_report(store, "rep", view=view)
    steps = store.steps("rep")
    s = report.summary
    assert s["steps"] == 300
    assert s["end_value"] == steps[-1].equity
    assert s["start_value"] == pytest.approx(100_000.0)
    assert s["fills"] == sum(len(x.fills) for x in steps) > 0
    assert s["fees"] == pytest.approx(sum(f.fee for x in steps for f in x.fills))
    assert s["llm_calls"] == 0
    assert report.rejections == {}
    # buy and hold: all cash at the first step's known close, less one fee
    closes = [view.last_price(x.timestamp) for x in steps]
    assert report.baseline["end_value"] == pytest.approx(
        100_000.0 * (1 - 0.002) * closes[-1] / closes[0]
    )


def test_every_order_is_tied_to_its_step_reasoning_verdicts_and_fills(
    run: tuple[ExplainStore, MarketView],
) -> None:
    store, _ = run
    report = build_report(store, "rep")
    assert report.baseline is None
    steps = {x.step: x for x in store.steps("rep")}
    placed = [r for r in report.orders if r.status == "filled" and r.decision]
    assert placed
    row = placed[0]
    step = steps[row.step]
    assert step.acks[0].client_order_id in row.order
    assert row.reasoning.startswith("Bars: read the last 49 complete bars of SYN")
    assert " -> Position: " in row.reasoning
    assert " -> Reading: " in row.reasoning
    assert "backend:accepted ok" in row.verdicts
    # the backtest backend fills at the next bar's open, so the fill is recorded by a later step
    fill_step = re.match(r"step (\d+) buy ", row.fills)
    assert fill_step is not None
    assert int(fill_step.group(1)) > row.step
    exits = [r for r in report.orders if r.status.startswith("filled (backend exit")]
    for r in exits:
        assert "not sent through the risk chain" in r.verdicts


def test_markdown_and_a_self_contained_html_file(
    run: tuple[ExplainStore, MarketView], tmp_path: Path
) -> None:
    store, view = run
    report = ExplainBridge(store).report("rep", view=view, figures=False)
    report.add_section("Equity curve", markdown="(figure)", html="<div id=fig>figure</div>")
    md, page = report.save(tmp_path / "out")
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|src=", text)
    assert "<div id=fig>figure</div>" in text
    assert "buy &amp; hold" in text
    markdown = md.read_text()
    assert "| total return |" in markdown
    assert "## Equity curve" in markdown
    assert "Analyst: deterministic rules" in markdown


def test_the_html_report_carries_the_figures_and_still_opens_offline(
    run: tuple[ExplainStore, MarketView], tmp_path: Path
) -> None:
    store, view = run
    plain = build_report(store, "rep", view=view, figures=False)
    report = build_report(store, "rep", view=view)
    titles = [f.title for f in report.figures]
    assert titles == ["Decisions on the price", "Equity vs buy-and-hold", "Confidence"]
    _, page = report.save(tmp_path / "out")
    text = page.read_text()
    assert "<h2>Figures</h2>" in text
    for title in titles:
        assert f"<h3>{title}</h3>" in text
    bundle = get_plotlyjs()
    assert text.count(bundle) == 1  # plotly.js inlined once, the other figures reuse it
    assert text.count("* plotly.js v") == 1
    # outside plotly.js itself (whose map tiles name their servers), nothing names a URL: no
    # script src, no stylesheet link, no CDN; the page opens offline
    page_only = text.replace(bundle, "")
    assert not re.search(r"<script[^>]*\ssrc=|<link\b|https?://|cdn\.", page_only)
    assert report.to_markdown() == plain.to_markdown()  # the Markdown report has no figures
    assert text == build_report(store, "rep", view=view).to_html()  # deterministic


def test_rejection_and_llm_figures_appear_when_there_were_rejections_and_llm_calls() -> None:
    from axon_lab.llm import ScriptedClient
    from axon_lab.risk import RiskLimits

    frame = make_synthetic(120, timeframe="1h", start="2024-01-01", seed=3, symbol="SYN")
    answer = (
        '{"thought": "t", "market_assessment": "uptrend", "risk_assessment": "low", '
        '"confidence": 0.9, "action": "buy", "reason": "r"}'
    )
    loop = make_agent(
        frame,
        analyst=ScriptedClient(lambda r: answer, model="m"),
        store="sqlite://",
        run_id="llm",
        progress=False,
        limits=RiskLimits(blocked_symbols=frozenset({"SYN"})),
    )
    loop.run(3)
    report = loop.report()
    loop.close()
    assert report.rejections == {"blocked_symbols": 3}
    assert [f.title for f in report.figures][-2:] == ["Rejections by rule", "LLM usage"]
    assert report.to_html().count("* plotly.js v") == 1


def test_reports_of_missing_or_empty_runs_fail_clearly() -> None:
    with ExplainStore("sqlite://") as store:
        with pytest.raises(StoreError, match="nope"):
            build_report(store, "nope")
        store.create_run({}, run_id="empty", data_fingerprint="-", model="rules:x")
        with pytest.raises(ConfigError, match="has no steps yet"):
            build_report(store, "empty")


def test_a_model_cutoff_after_the_window_is_flagged() -> None:
    from datetime import date

    from axon_lab.llm import ScriptedClient

    frame = make_synthetic(80, timeframe="1h", start="2024-01-01", seed=1, symbol="SYN")
    answer = (
        '{"thought": "t", "market_assessment": "range", "risk_assessment": "low", '
        '"confidence": 0.2, "action": "hold", "reason": "r"}'
    )
    loop = make_agent(
        frame,
        analyst=ScriptedClient(lambda r: answer, model="m"),
        store="sqlite://",
        run_id="c",
        progress=False,
        model_cutoff=date(2024, 6, 1),
    )
    loop.run(3)
    report = loop.report()
    assert any("before the model's training cutoff 2024-06-01" in n for n in report.notes)
    assert report.summary["llm_calls"] == 3
    loop.close()


def test_model_and_data_text_cannot_inject_markup_into_the_markdown_report():
    # before: report.md escaped only '|' and newlines, so a model's <img onerror=...> ran when
    # the Markdown was rendered
    from axon_lab.data import make_synthetic
    from axon_lab.oader import make_agent
    from axon_lab.records import Action, Decision, DecisionSource, OrderType

    hostile = '<img src=x onerror="alert(1)"> <script>alert(2)</script> \u202e\x00 | end'

    def decide(analysis, observation):
        close = observation.bars["SYN"][-1].close
        return Decision(
            action=Action.BUY,
            symbol="SYN",
            quantity=1.0,
            order_type=OrderType.LIMIT,
            price=round(close, 2),
            confidence=0.9,
            source=DecisionSource.RULES,
            reason=hostile,
        )

    loop = make_agent(
        make_synthetic(200, timeframe="1h", seed=2, symbol="SYN"),
        store="sqlite://",
        run_id="hostile",
        progress=False,
        decide=decide,
    )
    loop.run(60)
    report = loop.report(figures=False)
    md = report.to_markdown()
    assert report.orders
    assert "<img" not in md
    assert "<script" not in md
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in md
    assert "\u202e" not in md
    assert "\x00" not in md
    page = report.to_html()
    assert "<img src=x" not in page
    assert "<script>alert(2)" not in page
    loop.close()
