"""make_trading_tools: one call builds the guarded trading tool set for a backend.

Examples:
    >>> from datetime import datetime, timezone
    >>> from axon_lab.backends import MockTradingBackend
    >>> from axon_lab.clock import SimulatedClock
    >>> from axon_lab.risk import RiskLimits
    >>> clock = SimulatedClock(datetime(2024, 1, 2, tzinfo=timezone.utc))
    >>> backend = MockTradingBackend({"X": 10.0}, cash=100.0, clock=clock)
    >>> tools = make_trading_tools(backend, limits=RiskLimits(max_order_notional=30.0),
    ...                            id_prefix="run-1")
    >>> import json
    >>> answer = json.loads(
    ...     tools.execute("place_order", '{"symbol": "X", "side": "buy", "quantity": 5}'))
    >>> answer["ok"], answer["error"]["type"], answer["error"]["rule"], answer["error"]["observed"]
    (False, 'risk_rejected', 'max_order_notional', 50.0)
    >>> tools.last_report.rejection.rule
    'max_order_notional'
    >>> tools.execute("place_order", '{"symbol": "X", "side": "buy", "quantity": 2}')[:30]
    '{"ok":true,"status":"filled","'
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta

from axon_lab.backends.protocol import TradingBackend
from axon_lab.clock import Clock
from axon_lab.metrics import TradingMetrics
from axon_lab.records import Instrument, MarginPolicy
from axon_lab.risk.chain import RiskChain
from axon_lab.risk.gate import RiskGate
from axon_lab.risk.limits import RiskLimits
from axon_lab.risk.report import ExecutionReport
from axon_lab.risk.safety import ModeName, SafetyMode, make_safety_mode

from .market_data import MarketDataTool, MarketDataView
from .registry import ToolRegistry
from .trading import CancelOrderTool, PlaceOrderTool, QueryPortfolioTool, ReplaceOrderTool

__all__ = ["TradingToolRegistry", "make_trading_tools"]


class TradingToolRegistry(ToolRegistry):
    """The trading tools plus handles on the chain behind them.

    Args:
        chain: The risk chain all order tools share.
        id_prefix: Prefix of generated client order ids.
        view: If given, a ``get_market_data`` tool reads it at the chain's clock.
    """

    def __init__(
        self, chain: RiskChain, *, id_prefix: str, view: MarketDataView | None = None
    ) -> None:
        self.place = PlaceOrderTool(chain, id_prefix=id_prefix)
        self.query = QueryPortfolioTool(chain)
        self.cancel = CancelOrderTool(chain)
        self.replace = ReplaceOrderTool(chain)
        super().__init__([self.place, self.query, self.cancel, self.replace])
        if view is not None:
            self.register(MarketDataTool(view, chain.clock))
        self.chain = chain

    @property
    def metrics(self) -> TradingMetrics:
        """The chain's metrics."""
        return self.chain.metrics

    @property
    def backend(self) -> TradingBackend:
        """The backend behind the chain."""
        return self.chain.backend

    @property
    def last_report(self) -> ExecutionReport | None:
        """The most recent execution report of any order tool (place, cancel, replace)."""
        return self.chain.last_report


def make_trading_tools(
    backend: TradingBackend,
    *,
    limits: RiskLimits | None = None,
    mode: ModeName | SafetyMode = "direct",
    gates: Sequence[RiskGate] | None = None,
    metrics: TradingMetrics | None = None,
    clock: Clock | None = None,
    confirm_above: float = 0.0,
    confirm_ttl: timedelta = timedelta(minutes=5),
    id_prefix: str | None = None,
    view: MarketDataView | None = None,
    margin: MarginPolicy | None = None,
    instruments: Mapping[str, Instrument] | None = None,
    cancel_on_halt: bool = False,
) -> TradingToolRegistry:
    """Build place/query/cancel/replace tools guarded by the risk chain's lines.

    Args:
        backend: Where approved orders go.
        limits: Static risk limits (default: none).
        mode: ``"direct"``, ``"dry_run"``, ``"two_phase"`` or a safety mode instance.
        gates: Risk gates, checked in order (default: always open).
        metrics: Metrics to update (default: a new :class:`~axon_lab.metrics.TradingMetrics`).
        clock: The loop's clock (default: the backend's).
        confirm_above: Two-phase threshold notional when ``mode="two_phase"``.
        confirm_ttl: Two-phase token lifetime when ``mode="two_phase"``.
        id_prefix: Prefix of generated client order ids (default: random; pass a run id for
            reproducible ids).
        view: A point-in-time market view; adds a ``get_market_data`` tool that reads it at the
            loop's clock.
        margin: What the account may borrow (default: spot).
        instruments: What the venue accepts per symbol.
        cancel_on_halt: Cancel every open order when marking finds a gate HALTED.

    Returns:
        A :class:`TradingToolRegistry`.
    """
    chain = RiskChain(
        backend,
        mode=make_safety_mode(mode, confirm_above=confirm_above, ttl=confirm_ttl),
        limits=limits,
        gates=gates,
        metrics=metrics,
        clock=clock,
        margin=margin,
        instruments=instruments,
        cancel_on_halt=cancel_on_halt,
    )
    return TradingToolRegistry(
        chain, id_prefix=id_prefix or f"axon-{secrets.token_hex(4)}", view=view
    )
