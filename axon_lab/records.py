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

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from axon_lab.errors import RecordError

__all__ = [
    "Action",
    "Analysis",
    "AnalysisSource",
    "Bar",
    "DecisionSource",
    "Decision",
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
    "Record",
    "RiskLevel",
    "RiskVerdict",
    "Side",
    "StepRecord",
    "StrategyState",
    "TimeInForce",
    "ToolCall",
]


# --------------------------------------------------------------------------- enums


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
    BACKEND = "backend"


# --------------------------------------------------------------------------- field types


def _to_utc(value: datetime) -> datetime:
    to_py = getattr(value, "to_pydatetime", None)  # pandas.Timestamp -> datetime
    if to_py is not None:
        value = to_py()
    return value.astimezone(UTC)


UTCDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC."""

Finite = Annotated[float, Field(allow_inf_nan=False)]
PositiveFinite = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFinite = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Symbol = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
NonNegativeInt = Annotated[int, Field(ge=0)]


# --------------------------------------------------------------------------- base


def _describe(model: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "<record>"
        if err["type"] == "missing":
            parts.append(f"{model}.{loc} is required but missing.")
            continue
        value = err.get("input")
        msg = err["msg"].rstrip(".").removeprefix("Value error, ")
        if not err["loc"]:
            parts.append(f"Invalid {model}: {msg}.")
        elif err["type"] == "extra_forbidden":
            parts.append(f"{model} has no field {loc!r} (got {value!r}); remove it.")
        else:
            parts.append(f"Invalid {model}.{loc} = {value!r}: {msg}.")
    return " ".join(parts)


class Record(BaseModel):
    """Base of every record: frozen, strict about unknown fields, JSON round-trippable."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise RecordError(_describe(type(self).__name__, exc)) from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Parse a record from the JSON produced by :meth:`to_json`.

        Raises:
            RecordError: If the JSON is malformed or a value is invalid.
        """
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise RecordError(_describe(cls.__name__, exc)) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a record from a mapping (e.g. ``json.loads`` output).

        Raises:
            RecordError: If a value is invalid.
        """
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise RecordError(_describe(cls.__name__, exc)) from None

    def to_json(self) -> str:
        """Serialise to compact JSON."""
        return self.model_dump_json()

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible Python objects."""
        return self.model_dump(mode="json")

    def replace(self, **changes: Any) -> Self:
        """Return a validated copy with ``changes`` applied.

        Raises:
            RecordError: If a changed value is invalid.
        """
        return type(self)(**{**self.model_dump(), **changes})

    def digest(self) -> str:
        """A stable SHA-256 hex digest of the record's JSON form."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


# --------------------------------------------------------------------------- market & portfolio


class Bar(Record):
    """One OHLCV bar, stamped at the bar's open time."""

    timestamp: UTCDatetime
    open: PositiveFinite
    high: PositiveFinite
    low: PositiveFinite
    close: PositiveFinite
    volume: NonNegativeFinite

    @model_validator(mode="after")
    def _check_ohlc(self) -> Self:
        if not (self.low <= min(self.open, self.close) and self.high >= max(self.open, self.close)):
            raise ValueError(
                f"inconsistent OHLC at {self.timestamp.isoformat()}: open={self.open}, "
                f"high={self.high}, low={self.low}, close={self.close}; need "
                "low <= open, close <= high"
            )
        return self


class Position(Record):
    """A holding in one symbol, marked to a price."""

    symbol: Symbol
    quantity: Finite
    avg_price: NonNegativeFinite
    mark_price: PositiveFinite

    @property
    def market_value(self) -> float:
        """Quantity times mark price (negative for shorts)."""
        return self.quantity * self.mark_price

    @property
    def unrealized_pnl(self) -> float:
        """Profit or loss against the average entry price."""
        return self.quantity * (self.mark_price - self.avg_price)


class PortfolioSnapshot(Record):
    """Cash, positions and equity at one instant; ``equity == cash + sum(market values)``."""

    timestamp: UTCDatetime
    cash: Finite
    positions: dict[Symbol, Position] = Field(default_factory=dict)
    equity: Finite
    realized_pnl: Finite = 0.0
    fees_paid: NonNegativeFinite = 0.0

    @model_validator(mode="after")
    def _check_equity(self) -> Self:
        for key, pos in self.positions.items():
            if key != pos.symbol:
                raise ValueError(f"positions key {key!r} differs from its symbol {pos.symbol!r}")
        expected = self.cash + math.fsum(p.market_value for p in self.positions.values())
        if not math.isclose(self.equity, expected, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(
                f"equity {self.equity!r} != cash + positions = {expected!r}; "
                "build snapshots with PortfolioSnapshot.build(...)"
            )
        return self

    @classmethod
    def build(
        cls,
        *,
        timestamp: datetime,
        cash: float,
        positions: Mapping[str, Position] | None = None,
        realized_pnl: float = 0.0,
        fees_paid: float = 0.0,
    ) -> PortfolioSnapshot:
        """Build a snapshot, computing equity from cash and positions."""
        pos = dict(positions or {})
        equity = cash + math.fsum(p.market_value for p in pos.values())
        return cls(
            timestamp=timestamp,
            cash=cash,
            positions=pos,
            equity=equity,
            realized_pnl=realized_pnl,
            fees_paid=fees_paid,
        )

    def quantity(self, symbol: str) -> float:
        """The position in ``symbol`` (0.0 when flat)."""
        pos = self.positions.get(symbol)
        return pos.quantity if pos is not None else 0.0


class StrategyState(Record):
    """What the recorder knows about the strategy so far."""

    step_count: NonNegativeInt = 0
    last_action: Action | None = None
    cumulative_pnl: Finite = 0.0


class Observation(Record):
    """What the Observe stage hands to the analyst: a point-in-time view and the portfolio.

    ``bars`` and ``features`` come only from ``MarketView.as_of(timestamp)``.
    """

    timestamp: UTCDatetime
    symbols: tuple[Symbol, ...] = Field(min_length=1)
    timeframe: str = Field(min_length=1)
    bars: dict[Symbol, tuple[Bar, ...]]
    features: dict[Symbol, dict[str, Finite | None]] = Field(default_factory=dict)
    portfolio: PortfolioSnapshot
    strategy_state: StrategyState = Field(default_factory=StrategyState)
    similar_contexts: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check_point_in_time(self) -> Self:
        for sym, bars in self.bars.items():
            if sym not in self.symbols:
                raise ValueError(f"bars given for {sym!r}, which is not in symbols {self.symbols}")
            if bars and bars[-1].timestamp > self.timestamp:
                raise ValueError(
                    f"bar at {bars[-1].timestamp.isoformat()} for {sym!r} is after the "
                    f"observation time {self.timestamp.isoformat()} (look-ahead)"
                )
        return self


# --------------------------------------------------------------------------- analysis


class ToolCall(Record):
    """A tool invocation: the tool's name and its JSON argument string, as an LLM emits it."""

    name: str = Field(min_length=1)
    arguments: str = "{}"
    call_id: str | None = None


class ReasoningStep(Record):
    """One Thought -> Action -> Observation turn of a ReAct chain."""

    thought: str
    action: ToolCall | None = None
    observation: str | None = None


class LLMCall(Record):
    """One call to an LLM, as recorded for cost, latency and replay."""

    model: str = Field(min_length=1)
    request_hash: str = Field(min_length=1)
    tokens_in: NonNegativeInt
    tokens_out: NonNegativeInt
    latency_s: NonNegativeFinite
    cost: NonNegativeFinite = 0.0
    cache_hit: bool = False
    raw_response: str = ""
    finish_reason: str | None = None
    error: str | None = None


class Analysis(Record):
    """The Analyze stage's output: an assessment, a proposed action, and how it was reached."""

    thought: str = Field(max_length=20_000)
    market_assessment: MarketAssessment
    risk_assessment: RiskLevel
    confidence: Probability
    action: Action
    reason: str = Field(default="", max_length=4_000)
    source: AnalysisSource
    analyst: str = Field(min_length=1, description="model name or rules analyst id")
    reasoning_steps: tuple[ReasoningStep, ...] = ()
    llm_calls: tuple[LLMCall, ...] = ()
    raw_text: str | None = None


# --------------------------------------------------------------------------- decisions & orders


class Decision(Record):
    """The Decide stage's output: what to trade, how much, and why."""

    action: Action
    symbol: Symbol
    quantity: PositiveFinite | None = None
    order_type: OrderType = OrderType.MARKET
    price: PositiveFinite | None = None
    stop_loss: PositiveFinite | None = None
    take_profit: PositiveFinite | None = None
    reason: str = ""
    confidence: Probability
    source: DecisionSource

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.action is Action.HOLD:
            if self.quantity is not None:
                raise ValueError(f"a hold decision has no quantity (got {self.quantity})")
            return self
        if self.quantity is None:
            raise ValueError(f"a {self.action} decision needs a positive quantity")
        if self.order_type is not OrderType.MARKET and self.price is None:
            raise ValueError(f"a {self.order_type} order needs a price; pass price=...")
        _check_brackets(self.action, self.price, self.stop_loss, self.take_profit)
        return self


def _check_brackets(
    side: Action | Side, price: float | None, stop: float | None, target: float | None
) -> None:
    buying = side in (Action.BUY, Side.BUY)
    if stop is not None and target is not None:
        if buying and not stop < target:
            raise ValueError(f"buy: stop_loss {stop} must be below take_profit {target}")
        if not buying and not stop > target:
            raise ValueError(f"sell: stop_loss {stop} must be above take_profit {target}")
    if price is not None and stop is not None:
        if buying and not stop < price:
            raise ValueError(f"buy: stop_loss {stop} must be below the price {price}")
        if not buying and not stop > price:
            raise ValueError(f"sell: stop_loss {stop} must be above the price {price}")


class OrderRequest(Record):
    """An order as sent to a backend. ``client_order_id`` makes resubmission idempotent."""

    client_order_id: str = Field(min_length=1, max_length=128)
    symbol: Symbol
    side: Side
    quantity: PositiveFinite
    order_type: OrderType = OrderType.MARKET
    price: PositiveFinite | None = None
    stop_price: PositiveFinite | None = None
    stop_loss: PositiveFinite | None = None
    take_profit: PositiveFinite | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False

    @model_validator(mode="after")
    def _check_prices(self) -> Self:
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError(
                "a limit order needs a price; pass price=... or use order_type='market'"
            )
        if self.order_type is OrderType.STOP and self.stop_price is None:
            raise ValueError("a stop order needs a stop_price; pass stop_price=...")
        _check_brackets(self.side, self.price, self.stop_loss, self.take_profit)
        return self

    @property
    def signed_quantity(self) -> float:
        """Quantity with the sign of the side (+ buy, - sell)."""
        return self.quantity if self.side is Side.BUY else -self.quantity


class OrderAck(Record):
    """A backend's (or safety mode's) answer to an order operation."""

    order_id: str
    client_order_id: str
    symbol: Symbol
    side: Side
    quantity: PositiveFinite
    status: OrderStatus
    timestamp: UTCDatetime
    filled_quantity: NonNegativeFinite = 0.0
    avg_fill_price: PositiveFinite | None = None
    message: str = ""
    confirm_token: str | None = None


class Fill(Record):
    """An execution: a quantity traded at a price, with its fee."""

    fill_id: str
    order_id: str
    symbol: Symbol
    side: Side
    quantity: PositiveFinite
    price: PositiveFinite
    fee: NonNegativeFinite = 0.0
    timestamp: UTCDatetime

    @property
    def notional(self) -> float:
        """Quantity times price."""
        return self.quantity * self.price


# --------------------------------------------------------------------------- risk & steps


class RiskVerdict(Record):
    """The outcome of one risk check. A rejection is recorded data, not an exception."""

    approved: bool
    line: DefenceLine
    rule: str = Field(min_length=1)
    limit: Finite | str | None = None
    observed: Finite | str | None = None
    message: str = ""
    timestamp: UTCDatetime
    client_order_id: str | None = None
    gate_state: str | None = None


class StepRecord(Record):
    """Everything one OADER cycle did, written to the explain store before the next begins.

    ``equity`` is the portfolio's equity at the end of the step and ``pnl`` the change in equity
    over this step (so a run's cumulative PnL is the sum of its steps' ``pnl``).
    """

    run_id: str = Field(min_length=1)
    step: NonNegativeInt
    timestamp: UTCDatetime
    observation_digest: str
    analysis: Analysis | None = None
    decision: Decision | None = None
    verdicts: tuple[RiskVerdict, ...] = ()
    acks: tuple[OrderAck, ...] = ()
    fills: tuple[Fill, ...] = ()
    equity: Finite
    pnl: Finite
    failed_stage: str | None = None
    error: str | None = None

    @model_validator(mode="after")
    def _check_failure(self) -> Self:
        if (self.failed_stage is None) != (self.error is None):
            raise ValueError("failed_stage and error are set together or not at all")
        return self

    @property
    def is_failed(self) -> bool:
        """Whether a stage raised during this step."""
        return self.error is not None

    @property
    def rejections(self) -> tuple[RiskVerdict, ...]:
        """The verdicts that rejected an order."""
        return tuple(v for v in self.verdicts if not v.approved)
