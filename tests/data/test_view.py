"""MarketView: point-in-time reads, and the look-ahead property required by the issue."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.data import MarketView, compute_features, load_sample, make_synthetic
from axon_lab.errors import ConfigError, DataError
from axon_lab.records import Bar

HOURLY = make_synthetic(600, timeframe="1h", start="2024-01-01", seed=21, symbol="SYN")


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_bar_is_visible_only_once_complete() -> None:
    view = MarketView(HOURLY, feature_spec=())
    assert len(view.as_of(at("2024-01-01 00:59:59.999999999"))) == 0
    first = view.as_of(at("2024-01-01 01:00"))  # the 00:00 bar completes at 01:00
    assert list(first.index) == [at("2024-01-01 00:00")]
    assert view.as_of(at("2024-01-01 05:30")).index[-1] == at("2024-01-01 04:00")
    pd.testing.assert_frame_equal(
        view.as_of(at("2024-01-03 00:00")), HOURLY.iloc[:48], check_exact=True
    )
    assert len(view.as_of(at("2030-01-01"))) == 600


def test_lookback_and_copies() -> None:
    view = MarketView(HOURLY, feature_spec=())
    rows = view.as_of(at("2024-01-02 00:00"), lookback=5)
    assert list(rows.index) == list(HOURLY.index[19:24])
    rows.iloc[:, :] = -1.0
    assert view.as_of(at("2024-01-02 00:00"), lookback=5).iloc[0, 0] == HOURLY.iloc[19, 0]
    with pytest.raises(ConfigError, match="lookback must be an int >= 1"):
        view.as_of(at("2024-01-02"), lookback=0)


def test_bar_arrays_are_the_as_of_rows_without_a_copy() -> None:
    view = MarketView(HOURLY, feature_spec=())
    for t, n in [(at("2024-01-02 00:00"), 5), (at("2024-01-01 03:00"), 5), (at("2030-01-01"), 7)]:
        rows = view.as_of(t, lookback=n)
        opens, values = view.bar_arrays_as_of(t, lookback=n)
        assert opens.tolist() == pd.DatetimeIndex(rows.index).as_unit("ns").asi8.tolist()
        np.testing.assert_array_equal(values, rows.to_numpy(dtype=np.float64))
        assert not values.flags.writeable
        assert not opens.flags.writeable
    opens, values = view.bar_arrays_as_of(at("2024-01-01 00:30"), lookback=3)
    assert opens.shape == (0,)
    assert values.shape == (0, 5)
    with pytest.raises(ConfigError, match="lookback must be an int >= 1"):
        view.bar_arrays_as_of(at("2024-01-02"), lookback=0)


def test_naive_time_rejected_with_fix() -> None:
    view = MarketView(HOURLY, feature_spec=())
    with pytest.raises(ConfigError, match=r"no time zone.*tz='UTC'"):
        view.as_of(pd.Timestamp("2024-01-02"))
    with pytest.raises(ConfigError, match="no time zone"):
        view.last_price("2024-01-02 00:00")
    # aware times in other zones are converted
    berlin = pd.Timestamp("2024-01-02 01:00", tz="Europe/Berlin")
    assert view.as_of(berlin).equals(view.as_of(at("2024-01-02 00:00")))


def test_features_as_of_reads_last_complete_bar() -> None:
    view = MarketView(HOURLY, feature_spec=["sma_3", "rsi_14"])
    feats = compute_features(HOURLY, ["sma_3", "rsi_14"])
    t = at("2024-01-02 00:00")  # last complete bar: 23:00 on Jan 1 (row 23)
    assert view.features_as_of(t) == {"sma_3": feats["sma_3"].iloc[23],
                                      "rsi_14": feats["rsi_14"].iloc[23]}  # fmt: skip
    early = view.features_as_of(at("2024-01-01 02:00"))
    assert early == {"sma_3": None, "rsi_14": None}
    assert view.features_as_of(at("2023-12-31")) == {"sma_3": None, "rsi_14": None}
    assert view.feature_names == ("sma_3", "rsi_14")


def test_bars_and_last_price() -> None:
    view = MarketView(HOURLY, feature_spec=())
    bars = view.bars_as_of(at("2024-01-01 10:00"), lookback=3)
    assert all(isinstance(b, Bar) for b in bars)
    assert [b.timestamp for b in bars] == [
        at("2024-01-01 07:00").to_pydatetime(),
        at("2024-01-01 08:00").to_pydatetime(),
        at("2024-01-01 09:00").to_pydatetime(),
    ]
    assert bars[-1].close == HOURLY["close"].iloc[9]
    assert view.last_price(at("2024-01-01 10:00")) == HOURLY["close"].iloc[9]
    with pytest.raises(DataError, match=r"No bar of 'SYN' is complete.*first completes at"):
        view.last_price(at("2024-01-01 00:30"))


def test_multi_symbol_properties_and_decision_times() -> None:
    a = make_synthetic(10, timeframe="1d", start="2024-01-01", seed=1, symbol="A")
    b = make_synthetic(5, timeframe="1d", start="2024-01-04", seed=2, symbol="B")
    view = MarketView({"A": a, "B": b}, feature_spec=())
    assert view.symbols == ("A", "B")
    assert view.timeframe.label == "1d"
    assert (view.start, view.end) == (at("2024-01-01"), at("2024-01-11"))
    times = view.decision_times()
    assert times[0] == at("2024-01-02")
    assert len(times) == 10
    assert list(view.decision_times(every=3)) == list(times[::3])
    assert len(view.as_of(at("2024-01-06"), "B")) == 2
    with pytest.raises(ConfigError, match=r"holds \['A', 'B'\]; pass symbol="):
        view.as_of(at("2024-01-06"))
    with pytest.raises(ConfigError, match=r"Unknown symbol 'C'"):
        view.as_of(at("2024-01-06"), "C")


def test_construction_errors() -> None:
    daily = make_synthetic(10, timeframe="1d", seed=1)
    with pytest.raises(ConfigError, match=r"timeframes \['1d', '1h'\]"):
        MarketView({"A": daily, "B": HOURLY})
    with pytest.raises(ConfigError, match="resample_ohlcv"):
        MarketView({"A": daily}, timeframe="1h")
    shuffled = HOURLY.iloc[::-1]
    with pytest.raises(DataError, match="not sorted"):
        MarketView(shuffled)
    with pytest.raises(ConfigError, match="at least one frame"):
        MarketView({})
    anonymous = HOURLY.copy()
    anonymous.attrs = {"timeframe": "1h"}
    with pytest.raises(ConfigError, match=r"no attrs\['symbol'\]"):
        MarketView(anonymous)
    assert MarketView({"NAMED": anonymous}, feature_spec=()).symbols == ("NAMED",)


def test_as_of_is_fast_on_real_data() -> None:
    view = MarketView(load_sample("aapl-1d"))
    times = view.decision_times()
    t0 = time.perf_counter()
    for t in times[:2000]:
        view.as_of(t, lookback=50)
        view.features_as_of(t)
    assert time.perf_counter() - t0 < 2.0


# --------------------------------------------------------------------------- look-ahead property

BASE = make_synthetic(400, timeframe="1h", start="2024-01-01", seed=99, symbol="P")
SPEC = ["ret_1", "sma_10", "ema_10", "rsi_14", "atr_14", "bb_20_2", "vol_20", "macd_12_26_9"]
BASE_VIEW = MarketView(BASE, feature_spec=SPEC)


@settings(max_examples=60, deadline=None)
@given(
    offset=st.integers(0, 400 * 3600 * 10**9),
    seed=st.integers(0, 2**32 - 1),
    extra=st.integers(0, 50),
)
def test_future_bars_never_change_the_past(offset: int, seed: int, extra: int) -> None:
    t = BASE.index[0] + pd.Timedelta(offset, "ns")
    complete = BASE.index + pd.Timedelta(hours=1) <= t
    rng = np.random.default_rng(seed)
    # Perturb every bar not complete at t (keeping OHLC consistent) and append new bars.
    changed = BASE.copy()
    factor = rng.uniform(0.5, 2.0, size=(int((~complete).sum()), 1))
    changed.loc[~complete, :] = BASE.loc[~complete, :].to_numpy() * factor
    tail = make_synthetic(extra + 1, timeframe="1h", start=BASE.index[-1] + pd.Timedelta(hours=1),
                          seed=seed, start_price=float(rng.uniform(1, 1e4)))  # fmt: skip
    changed = pd.concat([changed, tail.iloc[:extra]])
    changed.attrs = dict(BASE.attrs)
    view = MarketView(changed, feature_spec=SPEC)

    before, after = BASE_VIEW.as_of(t), view.as_of(t)
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    assert before.to_numpy().tobytes() == after.to_numpy().tobytes()
    f_before, f_after = BASE_VIEW.features_as_of(t), view.features_as_of(t)
    assert f_before.keys() == f_after.keys()
    for name, value in f_before.items():
        other = f_after[name]
        assert (value is None and other is None) or (
            value is not None and other is not None
            and np.float64(value).tobytes() == np.float64(other).tobytes()
        ), name  # fmt: skip
    if complete.any():
        assert BASE_VIEW.last_price(t) == view.last_price(t)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1800, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    )
)
def test_fast_nanoseconds_equal_pandas(t: datetime) -> None:
    # the view's cut-off arithmetic on plain UTC datetimes equals pandas' Timestamp.value
    from axon_lab.data.view import _ns

    assert _ns(t) == pd.Timestamp(t).value
    other = t.astimezone(timezone(timedelta(hours=-5)))
    assert _ns(other) == pd.Timestamp(t).value  # other zones go through pandas
