"""RulesAnalyst: reads the observation it is given, documented formulas, always labelled rules."""

from __future__ import annotations

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

from .conftest import synthetic, trend_frame


def _analyse(frame: pd.DataFrame, at: int, **kw: Any) -> Any:
    view = MarketView(frame)
    now: datetime = view.decision_times()[at].to_pydatetime()
    clock = SimulatedClock(now)
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=clock)
    analyst = RulesAnalyst(**kw)
    obs = ContextBuilder(view, backend, lookback=analyst.lookback)(now)
    return analyst(obs), view, now


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


def test_the_reasoning_chain_says_what_it_read_from_the_observation() -> None:
    analysis, view, now = _analyse(synthetic(), 120)
    bars = view.as_of(now, "SYN", 49)
    first, last = bars.index[0].isoformat(), bars.index[-1].isoformat()
    read, position, indicators, reading = (s.thought for s in analysis.reasoning_steps)
    assert f"last 49 complete bars of SYN from the observation, {first} to {last}" in read
    assert f"last close {bars['close'].iloc[-1]:.6g}" in read
    assert position == "Position: 0 SYN, cash 1,000.00, equity 1,000.00."
    assert indicators.startswith("Indicators: SMA10=")
    assert "confidence" in reading
    # no tool is called: nothing in the chain is an action
    assert all(s.action is None for s in analysis.reasoning_steps)


def test_it_reads_only_the_observation_it_is_given() -> None:
    """The same observation gives the same analysis, whatever the view holds afterwards."""
    view = MarketView(synthetic())
    now = view.decision_times()[120].to_pydatetime()
    analyst = RulesAnalyst()
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=SimulatedClock(now))
    obs = ContextBuilder(view, backend, lookback=analyst.lookback)(now)
    # the same bars, with every price after them changed, in a second observation
    other_view = MarketView(synthetic(seed=99))
    assert analyst(obs) == analyst(obs.model_copy())
    other = ContextBuilder(other_view, backend, lookback=analyst.lookback)(now)
    assert analyst(other).thought != analyst(obs).thought


def test_a_symbol_the_observation_lacks_is_refused() -> None:
    view = MarketView(synthetic())
    now = view.decision_times()[60].to_pydatetime()
    obs = ContextBuilder(view, MockTradingBackend({"SYN": 1.0}, cash=1.0))(now)
    with pytest.raises(ConfigError, match="reads 'BTC', which the observation does not hold"):
        RulesAnalyst(symbol="BTC")(obs)


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


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ConfigError, match="fast \\(30\\) must be shorter than slow \\(10\\)"):
        RulesAnalyst(fast=30, slow=10)
    with pytest.raises(ConfigError, match="vol_window must be an int >= 1"):
        RulesAnalyst(vol_window=0)
