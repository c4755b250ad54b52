"""Every record is frozen, validates its values, and round-trips through JSON unchanged."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.errors import RecordError
from axon_lab.records import (
    Action,
    Analysis,
    Bar,
    Decision,
    Fill,
    LLMCall,
    Observation,
    OrderAck,
    OrderRequest,
    PortfolioSnapshot,
    Position,
    ReasoningStep,
    Record,
    RiskVerdict,
    SimilarContext,
    StepRecord,
    StrategyState,
    ToolCall,
)

T0 = datetime(2021, 9, 27, 14, 45, tzinfo=UTC)


def _bar(i: int, close: float) -> Bar:
    return Bar(
        timestamp=T0 + timedelta(minutes=15 * i),
        open=close * 0.999,
        high=close * 1.002,
        low=close * 0.997,
        close=close,
        volume=1_000.0 + i,
    )


def _portfolio() -> PortfolioSnapshot:
    pos = Position(symbol="BTC-USD", quantity=0.25, avg_price=43_100.5, mark_price=43_548.77)
    return PortfolioSnapshot.build(
        timestamp=T0, cash=9_000.0, positions={"BTC-USD": pos}, fees_paid=10.78
    )


def _analysis() -> Analysis:
    call = LLMCall(
        model="smollm2-135m",
        request_hash="ab" * 32,
        tokens_in=812,
        tokens_out=97,
        latency_s=9.7,
        raw_response='{"action": "buy"}',
        finish_reason="stop",
    )
    step = ReasoningStep(
        thought="check the trend",
        action=ToolCall(name="market_data", arguments='{"symbol": "BTC-USD"}', call_id="c1"),
        observation='{"sma_10": 43400.1}',
    )
    return Analysis(
        thought="short SMA above long SMA",
        market_assessment="uptrend",
        risk_assessment="medium",
        confidence=0.71,
        action="buy",
        reason="trend",
        source="llm",
        analyst="smollm2-135m",
        reasoning_steps=(step,),
        llm_calls=(call,),
    )


def _order() -> OrderRequest:
    return OrderRequest(
        client_order_id="run1-7",
        symbol="BTC-USD",
        side="buy",
        quantity=0.05,
        order_type="limit",
        price=43_300.0,
        stop_loss=42_000.0,
        take_profit=45_000.0,
    )


def _verdict(approved: bool) -> RiskVerdict:
    return RiskVerdict(
        approved=approved,
        line="limit",
        rule="max_order_notional",
        limit=1_000.0,
        observed=2_165.0,
        message="order notional 2165.0 exceeds 1000.0",
        timestamp=T0,
        client_order_id="run1-7",
    )


def _fill() -> Fill:
    return Fill(
        fill_id="f1",
        order_id="o1",
        symbol="BTC-USD",
        side="sell",
        quantity=0.05,
        price=43_290.0,
        fee=2.16,
        timestamp=T0,
    )


def _ack() -> OrderAck:
    return OrderAck(
        order_id="o1",
        client_order_id="run1-7",
        symbol="BTC-USD",
        side="buy",
        quantity=0.05,
        status="partially_filled",
        timestamp=T0,
        filled_quantity=0.02,
        avg_fill_price=43_290.0,
    )


def _observation() -> Observation:
    bars = tuple(_bar(i, 43_000.0 + 10 * i) for i in range(3))
    return Observation(
        timestamp=bars[-1].timestamp + timedelta(minutes=15),
        symbols=("BTC-USD",),
        timeframe="15min",
        bars={"BTC-USD": bars},
        features={"BTC-USD": {"sma_10": 43_010.0, "rsi_14": None}},
        portfolio=_portfolio(),
        strategy_state=StrategyState(step_count=3, last_action="hold", cumulative_pnl=-4.5),
    )


EXAMPLES: dict[str, Record] = {
    "Bar": _bar(0, 43_548.77),
    "Position": _portfolio().positions["BTC-USD"],
    "PortfolioSnapshot": _portfolio(),
    "StrategyState": StrategyState(step_count=2, last_action="buy", cumulative_pnl=12.5),
    "Observation": _observation(),
    "ToolCall": ToolCall(name="query_portfolio"),
    "ReasoningStep": _analysis().reasoning_steps[0],
    "LLMCall": _analysis().llm_calls[0],
    "Analysis": _analysis(),
    "Decision": Decision(
        action="buy",
        symbol="BTC-USD",
        quantity=0.05,
        order_type="limit",
        price=43_300.0,
        stop_loss=42_000.0,
        take_profit=45_000.0,
        reason="uptrend",
        confidence=0.71,
        source="llm",
    ),
    "OrderRequest": _order(),
    "OrderAck": _ack(),
    "Fill": _fill(),
    "RiskVerdict": _verdict(False),
    "StepRecord": StepRecord(
        run_id="run1",
        step=7,
        timestamp=T0,
        observation_digest=_observation().digest(),
        analysis=_analysis(),
        decision=Decision(action="hold", symbol="BTC-USD", confidence=0.4, source="rules"),
        verdicts=(_verdict(True), _verdict(False)),
        acks=(_ack(),),
        fills=(_fill(),),
        equity=19_886.9,
        pnl=-113.1,
    ),
}

CONTRACTS = {
    "Observation", "ReasoningStep", "Analysis", "LLMCall", "Decision", "OrderRequest",
    "OrderAck", "Fill", "PortfolioSnapshot", "RiskVerdict", "StepRecord",
}  # fmt: skip


def test_every_design_contract_has_an_example() -> None:
    assert set(EXAMPLES) >= CONTRACTS


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_round_trips_through_json_unchanged(name: str) -> None:
    record = EXAMPLES[name]
    again = type(record).from_json(record.to_json())
    assert again == record
    assert again.to_json() == record.to_json()
    assert type(record).from_dict(record.to_dict()) == record


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_records_are_frozen(name: str) -> None:
    record = EXAMPLES[name]
    field = next(iter(type(record).model_fields))
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        setattr(record, field, None)


def test_replace_derives_a_validated_copy() -> None:
    order = _order()
    bigger = order.replace(quantity=0.1)
    assert (bigger.quantity, order.quantity) == (0.1, 0.05)
    with pytest.raises(RecordError, match=r"OrderRequest\.quantity = -1"):
        order.replace(quantity=-1)


@pytest.mark.parametrize("confidence", [-0.01, 1.01, math.nan, math.inf])
def test_confidence_outside_unit_interval_is_rejected(confidence: float) -> None:
    with pytest.raises(RecordError, match=r"Analysis\.confidence = "):
        _analysis().replace(confidence=confidence)


@pytest.mark.parametrize("price", [math.nan, math.inf, -math.inf])
def test_non_finite_prices_are_rejected(price: float) -> None:
    with pytest.raises(RecordError, match=r"Fill\.price = .*finite"):
        _fill().replace(price=price)


@pytest.mark.parametrize("quantity", [0.0, -0.5])
def test_non_positive_quantities_are_rejected(quantity: float) -> None:
    with pytest.raises(RecordError, match=r"OrderRequest\.quantity = .*greater than 0"):
        _order().replace(quantity=quantity)


@pytest.mark.parametrize(
    ("record", "field", "value"),
    [
        ("Analysis", "action", "short"),
        ("Analysis", "market_assessment", "sideways"),
        ("Analysis", "risk_assessment", "extreme"),
        ("OrderRequest", "side", "long"),
        ("OrderRequest", "order_type", "iceberg"),
        ("RiskVerdict", "line", "compliance"),
        ("OrderAck", "status", "done"),
    ],
)
def test_unknown_enum_values_are_rejected(record: str, field: str, value: str) -> None:
    with pytest.raises(RecordError, match=rf"{record}\.{field} = '{value}'"):
        EXAMPLES[record].replace(**{field: value})


def test_naive_timestamps_are_rejected_and_offsets_normalised_to_utc() -> None:
    with pytest.raises(RecordError, match=r"Fill\.timestamp = .*timezone"):
        _fill().replace(timestamp=datetime(2021, 1, 1))
    plus_one = datetime(2021, 9, 27, 15, 45, tzinfo=timezone(timedelta(hours=1)))
    assert _fill().replace(timestamp=plus_one).timestamp == T0
    assert _fill().replace(timestamp=plus_one).timestamp.utcoffset() == timedelta(0)


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(RecordError, match="has no field 'leverage'"):
        OrderRequest.from_dict({**_order().to_dict(), "leverage": 5})


def test_limit_order_without_price_is_rejected() -> None:
    with pytest.raises(RecordError, match="limit order needs a price"):
        OrderRequest(
            client_order_id="x", symbol="BTC-USD", side="buy", quantity=1, order_type="limit"
        )


def test_bracket_prices_must_be_on_the_right_side() -> None:
    with pytest.raises(RecordError, match=r"stop_loss 45000\.0 must be below the price"):
        _order().replace(stop_loss=45_000.0, take_profit=None)


def test_hold_decision_has_no_quantity() -> None:
    with pytest.raises(RecordError, match="hold decision has no quantity"):
        Decision(action="hold", symbol="X", quantity=1.0, confidence=0.5, source="rules")


def test_portfolio_equity_must_equal_cash_plus_positions() -> None:
    good = _portfolio()
    assert good.equity == pytest.approx(9_000.0 + 0.25 * 43_548.77)
    with pytest.raises(RecordError, match=r"equity .* != cash \+ positions"):
        good.replace(equity=good.equity + 1.0)


def test_observation_refuses_bars_after_its_time() -> None:
    obs = _observation()
    late = _bar(10, 43_100.0)
    with pytest.raises(RecordError, match="look-ahead"):
        obs.replace(timestamp=T0, bars={"BTC-USD": (*obs.bars["BTC-USD"], late)})


def test_inconsistent_ohlc_bar_is_rejected() -> None:
    with pytest.raises(RecordError, match="inconsistent OHLC"):
        Bar(timestamp=T0, open=10.0, high=9.0, low=8.0, close=9.5, volume=1.0)


def test_step_failure_fields_come_together() -> None:
    step = EXAMPLES["StepRecord"]
    assert isinstance(step, StepRecord)
    failed = step.replace(failed_stage="analyze", error="LLMTimeoutError: 30 s")
    assert failed.is_failed
    assert [v.rule for v in failed.rejections] == ["max_order_notional"]
    with pytest.raises(RecordError, match="set together"):
        step.replace(error="boom")


finite = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    quantity=finite,
    price=finite,
    fee=st.floats(min_value=0, max_value=1e6),
    side=st.sampled_from(["buy", "sell"]),
    when=moments,
    fill_id=st.text(min_size=1, max_size=20),
)
def test_fills_round_trip_for_arbitrary_values(
    quantity: float, price: float, fee: float, side: str, when: datetime, fill_id: str
) -> None:
    fill = Fill(
        fill_id=fill_id,
        order_id="o",
        symbol="SYM",
        side=side,
        quantity=quantity,
        price=price,
        fee=fee,
        timestamp=when,
    )
    assert Fill.from_json(fill.to_json()) == fill


@given(cash=st.floats(min_value=-1e9, max_value=1e9), qty=st.floats(-1e6, 1e6), mark=finite)
def test_snapshots_round_trip_and_keep_the_equity_identity(
    cash: float, qty: float, mark: float
) -> None:
    pos = Position(symbol="SYM", quantity=qty, avg_price=mark, mark_price=mark)
    snap = PortfolioSnapshot.build(timestamp=T0, cash=cash, positions={"SYM": pos})
    assert PortfolioSnapshot.from_json(snap.to_json()) == snap
    assert snap.equity == cash + qty * mark


_symbols = st.text(
    # (no lone surrogates "Cs": a record refuses them, they cannot be encoded as JSON)
    st.characters(blacklist_categories=("Z", "Cc", "Cs"), blacklist_characters=" "),
    min_size=1,
    max_size=8,
)


@st.composite
def _observations(draw: st.DrawFn) -> Observation:
    symbols = tuple(draw(st.lists(_symbols, min_size=1, max_size=3, unique=True)))
    prices = st.floats(1e-6, 1e9, allow_nan=False, allow_infinity=False)
    bars: dict[str, tuple[Bar, ...]] = {}
    for symbol in draw(st.lists(st.sampled_from(symbols), unique=True)):
        bars[symbol] = tuple(_bar(i, draw(prices)) for i in range(draw(st.integers(0, 4))))
    features = {
        symbol: draw(
            st.dictionaries(
                st.text(st.characters(blacklist_categories=("Cs",)), max_size=6),
                st.none() | st.floats(allow_nan=False, allow_infinity=False),
                max_size=3,
            )
        )
        for symbol in draw(st.lists(st.sampled_from(symbols), unique=True))
    }
    return Observation(
        timestamp=T0 + timedelta(days=1),
        symbols=symbols,
        timeframe=draw(st.sampled_from(["15min", "1h", 'o"dd,"features":'])),
        bars=bars,
        features=features,
        portfolio=_portfolio(),
        similar_contexts=tuple(
            SimilarContext(
                timestamp=T0,
                symbol=symbols[0],
                similarity=draw(st.floats(-1.0, 1.0)),
                summary=draw(st.text(max_size=5)),
                horizon=draw(st.integers(1, 5)),
                outcome_at=T0 + timedelta(hours=draw(st.integers(1, 24))),
                forward_return=draw(st.floats(-0.5, 0.5)),
                action=draw(st.sampled_from([None, *Action])),
                result=draw(st.one_of(st.none(), st.floats(-0.5, 0.5))),
            )
            for _ in range(draw(st.integers(0, 2)))
        ),
    )


@given(_observations())
def test_observation_json_round_trips_and_digests_stably(obs: Observation) -> None:
    assert Observation.from_json(obs.to_json()) == obs
    assert obs.digest() == hashlib.sha256(obs.model_dump_json().encode()).hexdigest()
    assert Observation.from_json(obs.to_json()).digest() == obs.digest()
