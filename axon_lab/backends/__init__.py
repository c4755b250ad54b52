"""Trading backends: where orders go after the risk chain.

The only public API is what is exported here.
"""

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

__all__ = [
    # protocol and base
    "TradingBackend",
    "BaseTradingBackend",
    # implementations
    "MockTradingBackend",
    "OmsTradingBackend",
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
