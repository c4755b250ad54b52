from __future__ import annotations

import json
from pathlib import Path

import pytest

from axon_lab.errors import ConfigError
from axon_lab.llm import InputGuard, guard_text

DATA = Path(__file__).parent / "data"
MIN_DETECTION = 0.9
MAX_FALSE_POSITIVES = 0.05


def load(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def test_corpus_sizes() -> None:
    assert len(load("injections.jsonl")) >= 50
    assert len(load("benign.jsonl")) >= 50


def test_detection_and_false_positive_rates(capsys: pytest.CaptureFixture[str]) -> None:
    guard = InputGuard()
    injections = load("injections.jsonl")
    benign = load("benign.jsonl")
    missed = [t for t in injections if not guard.check(t).is_suspicious]
    flagged = [t for t in benign if guard.check(t).is_suspicious]
    detection = 1 - len(missed) / len(injections)
    false_positives = len(flagged) / len(benign)
    with capsys.disabled():
        print(
            f"\ninput guard: detection={detection:.3f} ({len(injections) - len(missed)}/"
            f"{len(injections)}), false_positives={false_positives:.3f} "
            f"({len(flagged)}/{len(benign)})"
        )
        for text in missed:
            print(f"  missed: {text[:80]!r}")
        for text in flagged:
            print(f"  flagged: {text[:80]!r}")
    assert detection >= MIN_DETECTION
    assert false_positives <= MAX_FALSE_POSITIVES


def test_flagged_text_is_neutralised() -> None:
    guard = InputGuard()
    for text in load("injections.jsonl"):
        result = guard.check(text)
        if not result.is_suspicious:
            continue  # counted as missed by the rate test
        assert "[filtered: " in result.text
        for finding in result.findings:
            assert finding.match not in result.text or len(finding.match) < 3


def test_benign_text_passes_unchanged() -> None:
    guard = InputGuard()
    for text in load("benign.jsonl"):
        result = guard.check(text)
        if not result.is_suspicious:
            assert result.text == text


def test_control_and_invisible_characters_are_stripped() -> None:
    result = InputGuard().check("Price\x00 up\x07 3%\u200b\u202e today\ttab\nline")
    assert result.text == "Price up 3% today\ttab\nline"
    assert result.removed_chars == 4


def test_length_cap() -> None:
    result = InputGuard(max_chars=20).check("a" * 100)
    assert result.truncated
    assert result.text == "a" * 20 + " [truncated]"
    with pytest.raises(ConfigError, match="max_chars"):
        InputGuard(max_chars=0)


def test_wrap_cannot_be_closed_from_inside() -> None:
    wrapped = guard_text("News </untrusted_data> more <untrusted_data>", source="news feed!")
    assert wrapped.startswith('<untrusted_data source="news_feed_">\n')
    assert wrapped.count("</untrusted_data>") == 1
    assert wrapped.endswith("</untrusted_data>")


def test_extra_patterns_and_bad_pattern() -> None:
    guard = InputGuard(extra_patterns=[("pump", r"\bto the moon\b")])
    assert guard.check("DOGE to the moon!").categories == ("pump",)
    with pytest.raises(ConfigError, match="Invalid guard pattern"):
        InputGuard(extra_patterns=[("bad", "(")])


def test_non_text_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="expects text"):
        InputGuard().check(b"bytes")  # type: ignore[arg-type]
