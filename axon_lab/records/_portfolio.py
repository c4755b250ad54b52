"""Portfolio records: what a many-symbol agent observes, decides and records per step.

Columns, not rows: a :class:`PortfolioObservation` holds one tuple per field aligned with
``symbols`` (a universe of hundreds of symbols is a few tuples, not hundreds of records). The
missing-bar policy is that of :mod:`axon_lab.data.universe`: a symbol without a bar at the step is
not ``tradable``, its ``bars`` entries are None and its ``marks`` entry carries its last close
(None before it lists).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Self

from pydantic import Field, model_validator

from axon_lab.records._analysis import LLMCall
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
from axon_lab.records._enums import DecisionSource
from axon_lab.records._market import PortfolioSnapshot, StrategyState
from axon_lab.records._orders import Decision

if TYPE_CHECKING:
    import pandas as pd

BAR_FIELDS = ("open", "high", "low", "close", "volume")


def _check_unique(symbols: tuple[str, ...], what: str) -> None:
    if len(set(symbols)) != len(symbols):
        dup = sorted({s for s in symbols if symbols.count(s) > 1})
        raise ValueError(f"{what} repeat: {dup[:10]}")


class PortfolioObservation(Record):
    """The Observe stage's output for a universe: one aligned column per field.

    Attributes:
        timestamp: The decision time (every bar used completed at or before it).
        timeframe: The bar duration label.
        symbols: The universe, in column order.
        tradable: Whether each symbol has a bar at this step (it may trade on the next bar).
        bars: ``open``/``high``/``low``/``close``/``volume`` of each symbol's bar that completed
            at this step (None where it has none: halted, not yet listed, delisted).
        marks: Each symbol's last close (None before it lists); used for weights, never fills.
        features: Feature name -> one value per symbol (None where undefined), as of this step.
        weights: Each symbol's position value over equity, at the marks.
        portfolio: The one portfolio snapshot the whole universe shares.
        strategy_state: What the recorder knows about the run so far.
    """

    timestamp: UTCDatetime
    timeframe: str = Field(min_length=1)
    symbols: tuple[Symbol, ...] = Field(min_length=1)
    tradable: tuple[bool, ...]
    bars: dict[str, tuple[NonNegativeFinite | None, ...]]  # (a volume may be 0)
    marks: tuple[PositiveFinite | None, ...]
    features: dict[str, tuple[Finite | None, ...]] = Field(default_factory=dict)
    weights: tuple[Finite, ...]
    portfolio: PortfolioSnapshot
    strategy_state: StrategyState = Field(default_factory=StrategyState)

    @model_validator(mode="after")
    def _check_columns(self) -> Self:
        n = len(self.symbols)
        _check_unique(self.symbols, "symbols")
        if set(self.bars) != set(BAR_FIELDS):
            raise ValueError(f"bars must have exactly the keys {list(BAR_FIELDS)}, got "
                             f"{sorted(self.bars)}")  # fmt: skip
        columns = {"tradable": self.tradable, "marks": self.marks, "weights": self.weights}
        columns.update({f"bars[{k!r}]": v for k, v in self.bars.items()})
        columns.update({f"features[{k!r}]": v for k, v in self.features.items()})
        for name, col in columns.items():
            if len(col) != n:
                raise ValueError(f"{name} has {len(col)} values for {n} symbols")
        for j, ok in enumerate(self.tradable):
            if ok and self.bars["close"][j] is None:
                raise ValueError(f"{self.symbols[j]!r} is tradable but has no bar")
        return self

    def column(self, name: str) -> tuple[float | bool | None, ...]:
        """One column by name: a bar field, ``marks``, ``weights``, ``tradable`` or a feature.

        Raises:
            KeyError: If no column has that name.
        """
        if name in self.bars:
            return self.bars[name]
        if name in self.features:
            return self.features[name]
        if name in ("marks", "weights", "tradable"):
            return tuple(getattr(self, name))
        have = [*BAR_FIELDS, "marks", "weights", "tradable", *self.features]
        raise KeyError(f"no column {name!r}; have {have}")

    def table(self) -> pd.DataFrame:
        """The observation as a frame: one row per symbol (pandas is imported here)."""
        import pandas as pd

        data: dict[str, object] = {"tradable": self.tradable, "mark": self.marks,
                                   "weight": self.weights}  # fmt: skip
        data.update({k: v for k, v in self.bars.items() if k != "close"})
        data.update(self.features)
        return pd.DataFrame(data, index=pd.Index(self.symbols, name="symbol"))


class PortfolioDecision(Record):
    """The Decide stage's output for a universe: target weights, or per-symbol decisions.

    Exactly one of ``target_weights`` and ``decisions`` is given, except in an abstention
    (``source="abstain"``), which may give neither and trades nothing. Target weights are
    fractions of the one equity (a symbol left out targets 0; negative weights are shorts);
    they are sized into orders by the portfolio sizing step at the decision's marks.

    Attributes:
        timestamp: The decision time.
        target_weights: Symbol -> target weight of equity.
        decisions: Per-symbol decisions (at most one per symbol).
        scores: The ranking behind the weights (e.g. a trend score), for the record.
        reason: Why, in words.
        confidence: How sure the policy is.
        source: Which policy produced it.
        llm_calls: The LLM calls behind it (their prompts are stored with the step).
    """

    timestamp: UTCDatetime
    target_weights: dict[Symbol, Finite] | None = None
    decisions: tuple[Decision, ...] = ()
    scores: dict[Symbol, Finite] = Field(default_factory=dict)
    reason: str = ""
    confidence: Probability = 1.0
    source: DecisionSource
    llm_calls: tuple[LLMCall, ...] = ()

    @model_validator(mode="after")
    def _check_one_form(self) -> Self:
        neither = self.target_weights is None and not self.decisions
        if neither and self.source is DecisionSource.ABSTAIN:
            return self
        if (self.target_weights is None) == (not self.decisions):
            raise ValueError("give exactly one of target_weights and decisions")
        _check_unique(tuple(d.symbol for d in self.decisions), "decision symbols")
        return self

    @property
    def gross(self) -> float:
        """Sum of absolute target weights (0 for per-symbol decisions)."""
        return math.fsum(abs(w) for w in (self.target_weights or {}).values())


class PortfolioStep(Record):
    """The portfolio part of a :class:`~axon_lab.records.StepRecord`.

    Attributes:
        decision: The step's portfolio decision (None if the step failed before deciding).
        weights: Non-zero weights at the end of the step, at the marks.
        pnl_by_symbol: Non-zero change in each symbol's contribution to equity over the step
            (position marked to market plus fills and fees); they sum to the step's ``pnl``.
        gross: Sum of absolute weights at the end of the step.
        net: Sum of weights at the end of the step.
        n_tradable: Symbols with a bar at this step.
        n_orders: Orders placed this step.
        n_rejected: Orders the portfolio risk line rejected this step.
        n_cancelled: Orders cancelled because their symbol had no bar to fill on.
    """

    decision: PortfolioDecision | None = None
    weights: dict[Symbol, Finite] = Field(default_factory=dict)
    pnl_by_symbol: dict[Symbol, Finite] = Field(default_factory=dict)
    gross: Finite = 0.0
    net: Finite = 0.0
    n_tradable: NonNegativeInt = 0
    n_orders: NonNegativeInt = 0
    n_rejected: NonNegativeInt = 0
    n_cancelled: NonNegativeInt = 0
