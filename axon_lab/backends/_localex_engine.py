"""The local exchange's matching engine: the sim backend's fill model behind Binance-shaped records.

:class:`LocalExchangeEngine` owns one :class:`~axon_lab.backends.SimTradingBackend` (streaming,
one account) and translates between it and the JSON objects Binance's spot REST API returns
(orders, trades, balances, klines, tickers), so that ccxt's Binance client parses them unchanged.
Fills are the sim kernel's: a market order fills at the next bar's open, limit orders once a bar
crosses them, buys capped by cash (the rest of a market order EXPIRES, as Binance reports an
order it could only part-fill), sells by the position.

What differs from the sim backend, as an exchange would do it:

* Limit orders lock their funds: one the free balance cannot cover is refused with Binance's
  ``-2010 Account has insufficient balance for requested action.``
* Orders breaking a symbol's filters (tick, lot, minimum notional) are refused with ``-1013``.
* A client order id already used is refused (``-2010 Duplicate order sent.``), and each such
  attempt is counted in :attr:`LocalExchangeEngine.duplicate_submissions`, so a test can prove
  that a client never sent an order twice.
* One working order per symbol: the sim kernel's rule; a second one is refused (``-2010``).

Calls come from the server's event loop thread and from the test (bars, clock) thread; one lock
serialises them. The sim's coroutines never suspend, so the lock is never held across a wait.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from axon_lab.clock import Clock
from axon_lab.errors import ConfigError
from axon_lab.records import (
    Fill,
    Instrument,
    OrderAck,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

from ._localex_json import kline_rows, market_json, ms, num, ticker_json
from .sim import SimTradingBackend

__all__ = ["ExchangeApiError", "LocalExchangeEngine"]

INSUFFICIENT = "Account has insufficient balance for requested action."


class ExchangeApiError(Exception):
    """An error answer of the local exchange: HTTP status, Binance code and message.

    (Not an AxonError: it never leaves the server; the app turns it into a JSON error body.)
    """

    def __init__(self, code: int, msg: str, *, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


@dataclass
class _Order:
    order_id: int
    sim_id: str
    request: OrderRequest
    symbol_id: str
    created: int
    cancelled_by_user: bool = False
    trade_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Trade:
    trade_id: int
    order_id: int
    fill: Fill
    quantity: float
    visible_from: int  # the engine's reveal step from which this piece is reported


class LocalExchangeEngine:
    """One spot account on a sim-backed order book, in Binance's record shapes.

    Args:
        bars: One canonical OHLCV frame per symbol (``"BASE/QUOTE"``), on common timestamps.
        cash: Starting balance of the quote asset.
        clock: The clock the engine follows (a test's :class:`~axon_lab.clock.SimulatedClock`,
            or a wall clock for demos).
        fees: Fee per fill as a fraction of notional (charged in the quote asset).
        instruments: Tick, lot and minimum-notional rules per symbol (default: tick 1e-8,
            lot 1e-8, no minimum).
        timeframe: The bar length, when the frames do not carry ``attrs["timeframe"]``.

    Raises:
        ConfigError: If symbols are not ``BASE/QUOTE`` with one common quote asset.
    """

    def __init__(
        self,
        bars: Mapping[str, pd.DataFrame],
        *,
        cash: float,
        clock: Clock,
        fees: float = 0.0,
        instruments: Mapping[str, Instrument] | None = None,
        timeframe: str | None = None,
    ) -> None:
        quotes = {s.partition("/")[2] for s in bars}
        if len(quotes) != 1 or "" in quotes or any(s.count("/") != 1 for s in bars):
            raise ConfigError(
                f"local exchange symbols must be 'BASE/QUOTE' with one quote asset, got "
                f"{sorted(bars)}; e.g. {{'BTC/USDT': frame}}"
            )
        self.quote = quotes.pop()
        self._lock = threading.RLock()
        self._clock = clock
        self._fees = float(fees)
        self._frames = {s: f.sort_index() for s, f in bars.items()}
        self._sim = SimTradingBackend(
            dict(self._frames),
            cash=cash,
            fees=fees,
            clock=clock,
            timeframe=timeframe,
            streaming=True,
            on_second_order="reject",
        )
        self.timeframe = self._sim.timeframe
        self._tf = pd.Timedelta(self.timeframe)
        self.instruments = {
            s: (instruments or {}).get(s)
            or Instrument(symbol=s, tick_size=1e-8, lot_size=1e-8, source="local exchange")
            for s in bars
        }
        self.symbol_ids = {s.replace("/", ""): s for s in bars}
        self._orders: dict[int, _Order] = {}
        self._by_client: dict[str, int] = {}
        self._trades: list[_Trade] = []
        self._fills_seen = 0
        self._reveal_step = 0
        #: Pieces each fill is reported in (a partial-fill fault: one more piece per reveal).
        self.fill_pieces = 1
        #: Orders whose client order id was sent again (a client that double-submitted).
        self.duplicate_submissions = 0

    # ------------------------------------------------------------------ market (test side)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the engine lock (for a test that moves the clock and bars together)."""
        with self._lock:
            yield

    def append_bars(self, bars: Mapping[str, pd.DataFrame]) -> None:
        """Append newer bars of every symbol (see :meth:`SimTradingBackend.append_bars`)."""
        with self._lock:
            self._sim.append_bars(dict(bars))
            for s, frame in bars.items():
                self._frames[s] = pd.concat([self._frames[s], frame])
            self._collect()

    def advance_to(self, t: datetime) -> None:
        """Move the clock to ``t`` and fill what the bars complete by then fill."""
        with self._lock:
            self._sim.advance_to(t)
            self._collect()

    def reveal(self) -> None:
        """Report one more piece of every fill split by a partial-fill fault."""
        with self._lock:
            self._reveal_step += 1

    def price(self, symbol: str) -> float:
        """The close of ``symbol``'s last complete bar."""
        with self._lock:
            return self._sim.price(symbol)

    def orders_sent(self) -> int:
        """How many orders the exchange accepted or refused (each once)."""
        return len(self._orders)

    # ------------------------------------------------------------------ REST side

    def server_time(self) -> int:
        """The engine clock in Unix ms."""
        return ms(self._clock.now())

    def symbol_of(self, symbol_id: str | None) -> str:
        """The ``BASE/QUOTE`` symbol of a Binance symbol id.

        Raises:
            ExchangeApiError: ``-1121 Invalid symbol.``
        """
        symbol = self.symbol_ids.get(symbol_id or "")
        if symbol is None:
            raise ExchangeApiError(-1121, "Invalid symbol.")
        return symbol

    def exchange_info(self) -> dict[str, Any]:
        """``GET /api/v3/exchangeInfo``."""
        symbols = [
            market_json(sid, sym, self.instruments[sym]) for sid, sym in self.symbol_ids.items()
        ]
        return {
            "timezone": "UTC",
            "serverTime": self.server_time(),
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": symbols,
        }

    def klines(
        self, symbol_id: str | None, interval: str | None, start: int | None, end: int | None,
        limit: int,
    ) -> list[list[Any]]:  # fmt: skip
        """``GET /api/v3/klines``: complete bars only (the engine has no intrabar data)."""
        symbol = self.symbol_of(symbol_id)
        if not _same_timeframe(interval, self.timeframe):
            raise ExchangeApiError(-1120, f"Invalid interval: this exchange has {self.timeframe}.")
        with self._lock:
            frame = self._frames[symbol]
            now = pd.Timestamp(self._clock.now())
            frame = frame[frame.index <= now - self._tf]
        if start is not None:
            frame = frame[frame.index >= pd.Timestamp(start, unit="ms", tz="UTC")]
        if end is not None:
            frame = frame[frame.index <= pd.Timestamp(end, unit="ms", tz="UTC")]
        frame = frame.iloc[: max(1, min(limit, 1000))]
        return kline_rows(frame, self._tf)

    def ticker(self, symbol_id: str | None) -> dict[str, Any]:
        """``GET /api/v3/ticker/24hr`` of one symbol (last price = the last complete close)."""
        symbol = self.symbol_of(symbol_id)
        last = self.price(symbol)
        return ticker_json(str(symbol_id), last, self.server_time())

    def account(self) -> dict[str, Any]:
        """``GET /api/v3/account``: free and locked balance per asset."""
        with self._lock:
            self._collect()
            snap = self._sim._portfolio()  # the sim is synced by _collect
            # a fill reported piece by piece moves the balances piece by piece, as on a venue
            cash, held_by = snap.cash, {s: snap.quantity(s) for s in self.symbol_ids.values()}
            for t in self._trades:
                if t.visible_from > self._reveal_step:
                    sign = 1.0 if t.fill.side is Side.BUY else -1.0
                    share = t.quantity / t.fill.quantity
                    cash += sign * t.quantity * t.fill.price + t.fill.fee * share
                    held_by[t.fill.symbol] -= sign * t.quantity
            locked_quote = 0.0
            locked_base: dict[str, float] = {}
            for o in self._open():
                remaining = o.request.quantity - self._filled(o)
                if o.request.side is Side.BUY and o.request.price is not None:
                    locked_quote += remaining * o.request.price * (1 + self._fees)
                elif o.request.side is Side.SELL:
                    locked_base[o.request.symbol] = (
                        locked_base.get(o.request.symbol, 0.0) + remaining
                    )
            balances = [
                {
                    "asset": self.quote,
                    "free": num(max(cash - locked_quote, 0.0)),
                    "locked": num(min(locked_quote, max(cash, 0.0))),
                }
            ]
            for sym in self.symbol_ids.values():
                held = held_by[sym]
                lock = min(locked_base.get(sym, 0.0), held)
                balances.append(
                    {"asset": sym.partition("/")[0], "free": num(held - lock), "locked": num(lock)}
                )
        return {
            "makerCommission": 0,
            "takerCommission": 0,
            "canTrade": True,
            "canWithdraw": False,
            "canDeposit": False,
            "updateTime": self.server_time(),
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
        }

    async def create_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``POST /api/v3/order``.

        Raises:
            ExchangeApiError: On a refused order (Binance's codes and messages).
        """
        symbol = self.symbol_of(params.get("symbol"))
        request = self._request(symbol, params)
        with self._lock:
            if request.client_order_id in self._by_client:
                self.duplicate_submissions += 1
                raise ExchangeApiError(-2010, "Duplicate order sent.")
            self._check_filters(request)
            self._check_funds(request)
            ack = await self._sim.place_order(request)
            if ack.status is OrderStatus.REJECTED:
                raise ExchangeApiError(-2010, f"Order rejected: {ack.message}")
            order = _Order(
                order_id=len(self._orders) + 1,
                sim_id=ack.order_id,
                request=request,
                symbol_id=str(params.get("symbol")),
                created=self.server_time(),
            )
            self._orders[order.order_id] = order
            self._by_client[request.client_order_id] = order.order_id
            self._collect()
            return {**self._order_json(order), "transactTime": order.created}

    async def cancel_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``DELETE /api/v3/order``.

        Raises:
            ExchangeApiError: ``-2011 Unknown order sent.`` for unknown or closed orders.
        """
        with self._lock:
            self._collect()
            try:
                order = self._find(params, orig="origClientOrderId")
            except ExchangeApiError:
                raise ExchangeApiError(-2011, "Unknown order sent.") from None
            if order not in self._open():
                raise ExchangeApiError(-2011, "Unknown order sent.")
            await self._sim.cancel_order(order.sim_id)
            order.cancelled_by_user = True
            return self._order_json(order)

    async def cancel_replace(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``POST /api/v3/order/cancelReplace`` (mode STOP_ON_FAILURE)."""
        cancel = {
            "symbol": params.get("symbol", ""),
            "orderId": params.get("cancelOrderId", ""),
            "origClientOrderId": params.get("cancelOrigClientOrderId", ""),
        }
        with self._lock:
            cancelled = await self.cancel_order({k: v for k, v in cancel.items() if v})
            created = await self.create_order(params)
        return {
            "cancelResult": "SUCCESS",
            "newOrderResult": "SUCCESS",
            "cancelResponse": cancelled,
            "newOrderResponse": created,
        }

    def get_order(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``GET /api/v3/order`` by ``orderId`` or ``origClientOrderId``."""
        with self._lock:
            self._collect()
            return self._order_json(self._find(params, orig="origClientOrderId"))

    def open_orders(self, symbol_id: str | None) -> list[dict[str, Any]]:
        """``GET /api/v3/openOrders`` (all symbols without ``symbol``)."""
        if symbol_id is not None:
            self.symbol_of(symbol_id)
        with self._lock:
            self._collect()
            return [
                self._order_json(o)
                for o in self._open()
                if symbol_id is None or o.symbol_id == symbol_id
            ]

    def my_trades(
        self, symbol_id: str | None, *, order_id: int | None, start: int | None,
        from_id: int | None, limit: int,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """``GET /api/v3/myTrades`` of one symbol, oldest first."""
        symbol = self.symbol_of(symbol_id)
        with self._lock:
            self._collect()
            out = []
            for t in self._visible():
                if t.fill.symbol != symbol or (order_id is not None and t.order_id != order_id):
                    continue
                if from_id is not None and t.trade_id < from_id:
                    continue
                if start is not None and ms(t.fill.timestamp) < start:
                    continue
                out.append(self._trade_json(t))
            return out[: max(1, min(limit, 1000))]

    # ------------------------------------------------------------------ internals

    def _request(self, symbol: str, params: Mapping[str, str]) -> OrderRequest:
        kind = params.get("type", "")
        if kind not in ("MARKET", "LIMIT"):
            raise ExchangeApiError(-1116, f"Invalid orderType: {kind!r} (MARKET or LIMIT).")
        side = params.get("side", "")
        if side not in ("BUY", "SELL"):
            raise ExchangeApiError(-1117, "Invalid side.")
        try:
            quantity = float(params["quantity"])
            price = float(params["price"]) if kind == "LIMIT" else None
        except (KeyError, ValueError):
            raise ExchangeApiError(
                -1102, "Mandatory parameter 'quantity' (and 'price' for LIMIT) was not sent."
            ) from None
        cid = params.get("newClientOrderId") or f"srv-{len(self._orders) + 1}"
        tif = {"IOC": TimeInForce.IOC}.get(params.get("timeInForce", ""), TimeInForce.GTC)
        try:
            return OrderRequest(
                client_order_id=cid,
                symbol=symbol,
                side=Side.BUY if side == "BUY" else Side.SELL,
                quantity=quantity,
                order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
                price=price,
                time_in_force=tif,
            )
        except ValueError as exc:
            raise ExchangeApiError(-1013, f"Invalid order: {exc}") from None

    def _check_filters(self, request: OrderRequest) -> None:
        ins = self.instruments[request.symbol]
        problem = ins.request_problem(request, self._sim.price(request.symbol))
        if problem:
            kind = (
                "NOTIONAL" if "notional" in problem
                else "PRICE_FILTER" if "tick" in problem
                else "LOT_SIZE"
            )  # fmt: skip
            raise ExchangeApiError(-1013, f"Filter failure: {kind} ({problem})")

    def _check_funds(self, request: OrderRequest) -> None:
        if request.price is None:
            return  # market orders: the fill model caps them and expires the rest
        balances = {b["asset"]: float(b["free"]) for b in self.account()["balances"]}
        base = request.symbol.partition("/")[0]
        if request.side is Side.BUY:
            need, have = request.quantity * request.price * (1 + self._fees), balances[self.quote]
        else:
            need, have = request.quantity, balances[base]
        if need > have * (1 + 1e-12):
            raise ExchangeApiError(-2010, INSUFFICIENT)

    def _find(self, params: Mapping[str, str], *, orig: str) -> _Order:
        raw_id, cid = params.get("orderId"), params.get(orig) or params.get("clientOrderId")
        order_id = self._by_client.get(cid or "") if raw_id is None else _int(raw_id)
        order = self._orders.get(order_id or -1)
        if order is None or (params.get("symbol") and order.symbol_id != params.get("symbol")):
            raise ExchangeApiError(-2013, "Order does not exist.")
        return order

    def _ack(self, order: _Order) -> OrderAck:
        # the sim's ack for an order (a resubmission of its request is idempotent)
        return self._sim._orders[order.sim_id].to_ack()

    def _open(self) -> list[_Order]:
        live = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.NEW)
        return [o for o in self._orders.values() if self._ack(o).status in live]

    def _collect(self) -> None:
        """Turn the sim's new fills into trades (split into pieces under a partial-fill fault)."""
        self._sim.price(next(iter(self.symbol_ids.values())))  # syncs the sim to the clock
        new = self._sim.fills_since(self._fills_seen)
        self._fills_seen += len(new)
        by_sim = {o.sim_id: o for o in self._orders.values()}
        for fill in new:
            order = by_sim.get(fill.order_id)
            if order is None:
                continue  # (the sim's own SL/TP exits; never created through the REST API)
            pieces = max(1, self.fill_pieces)
            for i in range(pieces):
                trade = _Trade(
                    trade_id=len(self._trades) + 1,
                    order_id=order.order_id,
                    fill=fill,
                    quantity=fill.quantity / pieces,
                    visible_from=self._reveal_step + i,
                )
                self._trades.append(trade)
                order.trade_ids.append(trade.trade_id)

    def _visible(self) -> list[_Trade]:
        return [t for t in self._trades if t.visible_from <= self._reveal_step]

    def _filled(self, order: _Order) -> float:
        return math.fsum(t.quantity for t in self._visible() if t.order_id == order.order_id)

    def _order_json(self, order: _Order) -> dict[str, Any]:
        ack = self._ack(order)
        filled = self._filled(order)
        quote_qty = math.fsum(
            t.quantity * t.fill.price for t in self._visible() if t.order_id == order.order_id
        )
        status = {
            OrderStatus.ACCEPTED: "NEW",
            OrderStatus.NEW: "NEW",
            OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
            OrderStatus.FILLED: "FILLED",
            OrderStatus.REJECTED: "REJECTED",
            OrderStatus.REPLACED: "CANCELED",
        }.get(ack.status, "CANCELED" if order.cancelled_by_user else "EXPIRED")
        if status == "FILLED" and filled < ack.filled_quantity * (1 - 1e-9):
            status = "PARTIALLY_FILLED"  # some of the fill is not reported yet
        req = order.request
        return {
            "symbol": order.symbol_id,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": req.client_order_id,
            "price": num(req.price or 0.0),
            "origQty": num(req.quantity),
            "executedQty": num(filled),
            "cummulativeQuoteQty": num(quote_qty),
            "status": status,
            "timeInForce": "IOC" if req.time_in_force is TimeInForce.IOC else "GTC",
            "type": req.order_type.value.upper(),
            "side": req.side.value.upper(),
            "time": order.created,
            "updateTime": self.server_time(),
            "isWorking": True,
            "workingTime": order.created,
            "origQuoteOrderQty": "0",
            "selfTradePreventionMode": "NONE",
        }

    def _trade_json(self, trade: _Trade) -> dict[str, Any]:
        fill = trade.fill
        share = trade.quantity / fill.quantity
        return {
            "symbol": fill.symbol.replace("/", ""),
            "id": trade.trade_id,
            "orderId": trade.order_id,
            "orderListId": -1,
            "price": num(fill.price),
            "qty": num(trade.quantity),
            "quoteQty": num(trade.quantity * fill.price),
            "commission": num(fill.fee * share),
            "commissionAsset": self.quote,
            "time": ms(fill.timestamp),
            "isBuyer": fill.side is Side.BUY,
            "isMaker": False,
            "isBestMatch": True,
        }


def _int(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        return None


def from_ms(value: int) -> datetime:
    """Unix milliseconds as an aware UTC datetime."""
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _same_timeframe(interval: str | None, timeframe: str) -> bool:
    from axon_lab.data import Timeframe

    try:
        return Timeframe.parse(interval or "") == Timeframe.parse(timeframe)
    except ValueError:
        return False
