# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11 · Many symbols in one agent: a portfolio loop
#
# An agent that picks between assets, not only times one. A `Universe` holds many symbols on one
# clock; a symbol without a bar at a step (halted, not yet listed, delisted) is not tradable
# there, and its position is marked at its last close. The portfolio loop observes the whole
# universe at once, an analyst turns it into target weights, the weights are sized under one
# equity, the portfolio risk line judges every order and the book (per-symbol caps, gross and
# net exposure, concentration, sector limits), the backend fills on the vectorized engine's
# kernel, and every step is recorded in the explain store.
#
# Here: the bundled `stocks-1d` sample (AAPL, FB, GOOG, IBM, MSFT daily bars from
# `bokeh_sampledata`; FB lists inside the window) and the rules ranking analyst.

# %%
import tempfile
from pathlib import Path

from IPython.display import display

from axon_lab import backtest
from axon_lab.data import load_universe_sample
from axon_lab.portfolio import (
    RankingAnalyst,
    build_portfolio_report,
    make_portfolio_agent,
    portfolio_observation,
)
from axon_lab.risk import PortfolioLimits

universe = load_universe_sample("stocks-1d").window("2011-06-01", "2013-03-01")
universe.summary()

# %%
# NBVAL_CHECK_OUTPUT
print(universe)
print("FB lists on", universe.index[universe.first_bar[universe.symbols.index("FB")]].date())

# %% [markdown]
# The limits: no symbol above 45 % of equity, no sector above 60 %, no borrowing. The analyst
# ranks by the trend score (fast minus slow moving average in ATR units) and holds the best two.

# %%
sectors = {
    "AAPL": "hardware",
    "IBM": "hardware",
    "MSFT": "software",
    "GOOG": "internet",
    "FB": "internet",
}
limits = PortfolioLimits(max_weight=0.45, groups=sectors, max_group_weight=0.6, fee_rate=0.001)
workdir = Path(tempfile.mkdtemp(prefix="axon-nb10-"))
loop = make_portfolio_agent(
    universe,
    analyst=RankingAnalyst(top_k=2, invested=0.9),
    limits=limits,
    fees=0.001,
    store=f"sqlite:///{workdir / 'runs.db'}",
    run_id="stocks-rank",
    band=0.01,
)
loop.run()
last = loop.last_record
print(f"{loop.step_index} steps recorded; equity {last.equity:,.2f}")
print("last weights:", {k: round(v, 3) for k, v in last.portfolio.weights.items()})

# %% [markdown]
# The report: each symbol's mean weight and contribution to the return (they add up to it), the
# weights over time, and the fills and rejections behind them.

# %%
report = build_portfolio_report(loop.store, "stocks-rank", top=5)
display(report.symbols.round(4))
for fig in report.figures():
    fig.show()

# %% [markdown]
# What the agent saw at any step is stored with it, by content; and the rejections say which
# limit stopped which order.

# %%
seen = portfolio_observation(loop.store, "stocks-rank", 100)
display(seen.table().round(3))
rejected = [v for s in loop.store.steps("stocks-rank") for v in s.rejections]
print(len(rejected), "rejected orders;", sorted({v.rule for v in rejected}))

# %% [markdown]
# An LLM allocates from a compact table of the universe, kept within a stated token budget (rows
# go in the rules ranking's order until the next would not fit); large universes switch to a
# per-symbol mode. Offline here: a scripted client stands in for the model.

# %%
from axon_lab.llm import ScriptedClient
from axon_lab.portfolio import LLMPortfolioAnalyst

client = ScriptedClient(lambda request: '{"weights": {"AAPL": 0.4}, "reason": "scripted"}')
llm = LLMPortfolioAnalyst(client, mode="table", token_budget=400)
messages, shown = llm.table_prompt(seen)
print(messages[-1]["content"])
decision = llm(seen)
print(decision.source.value, decision.target_weights, "prompt tokens:", llm.last_prompt_tokens)

# %% [markdown]
# The loop's fills are the vectorized engine's: the same order stream through `backtest.run`
# gives the same fills, bar for bar.

# %%
# NBVAL_CHECK_OUTPUT
be = loop.backend
log = be.order_log
sent = log[log["status"] == "sent"][["bar", "col", "size"]]
engine = backtest.run(be.kernel_prices(), orders=sent, init_cash=be.sleeve_cash, fees=0.001)
ours = sorted(be.fills, key=lambda f: (universe.symbols.index(f.symbol), f.timestamp))
same = engine.orders["price"].tolist() == [f.price for f in ours]
print(len(engine.orders), "engine fills;", len(ours), "loop fills; same prices:", same)

# %%
from axon_lab.widgets import PortfolioView

view = PortfolioView(top=5)
view.load(loop.store, "stocks-rank")
display(view.widget)

# %%
loop.close()
