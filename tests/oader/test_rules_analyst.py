"""RulesAnalyst: a real tool-calling reasoning chain, documented formulas, always labelled rules."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.data import MarketView
from axon_lab.errors import ConfigError
from axon_lab.oader import ContextBuilder, RulesAnalyst
from axon_lab.oader.rules_analyst import rsi_cutler, true_ranges
from axon_lab.records import Action, AnalysisSource, MarketAssessment
from axon_lab.tools import ToolRegistry, make_trading_tools

from .conftest import synthetic, trend_frame


def _analyse(frame: pd.DataFrame, at: int, **kw: Any) -> Any:
    view = MarketView(frame)
    now: datetime = view.decision_times()[at].to_pydatetime()
    clock = SimulatedClock(now)
    tools = make_trading_tools(
        MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=clock), view=view
    )
    obs = ContextBuilder(view, tools.query)(now)
    return RulesAnalyst(tools, **kw)(obs), view, now


def test_uptrend_buys_with_a_confidence_from_the_formula() -> None:
    analysis, view, now = _analyse(trend_frame(step=0.004), 100)
    assert analysis.source is AnalysisSource.RULES
    assert analysis.analyst.startswith("rules:")
    assert analysis.llm_calls == ()
    assert analysis.market_assessment is MarketAssessment.UPTREND
    assert analysis.action is Action.BUY
    # recompute the documented formula from the same complete bars
    bars = view.as_of(now, "SYN", 49)
    closes, highs, lows = (bars[c].tolist() for c in ("close", "high", "low"))
    tr = true_ranges(highs, lows, closes)
    atr, usual = sum(tr[-14:]) / 14, sum(tr[-48:]) / 48
    spread = (sum(closes[-10:]) / 10 - sum(closes[-30:]) / 30) / atr
    rsi = rsi_cutler(closes, 14)
    clip = lambda x: min(1.0, max(0.0, x))  # noqa: E731
    expected = (
        0.5 * clip((spread - 0.5) / 1.5)
        + 0.3 * clip((rsi - 50) / 25)
        + 0.2 * clip((1.5 - atr / usual) / 0.7)
    )
    assert analysis.confidence == pytest.approx(expected, abs=1e-6)
    assert 0.6 <= analysis.confidence <= 1.0


def test_downtrend_proposes_a_sell() -> None:
    analysis, _, _ = _analyse(trend_frame(step=-0.004), 100)
    assert analysis.market_assessment is MarketAssessment.DOWNTREND
    assert analysis.action is Action.SELL


def test_the_reasoning_chain_holds_real_tool_calls_and_their_json() -> None:
    analysis, view, now = _analyse(synthetic(), 120)
    calls = [s for s in analysis.reasoning_steps if s.action is not None]
    assert [s.action.name for s in calls] == ["get_market_data", "query_portfolio"]
    market = json.loads(calls[0].observation)
    assert json.loads(calls[0].action.arguments) == {
        "symbol": "SYN",
        "lookback": 49,
        "include_features": False,
    }
    assert market["as_of"] == now.isoformat()
    closes = [b["close"] for b in market["bars"]]
    assert closes == view.as_of(now, "SYN", 49)["close"].tolist()
    assert json.loads(calls[1].observation)["cash"] == 1_000.0
    assert "confidence" in analysis.reasoning_steps[-1].thought


def test_warm_up_holds_with_zero_confidence_and_says_why() -> None:
    analysis, _, _ = _analyse(synthetic(), 5)
    assert analysis.action is Action.HOLD
    assert analysis.confidence == 0.0
    assert "warming up: 6 of the 49" in analysis.reason


def test_a_flat_market_cannot_be_measured_and_holds() -> None:
    frame = trend_frame(step=0.0)
    frame.loc[:, ["open", "high", "low", "close"]] = 50.0
    analysis, _, _ = _analyse(frame, 80)
    assert analysis.action is Action.HOLD
    assert "ATR 0" in analysis.reason


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), at=st.integers(50, 150))
def test_confidence_is_a_probability_and_low_confidence_never_trades(seed: int, at: int) -> None:
    analysis, _, _ = _analyse(synthetic(160, seed=seed), at)
    assert 0.0 <= analysis.confidence <= 1.0
    assert math.isfinite(analysis.confidence)
    if analysis.confidence < 0.6:
        assert analysis.action is Action.HOLD
    if analysis.market_assessment is MarketAssessment.RANGE:
        assert analysis.action is Action.HOLD


def test_bad_parameters_and_missing_tools_are_refused() -> None:
    view = MarketView(synthetic(60))
    tools = make_trading_tools(MockTradingBackend({"SYN": 1.0}, cash=1.0), view=view)
    with pytest.raises(ConfigError, match="fast \\(30\\) must be shorter than slow \\(10\\)"):
        RulesAnalyst(tools, fast=30, slow=10)
    with pytest.raises(ConfigError, match="vol_window must be an int >= 1"):
        RulesAnalyst(tools, vol_window=0)
    with pytest.raises(ConfigError, match="needs a 'get_market_data' tool"):
        RulesAnalyst(ToolRegistry([tools.query]))
