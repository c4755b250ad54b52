"""Counterfactual sensitivity: a decision that hangs on noise flips; a trend reading does not."""

from __future__ import annotations

import pandas as pd
import pytest

from axon_lab.audit import check_sensitivity
from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.oader import RulesAnalyst
from axon_lab.records import Analysis, Observation

FRAME = make_synthetic(300, timeframe="1h", start="2024-03-01", seed=11, symbol="SYN")


def _analysis(action: str) -> Analysis:
    return Analysis(
        thought="t",
        market_assessment="range",
        risk_assessment="low",
        confidence=0.9,
        action=action,
        source="rules",
        analyst="test",
    )


def hair_trigger(ctx):
    """Planted: decides on the third decimal of the last close, which is pure noise."""

    def analyze(obs: Observation) -> Analysis:
        close = obs.bars["SYN"][-1].close
        return _analysis("buy" if int(close * 1000) % 2 == 0 else "sell")

    return analyze


def test_a_decision_on_noise_flips_often():
    report = check_sensitivity(hair_trigger, FRAME, n_times=8, fraction=0.05, seed=1)
    assert report.flip_rate > 0.3
    assert len(report.flipping_times) >= 6
    assert "flipped" in report.summary()
    assert report.to_dict()["flip_rate"] == report.flip_rate


def test_the_rules_analyst_holds_its_reading_under_small_moves():
    report = check_sensitivity(lambda ctx: RulesAnalyst(), FRAME, n_times=8, fraction=0.05, seed=1)
    assert report.flip_rate <= 0.1
    assert report.stage.startswith("rules:")


def test_moves_stay_within_the_fraction_of_each_bar_and_keep_bars_valid():
    import numpy as np

    from axon_lab.audit._sensitivity import _jitter  # the transform itself

    cut = FRAME.index[100]
    moved = _jitter(FRAME, cut=cut, window=20, fraction=0.1, rng=np.random.default_rng(0))
    span = FRAME["high"] - FRAME["low"]
    delta = (moved["close"] - FRAME["close"]).abs()
    changed = delta > 0
    assert changed.sum() == 20
    assert set(FRAME.index[changed]) == set(FRAME.index[81:101])
    assert (delta <= 0.1 * span + 1e-12).all()
    assert (moved["high"] >= moved[["open", "close"]].max(axis=1)).all()
    assert (moved["low"] <= moved[["open", "close"]].min(axis=1)).all()
    pd.testing.assert_series_equal(moved["volume"], FRAME["volume"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fraction": 0.0}, "fraction must be"),
        ({"n_perturbations": 0}, "n_perturbations must be"),
        ({"window": 0}, "window must be"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        check_sensitivity(hair_trigger, FRAME, seed=0, **kwargs)
