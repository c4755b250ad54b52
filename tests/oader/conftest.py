"""Shared builders for the OADER tests: synthetic data and agents on in-memory stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from axon_lab.data import make_synthetic
from axon_lab.oader import OADERLoop, make_agent


def synthetic(n: int = 240, seed: int = 3, timeframe: str = "1h") -> pd.DataFrame:
    return make_synthetic(n, timeframe=timeframe, start="2024-01-01", seed=seed, symbol="SYN")


def trend_frame(n: int = 120, step: float = 0.004, start: float = 100.0) -> pd.DataFrame:
    """A steady trend with small wiggles (up for step > 0), canonical, 1h bars."""
    idx = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC", name="timestamp").as_unit(
        "ns"
    )
    closes = [start * (1 + step) ** i * (1 + 0.001 * ((-1) ** i)) for i in range(n)]
    opens = [closes[0], *closes[:-1]]
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": [max(o, c) * 1.002 for o, c in zip(opens, closes, strict=True)],
            "low": [min(o, c) * 0.998 for o, c in zip(opens, closes, strict=True)],
            "close": closes,
            "volume": [1.0] * n,
        },
        index=idx,
    ).astype("float64")
    frame.attrs.update(symbol="SYN", timeframe="1h")
    return frame


@pytest.fixture
def agent_factory() -> Iterator[Any]:
    made: list[OADERLoop] = []

    def build(data: Any = None, **kw: Any) -> OADERLoop:
        kw.setdefault("store", "sqlite://")
        kw.setdefault("run_id", "t")
        kw.setdefault("progress", False)
        loop = make_agent(synthetic() if data is None else data, **kw)
        made.append(loop)
        return loop

    yield build
    for loop in made:
        loop.close()
