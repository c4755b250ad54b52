"""Trading backends: where orders go after the risk chain.

The only public API is what is exported here. :class:`SimTradingBackend` is loaded on first use
(it imports the numba kernels, which take most of a second), so ``import axon_lab.backends``
stays light.
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
    from .sim import SimTradingBackend

__all__ = [
    # protocol and base
    "TradingBackend",
    "BaseTradingBackend",
    # implementations
    "MockTradingBackend",
    "OmsTradingBackend",
    "SimTradingBackend",
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
]


def __getattr__(name: str) -> Any:
    if name == "SimTradingBackend":
        from .sim import SimTradingBackend

        return SimTradingBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
