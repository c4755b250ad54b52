from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.data import DEFAULT_REGIMES, Regime, check_canonical, make_synthetic, validate_ohlcv
from axon_lab.errors import ConfigError


def test_canonical_and_deterministic() -> None:
    a = make_synthetic(500, timeframe="4h", start="2021-03-01", seed=11, symbol="ABC")
    check_canonical(a)
    assert a.attrs["timeframe"] == "4h"
    assert a.index[0] == pd.Timestamp("2021-03-01", tz="UTC")
    assert a.index[1] - a.index[0] == pd.Timedelta(hours=4)
    pd.testing.assert_frame_equal(
        a,
        make_synthetic(500, timeframe="4h", start="2021-03-01", seed=11, symbol="ABC"),
        check_exact=True,
    )
    b = make_synthetic(500, timeframe="4h", start="2021-03-01", seed=12, symbol="ABC")
    assert not np.array_equal(a["close"].to_numpy(), b["close"].to_numpy())


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 3000),
    seed=st.integers(0, 2**32 - 1),
    timeframe=st.sampled_from(["1min", "15min", "1h", "1d"]),
)
def test_ohlc_always_consistent(n: int, seed: int, timeframe: str) -> None:
    frame = make_synthetic(n, timeframe=timeframe, seed=seed)
    o, h, lo, c, v = (frame[k].to_numpy() for k in ["open", "high", "low", "close", "volume"])
    assert np.all(lo <= np.minimum(o, c))
    assert np.all(h >= np.maximum(o, c))
    assert np.all(lo > 0)
    assert np.all(v > 0)
    assert np.array_equal(o[1:], c[:-1])  # each bar opens at the previous close
    validate_ohlcv(frame, policy="strict")  # raises if anything is off


def test_regimes_shape_returns_and_volume() -> None:
    frame, regimes = make_synthetic(200_000, timeframe="1h", seed=3, return_regimes=True)
    assert set(regimes.cat.categories) == {"bull", "bear", "sideways"}
    log_ret = np.log(frame["close"] / frame["open"])
    hours_per_year = 365 * 24
    vol = log_ret.groupby(regimes.to_numpy()).std() * np.sqrt(hours_per_year)
    for regime in DEFAULT_REGIMES:
        assert vol[regime.name] == pytest.approx(regime.volatility, rel=0.05)
    median_volume = frame["volume"].groupby(regimes.to_numpy()).median()
    assert median_volume["bear"] > median_volume["bull"] > median_volume["sideways"]
    corr = np.corrcoef(np.abs(log_ret / log_ret.std()), np.log(frame["volume"]))[0, 1]
    assert corr > 0.2
    # Mean regime duration ~ 500 bars (geometric), so ~400 switches in 200k bars.
    switches = int((regimes.to_numpy()[1:] != regimes.to_numpy()[:-1]).sum())
    assert 300 < switches < 500


def test_custom_regimes_and_transition() -> None:
    calm = Regime("calm", drift=0.0, volatility=0.1)
    wild = Regime("wild", drift=0.0, volatility=1.0, volume_mult=3.0)
    never_leave = np.array([[1.0, 0.0], [0.5, 0.5]])
    _, reg = make_synthetic(
        1000, seed=1, regimes=[calm, wild], transition=never_leave, initial_regime=0,
        return_regimes=True,
    )  # fmt: skip
    assert set(reg) == {"calm"}


def test_million_bars_fast() -> None:
    t0 = time.perf_counter()
    frame = make_synthetic(1_000_000, timeframe="1min", seed=0)
    elapsed = time.perf_counter() - t0
    assert len(frame) == 1_000_000
    assert elapsed < 3.0, f"1M bars took {elapsed:.2f}s"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bars": 0}, "n_bars must be an int >= 1"),
        ({"n_bars": 10, "start_price": -1.0}, "start_price"),
        ({"n_bars": 10, "mean_duration": 0.5}, "mean_duration"),
        ({"n_bars": 10, "regimes": []}, "at least one Regime"),
        ({"n_bars": 10, "regimes": [Regime("x", 0.0, 0.0)]}, "volatility"),
        ({"n_bars": 10, "transition": np.ones((3, 3))}, "sum to 1"),
        ({"n_bars": 10, "initial_regime": 5}, "initial_regime"),
        ({"n_bars": 10, "timeframe": "1 fortnight"}, "Unknown timeframe"),
    ],
)
def test_invalid_parameters(kwargs: dict[str, object], match: str) -> None:
    n = kwargs.pop("n_bars")
    with pytest.raises(ConfigError, match=match):
        make_synthetic(n, seed=0, **kwargs)  # type: ignore[arg-type]
