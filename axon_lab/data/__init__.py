"""Market data: canonical OHLCV frames, loaders, validation, samples, features, point-in-time view.

The only public API of this package is what is exported here.

Examples:
    >>> from axon_lab.data import MarketView, load_sample
    >>> view = MarketView(load_sample("aapl-1d"), feature_spec=["rsi_14"])
    >>> view.symbols, view.timeframe.label
    (('AAPL',), '1d')
"""

from axon_lab.data._documents_sample import make_documents
from axon_lab.data.calendar import find_gaps
from axon_lab.data.documents import DocumentFeed, load_documents
from axon_lab.data.features import (
    DEFAULT_FEATURES,
    Bollinger,
    Macd,
    atr,
    bollinger,
    compute_features,
    ema,
    log_returns,
    macd,
    returns,
    rolling_volatility,
    rsi,
    sma,
)
from axon_lab.data.frame import (
    CLOSE,
    HIGH,
    INDEX_NAME,
    LOW,
    OHLCV_COLUMNS,
    OPEN,
    PRICE_COLUMNS,
    VOLUME,
    Timeframe,
    TimeframeLike,
    check_canonical,
    check_symbol,
    detect_timeframe,
    make_canonical,
)
from axon_lab.data.instruments import default_instrument, infer_tick_size
from axon_lab.data.live import FeedGapWarning, LiveMarketView
from axon_lab.data.loaders import load_csv, load_ohlcv, load_parquet
from axon_lab.data.report import DataRepairWarning, DroppedBar, Gap, ValidationReport
from axon_lab.data.resample import resample_ohlcv
from axon_lab.data.samples import SampleInfo, list_samples, load_sample, sample_path
from axon_lab.data.synthetic import DEFAULT_REGIMES, Regime, make_synthetic
from axon_lab.data.universe import Universe, align_universe
from axon_lab.data.universe_load import load_universe, make_synthetic_universe
from axon_lab.data.universe_samples import (
    UniverseSampleInfo,
    list_universe_samples,
    load_universe_sample,
)
from axon_lab.data.universe_view import FEATURES as UNIVERSE_FEATURES
from axon_lab.data.universe_view import UniverseView
from axon_lab.data.validation import validate_ohlcv
from axon_lab.data.view import MarketView

__all__ = [
    # canonical frame
    "OPEN",
    "HIGH",
    "LOW",
    "CLOSE",
    "VOLUME",
    "PRICE_COLUMNS",
    "OHLCV_COLUMNS",
    "INDEX_NAME",
    "Timeframe",
    "TimeframeLike",
    "detect_timeframe",
    "check_canonical",
    "check_symbol",
    "make_canonical",
    # loading
    "load_ohlcv",
    "load_csv",
    "load_parquet",
    # validation
    "validate_ohlcv",
    "ValidationReport",
    "DroppedBar",
    "Gap",
    "DataRepairWarning",
    "find_gaps",
    # samples and synthetic data
    "SampleInfo",
    "list_samples",
    "load_sample",
    "sample_path",
    # instruments (what a venue accepts) when the user names none
    "default_instrument",
    "infer_tick_size",
    "make_synthetic",
    "Regime",
    "DEFAULT_REGIMES",
    # transforms
    "resample_ohlcv",
    "compute_features",
    "DEFAULT_FEATURES",
    "returns",
    "log_returns",
    "sma",
    "ema",
    "rsi",
    "atr",
    "bollinger",
    "Bollinger",
    "rolling_volatility",
    "macd",
    "Macd",
    # point-in-time access
    "MarketView",
    # a live view fed by an exchange (ccxt)
    "LiveMarketView",
    "FeedGapWarning",
    # time-stamped text, point-in-time
    "DocumentFeed",
    "load_documents",
    "make_documents",
    # many symbols on one clock
    "Universe",
    "align_universe",
    "load_universe",
    "make_synthetic_universe",
    "UniverseSampleInfo",
    "list_universe_samples",
    "load_universe_sample",
    "UniverseView",
    "UNIVERSE_FEATURES",
]
