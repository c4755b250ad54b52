"""The base class of backends that keep their own order book and ledger.

:class:`BaseTradingBackend` does the bookkeeping every such backend needs — idempotent client order
ids, the order state machine, symbol and reduce-only checks, fees, the cash/position ledger,
marking to the last price — and leaves one decision to subclasses (stable-baselines3 callback
style): :meth:`BaseTradingBackend._fill_quantity`, how much of a marketable open order fills now.

Orders match against the last price given to :meth:`BaseTradingBackend.set_price`: a market order
fills at it; a limit order fills at it once it is at or better than the limit; a stop order
triggers once the price crosses its stop and then fills like a market order.

An account never borrows more than its :class:`~axon_lab.records.MarginPolicy` allows, the same
way in every backend (the sim's fill kernel caps its fills alike): on a spot account (the
default) a fill never takes cash below zero nor opens a short; with margin, a fill never takes
the gross exposure past leverage x equity. An order only part of which fits fills that part and
the rest ends CANCELLED with the reason. Rejecting such an order *before* it reaches a backend,
with a verdict, is the risk chain's buying-power line. With ``borrow_rate`` set, interest on
borrowed cash and on short positions accrues on the clock and is booked as a fee. An order that
breaks its symbol's :class:`~axon_lab.records.Instrument` rules (lot, tick, minimums) is rejected
as a venue would.
"""

from __future__ import annotations

import difflib
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime

from axon_lab.clock import Clock, WallClock
from axon_lab.errors import BackendError, ConfigError, RecordError
from axon_lab.records import (
    Fill,
    Instrument,
    MarginPolicy,
    OrderAck,
    OrderRequest,
    OrderStatus,
    OrderType,
    PortfolioSnapshot,
    Side,
)

from .ledger import Ledger
from .order_state import TERMINAL_STATES, ManagedOrder, check_transition

__all__ = ["BaseTradingBackend"]


def _check_price(symbol: str, price: float) -> float:
    if not (isinstance(price, int | float) and math.isfinite(price) and price > 0):
        raise ConfigError(f"price for {symbol!r} must be a finite number > 0, got {price!r}")
    return float(price)


class BaseTradingBackend(ABC):
    """Order book, state machine and ledger; subclasses decide fill quantities.

    Args:
        prices: The symbols traded and their current prices.
        cash: Starting cash.
        clock: Stamps acks and fills (default: :class:`~axon_lab.clock.WallClock`).
        fee_rate: Fee as a fraction of fill notional, in [0, 1).
        id_prefix: Prefix of the backend's order ids.
        margin: What the account may borrow (default: spot).
        instruments: What this venue accepts per symbol (lot, tick, minimums).
    """

    def __init__(
        self,
        prices: Mapping[str, float],
        *,
        cash: float,
        clock: Clock | None = None,
        fee_rate: float = 0.0,
        id_prefix: str = "order",
        margin: MarginPolicy | None = None,
        instruments: Mapping[str, Instrument] | None = None,
    ) -> None:
        if not prices:
            raise ConfigError("prices is empty; pass at least one symbol, e.g. {'SYM': price}")
        if not (math.isfinite(fee_rate) and 0 <= fee_rate < 1):
            raise ConfigError(f"fee_rate must be in [0, 1), got {fee_rate!r}")
        self._marks = {str(sym): _check_price(sym, p) for sym, p in prices.items()}
        self._marks_version = 0  # bumped by every write to _marks (through _set_mark)
        self._symbols = frozenset(self._marks)
        self._clock: Clock = clock if clock is not None else WallClock()
        self._ledger = Ledger(cash)
        self._fee_rate = float(fee_rate)
        self._margin = margin if margin is not None else MarginPolicy()
        self._instruments = dict(instruments or {})
        self._accrued_at: datetime | None = None  # when borrow interest was last booked
        self._prefix = id_prefix
        self._orders: dict[str, ManagedOrder] = {}
        self._by_client: dict[str, ManagedOrder] = {}
        # orders not yet terminal, oldest first (pruned lazily): open-order reads skip history
        self._live: dict[str, ManagedOrder] = {}
        self._triggered: set[str] = set()
        self._fill_seq = 0
        # the last snapshot and what it was built from: (clock time, ledger version, marks
        # version); reused until one of them moves
        self._snapshot: PortfolioSnapshot | None = None
        self._snapshot_key: tuple[object, int, int] | None = None

    # ------------------------------------------------------------------ the one hook

    @abstractmethod
    def _fill_quantity(self, order: ManagedOrder, price: float) -> float:
        """How much of the marketable open ``order`` fills now at ``price`` (0 for none)."""

    # ------------------------------------------------------------------ properties

    @property
    def clock(self) -> Clock:
        """The clock acks and fills are stamped with."""
        return self._clock

    @property
    def symbols(self) -> frozenset[str]:
        """The symbols this backend trades."""
        return self._symbols  # the keys of _marks, which never gain or lose a symbol

    @property
    def fee_rate(self) -> float:
        """The fee a fill pays, as a fraction of its notional (what a buy must reserve)."""
        return self._fee_rate

    @property
    def margin(self) -> MarginPolicy:
        """What the account may borrow."""
        return self._margin

    @property
    def instruments(self) -> dict[str, Instrument]:
        """What this venue accepts per symbol (a copy)."""
        return dict(self._instruments)

    def _set_mark(self, symbol: str, price: float) -> None:
        """Write ``symbol``'s mark (every write to ``_marks`` goes through here)."""
        self._marks[symbol] = price
        self._marks_version += 1

    # ------------------------------------------------------------------ market

    def set_price(self, symbol: str, price: float) -> tuple[Fill, ...]:
        """Move ``symbol``'s last price and match resting orders against it.

        Returns:
            The fills the move caused.

        Raises:
            ConfigError: If the symbol is not traded or the price is not finite and positive.
        """
        self._require_symbol(symbol)
        self._set_mark(symbol, _check_price(symbol, price))
        fills: list[Fill] = []
        for order in self._live_orders():
            if order.is_open and order.request.symbol == symbol:
                fills.extend(self._match(order))
        return tuple(fills)

    async def last_price(self, symbol: str) -> float:
        """The last price of ``symbol``.

        Raises:
            BackendError: If the symbol is not traded here.
        """
        return self._last_price(symbol)

    def _last_price(self, symbol: str) -> float:
        try:
            return self._marks[symbol]
        except KeyError:
            raise BackendError(
                f"no price for {symbol!r}: this backend trades {sorted(self._marks)}"
            ) from None

    # ------------------------------------------------------------------ orders

    def _resubmitted(self, order: OrderRequest) -> OrderAck | None:
        """The ack of the order already sent with this client id (idempotent resubmission).

        Raises:
            BackendError: If the client id was used for an order with different terms.
        """
        existing = self._by_client.get(order.client_order_id)
        if existing is None:
            return None
        if existing.request != order:
            raise BackendError(
                f"client_order_id {order.client_order_id!r} is already used by order "
                f"{existing.order_id!r} with different terms; use a new client_order_id"
            )
        return existing.to_ack()

    async def place_order(self, order: OrderRequest) -> OrderAck:
        """Accept (and possibly fill) an order, or reject it with a reason in the ack."""
        resubmitted = self._resubmitted(order)
        if resubmitted is not None:
            return resubmitted
        managed = self._register(order)
        now = self._clock.now()
        reason = self._rejection_reason(order)
        if reason:
            managed.transition(OrderStatus.REJECTED, at=now, reason=reason)
        else:
            managed.transition(OrderStatus.ACCEPTED, at=now)
            self._match(managed)
        return managed.to_ack()

    async def cancel_order(self, order_id: str) -> OrderAck:
        """Cancel an open order.

        Raises:
            BackendError: If the order is unknown.
            OrderStateError: If the order is no longer open.
        """
        managed = self._lookup(order_id)
        managed.transition(OrderStatus.CANCELLED, at=self._clock.now(), reason="cancelled")
        return managed.to_ack()

    async def replace_order(
        self, order_id: str, *, quantity: float | None = None, price: float | None = None
    ) -> OrderAck:
        """Replace an open order by a new one with another quantity and/or limit price.

        Raises:
            BackendError: If the order is unknown or the new terms are invalid.
            OrderStateError: If the order is no longer open.
        """
        old = self._lookup(order_id)
        check_transition(
            old.order_id, old.request.client_order_id, old.status, OrderStatus.REPLACED
        )
        if price is not None and old.request.order_type is OrderType.MARKET:
            raise BackendError(
                f"order {old.order_id!r} is a market order; it has no price to replace. "
                "Cancel it and place a limit order instead."
            )
        generation = len(self._orders) + 1  # unique, so the new client id never collides
        try:
            new_request = old.request.replace(
                client_order_id=f"{old.request.client_order_id}~r{generation}",
                quantity=old.remaining if quantity is None else quantity,
                price=old.request.price if price is None else price,
            )
        except RecordError as exc:
            raise BackendError(f"cannot replace order {old.order_id!r}: {exc}") from exc
        now = self._clock.now()
        new = self._register(new_request)
        old.transition(OrderStatus.REPLACED, at=now, reason=f"replaced by {new.order_id}")
        new.transition(OrderStatus.ACCEPTED, at=now, reason=f"replaces {old.order_id}")
        self._match(new)
        return new.to_ack()

    async def get_order(self, order_id: str) -> OrderRequest:
        """The request an order was placed with.

        Raises:
            BackendError: If the order is unknown.
        """
        return self._lookup(order_id).request

    async def open_orders(self, symbol: str | None = None) -> tuple[OrderAck, ...]:
        """Acks of resting orders, oldest first."""
        return self._open_orders(symbol)

    def _open_orders(self, symbol: str | None) -> tuple[OrderAck, ...]:
        return tuple(
            o.to_ack()
            for o in self._live_orders()
            if o.is_open and (symbol is None or o.request.symbol == symbol)
        )

    async def fills(self, order_id: str | None = None) -> tuple[Fill, ...]:
        """Fills in execution order, optionally for one order (by order or client id)."""
        return self._fills(order_id)

    def _fills(self, order_id: str | None) -> tuple[Fill, ...]:
        if order_id is None:
            return tuple(self._ledger.fills)
        oid = self._lookup(order_id).order_id
        return self._ledger.fills_of(oid)

    async def query_portfolio(self) -> PortfolioSnapshot:
        """Cash, positions marked to the last prices, and equity."""
        return self._portfolio()

    def _portfolio(self) -> PortfolioSnapshot:
        """The snapshot now; the previous one while clock, ledger and marks are unchanged.

        Snapshots are immutable records, so handing the same one out again is safe; any fill,
        cash, PnL, fee or mark change (their version counters) or a new clock reading (the
        snapshot's timestamp) builds a new one.
        """
        self._accrue_borrow()
        now = self._clock.now()
        key = (now, self._ledger.version, self._marks_version)
        snap = self._snapshot
        if snap is not None and key == self._snapshot_key:
            return snap
        snap = self._ledger.snapshot(now, self._marks.__getitem__)
        self._snapshot, self._snapshot_key = snap, key
        return snap

    # ------------------------------------------------------------------ internals

    def _register(self, request: OrderRequest) -> ManagedOrder:
        order_id = f"{self._prefix}-{len(self._orders) + 1}"
        managed = ManagedOrder(order_id, request, created_at=self._clock.now())
        self._add_order(managed)
        return managed

    def _add_order(self, managed: ManagedOrder) -> None:
        """Put a new order on the book (by id, by client id, and among the live orders)."""
        self._orders[managed.order_id] = managed
        self._by_client[managed.request.client_order_id] = managed
        self._live[managed.order_id] = managed

    def _live_orders(self) -> list[ManagedOrder]:
        """Orders that are not terminal, oldest first; terminal ones are dropped for good."""
        done = [oid for oid, o in self._live.items() if o.status in TERMINAL_STATES]
        for oid in done:
            del self._live[oid]
        return list(self._live.values())

    def _lookup(self, order_id: str) -> ManagedOrder:
        managed = self._orders.get(order_id) or self._by_client.get(order_id)
        if managed is None:
            known = [*self._orders, *self._by_client]
            close = difflib.get_close_matches(order_id, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            open_ids = [o.order_id for o in self._orders.values() if o.is_open]
            raise BackendError(
                f"unknown order id {order_id!r}; pass an order_id or client_order_id from an "
                f"ack (open orders: {open_ids}).{hint}"
            )
        return managed

    def _require_symbol(self, symbol: str) -> None:
        if symbol not in self._marks:
            raise ConfigError(
                f"symbol {symbol!r} is not traded by this backend; known: {sorted(self._marks)}"
            )

    def _rejection_reason(self, order: OrderRequest) -> str:
        if order.symbol not in self._marks:
            return f"unknown symbol {order.symbol!r}; this backend trades {sorted(self._marks)}"
        mark = self._marks[order.symbol]
        instrument = self._instruments.get(order.symbol)
        if instrument is not None:
            problem = instrument.request_problem(order, mark)
            if problem:
                return f"{order.symbol}: {problem}"
        if order.reduce_only:
            held = self._ledger.quantity(order.symbol)
            reduces = held != 0 and (held > 0) != (order.side is Side.BUY)
            if not reduces or order.quantity > abs(held) * (1 + 1e-12):
                return (
                    f"reduce_only {order.side.value} of {order.quantity} would not only reduce "
                    f"the position of {held} in {order.symbol}"
                )
        return ""

    def _fill_cap(self, order: ManagedOrder, price: float) -> float:
        """The most of ``order`` the account can take at ``price`` within its margin policy.

        Spot: a buy up to the cash (fees included), a sell up to the position. Margin: the
        position may grow until the gross exposure reaches leverage x equity; a fill that only
        shrinks the position is never capped.
        """
        req = order.request
        held = self._ledger.quantity(req.symbol)
        buying = req.side is Side.BUY
        margin = self._margin
        if margin.is_spot:
            if buying:
                return max(self._ledger.cash, 0.0) / (price * (1 + self._fee_rate))
            return max(held, 0.0)
        snap = self._portfolio()
        other = math.fsum(abs(p.market_value) for s, p in snap.positions.items() if s != req.symbol)
        room = max(margin.leverage * snap.equity - other, 0.0) / price  # |position| allowed
        if buying:
            return max(room - held, -held, 0.0)
        cap = max(room + held, held, 0.0) if margin.allow_short else max(held, 0.0)
        return cap

    def _accrue_borrow(self) -> None:
        """Book interest on borrowed cash and short positions since the last booking."""
        rate = self._margin.borrow_rate
        now = self._clock.now()
        last, self._accrued_at = self._accrued_at, now
        if rate <= 0 or last is None or now <= last:
            return
        years = (now - last).total_seconds() / (365.25 * 24 * 3600)
        shorts = math.fsum(
            -q * self._marks[s] for s, q in self._ledger.positions().items() if q < 0
        )
        borrowed = max(-self._ledger.cash, 0.0) + shorts
        if borrowed > 0:
            self._debit(borrowed * rate * years)

    def _debit(self, amount: float) -> None:
        """Take ``amount`` of cash as a fee (borrow interest)."""
        self._ledger.cash = self._ledger.cash - amount
        self._ledger.fees_paid = self._ledger.fees_paid + amount

    def _is_marketable(self, order: ManagedOrder, price: float) -> bool:
        req = order.request
        buying = req.side is Side.BUY
        if req.order_type is OrderType.MARKET:
            return True
        if req.order_type is OrderType.LIMIT and req.price is not None:
            return price <= req.price if buying else price >= req.price
        if order.order_id not in self._triggered and req.stop_price is not None:
            if not (price >= req.stop_price if buying else price <= req.stop_price):
                return False
            self._triggered.add(order.order_id)
        return True

    def _match(self, order: ManagedOrder) -> tuple[Fill, ...]:
        price = self._marks[order.request.symbol]
        if not order.is_open or not self._is_marketable(order, price):
            return ()
        wanted = min(self._fill_quantity(order, price), order.remaining)
        if wanted <= 0:
            return ()
        cap = self._fill_cap(order, price)
        quantity = wanted if cap >= wanted * (1 - 1e-12) else cap
        if math.isclose(quantity, order.remaining, rel_tol=1e-12):
            quantity = order.remaining
        fills = (self._book_fill(order, quantity, price),) if quantity > 0 else ()
        if quantity < wanted and order.is_open:
            done = f"filled {order.filled_quantity:.10g} of {order.request.quantity:.10g}"
            if order.request.side is Side.BUY:
                why = "not enough cash for the rest"
            else:
                why = "nothing more to sell"
            why += " (the account does not borrow beyond its margin policy)"
            order.transition(OrderStatus.CANCELLED, at=self._clock.now(), reason=f"{done}: {why}")
        return fills

    def _book_fill(self, order: ManagedOrder, quantity: float, price: float) -> Fill:
        now = self._clock.now()
        order.record_fill(quantity, price, at=now)  # raises before anything is booked
        self._fill_seq += 1
        fill = Fill(
            fill_id=f"{order.order_id}-fill-{self._fill_seq}",
            order_id=order.order_id,
            symbol=order.request.symbol,
            side=order.request.side,
            quantity=quantity,
            price=price,
            fee=quantity * price * self._fee_rate,
            timestamp=now,
        )
        self._ledger.apply(fill)
        return fill

    def __repr__(self) -> str:
        return f"{type(self).__name__}(symbols={sorted(self._marks)}, clock={self._clock!r})"
