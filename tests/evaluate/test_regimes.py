"""Regimes under the stated rule, point in time, and returns split by them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import REGIMES, classify_regimes, split_by_regime


def test_worked_example():
    close = [100, 104, 110, 108, 95, 96, 97]
    # lookback 2, threshold 5 %: trailing returns from bar 2 on
    #   110/100 = +10 % bull, 108/104 = +3.8 % sideways, 95/110 = -13.6 % bear,
    #   96/108 = -11.1 % bear, 97/95 = +2.1 % sideways
    labels = classify_regimes(close, lookback=2, threshold=0.05).tolist()
    assert labels == [
        "undetermined", "undetermined", "bull", "sideways", "bear", "bear", "sideways",
    ]  # fmt: skip


def test_exactly_at_the_threshold_is_sideways():
    # exact binary fractions: +25 % then -25 %
    assert classify_regimes([100, 125, 93.75], lookback=1, threshold=0.25).tolist() == [
        "undetermined",
        "sideways",
        "sideways",
    ]


@given(
    close=st.lists(st.floats(1.0, 1000.0), min_size=5, max_size=40),
    cut=st.integers(0, 39),
    bump=st.floats(0.5, 2.0),
    lookback=st.integers(1, 4),
)
def test_a_label_does_not_depend_on_later_prices(close, cut, bump, lookback):
    cut = min(cut, len(close) - 1)
    changed = close[: cut + 1] + [c * bump for c in close[cut + 1 :]]
    a = classify_regimes(close, lookback=lookback, threshold=0.05)
    b = classify_regimes(changed, lookback=lookback, threshold=0.05)
    assert a[: cut + 1].tolist() == b[: cut + 1].tolist()


def test_split_by_regime_by_hand():
    r = [0.01, 0.02, -0.03, 0.005, -0.01, 0.0, 0.04]
    labels = ["undetermined", "bull", "bear", "bull", "bear", "sideways", "bull"]
    out = {s.regime: s for s in split_by_regime(r, labels, periods_per_year=252)}
    assert tuple(out) == REGIMES
    bull = out["bull"]
    assert bull.n_bars == 3
    assert bull.total_return == pytest.approx(1.02 * 1.005 * 1.04 - 1)
    assert bull.mean_return == pytest.approx(0.065 / 3)
    sd = math.sqrt(sum((x - 0.065 / 3) ** 2 for x in (0.02, 0.005, 0.04)) / 2)
    assert bull.sharpe == pytest.approx(0.065 / 3 / sd * math.sqrt(252))
    assert out["bear"].total_return == pytest.approx(0.97 * 0.99 - 1)
    side = out["sideways"]
    assert (side.n_bars, side.sharpe, side.total_return) == (1, None, 0.0)


def test_a_regime_without_bars_has_no_numbers():
    out = split_by_regime([0.01, 0.02], ["bull", "bull"], periods_per_year=252)
    bear = out[1]
    assert (bear.regime, bear.n_bars, bear.mean_return, bear.sharpe) == ("bear", 0, None, None)


def test_bad_input_is_rejected():
    with pytest.raises(EvaluationError, match=r"non-positive price \(-1.0\)"):
        classify_regimes([100, -1, 3], lookback=1, threshold=0.1)
    with pytest.raises(EvaluationError, match="lookback=0"):
        classify_regimes([100, 101], lookback=0, threshold=0.1)
    with pytest.raises(EvaluationError, match="threshold=0"):
        classify_regimes([100, 101], lookback=1, threshold=0)
    with pytest.raises(EvaluationError, match="regimes has 1 labels but returns has 2"):
        split_by_regime([0.1, 0.2], ["bull"], periods_per_year=252)
    with pytest.raises(EvaluationError, match="unknown label 'moon'"):
        split_by_regime([0.1, 0.2], ["bull", "moon"], periods_per_year=252)
    with pytest.raises(EvaluationError, match="periods_per_year=-1"):
        split_by_regime([0.1], ["bull"], periods_per_year=-1)
    with pytest.raises(EvaluationError, match="NaN"):
        classify_regimes(np.array([100.0, np.nan]), lookback=1, threshold=0.1)
