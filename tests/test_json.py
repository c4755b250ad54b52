"""The nesting cap on outside JSON (axon_lab/_json.py), against an independent depth oracle."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab._json import check_json_depth, loads_bounded
from axon_lab.errors import LLMError, LLMOutputError

values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    """Nesting of a parsed value: containers count, scalars (strings included) do not."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@given(value=values, limit=st.integers(0, 8), indent=st.sampled_from([None, 1]))
def test_the_cap_refuses_exactly_the_values_nested_past_it(
    value: Any, limit: int, indent: int | None
) -> None:
    text = json.dumps(value, indent=indent)
    if _depth(value) > limit:
        with pytest.raises(LLMError, match=f"nested deeper than {limit} levels"):
            check_json_depth(text, limit=limit)
    else:
        check_json_depth(text, limit=limit)
        assert loads_bounded(text, limit=limit) == value


@given(value=values, tail=st.text(alphabet="[{ ab", max_size=200))
def test_only_the_first_value_counts(value: Any, tail: str) -> None:
    text = json.dumps({"v": value}) + " " + tail
    if _depth({"v": value}) <= 64:
        check_json_depth(text)  # the brackets after the value are prose, not nesting


def test_the_error_type_and_text_are_the_callers() -> None:
    with pytest.raises(LLMOutputError, match=r"^The answer: JSON nested deeper than 2 levels"):
        check_json_depth("[[[1]]]", limit=2, what="The answer", error=LLMOutputError)
