from __future__ import annotations

import pandas as pd
import pytest

from axon_lab.data import Regime, make_synthetic


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return make_synthetic(1200, timeframe="1h", seed=11)


@pytest.fixture(scope="session")
def trending() -> pd.DataFrame:
    """A seeded daily series with one strong up-trend regime."""
    return make_synthetic(
        1500, timeframe="1d", seed=3, regimes=[Regime("trend", drift=1.0, volatility=0.25)]
    )
