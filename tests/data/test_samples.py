from __future__ import annotations

import importlib.util
import warnings

import pytest

from axon_lab.data import DataRepairWarning, check_canonical, list_samples, load_sample
from axon_lab.data import samples as samples_module
from axon_lab.errors import ConfigError, DataError, MissingDependencyError

EXPECTED = {
    # name: (symbol, timeframe, rows after repair, first bar)
    "btc-usd-15m": ("BTC-USD", "15min", 8686, "2021-09-27 13:45:00+00:00"),
    "btc-usd-1d": ("BTC-USD", "1d", 662, "2020-01-01 00:00:00+00:00"),
    "aapl-1d": ("AAPL", "1d", 3270, "2000-03-01 00:00:00+00:00"),
    "msft-1d": ("MSFT", "1d", 3270, "2000-03-01 00:00:00+00:00"),
    "ibm-1d": ("IBM", "1d", 3270, "2000-03-01 00:00:00+00:00"),
    "goog-1d": ("GOOG", "1d", 2148, "2004-08-19 00:00:00+00:00"),
    "nvda-1d": ("NVDA", "1d", 6558, "1999-01-22 00:00:00+00:00"),
    "amzn-1d": ("AMZN", "1d", 5842, "1997-05-15 00:00:00+00:00"),
    "googl-1d": ("GOOGL", "1d", 2335, "2009-05-22 00:00:00+00:00"),
    "eurusd-1h": ("EURUSD", "1h", 6225, "2017-01-01 22:00:00+00:00"),
    "synthetic-1h": ("SYN", "1h", 10_000, "2020-01-01 00:00:00+00:00"),
    "synthetic-1d": ("SYN", "1d", 2_000, "2020-01-01 00:00:00+00:00"),
}
NEEDS_REPAIR = {"btc-usd-15m", "btc-usd-1d"}


def test_list_samples_registry() -> None:
    infos = list_samples()
    assert [i.name for i in infos] == list(EXPECTED)
    for info in infos:
        assert info.installed
        assert info.license
        assert info.description
        assert (info.symbol, info.timeframe) == EXPECTED[info.name][:2]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_sample_loads_canonical(name: str) -> None:
    symbol, timeframe, rows, first = EXPECTED[name]
    if name in NEEDS_REPAIR:
        with pytest.warns(DataRepairWarning, match=f"sample '{name}'"):
            frame = load_sample(name)
    else:
        frame = load_sample(name)
    check_canonical(frame)
    assert (frame.attrs["symbol"], frame.attrs["timeframe"], len(frame)) == (
        symbol,
        timeframe,
        rows,
    )
    assert str(frame.index[0]) == first


def test_strict_fails_on_the_dirty_sample() -> None:
    with pytest.raises(DataError, match=r"not in time order.*2021-10-27 06:00:00\+00:00"):
        load_sample("btc-usd-15m", validation="strict")


def test_returns_independent_copies() -> None:
    a = load_sample("aapl-1d")
    a.iloc[0, 0] = -1.0
    a.attrs["symbol"] = "CHANGED"
    b = load_sample("aapl-1d")
    assert b.iloc[0, 0] == 118.56
    assert b.attrs["symbol"] == "AAPL"


def test_unknown_name_suggests() -> None:
    with pytest.raises(ConfigError, match=r"Unknown sample 'btc-15m'\. Did you mean 'btc-usd-15m'"):
        load_sample("btc-15m")


def test_missing_optional_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def fake_find_spec(name: str, *args: object) -> object:
        return None if name == "gym_anytrading" else real_find_spec(name, *args)  # type: ignore[arg-type]

    def fake_import(name: str) -> object:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(samples_module.importlib.util, "find_spec", fake_find_spec)
    monkeypatch.setattr("axon_lab._imports.importlib.import_module", fake_import)
    samples_module._cached.cache_clear()
    try:
        installed = {i.name: i.installed for i in list_samples()}
        assert installed["eurusd-1h"] is False
        assert installed["aapl-1d"] is True
        with pytest.raises(MissingDependencyError, match=r"gym_anytrading.*pip install"):
            load_sample("eurusd-1h")
    finally:
        samples_module._cached.cache_clear()


def test_cache_avoids_reparsing(monkeypatch: pytest.MonkeyPatch) -> None:
    load_sample("ibm-1d")
    calls: list[str] = []
    monkeypatch.setattr(samples_module, "load_csv", lambda *a, **k: calls.append("x"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_sample("ibm-1d")
    assert calls == []
