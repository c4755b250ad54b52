"""Shared helpers for the backtest tests: random OHLC bars."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


def _make_ohlc(n: int, seed: int = 0, *, start: float = 100.0, vol: float = 0.02) -> pd.DataFrame:
    """Random-walk OHLC bars with consistent highs and lows, on a 24/7 daily index."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0.0, vol, n)))
    open_ = np.r_[start, close[:-1]] * np.exp(rng.normal(0.0, vol / 4, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, vol / 2, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, vol / 2, n)))
    idx = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=idx)


@pytest.fixture
def make_ohlc() -> Callable[..., pd.DataFrame]:
    """The random OHLC factory (importlib mode cannot import conftest directly)."""
    return _make_ohlc
