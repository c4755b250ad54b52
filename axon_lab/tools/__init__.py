"""Tools an LLM calls: JSON in, JSON out; trading tools guarded by the risk chain.

The only public API is what is exported here.
"""

from .base import BaseTool, Tool, ToolArgs, check_symbol, json_schema
from .factory import TradingToolRegistry, make_trading_tools
from .market_data import MarketDataArgs, MarketDataTool, MarketDataView
from .registry import ToolRegistry
from .result import ToolArgumentError, ToolResult, error_payload
from .trading import (
    CancelOrderTool,
    PlaceOrderTool,
    QueryPortfolioTool,
    ReplaceOrderTool,
    report_payload,
)
from .trading_args import CancelOrderArgs, PlaceOrderArgs, QueryPortfolioArgs, ReplaceOrderArgs

__all__ = [
    # protocol and base
    "Tool",
    "BaseTool",
    "ToolArgs",
    "ToolResult",
    "ToolArgumentError",
    "ToolRegistry",
    # trading tools
    "make_trading_tools",
    "TradingToolRegistry",
    "PlaceOrderTool",
    "QueryPortfolioTool",
    "CancelOrderTool",
    "ReplaceOrderTool",
    "PlaceOrderArgs",
    "QueryPortfolioArgs",
    "CancelOrderArgs",
    "ReplaceOrderArgs",
    # market data
    "MarketDataTool",
    "MarketDataArgs",
    "MarketDataView",
    # helpers
    "check_symbol",
    "error_payload",
    "json_schema",
    "report_payload",
]
