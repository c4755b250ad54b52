"""Market and portfolio records: bars, positions, snapshots, strategy state, observations."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from axon_lab.records._base import (
    Finite,
    NonNegativeFinite,
    NonNegativeInt,
    PositiveFinite,
    Record,
    Symbol,
    UTCDatetime,
)
from axon_lab.records._enums import Action
from axon_lab.records._inputs import Document, RLHint
from axon_lab.records._memory import SimilarContext


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

    ``bars`` and ``features`` come only from ``MarketView.as_of(timestamp)``; ``documents`` only
    from a :class:`~axon_lab.data.DocumentFeed` read as of ``timestamp``; ``rl_hint`` is an RL
    policy's recommendation at ``timestamp`` (:class:`~axon_lab.rl.RLHintStage`);
    ``similar_contexts`` come from a retrieval memory (:class:`~axon_lab.memory.Memory`), whose
    outcomes were complete at ``timestamp``.
    """

    timestamp: UTCDatetime
    symbols: tuple[Symbol, ...] = Field(min_length=1)
    timeframe: str = Field(min_length=1)
    bars: dict[Symbol, tuple[Bar, ...]]
    features: dict[Symbol, dict[str, Finite | None]] = Field(default_factory=dict)
    portfolio: PortfolioSnapshot
    strategy_state: StrategyState = Field(default_factory=StrategyState)
    similar_contexts: tuple[SimilarContext, ...] = ()
    rl_hint: RLHint | None = None
    documents: tuple[Document, ...] = ()

    @model_validator(mode="after")
    def _check_point_in_time(self) -> Self:
        for doc in self.documents:
            if doc.published_at > self.timestamp:
                raise ValueError(
                    f"document {doc.doc_id!r} published at {doc.published_at.isoformat()} is "
                    f"after the observation time {self.timestamp.isoformat()} (look-ahead)"
                )
        for sym, bars in self.bars.items():
            if sym not in self.symbols:
                raise ValueError(f"bars given for {sym!r}, which is not in symbols {self.symbols}")
            if bars and bars[-1].timestamp > self.timestamp:
                raise ValueError(
                    f"bar at {bars[-1].timestamp.isoformat()} for {sym!r} is after the "
                    f"observation time {self.timestamp.isoformat()} (look-ahead)"
                )
        for past in self.similar_contexts:
            if past.outcome_at > self.timestamp:
                raise ValueError(
                    f"a similar context's outcome completes at {past.outcome_at.isoformat()}, "
                    f"after the observation time {self.timestamp.isoformat()} (look-ahead)"
                )
        return self

    def digest(self) -> str:
        """A stable SHA-256 hex digest of the record's JSON form."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()
