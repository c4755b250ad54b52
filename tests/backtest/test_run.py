"""Hand-checked fills, the result object, and input validation of ``run``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from axon_lab.backtest import FILL_KINDS, BacktestResult, run
from axon_lab.errors import ConfigError, DataError


def _bars(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["open", "high", "low", "close"])


FLAT = [(100.0, 101.0, 99.0, 100.0)]


def test_market_order_fills_at_next_open_with_fees_and_slippage():
    df = _bars([(100, 101, 99, 100), (102, 103, 101, 102), (104, 105, 103, 104)])
    res = run(df, orders={"bar": [0], "size": [10.0]}, fees=0.01, fixed_fee=1.0, slippage_bps=50)
    o = res.orders.iloc[0]
    assert (o["bar"], o["kind"]) == (1, "market")
    assert o["price"] == pytest.approx(102 * 1.005)
    assert o["fee"] == pytest.approx(10 * 102 * 1.005 * 0.01 + 1.0)
    assert res.cash.iloc[1, 0] == pytest.approx(10_000 - 10 * 102 * 1.005 - o["fee"])
    assert res.equity.iloc[2, 0] == pytest.approx(res.cash.iloc[2, 0] + 10 * 104)


def test_close_execution_fills_on_the_decision_bar():
    df = _bars([(100, 101, 99, 100), (102, 103, 101, 102)])
    res = run(df, entries=[True, False], execution="close")
    assert res.orders["bar"].tolist() == [0]
    assert res.orders["price"].iloc[0] == 100.0


def test_limit_fills_at_limit_or_better_open_on_gap():
    df = _bars([(100, 101, 99, 100), (100, 100.5, 97, 98), (90, 91, 89, 90)])
    res = run(df, orders={"bar": [0], "size": [1.0], "type": ["limit"], "price": [98.0]})
    assert res.orders[["bar", "price"]].values.tolist() == [[1, 98.0]]
    gap = run(df, orders={"bar": [1], "size": [1.0], "type": ["limit"], "price": [95.0]})
    assert gap.orders[["bar", "price"]].values.tolist() == [[2, 90.0]]  # gapped through: open


def test_stop_entry_triggers_on_range_and_gap():
    df = _bars([(100, 101, 99, 100), (100, 106, 99, 105), (110, 111, 109, 110)])
    res = run(df, orders={"bar": [0], "size": [1.0], "type": ["stop"], "price": [105.0]})
    assert res.orders[["bar", "price", "kind"]].values.tolist() == [[1, 105.0, "stop"]]
    gap = run(df, orders={"bar": [1], "size": [1.0], "type": ["stop"], "price": [108.0]})
    assert gap.orders["price"].tolist() == [110.0]


def test_stop_loss_wins_when_the_bar_touches_both():
    df = _bars([(100, 101, 99, 100), (100, 101, 99, 100), (100, 112, 88, 100)])
    orders = {"bar": [0], "size": [1.0], "stop_loss": [90.0], "take_profit": [110.0]}
    res = run(df, orders=orders)
    assert res.orders["kind"].tolist() == ["market", "stop_loss"]
    assert res.orders["price"].iloc[1] == 90.0
    assert res.positions.iloc[-1, 0] == 0.0


def test_stop_loss_and_take_profit_gaps_fill_at_open():
    df = _bars([(100, 101, 99, 100), (100, 101, 99, 100), (80, 85, 79, 84)])
    res = run(df, orders={"bar": [0], "size": [1.0], "stop_loss": [90.0]})
    assert res.orders["price"].iloc[1] == 80.0
    df2 = _bars([(100, 101, 99, 100), (100, 101, 99, 100), (120, 121, 85, 84)])
    res2 = run(df2, orders={"bar": [0], "size": [1.0], "stop_loss": [90.0], "take_profit": [110]})
    assert res2.orders[["price", "kind"]].iloc[1].tolist() == [120.0, "take_profit"]


def test_short_take_profit():
    df = _bars([(100, 101, 99, 100), (100, 101, 99, 100), (95, 96, 89, 95)])
    res = run(df, orders={"bar": [0], "size": [-2.0], "take_profit": [90.0]}, direction="both")
    assert res.orders[["size", "price", "kind"]].iloc[1].tolist() == [2.0, 90.0, "take_profit"]


def test_new_order_replaces_working_order_and_zero_cancels():
    df = _bars(FLAT * 4)
    res = run(df, orders={"bar": [0, 0], "size": [1.0, 2.0]})
    assert res.orders["size"].tolist() == [2.0]
    cancelled = run(
        df, orders={"bar": [0, 1], "size": [1.0, 0.0], "type": ["limit", "market"],
                    "price": [50.0, math.nan]},
    )  # fmt: skip
    assert cancelled.orders.empty


def test_no_negative_cash_lot_size_and_leverage():
    df = _bars(FLAT * 3)
    res = run(df, orders={"bar": [0], "size": [1e9]}, lot_size=7.0, fees=0.001)
    size = res.orders["size"].iloc[0]
    assert size % 7.0 == 0
    assert size == 98.0
    assert (res.cash.to_numpy() >= 0).all()
    lev = run(df, orders={"bar": [0], "size": [math.inf]}, leverage=2.0)
    assert lev.positions.iloc[-1, 0] == pytest.approx(200.0)
    assert lev.cash.iloc[-1, 0] == pytest.approx(-10_000.0)


def test_long_only_never_goes_short():
    df = _bars(FLAT * 3)
    res = run(df, orders={"bar": [0], "size": [-5.0]})
    assert res.orders.empty
    assert (res.positions.to_numpy() == 0).all()


def test_direction_both_exit_reverses_to_short(make_ohlc):
    df = make_ohlc(30, seed=3)
    ent = np.zeros(30, bool)
    ext = np.zeros(30, bool)
    ent[2], ext[10] = True, True
    res = run(df, entries=ent, exits=ext, direction="both", fees=0.001)
    assert res.positions.iloc[-1, 0] < 0
    trades = res.trades
    assert trades["direction"].tolist() == ["long", "short"]
    assert trades["is_open"].tolist() == [False, True]


def test_target_positions_rebalance_columns_and_labels(make_ohlc):
    df = make_ohlc(50, seed=1)
    target = pd.DataFrame({"half": 0.5, "full": 1.0}, index=df.index)
    res = run(df, target=target, execution="close")
    assert list(res.columns) == ["half", "full"]
    value = res.positions.iloc[-1] * df["close"].iloc[-1] / res.equity.iloc[-1]
    assert value["half"] == pytest.approx(0.5, rel=1e-9)
    assert value["full"] == pytest.approx(1.0, rel=1e-9)
    assert isinstance(res.stats(), pd.DataFrame)


def test_result_is_frozen_and_series_are_consistent(make_ohlc):
    df = make_ohlc(200, seed=2)
    ent = np.zeros(200, bool)
    ext = np.zeros(200, bool)
    ent[::20], ext[10::20] = True, True
    res = run(df, entries=ent, exits=ext, fees=0.001)
    assert isinstance(res, BacktestResult)
    with pytest.raises(AttributeError):
        res.init_cash = 5.0  # type: ignore[misc]
    np.testing.assert_allclose(
        res.equity.iloc[:, 0], res.cash.iloc[:, 0] + res.positions.iloc[:, 0] * df["close"]
    )
    dd = res.drawdown.iloc[:, 0]
    assert dd.max() <= 0
    assert dd.min() == pytest.approx(res.stats()["max_drawdown"])
    assert set(res.orders["kind"].cat.categories) == set(FILL_KINDS)
    assert res.orders["fee"].sum() == pytest.approx(res.stats()["fees_paid"])
    trades = res.trades
    assert len(trades) == 10
    closed = trades[~trades["is_open"]]
    final = res.equity.iloc[-1, 0]
    open_pnl = trades.loc[trades["is_open"], "pnl"].sum()
    assert final == pytest.approx(10_000 + closed["pnl"].sum() + open_pnl, rel=1e-12)
    bh = res.buy_and_hold_stats()
    expected = 10_000 / (df["open"].iloc[1] * 1.001) * df["close"].iloc[-1]
    assert bh["end_value"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"entries": [True] * 9}, ConfigError, "entries has 9 rows but prices has 10 bars"),
        ({"fees": -0.1}, ConfigError, "fees=-0.1 must be"),
        ({"direction": "lng"}, ConfigError, "Did you mean 'long'"),
        ({"execution": "open"}, ConfigError, "execution='open'"),
        ({"orders": {"bar": [3], "size": [1.0], "type": ["limit"]}}, ConfigError,
         r"orders row 0 at bar 3 \(2020-01-04.*needs a positive 'price'"),
        ({"orders": {"bar": [0], "size": [1.0], "type": ["limt"], "price": [1.0]}}, ConfigError,
         "Did you mean 'limit'"),
        ({"orders": {"bar": [10], "size": [1.0]}}, ConfigError, "row 0: bar 10 is not a bar"),
        ({"target": [2.0] * 10}, ConfigError, "outside"),
        ({"target": [-0.5] * 10}, ConfigError, "direction='long'"),
        ({"target": [0.5] * 10, "entries": [True] * 10}, ConfigError, "not both"),
        ({"leverage": 0.5}, ConfigError, "leverage=0.5"),
        ({"timeframe": "fortnightly"}, ConfigError, "timeframe='fortnightly'"),
    ],
)  # fmt: skip
def test_bad_arguments_name_the_argument_and_position(make_ohlc, kwargs, error, match):
    with pytest.raises(error, match=match):
        run(make_ohlc(10), **kwargs)


def test_nan_price_names_the_timestamp(make_ohlc):
    df = make_ohlc(10)
    df.iloc[4, 3] = np.nan
    with pytest.raises(DataError, match=r"prices\['close'\] at bar 4 \(2020-01-05.*dropna"):
        run(df, entries=np.zeros(10, bool))


def test_missing_columns_and_non_positive_prices():
    with pytest.raises(DataError, match="missing column"):
        run(pd.DataFrame({"open": [1.0], "high": [1.0]}))
    with pytest.raises(DataError, match="not a positive finite price"):
        run(np.array([1.0, -1.0, 2.0]))
