"""Binance's spot REST record shapes, as the local exchange writes them.

Pure functions from our values to the JSON objects ccxt's ``binance`` client parses: markets
(``exchangeInfo`` symbols with their filters), klines and 24-hour tickers. Numbers are strings, as
Binance sends them, written exactly (the shortest form that reads back to the same float).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd

from axon_lab.records import Instrument

__all__ = ["kline_rows", "market_json", "ms", "num", "ticker_json"]

_DEFAULT_STEP = 1e-8
_HUGE = "100000000000"


def ms(t: datetime) -> int:
    """``t`` as Unix milliseconds."""
    return round(t.timestamp() * 1000)


def num(x: float) -> str:
    """A number as Binance writes it: a string (the shortest that reads back to the same float)."""
    return repr(float(x)) if math.isfinite(x) else "0"


def market_json(symbol_id: str, symbol: str, ins: Instrument) -> dict[str, Any]:
    """One ``exchangeInfo`` symbol: assets, status and the PRICE, LOT and NOTIONAL filters."""
    base, _, quote = symbol.partition("/")
    tick = ins.tick_size or _DEFAULT_STEP
    lot = ins.lot_size or _DEFAULT_STEP
    filters: list[dict[str, Any]] = [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": num(tick),
            "maxPrice": _HUGE,
            "tickSize": num(tick),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": num(max(ins.min_quantity, lot)),
            "maxQty": _HUGE,
            "stepSize": num(lot),
        },
        {
            "filterType": "NOTIONAL",
            "minNotional": num(ins.min_notional),
            "applyMinToMarket": True,
            "maxNotional": _HUGE,
            "applyMaxToMarket": False,
            "avgPriceMins": 0,
        },
    ]
    return {
        "symbol": symbol_id,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": filters,
        "permissions": [],
        "permissionSets": [["SPOT"]],
    }


def kline_rows(frame: pd.DataFrame, timeframe: pd.Timedelta) -> list[list[Any]]:
    """``klines`` rows of an OHLCV frame: open time, OHLCV, close time, quote volume, ..."""
    tf_ms = int(timeframe.total_seconds() * 1000)
    volume = frame["volume"] if "volume" in frame else pd.Series(0.0, index=frame.index)
    rows: list[list[Any]] = []
    for t, o, h, lo, c, v in zip(
        frame.index, frame["open"], frame["high"], frame["low"], frame["close"], volume,
        strict=True,
    ):  # fmt: skip
        open_ms = ms(t.to_pydatetime())
        rows.append(
            [open_ms, num(o), num(h), num(lo), num(c), num(v), open_ms + tf_ms - 1,
             num(v * c), 1, "0", "0", "0"]
        )  # fmt: skip
    return rows


def ticker_json(symbol_id: str, last: float, now_ms: int) -> dict[str, Any]:
    """A 24-hour ticker whose prices are all ``last`` (the engine has no intrabar quotes)."""
    price = num(last)
    return {
        "symbol": symbol_id,
        "lastPrice": price,
        "bidPrice": price,
        "askPrice": price,
        "openPrice": price,
        "highPrice": price,
        "lowPrice": price,
        "volume": "0",
        "quoteVolume": "0",
        "openTime": now_ms - 86_400_000,
        "closeTime": now_ms,
        "count": 0,
    }
