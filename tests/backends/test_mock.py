from __future__ import annotations

from datetime import UTC, datetime

import pytest

from axon_lab.backends import MockTradingBackend, OmsTradingBackend, SyncTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.errors import BackendError, ConfigError
from axon_lab.records import OrderRequest, OrderStatus

T = datetime(2024, 1, 1, tzinfo=UTC)


def make(**kw: object) -> SyncTradingBackend:
    return SyncTradingBackend(
        MockTradingBackend({"X": 10.0}, cash=100.0, clock=SimulatedClock(T), **kw)
    )


def test_fee_rate_charges_a_fraction_of_notional():
    b = make(fee_rate=0.01)
    b.place_order(OrderRequest(client_order_id="c", symbol="X", side="buy", quantity=2.0))
    (f,) = b.fills()
    assert f.fee == pytest.approx(0.2)
    assert b.query_portfolio().cash == pytest.approx(100.0 - 20.0 - 0.2)


def test_stop_order_triggers_when_price_crosses():
    b = make()
    mock = b.backend
    assert isinstance(mock, MockTradingBackend)
    b.place_order(OrderRequest(client_order_id="b", symbol="X", side="buy", quantity=1.0))
    ack = b.place_order(
        OrderRequest(
            client_order_id="s",
            symbol="X",
            side="sell",
            quantity=1.0,
            order_type="stop",
            stop_price=9.0,
        )
    )
    assert ack.status is OrderStatus.ACCEPTED
    assert mock.set_price("X", 9.5) == ()
    (f,) = mock.set_price("X", 8.5)
    assert f.price == 8.5
    assert f.side.value == "sell"


def test_replace_with_invalid_terms_is_refused_and_keeps_the_order():
    b = make()
    ack = b.place_order(
        OrderRequest(
            client_order_id="m", symbol="X", side="buy", quantity=1.0, order_type="limit", price=5.0
        )
    )
    assert ack.status is OrderStatus.ACCEPTED
    with pytest.raises(BackendError, match=r"Invalid OrderRequest.quantity = -1.0"):
        b.replace_order("m", quantity=-1.0)
    assert [a.client_order_id for a in b.open_orders()] == ["m"]


def test_replace_price_of_a_resting_market_order_is_refused():
    oms = SyncTradingBackend(OmsTradingBackend({"X": 10.0}, cash=0.0, auto_match=False))
    oms.place_order(OrderRequest(client_order_id="m", symbol="X", side="buy", quantity=1.0))
    with pytest.raises(BackendError, match="is a market order; it has no price to replace"):
        oms.replace_order("m", price=9.0)
    assert oms.replace_order("m", quantity=2.0).quantity == 2.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prices": {}}, "prices is empty"),
        ({"prices": {"X": 0.0}}, "finite number > 0"),
        ({"prices": {"X": float("nan")}}, "finite number > 0"),
        ({"prices": {"X": 1.0}, "fee_rate": 1.0}, "fee_rate"),
    ],
)
def test_constructor_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        MockTradingBackend(cash=0.0, **kwargs)


def test_set_price_of_unknown_symbol():
    mock = MockTradingBackend({"X": 1.0}, cash=0.0)
    with pytest.raises(ConfigError, match="not traded"):
        mock.set_price("Y", 1.0)


def test_borrowed_cash_and_shorts_pay_the_borrow_rate_over_time():
    from datetime import timedelta

    from axon_lab.records import MarginPolicy

    clock = SimulatedClock(T)
    b = SyncTradingBackend(
        MockTradingBackend(
            {"X": 10.0, "Y": 20.0},
            cash=1_000.0,
            clock=clock,
            margin=MarginPolicy(leverage=2.0, allow_short=True, borrow_rate=0.05),
        )
    )
    b.place_order(OrderRequest(client_order_id="long", symbol="X", side="buy", quantity=150.0))
    b.place_order(OrderRequest(client_order_id="short", symbol="Y", side="sell", quantity=10.0))
    # cash 1,000 - 1,500 + 200 = -300 borrowed, plus a 10 x 20 = 200 short: 500 at 5 % a year
    assert b.query_portfolio().cash == pytest.approx(-300.0)
    clock.advance(timedelta(days=365.25))
    snap = b.query_portfolio()
    assert snap.fees_paid == pytest.approx(25.0)
    assert snap.cash == pytest.approx(-325.0)


def test_a_spot_fill_beyond_cash_is_capped_and_the_rest_cancelled():
    b = make()  # 100 cash at 10
    ack = b.place_order(OrderRequest(client_order_id="c", symbol="X", side="buy", quantity=25.0))
    assert ack.status is OrderStatus.CANCELLED
    assert ack.filled_quantity == pytest.approx(10.0)
    assert "not enough cash" in ack.message
    assert b.query_portfolio().cash == pytest.approx(0.0, abs=1e-9)
