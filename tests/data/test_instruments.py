"""Default instruments: bundled rules for the samples, a tick inferred for any other file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.data import default_instrument, infer_tick_size, make_synthetic


@pytest.mark.parametrize(
    ("prices", "tick"),
    [
        ([100.0, 101.0, 250.0], 1.0),
        ([1.5, 2.25, 3.75], 0.01),
        ([1.12345, 1.12351], 1e-05),
        ([0.1, 0.2, 0.3], 0.1),  # 0.1 + 0.2 is not exact in binary: a tolerance is needed
    ],
)
def test_infer_tick_size_finds_the_coarsest_decimal_step(prices, tick):
    assert infer_tick_size(prices) == tick


def test_full_precision_prices_have_no_tick():
    assert infer_tick_size(np.array([1 / 3, 2 / 7])) is None


@given(st.integers(0, 6), st.lists(st.integers(1, 10**7), min_size=1, max_size=40))
def test_prices_on_a_decimal_grid_infer_a_tick_that_divides_them(decimals, units):
    prices = [u / 10**decimals for u in units]
    tick = infer_tick_size(prices)
    assert tick is not None
    assert tick >= 10.0**-decimals  # never finer than the grid the prices were made on
    for p in prices:
        assert abs(p / tick - round(p / tick)) < 1e-6


def test_bundled_samples_carry_their_market_rules():
    btc = default_instrument("BTC-USD", fee_rate=0.001)
    assert (btc.tick_size, btc.lot_size, btc.min_notional, btc.taker_fee) == (
        0.01,
        1e-05,
        5.0,
        0.001,
    )
    aapl = default_instrument("AAPL", pd.DataFrame({"close": [10.25, 11.5]}))
    assert (aapl.lot_size, aapl.min_quantity, aapl.tick_size) == (1.0, 1.0, 0.01)
    assert default_instrument("EURUSD").lot_size == 1000.0


def test_an_unknown_symbol_gets_only_what_its_data_shows():
    frame = make_synthetic(50, timeframe="1h", seed=1, symbol="ZZZ")
    zzz = default_instrument("ZZZ", frame)
    assert zzz.lot_size is None
    assert zzz.min_notional == 0.0
    assert zzz.source.startswith("inferred from the data")
