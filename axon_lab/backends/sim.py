"""The backtest backend: the vectorized engine's fill kernel behind the TradingBackend protocol.

:class:`SimTradingBackend` holds a simulated clock and one kernel column per symbol. Whenever it
is called (or :meth:`SimTradingBackend.advance_to` is), it first advances the compiled stepper
(:func:`~axon_lab.backtest.fill_range_nb`) over every bar completed since the last call, in one
kernel call however many bars that is: resting limit and stop orders, stop-losses and
take-profits fill there with highs and lows taken into account. A loop deciding every 24 bars
therefore costs one Python step per 24 bars.

Time model (the same as ``axon_lab.backtest.run(..., execution="next_open")``):

* A bar is stamped with its open time and is complete at ``open + timeframe``. A decision taken
  at ``t`` belongs to the last bar that opened before ``t`` (normally the bar that completed at
  ``t``); its market order fills at the open of the next bar, stamped with that bar's open time.
  With ``execution="close"`` a market order fills at once at the close of the completed bar.
* Limit and stop orders rest until the bar range crosses them; a stop-loss / take-profit given
  on an order is attached to the position it opens and checked from the bar after the fill.
  When one triggers, the exit appears as a filled reduce-only order with client id
  ``"<entry client id>~sl<n>"`` or ``"~tp<n>"``.
* Portfolio queries mark positions to the close of the last complete bar.
* Fills follow the kernel: buys are capped by cash (``leverage=1``: cash never goes negative),
  sells by the position unless ``direction="both"``. An order the kernel could only partly fill
  or not fill at all ends CANCELLED with the reason in its ack message.

One working order per symbol (a kernel rule, as in the vectorized engine): by default a new
order on a symbol replaces the working one, which ends CANCELLED with a message naming its
successor; with ``on_second_order="reject"`` the new order is rejected instead. An order that
could never fill because no bar follows the data's end is rejected, unless ``streaming=True``
(bars keep arriving through :meth:`SimTradingBackend.append_bars`).

With several symbols, cash is shared: symbols that have nothing working are skipped, and when
two or more have working orders or armed stops the kernel is stepped bar by bar so each fill
sees the cash left by the fills before it (buying power is cash plus that symbol's position).

Examples:
    >>> import asyncio
    >>> from axon_lab.data import make_synthetic
    >>> from axon_lab.records import OrderRequest
    >>> bars = make_synthetic(48, timeframe="1h", start="2024-01-01", seed=3, symbol="SYN")
    >>> sim = SimTradingBackend(bars, cash=10_000.0, fees=0.001)
    >>> sim.clock.now() == bars.index[1]  # bar 0 is complete; bar 1 opens now
    True
    >>> ack = asyncio.run(sim.place_order(
    ...     OrderRequest(client_order_id="c-1", symbol="SYN", side="buy", quantity=10.0)))
    >>> ack.status.value  # a market order waits for the next bar's open
    'accepted'
    >>> fills = sim.advance_to(bars.index[24])  # 23 more bars, one kernel call
    >>> fills[0].price == float(bars["open"].iloc[1]), fills[0].timestamp == bars.index[1]
    (True, True)
    >>> snap = asyncio.run(sim.query_portfolio())
    >>> snap.quantity("SYN"), snap.positions["SYN"].mark_price == float(bars["close"].iloc[23])
    (10.0, True)
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import datetime

import numpy as np

from axon_lab.backtest import _kernels as k
from axon_lab.backtest import check_choice, init_state_nb, make_params
from axon_lab.clock import Clock, SimulatedClock
from axon_lab.data.frame import TimeframeLike
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
    TimeInForce,
)

from ._sim_bars import SimData, parse_bars
from ._sim_kernel import SimKernel
from ._sim_orders import MAX_NS, MIN_NS, ns, ts
from .order_state import ManagedOrder, check_transition

__all__ = ["SimTradingBackend"]

_S_KIND = k.S_KIND
# enum members as module constants (a class-attribute read of a member costs a lookup each time)
_MARKET, _STOP, _GTC = OrderType.MARKET, OrderType.STOP, TimeInForce.GTC
_ACCEPTED, _REJECTED, _CANCELLED = OrderStatus.ACCEPTED, OrderStatus.REJECTED, OrderStatus.CANCELLED


class SimTradingBackend(SimKernel):
    """Bar-by-bar backtest execution with the vectorized engine's fill model.

    Args:
        data: A canonical OHLCV frame (with ``attrs["symbol"]``), a mapping ``symbol -> frame``
            on common timestamps, or a :class:`~axon_lab.data.MarketView`.
        cash: Starting cash (shared by all symbols).
        fees: Fee as a fraction of notional per fill.
        fixed_fee: Fixed fee per fill, in cash.
        slippage_bps: Adverse slippage on market, stop and stop-loss fills, in basis points.
        execution: ``"next_open"`` (market orders fill at the next bar's open) or ``"close"``
            (at the completed bar's close, at once).
        direction: ``"long"`` (sells only reduce a position) or ``"both"`` (shorts allowed).
        leverage: Gross exposure cap as a multiple of equity (1.0: no borrowing).
        lot_size: Round fill sizes down to a multiple of this (0: fractional).
        clock: The clock to follow (default: a :class:`~axon_lab.clock.SimulatedClock` at the
            first bar's completion).
        timeframe: The bar length, when the frames do not carry ``attrs["timeframe"]``.
        streaming: Whether more bars will arrive through :meth:`append_bars`; then an order placed
            after the last bar waits for the next one instead of being rejected.
        on_second_order: ``"replace"`` (a new order on a symbol cancels the working one) or
            ``"reject"`` (the new order is rejected while one is working).
        instruments: What this venue accepts per symbol (lot, tick, minimums); orders that
            break them are rejected.
        borrow_rate: Yearly interest on borrowed cash and short positions (needs
            ``leverage > 1`` or ``direction="both"``), booked as a fee as the clock moves.

    The account is spot unless ``leverage > 1`` or ``direction="both"``
    (:attr:`margin`); the kernel caps each fill by the cash and position it finds, as the other
    backends do.

    Raises:
        ConfigError: On a bad setting.
        DataError: On invalid bars.
    """

    def __init__(
        self,
        data: SimData,
        *,
        cash: float,
        fees: float = 0.0,
        fixed_fee: float = 0.0,
        slippage_bps: float = 0.0,
        execution: str = "next_open",
        direction: str = "long",
        leverage: float = 1.0,
        lot_size: float = 0.0,
        clock: Clock | None = None,
        timeframe: TimeframeLike | None = None,
        streaming: bool = False,
        on_second_order: str = "replace",
        instruments: Mapping[str, Instrument] | None = None,
        borrow_rate: float = 0.0,
    ) -> None:
        if not (math.isfinite(cash) and cash > 0):
            raise ConfigError(f"cash={cash!r} must be a positive finite number.")
        self._params = make_params(
            fees=fees,
            fixed_fee=fixed_fee,
            slippage_bps=slippage_bps,
            leverage=leverage,
            lot_size=lot_size,
            direction=direction,
            execution=execution,
        )
        self._on_second = check_choice("on_second_order", on_second_order, ("replace", "reject"))
        self._close_exec = execution == "close"
        self._direction = direction
        self._streaming = bool(streaming)
        self._bars = parse_bars(data, timeframe)
        self._opens: list[int] = []  # the bars' open times as Python ints (see _index_bars)
        self._closes: list[list[float]] = []  # per symbol, the closes as Python floats
        self._index_bars()
        self._tf_ns = self._bars.timeframe.nanos
        self._col = {sym: c for c, sym in enumerate(self._bars.symbols)}
        if clock is None:
            clock = SimulatedClock(ts(int(self._bars.opens_ns[0]) + self._tf_ns))
        bars = self._bars
        first = {s: float(o[0][0, 0]) for s, o in zip(bars.symbols, bars.ohlc, strict=True)}
        try:
            margin = MarginPolicy(
                leverage=leverage, allow_short=direction == "both", borrow_rate=borrow_rate
            )
        except RecordError as exc:
            raise ConfigError(f"SimTradingBackend: {exc}") from None
        super().__init__(
            first,
            cash=cash,
            clock=clock,
            id_prefix="sim",
            margin=margin,
            instruments=instruments,
        )
        n_cols = len(self._bars.symbols)
        self._state = init_state_nb(n_cols, float(cash))
        # per column, views of its state row (1-D) and of the row as a (1, N_STATE) block
        self._rows = [self._state[c] for c in range(n_cols)]
        self._blocks = [self._state[c : c + 1] for c in range(n_cols)]
        self._cash = float(cash)
        self._done = 0  # bars [0, done) have been stepped
        self._working: list[ManagedOrder | None] = [None] * n_cols
        self._entry: list[ManagedOrder | None] = [None] * n_cols  # attached SL/TP's entry
        self._pending: list[tuple[int, ManagedOrder]] = []  # (decision time ns, order)
        # the clock reading of the last completed _sync: until the clock moves (or bars are
        # appended) a sync has nothing to do
        self._synced_at: datetime | None = None
        self._ns_at: datetime | None = None  # _now_ns's memo: this clock reading is _ns
        self._ns = 0
        # reused one-order inputs of the submit kernel (it only reads them) and its output
        self._sub_type = np.empty(1, dtype=np.int64)
        self._sub_vals = [np.empty(1) for _ in range(4)]  # size, level, stop-loss, take-profit
        self._sub_records = np.empty((2, k.N_REC))
        self._sync()

    # ------------------------------------------------------------------ properties

    @property
    def timeframe(self) -> str:
        """The bar length label, e.g. ``"1h"``."""
        return self._bars.timeframe.label

    @property
    def bars_done(self) -> int:
        """How many bars have been stepped (the bars complete at the clock's time)."""
        return self._done

    @property
    def n_bars(self) -> int:
        """How many bars the backend holds."""
        return self._bars.n_bars

    @property
    def fill_count(self) -> int:
        """How many fills have been booked (cheap; no copy)."""
        return len(self._ledger.fills)

    def fills_since(self, index: int) -> tuple[Fill, ...]:
        """Fills booked after the first ``index`` (what a cursor reads each step)."""
        return tuple(self._ledger.fills[index:])

    def bar_time(self, bar: int) -> datetime:
        """The open time of bar ``bar`` (negative counts from the end)."""
        return ts(int(self._bars.opens_ns[bar]))

    def price(self, symbol: str) -> float:
        """The close of ``symbol``'s last complete bar (synchronous twin of ``last_price``)."""
        self._sync()
        self._require_symbol(symbol)
        return self._marks[symbol]

    # ------------------------------------------------------------------ time

    def advance_to(self, t: datetime) -> tuple[Fill, ...]:
        """Move the clock to ``t`` (if later) and step over every bar complete by then.

        Returns:
            The fills booked by this call.

        Raises:
            ConfigError: If ``t`` is naive, or later than the clock and the clock is not a
                :class:`~axon_lab.clock.SimulatedClock` this backend may move.
        """
        if t.tzinfo is None:
            raise ConfigError(f"time {t!r} is naive; pass a timezone-aware datetime")
        if t > self._clock.now():
            if not isinstance(self._clock, SimulatedClock):
                raise ConfigError(
                    f"cannot move a {type(self._clock).__name__} to {t}; give the backend a "
                    "SimulatedClock, or let the clock run and call advance_to(clock.now())"
                )
            self._clock.set(t)
        start = self.fill_count
        self._sync()
        return self.fills_since(start)

    def step(self, bars: int = 1) -> tuple[Fill, ...]:
        """Advance the clock to the completion of the ``bars``-th next bar.

        Raises:
            ConfigError: If ``bars < 1`` or the data has no such bar.
        """
        if not (isinstance(bars, int) and bars >= 1):
            raise ConfigError(f"bars={bars!r} must be an integer >= 1")
        self._sync()
        target = self._done - 1 + bars
        if target >= self.n_bars:
            raise ConfigError(
                f"cannot step {bars} bar(s): {self.n_bars - self._done} bar(s) are left after "
                f"{self.bar_time(self._done - 1) if self._done else 'the start'}"
            )
        return self.advance_to(ts(int(self._bars.opens_ns[target]) + self._tf_ns))

    def append_bars(self, data: SimData) -> None:
        """Append newer bars of every traded symbol (a live feed, or a test's next bar).

        Bars should be appended once they open or later, never after the clock has passed
        their open: an order placed at ``t`` fills at the first bar opening at or after ``t``.

        Raises:
            DataError: If the bars are invalid, for other symbols, or not newer than the last.
        """
        self._bars = self._bars.extend(parse_bars(data, self._bars.timeframe))
        self._index_bars()
        self._synced_at = None  # more bars: orders waiting for a next bar may now be due
        self._flush(self._done)

    def set_price(self, symbol: str, price: float) -> tuple[Fill, ...]:
        """Not available: prices come from the bars.

        Raises:
            BackendError: Always; append a bar with :meth:`append_bars` instead.
        """
        raise BackendError(
            f"SimTradingBackend takes prices from its bars; cannot set {symbol!r} to {price!r}. "
            "Append a bar with append_bars(...) and advance the clock instead."
        )

    # ------------------------------------------------------------------ protocol

    async def place_order(self, order: OrderRequest) -> OrderAck:
        """Accept an order for the kernel (it fills in later bars), or reject it in the ack."""
        self._sync()
        resubmitted = self._resubmitted(order)
        if resubmitted is not None:
            return resubmitted
        managed = self._register(order)
        now = self._clock.now()
        reason = self._rejection_reason(order) or self._sim_reason(order, replacing=None)
        if reason:
            managed.transition(_REJECTED, at=now, reason=reason)
            return managed.to_ack()
        managed.transition(_ACCEPTED, at=now)
        old = self._working_order(self._col[order.symbol])
        if old is not None:
            self._withdraw(old)
            old.transition(
                _CANCELLED,
                at=now,
                reason=f"replaced by {managed.order_id}: the sim keeps one working order per "
                "symbol (on_second_order='replace')",
            )
        self._enqueue(managed)
        return managed.to_ack()

    async def cancel_order(self, order_id: str) -> OrderAck:
        """Cancel a working order.

        Raises:
            BackendError: If the order is unknown.
            OrderStateError: If the order is no longer open.
        """
        self._sync()
        managed = self._lookup(order_id)
        managed.transition(OrderStatus.CANCELLED, at=self._clock.now(), reason="cancelled")
        self._withdraw(managed)
        return managed.to_ack()

    async def replace_order(
        self, order_id: str, *, quantity: float | None = None, price: float | None = None
    ) -> OrderAck:
        """Replace a working order's quantity and/or price (a stop order's stop price).

        Raises:
            BackendError: If the order is unknown or the new terms are invalid.
            OrderStateError: If the order is no longer open.
        """
        self._sync()
        old = self._lookup(order_id)
        check_transition(
            old.order_id, old.request.client_order_id, old.status, OrderStatus.REPLACED
        )
        req = old.request
        if price is not None and req.order_type is OrderType.MARKET:
            raise BackendError(
                f"order {old.order_id!r} is a market order; it has no price to replace. "
                "Cancel it and place a limit order instead."
            )
        is_stop = req.order_type is OrderType.STOP
        try:
            new_request = req.replace(
                client_order_id=f"{req.client_order_id}~r{len(self._orders) + 1}",
                quantity=old.remaining if quantity is None else quantity,
                price=req.price if price is None or is_stop else price,
                stop_price=price if price is not None and is_stop else req.stop_price,
            )
        except RecordError as exc:
            raise BackendError(f"cannot replace order {old.order_id!r}: {exc}") from exc
        reason = self._sim_reason(new_request, replacing=old)
        if reason:
            raise BackendError(f"cannot replace order {old.order_id!r}: {reason}")
        now = self._clock.now()
        new = self._register(new_request)
        self._withdraw(old)
        old.transition(OrderStatus.REPLACED, at=now, reason=f"replaced by {new.order_id}")
        new.transition(OrderStatus.ACCEPTED, at=now, reason=f"replaces {old.order_id}")
        self._enqueue(new)
        return new.to_ack()

    async def get_order(self, order_id: str) -> OrderRequest:
        """The request an order was placed with.

        Raises:
            BackendError: If the order is unknown.
        """
        self._sync()
        return self._lookup(order_id).request

    async def open_orders(self, symbol: str | None = None) -> tuple[OrderAck, ...]:
        """Acks of working orders, oldest first."""
        self._sync()
        return self._open_orders(symbol)

    async def fills(self, order_id: str | None = None) -> tuple[Fill, ...]:
        """Fills in execution order, optionally for one order (by order or client id)."""
        self._sync()
        return self._fills(order_id)

    async def query_portfolio(self) -> PortfolioSnapshot:
        """Cash, positions marked to the last complete bar's close, and equity."""
        self._sync()
        return self._portfolio()

    async def last_price(self, symbol: str) -> float:
        """The close of ``symbol``'s last complete bar.

        Raises:
            BackendError: If the symbol is not traded here.
        """
        self._sync()
        return self._last_price(symbol)

    # ------------------------------------------------------------------ order checks

    def _fill_quantity(self, order: ManagedOrder, price: float) -> float:
        return 0.0  # the kernel decides every fill; prices are never matched here

    @property
    def fee_rate(self) -> float:
        """What a market fill pays beyond its price, fees and slippage, as a fraction of it."""
        return (1.0 + float(self._params[k.P_FEES])) * (1.0 + float(self._params[k.P_SLIP])) - 1.0

    def _debit(self, amount: float) -> None:
        self._cash -= amount  # the kernel's cash is authoritative; the ledger follows it
        super()._debit(amount)

    def _index_bars(self) -> None:
        """Python copies of the open times and closes, for the reads done on every call.

        They hold exactly the arrays' values (``int``/``float`` of each element).
        """
        self._opens = self._bars.opens_ns.tolist()
        self._closes = [o[3][:, 0].tolist() for o in self._bars.ohlc]
        self._decided: tuple[int, int] | None = None  # (t_ns, its decision bar), last asked

    def _now_ns(self) -> int:
        """``ns(clock.now())``, remembered while the clock returns the same datetime."""
        now = self._clock.now()
        if now is not self._ns_at:
            self._ns_at, self._ns = now, ns(now)
        return self._ns

    def _decision_bar(self, t_ns: int) -> int:
        """The bar an order decided at ``t_ns`` belongs to: the last one opened before it."""
        decided = self._decided
        if decided is not None and decided[0] == t_ns:
            return decided[1]
        if MIN_NS <= t_ns <= MAX_NS:  # bisect on the Python ints: searchsorted's answer
            bar = bisect_left(self._opens, t_ns) - 1
            self._decided = (t_ns, bar)
            return bar
        return int(np.searchsorted(self._bars.opens_ns, t_ns, side="left")) - 1

    def _sim_reason(self, order: OrderRequest, *, replacing: ManagedOrder | None) -> str:
        now = self._clock.now()
        if self._done == 0:
            first = ts(int(self._bars.opens_ns[0]) + self._tf_ns)
            return f"no bar is complete at {now} (the first completes at {first}); wait for it"
        if order.order_type is _STOP and order.price is not None:
            return "stop-limit orders are not simulated; pass stop_price only (a stop order)"
        if order.order_type is not _MARKET and order.time_in_force is not _GTC:
            return (
                f"time_in_force={order.time_in_force.value!r} is not simulated for "
                f"{order.order_type.value} orders; use 'gtc' and cancel the order when done"
            )
        fills_now = self._close_exec and order.order_type is _MARKET
        n_bars = len(self._opens)
        if (
            not self._streaming
            and not fills_now
            and self._decision_bar(self._now_ns()) + 1 >= n_bars
        ):
            return (
                f"no bar after {now} to fill at: the data ends with the bar opened at "
                f"{self.bar_time(-1)}. An order placed at the last bar can never fill; stop "
                "one bar earlier (or pass streaming=True and append bars)."
            )
        if self._on_second != "reject":
            return ""
        old = self._working_order(self._col[order.symbol])
        if old is not None and old is not replacing:
            return (
                f"order {old.order_id} is already working on {order.symbol}; the sim keeps one "
                "working order per symbol: cancel or replace it first"
            )
        return ""

    # ------------------------------------------------------------------ kernel driving

    def _working_order(self, c: int) -> ManagedOrder | None:
        for _, pending in self._pending:
            if self._col[pending.request.symbol] == c:
                return pending
        current = self._working[c]
        return current if current is not None and current.is_open else None

    def _enqueue(self, order: ManagedOrder) -> None:
        self._pending.append((self._now_ns(), order))
        self._flush(self._done)

    def _withdraw(self, order: ManagedOrder) -> None:
        """Take ``order`` out of the kernel (it stays in the book with its own status)."""
        self._pending = [(t, o) for t, o in self._pending if o is not order]
        c = self._col[order.request.symbol]
        if self._working[c] is order:
            self._rows[c][_S_KIND] = k.K_NONE  # what a zero-size market order does
            self._working[c] = None

    def _sync(self) -> None:
        now = self._clock.now()
        if now == self._synced_at:
            # Same clock reading as the last sync, same bars: the same bars are complete, and
            # every pending order that was due then was submitted then (orders queued since
            # were flushed by _enqueue against the same bars), so there is nothing to do.
            return
        cut = ns(now) - self._tf_ns  # bars opened at or before this are complete
        if MIN_NS <= cut <= MAX_NS:
            stop = bisect_right(self._opens, cut)  # searchsorted(..., side="right")
        else:
            stop = int(np.searchsorted(self._bars.opens_ns, cut, side="right"))
        if stop > self._done or self._pending:
            self._flush(max(stop, self._done))
        self._synced_at = now

    def _flush(self, stop: int) -> None:
        """Step to bar ``stop``, submitting each pending order once its decision bar is done."""
        n_bars = len(self._opens)
        while self._pending:
            if len(self._pending) == 1:  # the usual case: the one order just placed
                t, order = self._pending[0]
                j = self._decision_bar(t)
                if not (j < stop and (j + 1 < n_bars or self._close_exec)):
                    break
                self._step(j + 1)
                self._pending = []
                self._submit(order, j)
                continue
            due = [(self._decision_bar(t), o) for t, o in self._pending]
            ready = [(j, o) for j, o in due if j < stop and (j + 1 < n_bars or self._close_exec)]
            if not ready:
                break
            j0 = min(j for j, _ in ready)
            self._step(j0 + 1)
            for j, order in ready:
                if j == j0:
                    self._pending = [(t, o) for t, o in self._pending if o is not order]
                    self._submit(order, j0)
        self._step(stop)

    def __repr__(self) -> str:
        return (
            f"SimTradingBackend(symbols={list(self._bars.symbols)}, timeframe={self.timeframe!r}, "
            f"bars={self._done}/{self.n_bars}, clock={self._clock!r})"
        )
