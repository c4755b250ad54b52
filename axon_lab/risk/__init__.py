"""Risk defence lines: SafetyMode, RiskLimits, RiskGates, and the fail-closed chain.

The only public API is what is exported here.
"""

from .breakers import PnLCircuitBreaker, RejectionCircuitBreaker
from .chain import RiskChain
from .context import OrderContext, approve, reject
from .daily import DailyCounter
from .gate import AlwaysOpenGate, BaseRiskGate, GateState, GateTransition, RiskGate
from .kill_switch import KillSwitch
from .limits import RiskLimits
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
    "OrderContext",
    # line 1: safety mode
    "SafetyMode",
    "SafetyDecision",
    "DirectMode",
    "DryRunMode",
    "TwoPhaseMode",
    "make_safety_mode",
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
    # verdict helpers
    "approve",
    "reject",
]
