"""The local exchange's HTTP routes: the subset of Binance's spot REST API that ccxt's client uses.

Public: ``/api/v3/ping``, ``time``, ``exchangeInfo``, ``klines``, ``ticker/24hr``. Signed:
``account``, ``order`` (POST, GET, DELETE), ``order/cancelReplace``, ``openOrders``,
``myTrades``. A signed request must carry the ``X-MBX-APIKEY`` header of the configured key and
an HMAC-SHA256 ``signature`` of its query, as Binance checks them (stdlib :mod:`hmac`).
Errors are Binance's JSON bodies (``{"code": -2010, "msg": ...}``), so ccxt maps them onto its
exception classes as it would against the real venue.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ._localex_engine import ExchangeApiError, LocalExchangeEngine
from ._localex_faults import AFTER_ACCEPT, BEFORE, ExchangeFaults

__all__ = ["make_app"]

Handler = Callable[[dict[str, str]], Awaitable[Any]]


def _error(exc: ExchangeApiError) -> web.Response:
    return web.json_response({"code": exc.code, "msg": exc.msg}, status=exc.status)


def make_app(
    engine: Callable[[], LocalExchangeEngine],
    faults: ExchangeFaults,
    *,
    api_key: str,
    secret: str,
) -> web.Application:
    """The aiohttp application serving ``engine()`` (the current engine) with ``faults``."""

    def check_signature(request: web.Request, raw: str, params: dict[str, str]) -> None:
        if request.headers.get("X-MBX-APIKEY") != api_key:
            raise ExchangeApiError(
                -2015, "Invalid API-key, IP, or permissions for action.", status=401
            )
        unsigned, _, signature = raw.rpartition("&signature=")
        expected = hmac.new(secret.encode(), unsigned.encode(), hashlib.sha256).hexdigest()
        if "timestamp" not in params or not hmac.compare_digest(signature, expected):
            raise ExchangeApiError(-1022, "Signature for this request is not valid.")

    def route(name: str, handler: Handler, *, signed: bool) -> Callable[..., Awaitable[Any]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            if faults.latency > 0:
                await asyncio.sleep(faults.latency)
            fault = faults.take(name, BEFORE)
            if fault == "drops":
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)  # never reaches the client
            if fault == "server_errors":
                return web.Response(status=503, text="Service Unavailable")
            if fault == "rate_limits":
                return web.json_response(
                    {"code": -1003, "msg": "Too many requests; retry later."},
                    status=429,
                    headers={"Retry-After": str(faults.retry_after)},
                )
            raw = request.query_string
            if request.method == "POST":
                raw = await request.text()
            params = dict(parse_qsl(raw, keep_blank_values=True))
            try:
                if signed:
                    check_signature(request, raw, params)
                body = await handler(params)
            except ExchangeApiError as exc:
                return _error(exc)
            if request.method == "POST" and name in ("order", "cancelReplace"):
                after = faults.take(name, AFTER_ACCEPT)
                if after == "timeouts_after_accept":
                    await asyncio.sleep(faults.hang)
                elif after == "drops_after_accept":
                    if request.transport is not None:
                        request.transport.close()
                    return web.Response(status=500)  # never reaches the client
            return web.json_response(body)

        return serve

    def qint(params: dict[str, str], key: str) -> int | None:
        raw = params.get(key)
        try:
            return int(raw) if raw not in (None, "") else None
        except ValueError:
            raise ExchangeApiError(
                -1100, f"Illegal characters found in parameter {key!r}."
            ) from None

    async def ping(_: dict[str, str]) -> Any:
        return {}

    async def server_time(_: dict[str, str]) -> Any:
        return {"serverTime": engine().server_time()}

    async def exchange_info(_: dict[str, str]) -> Any:
        return engine().exchange_info()

    async def klines(p: dict[str, str]) -> Any:
        return engine().klines(
            p.get("symbol"),
            p.get("interval"),
            qint(p, "startTime"),
            qint(p, "endTime"),
            qint(p, "limit") or 500,
        )

    async def ticker(p: dict[str, str]) -> Any:
        return engine().ticker(p.get("symbol"))

    async def account(_: dict[str, str]) -> Any:
        return engine().account()

    async def create(p: dict[str, str]) -> Any:
        return await engine().create_order(p)

    async def cancel(p: dict[str, str]) -> Any:
        return await engine().cancel_order(p)

    async def get(p: dict[str, str]) -> Any:
        return engine().get_order(p)

    async def cancel_replace(p: dict[str, str]) -> Any:
        return await engine().cancel_replace(p)

    async def open_orders(p: dict[str, str]) -> Any:
        return engine().open_orders(p.get("symbol"))

    async def my_trades(p: dict[str, str]) -> Any:
        trades = engine().my_trades(
            p.get("symbol"),
            order_id=qint(p, "orderId"),
            start=qint(p, "startTime"),
            from_id=qint(p, "fromId"),
            limit=qint(p, "limit") or 500,
        )
        if faults.duplicate_fills:
            faults.injected["duplicate_fills"] += len(trades)
            trades = [t for trade in trades for t in (trade, dict(trade))]
        return trades

    app = web.Application()
    base = "/api/v3/"
    app.router.add_get(base + "ping", route("ping", ping, signed=False))
    app.router.add_get(base + "time", route("time", server_time, signed=False))
    app.router.add_get(base + "exchangeInfo", route("exchangeInfo", exchange_info, signed=False))
    app.router.add_get(base + "klines", route("klines", klines, signed=False))
    app.router.add_get(base + "ticker/24hr", route("ticker", ticker, signed=False))
    app.router.add_get(base + "account", route("account", account, signed=True))
    app.router.add_post(base + "order", route("order", create, signed=True))
    app.router.add_get(base + "order", route("getOrder", get, signed=True))
    app.router.add_delete(base + "order", route("cancel", cancel, signed=True))
    app.router.add_post(
        base + "order/cancelReplace", route("cancelReplace", cancel_replace, signed=True)
    )
    app.router.add_get(base + "openOrders", route("openOrders", open_orders, signed=True))
    app.router.add_get(base + "myTrades", route("myTrades", my_trades, signed=True))
    return app
