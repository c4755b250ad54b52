"""Records built on the hot path without a second pydantic validation, when that is provably safe.

A backend (and the risk chain) builds its acks, fills, snapshots and verdicts from values it has
already checked or computed itself. Running pydantic over them again costs more than the rest of
the bookkeeping, so the builders here first test, in plain Python, the exact constraints the
record's schema would test (types, finiteness, ranges, the symbol pattern) and only then lay
the instance out directly (``axon_lab.records._construct.raw``). Anything unusual — a NaN, an
infinity, an int where the schema wants a float, a string where it wants an enum member, a
pandas timestamp, a symbol not yet seen — takes the ordinary validating constructor, which
raises exactly the
:class:`~axon_lab.errors.RecordError` it always did. So a fast build is always equal (``==``, the
same JSON, the same ``model_fields_set``) to the validated one, and nothing invalid gets through.

Nothing here is for values from an LLM, a user or tool-call JSON: those are always validated.

Examples:
    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> fast = position("X", 2.0, 10.0, 11.0)
    >>> fast == Position(symbol="X", quantity=2.0, avg_price=10.0, mark_price=11.0)
    True
    >>> position("X", 2.0, 10.0, float("nan"))
    Traceback (most recent call last):
    ...
    axon_lab.errors.RecordError: Invalid Position.mark_price = nan: Input should be a finite number.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from axon_lab.records import (
    Fill,
    OrderAck,
    OrderStatus,
    PortfolioSnapshot,
    Position,
    Side,
)
from axon_lab.records._construct import has_layout, raw

__all__ = ["ack", "fill", "portfolio", "position"]

_INF = math.inf
# symbols that passed the Symbol constraint once (pydantic's own check, so its regex engine)
_SYMBOLS: set[str] = set()


_POSITION = ("symbol", "quantity", "avg_price", "mark_price")
_SNAPSHOT = ("timestamp", "cash", "positions", "equity", "realized_pnl", "fees_paid")
_FILL = ("fill_id", "order_id", "symbol", "side", "quantity", "price", "fee", "timestamp")
_ACK = (
    "order_id", "client_order_id", "symbol", "side", "quantity", "status", "timestamp",
    "filled_quantity", "avg_fill_price", "message", "confirm_token",
)  # fmt: skip
_FAST_POSITION = has_layout(Position, _POSITION, {})
_FAST_SNAPSHOT = has_layout(PortfolioSnapshot, _SNAPSHOT, {})
_FAST_FILL = has_layout(Fill, _FILL, {})
_FAST_ACK = has_layout(OrderAck, _ACK, {"confirm_token": None})


def position(symbol: str, quantity: float, avg_price: float, mark_price: float) -> Position:
    """A :class:`~axon_lab.records.Position` (validated unless the values are plainly valid).

    Raises:
        RecordError: If a value is invalid (e.g. a NaN mark price).
    """
    if (
        _FAST_POSITION
        and type(quantity) is float
        and -_INF < quantity < _INF
        and type(avg_price) is float
        and 0.0 <= avg_price < _INF
        and type(mark_price) is float
        and 0.0 < mark_price < _INF
        and type(symbol) is str
        and symbol in _SYMBOLS
    ):
        data = {
            "symbol": symbol,
            "quantity": quantity,
            "avg_price": avg_price,
            "mark_price": mark_price,
        }
        return raw(Position, data, set(_POSITION))
    pos = Position(symbol=symbol, quantity=quantity, avg_price=avg_price, mark_price=mark_price)
    if type(symbol) is str:
        _SYMBOLS.add(symbol)  # pydantic accepted it as a Symbol
    return pos


def portfolio(
    *,
    timestamp: datetime,
    cash: float,
    positions: dict[str, Position],
    realized_pnl: float,
    fees_paid: float,
) -> PortfolioSnapshot:
    """``PortfolioSnapshot.build(...)``, without re-validating plainly valid values.

    Equity is computed exactly as ``build`` computes it, so the model's equity check holds.

    Raises:
        RecordError: If a value is invalid (e.g. a non-finite cash or equity).
    """
    equity = cash + math.fsum(p.quantity * p.mark_price for p in positions.values())
    if (
        _FAST_SNAPSHOT
        and type(equity) is float
        and -_INF < equity < _INF
        and type(cash) is float
        and -_INF < cash < _INF
        and type(realized_pnl) is float
        and -_INF < realized_pnl < _INF
        and type(fees_paid) is float
        and 0.0 <= fees_paid < _INF
        and type(timestamp) is datetime
        and timestamp.tzinfo is UTC
        and all(
            type(p) is Position and type(sym) is str and sym in _SYMBOLS and p.symbol == sym
            for sym, p in positions.items()
        )
    ):
        data = {
            "timestamp": timestamp,
            "cash": cash,
            "positions": dict(positions),
            "equity": equity,
            "realized_pnl": realized_pnl,
            "fees_paid": fees_paid,
        }
        return raw(PortfolioSnapshot, data, set(_SNAPSHOT))
    return PortfolioSnapshot.build(
        timestamp=timestamp,
        cash=cash,
        positions=positions,
        realized_pnl=realized_pnl,
        fees_paid=fees_paid,
    )


def fill(
    *,
    fill_id: str,
    order_id: str,
    symbol: str,
    side: Side,
    quantity: float,
    price: float,
    fee: float,
    timestamp: datetime,
) -> Fill:
    """A :class:`~axon_lab.records.Fill` (validated unless the values are plainly valid).

    Raises:
        RecordError: If a value is invalid (e.g. a zero quantity or a NaN price).
    """
    data: dict[str, Any] = {  # in schema order: the fast path's __dict__, the slow path's arguments
        "fill_id": fill_id,
        "order_id": order_id,
        "symbol": symbol,
        "side": side,
        "quantity": quantity,
        "price": price,
        "fee": fee,
        "timestamp": timestamp,
    }
    if (
        _FAST_FILL
        and type(quantity) is float
        and 0.0 < quantity < _INF
        and type(price) is float
        and 0.0 < price < _INF
        and type(fee) is float
        and 0.0 <= fee < _INF
        and type(timestamp) is datetime
        and timestamp.tzinfo is UTC
        and type(side) is Side
        and type(fill_id) is str
        and type(order_id) is str
        and type(symbol) is str
        and symbol in _SYMBOLS
    ):
        return raw(Fill, data, set(_FILL))
    out = Fill(**data)
    if type(symbol) is str:
        _SYMBOLS.add(symbol)
    return out


_ACK_SET = frozenset(_ACK[:-1])  # what to_ack passes (every field but confirm_token)


def ack(
    *,
    order_id: str,
    client_order_id: str,
    symbol: str,
    side: Side,
    quantity: float,
    status: OrderStatus,
    timestamp: datetime,
    filled_quantity: float,
    avg_fill_price: float | None,
    message: str,
) -> OrderAck:
    """An :class:`~axon_lab.records.OrderAck` (validated unless the values are plainly valid).

    Raises:
        RecordError: If a value is invalid.
    """
    data: dict[str, Any] = {  # in schema order, every field but the defaulted confirm_token
        "order_id": order_id,
        "client_order_id": client_order_id,
        "symbol": symbol,
        "side": side,
        "quantity": quantity,
        "status": status,
        "timestamp": timestamp,
        "filled_quantity": filled_quantity,
        "avg_fill_price": avg_fill_price,
        "message": message,
    }
    if (
        _FAST_ACK
        and type(quantity) is float
        and 0.0 < quantity < _INF
        and type(filled_quantity) is float
        and 0.0 <= filled_quantity < _INF
        and (
            avg_fill_price is None
            or (type(avg_fill_price) is float and 0.0 < avg_fill_price < _INF)
        )
        and type(timestamp) is datetime
        and timestamp.tzinfo is UTC
        and type(side) is Side
        and type(status) is OrderStatus
        and type(order_id) is str
        and type(client_order_id) is str
        and type(message) is str
        and type(symbol) is str
        and symbol in _SYMBOLS
    ):
        data["confirm_token"] = None  # the default, last in schema order; not in the set
        return raw(OrderAck, data, set(_ACK_SET))
    out = OrderAck(**data)
    if type(symbol) is str:
        _SYMBOLS.add(symbol)
    return out
