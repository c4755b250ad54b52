"""Features against independent references.

References used:
* the ``ta`` library (bukosabino/ta 0.11, dev dependency) for SMA, EMA, ATR, Bollinger and MACD
  (exact to float rounding) and RSI (ta seeds Wilder's averages differently - it treats the first
  change as 0 - so the two agree only once the seed has decayed);
* Wilder's RSI worked example as published by StockCharts ChartSchool ("RSI calculation"
  spreadsheet, 14-period RSI of a 33-close series); the page rounds intermediate averages, so we
  agree to within 0.1;
* a slow, obvious loop written from Wilder's definition for RSI and ATR, exact.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import ta
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.data import (
    DEFAULT_FEATURES,
    atr,
    bollinger,
    compute_features,
    ema,
    log_returns,
    macd,
    make_synthetic,
    returns,
    rolling_volatility,
    rsi,
    sma,
)
from axon_lab.errors import ConfigError

FRAME = make_synthetic(3000, timeframe="1h", seed=5)
CLOSE = FRAME["close"]


def close_enough(ours: pd.Series, ref: pd.Series, start: int, tol: float = 1e-9) -> None:
    assert ours.iloc[:start].isna().all()
    diff = (ours.iloc[start:] - ref.iloc[start:]).abs()
    assert not ours.iloc[start:].isna().any()
    assert diff.max() < tol


def test_sma_ema_match_ta() -> None:
    close_enough(sma(CLOSE, 20), ta.trend.SMAIndicator(CLOSE, 20).sma_indicator(), 19)
    close_enough(ema(CLOSE, 20), ta.trend.EMAIndicator(CLOSE, 20).ema_indicator(), 19)


def test_atr_matches_ta_and_wilder_loop() -> None:
    ours = atr(FRAME, 14)
    close_enough(ours, ta.volatility.AverageTrueRange(FRAME.high, FRAME.low, CLOSE, 14)
                 .average_true_range(), 13)  # fmt: skip
    h, lo, c = FRAME.high.to_numpy(), FRAME.low.to_numpy(), CLOSE.to_numpy()
    tr = [h[0] - lo[0]] + [
        max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))
    ]
    value = sum(tr[:14]) / 14
    expected = [np.nan] * 13 + [value]
    for x in tr[14:]:
        value = (value * 13 + x) / 14
        expected.append(value)
    np.testing.assert_allclose(ours.to_numpy(), expected, rtol=1e-12)


def test_bollinger_and_macd_match_ta() -> None:
    bands = bollinger(CLOSE, 20, 2.0)
    ref = ta.volatility.BollingerBands(CLOSE, 20, 2)
    close_enough(bands.mid, ref.bollinger_mavg(), 19)
    close_enough(bands.upper, ref.bollinger_hband(), 19)
    close_enough(bands.lower, ref.bollinger_lband(), 19)
    m, ref_m = macd(CLOSE, 12, 26, 9), ta.trend.MACD(CLOSE, 26, 12, 9)
    close_enough(m.line, ref_m.macd(), 25)
    close_enough(m.signal, ref_m.macd_signal(), 33)
    close_enough(m.hist, ref_m.macd_diff(), 33)


def wilder_rsi_loop(close: list[float], n: int) -> list[float]:
    changes = [b - a for a, b in itertools.pairwise(close)]
    gain = sum(max(x, 0) for x in changes[:n]) / n
    loss = sum(max(-x, 0) for x in changes[:n]) / n
    out = [np.nan] * n
    out.append(100.0 if loss == 0 else 100 - 100 / (1 + gain / loss))
    for x in changes[n:]:
        gain = (gain * (n - 1) + max(x, 0)) / n
        loss = (loss * (n - 1) + max(-x, 0)) / n
        out.append(100.0 if loss == 0 else 100 - 100 / (1 + gain / loss))
    return out


def test_rsi_matches_wilder_loop_and_converges_to_ta() -> None:
    ours = rsi(CLOSE, 14)
    np.testing.assert_allclose(ours.to_numpy(), wilder_rsi_loop(CLOSE.tolist(), 14), rtol=1e-10)
    ref = ta.momentum.RSIIndicator(CLOSE, 14).rsi()
    assert (ours.iloc[500:] - ref.iloc[500:]).abs().max() < 1e-9


def test_rsi_stockcharts_worked_example() -> None:
    closes = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03,
              45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45,
              45.78, 45.35, 44.03, 44.18, 44.22, 44.57, 43.42, 42.66, 43.13]  # fmt: skip
    published = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71,
                 50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77]  # fmt: skip
    ours = rsi(pd.Series(closes), 14)
    assert ours.iloc[:14].isna().all()
    np.testing.assert_allclose(ours.iloc[14:].to_numpy(), published, atol=0.1)


def test_rsi_all_gains_is_100() -> None:
    assert rsi(pd.Series(np.arange(1.0, 30.0)), 14).iloc[-1] == 100.0


def test_returns_and_volatility() -> None:
    r = returns(CLOSE)
    assert np.isnan(r.iloc[0])
    assert r.iloc[5] == pytest.approx(CLOSE.iloc[5] / CLOSE.iloc[4] - 1, rel=1e-15)
    lr = log_returns(CLOSE)
    vol = rolling_volatility(CLOSE, 20)
    assert vol.iloc[:20].isna().all()
    assert vol.iloc[20] == pytest.approx(np.std(lr.iloc[1:21].to_numpy(), ddof=1), rel=1e-12)
    annual = rolling_volatility(CLOSE, 20, annualize=True)
    assert annual.iloc[50] == pytest.approx(vol.iloc[50] * np.sqrt(365 * 24), rel=1e-12)
    daily_equity = rolling_volatility(CLOSE, 20, annualize=True, periods_per_year=252)
    assert daily_equity.iloc[50] == pytest.approx(vol.iloc[50] * np.sqrt(252), rel=1e-12)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "14"])
def test_window_validation(bad: object) -> None:
    for func in (sma, ema, rsi, rolling_volatility):
        with pytest.raises(ConfigError, match="window must be an int >= 1"):
            func(CLOSE, bad)  # type: ignore[operator]
    with pytest.raises(ConfigError, match="window must be an int >= 1"):
        atr(FRAME, bad)  # type: ignore[arg-type]


def test_macd_and_bollinger_argument_checks() -> None:
    with pytest.raises(ConfigError, match=r"fast \(26\) must be shorter than slow \(12\)"):
        macd(CLOSE, 26, 12)
    with pytest.raises(ConfigError, match="k must be a positive number"):
        bollinger(CLOSE, 20, -1.0)


def test_compute_features_default_spec_and_names() -> None:
    feats = compute_features(FRAME)
    assert list(feats.columns) == [
        "ret_1", "logret_1", "sma_20", "ema_20", "rsi_14", "atr_14", "bb_mid_20_2",
        "bb_upper_20_2", "bb_lower_20_2", "vol_20", "macd_12_26_9", "macd_signal_12_26_9",
        "macd_hist_12_26_9",
    ]  # fmt: skip
    assert len(DEFAULT_FEATURES) == 9
    assert feats.dtypes.eq(np.float64).all()
    pd.testing.assert_series_equal(feats["rsi_14"], rsi(CLOSE, 14), check_names=False)
    assert feats.index.equals(FRAME.index)


def test_compute_features_unknown_name_suggests() -> None:
    with pytest.raises(ConfigError, match=r"Unknown feature 'rsi14'\. Did you mean 'rsi_14'"):
        compute_features(FRAME, ["rsi14"])
    with pytest.raises(ConfigError, match="list of feature names"):
        compute_features(FRAME, "sma_20")
    with pytest.raises(ConfigError, match="twice"):
        compute_features(FRAME, ["sma_5", "sma_5"])


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(40, 2900), seed=st.integers(0, 1000))
def test_every_feature_is_causal(cut: int, seed: int) -> None:
    spec = [*DEFAULT_FEATURES, "annvol_10", "ema_7", "bb_10_1.5"]
    base = compute_features(FRAME, spec)
    future = FRAME.copy()
    rng = np.random.default_rng(seed)
    future.iloc[cut:] = future.iloc[cut:].to_numpy() * rng.uniform(0.5, 1.5, (len(FRAME) - cut, 1))
    changed = compute_features(future, spec)
    pd.testing.assert_frame_equal(base.iloc[:cut], changed.iloc[:cut], check_exact=True)
