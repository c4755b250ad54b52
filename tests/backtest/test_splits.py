"""Walk-forward and purged k-fold splits never leak test data into training."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.backtest import purged_kfold_splits, walk_forward_splits
from axon_lab.errors import ConfigError


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(10, 300),
    train=st.integers(1, 50),
    test=st.integers(1, 30),
    step=st.one_of(st.none(), st.integers(1, 40)),
    embargo=st.integers(0, 10),
    expanding=st.booleans(),
)
def test_walk_forward_never_leaks(n, train, test, step, embargo, expanding):
    if train + embargo + test > n:
        with pytest.raises(ConfigError, match="No walk-forward split fits"):
            walk_forward_splits(n, train, test, step, embargo, expanding=expanding)
        return
    splits = walk_forward_splits(n, train, test, step, embargo, expanding=expanding)
    for tr, te in splits:
        assert len(te) == test
        assert te.max() < n
        assert not np.intersect1d(tr, te).size
        assert tr.max() + embargo < te.min()  # train ends, embargo gap, then test
    starts = [te[0] for _, te in splits]
    assert starts == sorted(starts)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(10, 300),
    k=st.integers(2, 8),
    embargo=st.integers(0, 10),
    purge=st.integers(0, 10),
    horizon=st.one_of(st.none(), st.integers(0, 12)),
)
def test_purged_kfold_purges_and_embargoes(n, k, embargo, purge, horizon):
    idx = np.arange(n)
    label_end = None if horizon is None else np.minimum(idx + horizon, n - 1)
    splits = purged_kfold_splits(n, k, embargo=embargo, purge=purge, label_end=label_end)
    assert len(splits) == k
    assert np.array_equal(np.concatenate([te for _, te in splits]), idx)
    for tr, te in splits:
        assert not np.intersect1d(tr, te).size
        lo, hi = te.min(), te.max()
        assert not ((tr > hi) & (tr <= hi + embargo)).any()
        if label_end is None:
            assert not ((tr >= lo - purge) & (tr < lo)).any()
        else:
            test_end = label_end[te].max()
            overlap = (tr <= test_end) & (label_end[tr] >= lo)
            assert not overlap.any()


def test_bad_split_arguments():
    with pytest.raises(ConfigError, match="n_splits=11 exceeds"):
        purged_kfold_splits(10, 11)
    with pytest.raises(ConfigError, match="label_end"):
        purged_kfold_splits(10, 2, label_end=np.zeros(10))
    with pytest.raises(ConfigError, match="train=0"):
        walk_forward_splits(10, 0, 2)
