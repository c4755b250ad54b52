"""Turning a final answer into a validated :class:`~axon_lab.records.Analysis`, or abstaining.

The contract is the JSON object :class:`~axon_lab.llm.SystemPrompt` asks for: ``thought``,
``market_assessment``, ``risk_assessment``, ``confidence``, ``action``, ``reason``. Parsing
accepts raw JSON, a fenced code block, or JSON followed by prose, then enforces the schema: known
enum values (case-insensitive), a finite confidence in [0, 1], strings within their length caps,
and the rule that a confidence under ``min_confidence`` means ``hold``.

:func:`complete_analysis` asks, validates, sends one repair request on failure, and otherwise
abstains: it returns an Analysis with ``source=abstain`` and ``action=hold`` that keeps the raw text
and every :class:`~axon_lab.records.LLMCall`. Its ``market_assessment="range"``,
``risk_assessment="high"`` and ``confidence=0`` are the most conservative placeholders, not a
reading of the market. Budget and cache-miss errors are not abstentions: they propagate.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from axon_lab._redact import redact_secrets
from axon_lab._text import MAX_ECHO_CHARS, MAX_ERROR_CHARS, MAX_RAW_CHARS, clip
from axon_lab.errors import (
    BudgetExceededError,
    CacheMissError,
    ConfigError,
    LLMError,
    LLMOutputError,
)
from axon_lab.llm._archive import request_parts
from axon_lab.llm._client import LLMClient
from axon_lab.llm._json_extract import extract_json_object
from axon_lab.llm._request import LLMRequest
from axon_lab.llm._structured import json_schema_format
from axon_lab.records import (
    Action,
    Analysis,
    AnalysisSource,
    LLMCall,
    MarketAssessment,
    ReasoningStep,
    RiskLevel,
)

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "AnalysisContract",
    "abstain",
    "complete_analysis",
    "failed_llm_call",
    "parse_analysis",
]

DEFAULT_MIN_CONFIDENCE = 0.6
"""The seed's rule: below this confidence the action must be ``hold``."""

_REQUIRED = ("thought", "market_assessment", "risk_assessment", "confidence", "action", "reason")
_ALLOWED: dict[type[StrEnum], list[str]] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisContract:
    """The output contract: the confidence threshold and the length caps.

    The caps are sent as ``maxLength`` in the schema and enforced again in Python. Keep them at or
    under ~1000: llama.cpp compiles each into a grammar rule whose nesting grows with the cap, and
    its server crashed ("failed to parse grammar") at 1500 in our tests.

    Examples:
        >>> AnalysisContract().json_schema()["required"][:2]
        ['thought', 'market_assessment']
    """

    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    max_thought_chars: int = 600
    max_reason_chars: int = 300

    def __post_init__(self) -> None:
        if not 0 <= self.min_confidence <= 1:
            raise ConfigError(f"min_confidence must be in [0, 1], got {self.min_confidence!r}.")

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of the answer (what structured output asks the server for)."""
        return {
            "type": "object",
            "properties": {
                "thought": {"type": "string", "maxLength": self.max_thought_chars},
                "market_assessment": {
                    "type": "string",
                    "enum": [m.value for m in MarketAssessment],
                },
                "risk_assessment": {"type": "string", "enum": [r.value for r in RiskLevel]},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "action": {"type": "string", "enum": [a.value for a in Action]},
                "reason": {"type": "string", "maxLength": self.max_reason_chars},
            },
            "required": list(_REQUIRED),
            "additionalProperties": False,
        }

    def response_format(self) -> dict[str, Any]:
        """An OpenAI ``response_format`` for this contract."""
        return json_schema_format(self.json_schema(), name="analysis")


def _shown(value: Any) -> str:
    """A value quoted in a problem message, clipped (the message goes back to the model)."""
    return clip(repr(value), 200)


def _enum(data: Mapping[str, Any], key: str, enum: type[StrEnum], problems: list[str]) -> Any:
    value = data.get(key)
    allowed = _ALLOWED.get(enum)
    if allowed is None:
        allowed = _ALLOWED[enum] = [e.value for e in enum]
    if not isinstance(value, str):
        problems.append(f"{key} must be one of {allowed}, got {_shown(value)}")
        return None
    norm = value.strip().lower()
    if norm not in allowed:
        close = difflib.get_close_matches(norm, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"{key} must be one of {allowed}, got {_shown(value)}{hint}")
        return None
    return enum(norm)


def _text(data: Mapping[str, Any], key: str, cap: int, problems: list[str]) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        problems.append(f"{key} must be a string, got {_shown(value)}")
        return ""
    if len(value) > cap:
        problems.append(f"{key} has {len(value)} characters; the cap is {cap}")
    return value


def _confidence(data: Mapping[str, Any], problems: list[str]) -> float | None:
    value = data.get("confidence")
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"confidence must be a number in [0, 1], got {_shown(value)}")
        return None
    if not math.isfinite(value) or not 0 <= value <= 1:
        problems.append(f"confidence must be a finite number in [0, 1], got {_shown(value)}")
        return None
    return float(value)


def parse_analysis(
    text: str,
    *,
    analyst: str,
    contract: AnalysisContract | None = None,
    llm_calls: Sequence[LLMCall] = (),
    reasoning_steps: Sequence[ReasoningStep] = (),
) -> Analysis:
    """Parse and validate a final answer into an :class:`~axon_lab.records.Analysis`.

    Args:
        text: The model's answer.
        analyst: The model name recorded as the analyst.
        contract: Threshold and caps (default :class:`AnalysisContract`).
        llm_calls: The calls that produced the answer.
        reasoning_steps: The ReAct steps that led to it.

    Returns:
        The validated analysis, with ``source=llm``.

    Raises:
        LLMOutputError: Listing every problem found, so one repair request can fix them all.

    Examples:
        >>> answer = ('{"thought": "t", "market_assessment": "range", "risk_assessment": "low", '
        ...           '"confidence": 0.3, "action": "buy", "reason": "r"}')
        >>> parse_analysis(answer, analyst="m")
        Traceback (most recent call last):
        ...
        axon_lab.errors.LLMOutputError: Invalid analysis: confidence 0.3 is below 0.6, so action must be 'hold' (got 'buy').
    """  # noqa: E501
    contract = contract or AnalysisContract()
    data = extract_json_object(text)
    problems: list[str] = []
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise LLMOutputError(f"Invalid analysis: missing keys {missing}.")
    thought = _text(data, "thought", contract.max_thought_chars, problems)
    reason = _text(data, "reason", contract.max_reason_chars, problems)
    market = _enum(data, "market_assessment", MarketAssessment, problems)
    risk = _enum(data, "risk_assessment", RiskLevel, problems)
    action = _enum(data, "action", Action, problems)
    confidence = _confidence(data, problems)
    if (
        confidence is not None
        and action is not None
        and confidence < contract.min_confidence
        and action is not Action.HOLD
    ):
        problems.append(
            f"confidence {confidence:g} is below {contract.min_confidence:g}, so action must be "
            f"'hold' (got {action.value!r})"
        )
    if problems:
        raise LLMOutputError("Invalid analysis: " + "; ".join(problems) + ".")
    return Analysis(
        thought=thought,
        market_assessment=market,
        risk_assessment=risk,
        confidence=confidence,
        action=action,
        reason=reason,
        source=AnalysisSource.LLM,
        analyst=analyst,
        reasoning_steps=tuple(reasoning_steps),
        llm_calls=tuple(llm_calls),
        raw_text=clip(text, MAX_RAW_CHARS),
    )


def abstain(
    why: str,
    *,
    analyst: str,
    raw_text: str | None = None,
    llm_calls: Sequence[LLMCall] = (),
    reasoning_steps: Sequence[ReasoningStep] = (),
) -> Analysis:
    """A visible abstention: ``hold`` with ``source=abstain``, keeping the evidence.

    ``why`` is redacted (URL credentials) and, like ``raw_text``, clipped with a marked cut.

    Examples:
        >>> a = abstain("no JSON in the answer", analyst="m", raw_text="hmm")
        >>> a.source.value, a.action.value, a.confidence, a.raw_text
        ('abstain', 'hold', 0.0, 'hmm')
    """
    why = redact_secrets(why)
    return Analysis(
        thought=clip(f"Abstained: {why}", 20_000),
        market_assessment=MarketAssessment.RANGE,
        risk_assessment=RiskLevel.HIGH,
        confidence=0.0,
        action=Action.HOLD,
        reason=clip(why, 4_000),
        source=AnalysisSource.ABSTAIN,
        analyst=analyst,
        reasoning_steps=tuple(reasoning_steps),
        llm_calls=tuple(llm_calls),
        raw_text=None if raw_text is None else clip(raw_text, MAX_RAW_CHARS),
    )


def _repair_message(problems: str, contract: AnalysisContract) -> dict[str, Any]:
    return {
        "role": "user",
        "content": (
            f"Your previous answer was rejected: {clip(problems, MAX_ERROR_CHARS)} Reply again "
            "with only the JSON "
            "object, with keys thought, market_assessment, risk_assessment, confidence, action "
            f"and reason. If confidence is below {contract.min_confidence:g}, action must be "
            "'hold'."
        ),
    }


def failed_llm_call(
    client: LLMClient,
    messages: Sequence[Mapping[str, Any]],
    exc: Exception,
    *,
    latency_s: float = 0.0,
    **request: Any,
) -> LLMCall:
    """The :class:`~axon_lab.records.LLMCall` record of a call that raised instead of answering.

    A failed call is still a call: it is counted, its attempts and their errors are kept (see
    :attr:`LLMError.attempts <axon_lab.errors.LLMError>`), and credentials are redacted.

    Args:
        client: The client that was called.
        messages: The messages that were sent.
        exc: What the call raised.
        latency_s: How long it took to fail.
        **request: ``tools``, ``response_format`` and parameters, for the request hash.

    Examples:
        >>> from axon_lab.errors import LLMTimeoutError
        >>> from axon_lab.llm import ScriptedClient
        >>> call = failed_llm_call(ScriptedClient([]), [{"role": "user", "content": "hi"}],
        ...                        LLMTimeoutError("no answer from http://u:pw@h/v1"))
        >>> call.error, call.attempts
        ('no answer from http://***@h/v1', 1)
    """
    parts: tuple[str, ...] = ()
    try:
        built = LLMRequest.build(messages, **request)
        key = built.key(client.model)
        parts = request_parts(built, client.model)
    except ConfigError:
        key = "unhashable"
    attempts = getattr(exc, "attempts", 1)
    return LLMCall(
        model=client.model,
        request_hash=key,
        tokens_in=0,
        tokens_out=0,
        latency_s=max(latency_s, 0.0),
        error=clip(redact_secrets(str(exc)), MAX_ERROR_CHARS),
        attempts=attempts if isinstance(attempts, int) and attempts >= 1 else 1,
        retry_errors=tuple(
            clip(redact_secrets(str(e)), MAX_ERROR_CHARS) for e in getattr(exc, "retry_errors", ())
        ),
        request_parts=parts,
    )


def complete_analysis(
    client: LLMClient,
    messages: Sequence[Mapping[str, Any]],
    *,
    contract: AnalysisContract | None = None,
    max_repairs: int = 1,
    structured: bool = True,
    reasoning_steps: Sequence[ReasoningStep] = (),
    **params: Any,
) -> Analysis:
    """Ask for the final answer, validate it, repair once, else abstain.

    Args:
        client: Any :class:`~axon_lab.llm.LLMClient`.
        messages: The conversation so far (system prompt, observation, tool turns).
        contract: Threshold and caps (default :class:`AnalysisContract`).
        max_repairs: Repair requests after an invalid answer (the issue's rule: one).
        structured: Ask the server for the contract's JSON schema (else rely on the prompt).
        reasoning_steps: ReAct steps to attach to the result.
        **params: Passed to ``client.complete`` (``temperature``, ``max_tokens``, ...).

    Returns:
        A validated Analysis (``source=llm``) or an abstention (``source=abstain``). Never a
        silent default: an abstention says why, keeps the raw text and every LLMCall.

    Raises:
        BudgetExceededError: The run's budget is spent (stopping is the point of a cap).
        CacheMissError: Replay mode met an unrecorded request (the run is not reproducible).

    Examples:
        >>> from axon_lab.llm import ScriptedClient
        >>> client = ScriptedClient(["not json", "still not json"])
        >>> a = complete_analysis(client, [{"role": "user", "content": "analyse"}])
        >>> a.source.value, a.action.value, len(a.llm_calls), a.raw_text
        ('abstain', 'hold', 2, 'still not json')
    """
    contract = contract or AnalysisContract()
    fmt = contract.response_format() if structured else None
    convo = [dict(m) for m in messages]
    calls: list[LLMCall] = []
    raw: str | None = None
    problems = ""
    for _ in range(1 + max_repairs):
        try:
            response = client.complete(convo, response_format=fmt, **params)
        except (BudgetExceededError, CacheMissError):
            raise
        except LLMError as exc:
            calls.append(failed_llm_call(client, convo, exc, response_format=fmt, **params))
            return abstain(
                f"the LLM call failed: {exc}",
                analyst=client.model,
                raw_text=raw,
                llm_calls=calls,
                reasoning_steps=reasoning_steps,
            )
        raw = response.text
        try:
            analysis = parse_analysis(
                response.text,
                analyst=response.model,
                contract=contract,
                llm_calls=[*calls, response.to_llm_call()],
                reasoning_steps=reasoning_steps,
            )
        except LLMOutputError as exc:
            problems = str(exc)
            calls.append(response.to_llm_call(error=problems))
            convo += [
                # the model's own answer, echoed back: clipped, or a 1 MB answer costs MBs more
                {"role": "assistant", "content": clip(response.text, MAX_ECHO_CHARS)},
                _repair_message(problems, contract),
            ]
            continue
        return analysis
    return abstain(
        f"invalid answer after {max_repairs} repair request(s): {problems}",
        analyst=client.model,
        raw_text=raw,
        llm_calls=calls,
        reasoning_steps=reasoning_steps,
    )
