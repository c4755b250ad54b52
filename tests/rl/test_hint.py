"""The RL policy in the LLM's prompt: its action, confidence and value estimate, recorded."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore, build_report, observation, step_prompts
from axon_lab.llm import ScriptedClient
from axon_lab.oader import RLHintStage, Role, make_agent
from axon_lab.records import Action
from axon_lab.rl import EnvConfig, RLAugmentedAnalyzer, RLPolicy, make_market, train_policy
from axon_lab.widgets import StepDetail

CFG = EnvConfig(window=4, episode_length=32)
N_BARS = 420
START = 330  # after the policy's feature normalisation warm-up (256 bars)


@pytest.fixture(scope="module")
def small(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.iloc[:N_BARS].copy()
    out.attrs = {**frame.attrs, "symbol": "SYN"}
    return out


@pytest.fixture(scope="module")
def ppo(small: pd.DataFrame):
    hp = {"n_steps": 16, "batch_size": 32, "n_epochs": 1}
    return train_policy(small, total_timesteps=64, config=CFG, n_envs=2, seed=0, hyperparams=hp)


@pytest.fixture(scope="module")
def dqn(small: pd.DataFrame):
    hp = {"learning_starts": 16, "buffer_size": 500}
    return train_policy(
        small, algo="dqn", total_timesteps=64, config=CFG, n_envs=2, seed=0, hyperparams=hp
    )


def _answer(action: str = "hold") -> str:
    return json.dumps(
        {
            "thought": "read the hint",
            "market_assessment": "range",
            "risk_assessment": "low",
            "confidence": 0.7,
            "action": action,
            "reason": "scripted",
        }
    )


def _run(data, start: int = START, **kw):
    store = ExplainStore("sqlite://")
    kw.setdefault("start", data.index[start])
    loop = make_agent(data, store=store, run_id="h", progress=False, **kw)
    loop.run(40)
    return loop, store


def test_ppo_hint_matches_sb3s_own_evaluation(small, ppo) -> None:
    rl = RLPolicy(ppo, small)
    loop, store = _run(small, analyst=ScriptedClient(lambda req: _answer()), rl_hint=rl)
    try:
        steps = store.steps("h")
        hinted = [observation(store, "h", s.step) for s in steps]
        hinted = [o for o in hinted if o.rl_hint is not None]
        assert len(hinted) == len(steps) == 40
        obs = hinted[-1]
        hint = obs.rl_hint
        # the oracle: SB3's evaluate_actions (values and log-probabilities of each action)
        vec = rl.observation_vector(obs)[None, :].astype(np.float32)
        policy = ppo.model.policy
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(vec)
            logps, value = [], None
            for a in range(3):
                v, logp, _ = policy.evaluate_actions(tensor, torch.tensor([a]))
                logps.append(float(logp[0]))
                value = float(v[0, 0])
        probs = dict(zip([Action.HOLD, Action.BUY, Action.SELL], np.exp(logps), strict=True))
        assert hint.probabilities == pytest.approx(probs, abs=1e-6)
        assert hint.action is max(probs, key=lambda a: probs[a])
        assert hint.confidence == pytest.approx(max(probs.values()), abs=1e-6)
        assert hint.value == pytest.approx(value, abs=1e-6)
        assert hint.q_values == {}
        # the bar the policy read is the last complete one: point-in-time
        assert hint.bar_time + pd.Timedelta("1h") == obs.timestamp
        # the stored prompt shows it
        last = next(s for s in reversed(steps) if s.analysis.llm_calls)
        user = json.loads(step_prompts(store, last)[0].request)["messages"][1]["content"]
        stored = observation(store, "h", last.step).rl_hint
        assert f"== RL policy '{rl.name}'" in user
        assert f"action={stored.action.value}, confidence={stored.confidence:.3f}" in user
        assert f"value estimate={stored.value:.8g}" in user
        # and the run config says so
        assert store.get_run("h").config["rl_hint"]["policy"] == rl.name
    finally:
        loop.close()


def test_dqn_hint_gives_q_values_and_no_confidence(small, dqn) -> None:
    rl = RLPolicy(dqn, small)
    loop, store = _run(small, rl_hint=dqn)  # a TrainedPolicy is wrapped on the view
    try:
        obs = observation(store, "h", store.steps("h")[-1].step)
        hint = obs.rl_hint
        assert hint is not None
        assert hint.confidence is None
        assert hint.probabilities == {}
        vec = rl.observation_vector(obs)[None, :].astype(np.float32)
        with torch.no_grad():
            q = dqn.model.q_net(torch.as_tensor(vec)).numpy()[0]  # the oracle: the Q network
        assert [hint.q_values[a] for a in (Action.HOLD, Action.BUY, Action.SELL)] == (
            pytest.approx(q.tolist(), abs=1e-6)
        )
        assert hint.value == pytest.approx(float(q.max()), abs=1e-6)
        greedy = int(dqn.model.predict(vec, deterministic=True)[0][0])
        assert hint.action is [Action.HOLD, Action.BUY, Action.SELL][greedy]
    finally:
        loop.close()


def test_hint_is_shown_escaped_in_the_widget_and_the_report(small, ppo) -> None:
    rl = RLPolicy(ppo, small, name="<b>policy</b>")
    loop, store = _run(
        small, analyst=ScriptedClient(lambda req: _answer("buy")), rl_hint=rl, cash=50_000.0
    )
    try:
        steps = store.steps("h")
        view = StepDetail(store)
        view.add(steps)
        page = view.html.value
        assert "Observation inputs" in page
        assert "RL policy hint" in page
        assert "&lt;b&gt;policy&lt;/b&gt;" in page
        assert "<b>policy</b>" not in page
        html = build_report(store, "h", figures=False).to_html()
        assert "Inputs behind the orders" in html
        assert "&lt;b&gt;policy" in html
    finally:
        loop.close()


def test_warmup_and_bad_arguments(small, ppo) -> None:
    rl = RLPolicy(ppo, small)
    loop, store = _run(small, start=250, rl_hint=rl)
    try:
        first = observation(store, "h", 0)
        assert not rl.ready(first.timestamp)
        assert first.rl_hint is None
        with pytest.raises(ConfigError, match=r"no full observation yet"):
            RLHintStage(lambda now: first, rl, on_warmup="error")(first.timestamp)
    finally:
        loop.close()
    with pytest.raises(ConfigError, match=r"rl_hint must be a trained policy"):
        make_agent(small, store="sqlite://", rl_hint="ppo.zip", progress=False)
    with pytest.raises(ConfigError, match=r"on_warmup must be"):
        RLHintStage(lambda now: None, rl, on_warmup="later")  # type: ignore[arg-type]


def test_fusion_after_the_answer_stays_a_separate_mode(small, ppo) -> None:
    rl = RLPolicy(ppo, make_market(small))
    loop, store = _run(small, analyst=ScriptedClient(lambda req: _answer()), rl_hint=rl)
    try:
        last = store.steps("h")[-1]
        obs = observation(store, "h", last.step)
        fused = RLAugmentedAnalyzer(lambda o: last.analysis, rl)(obs)
        # the fusion still records its own rule; the hint did not replace it
        assert "RL-augmented decision" in fused.reasoning_steps[-1].thought
        assert obs.rl_hint is not None
    finally:
        loop.close()


def test_an_rl_policy_and_the_rules_analyst_work_as_roles_beside_llms(small, ppo) -> None:
    rl = RLPolicy(ppo, small, name="ppo-tiny")
    decider = ScriptedClient(lambda req: _answer("hold"), model="scripted-decider")
    roles = [
        Role(name="market", model=ScriptedClient(lambda req: _answer("buy"))),
        Role(name="policy", model=rl),
        Role(name="rules", model="rules"),
        Role(name="decider", kind="decider", model=decider),
        Role(name="rl-check", kind="reviewer", model=rl),
    ]
    loop, store = _run(small, roles=roles, rl_hint=rl)
    try:
        last = store.steps("h")[-1]
        obs = observation(store, "h", last.step)
        seen = str(decider.requests[-1].messages[-1]["content"])
        policy_answer = rl(obs)
        assert f"analyst policy: {policy_answer.action.value} (confidence " in seen
        assert "analyst rules: " in seen
        assert "== RL policy 'ppo-tiny'" in seen  # the hint and the role, side by side
        thoughts = [s.thought for s in last.analysis.reasoning_steps]
        assert any(t.startswith("[reviewer rl-check round 1, ppo-tiny]") for t in thoughts)
        # the RL reviewer approves a hold only when it would hold too: otherwise a veto holds
        assert last.analysis.action is Action.HOLD
    finally:
        loop.close()


def test_bars_after_t_never_change_the_hint_at_t(small, ppo) -> None:
    rl = RLPolicy(ppo, small)
    step = pd.Timedelta("1h")
    times = [small.index[i] + step for i in (START, START + 17, len(small) - 30)]
    for t in times:
        later = small.index + step > t  # bars not complete at t
        moved = small.copy()
        moved.loc[later, ["open", "high", "low", "close"]] *= 1.7
        moved.loc[later, "volume"] *= 3.0
        obs = observation_at(small, t)
        assert RLPolicy(ppo, moved).hint(obs) == rl.hint(obs)
    # and the check has teeth: moving the last complete bar does change it
    t = times[0]
    moved = small.copy()
    moved.loc[small.index[START], ["open", "high", "low", "close"]] *= 1.7
    obs = observation_at(small, t)
    assert RLPolicy(ppo, moved).hint(obs) != rl.hint(obs)


def observation_at(frame: pd.DataFrame, t: pd.Timestamp):
    from axon_lab.records import Observation, PortfolioSnapshot

    return Observation(
        timestamp=t.to_pydatetime(),
        symbols=("SYN",),
        timeframe="1h",
        bars={"SYN": ()},
        portfolio=PortfolioSnapshot.build(timestamp=t.to_pydatetime(), cash=10_000.0),
    )


def test_a2c_values_come_from_its_critic_and_q_values_need_dqn(small) -> None:
    a2c = train_policy(
        small, algo="a2c", total_timesteps=32, config=CFG, n_envs=2, seed=0,
        hyperparams={"n_steps": 8},
    )  # fmt: skip
    obs = np.random.default_rng(1).normal(size=(4, a2c.model.observation_space.shape[0]))
    obs = obs.astype(np.float32)
    with torch.no_grad():
        tensor, _ = a2c.model.policy.obs_to_tensor(obs)
        values, _, _ = a2c.model.policy.evaluate_actions(tensor, torch.zeros(4))
    np.testing.assert_allclose(a2c.value_estimates(obs), values.numpy().reshape(-1), atol=1e-6)
    with pytest.raises(ConfigError, match=r"q_values needs a DQN policy; this one is 'a2c'"):
        a2c.q_values(obs)
