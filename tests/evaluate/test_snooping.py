"""Hansen's SPA and Romano-Wolf's StepM on noise and on a planted edge."""

from __future__ import annotations

import numpy as np
import pytest

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import romano_wolf, spa_test


def _candidates(seed: int, edge_col: int | None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    bench = rng.normal(0.0002, 0.01, 750)
    cands = bench[:, None] * 0.5 + rng.normal(0.0001, 0.01, (750, 15))
    if edge_col is not None:
        cands[:, edge_col] += 0.003
    return bench, cands


def test_spa_finds_a_planted_edge():
    bench, cands = _candidates(0, edge_col=9)
    res = spa_test(bench, cands, n_resamples=400, seed=1)
    assert res.best == 9
    assert res.pvalue < 0.01
    assert (res.n_candidates, res.n_obs, res.n_resamples) == (15, 750, 400)


def test_spa_does_not_reject_among_noise():
    # 10 sweeps (seeds 0-9) without any edge: the consistent p-value is rarely small.
    pvalues = [spa_test(*_candidates(s, None), n_resamples=300, seed=s).pvalue for s in range(10)]
    assert sum(p < 0.05 for p in pvalues) <= 2


@pytest.mark.parametrize("seed", range(3))
def test_spa_pvalues_are_ordered(seed):
    # Hansen (2005): lower <= consistent <= upper (the recentring is looser to stricter).
    res = spa_test(*_candidates(seed, None), n_resamples=300, seed=seed)
    assert res.pvalue_lower <= res.pvalue <= res.pvalue_upper


def test_romano_wolf_names_the_planted_edge_only():
    bench, cands = _candidates(2, edge_col=4)
    cands[:, 11] += 0.002
    res = romano_wolf(bench, cands, n_resamples=400, seed=0)
    assert res.superior == (4, 11)
    noise = romano_wolf(*_candidates(3, None), n_resamples=400, seed=0)
    assert noise.superior == ()


def test_seeded_and_explicit_block_length():
    bench, cands = _candidates(5, edge_col=None)
    a = spa_test(bench, cands, n_resamples=200, block_length=5, seed=7)
    b = spa_test(bench, cands, n_resamples=200, block_length=5, seed=7)
    assert a == b
    assert a.block_length == 5


def test_bad_input_is_rejected():
    bench, cands = _candidates(0, None)
    with pytest.raises(EvaluationError, match="candidates has 749 periods but benchmark has 750"):
        spa_test(bench, cands[1:], seed=0)
    with pytest.raises(EvaluationError, match=r"alpha=1\.0"):
        romano_wolf(bench, cands, alpha=1.0, seed=0)
    cands[3, 2] = np.nan
    with pytest.raises(EvaluationError, match=r"NaN .* position \[3, 2\]"):
        spa_test(bench, cands, seed=0)
