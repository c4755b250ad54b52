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
# # 10 · One LLM, more inputs, more models: a comparison on the same windows
#
# Seed 001's multi-model agent, piece by piece, each one argument to `make_agent`:
#
# * `memory=` — the most similar past contexts and what followed them (retrieval memory);
# * `forecasts=` — walk-forward volatility and direction forecasts with their bands;
# * `rl_hint=` — a trained RL policy's action, confidence and value estimate in the prompt;
# * `documents=` — time-stamped texts served point-in-time into the prompt (token budget, guard);
# * `roles=` — several models in the Analyze stage: analysts, a decider, a risk reviewer.
#
# Every agent runs over the same walk-forward windows, beside the baselines, with `evaluate`.
#
# **No LLM is called here.** A `ScriptedClient` stands in for the model: a fixed function that
# reads the prompt it is sent — the RL hint when there is one, else the newest document, else the
# forecast, else the similar past contexts, else the bars — and answers in the analysis
# contract. It shows what each input changes, offline and deterministic; it says nothing about
# how a real model would do. For that, return an `OpenAICompatClient` (notebook 08) from the
# factories below.

# %%
import json
import re
import tempfile
from pathlib import Path

from axon_lab.data import load_documents, make_documents, make_synthetic
from axon_lab.evaluate import AgentSpec, evaluate
from axon_lab.explain import ExplainStore
from axon_lab.forecast import Forecasts
from axon_lab.llm import ScriptedClient
from axon_lab.memory import Memory
from axon_lab.oader import Role
from axon_lab.rl import EnvConfig, RLPolicy, train_policy

data = make_synthetic(900, timeframe="1h", start="2024-01-01", seed=21, symbol="SYN")
workdir = Path(tempfile.mkdtemp(prefix="axon-nb10-"))
url = f"sqlite:///{workdir / 'runs.db'}"

# %% [markdown]
# ## The inputs
#
# A small PPO policy (trained briefly: a policy to show, not a good one) and a generated news
# sample: each item reports the move over the bars complete when it was published, so the text
# never peeks ahead. Documents reach a decision 15 minutes after publication.

# %%
policy = train_policy(
    data.iloc[:600],
    total_timesteps=512,
    config=EnvConfig(window=8, episode_length=64),
    n_envs=2,
    seed=0,
    hyperparams={"n_steps": 64, "batch_size": 64, "n_epochs": 1},
)
rl = RLPolicy(policy, data, name="ppo-small")
news = make_documents(data, n=120, seed=3, lookback=12)
news.to_json(workdir / "news.jsonl", orient="records", lines=True)
feed = load_documents(workdir / "news.jsonl", delay="15min")
print(feed)
print(news[["published_at", "symbols", "title"]].head(3).to_string(index=False))

# %% [markdown]
# ## The scripted stand-in for the model
#
# It reads only the prompt: it follows the RL hint's direction when the hint proposes a trade
# (this tiny policy is barely better than uniform, so that is a poor habit: the comparison shows
# it), else the newest document, else the bars. The decider takes the majority of the other
# roles' answers.

# %%
HINT = re.compile(r"action=(buy|sell|hold), confidence=([0-9.]+)")
ROLE = re.compile(r"analyst [\w-]+: (buy|sell|hold)")
P_UP = re.compile(r"P\(up\) ([0-9.]+) \[([0-9.]+), ([0-9.]+)\]")
AFTER = re.compile(r"-> next \d+ bars ([+-][0-9.]+)%")
BAR = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d,[^,]+,[^,]+,[^,]+,([^,]+),", re.MULTILINE)


def contract(action, confidence, reason):
    return json.dumps(
        {
            "thought": reason,
            "market_assessment": {"buy": "uptrend", "sell": "downtrend"}.get(action, "range"),
            "risk_assessment": "medium",
            "confidence": confidence,
            "action": action,
            "reason": reason,
        }
    )


def read_prompt(request):
    text = request.messages[-1]["content"]
    hint = HINT.search(text)
    if hint and hint.group(1) != "hold":  # trusts the policy's direction, whatever its confidence
        return contract(hint.group(1), 0.6, f"follows the RL hint (confidence {hint.group(2)})")
    if "== Documents" in text:
        newest = text.split("== Documents", 1)[1]
        if "rallies" in newest.split("</untrusted_data>", 1)[0]:
            return contract("buy", 0.7, "the newest document reports a rally")
        if "slides" in newest.split("</untrusted_data>", 1)[0]:
            return contract("sell", 0.7, "the newest document reports a slide")
    p_up = P_UP.search(text)
    if p_up and float(p_up.group(2)) > 0.5:  # the whole band above one half
        return contract("buy", 0.65, f"forecast P(up) {p_up.group(1)}, band above 0.5")
    if p_up and float(p_up.group(3)) < 0.5:
        return contract("sell", 0.65, f"forecast P(up) {p_up.group(1)}, band below 0.5")
    after = [float(x) for x in AFTER.findall(text)]
    if after:  # the similar past contexts: what followed them, on average
        mean = sum(after) / len(after)
        action = "buy" if mean > 0.05 else "sell" if mean < -0.05 else "hold"
        return contract(action, 0.65, f"similar contexts were followed by {mean:+.2f}% on average")
    closes = [float(c) for c in BAR.findall(text)]
    move = closes[-1] / closes[0] - 1 if len(closes) > 1 else 0.0
    action = "buy" if move > 0.004 else "sell" if move < -0.004 else "hold"
    return contract(action, 0.65, f"bars moved {move:+.2%}")


def decide_by_majority(request):
    votes = ROLE.findall(request.messages[-1]["content"])
    action = max(("buy", "sell", "hold"), key=votes.count) if votes else "hold"
    return contract(action, 0.7, f"majority of {votes}")


def llm():
    return ScriptedClient(read_prompt, model="scripted-reader")


# %% [markdown]
# ## The agents
#
# The same scripted model alone, with the memory, with the forecasts, with the RL hint, with the
# documents, and as the analyst of an orchestra of roles (the RL policy as a second analyst, a
# majority decider, the rules analyst as the risk reviewer that can veto). The memory is built
# as the windows run, one after another: a window's agent retrieves the contexts of the earlier
# windows whose outcomes were known before its own bars (a memory holding a later outcome is
# refused). The forecasts refit every 40 bars on the bars before them (each window gives its
# agent 160 bars of history).

# %%
roles = [
    Role(name="market", model=ScriptedClient(read_prompt, model="scripted-reader")),
    Role(name="policy", model=rl),
    Role(name="decider", kind="decider", model=ScriptedClient(decide_by_majority,
                                                               model="scripted-decider")),
    Role(name="risk", kind="reviewer", model="rules"),
]  # fmt: skip
# kind="cpu" with workers=1: each window runs here, one after another (the scripted model needs
# no concurrency, and a notebook's own event loop is left alone)
agents = [
    AgentSpec(name="llm", analyst=llm, kind="cpu"),
    AgentSpec(
        name="llm-memory",
        analyst=llm,
        params={"memory": Memory("nb10", k=3, horizon=6, directory=workdir, load=False)},
        kind="cpu",
    ),
    AgentSpec(
        name="llm-forecasts",
        analyst=llm,
        params={"forecasts": Forecasts(horizon=6, refit_every=40, min_train=120)},
        kind="cpu",
    ),
    AgentSpec(name="llm-rl-hint", analyst=llm, params={"rl_hint": rl}, kind="cpu"),
    AgentSpec(name="llm-documents", analyst=llm, params={"documents": feed}, kind="cpu"),
    AgentSpec(name="roles", params={"roles": roles}),
]
evaluation = evaluate(
    agents,
    data,
    n_windows=2,
    test=40,
    warmup=160,
    n_random=1,
    seed=0,
    store=url,
    evaluation_id="nb10",
    workers=1,
    progress=False,
)

# %%
# NBVAL_CHECK_OUTPUT
table = evaluation.results.groupby("agent")[["total_return", "n_fills"]].mean()
print(table.round(4).to_string())

# %% [markdown]
# ## What each agent read
#
# The explain store keeps every prompt: the similar contexts, the forecasts, the RL hint and the
# documents appear in the requests of the agents that had them, and each call of the
# orchestrated agent carries its role.

# %%
# NBVAL_CHECK_OUTPUT
with ExplainStore(url) as store:
    for agent in ("llm", "llm-memory", "llm-forecasts", "llm-rl-hint", "llm-documents", "roles"):
        run_id = evaluation.results.query("agent == @agent")["run_id"].iloc[0]
        last = store.steps(run_id)[-1]
        calls = last.analysis.llm_calls
        print(f"{agent:14s} calls={len(calls)} roles={[c.role for c in calls]}")
        steps = last.analysis.reasoning_steps
        why = steps[-1].thought if agent == "roles" else last.analysis.reason
        print(f"{'':14s} {why[:90]}")
