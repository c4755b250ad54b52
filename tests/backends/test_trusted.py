"""The hot-path record builders equal the validating constructors, value for value.

``axon_lab.backends._trusted`` skips pydantic's re-validation when the values are plainly valid.
For any input the fast builder must either give the very record validation gives (equal, the
same JSON, the same ``model_fields_set``) or raise the same RecordError: nothing invalid passes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.backends import _trusted
from axon_lab.backends._sim_orders import ns, ts
from axon_lab.errors import RecordError
from axon_lab.records import Fill, OrderAck, OrderStatus, PortfolioSnapshot, Position, Side
from axon_lab.records.testing import assert_same_outcome as assert_same
from axon_lab.records.testing import outcome

T = datetime(2024, 1, 1, 12, tzinfo=UTC)

floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-300, 5e-324, 1e308]),
    st.integers(-3, 3),  # an int where the schema wants a float: validation converts it
    st.just(True),
    st.just("1.5"),
)
times = st.one_of(
    st.just(T),
    st.datetimes(timezones=st.just(UTC)),
    st.just(T.astimezone(timezone(timedelta(hours=2)))),  # aware, not UTC: normalised
    st.just(T.replace(tzinfo=None)),  # naive: refused
    st.just(pd.Timestamp(T)),  # a pandas timestamp: converted
)
symbols = st.one_of(st.sampled_from(["X", "BTC-USD", "", "A B", "x" * 65, "é"]), st.text())


@given(symbols, floats, floats, floats)
def test_position_is_the_validated_position(symbol, quantity, avg, mark):
    kw = {"symbol": symbol, "quantity": quantity, "avg_price": avg, "mark_price": mark}
    slow = outcome(Position, **kw)
    assert_same(outcome(_trusted.position, symbol, quantity, avg, mark), slow)
    assert_same(outcome(_trusted.position, symbol, quantity, avg, mark), slow)  # symbol known


@given(
    symbols, st.sampled_from([Side.BUY, Side.SELL, "buy", "hold"]), floats, floats, floats, times
)
def test_fill_is_the_validated_fill(symbol, side, quantity, price, fee, when):
    kw = {
        "fill_id": "f-1",
        "order_id": "o-1",
        "symbol": symbol,
        "side": side,
        "quantity": quantity,
        "price": price,
        "fee": fee,
        "timestamp": when,
    }
    slow = outcome(Fill, **kw)
    assert_same(outcome(_trusted.fill, **kw), slow)
    assert_same(outcome(_trusted.fill, **kw), slow)


@given(
    symbols,
    st.sampled_from([*OrderStatus, "filled", "bogus"]),
    floats,
    floats,
    st.one_of(st.none(), floats),
    times,
    st.sampled_from(["", "cancelled", 3]),
)
def test_ack_is_the_validated_ack(symbol, status, quantity, filled, avg, when, message):
    kw = {
        "order_id": "o-1",
        "client_order_id": "c-1",
        "symbol": symbol,
        "side": Side.BUY,
        "quantity": quantity,
        "status": status,
        "timestamp": when,
        "filled_quantity": filled,
        "avg_fill_price": avg,
        "message": message,
    }
    slow = outcome(OrderAck, **kw)
    assert_same(outcome(_trusted.ack, **kw), slow)
    assert_same(outcome(_trusted.ack, **kw), slow)


positions = st.dictionaries(
    st.sampled_from(["X", "Y"]),
    st.tuples(st.floats(-1e6, 1e6), st.floats(0, 1e6), st.floats(1e-3, 1e6)),
    max_size=2,
)


@given(positions, floats, floats, floats, times)
def test_portfolio_is_the_built_snapshot(held, cash, realized, fees, when):
    pos = {
        sym: Position(symbol=sym, quantity=q, avg_price=a, mark_price=m)
        for sym, (q, a, m) in held.items()
    }
    kw = {
        "timestamp": when,
        "cash": cash,
        "positions": pos,
        "realized_pnl": realized,
        "fees_paid": fees,
    }
    slow = outcome(PortfolioSnapshot.build, **kw)
    fast = outcome(_trusted.portfolio, **kw)
    assert_same(fast, slow)
    if fast[0] == "ok":
        assert fast[1].positions is not pos  # its own dict, as validation makes


def test_huge_positions_whose_equity_overflows_are_refused_as_before():
    _trusted.position("X", 1e308, 1.0, 10.0)
    pos = {"X": Position(symbol="X", quantity=1e308, avg_price=1.0, mark_price=10.0)}
    kw = {"timestamp": T, "cash": 0.0, "positions": pos, "realized_pnl": 0.0, "fees_paid": 0.0}
    with pytest.raises(RecordError) as fast:
        _trusted.portfolio(**kw)
    with pytest.raises(RecordError) as slow:
        PortfolioSnapshot.build(**kw)
    assert str(fast.value) == str(slow.value)


MICROS = st.integers(int(pd.Timestamp.min.value) // 1000 + 1, int(pd.Timestamp.max.value) // 1000)


@given(MICROS.map(lambda us: us * 1000))
def test_ts_is_the_pandas_conversion(nanos):
    fast = ts(nanos)
    slow = pd.Timestamp(nanos, tz="UTC").to_pydatetime()
    assert fast == slow
    assert type(fast) is type(slow)
    assert fast.tzinfo is slow.tzinfo
    assert ns(fast) == nanos


def test_ts_of_sub_microsecond_times_still_warns_like_pandas():
    with pytest.warns(UserWarning, match="nanoseconds"):
        assert ts(1_500) == datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
