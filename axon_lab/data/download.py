"""Exchange downloads into a Parquet cache: incremental, deduplicated, validated on write.

:func:`fetch_ohlcv` downloads closed bars of one symbol and timeframe through ccxt (install
``axon-lab[exchange]``) into ``<cache>/<exchange>/<BASE-QUOTE>_<timeframe>.parquet``. It asks only
for bars the cache lacks (before its first bar when ``since`` is earlier, after its last bar
always), merges them with what is cached (a bar fetched twice is kept once), validates the whole
frame with :func:`~axon_lab.data.validate_ohlcv` (``strict``) and writes it after every page, so
an interrupted download keeps what it had and the next run resumes after it. The bar still
forming at the exchange is never written.

:func:`load_cached` reads a cached download back; :func:`cached_path` resolves the name
``"<exchange>:<symbol>:<timeframe>"`` (e.g. ``"binance:BTC/USDT:1h"``) that the CLI and the
agent's data loader accept.
"""

from __future__ import annotations

import importlib
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from axon_lab._imports import require
from axon_lab.errors import BackendError, ConfigError, DataError

from .frame import Timeframe, check_symbol
from .loaders import load_parquet
from .validation import validate_ohlcv

__all__ = ["cache_dir", "cached_path", "fetch_ohlcv", "load_cached"]

_TRIES = 3
_NAME = re.compile(r"^(?P<exchange>[a-z0-9]+):(?P<symbol>[^:\s]+):(?P<timeframe>[0-9]+[smhdwM])$")


def cache_dir(root: str | Path | None = None) -> Path:
    """The download cache: ``root``, else ``$AXON_DATA_CACHE``, else ``./data/cache``."""
    if root is not None:
        return Path(root).expanduser()
    return Path(os.environ.get("AXON_DATA_CACHE", "data/cache")).expanduser()


def _file(exchange: str, symbol: str, timeframe: str, root: str | Path | None) -> Path:
    check_symbol(symbol, hint="pass the exchange's symbol, e.g. 'BTC/USDT'")
    safe = symbol.replace("/", "-").replace(":", "_")
    return cache_dir(root) / exchange / f"{safe}_{timeframe}.parquet"


def cached_path(name: str, root: str | Path | None = None) -> Path | None:
    """The cache file of ``"<exchange>:<symbol>:<timeframe>"``, or None if it is not cached.

    Examples:
        >>> cached_path("not a name") is None
        True
    """
    match = _NAME.match(name)
    if match is None:
        return None
    path = _file(match["exchange"], match["symbol"], match["timeframe"], root)
    return path if path.exists() else None


def load_cached(
    exchange: str, symbol: str, timeframe: str, *, root: str | Path | None = None
) -> pd.DataFrame:
    """A cached download as a canonical frame.

    Raises:
        DataError: If nothing is cached for it (the message gives the command that fetches it).
    """
    path = _file(exchange, symbol, timeframe, root)
    if not path.exists():
        raise DataError(
            f"nothing cached for {exchange} {symbol} {timeframe} (looked for {path}); fetch it "
            f"with: axon-lab data fetch --exchange {exchange} --symbol {symbol} "
            f"--timeframe {timeframe} --since YYYY-MM-DD"
        )
    return load_parquet(path, symbol=symbol, timeframe=timeframe, validation="strict")


def _progress(total: int, desc: str) -> Any:
    # lazy: tqdm.auto may import ipywidgets (and tqdm ships no type stubs)
    tqdm = importlib.import_module("tqdm.auto").tqdm
    return tqdm(total=total, desc=desc, unit="bar")


def fetch_ohlcv(
    exchange: str,
    symbol: str,
    timeframe: str,
    since: str | pd.Timestamp,
    *,
    until: str | pd.Timestamp | None = None,
    root: str | Path | None = None,
    url: str | None = None,
    config: Mapping[str, Any] | None = None,
    page: int = 1000,
    progress: bool = True,
    on_page: Callable[[int], object] | None = None,
    retry_pause: float = 0.5,
) -> Path:
    """Download the closed bars of ``symbol`` from ``since`` (to ``until``) into the cache.

    Args:
        exchange: The ccxt exchange id, e.g. ``"binance"``.
        symbol: The exchange's symbol, e.g. ``"BTC/USDT"``.
        timeframe: The bar length in the exchange's notation, e.g. ``"1h"``.
        since: The first bar wanted (UTC).
        until: Bars opening before this (UTC; default: up to the last closed bar).
        root: The cache folder (default: :func:`cache_dir`).
        url: A base URL replacing the exchange's REST hosts (a local exchange, a proxy).
        config: Extra ccxt client config.
        page: Bars per request.
        progress: Show a tqdm progress bar.
        on_page: Called with the number of bars written after each page.
        retry_pause: Seconds before the first retry of a failed page (doubling each time).

    Returns:
        The cache file.

    Raises:
        ConfigError: On a bad argument or an exchange ccxt does not know.
        DataError: If the exchange's bars fail validation (nothing is written then).
        MissingDependencyError: If ccxt is not installed.
        BackendError: If the exchange stops answering (what was fetched stays cached; rerun to
            resume).
    """
    tf = Timeframe.parse(timeframe)
    start = _utc(since, "since")
    end = _utc(until, "until") if until is not None else None
    if not (isinstance(page, int) and page >= 1):
        raise ConfigError(f"page={page!r} must be an integer >= 1")
    path = _file(exchange, symbol, timeframe, root)
    cached = load_cached(exchange, symbol, timeframe, root=root) if path.exists() else None
    client = _client(exchange, config, url)
    step = tf.delta
    now = pd.Timestamp(int(client.milliseconds()), unit="ms", tz="UTC")
    stop = min(end, now) if end is not None else now
    ranges = []  # [from, to) ranges of bar open times the cache lacks
    if cached is None or cached.empty:
        ranges.append((start, stop))
    else:
        if start < cached.index[0]:
            ranges.append((start, cached.index[0]))
        ranges.append((max(start, cached.index[-1] + step), stop))
    total = sum(max(int((b - a) / step), 0) for a, b in ranges)
    bar = _progress(total, f"{exchange} {symbol} {timeframe}") if progress else None
    frame = cached
    try:
        for lo, hi in ranges:
            cursor = lo
            while cursor < hi:
                rows = _page(client, symbol, timeframe, cursor, page, frame, retry_pause)
                new = _frame(rows, symbol, timeframe)
                new = new[(new.index >= cursor) & (new.index < hi) & (new.index <= now - step)]
                if new.empty:
                    break
                frame = _write(frame, new, path, symbol, timeframe)
                if bar is not None:
                    bar.update(len(new))
                if on_page is not None:
                    on_page(len(frame))
                cursor = new.index[-1] + step
    finally:
        if bar is not None:
            bar.close()
        close = getattr(client, "close", None)
        if callable(close):
            close()
    if frame is None:
        raise DataError(
            f"{exchange} returned no closed {timeframe} bars of {symbol} from {start} to {stop}; "
            "check the symbol, the timeframe and the dates"
        )
    return path


def _client(exchange: str, config: Mapping[str, Any] | None, url: str | None) -> Any:
    ccxt = require("ccxt", "exchange", purpose="downloading market data")
    cls = getattr(ccxt, exchange, None)
    if cls is None or not isinstance(cls, type):
        import difflib

        close = difflib.get_close_matches(exchange, list(ccxt.exchanges), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"ccxt has no exchange {exchange!r}.{hint}")
    options = {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}
    cfg = {"enableRateLimit": True, **dict(config or {})}
    cfg["options"] = {**options, **dict(cfg.get("options") or {})}
    client = cls(cfg)
    if url is not None:
        from axon_lab.backends import override_urls

        client.urls["api"] = override_urls(client.urls["api"], url)
    return client


def _page(
    client: Any,
    symbol: str,
    timeframe: str,
    cursor: pd.Timestamp,
    page: int,
    have: Any,
    pause: float,
) -> list[list[Any]]:
    """One page of bars from ``cursor``; network errors are retried, then reported."""
    ccxt = require("ccxt", "exchange", purpose="downloading market data")
    attempt = 0
    while True:
        try:
            rows: list[list[Any]] = client.fetch_ohlcv(
                symbol, timeframe, int(cursor.timestamp() * 1000), page
            )
            return rows
        except ccxt.NetworkError as exc:
            attempt += 1
            if attempt == _TRIES:
                cached = 0 if have is None else len(have)
                raise BackendError(
                    f"the download of {symbol} {timeframe} stopped at {cursor} after {_TRIES} "
                    f"tries ({type(exc).__name__}: {exc}); {cached} bars are cached. Rerun the "
                    "same command to resume from there."
                ) from exc
            time.sleep(pause * 2 ** (attempt - 1))
        except ccxt.BaseError as exc:
            raise ConfigError(f"the exchange refused the download of {symbol}: {exc}") from exc


def _utc(value: str | pd.Timestamp, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(f"{name}={value!r} is not a date; use e.g. '2022-01-01'") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _frame(rows: list[list[Any]], symbol: str, timeframe: str) -> pd.DataFrame:
    columns = ["timestamp", "open", "high", "low", "close", "volume"]
    raw = pd.DataFrame([r[:6] for r in rows], columns=columns)
    raw.index = pd.DatetimeIndex(pd.to_datetime(raw.pop("timestamp"), unit="ms", utc=True))
    raw.index.name = "timestamp"
    return raw.astype("float64")


def _write(
    old: pd.DataFrame | None, new: pd.DataFrame, path: Path, symbol: str, timeframe: str
) -> pd.DataFrame:
    both = new if old is None else pd.concat([old[list(new.columns)], new])
    both = both[~both.index.duplicated(keep="last")].sort_index()
    checked, _ = validate_ohlcv(
        both, "strict", timeframe, symbol=symbol, source=f"{symbol} {timeframe} download"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    out = checked.copy()
    out.attrs = {"symbol": symbol, "timeframe": checked.attrs.get("timeframe", timeframe)}
    out.to_parquet(tmp)
    tmp.replace(path)  # atomic: a kill mid-write leaves the previous file whole
    return checked
