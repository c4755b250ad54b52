"""Analysis records: tool calls, reasoning steps, LLM calls and the analysis itself."""

from __future__ import annotations

from pydantic import Field

from axon_lab.records._base import NonNegativeFinite, NonNegativeInt, Probability, Record
from axon_lab.records._enums import Action, AnalysisSource, MarketAssessment, RiskLevel


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
    """One call to an LLM, as recorded for cost, latency and replay.

    ``attempts`` counts HTTP attempts (1 means no retry); ``retry_errors`` says why each failed
    attempt before the last was retried. A call that failed outright has ``error`` set.
    ``request_parts`` are the SHA-256 digests of the request's parts (head, tools, messages) by
    which the explain store keeps what the model was sent (``ExplainStore.request_json``).
    ``role`` names the role that made the call in a multi-role Analyze stage
    (:class:`~axon_lab.oader.MultiModelOrchestrator`), None otherwise.
    """

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
    attempts: int = Field(default=1, ge=1)
    retry_errors: tuple[str, ...] = ()
    request_parts: tuple[str, ...] = ()
    role: str | None = None


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
