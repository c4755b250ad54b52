"""Risk verdicts and the per-step record written to the explain store."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from axon_lab.records._analysis import Analysis
from axon_lab.records._base import Finite, NonNegativeInt, Record, UTCDatetime
from axon_lab.records._enums import DefenceLine, GateState
from axon_lab.records._orders import Decision, Fill, OrderAck
from axon_lab.records._portfolio import PortfolioStep


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


class GateTransition(Record):
    """One state change of a risk gate, with its cause and the numbers behind it."""

    timestamp: UTCDatetime
    gate: str = Field(min_length=1)
    from_state: GateState
    to_state: GateState
    cause: str
    limit: Finite | str | None = None
    observed: Finite | str | None = None


class StepRecord(Record):
    """Everything one OADER cycle did, written to the explain store before the next begins.

    ``equity`` is the portfolio's equity at the end of the step and ``pnl`` the change in equity
    over this step (so a run's cumulative PnL is the sum of its steps' ``pnl``).
    ``gate_states`` holds each risk gate's state at the end of the step (the loop marks the
    portfolio to market before Decide, so a breaker trips between orders), and
    ``gate_transitions`` every gate state change during the step, with its cause.
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
    gate_states: dict[str, GateState] = Field(default_factory=dict)
    gate_transitions: tuple[GateTransition, ...] = ()
    failed_stage: str | None = None
    error: str | None = None
    # a many-symbol step's weights and contributions; left out of the JSON when None, so a
    # one-symbol step serialises (and hashes) exactly as before
    portfolio: PortfolioStep | None = Field(default=None, exclude_if=lambda v: v is None)

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
