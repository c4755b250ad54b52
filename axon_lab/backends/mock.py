"""A backend for unit tests: every marketable order fills in full at the supplied price.

Examples:
    >>> import asyncio
    >>> from axon_lab.records import OrderRequest
    >>> backend = MockTradingBackend({"X": 20.0}, cash=100.0)
    >>> ack = asyncio.run(backend.place_order(
    ...     OrderRequest(client_order_id="c-1", symbol="X", side="buy", quantity=2.0)))
    >>> ack.status.value, ack.avg_fill_price
    ('filled', 20.0)
    >>> asyncio.run(backend.query_portfolio()).quantity("X")
    2.0
"""

from __future__ import annotations

from collections.abc import Mapping

from axon_lab.clock import Clock
from axon_lab.records import Instrument, MarginPolicy

from .base import BaseTradingBackend
from .order_state import ManagedOrder

__all__ = ["MockTradingBackend"]


class MockTradingBackend(BaseTradingBackend):
    """Fills market orders, and limit/stop orders once marketable, in full at the last price.

    Move prices with :meth:`set_price`; resting orders that become marketable fill then.

    Args:
        prices: The symbols traded and their prices.
        cash: Starting cash.
        clock: Stamps acks and fills (default: wall clock).
        fee_rate: Fee as a fraction of fill notional.
        margin: What the account may borrow (default: spot: no borrowing, no shorts).
        instruments: What this venue accepts per symbol (lot, tick, minimums).
    """

    def __init__(
        self,
        prices: Mapping[str, float],
        *,
        cash: float,
        clock: Clock | None = None,
        fee_rate: float = 0.0,
        margin: MarginPolicy | None = None,
        instruments: Mapping[str, Instrument] | None = None,
    ) -> None:
        super().__init__(
            prices,
            cash=cash,
            clock=clock,
            fee_rate=fee_rate,
            id_prefix="mock",
            margin=margin,
            instruments=instruments,
        )

    def _fill_quantity(self, order: ManagedOrder, price: float) -> float:
        return order.remaining
