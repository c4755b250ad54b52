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
# # 06 · LLM + RL: the fallback and the RL-augmented LLM
#
# Two ways to combine an LLM analyst with a trained RL policy, as OADER Analyze stages:
#
# * **RL fallback** (`RLFallback`): the LLM analyses first; when it times out, fails, abstains
#   or is unsure, the RL policy's analysis is used instead, labelled with the reason.
# * **RL-augmented LLM** (`RLAugmentedAnalyzer`): the RL policy's action probabilities are fused
#   into every LLM analysis by a `FusionRule`, recorded on the analysis so the explain report
#   shows why an action was taken.
#
# **No LLM is called in this notebook.** A `ScriptedClient` stands in for the LLM: it returns
# canned answers (a confident buy, an unsure hold, invalid JSON), and a scripted outage and a
# hang stand in for a server that is down or slow. That keeps the notebook offline and
# deterministic; pass a real client (notebook 08) to do the same with a model.

# %%
import itertools
import json
import time

import pandas as pd

from axon_lab.data import make_synthetic
from axon_lab.llm import ScriptedClient, SystemPrompt, complete_analysis
from axon_lab.oader import make_agent
from axon_lab.rl import (
    EnvConfig,
    FusionRule,
    RLAugmentedAnalyzer,
    RLFallback,
    RLPolicy,
    train_policy,
)

data = make_synthetic(1_200, timeframe="1h", start="2024-01-01", seed=11, symbol="SYN")
START = str(data.index[900])

# %% [markdown]
# A small PPO policy (discrete hold / buy / sell), trained for 2,048 steps: enough to have a
# policy to fall back on, not a good one.

# %%
policy = train_policy(
    data,
    total_timesteps=2_048,
    config=EnvConfig(window=16, episode_length=128),
    n_envs=4,
    seed=0,
    hyperparams={"n_steps": 256, "batch_size": 128, "n_epochs": 1},
)
rl = RLPolicy(policy, data)

# %% [markdown]
# ## The scripted stand-in for the LLM
#
# Each call of the Analyze stage takes the next item of a fixed script. The answers are JSON in
# the analysis contract an LLM is prompted with; `complete_analysis` validates them (and asks
# once for a repair, as it would a real model).


# %%
def answer(action, confidence, assessment="range"):
    return json.dumps(
        {
            "thought": "scripted stand-in for an LLM",
            "market_assessment": assessment,
            "risk_assessment": "low",
            "confidence": confidence,
            "action": action,
            "reason": "scripted",
        }
    )


SCRIPT = {
    "confident": [answer("buy", 0.9, "uptrend")],
    "unsure": [answer("hold", 0.3)],
    "invalid": ["not json at all", "still not json"],  # the answer, then the repair
}


def scripted_llm(script):
    """An Analyze stage whose 'LLM' follows ``script`` (a ScriptedClient per call)."""
    items = itertools.cycle(script)

    def analyze(observation):
        item = next(items)
        if item == "down":
            raise ConnectionError("LLM server unreachable (scripted)")
        if item == "hang":
            time.sleep(2.0)  # a client that ignores its own timeout
            item = "confident"
        client = ScriptedClient(SCRIPT[item], model="scripted-stand-in")
        messages = SystemPrompt().messages(f"Analyse SYN at {observation.timestamp}.")
        return complete_analysis(client, messages)

    return analyze


# %% [markdown]
# ## RL fallback
#
# A deadline of 0.5 s for each LLM analysis and a confidence floor of 0.5. Over six steps the
# script goes: confident, unsure, invalid, down, hang, confident. Only the two confident
# answers are the LLM's; the other four steps are the RL policy's, each labelled with why.

# %%
# NBVAL_CHECK_OUTPUT
script = ["confident", "unsure", "invalid", "down", "hang", "confident"]
fallback = RLFallback(scripted_llm(script), rl, timeout_s=0.5, min_confidence=0.5)
loop = make_agent(data, analyst=fallback.analyze, store="sqlite://", start=START, progress=False)
loop.run(len(script))
for step, item in zip(loop.store.steps(loop.run_id), script, strict=True):
    a = step.analysis
    print(f"step {step.step} [{item:9s}] source={a.source.value:3s} analyst={a.analyst}")
print(fallback.stats())
loop.close()

# %% [markdown]
# ## RL-augmented LLM
#
# The fusion rule turns the LLM's answer into a distribution (its action gets its confidence,
# the other two share the rest), mixes it with the RL policy's probabilities (here 30 % RL) and
# takes the most probable action. A confident LLM keeps its action; an unsure one can be
# overruled, and then the analysis's source becomes `rl`. The rule and both inputs are recorded
# as the analysis's last reasoning step.

# %%
# NBVAL_CHECK_OUTPUT
rule = FusionRule(rl_weight=0.3)
augmented = RLAugmentedAnalyzer(scripted_llm(["confident", "unsure"]), rl, rule)
loop = make_agent(data, analyst=augmented, store="sqlite://", start=START, progress=False)
loop.run(4)
steps = loop.store.steps(loop.run_id)
note = json.loads(steps[0].analysis.reasoning_steps[-1].thought.split(": ", 1)[1])
print("rule recorded:", note["settings"])
for step in steps[::2]:  # the confident steps: the LLM's buy survives 30 % RL
    fused = step.analysis
    print(f"step {step.step}: fused {fused.action.value}, source {fused.source.value}")

# %% [markdown]
# Every step, with what the LLM said and what the fusion made of it (the unsure steps depend on
# the policy):

# %%
rows = []
for step in steps:
    note = json.loads(step.analysis.reasoning_steps[-1].thought.split(": ", 1)[1])
    rows.append({"step": step.step, **{k: v for k, v in note.items() if k != "settings"}})
loop.close()
pd.DataFrame(rows)
