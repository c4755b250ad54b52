"""Argument models of the trading tools; their JSON Schemas are what the LLM sees."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from axon_lab.records import OrderType, Side, TimeInForce

from .base import ToolArgs

__all__ = ["CancelOrderArgs", "PlaceOrderArgs", "QueryPortfolioArgs", "ReplaceOrderArgs"]


class PlaceOrderArgs(ToolArgs):
    """Arguments of ``place_order``."""

    symbol: str = Field(min_length=1, max_length=64, description="A symbol the backend trades.")
    side: Side = Field(description="'buy' or 'sell'.")
    quantity: float = Field(gt=0, description="Units to trade; a finite number > 0.")
    order_type: OrderType = Field(
        default=OrderType.MARKET,
        description="'market' (no price), 'limit' (needs price) or 'stop' (needs stop_price).",
    )
    price: float | None = Field(default=None, gt=0, description="Limit price; limit orders only.")
    stop_price: float | None = Field(
        default=None, gt=0, description="Trigger price; stop orders only."
    )
    stop_loss: float | None = Field(
        default=None,
        gt=0,
        description="Protective stop: below the price for a buy, above for a sell.",
    )
    take_profit: float | None = Field(
        default=None,
        gt=0,
        description="Profit target: above the price for a buy, below for a sell.",
    )
    time_in_force: TimeInForce = Field(
        default=TimeInForce.GTC, description="'gtc', 'ioc' or 'day'."
    )
    reduce_only: bool = Field(default=False, description="Only reduce an existing position.")
    client_order_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Your id for the order; resending the same id never creates a second order.",
    )
    confirm_token: str | None = Field(
        default=None,
        min_length=1,
        description="The token from a 'pending_confirmation' result, to execute that same order.",
    )

    @model_validator(mode="after")
    def _check_prices(self) -> Self:
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError(
                'a limit order needs a price; add "price": <limit price> or use '
                '"order_type": "market"'
            )
        if self.order_type is OrderType.STOP and self.stop_price is None:
            raise ValueError('a stop order needs a stop_price; add "stop_price": <trigger price>')
        if self.order_type is OrderType.MARKET and self.price is not None:
            raise ValueError(
                'a market order takes no price; remove "price" or use "order_type": "limit"'
            )
        return self


class QueryPortfolioArgs(ToolArgs):
    """Arguments of ``query_portfolio``."""

    include_open_orders: bool = Field(default=True, description="Also list resting orders.")


class CancelOrderArgs(ToolArgs):
    """Arguments of ``cancel_order``."""

    order_id: str = Field(min_length=1, description="The order_id or client_order_id to cancel.")


class ReplaceOrderArgs(ToolArgs):
    """Arguments of ``replace_order``."""

    order_id: str = Field(min_length=1, description="The order_id or client_order_id to replace.")
    quantity: float | None = Field(
        default=None, gt=0, description="New quantity (default: what remains unfilled)."
    )
    price: float | None = Field(default=None, gt=0, description="New limit price.")
    confirm_token: str | None = Field(
        default=None,
        min_length=1,
        description="The token from a 'pending_confirmation' result, to execute that same change.",
    )

    @model_validator(mode="after")
    def _check_change(self) -> Self:
        if self.quantity is None and self.price is None:
            raise ValueError('nothing to change; pass "quantity" and/or "price"')
        return self
