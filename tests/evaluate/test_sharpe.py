"""PSR and DSR against the papers' numerical example, a slow reference and the noise/skill tests."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.special import ndtr

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import (
    EULER_MASCHERONI,
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    sharpe_test,
)

# The numerical example of Bailey & López de Prado (2014), "The Deflated Sharpe Ratio",
# section 5 (years of 250 days): N = 100 trials whose annualised Sharpe ratios vary with
# variance 1/2; the best shows an annualised SR of 2.5 over T = 1250 daily returns with
# skewness -3 and kurtosis 10. The paper reports SR0 = 0.1132 (daily) and DSR = 0.9004.
PAPER_DAYS = 250
PAPER_N = 100
PAPER_VAR = 0.5
PAPER_SR = 2.5
PAPER_T = 1250
PAPER_SKEW = -3.0
PAPER_KURT = 10.0


def test_expected_max_sharpe_matches_the_dsr_papers_example():
    sr0 = expected_max_sharpe(PAPER_N, PAPER_VAR / PAPER_DAYS)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    # units carry through: the annualised variance gives the annualised threshold
    annual = expected_max_sharpe(PAPER_N, PAPER_VAR)
    assert annual == pytest.approx(sr0 * math.sqrt(PAPER_DAYS), rel=1e-12)


def test_deflated_sharpe_matches_the_dsr_papers_example():
    sr0 = expected_max_sharpe(PAPER_N, PAPER_VAR / PAPER_DAYS)
    dsr = probabilistic_sharpe_ratio(
        PAPER_SR / math.sqrt(PAPER_DAYS),
        sr0,
        n_obs=PAPER_T,
        skew=PAPER_SKEW,
        kurtosis=PAPER_KURT,
    )
    assert dsr == pytest.approx(0.9004, abs=5e-4)


def test_expected_max_sharpe_is_close_to_the_simulated_maximum():
    # Independent oracle: the mean maximum of N standard normals by simulation. The paper's
    # formula is an approximation (extreme-value theory), good to a few percent for N >= 10.
    rng = np.random.default_rng(0)
    for n in (10, 100, 1000):
        simulated = rng.standard_normal((5000, n)).max(axis=1).mean()
        assert expected_max_sharpe(n, 1.0) == pytest.approx(simulated, rel=0.04)
    assert expected_max_sharpe(1, 0.7) == 0.0  # one trial: nothing was selected
    assert expected_max_sharpe(50, 0.0) == 0.0
    assert pytest.approx(0.5772156649, abs=1e-10) == EULER_MASCHERONI


def _slow_psr(returns: np.ndarray, benchmark_per_period: float) -> float:
    """PSR written from the 2012 paper with other tools: statistics, scipy.stats, ndtr."""
    sr = statistics.fmean(returns) / statistics.stdev(returns)
    g3 = float(sps.skew(returns, bias=True))
    g4 = float(sps.kurtosis(returns, fisher=False, bias=True))
    t = len(returns)
    sd = math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    z = (sr - benchmark_per_period) * math.sqrt(t - 1) / sd
    return float(ndtr(z))


@pytest.mark.parametrize("seed", range(5))
def test_sharpe_test_matches_a_slow_reference(seed):
    rng = np.random.default_rng(seed)
    r = rng.standard_t(5, 300) * 0.01 + 0.0005 + 0.002 * rng.exponential(size=300)
    res = sharpe_test(r, periods_per_year=252, benchmark_sharpe=0.5)
    assert res.psr == pytest.approx(_slow_psr(r, 0.5 / math.sqrt(252)), rel=1e-9)
    assert res.sharpe == pytest.approx(np.mean(r) / np.std(r, ddof=1) * math.sqrt(252))
    assert res.skew == pytest.approx(sps.skew(r))
    assert res.kurtosis == pytest.approx(sps.kurtosis(r, fisher=False))
    # one trial: the DSR is the PSR against 0
    assert res.dsr == pytest.approx(_slow_psr(r, 0.0), rel=1e-9)
    assert res.expected_max_sharpe == 0.0


def test_sharpe_test_annualisation_is_explicit():
    r = np.random.default_rng(3).normal(0.001, 0.01, 500)
    daily = sharpe_test(r, periods_per_year=252)
    hourly = sharpe_test(r, periods_per_year=252 * 24)
    assert daily.sharpe_per_period == hourly.sharpe_per_period
    assert hourly.sharpe == pytest.approx(daily.sharpe * math.sqrt(24))
    assert hourly.psr == pytest.approx(daily.psr)  # PSR vs 0 does not depend on the unit


@given(
    sr=st.floats(-0.5, 0.5),
    step=st.floats(1e-3, 0.5),
    bench=st.floats(-0.3, 0.3),
    n=st.integers(2, 5000),
    skew=st.floats(-2.0, 2.0),
    extra=st.floats(0.01, 20.0),
)
def test_psr_rises_with_the_sharpe_ratio_and_falls_with_the_benchmark(
    sr, step, bench, n, skew, extra
):
    # In SR, for normal returns (the estimate's own variance grows with SR, so with fat tails
    # and a negative benchmark PSR can fall as SR rises: z ~ (SR - b) / sqrt(1 + a * SR**2)).
    low = probabilistic_sharpe_ratio(sr, bench, n_obs=n, skew=0.0, kurtosis=3.0)
    high = probabilistic_sharpe_ratio(sr + step, bench, n_obs=n, skew=0.0, kurtosis=3.0)
    assert 0.0 <= low <= high <= 1.0
    # In the benchmark, for any moments
    kurt = skew**2 + 1 + extra  # Pearson's bound: kurtosis > skew**2 + 1
    harder = probabilistic_sharpe_ratio(sr, bench + step, n_obs=n, skew=skew, kurtosis=kurt)
    easier = probabilistic_sharpe_ratio(sr, bench, n_obs=n, skew=skew, kurtosis=kurt)
    assert harder <= easier


@given(n_trials=st.integers(2, 10_000), var=st.floats(1e-4, 4.0))
def test_more_trials_raise_the_bar(n_trials, var):
    assert 0.0 < expected_max_sharpe(n_trials, var) <= expected_max_sharpe(n_trials + 1, var)


NOISE_SEEDS = range(200)


def test_deflated_sharpe_calls_no_pure_noise_sweep_skilful():
    # 200 sweeps of 50 skill-less strategies, 1000 daily returns each (seeds 0-199). The plain
    # PSR of the best one is "significant" in most sweeps; the DSR, which knows 50 were tried,
    # must not call the best of any sweep skilful (DSR > 0.95).
    dsr, psr = [], []
    for seed in NOISE_SEEDS:
        noise = np.random.default_rng(seed).normal(0.0, 0.01, (1000, 50))
        res = deflated_sharpe(noise, periods_per_year=252)
        assert res.n_trials == 50
        dsr.append(res.dsr)
        psr.append(res.psr)
    assert max(dsr) < 0.95
    assert np.mean(np.array(psr) > 0.95) > 0.5  # without deflation, noise looks like skill


def test_deflated_sharpe_finds_a_planted_skill():
    rng = np.random.default_rng(7)
    sweep = rng.normal(0.0, 0.01, (1000, 50))
    sweep[:, 12] += 0.002  # daily Sharpe 0.2: about 3.2 a year
    res = deflated_sharpe(sweep, periods_per_year=252)
    assert res.trial_index == 12
    assert res.dsr > 0.95
    assert res.expected_max_sharpe > 0.0
    assert res.dsr <= res.psr


def test_deflated_sharpe_takes_the_number_of_trials_actually_run():
    sweep = np.random.default_rng(2).normal(0.0005, 0.01, (750, 10))
    given_only = deflated_sharpe(sweep, periods_per_year=252)
    searched = deflated_sharpe(sweep, periods_per_year=252, n_trials=500)
    assert searched.n_trials == 500
    assert searched.expected_max_sharpe > given_only.expected_max_sharpe
    assert searched.dsr < given_only.dsr
    assert searched.sharpe == given_only.sharpe


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"returns": [0.01]}, "at least 2"),
        ({"returns": []}, "at least 2"),
        ({"returns": [0.01, math.nan, 0.02]}, "NaN"),
        ({"returns": [0.01, 0.01, 0.01]}, "constant"),
        ({"returns": [[0.01, 0.02]]}, "one-dimensional"),
        ({"n_trials": 0}, "n_trials=0"),
        ({"n_trials": 5}, "needs trial_sharpe_variance"),
        ({"n_trials": 5, "trial_sharpe_variance": -1.0}, "trial_sharpe_variance=-1.0"),
        ({"periods_per_year": 0}, "periods_per_year=0"),
        ({"benchmark_sharpe": math.inf}, "benchmark_sharpe"),
    ],
)
def test_sharpe_test_rejects_bad_input(kwargs, match):
    args = {"returns": [0.01, -0.02, 0.03], "periods_per_year": 252, **kwargs}
    with pytest.raises(EvaluationError, match=match):
        sharpe_test(**args)


def test_deflated_sharpe_rejects_bad_input():
    ok = np.random.default_rng(0).normal(0, 0.01, (20, 3))
    with pytest.raises(EvaluationError, match="fewer than the 3 trials"):
        deflated_sharpe(ok, periods_per_year=252, n_trials=2)
    with pytest.raises(EvaluationError, match="shape"):
        deflated_sharpe(ok[:, :1], periods_per_year=252)
    flat = ok.copy()
    flat[:, 1] = 0.0
    with pytest.raises(EvaluationError, match="column 1 is constant"):
        deflated_sharpe(flat, periods_per_year=252)
    with pytest.raises(EvaluationError, match="kurtosis must exceed"):
        probabilistic_sharpe_ratio(0.5, 0.0, n_obs=10, skew=2.0, kurtosis=1.0)
    with pytest.raises(EvaluationError, match="n_obs=1"):
        probabilistic_sharpe_ratio(0.5, 0.0, n_obs=1, skew=0.0, kurtosis=3.0)
