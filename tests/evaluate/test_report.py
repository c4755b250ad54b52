"""The evaluation report: verdict wording within the interval, escaping, figure info."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.data import make_synthetic
from axon_lab.evaluate import (
    AgentSpec,
    EvalWindow,
    Interval,
    build_evaluation_report,
    evaluate,
    get_leaderboard_info,
    get_window_equity_info,
    verdict_text,
)
from axon_lab.explain import ExplainStore

NUMBER = r"([+-]\d+\.\d\d)%"


def _interval(low: float, high: float) -> Interval:
    return Interval(
        estimate=(low + high) / 2,
        low=low,
        high=high,
        level=0.95,
        method="stationary bootstrap (percentile)",
        block_length=1,
        n_resamples=100,
    )


@given(
    st.floats(-0.5, 0.5, allow_nan=False),
    st.floats(0.0, 0.5, allow_nan=False),
    st.integers(1, 40),
    st.data(),
)
def test_the_verdict_never_claims_more_than_its_interval(
    low: float, width: float, n: int, data: st.DataObject
) -> None:
    high = low + width
    mean = data.draw(st.floats(low, high, allow_nan=False)) if width else low
    wins = data.draw(st.integers(0, n))
    text = verdict_text(
        "agent", "buy_and_hold", wins=wins, n=n, mean_excess=mean, interval=_interval(low, high)
    )
    # oracle: read the interval back from the sentence and check each claim against it
    shown = [float(x) / 100 for x in re.findall(NUMBER, text)]
    assert len(shown) == 3
    assert f"in {wins} of {n} windows" in text
    claims_more = "earned more" in text
    claims_less = "earned less" in text
    assert claims_more == (low > 0)
    assert claims_less == (high < 0)
    if claims_more:
        assert shown[1] >= 0  # the printed lower bound is not negative
    if claims_less:
        assert shown[2] <= 0
    if not (claims_more or claims_less):
        assert "no evidence of a difference" in text
    assert "significant" not in text
    assert "outperform" not in text


def test_no_interval_no_conclusion() -> None:
    text = verdict_text("a", "flat", wins=1, n=1, mean_excess=0.01, interval=None)
    assert text.endswith("(too few windows for an interval): no conclusion.")


@pytest.fixture(scope="module")
def evaluation():  # type: ignore[no-untyped-def]
    data = [
        make_synthetic(200, timeframe="1d", seed=1, symbol="AAA"),
        make_synthetic(200, timeframe="1d", seed=2, symbol="BBB"),
    ]
    with ExplainStore("sqlite://") as store:
        return evaluate(
            AgentSpec(name="rules"),
            data,
            n_windows=2,
            warmup=50,
            n_random=1,
            store=store,
            evaluation_id="rep",
            progress=False,
        )


def test_report_lists_every_run_id_and_the_intervals(evaluation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = build_evaluation_report(evaluation)
    md = report.to_markdown()
    for run_id in evaluation.results["run_id"]:
        assert run_id in md
    rows = {r.agent: r for r in report.summary.leaderboard}
    assert set(rows) == {"rules", "buy_and_hold", "flat", "random"}
    rules = evaluation.window_returns("rules")
    assert rows["rules"].mean_return == pytest.approx(np.mean(rules))
    assert rows["rules"].interval is not None
    assert rows["rules"].interval.low <= rows["rules"].mean_return <= rows["rules"].interval.high
    bh = evaluation.window_returns("buy_and_hold")
    assert rows["rules"].wins_vs_buy_and_hold == int(np.sum(rules > bh))
    comparisons = {c.baseline: c for c in report.summary.comparisons}
    assert set(comparisons) == {"buy_and_hold", "flat", "random"}
    assert comparisons["buy_and_hold"].verdict in md
    assert "probabilistic Sharpe of rules" in report.summary.sharpe_note
    md_path, html_path = report.save(tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert page.count('<script type="text/javascript">/**') <= 1  # plotly.js inlined once
    assert "evaluation-fig-1" in page
    assert md_path.read_text(encoding="utf-8") == md


def test_figure_info_is_the_equity_relative_to_cash(evaluation) -> None:  # type: ignore[no-untyped-def]
    info = get_window_equity_info(evaluation)
    assert info.windows == [w.label for w in evaluation.windows]
    j = info.agents.index("buy_and_hold")
    eq = evaluation.equity[("buy_and_hold", evaluation.windows[0].label)]
    assert info.values[0][j] == pytest.approx(list(eq / evaluation.cash))
    board = get_leaderboard_info(build_evaluation_report(evaluation).summary)
    assert board.agents[0] == "rules"


def test_text_from_data_is_escaped_everywhere(evaluation) -> None:  # type: ignore[no-untyped-def]
    evil = "<script>alert(1)</script>"
    windows = tuple(dataclasses.replace(w, symbol=evil + w.symbol) for w in evaluation.windows)
    relabel = {w.label: n.label for w, n in zip(evaluation.windows, windows, strict=True)}
    results = evaluation.results.copy()
    results["label"] = results["label"].map(relabel)
    results["symbol"] = evil
    equity = {(a, relabel[lab]): s for (a, lab), s in evaluation.equity.items()}
    bad = dataclasses.replace(
        evaluation, windows=windows, results=results, equity=equity, evaluation_id="x<b>y"
    )
    report = build_evaluation_report(bad)
    for text in (report.to_markdown(), report.to_html(), report._repr_html_()):
        assert evil not in text
        assert "x<b>y" not in text
    assert "&lt;script&gt;" in report.to_markdown()
    assert all(evil not in w for w in get_window_equity_info(bad).windows)
    assert isinstance(windows[0], EvalWindow)
