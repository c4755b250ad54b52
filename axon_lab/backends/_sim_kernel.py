"""The kernel side of :class:`~axon_lab.backends.sim.SimTradingBackend`: stepping and booking.

The sim backend keeps one kernel column per symbol (its state row in ``_state``) and steps the
compiled fill kernel over completed bars. This base class holds that part: submitting an order to
its column, running the kernel over a bar range (one call per range, or bar by bar while two or
more symbols compete for the shared cash), booking each kernel fill record as a :class:`Fill` in
the ledger (stop-loss and take-profit exits as orders of their own), and closing the orders the
kernel has consumed. :class:`~axon_lab.backends.sim.SimTradingBackend` sets the attributes
declared here in its ``__init__`` and drives time and the order queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import numpy as np

from axon_lab.backtest import _kernels as k
from axon_lab.backtest import fill_range_nb, submit_orders_nb
from axon_lab.errors import BackendError
from axon_lab.records import Fill, OrderStatus, OrderType, Side

from ._sim_bars import SimBars
from ._sim_orders import exit_request, ts, unfilled_reason
from .base import BaseTradingBackend
from .order_state import ManagedOrder

__all__ = ["SimKernel"]

_EMPTY2 = np.empty((0, 0))
_NO_ORDERS = (*[np.empty(0, dtype=np.int64)] * 3, *[np.empty(0)] * 4)  # (read only)
_FILL_RANGE: Callable[..., int] = fill_range_nb  # typed view of the numba dispatcher
_SUBMIT: Callable[..., int] = submit_orders_nb
_OT = {OrderType.MARKET: k.OT_MARKET, OrderType.LIMIT: k.OT_LIMIT, OrderType.STOP: k.OT_STOP}
_NAN = math.nan
_R_COL, _R_BAR, _R_KIND, _R_SIZE, _R_PRICE, _R_FEE = (
    k.R_COL, k.R_BAR, k.R_KIND, k.R_SIZE, k.R_PRICE, k.R_FEE
)  # fmt: skip
_EXITS = (k.F_STOP_LOSS, k.F_TAKE_PROFIT)
_S_CASH, _S_KIND = k.S_CASH, k.S_KIND
_STOP = OrderType.STOP
_BUY, _SELL = Side.BUY, Side.SELL


class SimKernel(BaseTradingBackend):
    """Kernel stepping and fill booking for the sim backend (set up by its ``__init__``)."""

    _params: np.ndarray
    _direction: str
    _bars: SimBars
    _opens: list[int]  # the bars' open times (int64 ns) as Python ints
    _closes: list[list[float]]  # per symbol, the closes as Python floats
    _tf_ns: int
    _col: dict[str, int]
    _state: np.ndarray  # the kernel state, one row per symbol
    _rows: list[np.ndarray]  # per column, its state row (1-D view)
    _blocks: list[np.ndarray]  # per column, its state row as a (1, N_STATE) block
    _cash: float  # the kernel's cash, shared by all symbols
    _done: int  # bars [0, done) have been stepped
    _working: list[ManagedOrder | None]  # per column, the order in the kernel
    _entry: list[ManagedOrder | None]  # per column, the entry an armed SL/TP belongs to
    _sub_type: np.ndarray  # reused one-order inputs of the submit kernel
    _sub_vals: list[np.ndarray]
    _sub_records: np.ndarray

    def _submit(self, order: ManagedOrder, bar: int) -> None:
        req = order.request
        c = self._col[req.symbol]
        level = req.stop_price if req.order_type is _STOP else req.price
        records = self._sub_records
        types = self._sub_type
        size, levels, sls, tps = self._sub_vals
        types[0] = _OT[req.order_type]
        size[0] = req.signed_quantity
        levels[0] = _NAN if level is None else level
        sls[0] = _NAN if req.stop_loss is None else req.stop_loss
        tps[0] = _NAN if req.take_profit is None else req.take_profit
        row = self._rows[c]
        row[_S_CASH] = self._cash
        m = _SUBMIT(
            self._state, c, bar, self._closes[c][bar],
            types, size, levels, sls, tps, self._params, records,
        )  # fmt: skip
        self._cash = row.item(_S_CASH)  # (a Python float: float(row[_S_CASH]))
        self._working[c] = order
        if m:
            close_time = self._opens[bar] + self._tf_ns
            self._book(records[:m], at=lambda _bar: close_time)
        else:
            self._ledger.cash = self._cash  # what booking no records does
        self._reconcile()

    def _is_live(self, c: int) -> bool:
        st = self._rows[c].tolist()  # Python floats: the same comparisons, no numpy scalars
        armed = not (math.isnan(st[k.S_POS_SL]) and math.isnan(st[k.S_POS_TP]))
        return bool(st[k.S_KIND] != k.K_NONE or (st[k.S_POS] != 0.0 and armed))

    def _run_col(self, c: int, start: int, stop: int) -> np.ndarray:
        o, h, lo, cl = self._bars.ohlc[c]
        records = np.empty((2 * (stop - start) + 4, k.N_REC))
        row = self._rows[c]
        row[_S_CASH] = self._cash  # cash is shared by all symbols
        m = _FILL_RANGE(
            o, h, lo, cl, _EMPTY2, k.K_SIGNAL, *_NO_ORDERS, self._params, self._blocks[c],
            start, stop, _EMPTY2, _EMPTY2, _EMPTY2, records, _EMPTY2,
        )  # fmt: skip
        self._cash = row.item(_S_CASH)
        out = records[:m]
        out[:, k.R_COL] = c
        return out

    def _step(self, stop: int) -> None:
        """Run the kernel over bars ``[done, stop)`` and book what filled."""
        if stop <= self._done:
            return
        parts: list[np.ndarray] = []
        i = self._done
        while i < stop:
            live = [c for c in range(len(self._working)) if self._is_live(c)]
            if len(live) <= 1:  # nothing else can fill: one call over the whole range
                parts.extend(self._run_col(c, i, stop) for c in live)
                break
            parts.extend(self._run_col(c, i, i + 1) for c in live)
            i += 1
        self._done = stop
        if parts:
            rec = parts[0] if len(parts) == 1 else np.concatenate(parts)
            if rec.shape[0] > 1:  # (a stable sort leaves a single row where it is)
                rec = rec[np.argsort(rec[:, k.R_BAR], kind="stable")]
            opens = self._opens
            self._book(rec, at=opens.__getitem__)
        self._reconcile()
        marks = self._marks
        for sym, c in self._col.items():
            marks[sym] = self._closes[c][stop - 1]
        self._marks_version += 1  # the marks moved to bar stop - 1's closes

    def _book(self, records: np.ndarray, *, at: Callable[[int], int]) -> None:
        for row in records.tolist():  # Python floats, the values float(row[i]) would give
            c, bar, kind = int(row[_R_COL]), int(row[_R_BAR]), int(row[_R_KIND])
            size, price, fee = row[_R_SIZE], row[_R_PRICE], row[_R_FEE]
            when = ts(at(bar))
            if kind in _EXITS:
                order = self._exit_order(c, kind, size, price, when)
            else:
                working = self._working[c]
                if working is None:
                    raise BackendError(f"internal: a fill on {self._bars.symbols[c]} has no order")
                order = working
                req = order.request
                if req.stop_loss is not None or req.take_profit is not None:
                    self._entry[c] = order
            quantity = abs(size)
            order.record_fill(quantity, price, at=when)
            fill = Fill(
                fill_id=f"{order.order_id}-fill-{len(self._ledger.fills) + 1}",
                order_id=order.order_id,
                symbol=order.request.symbol,
                side=_BUY if size > 0 else _SELL,
                quantity=quantity,
                price=price,
                fee=max(fee, 0.0),  # an all-in buy's fee is a difference: clamp a -1e-13
                timestamp=when,
            )
            self._ledger.apply(fill)
        self._ledger.cash = self._cash  # the kernel's cash is authoritative (no float drift)

    def _exit_order(
        self, c: int, kind: int, size: float, price: float, when: datetime
    ) -> ManagedOrder:
        entry = self._entry[c]
        request, reason = exit_request(
            entry, self._bars.symbols[c], kind == k.F_STOP_LOSS, size, price, len(self._orders) + 1
        )
        order_id = f"{self._prefix}-{len(self._orders) + 1}"
        managed = ManagedOrder(order_id, request, created_at=when)
        self._add_order(managed)
        managed.transition(OrderStatus.ACCEPTED, at=when, reason=reason)
        return managed

    def _reconcile(self) -> None:
        """Close orders the kernel has consumed (filled, partly filled or unfillable)."""
        for c, order in enumerate(self._working):
            if order is None or (order.is_open and self._rows[c].item(_S_KIND) != k.K_NONE):
                continue  # (nothing working, or still working in the kernel)
            self._working[c] = None
            if order.is_open:
                order.transition(
                    OrderStatus.CANCELLED,
                    at=self._clock.now(),
                    reason=unfilled_reason(order, self._direction),
                )
