"""The contracts: frozen, typed values passed between OADER stages and persisted.

Every record is an immutable pydantic v2 model. Records validate on construction: a confidence
outside [0, 1], a non-finite price, a non-positive quantity or an unknown enum value raises
:class:`~axon_lab.errors.RecordError` naming the record, the field and the value. Records round-trip
through JSON unchanged (``Record.from_json(r.to_json()) == r``), which is how the explain store
persists them. Derive changed copies with :meth:`Record.replace`; never mutate.

Timestamps are timezone-aware and normalised to UTC. Naive datetimes are rejected rather than
guessed at.

Examples:
    >>> from datetime import datetime, timezone
    >>> req = OrderRequest(
    ...     client_order_id="c-1", symbol="BTC-USD", side="buy", quantity=0.5,
    ...     order_type="limit", price=42000.0,
    ... )
    >>> OrderRequest.from_json(req.to_json()) == req
    True
    >>> OrderRequest(client_order_id="c-2", symbol="BTC-USD", side="buy", quantity=0.0)
    Traceback (most recent call last):
    ...
    axon_lab.errors.RecordError: Invalid OrderRequest.quantity = 0.0: Input should be greater ...
"""

from __future__ import annotations

from axon_lab.records import built
from axon_lab.records._account import AccountState, BuyingPowerCheck, Instrument, MarginPolicy
from axon_lab.records._analysis import Analysis, LLMCall, ReasoningStep, ToolCall
from axon_lab.records._base import (
    Finite,
    NonNegativeFinite,
    NonNegativeInt,
    PositiveFinite,
    Probability,
    Record,
    Symbol,
    UTCDatetime,
)
from axon_lab.records._enums import (
    Action,
    AnalysisSource,
    DecisionSource,
    DefenceLine,
    GateState,
    MarketAssessment,
    OrderStatus,
    OrderType,
    RiskLevel,
    Side,
    TimeInForce,
)
from axon_lab.records._inputs import Document, RLHint
from axon_lab.records._market import Bar, Observation, PortfolioSnapshot, Position, StrategyState
from axon_lab.records._memory import SimilarContext
from axon_lab.records._orders import Decision, Fill, OrderAck, OrderRequest
from axon_lab.records._portfolio import PortfolioDecision, PortfolioObservation, PortfolioStep
from axon_lab.records._reconcile import Discrepancy, ReconciliationReport
from axon_lab.records._steps import GateTransition, RiskVerdict, StepRecord

__all__ = [
    "AccountState",
    "built",
    "Action",
    "Analysis",
    "AnalysisSource",
    "Bar",
    "BuyingPowerCheck",
    "DecisionSource",
    "Decision",
    "DefenceLine",
    "Document",
    "Discrepancy",
    "Fill",
    "GateState",
    "GateTransition",
    "Instrument",
    "LLMCall",
    "MarginPolicy",
    "MarketAssessment",
    "Observation",
    "OrderAck",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "PortfolioDecision",
    "PortfolioObservation",
    "PortfolioSnapshot",
    "PortfolioStep",
    "Position",
    "ReasoningStep",
    "ReconciliationReport",
    "Record",
    "RiskLevel",
    "RLHint",
    "RiskVerdict",
    "Side",
    "SimilarContext",
    "StepRecord",
    "StrategyState",
    "TimeInForce",
    "ToolCall",
    # validated field types, for records defined elsewhere
    "Finite",
    "NonNegativeFinite",
    "NonNegativeInt",
    "PositiveFinite",
    "Probability",
    "Symbol",
    "UTCDatetime",
]
