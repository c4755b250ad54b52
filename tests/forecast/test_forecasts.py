"""Forecasts: point-in-time, walk-forward, checked against arch and against naive forecasts.

The oracles are independent of the code under test: the GARCH filter is compared with arch's
own ``fix(...).forecast(...)``, and the losses (QLIKE for variance, log loss for direction) and the
naive forecasts (the trailing sample variance, the trailing share of up moves) are computed here
with plain numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.data import MarketView
from axon_lab.errors import ConfigError
from axon_lab.forecast import FORECAST_FEATURES, Forecasts


def _frame(returns: np.ndarray) -> pd.DataFrame:
    closes = 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(returns)]))
    opens = np.concatenate([[closes[0]], closes[:-1]])
    idx = pd.date_range("2023-01-01", periods=closes.size, freq="1h", tz="UTC", name="timestamp")
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, closes) * 1.0005,
            "low": np.minimum(opens, closes) * 0.9995,
            "close": closes,
            "volume": np.ones(closes.size),
        },
        index=idx.as_unit("ns"),
    )
    frame.attrs["symbol"] = "SIM"
    frame.attrs["timeframe"] = "1h"
    return frame


def _garch_returns(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    omega, alpha, beta = 0.05, 0.12, 0.85
    s2, out = omega / (1 - alpha - beta), np.empty(n)
    for i in range(n):
        out[i] = np.sqrt(s2) * rng.standard_normal()
        s2 = omega + alpha * out[i] ** 2 + beta * s2
    return out * 0.002


def _ar1_returns(n: int, seed: int, phi: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n) * 0.002
    out = np.empty(n)
    out[0] = e[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


def _evaluate(returns: np.ndarray, fc: Forecasts, first: int) -> pd.DataFrame:
    """Forecast features at each bar from ``first`` on, with the next return beside them."""
    view = MarketView(_frame(returns), feature_spec=())
    table = fc.frame(view, "SIM")
    # row i holds the forecast made when bar i completed; bar i + 1's return is what it forecasts
    table["next"] = np.concatenate([returns, [np.nan]])
    return table.iloc[first:-1]


def _qlike(var: np.ndarray, r: np.ndarray) -> float:
    return float(np.mean(np.log(var) + r**2 / var))


def _trailing_var(returns: np.ndarray, first: int, n: int, window: int) -> np.ndarray:
    # the naive forecast at bar i: the sample variance of the window returns up to bar i
    return np.array([returns[i - window : i].var() for i in range(first, first + n)])


FC = {"refit_every": 200, "min_train": 500, "train_window": 1000, "filter_window": 500}


@pytest.mark.slow
def test_volatility_beats_the_trailing_variance_on_garch_and_not_on_noise() -> None:
    n, first, window = 2_500, 700, 250
    fc = Forecasts(horizon=1, direction=False, n_draws=0, **FC)
    garch = _garch_returns(n, seed=1)
    noise = np.random.default_rng(2).standard_normal(n) * 0.003
    gains = {}
    for name, returns in (("garch", garch), ("noise", noise)):
        table = _evaluate(returns, fc, first)
        model = table["fc_vol"].to_numpy() ** 2
        # returns[i] is bar i+1's: the table's row i sees returns[:i]
        naive = _trailing_var(returns, first, len(table), window)
        nxt = table["next"].to_numpy()
        gains[name] = _qlike(naive, nxt) - _qlike(model, nxt)
    assert gains["garch"] > 0.05  # a clear gain where volatility clusters
    assert gains["noise"] < 0.01  # none to speak of where it does not


@pytest.mark.slow
def test_direction_beats_the_base_rate_on_ar1_and_not_on_noise() -> None:
    n, first, window = 2_500, 700, 250
    fc = Forecasts(horizon=1, vol=False, lags=3, **FC)

    def log_loss(p: np.ndarray, up: np.ndarray) -> float:
        return float(-np.mean(up * np.log(p) + (1 - up) * np.log(1 - p)))

    gains = {}
    for name, returns in (
        ("ar1", _ar1_returns(n, seed=3, phi=0.5)),
        ("noise", np.random.default_rng(4).standard_normal(n) * 0.002),
    ):
        table = _evaluate(returns, fc, first)
        up = (table["next"].to_numpy() > 0).astype(float)
        rows = range(first, first + len(up))
        base = np.array([(returns[i - window : i] > 0).mean() for i in rows])
        gains[name] = log_loss(base, up) - log_loss(table["fc_p_up"].to_numpy(), up)
    assert gains["ar1"] > 0.05
    assert gains["noise"] < 0.01


def test_the_volatility_filter_matches_arch() -> None:
    from arch import arch_model

    returns = _garch_returns(900, seed=5)
    fc = Forecasts(horizon=5, refit_every=100, min_train=600, train_window=600, filter_window=200)
    view = MarketView(_frame(returns), feature_spec=())
    t = view.decision_times()[749]  # 750 bars complete: 749 returns
    got = fc.features(view, t, "SIM")["fc_vol"]
    train = returns[100:700]  # the refit at 700 returns (600 + 100) used the 600 before it
    scale = 1.0 / train.std()
    fitted = arch_model(train * scale, mean="Zero", vol="GARCH", rescale=False).fit(disp="off")
    window = returns[749 - 200 : 749]
    fixed = arch_model(window * scale, mean="Zero", vol="GARCH", rescale=False).fix(fitted.params)
    want = np.sqrt(fixed.forecast(horizon=5, reindex=False).variance.to_numpy()[-1].sum()) / scale
    assert got == pytest.approx(want, rel=1e-6)


_SMALL = {"refit_every": 40, "min_train": 120, "train_window": 200, "filter_window": 100}
_RETURNS = _garch_returns(400, seed=9)


@settings(max_examples=15, deadline=None)
@given(k=st.integers(130, 399), factor=st.sampled_from([0.5, 0.99, 1.5]))
def test_a_forecast_does_not_change_when_later_bars_do(k: int, factor: float) -> None:
    frame = _frame(_RETURNS)
    moved = frame.copy()
    moved.iloc[k:, :4] = moved.iloc[k:, :4].to_numpy() * factor
    a, b = MarketView(frame, feature_spec=()), MarketView(moved, feature_spec=())
    fc = Forecasts(horizon=2, **_SMALL)
    s_k = frame.index[k]  # bar k opens at s_k: no decision before s_k may know it
    times = [t for t in a.decision_times() if t <= s_k][-3:]
    for t in times:
        assert fc.features(a, t, "SIM") == fc.features(b, t, "SIM")


def test_refits_follow_the_stated_interval() -> None:
    fc = Forecasts(horizon=1, **_SMALL)
    view = MarketView(_frame(_RETURNS), feature_spec=())
    times = view.decision_times()
    for t in times:
        fc.features(view, t, "SIM")
    assert fc.n_fits == len(range(120, 401, 40))  # 401 bars: fits at 120, 160, ..., 400 returns
    assert [fc.refit_point(n) for n in (120, 121, 160, 161)] == [None, 121, 121, 161]


def test_features_are_none_before_the_first_fit_and_banded_after() -> None:
    fc = Forecasts(horizon=3, **_SMALL)
    view = MarketView(_frame(_RETURNS), feature_spec=())
    early = fc.features(view, view.decision_times()[100], "SIM")
    assert set(early) == set(FORECAST_FEATURES)
    assert (early["fc_vol"], early["fc_p_up"], early["fc_horizon"]) == (None, None, 3.0)
    late = fc.features(view, view.end, "SIM")
    assert late["fc_vol_lo"] <= late["fc_vol"] <= late["fc_vol_hi"]
    assert 0 < late["fc_p_up_lo"] <= late["fc_p_up"] <= late["fc_p_up_hi"] < 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": 0}, "horizon must be an int >= 1"),
        ({"refit_every": 2.5}, "refit_every must be an int"),
        ({"min_train": 500, "train_window": 300}, "must not exceed train_window"),
        ({"band": 1.5}, "band must be a probability"),
        ({"penalty": -1.0}, "penalty must be a finite number"),
        ({"vol": False, "direction": False}, "forecasts nothing"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Forecasts(**kwargs)  # type: ignore[arg-type]
