"""From an exchange's markets to our records: instruments, client ids, ccxt clients.

* :func:`instrument_of` turns a ccxt market (precision and limits as the exchange publishes them)
  into an :class:`~axon_lab.records.Instrument` the risk chain checks orders against.
* :func:`venue_client_id` maps our client order id onto what the venue accepts (Binance: 1-36
  characters of ``[.A-Z:/a-z0-9_-]``), deterministically, so a retry or a restarted process
  finds the same order.
* :func:`make_client` builds a ccxt async client, optionally pointed at another base URL.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from axon_lab._imports import require
from axon_lab.errors import ConfigError
from axon_lab.records import Instrument

__all__ = ["instrument_of", "make_client", "override_urls", "venue_client_id"]

_VENUE_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")

# ccxt's precision modes (ccxt.base.decimal_to_precision): 2 decimal places, 3 significant
# digits, 4 tick size
_DECIMAL_PLACES, _TICK_SIZE = 2, 4


def venue_client_id(client_order_id: str) -> str:
    """The client order id sent to the venue for ours.

    Ours when the venue accepts it; else ``"ax-"`` and 32 hex digits of its SHA-256.

    Examples:
        >>> venue_client_id("run1-step3")
        'run1-step3'
        >>> venue_client_id("a~r2")
        'ax-8722776c59789b9b2cce9d3dbe47e3ad'
    """
    if _VENUE_ID.match(client_order_id):
        return client_order_id
    return "ax-" + hashlib.sha256(client_order_id.encode()).hexdigest()[:32]


def _step(value: Any, mode: int) -> float | None:
    if value is None:
        return None
    v = float(value)
    if mode == _DECIMAL_PLACES:
        return float(10.0 ** (-v))
    if mode == _TICK_SIZE:
        return v if v > 0 else None
    return None  # significant digits: no fixed grid


def instrument_of(
    symbol: str, market: Mapping[str, Any], precision_mode: int, venue: str
) -> Instrument:
    """The :class:`~axon_lab.records.Instrument` of a ccxt market, named ``symbol``."""
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    amount = limits.get("amount") or {}
    cost = limits.get("cost") or {}
    return Instrument(
        symbol=symbol,
        tick_size=_step(precision.get("price"), precision_mode),
        lot_size=_step(precision.get("amount"), precision_mode),
        min_quantity=float(amount.get("min") or 0.0),
        min_notional=float(cost.get("min") or 0.0),
        maker_fee=float(market.get("maker") or 0.0),
        taker_fee=float(market.get("taker") or 0.0),
        source=f"{venue} markets via ccxt",
    )


def override_urls(api: Mapping[str, Any], base: str) -> dict[str, Any]:
    """Ccxt's ``urls['api']`` with every URL's scheme and host replaced by ``base``.

    Paths are kept (``https://api.binance.com/api/v3`` -> ``<base>/api/v3``), so one server
    answers every API group a client addresses.
    """
    from urllib.parse import urlsplit

    out: dict[str, Any] = {}
    for name, url in api.items():
        if isinstance(url, str):
            out[name] = base.rstrip("/") + urlsplit(url).path
        elif isinstance(url, Mapping):
            out[name] = override_urls(url, base)
        else:
            out[name] = url
    return out


def make_client(exchange: str, config: Mapping[str, Any], url: str | None) -> Any:
    """A ccxt async client of ``exchange`` built with ``config``, its REST URLs moved to ``url``.

    Raises:
        MissingDependencyError: If ccxt is not installed (the ``exchange`` extra).
        ConfigError: If ccxt has no such exchange.
    """
    ccxt = require("ccxt.async_support", "exchange", purpose="the exchange backend")
    cls = getattr(ccxt, exchange, None)
    if cls is None or not isinstance(cls, type):
        import difflib

        close = difflib.get_close_matches(exchange, list(ccxt.exchanges), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"ccxt has no exchange {exchange!r}.{hint}")
    client = cls(dict(config))
    if url is not None:
        client.urls["api"] = override_urls(client.urls["api"], url)
    return client
