# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Backtest and sweeps
#
# The vectorized engine (`axon_lab.backtest`) runs signals over bars in one compiled pass:
# orders decided at a bar's close fill at the next bar's open, with fees. Here: one SMA-cross
# backtest on the bundled BTC-USD daily sample next to buy-and-hold, a small parameter sweep
# and its heatmap, and walk-forward splits that pick parameters in-sample and test them
# out-of-sample. Everything is deterministic: no randomness, no network.

# %%
import warnings

import numpy as np
import pandas as pd

from axon_lab.backtest import run, sma_cross_signals, sweep, walk_forward_splits
from axon_lab.data import DataRepairWarning, load_sample
from axon_lab.viz import plot_sweep_heatmap

with warnings.catch_warnings():
    # four 'null' rows are dropped on load; data.attrs["report"] lists them
    warnings.simplefilter("ignore", DataRepairWarning)
    data = load_sample("btc-usd-1d")
print(data.attrs["symbol"], data.attrs["timeframe"], len(data), "bars")

# %% [markdown]
# ## One backtest next to buy-and-hold
#
# SMA(10) crossing SMA(30): all in on the cross up, flat on the cross down; 0.1 % fee a fill.
# Buy-and-hold is the same engine with a target position of 100 % from the first bar.

# %%
# NBVAL_CHECK_OUTPUT
entries, exits = sma_cross_signals(data["close"], fast=10, slow=30)
strategy = run(data, entries=entries, exits=exits, fees=0.001)
hold = run(data, target=np.ones(len(data)), fees=0.001)
keys = ["total_return", "cagr", "sharpe", "max_drawdown", "n_trades"]
table = pd.DataFrame(
    {"sma_cross(10, 30)": strategy.stats()[keys], "buy & hold": hold.stats()[keys]}
).astype(float)
print(table.round(3).to_string())

# %% [markdown]
# ## A small sweep
#
# Every (fast, slow) pair of the grid in one call; one row per pair, with the same stats.

# %%
# NBVAL_CHECK_OUTPUT
grid = {"fast": [5, 10, 20], "slow": [30, 50, 100]}
results = sweep(data, "sma_cross", grid, fees=0.001)
print(results[["fast", "slow", "total_return", "sharpe", "n_trades"]].round(3).to_string())

# %% [markdown]
# The Sharpe ratio over the grid (hover a cell for its value):

# %%
plot_sweep_heatmap(results, x="fast", y="slow", metric="sharpe")

# %% [markdown]
# ## Walk-forward
#
# Roll a 300-bar training window and a 100-bar test window over the bars: pick the grid's best
# Sharpe on each training window, then backtest that pair on the test window that follows. The
# out-of-sample Sharpe is the honest number; the in-sample one is usually higher (NaN: no
# trade in that test window, so no volatility).

# %%
# NBVAL_CHECK_OUTPUT
rows = []
for train_idx, test_idx in walk_forward_splits(len(data), train=300, test=100):
    train_res = sweep(data.iloc[train_idx], "sma_cross", grid, fees=0.001)
    best = train_res.loc[train_res["sharpe"].idxmax()]
    fast, slow = int(best["fast"]), int(best["slow"])
    # the test run sees the training bars too, so its averages are warm at the first test bar
    window = data.iloc[: test_idx[-1] + 1]
    e, x = sma_cross_signals(window["close"], fast=fast, slow=slow)
    e[: test_idx[0]] = False
    x[: test_idx[0]] = False
    oos = run(window.iloc[test_idx], entries=e[test_idx], exits=x[test_idx], fees=0.001)
    rows.append(
        {
            "test from": window.index[test_idx[0]].date(),
            "fast": fast,
            "slow": slow,
            "in-sample sharpe": best["sharpe"],
            "out-of-sample return": float(oos.stats()["total_return"]),
            "out-of-sample sharpe": float(oos.stats()["sharpe"]),
        }
    )
print(pd.DataFrame(rows).round(3).to_string(index=False))
