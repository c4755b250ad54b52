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
# # 02 · Step the loop
#
# Build the offline agent (the rules analyst, no API key) on a bundled sample, show the
# dashboard, and step the loop bar by bar. Each **Step** runs one Observe → Analyze → Decide →
# Execute → Record cycle; the chart gains a point, the reasoning chain an entry, and the step
# detail shows everything that was recorded (LLM cost and cache hits included when an LLM
# analyses). **Run N** runs N steps as a task on the kernel's event loop, so **Pause** works
# while it runs; **Reset** starts a new run. The run picker browses the runs in the store.

# %%
import itertools

from IPython.display import display

from axon_lab.data import load_sample
from axon_lab.oader import make_agent
from axon_lab.risk.limits import RiskLimits
from axon_lab.widgets import Dashboard

# %% [markdown]
# The sample is the bundled synthetic hourly series; the run starts on 12 January 2020 (the
# analyst reads the bars before it). A one-order-a-day limit makes the risk chain reject the
# second buy of a day, so the rejections tab has something to show. The store is in memory:
# nothing is written to disk.

# %%
data = load_sample("synthetic-1h")
run_ids = (f"nb02-{i}" for i in itertools.count())


def build_agent(store="sqlite://"):
    return make_agent(
        data,
        store=store,
        run_id=next(run_ids),
        start="2020-01-12 00:00+00:00",
        limits=RiskLimits(max_daily_orders=1),
        progress=False,
    )


loop = build_agent()
dash = Dashboard(loop, factory=lambda: build_agent(loop.store))
display(dash)

# %% [markdown]
# Clicking the buttons from code does what a click in the page does.

# %%
# NBVAL_CHECK_OUTPUT
for _ in range(5):
    dash.stepper.step_button.click()
print(f"run {loop.run_id}: {loop.step_index} steps")
print(f"chart points: {len(dash.chart.y)}, reasoning entries: {len(dash.reasoning.entries)}")
print(f"step detail shows step {dash.detail.record.step}")
frame = loop.store.to_frame(loop.run_id)
print(frame[["action", "equity", "n_rejections", "n_fills"]].round(2).to_string())

# %% [markdown]
# The newest step's reasoning, as the rules analyst recorded it:

# %%
# NBVAL_CHECK_OUTPUT
last = loop.last_record
for turn in last.analysis.reasoning_steps:
    print("thought:", turn.thought)
    print("action: ", turn.action.name if turn.action else None)
print("final:  ", last.analysis.action.value, f"(confidence {last.analysis.confidence:.2f})")
