from __future__ import annotations

import json
import threading
import time

import numpy as np
import pandas as pd
import pytest

from axon_lab.data import make_synthetic
from axon_lab.errors import BudgetExceededError, ConfigError
from axon_lab.llm import (
    CachedClient,
    MemoryCacheStore,
    ScriptedClient,
    SystemPrompt,
    complete_analysis,
)
from axon_lab.records import (
    Action,
    Analysis,
    AnalysisSource,
    Bar,
    DecisionSource,
    Observation,
    PortfolioSnapshot,
)
from axon_lab.rl import (
    BatchedTradingEnv,
    CurriculumCallback,
    EnvConfig,
    FusionRule,
    LLMRewardShaper,
    MarketQualityAssessor,
    QualityRewardWrapper,
    RegimeCurriculum,
    RLAugmentedAnalyzer,
    RLFallback,
    RLPolicy,
    TradingEnv,
    fuse,
    make_market,
    train_policy,
    trend_regimes,
)

CFG = EnvConfig(window=4, episode_length=32)
PPO_TINY = {"n_steps": 16, "batch_size": 32, "n_epochs": 1}


@pytest.fixture(scope="module")
def market(frame: pd.DataFrame):
    return make_market(frame)


@pytest.fixture(scope="module")
def policy(market):
    return train_policy(
        market, total_timesteps=64, config=CFG, n_envs=2, seed=0, hyperparams=PPO_TINY
    )


def _observation(frame: pd.DataFrame, i: int, cash: float = 10_000.0) -> Observation:
    step = frame.index[1] - frame.index[0]
    t = (frame.index[i] + step).to_pydatetime()
    bars = tuple(
        Bar(timestamp=ts.to_pydatetime(), **row)
        for ts, row in frame.iloc[i - 4 : i + 1].to_dict("index").items()
    )
    return Observation(
        timestamp=t,
        symbols=("SYN",),
        timeframe="1h",
        bars={"SYN": bars},
        features={"SYN": {"atr_14": float(frame["close"].iloc[i]) * 0.01}},
        portfolio=PortfolioSnapshot.build(timestamp=t, cash=cash),
    )


def _llm_answer(action: str, confidence: float) -> str:
    return json.dumps(
        {
            "thought": "t",
            "market_assessment": "uptrend" if action == "buy" else "range",
            "risk_assessment": "low",
            "confidence": confidence,
            "action": action,
            "reason": "scripted",
        }
    )


def _llm_stage(client):
    return lambda obs: complete_analysis(client, SystemPrompt().messages(f"at {obs.timestamp}"))


# ------------------------------------------------------------------ RLPolicy
def test_rl_policy_reads_the_env_observation_point_in_time(frame, market, policy) -> None:
    rl = RLPolicy(policy, market)
    i = 700
    env = TradingEnv(market, CFG)
    env_obs, _ = env.reset(options={"start": i})
    np.testing.assert_array_equal(rl.observation_vector(_observation(frame, i)), env_obs)
    probs = rl.probabilities(_observation(frame, i))
    assert list(probs) == [Action.HOLD, Action.BUY, Action.SELL]
    assert sum(probs.values()) == pytest.approx(1.0)
    analysis = rl(_observation(frame, i))
    assert analysis.source is AnalysisSource.RL
    assert analysis.confidence == pytest.approx(max(probs.values()))
    with pytest.raises(ConfigError, match=r"has no full observation yet"):
        rl(_observation(frame, 10))


def test_rl_policy_needs_discrete_actions(market) -> None:
    cont = train_policy(
        market,
        total_timesteps=32,
        config=EnvConfig(window=4, episode_length=32, action_type="continuous"),
        n_envs=2,
        hyperparams=PPO_TINY,
    )
    with pytest.raises(ConfigError, match=r"action_type='discrete'"):
        RLPolicy(cont, market)


# ------------------------------------------------------------------ mode 1
def test_fusion_rule_is_applied_and_recorded() -> None:
    a = Analysis(
        thought="",
        market_assessment="range",
        risk_assessment="low",
        confidence=0.5,
        action="hold",
        source="llm",
        analyst="m",
    )
    strong_buy = {Action.HOLD: 0.05, Action.BUY: 0.9, Action.SELL: 0.05}
    uncapped = fuse(a, strong_buy, FusionRule(rl_weight=0.6))
    assert uncapped.confidence == pytest.approx(0.4 * 0.25 + 0.6 * 0.9)
    fused = fuse(a, strong_buy, FusionRule(rl_weight=0.6, max_confidence=0.6))
    assert fused.action is Action.BUY
    assert fused.source is AnalysisSource.RL
    assert fused.confidence == pytest.approx(0.6)
    note = json.loads(fused.reasoning_steps[-1].thought.split(": ", 1)[1])
    assert note["settings"]["rl_weight"] == 0.6
    assert note["applied"] is True
    gated = fuse(a, strong_buy, FusionRule(only_when_uncertain=True, uncertain_below=0.3))
    assert gated.action is Action.HOLD
    assert json.loads(gated.reasoning_steps[-1].thought.split(": ", 1)[1])["applied"] is False
    with pytest.raises(ConfigError, match=r"rl_weight=1\.5 must be in \[0, 1\]"):
        FusionRule(rl_weight=1.5)


def test_rl_augmented_analyzer(frame, market, policy) -> None:
    client = ScriptedClient(lambda req: _llm_answer("buy", 0.9))
    stage = RLAugmentedAnalyzer(_llm_stage(client), RLPolicy(policy, market), FusionRule())
    out = stage(_observation(frame, 700))
    assert out.reasoning_steps[-1].thought.startswith("RL-augmented decision")
    assert len(client.requests) == 1


# ------------------------------------------------------------------ mode 3
def test_fallback_on_timeout_error_low_confidence_and_abstain(frame, market, policy) -> None:
    release = threading.Event()
    script = iter(["hang", "boom", "low", "junk", "ok"])

    def llm(obs):
        what = next(script)
        if what == "hang":
            release.wait(10)  # a client that ignores every timeout
        if what == "boom":
            raise ConnectionError("server unreachable")
        answers = {
            "hang": [_llm_answer("buy", 0.9)],
            "low": [_llm_answer("hold", 0.3)],
            "junk": ["not json at all", "still not json"],  # the answer and the repair
            "ok": [_llm_answer("buy", 0.9)],
        }[what]
        return _llm_stage(ScriptedClient(answers))(obs)

    agent = RLFallback(llm, RLPolicy(policy, market), timeout_s=0.2, min_confidence=0.5)
    obs = _observation(frame, 700)
    try:
        t0 = time.perf_counter()
        d = agent(obs)
        assert time.perf_counter() - t0 < 2.0
        assert d.source is DecisionSource.FALLBACK
        assert "RL fallback (timeout)" in d.reason
        err = agent.analyze(obs)
        assert "ConnectionError: server unreachable" in err.reason
        assert agent.decide(err, obs).source is DecisionSource.FALLBACK
        low = agent.analyze(obs)
        assert low.analyst.startswith("fallback:low_confidence:")
        assert agent.decide(low, obs).source is DecisionSource.FALLBACK
        assert agent(obs).source is DecisionSource.FALLBACK  # abstention (after a repair)
        ok = agent(obs)
        assert ok.source is DecisionSource.LLM
    finally:
        release.set()
    assert agent.stats() == {
        "llm": 1,
        "fallback": 4,
        "timeout": 1,
        "error": 1,
        "abstain": 1,
        "low_confidence": 1,
    }


def test_fallback_lets_budget_errors_through(frame, market, policy) -> None:
    def broke(obs):
        raise BudgetExceededError("budget spent")

    agent = RLFallback(broke, RLPolicy(policy, market), timeout_s=1.0, min_confidence=0.5)
    with pytest.raises(BudgetExceededError, match="budget spent"):
        agent.analyze(_observation(frame, 700))
    with pytest.raises(ConfigError, match=r"timeout_s=0 must be > 0"):
        RLFallback(broke, RLPolicy(policy, market), timeout_s=0, min_confidence=0.5)


# ------------------------------------------------------------------ mode 2
def _quality(req) -> str:
    closes = [float(x.split("close=")[1]) for x in req.messages[-1]["content"].split("\n")[1:-1]]
    q = "good" if closes[-1] > closes[0] else "poor"
    return json.dumps({"quality": q, "reason": "scripted"})


def test_reward_shaping_replays_the_llm_cache_when_retraining(market) -> None:
    store = MemoryCacheStore()
    factors = {"poor": 0.25, "neutral": 1.0, "good": 2.0}

    def train(client) -> None:
        assessor = MarketQualityAssessor(client, segment=100, lookback=24)
        shaper = LLMRewardShaper(assessor, factors)
        train_policy(
            market,
            total_timesteps=64,
            config=CFG,
            n_envs=2,
            seed=0,
            hyperparams=PPO_TINY,
            env_wrapper=shaper.wrap,
        )

    first = ScriptedClient(_quality)
    train(CachedClient(first, mode="record", store=store))
    assert len(first.requests) == len(range(24, market.n_bars, 100))
    second = ScriptedClient(_quality)
    train(CachedClient(second, mode="replay", store=store))
    assert second.requests == []  # re-training made zero live LLM calls


def test_shaped_rewards_are_base_rewards_times_the_factor(market) -> None:
    client = CachedClient(ScriptedClient(_quality), mode="record", store=MemoryCacheStore())
    shaper = LLMRewardShaper(
        MarketQualityAssessor(client, segment=50, lookback=24),
        {"poor": 0.5, "neutral": 1.0, "good": 3.0},
    )
    base = BatchedTradingEnv(market, n_envs=3, config=CFG, seed=1)
    plain = BatchedTradingEnv(market, n_envs=3, config=CFG, seed=1)
    shaped = shaper.wrap(base)
    shaped.reset()
    plain.reset()
    factors = shaped.factors
    for _ in range(5):
        bars = plain.sim.t.copy()
        _, r_shaped, _, _ = shaped.step(np.array([1, 2, 1]))
        _, r_plain, _, _ = plain.step(np.array([1, 2, 1]))
        np.testing.assert_allclose(r_shaped, r_plain * factors[bars], rtol=1e-6)
    env = QualityRewardWrapper(TradingEnv(market, CFG), factors)
    env.reset(options={"start": 500})
    ref = TradingEnv(market, CFG)
    ref.reset(options={"start": 500})
    assert env.step(1)[1] == pytest.approx(ref.step(1)[1] * factors[500])
    with pytest.raises(ConfigError, match=r"factors needs a finite factor >= 0"):
        LLMRewardShaper(shaper.assessor, {"poor": 1.0})


def test_curriculum_picks_windows_by_regime() -> None:
    frame, regimes = make_synthetic(
        3000, timeframe="1h", seed=8, mean_duration=300, return_regimes=True
    )
    m = make_market(frame)
    labels = regimes.astype(str).to_numpy()
    cur = RegimeCurriculum(
        labels, [("bull",), ("bull", "sideways")], episode_length=32, promote_at=0.0
    )
    starts = cur(np.random.default_rng(0), 200, 300, 2900)
    dominant = [pd.Series(labels[s : s + 32]).mode()[0] for s in starts]
    assert set(dominant) == {"bull"}
    assert cur.update(-0.1) is False
    assert cur.update(0.1) is True
    assert cur.stage == 1
    with pytest.raises(ConfigError, match=r"Stage label\(s\) \['crash'\] never occur"):
        RegimeCurriculum(labels, [("crash",)], episode_length=32, promote_at=0.0)
    fresh = RegimeCurriculum(labels, [("bull",), ("sideways",)], episode_length=32, promote_at=-1.0)
    train_policy(
        m,
        total_timesteps=128,
        config=CFG,
        n_envs=2,
        seed=0,
        hyperparams=PPO_TINY,
        callbacks=[CurriculumCallback(fresh)],
    )
    assert fresh.history  # rollouts reported their episode returns
    assert fresh.stage == 1  # promote_at=-1 promotes at the first report


def test_trend_regimes_are_causal() -> None:
    close = np.cumprod(1 + np.random.default_rng(0).normal(0, 0.01, 300))
    a = trend_regimes(close, 20, 0.02)
    changed = close.copy()
    changed[200:] *= 2
    b = trend_regimes(changed, 20, 0.02)
    assert (a[:200] == b[:200]).all()


def test_rl_policy_runs_as_the_analyze_stage_of_an_oader_loop(frame, market, policy) -> None:
    from axon_lab.oader import make_agent

    seen = []
    loop = make_agent(
        frame,
        analyst=RLPolicy(policy, market),
        store="sqlite://",
        progress=False,
        start=str(frame.index[700]),
        callbacks=[seen.append],
    )
    try:
        loop.run(20)
    finally:
        loop.close()
    assert len(seen) == 20
    assert {s.analysis.source for s in seen} == {AnalysisSource.RL}
    assert {s.decision.source for s in seen} == {DecisionSource.RL}


def test_rl_fallback_plugs_into_make_agent_and_its_count_reaches_the_report(
    frame, market, policy
) -> None:
    from axon_lab.explain import build_report
    from axon_lab.oader import make_agent

    calls = {"n": 0}

    def flaky_llm(obs: Observation):
        # every other call the "LLM" is down; the RL policy must decide those steps
        calls["n"] += 1
        if calls["n"] % 2:
            raise ConnectionError("endpoint unreachable")
        raise TimeoutError("read timed out")

    fallback = RLFallback(flaky_llm, RLPolicy(policy, market), timeout_s=1.0, min_confidence=0.5)
    seen = []
    loop = make_agent(
        frame,
        analyst=fallback.analyze,
        decide=fallback.decide,
        store="sqlite://",
        progress=False,
        start=str(frame.index[700]),
        callbacks=[seen.append],
    )
    try:
        loop.run(12)
        report = build_report(loop.store, loop.run_id, figures=False)
        config = loop.store.get_run(loop.run_id).config
    finally:
        loop.close()
    acting = [s for s in seen if s.decision.source is not DecisionSource.ABSTAIN]
    assert acting
    assert {s.decision.source for s in acting} == {DecisionSource.FALLBACK}
    assert fallback.stats()["fallback"] == 12
    assert report.summary["fallbacks"] == len(acting)
    assert config["decide"] == "RLFallback.decide"
