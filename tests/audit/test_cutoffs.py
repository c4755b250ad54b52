"""Training-cutoff registry: every entry sourced, look-ups exact, windows classed."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.audit import classify_window, load_cutoffs, parse_cutoff
from axon_lab.errors import ConfigError


def test_every_bundled_entry_has_a_source_and_the_file_says_to_verify():
    registry = load_cutoffs()
    assert len(registry) >= 5
    assert "verify" in registry.notice
    for entry in registry.entries:
        assert entry.source.startswith("https://"), entry
    assert registry.cutoff("gpt-4o") == date(2023, 10, 31)
    assert registry.cutoff("openai/gpt-4o-mini") == date(2023, 10, 31)
    # the shipped local model is listed, and honestly without a stated cutoff
    assert registry.find("smollm2-135m-instruct") is not None
    assert registry.cutoff("smollm2-135m-instruct") is None


def test_lookups_do_not_guess():
    registry = load_cutoffs()
    assert registry.find("gpt-4o-mini-ultra") is None
    assert registry.cutoff("unknown-model") is None


def test_user_entries_win(tmp_path):
    extra = tmp_path / "mine.json"
    extra.write_text(
        json.dumps({"models": [{"model": "gpt-4o", "cutoff": "2024-01", "source": "my notes"}]})
    )
    registry = load_cutoffs(extra, overrides={"smollm2-135m-instruct": "2024-06-30"})
    assert registry.cutoff("GPT-4O") == date(2024, 1, 31)
    assert registry.cutoff("smollm2-135m-instruct") == date(2024, 6, 30)
    assert registry.find("smollm2-135m-instruct").source == "user"


def test_bad_registry_input_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_cutoffs(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"models": [{"model": "x", "cutoff": "2024-01"}]}))
    with pytest.raises(ConfigError, match="names no source"):
        load_cutoffs(bad)
    with pytest.raises(ConfigError, match="YYYY-MM"):
        load_cutoffs(overrides={"x": "last spring"})
    with pytest.raises(ConfigError, match=r"ends .* before it starts"):
        classify_window("2024-02-01", "2024-01-01", date(2024, 1, 1))
    with pytest.raises(ConfigError, match="must be a date"):
        classify_window(3, "2024-01-01", None)  # type: ignore[arg-type]


def test_month_cutoffs_end_on_the_last_day():
    assert parse_cutoff("2023-02") == date(2023, 2, 28)
    assert parse_cutoff("2024-12") == date(2024, 12, 31)
    assert classify_window("2024-01-01", "2024-02-01", None) == "unknown"


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1))


@given(days, st.integers(0, 4000), days)
def test_classes_match_an_enumeration_of_the_window_days(start, length, cutoff):
    end = start + timedelta(days=length)
    if end > date(2035, 1, 1):
        return
    # is each day of the window known to the model?
    known = {start + timedelta(days=i) <= cutoff for i in range(length + 1)}
    expected = {frozenset({True}): "before", frozenset({False}): "after"}.get(
        frozenset(known), "spanning"
    )
    assert classify_window(start, end, cutoff) == expected
