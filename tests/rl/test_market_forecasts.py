"""Forecast columns in the RL market arrays: present, finite once fitted, and point-in-time."""

from __future__ import annotations

import numpy as np

from axon_lab.data import make_synthetic
from axon_lab.forecast import Forecasts
from axon_lab.rl import make_market


def _forecasts() -> Forecasts:
    return Forecasts(horizon=2, refit_every=30, min_train=60, train_window=90, filter_window=60)


def test_forecast_columns_are_added_and_do_not_see_later_bars() -> None:
    frame = make_synthetic(220, timeframe="1h", start="2024-01-01", seed=8, symbol="SYN")
    market = make_market(frame, features=["logret_1"], norm_window=20, forecasts=_forecasts())
    assert market.feature_names == ("logret_1", "fc_vol", "fc_p_up")
    assert market.first_valid >= 61  # no forecast before the first fit, then 20 bars to normalise
    assert np.all(np.isfinite(market.features))
    assert np.ptp(market.features[market.first_valid :, 1]) > 0
    k = 150
    moved = frame.copy()
    moved.iloc[k:, :4] = moved.iloc[k:, :4].to_numpy() * 1.5
    again = make_market(moved, features=["logret_1"], norm_window=20, forecasts=_forecasts())
    np.testing.assert_array_equal(again.features[:k], market.features[:k])
    assert not np.array_equal(again.features[k:], market.features[k:])
