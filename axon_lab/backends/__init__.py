"""Trading backends: where orders go after the risk chain.

The only public API is what is exported here. :class:`SimTradingBackend` is loaded on first use
(it imports the numba kernels, which take most of a second), and so are the exchange backend and
the local exchange (ccxt and aiohttp are imported when they are used), so
``import axon_lab.backends`` stays light.
"""

from typing import TYPE_CHECKING, Any

from .base import BaseTradingBackend
from .ledger import Ledger
from .mock import MockTradingBackend
from .oms import OmsTradingBackend
from .order_state import (
    OPEN_STATES,
    ORDER_TRANSITIONS,
    TERMINAL_STATES,
    ManagedOrder,
    OrderEvent,
    check_transition,
)
from .protocol import TradingBackend
from .sync import SyncTradingBackend, run_sync

if TYPE_CHECKING:
    from ._exchange_budget import RequestBudget
    from ._exchange_markets import override_urls
    from ._exchange_reconcile import ReconciliationWarning
    from ._exchange_session import RetryPolicy
    from ._localex_faults import ExchangeFaults
    from .exchange import ExchangeTradingBackend
    from .local_exchange import LocalExchangeServer
    from .sim import SimTradingBackend

__all__ = [
    # protocol and base
    "TradingBackend",
    "BaseTradingBackend",
    # implementations
    "MockTradingBackend",
    "OmsTradingBackend",
    "SimTradingBackend",
    "ExchangeTradingBackend",
    # the exchange backend's parts, and the local exchange for tests and demos
    "RequestBudget",
    "RetryPolicy",
    "ReconciliationWarning",
    "LocalExchangeServer",
    "ExchangeFaults",
    # sync access
    "SyncTradingBackend",
    "run_sync",
    # order state machine and accounting
    "ORDER_TRANSITIONS",
    "OPEN_STATES",
    "TERMINAL_STATES",
    "ManagedOrder",
    "OrderEvent",
    "check_transition",
    "Ledger",
    "override_urls",
]


_LAZY = {
    "SimTradingBackend": ".sim",
    "ExchangeTradingBackend": ".exchange",
    "RequestBudget": "._exchange_budget",
    "RetryPolicy": "._exchange_session",
    "ReconciliationWarning": "._exchange_reconcile",
    "LocalExchangeServer": ".local_exchange",
    "ExchangeFaults": "._localex_faults",
    "override_urls": "._exchange_markets",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(module, __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
