"""Order helpers of :class:`~axon_lab.backends.sim.SimTradingBackend`: exits, reasons, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from axon_lab.records import OrderRequest, OrderType, Side

from .order_state import ManagedOrder

__all__ = ["MAX_NS", "MIN_NS", "exit_request", "ns", "ts", "unfilled_reason"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


MIN_NS = int(pd.Timestamp.min.value)
"""The earliest int64 nanosecond time a Timestamp holds (NaT is one below)."""
MAX_NS = int(pd.Timestamp.max.value)
"""The latest int64 nanosecond time a Timestamp holds."""


def ts(nanos: int) -> datetime:
    """A UTC datetime from int64 nanoseconds."""
    if nanos % 1_000 == 0 and MIN_NS <= nanos <= MAX_NS:
        # whole microseconds: exact integer arithmetic gives the very datetime pandas would
        # (tzinfo datetime.UTC), without building a Timestamp
        return _EPOCH + timedelta(microseconds=nanos // 1_000)
    return pd.Timestamp(nanos, tz="UTC").to_pydatetime()  # warns about dropped nanoseconds


def ns(moment: datetime) -> int:
    """Int64 nanoseconds of an aware datetime."""
    if type(moment) is datetime and moment.tzinfo is not None:
        # a plain datetime has microsecond resolution: exact integer arithmetic, no Timestamp
        return (moment - _EPOCH) // _MICROSECOND * 1_000
    return int(pd.Timestamp(moment).as_unit("ns").value)


def exit_request(
    entry: ManagedOrder | None, symbol: str, is_sl: bool, size: float, price: float, serial: int
) -> tuple[OrderRequest, str]:
    """The reduce-only order a stop-loss or take-profit exit is booked as, and its reason.

    Args:
        entry: The order that attached the stop-loss / take-profit (None if unknown).
        symbol: The symbol.
        is_sl: A stop-loss (a stop order) rather than a take-profit (a limit order).
        size: The signed size the kernel filled.
        price: The fill price (the level when ``entry`` names none).
        serial: A number that keeps the client order id unique.
    """
    level = None
    if entry is not None:
        level = entry.request.stop_loss if is_sl else entry.request.take_profit
    level = price if level is None else level
    tag = "sl" if is_sl else "tp"
    parent = entry.request.client_order_id if entry is not None else symbol
    request = OrderRequest(
        client_order_id=f"{parent}~{tag}{serial}",
        symbol=symbol,
        side=Side.BUY if size > 0 else Side.SELL,
        quantity=abs(size),
        order_type=OrderType.STOP if is_sl else OrderType.LIMIT,
        price=None if is_sl else level,
        stop_price=level if is_sl else None,
        reduce_only=True,
    )
    what = "stop-loss" if is_sl else "take-profit"
    return request, f"{what} of {entry.order_id if entry is not None else 'the position'}"


def unfilled_reason(order: ManagedOrder, direction: str) -> str:
    """Why the kernel dropped (the rest of) ``order``: buys are capped by cash, sells by holding."""
    req = order.request
    done = f"filled {order.filled_quantity:g} of {req.quantity:g}"
    if req.side is Side.BUY:
        return f"{done}: not enough cash for the rest (buys are capped by cash and leverage)"
    if direction == "long":
        return f"{done}: nothing more to sell (direction='long'; pass 'both' to go short)"
    return f"{done}: the short is capped by leverage"
