"""Calibration: ECE by hand, a slow reference, and 'not evaluable' without stated confidences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import calibration


def test_worked_example():
    # Five bins of width 0.2. Confidences 0.1 (right), 0.5 & 0.55 (one right), 0.9 three times
    # (two right), 1.0 (right):
    #   bin (0, .2]: conf .1, acc 1         -> 1/7 * .9
    #   bin (.4, .6]: conf .525, acc .5     -> 2/7 * .025
    #   bin (.8, 1]: conf (2.7 + 1)/4 = .925, acc 3/4 -> 4/7 * .175
    conf = [0.1, 0.5, 0.55, 0.9, 0.9, 0.9, 1.0]
    right = [1, 1, 0, 1, 1, 0, 1]
    res = calibration(conf, right, n_bins=5)
    expected = (0.9 + 2 * 0.025 + 4 * 0.175) / 7
    assert res.ece == pytest.approx(expected)
    assert [b.count for b in res.bins] == [1, 0, 2, 0, 4]
    assert res.bins[1].mean_confidence is None
    assert res.bins[1].accuracy is None
    assert res.bins[4].mean_confidence == pytest.approx(0.925)
    assert res.bins[4].accuracy == 0.75
    assert (res.bins[2].low, res.bins[2].high) == (0.4, 0.6)
    assert res.is_evaluable
    assert res.reason is None
    assert res.n == 7
    assert res.n_missing == 0


def test_not_evaluable_without_stated_confidence():
    res = calibration([None, None, math.nan], [True, False, True])
    assert res.ece is None
    assert not res.is_evaluable
    assert res.bins == ()
    assert res.n == 0
    assert res.n_missing == 3
    assert res.reason is not None
    assert "not evaluable" in res.reason
    empty = calibration([], [])
    assert empty.ece is None
    assert empty.n_missing == 0


def test_missing_confidences_are_left_out_and_counted():
    res = calibration([0.8, None, 0.8, math.nan], [True, True, False, False], n_bins=10)
    assert res.n == 2
    assert res.n_missing == 2
    assert res.ece == pytest.approx(0.3)  # conf .8, acc .5


def test_edges_zero_and_one():
    res = calibration([0.0, 1.0, 0.5], [False, True, True], n_bins=2)
    assert [b.count for b in res.bins] == [2, 1]  # 0 and 0.5 in (0, .5] (0 included), 1 last
    assert res.ece == pytest.approx(2 / 3 * abs(0.5 - 0.25) + 1 / 3 * 0.0)


def test_a_calibrated_forecaster_scores_near_zero():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0, 1, 20_000)
    right = rng.uniform(0, 1, 20_000) < conf
    assert calibration(conf, right).ece < 0.02
    overconfident = np.clip(conf + 0.2, 0, 1)
    assert calibration(overconfident, right).ece > 0.1


def _slow_ece(conf: list[float], right: list[bool], n_bins: int) -> float:
    groups: dict[int, list[tuple[float, bool]]] = {}
    for c, r in zip(conf, right, strict=True):
        b = 0
        while c > (b + 1) / n_bins and b < n_bins - 1:  # upper edges inclusive
            b += 1
        groups.setdefault(b, []).append((c, r))
    total = 0.0
    for items in groups.values():
        acc = sum(r for _, r in items) / len(items)
        mean_c = sum(c for c, _ in items) / len(items)
        total += len(items) / len(conf) * abs(acc - mean_c)
    return total


@given(
    data=st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=60),
    n_bins=st.integers(1, 15),
)
def test_matches_a_slow_reference(data, n_bins):
    conf = [c for c, _ in data]
    right = [r for _, r in data]
    res = calibration(conf, right, n_bins=n_bins)
    assert res.ece == pytest.approx(_slow_ece(conf, right, n_bins), abs=1e-12)
    assert 0.0 <= res.ece <= 1.0
    assert sum(b.count for b in res.bins) == len(data)


@pytest.mark.parametrize(
    ("conf", "right", "kwargs", "match"),
    [
        ([0.5, 1.2], [1, 0], {}, r"confidences\[1\] = 1.2 lies outside"),
        ([0.5, "high"], [1, 0], {}, r"confidences\[1\] = 'high' is not a number"),
        ([0.5, 0.6], [1], {}, "outcomes has 1 values but confidences has 2"),
        ([0.5], [2], {}, r"outcomes\[0\] = 2 is not right/wrong"),
        ([0.5], [1], {"n_bins": 0}, "n_bins=0"),
    ],
)
def test_bad_input_is_rejected(conf, right, kwargs, match):
    with pytest.raises(EvaluationError, match=match):
        calibration(conf, right, **kwargs)
