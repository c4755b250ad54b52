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
# # 07 · The explain report
#
# Every step of a run is recorded in the explain store before the next one starts: the
# observation, the analysis and its reasoning chain, the decision, every risk verdict, the acks
# and the fills. The report is rebuilt from the store alone — after the run, in another
# process, or from `axon-lab report` — and compares the run with buy-and-hold.
#
# Here: a short run of the rules analyst (deterministic, no LLM) into an SQLite store in a
# temporary folder, then the report from the stored run. A one-order-a-day limit gives the
# rejections section something to show.

# %%
import tempfile
from pathlib import Path

from axon_lab.data import MarketView, load_sample
from axon_lab.explain import ExplainStore, build_report
from axon_lab.oader import make_agent
from axon_lab.risk import RiskLimits

workdir = Path(tempfile.mkdtemp(prefix="axon-nb07-"))
url = f"sqlite:///{workdir / 'runs.db'}"
data = load_sample("synthetic-1h")

# %% [markdown]
# ## Run the agent into the store
#
# 150 hourly steps from 12 January 2020; the loop is closed afterwards, so the report below
# reads only what was stored.

# %%
loop = make_agent(
    data,
    store=url,
    run_id="nb07",
    start="2020-01-12 00:00+00:00",
    limits=RiskLimits(max_daily_orders=1),
    progress=False,
)
loop.run(150)
loop.close()

# %% [markdown]
# ## Build the report from the stored run
#
# `build_report` needs the store and the run id; the prices (a `MarketView`) add the
# buy-and-hold baseline and the candles of the decisions figure.

# %%
# NBVAL_CHECK_OUTPUT
with ExplainStore(url) as store:
    print([run.run_id for run in store.runs()])
    report = build_report(store, "nb07", view=MarketView(data))
s, b = report.summary, report.baseline
print(f"window: {s['start']} -> {s['end']}, {s['steps']} steps")
print(f"return {s['total_return']:+.2%} vs buy & hold {b['total_return']:+.2%}")
print(f"sharpe {s['sharpe']:.2f}, max drawdown {s['max_drawdown']:.2%}")
print(f"{s['orders']} orders, {s['fills']} fills, fees {s['fees']:,.2f}")
print("rejections by rule:", report.rejections)
print("notes:", *report.notes, sep="\n  ")

# %% [markdown]
# Each order row ties an order to its step, the analysis and reasoning chain, the decision, the
# risk verdicts and the fills:

# %%
# NBVAL_CHECK_OUTPUT
row = report.orders[0]
for field in ("step", "timestamp", "side", "quantity", "status", "reasoning", "verdicts", "fills"):
    print(f"{field:10s} {getattr(row, field)}")

# %% [markdown]
# ## Save it: Markdown and one self-contained HTML file
#
# The HTML page carries the figures (decisions on the candles, equity vs buy-and-hold,
# confidence, rejections by rule) with plotly.js inlined once: it opens offline, with no CDN.
# `build_report(..., figures=False)` gives a page without any script.

# %%
# NBVAL_CHECK_OUTPUT
markdown_path, html_path = report.save(workdir / "nb07")
page = html_path.read_text(encoding="utf-8")
print("files:", markdown_path.name, html_path.name)
print("figures:", [fig.title for fig in report.figures])
print("plotly.js inlined:", page.count("* plotly.js v"), "time(s)")
summary_table = (
    markdown_path.read_text(encoding="utf-8").split("## Summary")[1].split("## Activity")[0]
)
print(summary_table.strip())
