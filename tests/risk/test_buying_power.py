"""The buying-power line and the account rules it shares with the backends, on worked examples."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from axon_lab.errors import RecordError
from axon_lab.records import (
    AccountState,
    Instrument,
    MarginPolicy,
    OrderRequest,
    PortfolioSnapshot,
    Position,
    Side,
)
from axon_lab.risk import BuyingPowerLine, OrderContext, RestingOrder

T = datetime(2024, 1, 1, tzinfo=UTC)


def _ctx(order: OrderRequest, *, cash: float, held: float = 0.0, mark: float = 10.0, **kw):
    positions = {}
    if held:
        positions["X"] = Position(symbol="X", quantity=held, avg_price=mark, mark_price=mark)
    snap = PortfolioSnapshot.build(timestamp=T, cash=cash, positions=positions)
    return OrderContext(order=order, now=T, mark_price=mark, portfolio=snap, **kw)


def _order(side: str, qty: float, **kw) -> OrderRequest:
    return OrderRequest(
        client_order_id=f"c-{side}-{qty}", symbol="X", side=side, quantity=qty, **kw
    )


def test_spot_buy_reserves_for_open_buys_and_fees():
    # cash 1,000; an open buy limit of 30 @ 9 reserves 30 * 9 * 1.01 = 272.7; left: 727.3.
    # A market buy of 72 at mark 10 with 1 % fee costs 72 * 10 * 1.01 = 727.2: fits; 73 does not.
    resting = RestingOrder(
        order_id="o-1",
        request=_order("buy", 30.0, order_type="limit", price=9.0),
        remaining=30.0,
        value_price=9.0,
    )
    line = BuyingPowerLine()
    fits = line.check(_ctx(_order("buy", 72.0), cash=1_000.0, resting=(resting,), fee_rate=0.01))
    assert fits.approved
    assert fits.limit == pytest.approx(727.3)
    assert fits.observed == pytest.approx(727.2)
    over = line.check(_ctx(_order("buy", 73.0), cash=1_000.0, resting=(resting,), fee_rate=0.01))
    assert not over.approved
    assert over.rule == "buying_power"
    assert over.observed == pytest.approx(737.3)


def test_spot_sell_counts_open_sells_against_the_position():
    resting = RestingOrder(
        order_id="o-2",
        request=_order("sell", 6.0, order_type="limit", price=12.0),
        remaining=6.0,
        value_price=12.0,
    )
    line = BuyingPowerLine()
    ok = line.check(_ctx(_order("sell", 4.0), cash=0.0, held=10.0, resting=(resting,)))
    assert ok.approved
    over = line.check(_ctx(_order("sell", 5.0), cash=0.0, held=10.0, resting=(resting,)))
    assert not over.approved
    assert (over.rule, over.limit, over.observed) == ("no_short", 4.0, 5.0)


def test_margin_allows_gross_exposure_up_to_leverage_times_equity():
    # equity 1,000 at leverage 3: up to 3,000 of exposure, i.e. 300 units at 10
    margin = BuyingPowerLine(MarginPolicy(leverage=3.0, allow_short=True))
    assert margin.check(_ctx(_order("buy", 300.0), cash=1_000.0)).approved
    over = margin.check(_ctx(_order("buy", 301.0), cash=1_000.0))
    assert (over.approved, over.rule, over.limit, over.observed) == (
        False,
        "margin",
        3000.0,
        3010.0,
    )
    assert margin.check(_ctx(_order("sell", 300.0), cash=1_000.0)).approved  # a short
    assert not margin.check(_ctx(_order("sell", 301.0), cash=1_000.0)).approved


def test_a_reducing_order_always_fits_a_margin_account():
    margin = MarginPolicy(leverage=2.0, allow_short=True)
    state = AccountState(cash=-5_000.0, equity=100.0, position=500.0)  # deep underwater
    assert margin.check(Side.SELL, 200.0, 10.0, fee_rate=0.0, state=state).ok


def test_borrowing_on_a_spot_account_is_refused_as_configuration():
    with pytest.raises(RecordError, match="borrow_rate"):
        MarginPolicy(borrow_rate=0.05)
    with pytest.raises(RecordError, match="leverage"):
        MarginPolicy(leverage=0.5)


def test_instrument_rounding_and_grid():
    lot = Instrument(symbol="X", tick_size=0.25, lot_size=0.1, min_quantity=0.2, min_notional=1.0)
    assert (
        lot.round_quantity(0.37) == 0.3
    )  # down, and without float noise (not 0.30000000000000004)
    assert lot.round_price(10.1, side="buy") == 10.0
    assert lot.round_price(10.1, side="sell") == 10.25
    assert lot.size_problem(0.3, 10.0) == ""
    assert "lot size" in lot.size_problem(0.35, 10.0)
    assert "minimum quantity" in lot.size_problem(0.1, 10.0)
    assert "minimum notional" in lot.size_problem(0.2, 4.0)
    off_tick = _order("buy", 0.3, order_type="limit", price=10.1)
    assert (
        lot.request_problem(off_tick, mark=10.0)
        == "price 10.1 is not a multiple of the tick size 0.25"
    )
    market = _order("buy", 0.3)
    assert lot.request_problem(market, mark=10.07) == ""  # a market order names no price


def test_the_limit_line_applies_the_instrument():
    from axon_lab.risk import RiskLimits

    lot = Instrument(symbol="X", lot_size=1.0)
    ctx = _ctx(_order("buy", 2.5), cash=1_000.0, instrument=lot)
    (verdict,) = RiskLimits().check(ctx)
    assert (verdict.approved, verdict.rule) == (False, "instrument")
    assert "lot size" in verdict.message
