"""Sweeps equal the corresponding runs, for the fused SMA kernel and for callable strategies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axon_lab.backtest import STATS_KEYS, run, sma_cross_signals, sweep
from axon_lab.errors import ConfigError

GRID = {"fast": [3, 5, 10], "slow": [20, 40]}


def _close_enough(row: pd.Series, expected: pd.Series) -> None:
    for key in STATS_KEYS:
        a, b = float(row[key]), float(expected[key])
        if np.isnan(b):
            assert np.isnan(a), key
        else:
            assert a == pytest.approx(b, rel=1e-10, abs=1e-12), key


@pytest.mark.parametrize(
    "settings",
    [
        {"fees": 0.001},
        {"fees": 0.002, "fixed_fee": 1.0, "slippage_bps": 5, "direction": "both"},
        {"execution": "close", "lot_size": 0.5},
    ],
)
def test_sma_sweep_rows_equal_runs(make_ohlc, settings):
    df = make_ohlc(600, seed=7)
    table = sweep(df, "sma_cross", GRID, **settings)
    assert list(table.columns) == ["fast", "slow", *STATS_KEYS]
    assert len(table) == 6
    for _, row in table.iterrows():
        ent, ext = sma_cross_signals(df["close"], int(row["fast"]), int(row["slow"]))
        expected = run(df, entries=ent, exits=ext, **settings).stats()
        _close_enough(row, expected)
    assert (table["n_trades"] + table["n_open_trades"] > 0).all()


def test_sma_signals_match_pandas_rolling(make_ohlc):
    close = make_ohlc(300, seed=4)["close"]
    ent, ext = sma_cross_signals(close, 5, 20)
    fast, slow = close.rolling(5).mean(), close.rolling(20).mean()
    above = fast > slow
    exp_ent = above & ~above.shift(1, fill_value=True) & slow.shift(1).notna()
    below = fast < slow
    exp_ext = below & ~below.shift(1, fill_value=True) & slow.shift(1).notna()
    assert ent.nonzero()[0].tolist() == np.flatnonzero(exp_ent).tolist()
    assert ext.nonzero()[0].tolist() == np.flatnonzero(exp_ext).tolist()


def _momentum(close: np.ndarray, lookback: int, hold: int) -> tuple[np.ndarray, np.ndarray]:
    ret = np.zeros_like(close)
    ret[lookback:] = close[lookback:] / close[:-lookback] - 1
    ent = ret > 0.02
    ext = np.roll(ent, hold)
    ext[:hold] = False
    return ent, ext


def test_callable_strategy_is_chunked_and_equals_runs(make_ohlc):
    df = make_ohlc(300, seed=9)
    grid = {"lookback": [5, 10, 20], "hold": [3, 7]}
    small = sweep(df, _momentum, grid, fees=0.001, chunk_cells=700)  # 2 columns per chunk
    whole = sweep(df, _momentum, grid, fees=0.001)
    pd.testing.assert_frame_equal(small, whole)
    for _, row in small.iterrows():
        ent, ext = _momentum(df["close"].to_numpy(), int(row["lookback"]), int(row["hold"]))
        _close_enough(row, run(df, entries=ent, exits=ext, fees=0.001).stats())


def test_sweep_errors(make_ohlc):
    df = make_ohlc(50)
    with pytest.raises(ConfigError, match="Did you mean 'sma_cross'"):
        sweep(df, "sma_crossover", GRID)
    with pytest.raises(ConfigError, match=r"windows must be in 1\.\.50"):
        sweep(df, "sma_cross", {"fast": [0], "slow": [10]})
    with pytest.raises(ConfigError, match="needs keys fast and slow"):
        sweep(df, "sma_cross", {"fast": [3]})
    with pytest.raises(ConfigError, match="grid is empty"):
        sweep(df, "sma_cross", {})


def test_sweep_memory_does_not_grow_with_bars_times_combos(make_ohlc):
    import tracemalloc

    df = make_ohlc(20_000, seed=5)
    grid = {"fast": list(range(2, 22)), "slow": list(range(30, 130, 10))}  # 200 combos
    sweep(df, "sma_cross", grid)  # compile outside the measurement
    tracemalloc.start()
    sweep(df, "sma_cross", grid)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    one_series = 20_000 * 8
    assert peak < 12 * one_series  # a bars x combos array would be 200 series
