"""The exchange backend: a spot account on a real (or local) exchange through ccxt's async API.

:class:`ExchangeTradingBackend` implements :class:`~axon_lab.backends.TradingBackend` over one
ccxt client (``ccxt.async_support``, imported on first use; install ``axon-lab[exchange]``).
It passes the shared conformance suite against :class:`~axon_lab.backends.LocalExchangeServer`.

What it guarantees, and how:

* **Idempotent submission.** Our client order id maps to a venue client id
  (:func:`venue_client_id`, deterministic). When a placement gets no answer (timeout, dropped
  connection, 5xx, 429) the backend first asks the venue for that client id and adopts the order
  if it exists; only if the venue does not know it is the same request sent again, with the same
  client id. A resubmission of a request whose placement never got an answer does the same.
* **Rejections are data.** Insufficient funds and invalid orders (filters, unknown symbol,
  reduce-only that would not reduce, unsupported order types) come back as ``REJECTED`` acks with
  the reason; the risk chain records them as backend-line verdicts.
* **An exchange that stays down** makes the call raise :class:`~axon_lab.errors.BackendError`
  after :class:`RetryPolicy` ``.attempts`` tries; the risk chain records that as a backend
  rejection, so a :class:`~axon_lab.risk.RejectionCircuitBreaker` trips.
* **Rate limits.** ccxt's own limiter (``enableRateLimit``) plus :class:`RequestBudget`, which
  also waits out a ``Retry-After``; :attr:`ExchangeTradingBackend.budget` shows the spending.
* **Precision and limits** of the venue's markets become :attr:`instruments` (tick, lot,
  minimum quantity and notional, fees), for the risk chain; orders off the grid are rejected here
  rather than silently rounded by ccxt.
* **Accounting** follows the venue's trades (deduplicated by trade id) in a
  :class:`~axon_lab.backends.Ledger` seeded from the balances at start (a position held then is
  valued at that moment's price: the venue does not report its cost). :meth:`reconcile` (run on
  start and after network errors) compares that view — and, when given, the explain store's
  fills — with the venue's balances and open orders, and warns with a
  :class:`ReconciliationWarning` on any disagreement.

Only spot trading in one quote asset; market and limit orders (GTC, IOC). Attached stop-loss and
take-profit levels and stop orders are rejected (not implemented here).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from axon_lab.clock import Clock, WallClock
from axon_lab.errors import BackendError, ConfigError, RecordError
from axon_lab.records import (
    Fill,
    Instrument,
    OrderAck,
    OrderRequest,
    OrderStatus,
    OrderType,
    PortfolioSnapshot,
    ReconciliationReport,
    Side,
    TimeInForce,
)

from ._exchange_budget import RequestBudget
from ._exchange_markets import instrument_of, make_client
from ._exchange_orders import TrackedOrder
from ._exchange_reconcile import ReconciliationWarning, compare
from ._exchange_session import ExchangeSession, RetryPolicy, _ccxt
from ._exchange_view import VenueView
from .ledger import Ledger
from .order_state import check_transition

__all__ = ["ExchangeTradingBackend"]

_SPOT_OPTIONS: dict[str, Any] = {
    "defaultType": "spot",
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
    "warnOnFetchOpenOrdersWithoutSymbol": False,
}


class ExchangeTradingBackend(VenueView):
    """A spot account on an exchange, through ccxt.

    Args:
        exchange: The ccxt exchange id (e.g. ``"binance"``).
        symbols: Our symbol -> the venue's ``"BASE/QUOTE"`` symbol, or the venue's symbols to
            use as they are. All must share one quote asset (the account's cash).
        clock: Stamps acks and snapshots (default: wall clock).
        config: The ccxt client config (``apiKey``, ``secret``, ``timeout``, options, ...).
        url: A base URL replacing the venue's REST hosts (a local exchange, a proxy).
        retry: How network errors are retried.
        budget: Our request budget (default: 10 requests per second).
        client_factory: Builds the ccxt client instead of ``exchange``/``config``/``url``.

    Raises:
        ConfigError: If the symbols are empty or do not share one quote asset.

    Examples:
        >>> backend = ExchangeTradingBackend("binance", symbols={"BTC": "BTC/USDT"})
        >>> sorted(backend.symbols), backend.quote
        (['BTC'], 'USDT')
    """

    def __init__(
        self,
        exchange: str = "binance",
        *,
        symbols: Mapping[str, str] | Iterable[str],
        clock: Clock | None = None,
        config: Mapping[str, Any] | None = None,
        url: str | None = None,
        retry: RetryPolicy | None = None,
        budget: RequestBudget | None = None,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        venue = dict(symbols) if isinstance(symbols, Mapping) else {s: s for s in symbols}
        if not venue:
            raise ConfigError("symbols is empty; pass e.g. {'BTC': 'BTC/USDT'}")
        quotes = {v.partition("/")[2] for v in venue.values()}
        if len(quotes) != 1 or "" in quotes:
            raise ConfigError(
                f"every venue symbol must be 'BASE/QUOTE' with one quote asset (the account's "
                f"cash), got {sorted(venue.values())}"
            )
        self.exchange_id = exchange
        self.quote = quotes.pop()
        self._venue = venue
        self._local = {v: s for s, v in venue.items()}
        self._clock: Clock = clock if clock is not None else WallClock()
        cfg = dict(config or {})
        cfg["options"] = {**_SPOT_OPTIONS, **dict(cfg.get("options") or {})}
        cfg.setdefault("enableRateLimit", True)
        factory = client_factory or (lambda: make_client(exchange, cfg, url))
        self.budget = budget if budget is not None else RequestBudget(10, 1.0)
        self.retry = retry if retry is not None else RetryPolicy()
        self._session = ExchangeSession(factory, budget=self.budget, retry=self.retry)
        self._instruments: dict[str, Instrument] = {}
        self._ledger: Ledger | None = None
        self._orders: dict[str, TrackedOrder] = {}  # by our order id (the venue's, once known)
        self._by_client: dict[str, TrackedOrder] = {}
        self._trade_ids: set[str] = set()
        self._cursor: dict[str, int] = {}  # per venue symbol: trades from this ms on are read
        self._marks: dict[str, float] = {}
        self._can_edit = False
        self._seq = 0
        self._errors_seen = 0
        # reads are cached per (clock reading, order operations so far): a loop's step, which runs
        # at one simulated time, reads the venue's trades once; a wall clock always moves on
        self._ops = 0
        self._seen: dict[str, tuple[datetime, int]] = {}
        #: The last reconciliation's report (None before :meth:`start`).
        self.last_reconciliation: ReconciliationReport | None = None

    # ------------------------------------------------------------------ properties

    @property
    def clock(self) -> Clock:
        """The clock acks and snapshots are stamped with."""
        return self._clock

    @property
    def symbols(self) -> frozenset[str]:
        """The symbols this backend trades (ours, not the venue's)."""
        return frozenset(self._venue)

    @property
    def instruments(self) -> dict[str, Instrument]:
        """Tick, lot, minimums and fees per symbol, from the venue's markets (after start)."""
        return dict(self._instruments)

    @property
    def fee_rate(self) -> float:
        """The highest fee rate among the instruments (what a buy must reserve)."""
        return max((i.fee_rate for i in self._instruments.values()), default=0.0)

    @property
    def session(self) -> ExchangeSession:
        """The ccxt client's session (network error and failure counts)."""
        return self._session

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> ReconciliationReport:
        """Load markets and balances, adopt open orders, and reconcile (once; later: no-op).

        Raises:
            ConfigError: If a symbol is not listed by the venue.
            BackendError: If the venue stays unreachable.
        """
        if self._ledger is not None and self.last_reconciliation is not None:
            return self.last_reconciliation
        call = self._session.call
        markets = await call("load_markets")
        client = self._session.client
        for sym, ven in self._venue.items():
            market = markets.get(ven)
            if market is None:
                close = difflib.get_close_matches(ven, list(markets), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{self.exchange_id} lists no market {ven!r}.{hint}")
            mode = int(getattr(client, "precisionMode", 4))
            self._instruments[sym] = instrument_of(sym, market, mode, self.exchange_id)
        self._can_edit = bool(client.has.get("editOrder"))
        server_ms = int(await call("fetch_time"))
        self._cursor = dict.fromkeys(self._local, server_ms)
        totals = (await call("fetch_balance")).get("total") or {}
        ledger = Ledger(float(totals.get(self.quote) or 0.0))
        for sym, ven in self._venue.items():
            held = float(totals.get(ven.partition("/")[0]) or 0.0)
            if held:
                ledger.seed_position(sym, held, await self.last_price(sym))
        self._ledger = ledger
        return await self.reconcile()

    async def _ready(self) -> Ledger:
        if self._ledger is None or self.last_reconciliation is None:
            await self.start()
        elif self._session.network_errors != self._errors_seen:
            await self.reconcile()  # after a reconnect
        if self._ledger is None:  # start() sets it, or raises
            raise BackendError("the exchange backend has no account state; call start() first")
        return self._ledger

    def close(self) -> None:
        """Close the ccxt client and its thread (idempotent)."""
        self._session.close()

    def __enter__(self) -> ExchangeTradingBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ExchangeTradingBackend:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ orders

    async def place_order(self, order: OrderRequest) -> OrderAck:
        """Submit an order (idempotent on ``client_order_id``); a refusal is a REJECTED ack.

        Raises:
            BackendError: If the client id was used for other terms, or the venue stays
                unreachable (the order may then exist: resubmit the same request to find out).
        """
        await self._ready()
        tracked = self._by_client.get(order.client_order_id)
        if tracked is not None:
            if tracked.request != order:
                raise BackendError(
                    f"client_order_id {order.client_order_id!r} is already used by order "
                    f"{tracked.order_id!r} with different terms; use a new client_order_id"
                )
            if tracked.uncertain:
                return await self._send(tracked, self._create_call(tracked))
            if tracked.is_open:
                await self._refresh(tracked)
            return tracked.to_ack()
        tracked = self._new(order)
        reason = await self._rejection_reason(order)
        if reason:
            tracked.status, tracked.message, tracked.uncertain = OrderStatus.REJECTED, reason, False
            return tracked.to_ack()
        return await self._send(tracked, self._create_call(tracked))

    async def cancel_order(self, order_id: str) -> OrderAck:
        """Cancel an open order.

        Raises:
            BackendError: If the order is unknown or the venue refuses or stays unreachable.
            OrderStateError: If the order is no longer open.
        """
        await self._ready()
        tracked = self._lookup(order_id)
        if tracked.uncertain:  # its placement got no answer: ask the venue first
            await self._refresh(tracked)
            if tracked.uncertain:  # the venue does not know it: it never arrived
                return self._refuse(tracked, "cancelled before it reached the exchange")
        check_transition(
            tracked.order_id, tracked.request.client_order_id, tracked.status, OrderStatus.CANCELLED
        )
        ccxt = _ccxt()
        try:
            result = await self._session.call(
                "cancel_order", *self._id_args(tracked), self._venue[tracked.request.symbol],
                self._cid_params(tracked),
            )  # fmt: skip
        except (ccxt.OrderNotFound, ccxt.InvalidOrder, ccxt.OperationRejected) as exc:
            await self._refresh(tracked)  # an earlier try may have cancelled it, or it filled
            if tracked.status is OrderStatus.CANCELLED:
                return tracked.to_ack()
            check_transition(
                tracked.order_id,
                tracked.request.client_order_id,
                tracked.status,
                OrderStatus.CANCELLED,
            )
            raise BackendError(
                f"the exchange refused to cancel {tracked.order_id!r}: {exc}"
            ) from exc
        tracked.update(result, self._clock.now())
        self._ops += 1
        tracked.message = tracked.message or "cancelled"
        return tracked.to_ack()

    async def replace_order(
        self, order_id: str, *, quantity: float | None = None, price: float | None = None
    ) -> OrderAck:
        """Replace an open order (the venue's edit where it has one, else cancel and place).

        Raises:
            BackendError: If the order is unknown, the new terms are invalid or refused.
            OrderStateError: If the order is no longer open.
        """
        await self._ready()
        old = self._lookup(order_id)
        if old.is_open:
            await self._refresh(old)
        req = old.request
        check_transition(old.order_id, req.client_order_id, old.status, OrderStatus.REPLACED)
        if price is not None and req.order_type is OrderType.MARKET:
            raise BackendError(
                f"order {old.order_id!r} is a market order; it has no price to replace. "
                "Cancel it and place a limit order instead."
            )
        try:
            new_request = req.replace(
                client_order_id=f"{req.client_order_id}~r{len(self._by_client) + 1}",
                quantity=old.remaining if quantity is None else quantity,
                price=req.price if price is None else price,
            )
        except RecordError as exc:
            raise BackendError(f"cannot replace order {old.order_id!r}: {exc}") from exc
        reason = await self._rejection_reason(new_request)
        if reason:
            raise BackendError(f"cannot replace order {old.order_id!r}: {reason}")
        new = self._new(new_request)
        if self._can_edit:
            ack = await self._send(new, self._edit_call(old, new))
        else:
            await self.cancel_order(old.order_id)
            ack = await self._send(new, self._create_call(new))
        if ack.status is OrderStatus.REJECTED:
            await self._refresh(old)
            raise BackendError(
                f"cannot replace order {old.order_id!r}: the exchange refused the new order "
                f"({ack.message}); the old order is now {old.status.value}"
            )
        self._ops += 1
        old.status, old.updated = OrderStatus.REPLACED, self._clock.now()
        old.message = f"replaced by {new.order_id}"
        return ack

    async def get_order(self, order_id: str) -> OrderRequest:
        """The request an order was placed with.

        Raises:
            BackendError: If the order is unknown.
        """
        await self._ready()
        return self._lookup(order_id).request

    async def open_orders(self, symbol: str | None = None) -> tuple[OrderAck, ...]:
        """Acks of the orders open on the venue, oldest first, optionally for one symbol."""
        await self._ready()
        unknown = await self._sync_open_orders()
        if unknown:
            warnings.warn(
                f"{self.exchange_id}: open orders not placed by this backend are tracked now: "
                f"{unknown}",
                ReconciliationWarning,
                stacklevel=2,
            )
        return tuple(
            t.to_ack()
            for t in self._by_client.values()
            if t.is_open and not t.uncertain and (symbol is None or t.request.symbol == symbol)
        )

    async def fills(self, order_id: str | None = None) -> tuple[Fill, ...]:
        """Fills so far (the venue's trades since start), optionally for one order."""
        ledger = await self._ready()
        await self._sync_fills()
        if order_id is None:
            return tuple(ledger.fills)
        return ledger.fills_of(self._lookup(order_id).order_id)

    async def query_portfolio(self) -> PortfolioSnapshot:
        """Cash and positions from the venue's fills, marked to the venue's last prices."""
        ledger = await self._ready()
        await self._sync_fills()
        for sym in ledger.positions():
            await self.last_price(sym)
        return ledger.snapshot(self._clock.now(), self._marks.__getitem__)

    # ------------------------------------------------------------------ reconciliation

    async def reconcile(self, expected_fills: Iterable[Fill] | None = None) -> ReconciliationReport:
        """Compare the venue's balances, open orders and trades with the backend's view.

        Args:
            expected_fills: The fills the explain store holds for this account (e.g.
                ``store.fills(run_id)``); each is matched by ``fill_id`` with the venue's.

        Returns:
            The report (also kept in :attr:`last_reconciliation`); a
            :class:`ReconciliationWarning` is issued when it lists any discrepancy.
        """
        if self._ledger is None:
            return await self.start()
        ledger = self._ledger
        expected = None if expected_fills is None else tuple(expected_fills)
        unknown = await self._sync_open_orders(force=True)
        # a fill landing between reading the trades and the balances shows as a difference; the
        # balances are read again once before a difference is reported
        for _ in range(2):
            await self._sync_fills(force=True)
            totals = (await self._session.call("fetch_balance")).get("total") or {}
            venue_positions = {
                sym: float(totals.get(ven.partition("/")[0]) or 0.0)
                for sym, ven in self._venue.items()
            }
            found = compare(
                quote=self.quote,
                cash=ledger.cash,
                venue_cash=float(totals.get(self.quote) or 0.0),
                positions=ledger.positions(),
                venue_positions={s: q for s, q in venue_positions.items() if q},
                unknown_orders=unknown,
                fills=ledger.fills,
                expected_fills=expected,
            )
            if not any(d.kind in ("cash", "position") for d in found):
                break
        report = ReconciliationReport(
            timestamp=self._clock.now(),
            venue=self.exchange_id,
            open_orders=sum(1 for t in self._by_client.values() if t.is_open),
            fills=len(ledger.fills),
            discrepancies=found,
        )
        self.last_reconciliation = report
        self._errors_seen = self._session.network_errors
        if found:
            lines = "; ".join(d.message for d in found)
            warnings.warn(
                f"{self.exchange_id}: the exchange and the local view disagree: {lines}",
                ReconciliationWarning,
                stacklevel=2,
            )
        return report

    # ------------------------------------------------------------------ internals

    def _id_args(self, tracked: TrackedOrder) -> tuple[str | None]:
        return (None if tracked.order_id.startswith("local-") else tracked.order_id,)

    def _cid_params(self, tracked: TrackedOrder) -> dict[str, str]:
        if tracked.order_id.startswith("local-"):
            return {"clientOrderId": tracked.venue_client_id}
        return {}

    async def _rejection_reason(self, order: OrderRequest) -> str:
        sym = order.symbol
        if sym not in self._venue:
            return f"unknown symbol {sym!r}; this backend trades {sorted(self._venue)}"
        if order.order_type is OrderType.STOP or order.stop_loss or order.take_profit:
            return (
                "stop orders and attached stop_loss/take_profit are not supported by "
                "ExchangeTradingBackend; place the exit as its own order"
            )
        if order.time_in_force is TimeInForce.DAY:
            return "time_in_force 'day' is not supported on this venue; use 'gtc' or 'ioc'"
        instrument = self._instruments.get(sym)
        if instrument is not None:
            mark = self._marks.get(sym) or await self.last_price(sym)
            problem = instrument.request_problem(order, mark)
            if problem:
                return f"{sym}: {problem} (the venue's filters; round with Instrument.round_*)"
        if order.reduce_only:
            await self._sync_fills()
            held = self._ledger.quantity(sym) if self._ledger is not None else 0.0
            reduces = held != 0 and (held > 0) != (order.side is Side.BUY)
            if not reduces or order.quantity > abs(held) * (1 + 1e-12):
                return (
                    f"reduce_only {order.side.value} of {order.quantity} would not only reduce "
                    f"the position of {held} in {sym}"
                )
        return ""

    def _create_call(self, tracked: TrackedOrder) -> Callable[[], Awaitable[Any]]:
        req = tracked.request
        params: dict[str, Any] = {"clientOrderId": tracked.venue_client_id}
        if req.order_type is OrderType.LIMIT:
            params["timeInForce"] = req.time_in_force.value.upper()

        def create() -> Awaitable[Any]:
            return self._session.once(
                "create_order", self._venue[req.symbol], req.order_type.value, req.side.value,
                req.quantity, req.price, params,
            )  # fmt: skip

        return create

    def _edit_call(self, old: TrackedOrder, new: TrackedOrder) -> Callable[[], Awaitable[Any]]:
        req = new.request
        params = {"newClientOrderId": new.venue_client_id}

        def edit() -> Awaitable[Any]:
            return self._session.once(
                "edit_order", old.order_id, self._venue[req.symbol], req.order_type.value,
                req.side.value, req.quantity, req.price, params,
            )  # fmt: skip

        return edit

    async def _send(self, tracked: TrackedOrder, send: Callable[[], Awaitable[Any]]) -> OrderAck:
        """Send ``tracked`` once; after a network error, find it by client id before resending."""
        ccxt = _ccxt()
        last: BaseException | None = None
        for attempt in range(self.retry.attempts):
            try:
                if tracked.sent and tracked.uncertain:  # a try got no answer: look it up first
                    found = await self._find(tracked, retried=False)
                    if found is not None:
                        return self._adopt(tracked, found)
                tracked.sent = True
                self._ops += 1
                result = await send()
            except ccxt.NetworkError as exc:
                last = exc
                tracked.uncertain = True
                await self._session.after_network_error(exc, attempt)
                continue
            except ccxt.InsufficientFunds as exc:
                return self._refuse(tracked, f"insufficient funds: {_venue_message(exc)}")
            except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
                self._forget(tracked)
                raise BackendError(
                    f"the exchange refused the credentials ({exc}); check apiKey/secret and the "
                    "key's trading permission"
                ) from exc
            except (ccxt.InvalidOrder, ccxt.BadRequest, ccxt.BadSymbol) as exc:
                if "Duplicate order" in str(exc):  # an earlier try got through after all
                    found = await self._find(tracked)
                    if found is not None:
                        return self._adopt(tracked, found)
                return self._refuse(tracked, f"invalid order: {_venue_message(exc)}")
            except ccxt.ExchangeError as exc:
                return self._refuse(
                    tracked, f"the exchange refused the order: {_venue_message(exc)}"
                )
            return self._adopt(tracked, result)
        self._session.failures += 1
        raise BackendError(
            f"the exchange did not answer placing {tracked.request.client_order_id!r} after "
            f"{self.retry.attempts} tries ({type(last).__name__}: {last}). The order may or may "
            "not be on the exchange: resubmitting the same request looks it up by client id and "
            "never sends a second one; reconcile() reports what the exchange holds."
        ) from last

    def __repr__(self) -> str:
        return f"ExchangeTradingBackend({self.exchange_id!r}, symbols={sorted(self._venue)})"


def _venue_message(exc: BaseException) -> str:
    text = str(exc)
    # ccxt prefixes the exchange id and sometimes the raw JSON body; keep the venue's own words
    if '"msg":"' in text:
        return text.split('"msg":"', 1)[1].split('"', 1)[0]
    return text
