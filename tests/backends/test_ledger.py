from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.backends import Ledger
from axon_lab.errors import ConfigError
from axon_lab.records import Fill

T = datetime(2024, 1, 1, tzinfo=UTC)


def fill(side: str, qty: float, price: float, fee: float = 0.0, n: int = 0) -> Fill:
    return Fill(
        fill_id=f"f{n}",
        order_id="o",
        symbol="X",
        side=side,
        quantity=qty,
        price=price,
        fee=fee,
        timestamp=T,
    )


def test_flip_books_pnl_on_the_closed_part_and_reopens_at_fill_price():
    led = Ledger(cash=0.0)
    led.apply(fill("buy", 2.0, 10.0))
    led.apply(fill("sell", 3.0, 12.0))
    assert led.quantity("X") == -1.0
    assert led.realized_pnl == pytest.approx(2 * 2.0)
    snap = led.snapshot(T, lambda s: 11.0)
    assert snap.positions["X"].avg_price == 12.0
    assert snap.positions["X"].unrealized_pnl == pytest.approx(1.0)


def test_short_then_cover_and_fees():
    led = Ledger(cash=100.0)
    led.apply(fill("sell", 1.0, 10.0, fee=0.1))
    led.apply(fill("buy", 1.0, 8.0, fee=0.1))
    assert led.quantity("X") == 0.0
    assert led.realized_pnl == pytest.approx(2.0)
    assert led.fees_paid == pytest.approx(0.2)
    assert led.cash == pytest.approx(100.0 + 2.0 - 0.2)
    assert led.snapshot(T, lambda s: 1.0).positions == {}


def test_non_finite_cash_is_refused():
    with pytest.raises(ConfigError, match="cash must be finite"):
        Ledger(cash=math.inf)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["buy", "sell"]),
            st.floats(0.001, 100, allow_nan=False),
            st.floats(0.01, 1_000, allow_nan=False),
        ),
        max_size=30,
    )
)
def test_position_is_the_sum_of_fills_and_equity_is_conserved_without_fees(trades):
    led = Ledger(cash=0.0)
    for n, (side, qty, price) in enumerate(trades):
        led.apply(fill(side, qty, price, n=n))
    expected = math.fsum(q if s == "buy" else -q for s, q, _ in trades)
    assert led.quantity("X") == pytest.approx(expected, abs=1e-6)
    if trades:
        mark = trades[-1][2]
        snap = led.snapshot(T, lambda s: mark)
        # cash + position at the last price == realized + unrealized pnl (started flat with 0 cash)
        unreal = sum(p.unrealized_pnl for p in snap.positions.values())
        assert snap.equity == pytest.approx(led.realized_pnl + unreal, rel=1e-6, abs=1e-6)


def test_fills_of_is_the_history_filtered_by_order():
    led = Ledger(cash=0.0)
    for n, order_id in enumerate(["a", "b", "a", "c", "a"]):
        led.apply(fill("buy", 1.0, 10.0, n=n).replace(order_id=order_id))
    for order_id in ("a", "b", "c", "missing"):
        assert led.fills_of(order_id) == tuple(f for f in led.fills if f.order_id == order_id)
