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
# # 05 · HPO → RL → OADER
#
# Seed 001's pipeline, with budgets small enough for a notebook:
#
# 1. **HPO**: an Optuna study (seeded TPE) over an SMA-cross rule strategy, each trial scored
#    by walk-forward backtests on the vectorized engine, in-sample next to out-of-sample;
# 2. **RL**: PPO trained on a small synthetic series for a few thousand environment steps;
# 3. **OADER**: the trained policy as the Analyze stage of the agent loop, behind the same
#    risk chain and store as any analyst.
#
# Everything is seeded: the synthetic data, the TPE sampler and PPO (on one CPU thread). The
# tiny PPO budget is a demonstration of the plumbing, not a trading policy.

# %%
import optuna

from axon_lab.data import make_synthetic
from axon_lab.hpo import RuleObjective, create_study, study_results
from axon_lab.oader import make_agent
from axon_lab.rl import EnvConfig, RLPolicy, evaluate_policy, train_policy

optuna.logging.set_verbosity(optuna.logging.WARNING)
data = make_synthetic(1_500, timeframe="1h", start="2024-01-01", seed=7, symbol="SYN")
print(len(data), "hourly bars of", data.attrs["symbol"])

# %% [markdown]
# ## 1. HPO: an Optuna study over a rule strategy
#
# `RuleObjective` suggests the `fast` window and `slow_extra` (slow = fast + slow_extra) from
# its search space, backtests them on walk-forward folds and returns the metrics (maximised);
# the study keeps in-sample and out-of-sample values side by side and marks its Pareto front.
# `storage=":memory:"` keeps the study in this process (pass `sqlite:///runs/axon.db` to share
# it between workers).

# %%
# NBVAL_CHECK_OUTPUT
objective = RuleObjective(data, fees=0.001)
study = create_study(
    "nb05-sma",
    storage=":memory:",
    directions=objective.directions,
    metric_names=objective.metrics,
    seed=0,
)
study.optimize(objective, n_trials=12)
results = study_results(study)
print(objective.metrics)
print(results.drop(columns="state").round(3).head(6).to_string(index=False))

# %% [markdown]
# ## 2. RL: PPO on the synthetic series
#
# Discrete actions (hold, buy, sell), 16-bar observation windows, 128-step episodes on 4
# parallel windows, 4,096 environment steps. Then the policy is scored by the same vectorized
# engine on the bars it was trained on (an in-sample number: a sanity check, not a result).

# %%
# NBVAL_CHECK_OUTPUT
policy = train_policy(
    data,
    total_timesteps=4_096,
    config=EnvConfig(window=16, episode_length=128),
    n_envs=4,
    seed=0,
    hyperparams={"n_steps": 256, "batch_size": 128, "n_epochs": 2},
)
print(policy.algo, policy.model.num_timesteps, "timesteps")

# %%
evaluate_policy(policy, data).stats()[["total_return", "sharpe", "max_drawdown", "n_trades"]]

# %% [markdown]
# ## 3. OADER: the policy as the Analyze stage
#
# `RLPolicy` turns the trained policy into an analyst: at each step it reads the same
# observation the environment would give (point in time, with the portfolio) and proposes
# hold, buy or sell with the policy's probability as the confidence. Decide, the risk chain,
# the fills and the store are the same as for the rules analyst or an LLM.

# %%
# NBVAL_CHECK_OUTPUT
loop = make_agent(
    data,
    analyst=RLPolicy(policy, data),
    store="sqlite://",
    run_id="nb05",
    start=str(data.index[1_000]),
    progress=False,
)
loop.run(30)
steps = loop.store.steps("nb05")
print(len(steps), "steps")
print("analysis sources:", sorted({s.analysis.source.value for s in steps}))
print("decision sources:", sorted({s.decision.source.value for s in steps}))
print("analyst:", steps[0].analysis.analyst)
print("every step recorded with its verdicts:", all(s.decision is not None for s in steps))

# %%
frame = loop.store.to_frame("nb05")
loop.close()
frame[["action", "equity", "n_rejections", "n_fills"]].tail()
