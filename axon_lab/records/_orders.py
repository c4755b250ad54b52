"""Decision and order records: decisions, order requests, acknowledgements and fills."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from axon_lab.records._base import (
    NonNegativeFinite,
    PositiveFinite,
    Probability,
    Record,
    Symbol,
    UTCDatetime,
)
from axon_lab.records._enums import (
    Action,
    DecisionSource,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)


class Decision(Record):
    """The Decide stage's output: what to trade, how much, and why."""

    action: Action
    symbol: Symbol
    quantity: PositiveFinite | None = None
    order_type: OrderType = OrderType.MARKET
    price: PositiveFinite | None = None
    stop_loss: PositiveFinite | None = None
    take_profit: PositiveFinite | None = None
    reason: str = ""
    confidence: Probability
    source: DecisionSource

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.action is Action.HOLD:
            if self.quantity is not None:
                raise ValueError(f"a hold decision has no quantity (got {self.quantity})")
            return self
        if self.quantity is None:
            raise ValueError(f"a {self.action} decision needs a positive quantity")
        if self.order_type is not OrderType.MARKET and self.price is None:
            raise ValueError(f"a {self.order_type} order needs a price; pass price=...")
        _check_brackets(self.action, self.price, self.stop_loss, self.take_profit)
        return self


def _check_brackets(
    side: Action | Side, price: float | None, stop: float | None, target: float | None
) -> None:
    buying = side in (Action.BUY, Side.BUY)
    if stop is not None and target is not None:
        if buying and not stop < target:
            raise ValueError(f"buy: stop_loss {stop} must be below take_profit {target}")
        if not buying and not stop > target:
            raise ValueError(f"sell: stop_loss {stop} must be above take_profit {target}")
    if price is not None and stop is not None:
        if buying and not stop < price:
            raise ValueError(f"buy: stop_loss {stop} must be below the price {price}")
        if not buying and not stop > price:
            raise ValueError(f"sell: stop_loss {stop} must be above the price {price}")


class OrderRequest(Record):
    """An order as sent to a backend. ``client_order_id`` makes resubmission idempotent."""

    client_order_id: str = Field(min_length=1, max_length=128)
    symbol: Symbol
    side: Side
    quantity: PositiveFinite
    order_type: OrderType = OrderType.MARKET
    price: PositiveFinite | None = None
    stop_price: PositiveFinite | None = None
    stop_loss: PositiveFinite | None = None
    take_profit: PositiveFinite | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False

    @model_validator(mode="after")
    def _check_prices(self) -> Self:
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError(
                "a limit order needs a price; pass price=... or use order_type='market'"
            )
        if self.order_type is OrderType.STOP and self.stop_price is None:
            raise ValueError("a stop order needs a stop_price; pass stop_price=...")
        _check_brackets(self.side, self.price, self.stop_loss, self.take_profit)
        return self

    @property
    def signed_quantity(self) -> float:
        """Quantity with the sign of the side (+ buy, - sell)."""
        return self.quantity if self.side is Side.BUY else -self.quantity

    def value_price(self, mark: float) -> float:
        """The price the risk lines value this order at: the worst it can trade at, given ``mark``.

        A buy limit never pays more than its limit, so it is valued at the limit. Every other
        order is valued at the higher of its own price (a sell limit's limit, a stop's trigger)
        and the mark: a marketable sell limit far below the market fills at the market, and a
        triggered stop fills like a market order.

        Examples:
            >>> o = OrderRequest(client_order_id="c", symbol="X", side="sell", quantity=90.0,
            ...                  order_type="limit", price=0.01)
            >>> o.value_price(100.0) * o.quantity  # valued at the market, not at 0.01
            9000.0
        """
        if self.order_type is OrderType.LIMIT and self.price is not None:
            return self.price if self.side is Side.BUY else max(self.price, mark)
        if self.order_type is OrderType.STOP and self.stop_price is not None:
            return max(self.stop_price, mark)
        return mark


class OrderAck(Record):
    """A backend's (or safety mode's) answer to an order operation."""

    order_id: str
    client_order_id: str
    symbol: Symbol
    side: Side
    quantity: PositiveFinite
    status: OrderStatus
    timestamp: UTCDatetime
    filled_quantity: NonNegativeFinite = 0.0
    avg_fill_price: PositiveFinite | None = None
    message: str = ""
    confirm_token: str | None = None


class Fill(Record):
    """An execution: a quantity traded at a price, with its fee."""

    fill_id: str
    order_id: str
    symbol: Symbol
    side: Side
    quantity: PositiveFinite
    price: PositiveFinite
    fee: NonNegativeFinite = 0.0
    timestamp: UTCDatetime

    @property
    def notional(self) -> float:
        """Quantity times price."""
        return self.quantity * self.price
