"""The :class:`TradingBackend` protocol: what the trading tools and the OADER loop consume.

A backend is asynchronous (an exchange is a network service); :mod:`axon_lab.backends.sync`
wraps any backend for synchronous callers, including code running inside Jupyter's event loop.
Any object with these members plugs in; :class:`~axon_lab.backends.base.BaseTradingBackend` is the
base to subclass when the backend keeps its own order book.

Every backend passes the shared conformance suite in ``tests/backends/test_conformance.py``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from axon_lab.clock import Clock
from axon_lab.records import Fill, OrderAck, OrderRequest, PortfolioSnapshot

__all__ = ["TradingBackend"]


@runtime_checkable
class TradingBackend(Protocol):
    """An execution venue: places, cancels and replaces orders, and reports the portfolio.

    Rules every implementation keeps:

    * ``place_order`` is idempotent on ``client_order_id``: resubmitting an identical request
      returns the existing order's ack and never creates a second order; reusing an id for a
      different request raises :class:`~axon_lab.errors.BackendError`.
    * A refused order is an ack with status ``REJECTED`` and a message, not an exception;
      exceptions (:class:`~axon_lab.errors.BackendError`) mean the operation itself failed.
    * Order ids accepted by ``cancel_order``/``replace_order``/``get_order`` are the backend's
      ``order_id`` or the ``client_order_id``.
    * The sum of signed fill quantities equals the change in the portfolio's position.
    """

    @property
    def clock(self) -> Clock:
        """The clock the backend stamps acks and fills with."""
        ...

    @property
    def symbols(self) -> frozenset[str]:
        """The symbols this backend trades."""
        ...

    async def place_order(self, order: OrderRequest) -> OrderAck:
        """Submit an order and return its ack (idempotent on ``client_order_id``)."""
        ...

    async def cancel_order(self, order_id: str) -> OrderAck:
        """Cancel an open order and return its final ack."""
        ...

    async def replace_order(
        self, order_id: str, *, quantity: float | None = None, price: float | None = None
    ) -> OrderAck:
        """Replace an open order's quantity and/or price; returns the replacement's ack.

        ``quantity`` is the replacement's quantity (default: the old order's unfilled quantity).
        """
        ...

    async def get_order(self, order_id: str) -> OrderRequest:
        """The request an order was placed with."""
        ...

    async def query_portfolio(self) -> PortfolioSnapshot:
        """Cash, positions (marked to the last price) and equity now."""
        ...

    async def open_orders(self, symbol: str | None = None) -> tuple[OrderAck, ...]:
        """Acks of the orders resting on the book, optionally for one symbol."""
        ...

    async def fills(self, order_id: str | None = None) -> tuple[Fill, ...]:
        """Fills so far, in execution order, optionally for one order."""
        ...

    async def last_price(self, symbol: str) -> float:
        """The last price of ``symbol`` (what market orders fill at and positions mark to)."""
        ...
