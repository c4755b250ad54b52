"""Enumerations used by the records."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """The side of an order or fill."""

    BUY = "buy"
    SELL = "sell"


class Action(StrEnum):
    """What an analysis or decision proposes to do."""

    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


class MarketAssessment(StrEnum):
    """The analyst's reading of the market regime."""

    UPTREND = "uptrend"
    DOWNTREND = "downtrend"
    RANGE = "range"


class RiskLevel(StrEnum):
    """The analyst's reading of current risk."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class OrderType(StrEnum):
    """How an order is priced."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class TimeInForce(StrEnum):
    """How long an order rests before it expires."""

    GTC = "gtc"
    IOC = "ioc"
    DAY = "day"


class OrderStatus(StrEnum):
    """States of the order state machine (see ``backends``)."""

    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    REPLACED = "replaced"
    DRY_RUN = "dry_run"
    PENDING_CONFIRMATION = "pending_confirmation"


class AnalysisSource(StrEnum):
    """Who produced an analysis. A rules analyst is never labelled as an LLM."""

    LLM = "llm"
    RULES = "rules"
    RL = "rl"
    ABSTAIN = "abstain"


class DecisionSource(StrEnum):
    """Which policy produced a decision."""

    LLM = "llm"
    RL = "rl"
    RULES = "rules"
    FALLBACK = "fallback"
    ABSTAIN = "abstain"


class DefenceLine(StrEnum):
    """The risk defence line that produced a verdict, in the order they are checked."""

    SAFETY_MODE = "safety_mode"
    LIMIT = "limit"
    GATE = "gate"
    BUYING_POWER = "buying_power"
    BACKEND = "backend"


class GateState(StrEnum):
    """What a risk gate lets through: everything, only position-reducing orders, or nothing."""

    OPEN = "open"
    REDUCING = "reducing"
    HALTED = "halted"
