from __future__ import annotations

import pandas as pd
import pytest

from axon_lab.data import make_synthetic


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return make_synthetic(1500, timeframe="1h", seed=5)
