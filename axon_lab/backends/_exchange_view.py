"""The exchange backend's view of the venue: tracked orders, trades, prices, and their caching.

:class:`VenueView` is the part of :class:`~axon_lab.backends.ExchangeTradingBackend` that reads
the venue: it keeps the tracked orders (by our order id and by client id), applies the venue's
trades to the ledger once each (by trade id), refreshes order states and adopts orders found on
the venue. Reads are cached per (clock reading, order operations so far), so a loop's step, which
runs at one simulated time, reads the venue's trades once; a wall clock always moves on.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

from axon_lab.clock import Clock
from axon_lab.errors import BackendError
from axon_lab.records import OrderAck, OrderRequest, OrderStatus, Side

from ._exchange_markets import venue_client_id
from ._exchange_orders import TrackedOrder, fill_of, request_of
from ._exchange_session import ExchangeSession, _ccxt
from .ledger import Ledger

__all__ = ["VenueView"]

_PAGE = 1000


class VenueView:
    """Tracked orders, fills and prices read from a venue (a base of the exchange backend)."""

    quote: str
    _clock: Clock
    _session: ExchangeSession
    _venue: dict[str, str]
    _local: dict[str, str]
    _ledger: Ledger | None
    _orders: dict[str, TrackedOrder]
    _by_client: dict[str, TrackedOrder]
    _trade_ids: set[str]
    _cursor: dict[str, int]
    _marks: dict[str, float]
    _seq: int
    _ops: int
    _seen: dict[str, tuple[datetime, int]]

    async def last_price(self, symbol: str) -> float:
        """The venue's last traded price of ``symbol``.

        Raises:
            BackendError: If the symbol is not traded here or the venue stays unreachable.
        """
        venue = self._venue.get(symbol)
        if venue is None:
            raise BackendError(
                f"no price for {symbol!r}: this backend trades {sorted(self._venue)}"
            )
        if self._fresh(f"ticker:{symbol}") and symbol in self._marks:
            return self._marks[symbol]
        ticker = await self._session.call("fetch_ticker", venue)
        last = ticker.get("last") or ticker.get("close")
        if not last:
            raise BackendError(f"the exchange gave no last price for {venue!r}: {ticker!r}")
        self._marks[symbol] = float(last)
        self._mark_fresh(f"ticker:{symbol}")
        return float(last)

    def _new(self, order: OrderRequest) -> TrackedOrder:
        self._seq += 1
        tracked = TrackedOrder(
            request=order,
            venue_client_id=venue_client_id(order.client_order_id),
            order_id=f"local-{self._seq}",
            status=OrderStatus.NEW,
            updated=self._clock.now(),
            uncertain=True,
        )
        self._by_client[order.client_order_id] = tracked
        self._orders[tracked.order_id] = tracked
        return tracked

    def _index(self, tracked: TrackedOrder) -> None:
        self._orders[tracked.order_id] = tracked

    def _lookup(self, order_id: str) -> TrackedOrder:
        tracked = self._orders.get(order_id) or self._by_client.get(order_id)
        if tracked is None:
            known = [*self._orders, *self._by_client]
            close = difflib.get_close_matches(order_id, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            open_ids = [t.order_id for t in self._by_client.values() if t.is_open]
            raise BackendError(
                f"unknown order id {order_id!r}; pass an order_id or client_order_id from an "
                f"ack (open orders: {open_ids}).{hint}"
            )
        return tracked

    async def _find(self, tracked: TrackedOrder, *, retried: bool = True) -> dict[str, Any] | None:
        """The venue's record of ``tracked`` by client id; None if the venue does not know it."""
        ccxt = _ccxt()
        fetch = self._session.call if retried else self._session.once
        try:
            found: dict[str, Any] = await fetch(
                "fetch_order", None, self._venue[tracked.request.symbol],
                {"clientOrderId": tracked.venue_client_id},
            )  # fmt: skip
        except ccxt.OrderNotFound:
            return None
        return found

    def _adopt(self, tracked: TrackedOrder, order: dict[str, Any]) -> OrderAck:
        self._ops += 1
        self._orders.pop(tracked.order_id, None)
        tracked.update(order, self._clock.now())
        if tracked.status is OrderStatus.NEW:
            tracked.status = OrderStatus.ACCEPTED
        self._index(tracked)
        return tracked.to_ack()

    def _refuse(self, tracked: TrackedOrder, message: str) -> OrderAck:
        tracked.status, tracked.message, tracked.uncertain = OrderStatus.REJECTED, message, False
        tracked.updated = self._clock.now()
        return tracked.to_ack()

    def _forget(self, tracked: TrackedOrder) -> None:
        self._by_client.pop(tracked.request.client_order_id, None)
        self._orders.pop(tracked.order_id, None)

    async def _refresh(self, tracked: TrackedOrder) -> None:
        """Read an order's status from the venue (by its id, or client id if it has none)."""
        if tracked.uncertain:
            found = await self._find(tracked)
            if found is not None:
                self._adopt(tracked, found)
            return
        order = await self._session.call(
            "fetch_order", tracked.order_id, self._venue[tracked.request.symbol]
        )
        was_open = tracked.is_open
        if tracked.update(order, self._clock.now()):
            self._ops += 1
        if was_open and str(order.get("status")) == "expired":
            tracked.message = await self._expiry_reason(tracked)

    async def _expiry_reason(self, tracked: TrackedOrder) -> str:
        ledger = self._ledger
        await self._sync_fills()
        req = tracked.request
        base = tracked.message
        if ledger is None:
            return base
        if req.side is Side.BUY:
            mark = self._marks.get(req.symbol) or await self.last_price(req.symbol)
            if ledger.cash < tracked.remaining * mark:
                return f"{base}: not enough {self.quote} cash for the rest"
        elif ledger.quantity(req.symbol) < tracked.remaining:
            return f"{base}: nothing more to sell"
        return f"{base} (the exchange gave no reason)"

    def _fresh(self, kind: str) -> bool:
        return self._seen.get(kind) == (self._clock.now(), self._ops)

    def _mark_fresh(self, kind: str) -> None:
        self._seen[kind] = (self._clock.now(), self._ops)

    async def _sync_open_orders(self, *, force: bool = False) -> list[tuple[str, str]]:
        """Update tracked orders from the venue's open orders; adopt unknown ones.

        Returns:
            ``(symbol, order id)`` of the open orders this backend did not place.
        """
        if not force and self._fresh("open_orders"):
            return []
        now = self._clock.now()
        seen: set[int] = set()
        unknown: list[tuple[str, str]] = []
        by_venue_cid = {t.venue_client_id: t for t in self._by_client.values()}
        for order in await self._session.call("fetch_open_orders"):
            sym = self._local.get(str(order.get("symbol")))
            if sym is None:
                continue
            tracked = self._orders.get(str(order.get("id"))) or by_venue_cid.get(
                str(order.get("clientOrderId"))
            )
            if tracked is None:
                self._ops += 1
                cid = str(order.get("clientOrderId") or f"venue-{order.get('id')}")
                tracked = self._new(request_of(order, sym, cid))
                unknown.append((sym, str(order.get("id"))))
                self._adopt(tracked, order)
            else:
                if tracked.uncertain:
                    self._adopt(tracked, order)
                elif tracked.status is not OrderStatus.REPLACED and tracked.update(order, now):
                    self._ops += 1
            seen.add(id(tracked))
        for tracked in list(self._by_client.values()):
            if tracked.is_open and not tracked.uncertain and id(tracked) not in seen:
                await self._refresh(tracked)  # closed since we last looked
        self._mark_fresh("open_orders")
        return unknown

    async def _sync_fills(self, *, force: bool = False) -> None:
        """Apply the venue's new trades (deduplicated by trade id) to the ledger."""
        ledger = self._ledger
        if ledger is None or (not force and self._fresh("fills")):
            return
        booked = len(ledger.fills)
        for venue, sym in self._local.items():
            base = venue.partition("/")[0]
            while True:
                trades = await self._session.call(
                    "fetch_my_trades", venue, self._cursor[venue], _PAGE
                )
                fresh = 0
                for trade in sorted(trades, key=lambda t: (t["timestamp"], str(t["id"]))):
                    key = f"{venue}#{trade['id']}"
                    if key in self._trade_ids:
                        continue
                    self._trade_ids.add(key)
                    ledger.apply(fill_of(trade, sym, key, base, self.quote))
                    self._cursor[venue] = max(self._cursor[venue], int(trade["timestamp"]))
                    fresh += 1
                if len(trades) < _PAGE or fresh == 0:
                    break
        if len(ledger.fills) != booked:
            self._ops += 1
        self._mark_fresh("fills")
