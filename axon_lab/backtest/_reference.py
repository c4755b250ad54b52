"""A slow, obvious, pure-Python statement of the fill model, for testing the compiled kernels.

One column, plain floats and lists, no numba. The rules are those of the module docstring of
:mod:`axon_lab.backtest._kernels`; the tests check that :func:`fill_range_nb` produces the same
fills, cash, positions and equity as :func:`reference_fills` on random prices and orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fill", "RefOrder", "RefResult", "reference_fills"]


@dataclass(frozen=True, slots=True)
class RefOrder:
    """An explicit order, decided at the close of ``bar``."""

    bar: int
    size: float  # signed units, +-inf = as much as allowed, 0 = cancel
    type: str = "market"  # market | limit | stop
    price: float = math.nan
    stop_loss: float = math.nan
    take_profit: float = math.nan


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill: bar, signed size, execution price, fee and kind."""

    bar: int
    size: float
    price: float
    fee: float
    kind: str


@dataclass(slots=True)
class RefResult:
    """Per-bar series and the fills."""

    equity: list[float] = field(default_factory=list)
    cash: list[float] = field(default_factory=list)
    position: list[float] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)


@dataclass(slots=True)
class _Working:
    kind: str  # market | target | signal | limit | stop
    size: float
    price: float
    stop_loss: float
    take_profit: float
    active_from: int


def reference_fills(
    open_: list[float],
    high: list[float],
    low: list[float],
    close: list[float],
    *,
    targets: list[float] | None = None,
    target_kind: str = "signal",
    orders: list[RefOrder] | None = None,
    fees: float = 0.0,
    fixed_fee: float = 0.0,
    slippage: float = 0.0,
    lot_size: float = 0.0,
    leverage: float = 1.0,
    allow_short: bool = False,
    execution: str = "next_open",
    init_cash: float = 10_000.0,
) -> RefResult:
    """Simulate one column bar by bar with the documented rules."""
    cash, pos = init_cash, 0.0
    working: _Working | None = None
    sl = tp = math.nan
    sltp_from = 0
    out = RefResult()
    by_bar: dict[int, list[RefOrder]] = {}
    for order in orders or []:
        by_bar.setdefault(order.bar, []).append(order)

    def lot_down(x: float) -> float:
        return math.floor(x / lot_size + 1e-9) * lot_size if lot_size > 0 else x

    def execute(size: float, price: float, slip: bool) -> tuple[float, float, float]:
        nonlocal cash, pos
        equity = cash + pos * price
        if size > 0:
            px = price * (1 + slippage) if slip else price
            spendable = cash + (leverage - 1) * max(equity, 0.0)
            most = (spendable - fixed_fee) / (1 + fees) / px
            if most <= 0:
                return 0.0, px, 0.0
            all_in = size >= most
            qty = most if all_in else size
            if lot_size > 0:
                qty = lot_down(qty)
                if qty * px * (1 + fees) + fixed_fee > spendable:
                    qty -= lot_size
                all_in = False
            if qty <= 0:
                return 0.0, px, 0.0
            value = qty * px
            fee = spendable - value if all_in else value * fees + fixed_fee
            cash = cash - spendable if all_in else cash - value - fee
            pos += qty
            return qty, px, fee
        if size < 0:
            px = price * (1 - slippage) if slip else price
            most = pos + leverage * max(equity, 0.0) / px if allow_short else max(pos, 0.0)
            if most <= 0:
                return 0.0, px, 0.0
            qty = min(-size, most)
            if lot_size > 0 and qty != pos:
                qty = min(lot_down(qty), most)
            if qty <= 0:
                return 0.0, px, 0.0
            value = qty * px
            fee = value * fees + fixed_fee
            if fee > value and cash + value - fee < 0:
                return 0.0, px, 0.0
            cash += value - fee
            pos -= qty
            return -qty, px, fee
        return 0.0, price, 0.0

    def target_units(frac: float, price: float, kind: str) -> float:
        if kind == "signal" and (
            (frac > 0 and pos > 0) or (frac < 0 and pos < 0) or (frac == 0 and pos == 0)
        ):
            return 0.0
        if frac == 0 or (frac < 0 and not allow_short):
            return -pos
        equity = cash + pos * price
        delta = frac * equity / price - pos
        return 0.0 if abs(delta) * price <= 1e-12 * max(abs(equity), 1.0) else delta

    def after_fill(pos_before: float, w: _Working, i: int) -> None:
        nonlocal sl, tp, sltp_from
        if pos == 0 or pos_before == 0 or (pos > 0) != (pos_before > 0):
            sl = tp = math.nan
        if pos != 0 and not (math.isnan(w.stop_loss) and math.isnan(w.take_profit)):
            sl, tp, sltp_from = w.stop_loss, w.take_profit, i + 1

    def try_working(i: int, o: float, h: float, lo: float) -> None:
        nonlocal working
        w = working
        if w is None or w.active_from > i:
            return
        price = math.nan
        if w.kind in ("market", "target", "signal"):
            price = o
        elif w.kind == "limit":
            if w.size > 0:
                price = o if o <= w.price else (w.price if lo <= w.price else math.nan)
            else:
                price = o if o >= w.price else (w.price if h >= w.price else math.nan)
        elif w.size > 0:  # stop
            price = o if o >= w.price else (w.price if h >= w.price else math.nan)
        else:
            price = o if o <= w.price else (w.price if lo <= w.price else math.nan)
        if math.isnan(price):
            return
        working = None
        size = w.size
        if w.kind in ("target", "signal"):
            size = target_units(w.size, price, w.kind)
        if size == 0:
            return
        before = pos
        qty, px, fee = execute(size, price, w.kind != "limit")
        if qty != 0:
            after_fill(before, w, i)
            kind = {"limit": "limit", "stop": "stop"}.get(w.kind, "market")
            out.fills.append(Fill(i, qty, px, fee, kind))

    def check_sltp(i: int, o: float, h: float, lo: float) -> None:
        nonlocal sl, tp
        if pos == 0 or sltp_from > i:
            return
        long = pos > 0
        has_sl, has_tp = not math.isnan(sl), not math.isnan(tp)
        hit: tuple[float, str] | None = None
        if has_sl and (o <= sl if long else o >= sl):
            hit = (o, "stop_loss")
        elif has_tp and (o >= tp if long else o <= tp):
            hit = (o, "take_profit")
        elif has_sl and (lo <= sl if long else h >= sl):  # touched both? stop-loss first
            hit = (sl, "stop_loss")
        elif has_tp and (h >= tp if long else lo <= tp):
            hit = (tp, "take_profit")
        if hit is None:
            return
        qty, px, fee = execute(-pos, hit[0], hit[1] == "stop_loss")
        if qty != 0:
            if pos == 0:
                sl = tp = math.nan
            out.fills.append(Fill(i, qty, px, fee, hit[1]))

    def submit(w: _Working) -> None:
        nonlocal working
        working = None if w.kind == "market" and w.size == 0 else w  # size 0 cancels

    def fill_at_close(i: int, cl: float) -> None:
        w = working
        if w is None or execution != "close" or w.kind in ("limit", "stop"):
            return
        if w.active_from == i + 1:  # submitted on this bar: fill at its close
            w.active_from = i
            try_working(i, cl, cl, cl)

    for i in range(len(close)):
        o, h, lo, cl = open_[i], high[i], low[i], close[i]
        try_working(i, o, h, lo)
        check_sltp(i, o, h, lo)
        for ro in by_bar.get(i, []):  # each submission replaces the working order
            submit(_Working(ro.type, ro.size, ro.price, ro.stop_loss, ro.take_profit, i + 1))
        if targets is not None and not math.isnan(targets[i]):
            submit(_Working(target_kind, targets[i], math.nan, math.nan, math.nan, i + 1))
        fill_at_close(i, cl)
        out.cash.append(cash)
        out.position.append(pos)
        out.equity.append(cash + pos * cl)
    return out


def as_float_list(values: Any) -> list[float]:
    """Return ``values`` as a list of Python floats."""
    return [float(v) for v in values]
