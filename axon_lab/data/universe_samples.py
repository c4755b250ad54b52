"""Bundled multi-symbol samples, read offline from installed packages like the one-symbol samples.

``stocks-1d`` is ``bokeh_sampledata``'s long-format ``stocks.csv.gz`` (AAPL, FB, GOOG, IBM,
MSFT daily bars, 2000-03-01 to 2013-03-01, unadjusted OHLC): GOOG lists in 2004 and FB in 2012,
inside the window, so the listing policy of :mod:`axon_lab.data.universe` is exercised on real
data. ``synthetic-universe-1d`` is :func:`~axon_lab.data.make_synthetic_universe` with listings,
delistings and halts.

Examples:
    >>> uni = load_universe_sample("stocks-1d")
    >>> uni.symbols
    ('AAPL', 'FB', 'GOOG', 'IBM', 'MSFT')
    >>> str(uni.index[uni.first_bar[1]].date())  # FB lists inside the window
    '2012-05-18'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache

from axon_lab.data.samples import sample_path
from axon_lab.data.universe import Universe
from axon_lab.data.universe_load import load_universe, make_synthetic_universe
from axon_lab.errors import ConfigError

__all__ = ["UniverseSampleInfo", "list_universe_samples", "load_universe_sample"]


@dataclass(frozen=True, slots=True, kw_only=True)
class UniverseSampleInfo:
    """A bundled multi-symbol sample.

    Attributes:
        name: Name for :func:`load_universe_sample`.
        symbols: Its symbols.
        timeframe: Canonical timeframe label.
        source: Where the bars come from.
        license: License of the data.
        description: What the data is, including listings inside the window.
    """

    name: str
    symbols: tuple[str, ...]
    timeframe: str
    source: str
    license: str
    description: str


_REGISTRY: tuple[UniverseSampleInfo, ...] = (
    UniverseSampleInfo(
        name="stocks-1d",
        symbols=("AAPL", "FB", "GOOG", "IBM", "MSFT"),
        timeframe="1d",
        source="bokeh_sampledata: _data/stocks.csv.gz (long format, Ticker column)",
        license="Public Domain (Quandl WIKI prices, via bokeh_sampledata; BSD-3-Clause package)",
        description="Five US stocks, daily 2000-03-01 to 2013-03-01, unadjusted OHLC (Adj Close "
        "ignored). GOOG lists on 2004-08-19 and FB on 2012-05-18, inside the window.",
    ),
    UniverseSampleInfo(
        name="synthetic-universe-1d",
        symbols=tuple(f"S{i:03d}" for i in range(50)),
        timeframe="1d",
        source="make_synthetic_universe(50, 500, seed=7, listings=True)",
        license="generated",
        description="50 synthetic symbols x 500 daily bars with late listings, early "
        "delistings and halted bars.",
    ),
)


def list_universe_samples() -> list[UniverseSampleInfo]:
    """Every bundled multi-symbol sample."""
    return list(_REGISTRY)


@lru_cache(maxsize=4)
def _cached(name: str) -> Universe:
    if name == "stocks-1d":
        # the one-symbol samples aapl-1d ... read this same file; here it is read whole
        return load_universe(sample_path("aapl-1d"), timeframe="1d")
    return make_synthetic_universe(50, 500, seed=7, listings=True)


def load_universe_sample(name: str) -> Universe:
    """Load a bundled multi-symbol sample as a :class:`~axon_lab.data.Universe`.

    The universe is immutable (read-only arrays), so every call returns the same cached object.

    Raises:
        ConfigError: Unknown name (with suggestions).
        MissingDependencyError: The package holding the sample is not installed.
    """
    names = [s.name for s in _REGISTRY]
    if name not in names:
        near = difflib.get_close_matches(str(name), names, n=2, cutoff=0.4)
        hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise ConfigError(f"Unknown universe sample {name!r}.{hint} Available: {names}.")
    return _cached(name)
