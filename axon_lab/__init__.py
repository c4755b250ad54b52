"""axon_lab: a Jupyter-first research workbench for LLM and RL trading agents.

The only public API is what this module exposes (and the public names of its subpackages).
Importing it stays light: torch, plotly, ipywidgets, openai, optuna, stable-baselines3 and ccxt are
imported only by the features that need them.
"""

from __future__ import annotations

from axon_lab.errors import (
    AxonError,
    BackendError,
    BudgetExceededError,
    CacheMissError,
    ConfigError,
    DataError,
    LLMError,
    LLMTimeoutError,
    LookAheadError,
    MissingDependencyError,
    OrderStateError,
    RecordError,
    StoreError,
    ToolError,
)
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

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # errors
    "AxonError",
    "BackendError",
    "BudgetExceededError",
    "CacheMissError",
    "ConfigError",
    "DataError",
    "LLMError",
    "LLMTimeoutError",
    "LookAheadError",
    "MissingDependencyError",
    "OrderStateError",
    "RecordError",
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
