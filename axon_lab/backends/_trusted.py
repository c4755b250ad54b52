"""Records built on the hot path without a second pydantic validation, when that is provably safe.

A backend (and the risk chain) builds its acks, fills, snapshots and verdicts from values it has
already checked or computed itself. Running pydantic over them again costs more than the rest of
the bookkeeping, so the builders here first test, in plain Python, the exact constraints the
record's schema would test (types, finiteness, ranges, the symbol pattern) and only then assemble
the instance directly (:func:`trusted`). Anything unusual — a NaN, an infinity, an int where the
schema wants a float, a string where it wants an enum member, a pandas timestamp, a symbol not
yet seen — takes the ordinary validating constructor, which raises exactly the
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
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from axon_lab.records import (
    Fill,
    OrderAck,
    OrderStatus,
    PortfolioSnapshot,
    Position,
    Side,
)

__all__ = [
    "ack",
    "after_validators",
    "fill",
    "has_layout",
    "is_finite",
    "is_utc",
    "known_symbol",
    "portfolio",
    "position",
    "raw",
    "trusted",
]

M = TypeVar("M", bound=BaseModel)

_INF = math.inf
# BaseModel's own slots (every model instance has them): set directly, as model_construct does
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
# per class: (defaults in field order, required names, all names)
_SPECS: dict[type[BaseModel], tuple[dict[str, Any], frozenset[str], frozenset[str]]] = {}
# symbols that passed the Symbol constraint once (pydantic's own check, so its regex engine)
_SYMBOLS: set[str] = set()


def _spec(cls: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    if cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.__pydantic_root_model__:
        raise TypeError(f"{cls.__name__} needs pydantic's own construction")
    defaults: dict[str, Any] = {}
    required: set[str] = set()
    for name, info in cls.model_fields.items():
        if info.alias not in (None, name):
            raise TypeError(f"{cls.__name__}.{name} has an alias")
        if info.is_required() or info.default_factory is not None:
            required.add(name)  # a factory's value must be passed (never a shared default)
            defaults[name] = None  # placeholder keeping the field order; always overwritten
        else:
            defaults[name] = info.default
    spec = (defaults, frozenset(required), frozenset(defaults))
    _SPECS[cls] = spec
    return spec


def raw(cls: type[M], data: dict[str, Any], fields_set: set[str]) -> M:
    """An instance of ``cls`` with ``__dict__`` ``data`` (every field, in schema order).

    The lowest level of :func:`trusted`, for builders that lay the fields out themselves (and
    check that layout against the schema once, with :func:`has_layout`).
    """
    obj = _new(cls)
    _set_dict(obj, data)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def has_layout(cls: type[BaseModel], names: tuple[str, ...], defaults: dict[str, Any]) -> bool:
    """Whether ``cls`` has exactly the fields ``names`` (in order) and these ``defaults``.

    A builder that writes ``__dict__`` itself uses its fast path only while this holds, so a
    change to the record's schema turns the fast path off instead of building wrong records.
    """
    try:
        spec = _SPECS.get(cls) or _spec(cls)
    except TypeError:
        return False
    fields = cls.model_fields
    return tuple(spec[0]) == names and all(
        name in fields
        and not fields[name].is_required()
        and fields[name].default_factory is None
        and fields[name].default == value
        and type(fields[name].default) is type(value)
        for name, value in defaults.items()
    )


def after_validators(cls: type[BaseModel]) -> tuple[Callable[[Any], Any], ...] | None:
    """The ``mode="after"`` model validators pydantic re-runs on a nested ``cls`` instance.

    An instance nested in another record is not re-validated, but these run on it again; None
    if ``cls`` has validators of another kind, which cannot be replayed that way.
    """
    decorators = cls.__pydantic_decorators__
    infos = list(decorators.model_validators.values())
    if not all(d.info.mode == "after" for d in infos) or (
        decorators.field_validators or decorators.validators or decorators.root_validators
    ):
        return None
    return tuple(d.func for d in infos)


def trusted(cls: type[M], /, **values: Any) -> M:
    """An instance of ``cls`` from values the caller guarantees valid, without validation.

    The caller must have checked every constraint the schema (and its model validators) would
    check; unknown or missing fields raise TypeError. The instance is what validation would have
    built from the same values: fields in schema order, defaults filled, ``model_fields_set``
    the names passed.

    Raises:
        TypeError: If a required field is missing or an unknown one is given.
    """
    spec = _SPECS.get(cls) or _spec(cls)
    defaults, required, names = spec
    keys = values.keys()
    if not (keys >= required and keys <= names):
        raise TypeError(
            f"{cls.__name__}: missing {sorted(required - keys)}, unknown {sorted(keys - names)}"
        )
    data = defaults.copy()
    data.update(values)  # existing keys keep their (schema) position
    return raw(cls, data, set(keys))


def is_finite(x: object) -> bool:
    """A plain float, not NaN or infinite (what ``Finite`` accepts unchanged)."""
    return type(x) is float and -_INF < x < _INF


def is_utc(t: object) -> bool:
    """A plain datetime in UTC (what ``UTCDatetime`` returns unchanged)."""
    return type(t) is datetime and t.tzinfo is UTC


def known_symbol(symbol: object) -> bool:
    """Whether ``symbol`` already passed the records' ``Symbol`` constraint in this process."""
    return type(symbol) is str and symbol in _SYMBOLS


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
        data = {
            "fill_id": fill_id,
            "order_id": order_id,
            "symbol": symbol,
            "side": side,
            "quantity": quantity,
            "price": price,
            "fee": fee,
            "timestamp": timestamp,
        }
        return raw(Fill, data, set(_FILL))
    out = Fill(
        fill_id=fill_id,
        order_id=order_id,
        symbol=symbol,
        side=side,
        quantity=quantity,
        price=price,
        fee=fee,
        timestamp=timestamp,
    )
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
        data = {
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
            "confirm_token": None,
        }
        return raw(OrderAck, data, set(_ACK_SET))
    out = OrderAck(
        order_id=order_id,
        client_order_id=client_order_id,
        symbol=symbol,
        side=side,
        quantity=quantity,
        status=status,
        timestamp=timestamp,
        filled_quantity=filled_quantity,
        avg_fill_price=avg_fill_price,
        message=message,
    )
    if type(symbol) is str:
        _SYMBOLS.add(symbol)
    return out
