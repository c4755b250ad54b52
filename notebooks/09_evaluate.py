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
# # 09 · Evaluate an agent against its baselines
#
# One run answers nothing. `evaluate` runs an agent over walk-forward windows of one or many
# symbols, each window a run in the explain store under one evaluation id, beside baselines on
# the same windows with the same fees and fills: buy-and-hold, flat (cash), the rules analyst and
# a seeded random agent that trades as often as the agent under test. The report gives each a
# mean return per window with a bootstrap interval, a verdict that never claims more than the
# interval allows, and the run id behind every number.
#
# Here: the rules agent on two synthetic daily series, three windows each, in a temporary store.
# Rerunning with the same evaluation id skips the finished runs.

# %%
import tempfile
from pathlib import Path

from IPython.display import display

from axon_lab.data import make_synthetic
from axon_lab.evaluate import AgentSpec, build_evaluation_report, evaluate

workdir = Path(tempfile.mkdtemp(prefix="axon-nb09-"))
url = f"sqlite:///{workdir / 'runs.db'}"
data = [
    make_synthetic(300, timeframe="1d", seed=1, symbol="AAA"),
    make_synthetic(300, timeframe="1d", seed=2, symbol="BBB"),
]

# %% [markdown]
# ## Run the evaluation
#
# `AgentSpec` names the agent and how to build it (`analyst="rules"`, or a factory returning an
# LLM client). Rules agents run in worker processes; here one process keeps the notebook quick.

# %%
evaluation = evaluate(
    AgentSpec(name="rules"),
    data,
    n_windows=3,
    test=60,
    warmup=60,
    n_random=2,
    seed=0,
    store=url,
    evaluation_id="nb09",
    workers=1,
    progress=False,
)

# %%
# NBVAL_CHECK_OUTPUT
columns = ["agent", "draw", "label", "total_return", "n_fills", "run_id"]
print(evaluation.results[columns].round(4).head(10).to_string(index=False))

# %% [markdown]
# ## Resume: finished runs are skipped
#
# The same evaluation id again: every run already has all its steps, so nothing is re-run and the
# numbers are the same.

# %%
again = evaluate(
    AgentSpec(name="rules"),
    data,
    n_windows=3,
    test=60,
    warmup=60,
    n_random=2,
    seed=0,
    store=url,
    evaluation_id="nb09",
    workers=1,
    progress=False,
)
print("identical:", again.results.equals(evaluation.results))

# %% [markdown]
# ## The report
#
# The leaderboard and the verdicts (the notebook view); `report.save(folder)` writes
# `report.md` and `report.html` with the equity curve of every window, and `report.figures()`
# returns the plotly figures.

# %%
report = build_evaluation_report(evaluation)
display(report)

# %%
# NBVAL_CHECK_OUTPUT
for comparison in report.summary.comparisons:
    print(comparison.verdict)

# %%
paths = report.save(workdir / "nb09")
print([p.name for p in paths])
