from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axon_lab.errors import ConfigError
from axon_lab.viz import drawdown, get_equity_info, plot_equity


def test_steps_give_equity_drawdown_and_benchmark_from_the_initial_capital(frame, run_steps):
    info = get_equity_info(run_steps, frame)
    assert info.x == [pd.Timestamp(s.timestamp) for s in run_steps]
    assert info.equity == [s.equity for s in run_steps]
    # equity 10100, 9595, 10200, 9180, 9180, 9300, 9300, 10500: peaks 10100 then 10200
    assert info.drawdown == pytest.approx(
        [0, -0.05, 0, -0.1, -0.1, 9300 / 10200 - 1, 9300 / 10200 - 1, 0]
    )
    assert info.initial_equity == 10_000.0  # equity before step 0 = equity - pnl
    close = frame["close"].to_numpy()[:8]  # step i is drawn on bar i
    assert info.benchmark == pytest.approx((10_000.0 * close / close[0]).tolist())
    peak = np.maximum.accumulate(close)
    assert info.benchmark_drawdown == pytest.approx((close / peak - 1).tolist())


def test_backtest_shaped_equity_on_the_bars_themselves():
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC", name="timestamp")
    equity = pd.DataFrame({"sma(5,20)": [1_000.0, 1_100.0, 990.0, 1_210.0]}, index=idx)
    bars = pd.DataFrame({"close": [50.0, 40.0, 60.0, 55.0]}, index=idx)
    info = get_equity_info(equity, bars)
    assert info.equity == [1_000.0, 1_100.0, 990.0, 1_210.0]
    assert info.drawdown == pytest.approx([0.0, 0.0, -0.1, 0.0])
    assert info.benchmark == pytest.approx([1_000.0, 800.0, 1_200.0, 1_100.0])
    assert info.benchmark_drawdown == pytest.approx([0.0, -0.2, 0.0, 1_100.0 / 1_200.0 - 1])
    scaled = get_equity_info(equity["sma(5,20)"], bars["close"], initial_equity=10.0)
    assert scaled.benchmark == pytest.approx([10.0, 8.0, 12.0, 11.0])
    assert get_equity_info(equity).benchmark == []


def test_drawdown_is_zero_at_new_highs():
    values = np.array([3.0, 4.0, 2.0, 1.0, 5.0])
    assert drawdown(values).tolist() == [0.0, 0.0, -0.5, -0.75, 0.0]


def test_renderer_has_two_rows_sharing_x(frame, run_steps):
    fig = plot_equity(run_steps, frame)
    assert [t.name for t in fig.data] == ["equity", "buy & hold", "drawdown", "buy & hold drawdown"]
    assert {t.type for t in fig.data} == {"scatter"}
    assert [t.yaxis for t in fig.data] == ["y", "y", "y2", "y2"]
    assert all(len(t.x) == len(run_steps) for t in fig.data)
    assert fig.layout.xaxis.matches == "x2" or fig.layout.xaxis2.matches == "x"
    assert [t.name for t in plot_equity(run_steps).data] == ["equity", "drawdown"]


def test_bad_equity_is_refused(frame, run_steps):
    idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    with pytest.raises(ConfigError, match="equity is empty"):
        get_equity_info([])
    with pytest.raises(ConfigError, match="equity is empty"):
        get_equity_info(pd.Series([], dtype=float, index=idx[:0]))
    with pytest.raises(ConfigError, match=r"equity holds -5\.0"):
        get_equity_info(pd.Series([10.0, -5.0, 3.0], index=idx))
    with pytest.raises(ConfigError, match=r"equity holds nan.*dropna"):
        get_equity_info(pd.Series([10.0, np.nan, 3.0], index=idx))
    with pytest.raises(ConfigError, match="2 columns"):
        get_equity_info(pd.DataFrame({"a": [1.0] * 3, "b": [1.0] * 3}, index=idx))
    with pytest.raises(ConfigError, match="timezone-aware"):
        get_equity_info(pd.Series([1.0, 2.0, 3.0]))
    with pytest.raises(ConfigError, match="initial_equity"):
        get_equity_info(run_steps, initial_equity=0.0)
    later = frame.iloc[3:]
    with pytest.raises(ConfigError, match="before the first bar"):
        get_equity_info(run_steps, later)
    with pytest.raises(ConfigError, match="close has no 'close' column"):
        get_equity_info(run_steps, frame.drop(columns="close"))
    bad = frame.copy()
    bad.loc[bad.index[2], "close"] = np.nan
    with pytest.raises(ConfigError, match="missing or non-positive prices"):
        get_equity_info(run_steps, bad)
