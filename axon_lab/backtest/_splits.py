"""Time-series splits for validation and hyper-parameter search, as integer index arrays.

- :func:`walk_forward_splits`: rolling (or expanding) train windows, each followed by an
  embargo gap and a test window.
- :func:`purged_kfold_splits`: contiguous test folds; training samples whose label interval
  overlaps the test fold are purged and the ``embargo`` samples after the fold are dropped
  (López de Prado, *Advances in Financial Machine Learning*, ch. 7).

No test index ever appears in its train set, and no train index falls inside the embargo.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from axon_lab.errors import ConfigError

__all__ = ["purged_kfold_splits", "walk_forward_splits"]

Split = tuple[np.ndarray, np.ndarray]


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(f"{name}={value!r} must be an integer >= {low}.")
    return int(value)


def walk_forward_splits(
    n: int,
    train: int,
    test: int,
    step: int | None = None,
    embargo: int = 0,
    *,
    expanding: bool = False,
) -> list[Split]:
    """Walk-forward ``(train_idx, test_idx)`` pairs over ``n`` samples.

    Args:
        n: Number of samples (bars).
        train: Train window length (the first one's, if ``expanding``).
        test: Test window length.
        step: How far each split moves forward; defaults to ``test``.
        embargo: Samples skipped between the end of train and the start of test.
        expanding: Keep the train start at 0 instead of rolling it.

    Returns:
        Splits in time order; only complete test windows are produced.

    Raises:
        ConfigError: If a length is not a positive integer or no split fits.

    Examples:
        >>> [(tr.tolist(), te.tolist()) for tr, te in walk_forward_splits(8, 3, 2, embargo=1)]
        [([0, 1, 2], [4, 5]), ([2, 3, 4], [6, 7])]
    """
    n = _check_int("n", n, 1)
    train = _check_int("train", train, 1)
    test = _check_int("test", test, 1)
    step = test if step is None else _check_int("step", step, 1)
    embargo = _check_int("embargo", embargo, 0)
    out: list[Split] = []
    start = 0
    while start + train + embargo + test <= n:
        tr_lo = 0 if expanding else start
        tr_hi = start + train
        te_lo = tr_hi + embargo
        out.append((np.arange(tr_lo, tr_hi), np.arange(te_lo, te_lo + test)))
        start += step
    if not out:
        raise ConfigError(
            f"No walk-forward split fits: train={train} + embargo={embargo} + test={test} > n={n}."
        )
    return out


def purged_kfold_splits(
    n: int,
    n_splits: int = 5,
    *,
    embargo: int = 0,
    purge: int = 0,
    label_end: Any = None,
) -> list[Split]:
    """Purged k-fold ``(train_idx, test_idx)`` pairs with an embargo.

    Args:
        n: Number of samples.
        n_splits: Number of contiguous test folds (>= 2).
        embargo: Samples after each test fold removed from training (serial correlation).
        purge: Samples before each test fold removed from training (labels looking ahead
            ``purge`` bars would overlap the fold). Ignored when ``label_end`` is given.
        label_end: Optional integer array: sample ``i``'s label uses data up to bar
            ``label_end[i] >= i``. A train sample is purged if ``[i, label_end[i]]`` overlaps the
            test fold's ``[first, max(label_end of the fold)]``.

    Returns:
        One split per fold.

    Raises:
        ConfigError: On bad sizes or a ``label_end`` that is not ``>= i`` and ``< n``.

    Examples:
        >>> tr, te = purged_kfold_splits(10, 5, embargo=1, purge=1)[1]
        >>> tr.tolist(), te.tolist()
        ([0, 5, 6, 7, 8, 9], [2, 3])
    """
    n = _check_int("n", n, 2)
    n_splits = _check_int("n_splits", n_splits, 2)
    embargo = _check_int("embargo", embargo, 0)
    purge = _check_int("purge", purge, 0)
    if n_splits > n:
        raise ConfigError(f"n_splits={n_splits} exceeds n={n} samples.")
    idx = np.arange(n)
    ends: np.ndarray | None = None
    if label_end is not None:
        ends = np.asarray(label_end, dtype=np.int64)
        if ends.shape != (n,) or (ends < idx).any() or (ends >= n).any():
            raise ConfigError(f"label_end must be {n} integers with i <= label_end[i] < n.")
    out: list[Split] = []
    for fold in np.array_split(idx, n_splits):
        lo, hi = int(fold[0]), int(fold[-1])
        keep = (idx < lo) | (idx > hi + embargo)
        if ends is None:
            keep &= ~((idx >= lo - purge) & (idx < lo))
        else:
            test_end = int(ends[lo : hi + 1].max())
            keep &= ~((idx <= test_end) & (ends >= lo))
        out.append((idx[keep], fold.copy()))
    return out
