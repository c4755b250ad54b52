"""CSCV's probability of backtest overfitting: hand examples, a slow reference, noise and skill."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import probability_of_backtest_overfitting


def _slow_cscv(m: np.ndarray, s: int) -> tuple[float, list[float]]:
    """CSCV from Bailey et al. (2017) section 2.2, one split at a time with plain Python."""
    t, n = m.shape
    sizes = [t // s + (1 if i < t % s else 0) for i in range(s)]  # first blocks one longer
    starts = [sum(sizes[:i]) for i in range(s)]
    rows = [list(range(starts[i], starts[i] + sizes[i])) for i in range(s)]
    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        train = [r for i in combo for r in rows[i]]
        test = [r for i in range(s) if i not in combo for r in rows[i]]

        def perf(rs, col):
            xs = [float(m[r, col]) for r in rs]
            return statistics.fmean(xs) / statistics.stdev(xs)

        is_perf = [perf(train, c) for c in range(n)]
        oos_perf = [perf(test, c) for c in range(n)]
        best = is_perf.index(max(is_perf))
        # average rank, 1 = worst
        ordered = sorted(oos_perf)
        first = ordered.index(oos_perf[best]) + 1
        last = len(ordered) - ordered[::-1].index(oos_perf[best])
        rank = (first + last) / 2
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    return sum(1 for x in logits if x <= 0) / len(logits), logits


def test_two_strategies_that_swap_places_are_always_overfit():
    # Strategy 0 wins the first half and loses the second; strategy 1 the other way round.
    # With S = 2 there are two splits; in each, the in-sample winner is the out-of-sample
    # loser: rank 1 of 2, w = 1/3, logit ln(1/2) < 0, so PBO = 1.
    up = [0.02, 0.01, 0.03, 0.02]
    down = [-0.02, -0.01, -0.03, -0.02]
    m = np.array([up + down, down + up]).T
    res = probability_of_backtest_overfitting(m, n_partitions=2)
    assert res.n_splits == 2
    assert res.pbo == 1.0
    np.testing.assert_allclose(res.logits, [math.log(0.5)] * 2)
    assert res.selected.tolist() == [0, 1]
    assert res.prob_oos_loss == 1.0


def test_a_strategy_that_wins_everywhere_is_not_overfit():
    rng = np.random.default_rng(0)
    m = rng.normal(0.0, 0.01, (64, 4))
    m[:, 2] = np.abs(m[:, 2]) + 0.01  # always the best in and out of sample
    res = probability_of_backtest_overfitting(m, n_partitions=4)
    assert res.pbo == 0.0
    assert (res.selected == 2).all()
    # best of 4 out of sample: rank 4, w = 4/5, logit ln 4
    np.testing.assert_allclose(res.logits, math.log(4.0))


@pytest.mark.parametrize(("t", "n", "s", "seed"), [(40, 5, 4, 0), (43, 6, 6, 1), (30, 3, 2, 2)])
def test_matches_a_slow_reference(t, n, s, seed):
    m = np.random.default_rng(seed).normal(0.0003, 0.01, (t, n))
    res = probability_of_backtest_overfitting(m, n_partitions=s)
    pbo, logits = _slow_cscv(m, s)
    assert res.pbo == pytest.approx(pbo)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-9)
    assert res.n_splits == math.comb(s, s // 2)
    assert (res.n_periods, res.n_strategies, res.n_partitions) == (t, n, s)


def test_ties_out_of_sample_share_their_average_rank():
    # Columns 1 and 2 are identical: whichever is picked ties with its twin out of sample.
    rng = np.random.default_rng(4)
    m = rng.normal(0.0, 0.01, (32, 3))
    m[:, 2] = m[:, 1]
    m[:, 1] += 0.02  # col 1 (and so the picked column) is always best in sample
    m[:, 2] += 0.02
    res = probability_of_backtest_overfitting(m, n_partitions=4)
    _, logits = _slow_cscv(m, 4)
    np.testing.assert_allclose(res.logits, logits)
    np.testing.assert_allclose(res.logits, math.log(2.5 / 1.5))  # rank (2 + 3) / 2 of 3


@settings(max_examples=40)
@given(
    m=arrays(
        np.float64,
        st.tuples(st.integers(8, 40), st.integers(2, 6)),
        elements=st.floats(-0.05, 0.05, allow_nan=False),
    ),
    s=st.sampled_from([2, 4]),
)
def test_pbo_is_a_probability_and_logits_are_bounded(m, s):
    # Keep every column non-constant in every half (a flat half has no Sharpe ratio).
    m = m + np.arange(m.shape[0])[:, None] * 1e-4 * (1 + np.arange(m.shape[1]))
    res = probability_of_backtest_overfitting(m, n_partitions=s)
    assert 0.0 <= res.pbo <= 1.0
    n = m.shape[1]
    bound = math.log(n)  # w lies in [1/(n+1), n/(n+1)]
    assert np.all(np.abs(res.logits) <= bound + 1e-12)
    assert res.logits.size == math.comb(s, s // 2)


def test_column_order_does_not_matter():
    m = np.random.default_rng(5).normal(0.0, 0.01, (200, 12))
    perm = np.random.default_rng(6).permutation(12)
    a = probability_of_backtest_overfitting(m, n_partitions=8)
    b = probability_of_backtest_overfitting(m[:, perm], n_partitions=8)
    assert a.pbo == b.pbo
    np.testing.assert_allclose(np.sort(a.logits), np.sort(b.logits))


def test_pure_noise_sweeps_come_out_near_one_half():
    # One sweep's PBO is noisy (its C(S, S/2) splits share data: sd ~0.2 here), so the test
    # averages 200 independent sweeps (seeds 0-199) of 20 skill-less strategies over 400
    # periods, S = 8. The mean must lie within 0.5 +- 0.05 (about 3.5 standard errors).
    values = [
        probability_of_backtest_overfitting(
            np.random.default_rng(seed).normal(0.0, 0.01, (400, 20)), n_partitions=8
        ).pbo
        for seed in range(200)
    ]
    assert abs(np.mean(values) - 0.5) < 0.05


def test_a_single_noise_sweep_at_the_papers_settings():
    # S = 16 as in the paper, 50 strategies, 2000 periods, seed 0: not near 0 or 1.
    noise = np.random.default_rng(0).normal(0.0, 0.01, (2000, 50))
    res = probability_of_backtest_overfitting(noise, n_partitions=16)
    assert res.n_splits == 12_870
    assert 0.2 < res.pbo < 0.8
    assert res.degradation_slope < 0.5  # in-sample rank tells little out of sample


def test_a_planted_skill_is_found():
    sweep = np.random.default_rng(1).normal(0.0, 0.01, (2000, 50))
    sweep[:, 7] += 0.002  # daily Sharpe 0.2 among noise
    res = probability_of_backtest_overfitting(sweep, n_partitions=16)
    assert res.pbo < 0.05
    assert np.mean(res.selected == 7) > 0.95
    assert res.prob_oos_loss < 0.05


@pytest.mark.parametrize(
    ("m", "s", "match"),
    [
        (np.zeros((40, 3)) + np.arange(40)[:, None], 3, "must be even"),
        (np.ones((40, 3)), 0, "n_partitions=0"),
        (np.ones((10, 3)), 6, "at least 12 rows"),
        (np.ones((40, 1)), 4, "at least 8 rows .* and 2 column"),
        (np.full((40, 3), np.nan), 4, "NaN"),
        (np.ones(40), 4, "two-dimensional"),
        (np.ones((4000, 3)), 26, "splits; use at most 20"),
    ],
)
def test_bad_input_is_rejected(m, s, match):
    with pytest.raises(EvaluationError, match=match):
        probability_of_backtest_overfitting(m, n_partitions=s)


def test_result_arrays_are_read_only():
    m = np.random.default_rng(0).normal(0.0, 0.01, (40, 3))
    res = probability_of_backtest_overfitting(m, n_partitions=4)
    with pytest.raises(ValueError, match="read-only"):
        res.logits[0] = 1.0
