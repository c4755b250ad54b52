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
# # 08 · Bring your own LLM
#
# The LLM analyst talks to any **OpenAI-compatible** chat-completions endpoint: OpenAI, vLLM,
# Ollama, llama.cpp's server, LM Studio, OpenRouter. `OpenAICompatClient` reads its settings
# from arguments or from the environment:
#
# | environment variable | what | example |
# |---|---|---|
# | `AXON_LLM_MODEL` | the model id (required) | `gpt-4o-mini`, `llama3.1:8b` |
# | `AXON_LLM_BASE_URL` | the API root (default: OpenAI's) | `http://127.0.0.1:11434/v1` |
# | `AXON_LLM_API_KEY` | the key (then `OPENAI_API_KEY`; local servers need none) | `sk-...` |
#
# ```python
# from axon_lab.llm import OpenAICompatClient
# client = OpenAICompatClient()  # model, base_url and key from AXON_LLM_*
# loop = make_agent(data, analyst=client)
# ```
#
# (`axon-lab demo --llm openai` does the same from the command line.)
#
# This notebook needs no key and no network: it starts a **real local model**, SmolLM2-135M
# served by llama-cpp-python on 127.0.0.1 (the `local-llm` extra), and runs two loop steps
# with it through the same client. A 135M-parameter model is no trader and its answers are not
# deterministic, so the checks below look only at the structure: every step ends in an
# analysis, either the model's or a recorded abstention (an invalid answer after one repair).

# %%
import os
from contextlib import ExitStack

from axon_lab.data import make_synthetic
from axon_lab.llm import ENV_BASE_URL, ENV_MODEL
from axon_lab.llm.local import local_llm_server
from axon_lab.oader import make_agent

print(ENV_MODEL, "=", os.environ.get(ENV_MODEL, "(not set)"))
print(ENV_BASE_URL, "=", os.environ.get(ENV_BASE_URL, "(not set)"))

# %% [markdown]
# ## Start the local OpenAI-compatible server
#
# `local_llm_server()` is a context manager: it starts the server on a free port, waits until
# `/v1/models` answers and stops it on exit. `server.client()` is an `OpenAICompatClient` for
# it — exactly what `OpenAICompatClient(model=..., base_url=server.base_url)` would build.

# %%
# NBVAL_CHECK_OUTPUT
stack = ExitStack()
server = stack.enter_context(local_llm_server(n_threads=2))
client = server.client()
print("model:", client.model)
print("local endpoint:", server.base_url.startswith("http://127.0.0.1:"))

# %% [markdown]
# ## Two loop steps with the model
#
# The model is the Analyze stage. To keep the notebook quick on a CPU it gets no tool turns
# (`max_iterations=0`: the last 5 bars and the portfolio are in the prompt) and answers in at
# most 150 tokens; a capable model gets the default 3 tool turns. The loop abstains, visibly,
# when a stage fails; answers are validated and repaired once, else the step records an
# abstention with the raw output.

# %%
data = make_synthetic(300, timeframe="1h", start="2024-01-01", seed=3, symbol="SYN")
loop = make_agent(
    data,
    analyst=client,
    store="sqlite://",
    run_id="nb08",
    start=str(data.index[100]),
    lookback=5,
    max_iterations=0,
    llm_params={"temperature": 0.0, "max_tokens": 150},
    on_error="abstain",
    progress=False,
)
loop.run(2)
steps = loop.store.steps("nb08")

# %%
# NBVAL_CHECK_OUTPUT
print(len(steps), "steps recorded")
print("every step ended in an analysis:", all(s.analysis is not None for s in steps))
print(
    "each one the model's or an abstention:",
    all(s.analysis.source.value in ("llm", "abstain") for s in steps),
)
print("every step has a decision:", all(s.decision is not None for s in steps))

# %% [markdown]
# What the model said (not checked: it varies with the model and the hardware):

# %%
for s in steps:
    a = s.analysis
    print(f"step {s.step}: {a.source.value} {a.action.value} conf {a.confidence:.2f}")
    print("   ", (a.thought or a.reason)[:160])
    print("    LLM calls:", len(a.llm_calls), "tokens out:", sum(c.tokens_out for c in a.llm_calls))

# %%
loop.close()
stack.close()  # stops the server
