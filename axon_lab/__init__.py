"""axon_lab: a Jupyter-first research workbench for LLM and RL trading agents.

The only public API is what this module exposes (and the public names of its subpackages).
Importing it stays light: each public name's subpackage is imported when the name is first used,
and torch, plotly, ipywidgets, openai, optuna, stable-baselines3 and ccxt only by the features that
need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as mypy and editors see them
    from axon_lab.backends import MockTradingBackend, OmsTradingBackend, TradingBackend
    from axon_lab.clock import SimulatedClock, WallClock
    from axon_lab.data import (
        MarketView,
        Timeframe,
        Universe,
        ValidationReport,
        compute_features,
        list_samples,
        list_universe_samples,
        load_csv,
        load_ohlcv,
        load_parquet,
        load_sample,
        load_universe,
        load_universe_sample,
        make_synthetic,
        resample_ohlcv,
        validate_ohlcv,
    )
    from axon_lab.errors import (
        AxonError,
        BackendError,
        BudgetExceededError,
        CacheMissError,
        ConfigError,
        DataError,
        EvaluationError,
        LLMError,
        LLMTimeoutError,
        LookAheadError,
        MissingDependencyError,
        OrderStateError,
        RecordError,
        StageError,
        StoreError,
        ToolError,
    )
    from axon_lab.metrics import TradingMetrics
    from axon_lab.oader import (
        BaseLoopCallback,
        ContextBuilder,
        DecisionEngine,
        ExplainRecorder,
        OADERLoop,
        ReActAnalyzer,
        RulesAnalyst,
        ToolExecutor,
        make_agent,
    )
    from axon_lab.portfolio import make_portfolio_agent
    from axon_lab.records import (
        Action,
        Analysis,
        AnalysisSource,
        Bar,
        Decision,
        DecisionSource,
        DefenceLine,
        Fill,
        LLMCall,
        MarketAssessment,
        Observation,
        OrderAck,
        OrderRequest,
        OrderStatus,
        OrderType,
        PortfolioSnapshot,
        Position,
        ReasoningStep,
        RiskLevel,
        RiskVerdict,
        Side,
        StepRecord,
        StrategyState,
        TimeInForce,
        ToolCall,
    )
    from axon_lab.risk import (
        AlwaysOpenGate,
        DirectMode,
        DryRunMode,
        KillSwitch,
        PnLCircuitBreaker,
        RejectionCircuitBreaker,
        RiskChain,
        RiskLimits,
        TwoPhaseMode,
    )
    from axon_lab.tools import ToolRegistry, make_trading_tools

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # the OADER loop
    "make_agent",
    "OADERLoop",
    "ContextBuilder",
    "RulesAnalyst",
    "ReActAnalyzer",
    "DecisionEngine",
    "ToolExecutor",
    "ExplainRecorder",
    "BaseLoopCallback",
    # market data
    "MarketView",
    "Timeframe",
    "ValidationReport",
    "compute_features",
    "list_samples",
    "load_csv",
    "load_ohlcv",
    "load_parquet",
    "load_sample",
    "make_synthetic",
    "resample_ohlcv",
    "validate_ohlcv",
    # many symbols: universes and the portfolio loop
    "Universe",
    "load_universe",
    "load_universe_sample",
    "list_universe_samples",
    "make_portfolio_agent",
    # trading pipeline: tools, risk defence lines, backends, metrics
    "make_trading_tools",
    "ToolRegistry",
    "RiskChain",
    "RiskLimits",
    "DirectMode",
    "DryRunMode",
    "TwoPhaseMode",
    "AlwaysOpenGate",
    "RejectionCircuitBreaker",
    "PnLCircuitBreaker",
    "KillSwitch",
    "TradingBackend",
    "MockTradingBackend",
    "OmsTradingBackend",
    "TradingMetrics",
    "SimulatedClock",
    "WallClock",
    # errors
    "AxonError",
    "BackendError",
    "BudgetExceededError",
    "CacheMissError",
    "ConfigError",
    "DataError",
    "EvaluationError",
    "LLMError",
    "LLMTimeoutError",
    "LookAheadError",
    "MissingDependencyError",
    "OrderStateError",
    "RecordError",
    "StageError",
    "StoreError",
    "ToolError",
    # records
    "Action",
    "Analysis",
    "AnalysisSource",
    "Bar",
    "Decision",
    "DecisionSource",
    "DefenceLine",
    "Fill",
    "LLMCall",
    "MarketAssessment",
    "Observation",
    "OrderAck",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "PortfolioSnapshot",
    "Position",
    "ReasoningStep",
    "RiskLevel",
    "RiskVerdict",
    "Side",
    "StepRecord",
    "StrategyState",
    "TimeInForce",
    "ToolCall",
]

# Where each public name lives. ``import axon_lab`` imports none of them: a name's subpackage is
# imported on first access (PEP 562), so the import costs a few milliseconds and a notebook pays
# for pandas, pydantic and SQLAlchemy only when it first uses them.
_LAZY: dict[str, str] = {
    "MockTradingBackend": "axon_lab.backends",
    "OmsTradingBackend": "axon_lab.backends",
    "TradingBackend": "axon_lab.backends",
    "SimulatedClock": "axon_lab.clock",
    "WallClock": "axon_lab.clock",
    "MarketView": "axon_lab.data",
    "Timeframe": "axon_lab.data",
    "ValidationReport": "axon_lab.data",
    "compute_features": "axon_lab.data",
    "list_samples": "axon_lab.data",
    "load_csv": "axon_lab.data",
    "load_ohlcv": "axon_lab.data",
    "load_parquet": "axon_lab.data",
    "load_sample": "axon_lab.data",
    "make_synthetic": "axon_lab.data",
    "resample_ohlcv": "axon_lab.data",
    "validate_ohlcv": "axon_lab.data",
    "Universe": "axon_lab.data",
    "load_universe": "axon_lab.data",
    "load_universe_sample": "axon_lab.data",
    "list_universe_samples": "axon_lab.data",
    "make_portfolio_agent": "axon_lab.portfolio",
    "AxonError": "axon_lab.errors",
    "BackendError": "axon_lab.errors",
    "BudgetExceededError": "axon_lab.errors",
    "CacheMissError": "axon_lab.errors",
    "ConfigError": "axon_lab.errors",
    "DataError": "axon_lab.errors",
    "EvaluationError": "axon_lab.errors",
    "LLMError": "axon_lab.errors",
    "LLMTimeoutError": "axon_lab.errors",
    "LookAheadError": "axon_lab.errors",
    "MissingDependencyError": "axon_lab.errors",
    "OrderStateError": "axon_lab.errors",
    "RecordError": "axon_lab.errors",
    "StageError": "axon_lab.errors",
    "StoreError": "axon_lab.errors",
    "ToolError": "axon_lab.errors",
    "TradingMetrics": "axon_lab.metrics",
    "BaseLoopCallback": "axon_lab.oader",
    "ContextBuilder": "axon_lab.oader",
    "DecisionEngine": "axon_lab.oader",
    "ExplainRecorder": "axon_lab.oader",
    "OADERLoop": "axon_lab.oader",
    "ReActAnalyzer": "axon_lab.oader",
    "RulesAnalyst": "axon_lab.oader",
    "ToolExecutor": "axon_lab.oader",
    "make_agent": "axon_lab.oader",
    "Action": "axon_lab.records",
    "Analysis": "axon_lab.records",
    "AnalysisSource": "axon_lab.records",
    "Bar": "axon_lab.records",
    "Decision": "axon_lab.records",
    "DecisionSource": "axon_lab.records",
    "DefenceLine": "axon_lab.records",
    "Fill": "axon_lab.records",
    "LLMCall": "axon_lab.records",
    "MarketAssessment": "axon_lab.records",
    "Observation": "axon_lab.records",
    "OrderAck": "axon_lab.records",
    "OrderRequest": "axon_lab.records",
    "OrderStatus": "axon_lab.records",
    "OrderType": "axon_lab.records",
    "PortfolioSnapshot": "axon_lab.records",
    "Position": "axon_lab.records",
    "ReasoningStep": "axon_lab.records",
    "RiskLevel": "axon_lab.records",
    "RiskVerdict": "axon_lab.records",
    "Side": "axon_lab.records",
    "StepRecord": "axon_lab.records",
    "StrategyState": "axon_lab.records",
    "TimeInForce": "axon_lab.records",
    "ToolCall": "axon_lab.records",
    "AlwaysOpenGate": "axon_lab.risk",
    "DirectMode": "axon_lab.risk",
    "DryRunMode": "axon_lab.risk",
    "KillSwitch": "axon_lab.risk",
    "PnLCircuitBreaker": "axon_lab.risk",
    "RejectionCircuitBreaker": "axon_lab.risk",
    "RiskChain": "axon_lab.risk",
    "RiskLimits": "axon_lab.risk",
    "TwoPhaseMode": "axon_lab.risk",
    "ToolRegistry": "axon_lab.tools",
    "make_trading_tools": "axon_lab.tools",
}

_SUBPACKAGES = frozenset(
    {
        "audit",
        "backends",
        "backtest",
        "clock",
        "data",
        "errors",
        "evaluate",
        "explain",
        "hpo",
        "llm",
        "metrics",
        "oader",
        "portfolio",
        "records",
        "risk",
        "rl",
        "tools",
        "viz",
        "widgets",
    }
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later reads find it directly
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"axon_lab.{name}")
    raise AttributeError(f"module 'axon_lab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES})
