"""Risk defence lines: SafetyMode, RiskLimits, RiskGates, and the fail-closed chain.

The only public API is what is exported here.
"""

from axon_lab.records import Instrument, MarginPolicy

from .breakers import PnLCircuitBreaker, RejectionCircuitBreaker
from .buying_power import BuyingPowerLine
from .chain import RiskChain
from .confirmation import (
    AskCallable,
    AutoConfirmBelow,
    ConfirmAnswer,
    ConfirmationPolicy,
    ConfirmationQueue,
    PendingConfirmation,
    WaitForPerson,
)
from .context import OrderContext, RestingOrder, approve, reject
from .daily import DailyCounter
from .gate import AlwaysOpenGate, BaseRiskGate, GateState, GateTransition, RiskGate
from .kill_switch import KillSwitch
from .limits import RiskLimits
from .marking import MarkReport
from .portfolio import PortfolioLimits, PortfolioRiskResult, check_portfolio
from .report import ExecutionReport
from .safety import (
    DirectMode,
    DryRunMode,
    SafetyDecision,
    SafetyMode,
    TwoPhaseMode,
    make_safety_mode,
)

__all__ = [
    # the chain and its output
    "RiskChain",
    "ExecutionReport",
    "MarkReport",
    "OrderContext",
    "RestingOrder",
    # line 1: safety mode
    "SafetyMode",
    "SafetyDecision",
    "DirectMode",
    "DryRunMode",
    "TwoPhaseMode",
    "make_safety_mode",
    # two-phase confirmation in a run: who answers a pending order
    "ConfirmationPolicy",
    "ConfirmationQueue",
    "ConfirmAnswer",
    "PendingConfirmation",
    "AutoConfirmBelow",
    "AskCallable",
    "WaitForPerson",
    # line 2: limits
    "RiskLimits",
    "DailyCounter",
    # line 3: gates
    "RiskGate",
    "BaseRiskGate",
    "GateState",
    "GateTransition",
    "AlwaysOpenGate",
    "RejectionCircuitBreaker",
    "PnLCircuitBreaker",
    "KillSwitch",
    # line 4: buying power (and the account rules it shares with the backends)
    "BuyingPowerLine",
    "MarginPolicy",
    "Instrument",
    # many symbols: portfolio limits
    "PortfolioLimits",
    "PortfolioRiskResult",
    "check_portfolio",
    # verdict helpers
    "approve",
    "reject",
]
