"""Synchronous access to asynchronous backends, also inside a running event loop.

``asyncio.run`` fails inside Jupyter, whose kernel already runs an event loop. :func:`run_sync`
runs a coroutine to completion either way: directly when no loop runs in this thread, and on a
short-lived worker thread with its own loop when one does. The calling thread waits, so the
backend is never used from two threads at once.

Examples:
    >>> async def answer() -> int:
    ...     return 42
    >>> run_sync(answer())
    42
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from axon_lab.clock import Clock
from axon_lab.records import Fill, OrderAck, OrderRequest, PortfolioSnapshot

from .protocol import TradingBackend

__all__ = ["SyncTradingBackend", "run_sync"]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion and return its result, with or without a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="axon-run-sync") as pool:
        return pool.submit(asyncio.run, coro).result()


class SyncTradingBackend:
    """Blocking twins of a :class:`TradingBackend` 's methods.

    Args:
        backend: The asynchronous backend to wrap.

    Examples:
        >>> from axon_lab.backends import MockTradingBackend
        >>> from axon_lab.records import OrderRequest
        >>> broker = SyncTradingBackend(MockTradingBackend({"X": 10.0}, cash=100.0))
        >>> broker.place_order(OrderRequest(
        ...     client_order_id="c-1", symbol="X", side="buy", quantity=1.0)).status.value
        'filled'
        >>> broker.query_portfolio().cash
        90.0
    """

    def __init__(self, backend: TradingBackend) -> None:
        self.backend = backend

    @property
    def clock(self) -> Clock:
        """The wrapped backend's clock."""
        return self.backend.clock

    @property
    def symbols(self) -> frozenset[str]:
        """The wrapped backend's symbols."""
        return self.backend.symbols

    def place_order(self, order: OrderRequest) -> OrderAck:
        """Blocking :meth:`TradingBackend.place_order`."""
        return run_sync(self.backend.place_order(order))

    def cancel_order(self, order_id: str) -> OrderAck:
        """Blocking :meth:`TradingBackend.cancel_order`."""
        return run_sync(self.backend.cancel_order(order_id))

    def replace_order(
        self, order_id: str, *, quantity: float | None = None, price: float | None = None
    ) -> OrderAck:
        """Blocking :meth:`TradingBackend.replace_order`."""
        return run_sync(self.backend.replace_order(order_id, quantity=quantity, price=price))

    def get_order(self, order_id: str) -> OrderRequest:
        """Blocking :meth:`TradingBackend.get_order`."""
        return run_sync(self.backend.get_order(order_id))

    def query_portfolio(self) -> PortfolioSnapshot:
        """Blocking :meth:`TradingBackend.query_portfolio`."""
        return run_sync(self.backend.query_portfolio())

    def open_orders(self, symbol: str | None = None) -> tuple[OrderAck, ...]:
        """Blocking :meth:`TradingBackend.open_orders`."""
        return run_sync(self.backend.open_orders(symbol))

    def fills(self, order_id: str | None = None) -> tuple[Fill, ...]:
        """Blocking :meth:`TradingBackend.fills`."""
        return run_sync(self.backend.fills(order_id))

    def last_price(self, symbol: str) -> float:
        """Blocking :meth:`TradingBackend.last_price`."""
        return run_sync(self.backend.last_price(symbol))

    def __repr__(self) -> str:
        return f"SyncTradingBackend({self.backend!r})"
