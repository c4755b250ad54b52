"""Look-ahead check: a stage that peeks one bar ahead is caught; honest stages pass."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pytest

from axon_lab.audit import StageContext, check_lookahead, compare_outputs
from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.oader import DecisionEngine, RulesAnalyst
from axon_lab.records import Analysis, Observation

FRAME = make_synthetic(160, timeframe="1h", start="2024-03-01", seed=11, symbol="SYN")


def _analysis(action: str, confidence: float = 0.9, source: str = "rules") -> Analysis:
    trend = {"buy": "uptrend", "sell": "downtrend", "hold": "range"}[action]
    return Analysis(
        thought="t",
        market_assessment=trend,
        risk_assessment="low",
        confidence=confidence,
        action=action,
        source=source,
        analyst="test",
    )


class PeekingAnalyst:
    """Planted leak: holds the whole frame and reads the bar that is still forming at t."""

    name = "peeking"

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __call__(self, obs: Observation) -> Analysis:
        last = obs.bars["SYN"][-1]
        later = self.frame[self.frame.index > pd.Timestamp(last.timestamp)]
        if later.empty:
            return _analysis("hold", 0.0)
        return _analysis("buy" if later["close"].iloc[0] > last.close else "sell")


def peeking(ctx: StageContext) -> PeekingAnalyst:
    return PeekingAnalyst(ctx.view.as_of(ctx.view.end))  # the side channel: every bar there is


def rl_policy(ctx: StageContext):
    """An RL-style policy: a fixed linear rule over the features as of t."""

    def policy(obs: Observation) -> Analysis:
        f = obs.features["SYN"]
        score = (f["rsi_14"] or 50.0) - 50.0 + 10.0 * (f["ret_1"] or 0.0)
        action = "buy" if score > 5 else "sell" if score < -5 else "hold"
        return _analysis(action, min(1.0, abs(score) / 50.0), source="rl")

    return policy


def test_an_analyst_reading_one_bar_ahead_is_caught_with_time_and_field():
    report = check_lookahead(peeking, FRAME, n_times=6, seed=3)
    assert not report.is_clean
    assert report.leaking_times  # caught at sampled times, named
    fields = {d.field for d in report.differences}
    assert "action" in fields or "confidence" in fields
    # truncation alone removes the peeked bar: every time is caught by it
    truncated = {d.time for d in report.differences if d.variant == "truncated"}
    assert truncated == set(report.times)
    assert "FAILED" in report.summary()
    assert report.to_dict()["passed"] is False


def test_the_rules_analyst_passes():
    report = check_lookahead(lambda ctx: RulesAnalyst(), FRAME, n_times=5, seed=1)
    assert report.is_clean, report.summary()
    assert len(report.times) == 5
    assert report.variants == ("truncated", "perturbed-0", "perturbed-1")


def test_a_rules_analyst_is_given_the_bars_it_reads_so_the_audit_checks_a_reading():
    """Observed with the audit's default lookback (20), it would only ever be warming up."""
    seen: list[Any] = []

    def build(ctx: StageContext) -> Any:
        analyst = RulesAnalyst()

        def analyse(observation: Any) -> Any:
            analysis = analyst(observation)
            seen.append((len(observation.bars["SYN"]), analysis))
            return analysis

        analyse.lookback = analyst.lookback  # type: ignore[attr-defined]
        return analyse

    report = check_lookahead(build, FRAME, n_times=3, n_perturbations=0, seed=1)
    assert report.is_clean
    assert {n for n, _ in seen} == {RulesAnalyst().lookback}
    assert not any("warming up" in a.reason for _, a in seen)


def test_an_rl_policy_over_features_passes():
    assert check_lookahead(rl_policy, FRAME, n_times=5, seed=2).is_clean


def test_the_decision_engine_passes_and_a_peeking_decide_stage_is_caught():
    engine = check_lookahead(
        lambda ctx: DecisionEngine(),
        FRAME,
        kind="decide",
        analysis=_analysis("buy"),
        seed=4,
        n_times=4,
    )
    assert engine.is_clean, engine.summary()

    def build(ctx: StageContext):
        frame = ctx.view.as_of(ctx.view.end)
        engine = DecisionEngine()

        def decide(analysis, obs):
            decision = engine(analysis, obs)
            # sizes with the high of the bar still forming at t
            later = frame[frame.index > pd.Timestamp(obs.bars["SYN"][-1].timestamp)]
            extra = float(later["high"].iloc[0]) if len(later) else 0.0
            return decision.model_copy(update={"reason": f"{extra:.6f}"})

        return decide

    leak = check_lookahead(
        build, FRAME, kind="decide", analysis=_analysis("buy"), seed=4, n_times=4
    )
    assert {d.field for d in leak.differences} == {"reason"}


def test_given_times_are_checked_in_order():
    times = [FRAME.index[100] + pd.Timedelta(hours=1), FRAME.index[60] + pd.Timedelta(hours=1)]
    report = check_lookahead(peeking, FRAME, times=times, n_perturbations=0, seed=0)
    assert report.times[0] < report.times[1]
    assert report.variants == ("truncated",)
    assert len(report.leaking_times) == 2


def test_compare_outputs_lists_each_changed_field():
    a, b = _analysis("buy"), _analysis("sell")
    changed = {path for path, _, _ in compare_outputs(a, b)}
    assert changed == {"action", "market_assessment"}
    assert compare_outputs(a, a) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "decide"}, "needs the analysis"),
        ({"kind": "observe"}, "kind must be"),
        ({"n_times": 0}, "n_times must be"),
        ({"scale": 1.5}, "scale must be"),
        ({"n_perturbations": -1}, "n_perturbations"),
        ({"times": [datetime(2024, 3, 3)]}, "timezone-aware"),
        ({"times": [FRAME.index[-1] + pd.Timedelta(hours=1)]}, "no future bar"),
        ({"warmup": 500}, "warm-up"),
    ],
)
def test_bad_arguments_name_the_fix(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        check_lookahead(peeking, FRAME, seed=0, **kwargs)


def test_data_must_be_bars():
    with pytest.raises(ConfigError, match="canonical OHLCV frame or a MarketView"):
        check_lookahead(peeking, [1, 2, 3], seed=0)  # type: ignore[arg-type]
