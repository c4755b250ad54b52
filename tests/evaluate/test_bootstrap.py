"""Stationary bootstrap intervals and block lengths against theory, coverage and hand examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import (
    bootstrap_distribution,
    bootstrap_interval,
    optimal_block_length,
    paired_comparison,
)
from axon_lab.evaluate._bootstrap import MIN_BLOCK_ESTIMATE_OBS


def _ar1(phi: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - phi**2)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


@pytest.mark.parametrize("seed", range(3))
def test_block_length_is_near_the_theoretical_optimum_for_an_ar1(seed):
    # Politis & White (2004) with the correction of Patton et al. (2009): the stationary
    # bootstrap's optimal mean block is (2 G**2 / D)**(1/3) n**(1/3) with G = sum |k| gamma(k)
    # and D = 2 g(0)**2. For an AR(1) with coefficient phi, G / g(0) = 2 phi / (1 - phi**2),
    # so b = (2 phi / (1 - phi**2))**(2/3) * n**(1/3). The estimate must land within 25 %.
    phi, n = 0.5, 8000
    theory = (2 * phi / (1 - phi**2)) ** (2 / 3) * n ** (1 / 3)
    assert optimal_block_length(_ar1(phi, n, seed)) == pytest.approx(theory, rel=0.25)


def test_block_length_is_short_for_white_noise_and_one_for_few_values():
    assert optimal_block_length(np.random.default_rng(0).normal(size=2000)) < 3
    few = _ar1(0.9, MIN_BLOCK_ESTIMATE_OBS - 1, 0)
    assert optimal_block_length(few) == 1.0  # too few values to estimate dependence
    assert optimal_block_length(np.ones(100)) == 1.0


def test_dependence_widens_the_interval_an_iid_bootstrap_would_give():
    # The reason for the stationary bootstrap: on autocorrelated returns, resampling single
    # values understates the variance of the mean. The true sd of an AR(1) mean is about
    # sigma / sqrt(n) * sqrt((1 + phi) / (1 - phi)) = 3 times the i.i.d. one at phi = 0.8.
    x = _ar1(0.8, 2000, 1)
    iid = bootstrap_interval(x, block_length=1, n_resamples=400, seed=0)
    auto = bootstrap_interval(x, n_resamples=400, seed=0)
    assert auto.block_length > 5
    assert (auto.high - auto.low) > 2.0 * (iid.high - iid.low)


def test_coverage_of_the_mean_is_near_the_level():
    # 150 samples (seeds 0-149) of 100 i.i.d. normals with mean 1: the 90 % interval must cover
    # the true mean in 80-97 % of them (binomial sd of the rate is 2.4 %).
    covered = 0
    for seed in range(150):
        x = np.random.default_rng(seed).normal(1.0, 1.0, 100)
        covered += bootstrap_interval(x, level=0.9, n_resamples=300, seed=seed).contains(1.0)
    assert 0.80 <= covered / 150 <= 0.97


def test_a_constant_difference_gives_a_degenerate_interval():
    x = np.full(50, 0.25)
    ci = bootstrap_interval(x, n_resamples=50, seed=0)
    assert (ci.low, ci.estimate, ci.high) == (0.25, 0.25, 0.25)


def test_seed_fixes_the_resamples():
    x = np.random.default_rng(0).normal(size=120)
    a = bootstrap_interval(x, np.median, n_resamples=200, seed=3)
    b = bootstrap_interval(x, np.median, n_resamples=200, seed=3)
    c = bootstrap_interval(x, np.median, n_resamples=200, seed=4)
    assert a == b
    assert a != c
    dist, used = bootstrap_distribution(x, np.mean, n_resamples=30, block_length=4, seed=1)
    assert dist.shape == (30,)
    assert used == 4
    # every resample holds values of the data only
    dist_max, _ = bootstrap_distribution(x, np.max, n_resamples=30, block_length=4, seed=1)
    assert np.all(np.isin(dist_max, x))


@settings(max_examples=50)
@given(
    x=arrays(np.float64, st.integers(10, 60), elements=st.floats(-1.0, 1.0, allow_nan=False)),
    level=st.floats(0.5, 0.99),
)
def test_the_interval_of_the_mean_holds_the_estimate(x, level):
    ci = bootstrap_interval(x, level=level, n_resamples=200, seed=0)
    assert ci.low <= ci.high
    assert (
        ci.contains(ci.estimate)
        or math.isclose(ci.estimate, ci.low)
        or math.isclose(ci.estimate, ci.high)
    )
    assert ci.level == level


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"level": 0.0}, "level=0.0 must lie strictly between 0 and 1"),
        ({"level": 1.0}, "level=1.0"),
        ({"level": 95}, "level=95"),
        ({"values": [1.0]}, "at least 2"),
        ({"values": []}, "at least 2"),
        ({"values": [1.0, math.nan, 2.0]}, "NaN"),
        ({"block_length": 0.5}, "block_length=0.5 must be >= 1"),
        ({"block_length": -2.0}, "block_length=-2.0"),
        ({"n_resamples": 0}, "n_resamples=0"),
        ({"statistic": lambda v: math.inf}, "gives inf"),
    ],
)
def test_bad_input_is_rejected(kwargs, match):
    args = {"values": [1.0, 2.0, 3.0, 4.0], "seed": 0, **kwargs}
    with pytest.raises(EvaluationError, match=match):
        bootstrap_interval(**args)


def test_paired_comparison_worked_example():
    agent = [0.03, 0.01, 0.02, 0.05, 0.00, -0.01]
    baseline = [0.01, 0.02, 0.00, 0.01, 0.00, -0.02]
    # differences 0.02, -0.01, 0.02, 0.04, 0, 0.01: 4 wins, 1 tie, 1 loss; mean 0.08 / 6
    res = paired_comparison(agent, baseline, n_resamples=300, seed=0)
    assert res.n == 6
    assert res.win_rate == pytest.approx(4 / 6)
    assert res.n_ties == 1
    assert res.mean_diff == pytest.approx(0.08 / 6)
    assert res.interval.estimate == pytest.approx(res.mean_diff)
    assert res.interval.low <= res.mean_diff <= res.interval.high
    assert res.interval.low >= -0.01
    assert res.interval.high <= 0.04


def test_paired_comparison_of_an_agent_always_ahead_by_a_constant():
    base = np.random.default_rng(0).normal(0.0, 0.02, 24)
    res = paired_comparison(base + 0.005, base, n_resamples=100, seed=1)
    assert res.win_rate == 1.0
    assert res.interval.low == pytest.approx(0.005)
    assert res.interval.high == pytest.approx(0.005)


def test_paired_comparison_rejects_mismatched_windows():
    with pytest.raises(EvaluationError, match="agent has 3 windows but baseline has 2"):
        paired_comparison([0.1, 0.2, 0.3], [0.1, 0.2], seed=0)
    with pytest.raises(EvaluationError, match="baseline holds 1 NaN"):
        paired_comparison([0.1, 0.2], [0.1, math.nan], seed=0)


def test_resamples_without_a_finite_statistic_are_left_out_and_counted():
    # A Sharpe ratio is undefined on a constant resample; with 3 values, single-value
    # resampling makes one of them constant now and then (3 of 27 equally likely draws).
    def sharpe(v: np.ndarray) -> float:
        sd = float(np.std(v, ddof=1))
        return float(np.mean(v)) / sd if sd > 0 else math.nan

    ci = bootstrap_interval([0.01, 0.02, -0.01], sharpe, n_resamples=300, block_length=1, seed=0)
    assert 200 < ci.n_resamples < 300
    assert ci.low <= ci.high
