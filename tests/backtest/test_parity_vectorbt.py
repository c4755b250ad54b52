"""Peer parity on real data: the SMA 10/50 crossover against vectorbt's Portfolio.from_signals.

Data comes from the bundled samples through ``axon_lab.data.load_sample`` (which drops the daily
file's "null" rows, converts the 15-minute file's +01:00/+00:00 offsets to UTC and drops the
duplicate bars). Our signals fire at a bar's close and fill at the next open; vectorbt gets the
same signals shifted by one bar with ``price=open``, ``size=inf`` (all-in) and ``fees=0.001``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from axon_lab.backtest import run, sma_cross_signals, sweep
from axon_lab.data.report import DataRepairWarning
from axon_lab.data.samples import load_sample

vbt = pytest.importorskip("vectorbt", reason="vectorbt (dev extra) is the parity peer")

FEES = 0.001
CASH = 10_000.0


def _sample(name: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        # the raw BTC files need documented repairs (null rows, duplicate bars); expected here
        warnings.simplefilter("ignore", DataRepairWarning)
        return load_sample(name)


@pytest.mark.parametrize("name", ["btc-usd-1d", "btc-usd-15m", "aapl-1d"])
def test_sma_crossover_matches_vectorbt(name):
    df = _sample(name)
    ent, ext = sma_cross_signals(df["close"], 10, 50)
    ours = run(df, entries=ent, exits=ext, fees=FEES, init_cash=CASH)
    shift = {"fill_value": False}
    pf = vbt.Portfolio.from_signals(
        df["close"],
        pd.Series(ent, index=df.index).shift(1, **shift),
        pd.Series(ext, index=df.index).shift(1, **shift),
        price=df["open"],
        fees=FEES,
        size=np.inf,
        init_cash=CASH,
    )
    assert len(ours.trades) == int(pf.trades.count()) > 5
    assert ours.final_equity[0] == pytest.approx(float(pf.final_value()), rel=1e-6)
    np.testing.assert_allclose(ours.equity.iloc[:, 0], pf.value().to_numpy(), rtol=1e-6)
    theirs = pf.orders.values
    mine = ours.orders
    np.testing.assert_array_equal(mine["bar"], theirs["idx"])
    np.testing.assert_allclose(mine["size"].abs(), theirs["size"], rtol=1e-9)
    np.testing.assert_allclose(mine["price"], theirs["price"], rtol=1e-12)
    np.testing.assert_allclose(mine["fee"], theirs["fees"], rtol=1e-6)


def test_sma_sweep_matches_vectorbt_on_btc_daily():
    df = _sample("btc-usd-1d")
    grid = {"fast": [5, 10, 20], "slow": [30, 50]}
    table = sweep(df, "sma_cross", grid, fees=FEES, init_cash=CASH)
    for _, row in table.iterrows():
        ent, ext = sma_cross_signals(df["close"], int(row["fast"]), int(row["slow"]))
        pf = vbt.Portfolio.from_signals(
            df["close"], np.r_[False, ent[:-1]], np.r_[False, ext[:-1]], price=df["open"],
            fees=FEES, size=np.inf, init_cash=CASH,
        )  # fmt: skip
        assert row["end_value"] == pytest.approx(float(pf.final_value()), rel=1e-6)
        assert row["n_trades"] + row["n_open_trades"] == int(pf.trades.count())
