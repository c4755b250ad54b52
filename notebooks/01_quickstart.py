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
# # Quickstart: an OADER trading agent in a few lines
#
# One agent, five stages — **Observe, Analyze, Decide, Execute, Record** — on the bundled
# BTC-USD 15-minute sample, fully offline:
#
# * **Analyze** with the deterministic `RulesAnalyst` (SMA trend, RSI momentum, ATR volatility).
#   It calls the same market-data and portfolio tools an LLM would, so every step has a real
#   reasoning chain. Swap in an LLM with `make_agent(frame, analyst=client)`.
# * **Decide** with seed 001's rules, sized from risk: a fraction of equity at risk over an
#   ATR-based stop, capped by the risk limits.
# * **Execute** through the trading tools and the fail-closed risk chain (safety mode, limits,
#   circuit breakers); orders fill at the next bar's open.
# * **Record** every step in the explain store before the next one starts.

# %%
import warnings

from axon_lab.data import DataRepairWarning, load_sample
from axon_lab.oader import make_agent

with warnings.catch_warnings():
    # the sample is repaired on load; frame.attrs["report"] lists every repair
    warnings.simplefilter("ignore", DataRepairWarning)
    frame = load_sample("btc-usd-15m")
print(frame.attrs["report"].summary(max_items=2))

# %% [markdown]
# ## Build the agent and run a few hundred steps
#
# `make_agent` wires the view, the tools, the risk chain, the next-open backend and an SQLite
# store under `runs/`. `run(n)` shows a progress bar and returns the loop.

# %%
agent = make_agent(frame, store="sqlite:///runs/quickstart.db", cash=100_000.0)
agent.run(300)
print(agent)

# %% [markdown]
# ## Read one step: reasoning chain, decision, risk verdicts, fills

# %%
steps = agent.store.steps(agent.run_id)
traded = [s for s in steps if s.acks]
step = traded[0] if traded else steps[-1]
print(f"step {step.step} at {step.timestamp:%Y-%m-%d %H:%M} UTC")
for turn in step.analysis.reasoning_steps:
    tool = f"  -> {turn.action.name}({turn.action.arguments})" if turn.action else ""
    print(f"- {turn.thought[:110]}{tool}")
print("decision:", step.decision.action.value, step.decision.quantity, "|", step.decision.reason)
for verdict in step.verdicts:
    print(
        f"  {verdict.line.value:12s} {verdict.rule:28s} {'ok' if verdict.approved else 'REJECTED'}"
    )
for fill in step.fills:
    print(f"  fill {fill.side.value} {fill.quantity:.6f} @ {fill.price:,.2f} (fee {fill.fee:.2f})")

# %% [markdown]
# ## The run as a table, and the explain report
#
# The report compares the run with buy-and-hold and ties every order to its step, reasoning,
# verdicts and fills. It is one self-contained HTML file.

# %%
agent.store.to_frame(agent.run_id).tail()

# %%
report = agent.report()
markdown_path, html_path = report.save(f"runs/{agent.run_id}")
summary = report.summary
print(f"return {summary['total_return']:+.2%} vs buy & hold {report.baseline['total_return']:+.2%}")
print(f"sharpe {summary['sharpe']:.2f}, max drawdown {summary['max_drawdown']:.2%}")
print(f"{summary['orders']} orders, {summary['fills']} fills, fees {summary['fees']:,.2f}")
print("rejections by rule:", report.rejections or "none")
print("report:", html_path)

# %%
agent.close()
