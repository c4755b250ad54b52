from __future__ import annotations

import json
from typing import Any

import pytest

from axon_lab.errors import BudgetExceededError, CacheMissError, LLMError
from axon_lab.llm import (
    AnalysisContract,
    LLMOutputError,
    ScriptedClient,
    SystemPrompt,
    complete_analysis,
    extract_json_object,
    make_response,
    parse_analysis,
)
from axon_lab.records import Action, AnalysisSource, MarketAssessment, RiskLevel

CONTRACT = AnalysisContract(min_confidence=0.55)


def answer(**overrides: Any) -> str:
    data: dict[str, Any] = {
        "thought": "Closes rose on five consecutive bars with rising volume.",
        "market_assessment": "uptrend",
        "risk_assessment": "medium",
        "confidence": 0.71,
        "action": "buy",
        "reason": "Trend and volume agree.",
    }
    data.update(overrides)
    return json.dumps(data)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda s: s,
        lambda s: f"```json\n{s}\n```",
        lambda s: f"```\n{s}\n```",
        lambda s: f"{s}\n\nThis is my analysis; let me know if you need more.",
        lambda s: f"Here is my answer:\n{s} Thanks.",
        lambda s: f"  \n{s}\n",
    ],
)
def test_parses_raw_fenced_and_prose_wrapped_json(wrap: Any) -> None:
    a = parse_analysis(wrap(answer()), analyst="m", contract=CONTRACT)
    assert (a.market_assessment, a.risk_assessment, a.action) == (
        MarketAssessment.UPTREND,
        RiskLevel.MEDIUM,
        Action.BUY,
    )
    assert a.confidence == pytest.approx(0.71)
    assert a.source is AnalysisSource.LLM
    assert a.raw_text == wrap(answer())


def test_enum_case_is_normalised() -> None:
    a = parse_analysis(answer(action="BUY", market_assessment=" Uptrend"), analyst="m")
    assert (a.action, a.market_assessment) == (Action.BUY, MarketAssessment.UPTREND)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"market_assessment": "sideways"}, r"market_assessment must be one of"),
        ({"action": "biy"}, r"did you mean 'buy'"),
        ({"risk_assessment": None}, r"risk_assessment must be one of"),
        ({"confidence": 1.5}, r"confidence must be a finite number in \[0, 1\], got 1.5"),
        ({"confidence": -0.1}, r"got -0.1"),
        ({"confidence": "0.9"}, r"confidence must be a number"),
        ({"confidence": True}, r"confidence must be a number"),
        ({"thought": "x" * 601}, r"thought has 601 characters; the cap is 600"),
        ({"reason": 5}, r"reason must be a string"),
        ({"confidence": 0.4, "action": "sell"}, r"below 0.55, so action must be 'hold'"),
    ],
)
def test_schema_violations_are_reported(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(LLMOutputError, match=match):
        parse_analysis(answer(**overrides), analyst="m", contract=CONTRACT)


def test_low_confidence_hold_is_valid() -> None:
    a = parse_analysis(answer(confidence=0.2, action="hold"), analyst="m", contract=CONTRACT)
    assert a.action is Action.HOLD


def test_all_problems_are_listed_together() -> None:
    with pytest.raises(LLMOutputError, match=r"market_assessment.*; action.*; confidence"):
        parse_analysis(answer(market_assessment="?", action="?", confidence=9), analyst="m")


@pytest.mark.parametrize(
    "text",
    [
        '{"thought": "t", "confidence": NaN}',
        '{"thought": "t", "confidence": Infinity}',
        "I think the market will go up.",
        '{"thought": "unterminated',
        "[1, 2, 3]",
    ],
)
def test_no_json_object_or_non_finite_numbers(text: str) -> None:
    with pytest.raises(LLMOutputError):
        extract_json_object(text)


def test_missing_keys() -> None:
    with pytest.raises(LLMOutputError, match=r"missing keys \['reason'\]"):
        parse_analysis(
            json.dumps({k: v for k, v in json.loads(answer()).items() if k != "reason"}),
            analyst="m",
        )


def test_valid_first_answer_one_call() -> None:
    client = ScriptedClient([make_response(answer(), prompt_tokens=40, completion_tokens=30)])
    a = complete_analysis(client, SystemPrompt().messages("obs"), contract=CONTRACT)
    assert a.source is AnalysisSource.LLM
    assert len(a.llm_calls) == 1
    assert a.llm_calls[0].tokens_in == 40
    sent = client.requests[0].response_format
    assert sent is not None
    assert sent["json_schema"]["schema"] == CONTRACT.json_schema()


def test_repair_request_fixes_the_answer() -> None:
    client = ScriptedClient([answer(confidence=0.3), answer(confidence=0.3, action="hold")])
    a = complete_analysis(client, SystemPrompt().messages("obs"), contract=CONTRACT)
    assert a.source is AnalysisSource.LLM
    assert a.action is Action.HOLD
    assert len(a.llm_calls) == 2
    assert a.llm_calls[0].error is not None
    assert "below 0.55" in a.llm_calls[0].error
    repair = client.requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": answer(confidence=0.3)}
    assert repair[-1]["role"] == "user"
    assert "rejected" in repair[-1]["content"]


def test_abstains_after_one_failed_repair_and_keeps_evidence() -> None:
    client = ScriptedClient(["The market looks bullish!", answer(action="moon")])
    a = complete_analysis(client, SystemPrompt().messages("obs"), contract=CONTRACT)
    assert a.source is AnalysisSource.ABSTAIN
    assert a.action is Action.HOLD
    assert a.confidence == 0.0
    assert a.raw_text == answer(action="moon")
    assert len(a.llm_calls) == 2
    assert all(c.error for c in a.llm_calls)
    assert "action must be one of" in a.reason
    assert len(client.requests) == 2  # exactly one repair


@pytest.mark.parametrize("exc", [BudgetExceededError("cap"), CacheMissError("miss")])
def test_budget_and_cache_miss_propagate(exc: LLMError) -> None:
    with pytest.raises(type(exc)):
        complete_analysis(ScriptedClient([exc]), [{"role": "user", "content": "x"}])


def test_unstructured_mode_sends_no_response_format() -> None:
    client = ScriptedClient([answer()])
    complete_analysis(client, [{"role": "user", "content": "x"}], structured=False, max_tokens=300)
    assert client.requests[0].response_format is None
    assert client.requests[0].params == {"max_tokens": 300}
