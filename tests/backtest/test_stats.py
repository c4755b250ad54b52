"""Statistics against empyrical's formulas, the annualisation rule and the pinned schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axon_lab.backtest import STATS_KEYS, bars_per_year, run
from axon_lab.backtest import _stats as stats_module
from axon_lab.errors import ConfigError

empyrical = pytest.importorskip("empyrical", reason="empyrical-reloaded is the formula reference")


def test_stats_keys_are_pinned_and_documented():
    assert STATS_KEYS == (
        "start_value", "end_value", "total_return", "cagr", "annual_volatility", "sharpe",
        "sortino", "max_drawdown", "max_drawdown_duration", "calmar", "n_trades",
        "n_open_trades", "win_rate", "profit_factor", "avg_trade", "exposure", "fees_paid",
    )  # fmt: skip
    doc = stats_module.__doc__ or ""
    for key in STATS_KEYS:
        if key not in ("start_value", "end_value", "n_trades", "fees_paid"):
            assert key in doc, key


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("bpy", [252.0, 365.0, 35040.0])
def test_equity_stats_match_empyrical(make_ohlc, seed, bpy):
    df = make_ohlc(400, seed=seed)
    rng = np.random.default_rng(seed)
    target = np.where(rng.random(400) < 0.1, rng.uniform(0, 1, 400), np.nan)
    res = run(df, target=target, fees=0.001, timeframe=bpy)
    st = res.stats()
    equity = res.equity.iloc[:, 0].to_numpy()
    r = pd.Series(np.diff(np.r_[10_000.0, equity]) / np.r_[10_000.0, equity[:-1]])
    assert st["total_return"] == pytest.approx(empyrical.cum_returns_final(r), rel=1e-9)
    assert st["cagr"] == pytest.approx(empyrical.cagr(r, annualization=bpy), rel=1e-9)
    vol = empyrical.annual_volatility(r, annualization=bpy)
    assert st["annual_volatility"] == pytest.approx(vol, rel=1e-9)
    assert st["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=bpy), rel=1e-9)
    assert st["sortino"] == pytest.approx(empyrical.sortino_ratio(r, annualization=bpy), rel=1e-9)
    assert st["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=1e-9)
    assert st["calmar"] == pytest.approx(empyrical.calmar_ratio(r, annualization=bpy), rel=1e-9)


def test_trade_stats_and_drawdown_duration():
    close = np.array([10, 10, 12, 12, 9, 9, 11, 11, 8, 8, 10, 10.0])
    ent = np.zeros(12, bool)
    ext = np.zeros(12, bool)
    ent[[0, 4, 8]] = True
    ext[[2, 6, 10]] = True
    res = run(close, entries=ent, exits=ext, execution="close")
    st = res.stats()
    pnl = res.trades["pnl"].to_numpy()
    np.testing.assert_allclose(pnl, [2000.0, 12_000 / 9 * 2, (12_000 / 9 * 11 / 8) * 2])
    assert st["n_trades"] == 3
    assert st["n_open_trades"] == 0
    assert st["win_rate"] == 1.0
    assert st["profit_factor"] == np.inf
    assert st["avg_trade"] == pytest.approx(pnl.mean())
    assert st["exposure"] == pytest.approx(6 / 12)
    assert st["max_drawdown_duration"] == 0  # all-cash between trades never loses value
    losing = run(close[::-1].copy(), entries=ent, exits=ext, execution="close").stats()
    assert losing["max_drawdown_duration"] > 0
    assert 0.0 <= losing["win_rate"] < 1.0


def test_bars_per_year_rules():
    daily_247 = pd.date_range("2024-01-01", periods=30, freq="D", tz="UTC")
    assert bars_per_year(daily_247, None) == 365.0
    assert bars_per_year(pd.bdate_range("2024-01-01", periods=30), None) == 252.0
    q = pd.date_range("2024-01-01", periods=500, freq="15min")
    assert bars_per_year(q, None) == pytest.approx(365 * 96)
    hours = pd.DatetimeIndex(
        [d + pd.Timedelta(hours=h) for d in pd.bdate_range("2024-01-01", periods=20)
         for h in range(10, 17)]
    )  # fmt: skip
    assert bars_per_year(hours, None) == pytest.approx(252 * 7)
    assert bars_per_year(None, None) == 252.0
    assert bars_per_year(daily_247, 1000) == 1000.0
    assert bars_per_year(None, "1h") == pytest.approx(365 * 24)
    with pytest.raises(ConfigError, match="positive"):
        bars_per_year(None, -3)
