"""Default instruments: what a venue accepts for a symbol, when the user names no venue.

A backtest that trades 0.000037 BTC or 0.3 shares of a stock that trades in whole shares tells
nothing about a real account. Every agent therefore runs with an
:class:`~axon_lab.records.Instrument` per symbol: the user's own (``make_agent(instruments=...)``,
or a venue's rules), else the defaults here.

* The bundled samples carry the rules of the market they come from (each entry's ``source``
  says which): crypto spot (tick 0.01, lot 0.00001, minimum notional 5), US equities (whole
  shares), spot FX (micro lots of 1,000 units, a tick of 0.1 pip).
* Any other symbol gets a tick inferred from its own prices (the finest decimal step they use)
  and no lot or minimum: nothing is invented about a venue we do not know.

Examples:
    >>> default_instrument("BTC-USD").lot_size, default_instrument("BTC-USD").min_notional
    (1e-05, 5.0)
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"open": [1.25, 1.5], "high": [1.75, 1.5], "low": [1.0, 1.25],
    ...                       "close": [1.5, 1.25]})
    >>> mine = default_instrument("MYCOIN", frame)
    >>> mine.tick_size, mine.lot_size, mine.source.startswith("inferred from the data")
    (0.01, None, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.records import Instrument

__all__ = ["default_instrument", "infer_tick_size"]

_CRYPTO: dict[str, Any] = {
    "tick_size": 0.01,
    "lot_size": 1e-05,
    "min_notional": 5.0,
    "source": "bundled default: a crypto spot venue's BTC/USD rules (tick 0.01, lot 0.00001, "
    "minimum notional 5)",
}
_US_EQUITY: dict[str, Any] = {
    "lot_size": 1.0,
    "min_quantity": 1.0,
    "source": "bundled default: US equity in whole shares; tick inferred from the data "
    "(split-adjusted prices sit below a cent)",
}
_FX: dict[str, Any] = {
    "tick_size": 1e-05,
    "lot_size": 1000.0,
    "min_quantity": 1000.0,
    "source": "bundled default: spot FX in micro lots of 1,000 units, tick 0.1 pip",
}
_BUNDLED: dict[str, dict[str, Any]] = {
    "BTC-USD": _CRYPTO,
    **dict.fromkeys(("AAPL", "MSFT", "IBM", "GOOG", "GOOGL", "NVDA", "AMZN"), _US_EQUITY),
    "EURUSD": _FX,
}
# the finest tick inferred; prices with more decimals are float noise or adjusted series
_MAX_DECIMALS = 8
_SAMPLE = 5_000


def infer_tick_size(prices: Any) -> float | None:
    """The coarsest decimal step (1, 0.1, 0.01, ...) every price is a multiple of.

    Returns None when no step down to 1e-8 fits (e.g. adjusted prices with full float
    precision): the tick is then unknown, and prices are not rounded.
    """
    values = np.asarray(prices, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    if values.size > _SAMPLE:
        values = values[:: math.ceil(values.size / _SAMPLE)]
    for decimals in range(_MAX_DECIMALS + 1):
        scaled = values * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return round(10.0**-decimals, decimals)
    return None


def default_instrument(
    symbol: str, frame: pd.DataFrame | None = None, *, fee_rate: float = 0.0
) -> Instrument:
    """The instrument an agent on ``symbol`` trades when the user gives none.

    Args:
        symbol: The symbol.
        frame: Its OHLC bars, to infer the tick from (when the bundled rules name none).
        fee_rate: The fee rate charged on fills (maker and taker alike).
    """
    known = dict(_BUNDLED.get(symbol, {}))
    if not known:
        known["source"] = (
            "inferred from the data: tick from the prices' decimals, no lot or minimum known; "
            "pass instruments=... with your venue's rules"
        )
    if "tick_size" not in known and frame is not None:
        columns = [c for c in ("open", "high", "low", "close") if c in frame.columns]
        known["tick_size"] = infer_tick_size(frame[columns].to_numpy()) if columns else None
    return Instrument(symbol=symbol, maker_fee=fee_rate, taker_fee=fee_rate, **known)
