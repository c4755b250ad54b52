"""The optional Observe parts as other stages see them: rules analyst, sizing, prompt, config."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.data import MarketView
from axon_lab.errors import ConfigError
from axon_lab.forecast import Forecasts
from axon_lab.memory import Memory
from axon_lab.oader import (
    ContextBuilder,
    DecisionEngine,
    RulesAnalyst,
    make_agent,
    render_observation,
)
from axon_lab.records import Action, Observation

from .conftest import synthetic, trend_frame


def _observe(frame: Any, at: int) -> tuple[Observation, Any]:
    view = MarketView(frame)
    now: datetime = view.decision_times()[at].to_pydatetime()
    clock = SimulatedClock(now)
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=clock)
    return ContextBuilder(view, backend, lookback=RulesAnalyst().lookback)(now), backend


def _with(obs: Observation, **fc: float) -> Observation:
    feats = {**obs.features["SYN"], "fc_horizon": 1.0, **fc}
    return obs.replace(features={"SYN": feats})


def test_the_rules_analyst_states_the_forecast_and_lets_a_contrary_band_veto() -> None:
    obs, _ = _observe(trend_frame(step=0.004), 100)
    analyst = RulesAnalyst()
    assert analyst(obs).action is Action.BUY
    agreeing = analyst(_with(obs, fc_vol=0.01, fc_p_up=0.6, fc_p_up_lo=0.55, fc_p_up_hi=0.65))
    assert agreeing.action is Action.BUY
    assert "P(up) 0.600 [0.550, 0.650]" in agreeing.reasoning_steps[-1].thought
    contrary = analyst(_with(obs, fc_vol=0.01, fc_p_up=0.3, fc_p_up_lo=0.25, fc_p_up_hi=0.35))
    assert contrary.action is Action.HOLD
    assert "vetoed" in contrary.reason
    assert "[0.250, 0.350] is below 0.5" in contrary.reason
    # a band that straddles 0.5 says nothing clear: no veto
    unsure = analyst(_with(obs, fc_p_up=0.45, fc_p_up_lo=0.4, fc_p_up_hi=0.51))
    assert unsure.action is Action.BUY


def test_vol_target_sizing_uses_the_forecast_volatility() -> None:
    obs, _ = _observe(trend_frame(step=0.004), 100)
    analysis = RulesAnalyst()(obs)
    engine = DecisionEngine(vol_target=0.002, long_only=True)
    d = engine(analysis, _with(obs, fc_vol=0.01))
    equity = obs.portfolio.equity
    # the position's forecast move (quantity * price * vol) is vol_target of equity
    assert d.quantity * d.price * 0.01 == pytest.approx(0.002 * equity, rel=1e-6)
    assert "sized to a forecast volatility" in d.reason
    twice = engine(analysis, _with(obs, fc_vol=0.02))
    assert twice.quantity == pytest.approx(d.quantity / 2, rel=1e-6)
    waiting = engine(analysis, obs)  # no forecast yet: hold and say so
    assert waiting.action is Action.HOLD
    assert "needs the forecast volatility 'fc_vol'" in waiting.reason


def test_the_prompt_has_a_forecast_line_with_bands() -> None:
    obs, _ = _observe(trend_frame(step=0.004), 100)
    text = render_observation(
        _with(
            obs,
            fc_vol=0.0123,
            fc_vol_lo=0.011,
            fc_vol_hi=0.014,
            fc_p_up=0.61,
            fc_p_up_lo=0.5,
            fc_p_up_hi=0.7,
        )
    )
    assert "Forecasts for the next 1 bars" in text
    assert "return std 1.230% [1.100%, 1.400%], P(up) 0.610 [0.500, 0.700]" in text
    assert "fc_vol=" not in text  # not repeated among the indicators


def test_make_agent_records_the_parts_and_refuses_vol_target_without_forecasts() -> None:
    with pytest.raises(ConfigError, match="pass forecasts=Forecasts"):
        make_agent(synthetic(60), store="sqlite://", progress=False, vol_target=0.01)
    loop = make_agent(
        synthetic(300),
        store="sqlite://",
        run_id="parts",
        progress=False,
        forecasts=Forecasts(horizon=2, refit_every=50, min_train=100, train_window=200),
        memory=Memory("parts", horizon=3),
        vol_target=0.005,
    )
    loop.run()
    config = loop.store.get_run("parts").config
    assert config["forecasts"]["refit_every"] == 50
    assert config["memory"]["name"] == "parts"
    assert config["vol_target"] == 0.005
    not_rebuildable = " ".join(config["agent"]["not_rebuildable"])
    assert "the forecasts" not in not_rebuildable  # settings only: rebuilt from its spec
    assert "the memory" in not_rebuildable  # its state at the start is the file's
    assert "forecasts=" in repr(loop.observe)
    loop.close()


def test_the_report_names_the_parts() -> None:
    from axon_lab.explain import build_report

    loop = make_agent(
        synthetic(120),
        store="sqlite://",
        run_id="rep",
        progress=False,
        memory=Memory("rep", horizon=3),
        forecasts=Forecasts(horizon=2, refit_every=30, min_train=60, train_window=90),
    )
    loop.run()
    page = build_report(loop.store, "rep").to_html()
    memory_line = page.split("<b>memory</b>: ")[1].split("</li>")[0]
    assert "embedder=features:returns16" in memory_line
    assert "name=rep" in memory_line
    forecasts_line = page.split("<b>forecasts</b>: ")[1].split("</li>")[0]
    assert "refit_every=30" in forecasts_line
    assert "vol=garch(1,1)" in forecasts_line
    loop.close()


def test_an_llm_sees_both_parts_in_its_stored_prompt() -> None:
    from axon_lab.explain import step_prompts
    from axon_lab.llm import ScriptedClient

    answer = (
        '{"thought": "t", "market_assessment": "range", "risk_assessment": "low", '
        '"confidence": 0.2, "action": "hold", "reason": "r"}'
    )
    loop = make_agent(
        synthetic(140),
        analyst=ScriptedClient(lambda request: answer, model="scripted"),
        max_iterations=0,
        store="sqlite://",
        run_id="llm",
        progress=False,
        memory=Memory("llm", k=2, horizon=3),
        forecasts=Forecasts(horizon=2, refit_every=30, min_train=60, train_window=90),
    )
    loop.run()
    last = loop.store.steps("llm")[-1]
    (prompt,) = step_prompts(loop.store, last)
    assert "== Similar past contexts" in prompt.request
    assert "Forecasts for the next 2 bars" in prompt.request
    assert "P(up) 0." in prompt.request
    loop.close()


def test_a_run_with_forecasts_rebuilds_into_the_same_record() -> None:
    import json

    from axon_lab.explain import ExplainStore
    from axon_lab.oader import rebuild_agent

    first, second = ExplainStore("sqlite://"), ExplainStore("sqlite://")
    loop = make_agent(
        "synthetic-1h",
        store=first,
        run_id="fc",
        progress=False,
        forecasts=Forecasts(horizon=4, refit_every=60, min_train=120, train_window=240),
        vol_target=0.004,
    )
    loop.run(300)
    again = rebuild_agent(first, "fc", into=second)
    again.run(300)
    rows = [json.loads(s.to_json()) for s in first.steps("fc")]
    assert rows == [json.loads(s.to_json()) for s in second.steps("fc")]
    assert any(r["fills"] for r in rows)
    assert second.get_run("fc").config["forecasts"]["refit_every"] == 60
    first.close()
    second.close()
