"""DecisionEngine: seed rules, risk-based sizing, caps, long-only sells, decision modes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.errors import ConfigError
from axon_lab.oader import DecisionEngine
from axon_lab.records import (
    Action,
    Analysis,
    Bar,
    DecisionSource,
    Instrument,
    Observation,
    OrderType,
    PortfolioSnapshot,
    Position,
)
from axon_lab.risk import RiskLimits

T = datetime(2024, 3, 1, tzinfo=UTC)


def obs(
    *, close: float = 200.0, atr: float | None = 4.0, cash: float = 20_000.0, held: float = 0.0
) -> Observation:
    bar = Bar(
        timestamp=datetime(2024, 2, 29, tzinfo=UTC),
        open=close,
        high=close * 1.01,
        low=close * 0.99,
        close=close,
        volume=1.0,
    )
    positions = {}
    if held:
        positions["X"] = Position(symbol="X", quantity=held, avg_price=close, mark_price=close)
    return Observation(
        timestamp=T,
        symbols=("X",),
        timeframe="1d",
        bars={"X": (bar,)},
        features={"X": {"atr_14": atr}},
        portfolio=PortfolioSnapshot.build(timestamp=T, cash=cash, positions=positions),
    )


def analysis(
    action: str = "buy",
    market: str = "uptrend",
    risk: str = "low",
    conf: float = 0.8,
    source: str = "rules",
) -> Analysis:
    return Analysis(
        thought="t",
        market_assessment=market,
        risk_assessment=risk,
        confidence=conf,
        action=action,
        source=source,
        analyst="rules:test" if source == "rules" else "m",
    )


def test_an_uptrend_buys_a_limit_with_brackets_sized_from_risk() -> None:
    d = DecisionEngine(risk_fraction=0.005, stop_atr=1.5, reward_risk=3.0, entry_offset_atr=0.5)(
        analysis(), obs()
    )
    price = 200.0 + 0.5 * 4.0
    assert d.action is Action.BUY
    assert d.order_type is OrderType.LIMIT
    assert d.price == pytest.approx(price)
    assert d.stop_loss == pytest.approx(price - 1.5 * 4.0)
    assert d.take_profit == pytest.approx(price + 3.0 * 1.5 * 4.0)
    assert d.quantity == pytest.approx(20_000.0 * 0.005 / (1.5 * 4.0), abs=1e-8)
    assert d.source is DecisionSource.RULES
    # the loss at the stop is the risk budget
    assert d.quantity * (d.price - d.stop_loss) == pytest.approx(20_000.0 * 0.005, rel=1e-6)


def test_without_brackets_the_same_entry_goes_without_its_exits() -> None:
    kw = {"risk_fraction": 0.005, "stop_atr": 1.5, "reward_risk": 3.0, "entry_offset_atr": 0.5}
    with_exits = DecisionEngine(**kw)(analysis(), obs())
    plain = DecisionEngine(brackets=False, **kw)(analysis(), obs())
    assert (plain.stop_loss, plain.take_profit) == (None, None)
    assert (plain.action, plain.price, plain.quantity) == (
        with_exits.action,
        with_exits.price,
        with_exits.quantity,
    )
    assert plain.reason.endswith("no stop-loss/take-profit attached (brackets off)")
    with pytest.raises(ConfigError, match="brackets must be True or False"):
        DecisionEngine(brackets="no")  # type: ignore[arg-type]


def test_a_wider_stop_buys_less() -> None:
    engine = DecisionEngine()
    calm, wild = engine(analysis(), obs(atr=2.0)), engine(analysis(), obs(atr=8.0))
    assert calm.quantity == pytest.approx(4 * wild.quantity, rel=1e-6)


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"conf": 0.5}, "below the threshold"),
        ({"risk": "high"}, "risk assessment is high"),
        ({"action": "hold", "market": "range"}, "hold proposed"),
    ],
)
def test_the_seed_rules_hold(kw: dict[str, Any], why: str) -> None:
    d = DecisionEngine()(analysis(**kw), obs())
    assert d.action is Action.HOLD
    assert why in d.reason
    assert d.quantity is None


def test_an_abstaining_analysis_holds_as_abstain() -> None:
    a = analysis(action="hold", market="range", risk="high", conf=0.0, source="abstain")
    d = DecisionEngine()(a, obs())
    assert (d.action, d.source) == (Action.HOLD, DecisionSource.ABSTAIN)


def test_a_sell_while_flat_in_long_only_mode_is_a_hold() -> None:
    d = DecisionEngine()(analysis("sell", "downtrend"), obs())
    assert d.action is Action.HOLD
    assert "long-only" in d.reason


def test_a_sell_while_long_closes_the_position_without_brackets() -> None:
    d = DecisionEngine()(analysis("sell", "downtrend"), obs(held=3.0))
    assert (d.action, d.quantity, d.stop_loss, d.take_profit) == (Action.SELL, 3.0, None, None)
    assert "closes the long position" in d.reason


def test_an_exit_larger_than_the_order_cap_is_split() -> None:
    engine = DecisionEngine(limits=RiskLimits(max_order_notional=300.0), cap_margin=0.0)
    d = engine(analysis("sell", "downtrend"), obs(held=3.0))
    assert d.quantity * d.price <= 300.0 + 1e-9
    assert "capped by max_order_notional" in d.reason


def test_shorts_when_allowed() -> None:
    d = DecisionEngine(long_only=False)(analysis("sell", "downtrend"), obs())
    assert d.action is Action.SELL
    assert d.stop_loss > d.price > d.take_profit


def test_a_buy_at_the_risk_sized_position_holds() -> None:
    engine = DecisionEngine()
    first = engine(analysis(), obs())
    held = first.quantity
    d = engine(analysis(), obs(held=held, cash=20_000.0 - held * 200.0))  # same equity
    assert d.action is Action.HOLD
    assert "already at its size" in d.reason


def test_rules_mode_maps_the_assessment_and_labels_an_llm_override_as_fallback() -> None:
    llm = analysis(action="hold", market="uptrend", source="llm")
    assert DecisionEngine(mode="direct")(llm, obs()).action is Action.HOLD
    d = DecisionEngine(mode="rules")(llm, obs())
    assert (d.action, d.source) == (Action.BUY, DecisionSource.FALLBACK)
    assert DecisionEngine(mode="direct")(analysis(source="llm"), obs()).source is DecisionSource.LLM


def test_without_any_volatility_estimate_it_holds() -> None:
    flat = obs(atr=None, close=10.0)
    bar = flat.bars["X"][0].replace(high=10.0, low=10.0, open=10.0)
    d = DecisionEngine()(analysis(), flat.replace(bars={"X": (bar,)}))
    assert d.action is Action.HOLD
    assert "no volatility estimate" in d.reason


@settings(max_examples=200, deadline=None)
@given(
    equity=st.floats(1e3, 1e7),
    price=st.floats(1.0, 1e5),
    atr_frac=st.floats(1e-4, 0.2),
    risk=st.floats(1e-4, 0.2),
    notional=st.one_of(st.none(), st.floats(10.0, 1e6)),
    pos_value=st.one_of(st.none(), st.floats(10.0, 1e7)),
    pos_abs=st.one_of(st.none(), st.floats(1e-3, 1e4)),
)
def test_entries_always_fit_the_limits_the_chain_enforces(
    equity: float,
    price: float,
    atr_frac: float,
    risk: float,
    notional: Any,
    pos_value: Any,
    pos_abs: Any,
) -> None:
    limits = RiskLimits(
        max_order_notional=notional, max_position_value=pos_value, max_position_abs=pos_abs
    )
    engine = DecisionEngine(risk_fraction=risk, limits=limits, fee_rate=0.001)
    d = engine(analysis(), obs(close=price, atr=price * atr_frac, cash=equity))
    if d.action is Action.HOLD:
        return
    assert d.quantity > 0
    assert d.quantity * d.price * 1.001 <= equity + 1e-6  # no borrowing
    assert d.quantity <= equity * risk / (2.0 * price * atr_frac) * (1 + 1e-9)  # never above risk
    if notional is not None:
        assert d.quantity * d.price <= notional
    if pos_value is not None:
        assert d.quantity * d.price <= pos_value
    if pos_abs is not None:
        assert d.quantity <= pos_abs
    assert math.isfinite(d.stop_loss)
    assert d.stop_loss < d.price < d.take_profit


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="mode must be 'direct' or 'rules'"):
        DecisionEngine(mode="vibes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="risk_fraction must be in \\(0, 1\\)"):
        DecisionEngine(risk_fraction=1.5)
    with pytest.raises(ConfigError, match="stop_atr must be a finite number > 0"):
        DecisionEngine(stop_atr=0.0)


# ---------------------------------------------------------------- instruments


def _on_grid(value: float, step: float) -> bool:
    units = value / step
    return abs(units - round(units)) < 1e-6


def test_an_instrument_puts_quantity_and_prices_on_its_grid() -> None:
    coin = Instrument(symbol="X", tick_size=0.05, lot_size=0.001, min_notional=10.0)
    d = DecisionEngine(instrument=coin)(analysis(), obs(close=200.013, atr=4.1234))
    assert d.action is Action.BUY
    assert _on_grid(d.quantity, 0.001)
    for price in (d.price, d.stop_loss, d.take_profit):
        assert _on_grid(price, 0.05)
    assert d.stop_loss < d.price < d.take_profit
    plain = DecisionEngine()(analysis(), obs(close=200.013, atr=4.1234))
    assert d.quantity <= plain.quantity  # rounded down, never up
    assert d.price <= plain.price  # a buy's limit is rounded down: it never pays more


def test_a_dust_top_up_is_not_sent_and_the_reason_names_the_minimum() -> None:
    # the bundled demo used to top positions up with 3.7e-05 BTC orders (fee 0.0016) that any
    # exchange refuses under its minimum notional
    btc = Instrument(symbol="X", tick_size=0.01, lot_size=1e-05, min_notional=5.0)
    engine = DecisionEngine(instrument=btc)
    first = engine(analysis(), obs())
    held = first.quantity - 2e-05  # a hair under the risk-sized position
    d = engine(analysis(), obs(held=held, cash=20_000.0 - held * 200.0))
    assert d.action is Action.HOLD
    assert "below the minimum notional 5" in d.reason
    assert DecisionEngine()(analysis(), obs(held=held, cash=20_000.0 - held * 200.0)).quantity


def test_a_whole_share_instrument_holds_below_one_share() -> None:
    shares = Instrument(symbol="X", lot_size=1.0, min_quantity=1.0)
    d = DecisionEngine(instrument=shares, risk_fraction=0.001)(analysis(), obs(atr=40.0))
    assert d.action is Action.HOLD
    assert (
        d.reason
        == "buy signal, but the risk-sized quantity 0.25 rounds down to zero at the lot size"
    )
