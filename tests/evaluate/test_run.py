"""Per-run statistics: the backtest's own numbers, plus turnover and fee drag by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from axon_lab.backtest import run
from axon_lab.errors import EvaluationError
from axon_lab.evaluate import bar_returns, run_stats, sharpe_test


def test_round_trip_by_hand():
    # Buy on bar 0 (fills at bar 1's open, 10), sell on bar 2 (fills at bar 3's open, 12),
    # 1 % fees. Cash 1000 buys 1000 / (10 * 1.01) units.
    close = [10.0, 10.0, 11.0, 12.0, 12.0]
    res = run(
        close,
        entries=[True, False, False, False, False],
        exits=[False, False, True, False, False],
        fees=0.01,
        init_cash=1000.0,
        timeframe=252,
    )
    units = 1000.0 / (10.0 * 1.01)
    buy, sell = units * 10.0, units * 12.0
    fees = 0.01 * (buy + sell)
    final = 1000.0 - buy - 0.01 * buy + sell - 0.01 * sell
    equity = res.equity.iloc[:, 0].to_numpy()
    st = run_stats(res)
    assert st.total_return == pytest.approx(final / 1000.0 - 1)
    assert st.fees_paid == pytest.approx(fees)
    assert st.fee_drag == pytest.approx(fees / 1000.0)
    assert st.turnover == pytest.approx((buy + sell) / equity.mean())
    assert st.annual_turnover == pytest.approx(st.turnover / (5 / 252))
    assert st.exposure == pytest.approx(2 / 5)  # held after bars 1 and 2
    assert st.n_bars == 5
    assert st.periods_per_year == 252.0
    assert st.max_drawdown == pytest.approx(min(equity / np.maximum.accumulate(
        np.concatenate([[1000.0], equity]))[1:] - 1))  # fmt: skip


def test_sharpe_and_sortino_are_the_backtests_own():
    rng = np.random.default_rng(0)
    close = 100 * np.cumprod(1 + rng.normal(0.0005, 0.01, 300))
    entries = rng.uniform(size=300) < 0.05
    exits = rng.uniform(size=300) < 0.05
    res = run(close, entries=entries, exits=exits, fees=0.001, timeframe=252)
    stats = res.stats()
    st = run_stats(res)
    assert st.sharpe == stats["sharpe"]
    assert st.sortino == stats["sortino"]
    assert st.max_drawdown == stats["max_drawdown"]
    # bar_returns follow the same definition: their Sharpe ratio is the backtest's
    r = bar_returns(res)
    assert sharpe_test(r, periods_per_year=252).sharpe == pytest.approx(stats["sharpe"])
    eq = res.equity.iloc[:, 0]
    assert r.iloc[0] == pytest.approx(eq.iloc[0] / res.init_cash - 1)
    np.testing.assert_allclose(r.iloc[1:], (eq / eq.shift(1) - 1).iloc[1:])


def test_columns_of_a_sweep():
    close = pd.Series([10.0, 10.5, 11.0, 10.0, 12.0])
    entries = pd.DataFrame({"fast": [True, False, False, False, False],
                            "slow": [False, False, True, False, False]})  # fmt: skip
    res = run(close, entries=entries, timeframe=252)
    fast, slow = run_stats(res, "fast"), run_stats(res, "slow")
    assert fast.column == "fast"
    assert slow.column == "slow"
    assert fast.turnover > 0
    assert slow.turnover > 0
    assert fast.exposure > slow.exposure
    assert bar_returns(res, "slow").name == "slow"
    with pytest.raises(EvaluationError, match=r"has 2 columns .* pass column="):
        run_stats(res)
    with pytest.raises(EvaluationError, match="column='medium' is not a column"):
        bar_returns(res, "medium")


def test_a_flat_run_has_no_sharpe_and_no_turnover():
    res = run([10.0, 11.0, 12.0], entries=[False] * 3, timeframe=252)
    st = run_stats(res)
    assert math.isnan(st.sharpe)
    assert st.turnover == 0.0
    assert st.fees_paid == 0.0
    assert st.exposure == 0.0
