"""A past context retrieved from a retrieval memory, with the outcome that followed it."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from axon_lab.records._base import Finite, NonNegativeInt, Record, Symbol, UTCDatetime
from axon_lab.records._enums import Action


class SimilarContext(Record):
    """One stored context similar to the current one, and what followed it.

    ``outcome_at`` is when the outcome was complete (the close of the ``horizon``-th bar after
    ``timestamp``); a memory only hands out contexts whose ``outcome_at`` is at or before the
    observation time.
    """

    timestamp: UTCDatetime
    symbol: Symbol
    similarity: Finite
    summary: str
    horizon: NonNegativeInt = Field(gt=0)
    outcome_at: UTCDatetime
    forward_return: Finite
    action: Action | None = None
    result: Finite | None = None

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.outcome_at <= self.timestamp:
            raise ValueError(
                f"outcome_at {self.outcome_at.isoformat()} must be after the context's time "
                f"{self.timestamp.isoformat()}"
            )
        return self
