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
# Seed 001's pipeline, each step feeding the next, with budgets small enough for a notebook:
#
# 1. **HPO for RL**: an Optuna study over PPO's learning rate and discount, each trial a policy
#    trained on a walk-forward train window and scored out of sample (`RLObjective`);
# 2. **RL**: PPO trained with the best trial's hyperparameters;
# 3. **OADER**: the trained policy as the Analyze stage of the agent, and a second study that
#    tunes how the agent trades it (the confidence threshold and the risk per entry) by running
#    the whole loop, with its risk chain and backtest fills, in every window (`LoopObjective`);
#    then the tuned agent runs on bars no study has seen.
#
# Everything is seeded: the synthetic data, the TPE samplers and PPO. The tiny budgets
# demonstrate the plumbing, not a trading policy: read the numbers as a smoke test.

# %%
import optuna

from axon_lab.data import make_synthetic
from axon_lab.hpo import LoopObjective, RLObjective, WalkForward, create_study, study_results
from axon_lab.hpo import SearchSpaceDef as Space
from axon_lab.oader import make_agent
from axon_lab.rl import EnvConfig, RLPolicy, train_policy

optuna.logging.set_verbosity(optuna.logging.WARNING)
data = make_synthetic(1_600, timeframe="1h", start="2024-01-01", seed=7, symbol="SYN")
tuning, held_out = data.iloc[:1_300], data.iloc[1_300:]
config = EnvConfig(window=16, episode_length=128)
print(len(tuning), "bars to tune on,", len(held_out), "held out")

# %% [markdown]
# ## 1. HPO: PPO's hyperparameters, scored out of sample
#
# Each trial trains PPO on the train window (1,024 steps) and scores the policy with the
# vectorized engine on the next window. The study keeps in-sample next to out-of-sample.

# %%
# NBVAL_CHECK_OUTPUT
rl_objective = RLObjective(
    tuning,
    total_timesteps=1_024,
    config=config,
    walk_forward=WalkForward(train=500, test=250, max_splits=1),
    fixed={"n_steps": 256, "batch_size": 128, "n_epochs": 2},
    n_envs=2,
    n_evaluations=1,
    metrics=("sharpe",),
)
rl_study = create_study("nb05-ppo", storage=":memory:", directions=rl_objective.directions, seed=0)
rl_study.optimize(rl_objective, n_trials=3)
best_rl = rl_study.best_trial.params
print(len(rl_study.trials), "trials over", sorted(best_rl))

# %% [markdown]
# In-sample next to out-of-sample Sharpe per trial (numbers of a tiny budget: they move with
# the machine's floating point, so the notebook checks the pipeline, not these values).

# %%
columns = ["number", "is_sharpe", "oos_sharpe"]
print(study_results(rl_study)[columns].round(2).to_string(index=False))
print("best:", {k: round(v, 5) for k, v in best_rl.items()})

# %% [markdown]
# ## 2. RL: PPO with the best hyperparameters
#
# The same budget of environment steps per batch, four times the steps, on every tuning bar.

# %%
# NBVAL_CHECK_OUTPUT
policy = train_policy(
    tuning,
    total_timesteps=4_096,
    config=config,
    n_envs=4,
    seed=0,
    hyperparams={"n_steps": 256, "batch_size": 128, "n_epochs": 2, **best_rl},
)
print(policy.algo, policy.model.num_timesteps, "timesteps")

# %% [markdown]
# ## 3. OADER: tune how the agent trades the policy, through the loop
#
# `RLPolicy` makes the policy an analyst: at each step it reads the observation the environment
# would give (point in time, with the portfolio) and proposes hold, buy or sell with the
# policy's probability as the confidence. `LoopObjective` builds the agent per trial with
# `make_agent` and runs it over each walk-forward window: the Decide stage sizes the orders,
# the risk chain checks them, the backtest backend fills them, and every window is a recorded
# run. Its score is what the agent would have traded, not what the policy wished.

# %%
# NBVAL_CHECK_OUTPUT
loop_objective = LoopObjective(
    tuning,
    lambda params: {"analyst": RLPolicy(policy, data), **params},
    space={
        # a barely trained policy is barely sure: its probabilities sit just above 1/3
        "min_confidence": Space(param_type="uniform", low=0.25, high=0.4),
        "risk_fraction": Space(param_type="log_uniform", low=0.002, high=0.05),
    },
    walk_forward=WalkForward(train=300, test=150, max_splits=2),
    metrics=("sharpe",),
)
loop_study = create_study(
    "nb05-loop", storage=":memory:", directions=loop_objective.directions, seed=0
)
loop_study.optimize(loop_objective, n_trials=5)
best_loop = loop_study.best_trial.params
print(len(loop_study.trials), "trials over", sorted(best_loop))
best_runs = loop_study.best_trial.user_attrs["runs_fold_0"]
traded = [s for s in loop_objective.explain_store.steps(best_runs[1]) if s.fills]
print("the best trial's first test window is a recorded run:", best_runs[1].startswith("nb05-loop"))

# %%
print(study_results(loop_study)[columns].round(2).to_string(index=False))
print("best:", {k: round(v, 4) for k, v in best_loop.items()})
print(len(traded), "steps with fills in", best_runs[1])
loop_objective.close()

# %% [markdown]
# Read the table before the best parameters: when the best trial is one that never trades
# (Sharpe 0 in and out of sample), the study is saying that this barely trained policy loses
# money once the Decide stage, the risk chain, fees and next-open fills apply, and that staying
# flat beats it. That is the honest answer for a 4,096-step PPO; a longer training budget, more
# data or better features are what could change it.
#
# The tuned agent, on the held-out bars (the policy's observation window reaches back into the
# tuning bars for history; it decides only from the first held-out bar on).

# %%
# NBVAL_CHECK_OUTPUT
loop = make_agent(
    data,
    analyst=RLPolicy(policy, data),
    store="sqlite://",
    run_id="nb05",
    start=str(held_out.index[0]),
    progress=False,
    **best_loop,
)
loop.run()
steps = loop.store.steps("nb05")
print(len(steps), "steps from", steps[0].timestamp)
print("analysis sources:", sorted({s.analysis.source.value for s in steps if s.analysis}))
print("every step recorded with its decision:", all(s.decision is not None for s in steps))

# %%
frame = loop.store.to_frame("nb05")
loop.close()
frame[["action", "equity", "n_rejections", "n_fills"]].tail()
