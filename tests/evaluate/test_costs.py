"""Half-spread plus square-root impact, by hand and by its shape."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.errors import EvaluationError
from axon_lab.evaluate import square_root_cost


def test_worked_example():
    # 5 bp spread, 2 % daily volatility, 250k traded of 1M daily volume, coefficient 0.8:
    # 0.0005 / 2 + 0.8 * 0.02 * sqrt(0.25) = 0.00025 + 0.008
    cost = square_root_cost(
        250_000, spread=0.0005, volatility=0.02, volume=1_000_000, impact_coefficient=0.8
    )
    assert float(cost) == pytest.approx(0.00825)


def test_per_trade_arrays_and_sign():
    q = np.array([100.0, -400.0, 0.0])
    vol = np.array([0.01, 0.02, 0.03])
    cost = square_root_cost(q, spread=0.001, volatility=vol, volume=10_000, impact_coefficient=1)
    expected = [0.0005 + 0.01 * 0.1, 0.0005 + 0.02 * 0.2, 0.0005]
    np.testing.assert_allclose(cost, expected)


@given(
    q=st.floats(0.0, 1e6),
    factor=st.floats(1.0, 100.0),
    k=st.floats(0.0, 3.0),
)
def test_quadrupling_the_size_doubles_the_impact(q, factor, k):
    kw = {"spread": 0.0, "volatility": 0.02, "volume": 1e6, "impact_coefficient": k}
    small = float(square_root_cost(q, **kw))
    big = float(square_root_cost(q * factor**2, **kw))
    assert big == pytest.approx(small * factor, rel=1e-9, abs=1e-15)
    assert small == pytest.approx(k * 0.02 * math.sqrt(q / 1e6), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"volume": 0.0}, "volume holds 0.0; every value must be finite and > 0"),
        ({"spread": -0.001}, "spread holds -0.001"),
        ({"volatility": math.nan}, "volatility holds nan"),
        ({"impact_coefficient": -1.0}, "impact_coefficient holds -1.0"),
        ({"quantity": [1.0, math.inf]}, "quantity holds NaN or inf"),
        ({"quantity": [1.0, 2.0], "volume": [1.0, 2.0, 3.0]}, "do not broadcast"),
        ({"spread": "wide"}, "spread='wide' must be a number"),
    ],
)
def test_bad_input_is_rejected(kwargs, match):
    args = {
        "quantity": 10.0,
        "spread": 0.001,
        "volatility": 0.02,
        "volume": 1000.0,
        "impact_coefficient": 1.0,
        **kwargs,
    }
    with pytest.raises(EvaluationError, match=match):
        square_root_cost(**args)
