"""Benjamini-Hochberg against the 1995 paper's example and a slow step-up written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import benjamini_hochberg

# Benjamini & Hochberg (1995), section 4: the 15 p-values of a multiple-endpoint trial. At
# q = 0.05 the step-up procedure rejects the four smallest (Bonferroni only three).
BH_1995 = [
    0.0201, 0.7590, 0.0278, 0.0001, 0.3240, 0.0344, 0.0004, 0.4262,
    0.0095, 0.5719, 0.0459, 0.6528, 0.0298, 1.0, 0.0019,
]  # fmt: skip


def test_the_papers_example_rejects_the_four_smallest():
    res = benjamini_hochberg(BH_1995, alpha=0.05)
    assert res.n_rejected == 4
    rejected = sorted(p for p, r in zip(BH_1995, res.rejected, strict=True) if r)
    assert rejected == [0.0001, 0.0004, 0.0019, 0.0095]
    bonferroni = sum(p <= 0.05 / len(BH_1995) for p in BH_1995)
    assert bonferroni == 3
    assert res.pvalues.tolist() == BH_1995  # order kept


def _slow_step_up(p: list[float], alpha: float) -> list[bool]:
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    k = 0
    for rank, i in enumerate(order, start=1):
        if p[i] <= rank / m * alpha:
            k = rank
    keep = set(order[:k])
    return [i in keep for i in range(m)]


pvalue_lists = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=40)


@given(p=pvalue_lists, alpha=st.floats(0.001, 0.5))
def test_matches_the_step_up_rule(p, alpha):
    res = benjamini_hochberg(p, alpha=alpha)
    assert res.rejected.tolist() == _slow_step_up(p, alpha)
    assert np.all(res.adjusted >= np.asarray(p) - 1e-15)
    assert np.all(res.adjusted <= 1.0)


@given(p=pvalue_lists, a=st.floats(0.001, 0.5), b=st.floats(0.001, 0.5))
def test_rejections_grow_with_alpha(p, a, b):
    low, high = sorted((a, b))
    small = benjamini_hochberg(p, alpha=low).rejected
    large = benjamini_hochberg(p, alpha=high).rejected
    assert np.all(large[small])  # every rejection at the lower alpha stays


@pytest.mark.parametrize(
    ("p", "alpha", "match"),
    [
        ([], 0.05, "at least 1"),
        ([0.1, 1.2], 0.05, "holds 1.2; every p-value must lie in"),
        ([0.1, -0.1], 0.05, "holds -0.1"),
        ([0.1, math.nan], 0.05, "NaN"),
        ([0.1], 0.0, "alpha=0.0"),
        ([0.1], 1.5, "alpha=1.5"),
    ],
)
def test_bad_input_is_rejected(p, alpha, match):
    with pytest.raises(EvaluationError, match=match):
        benjamini_hochberg(p, alpha=alpha)
