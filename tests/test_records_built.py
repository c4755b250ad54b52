"""records.built.observation equals Observation(**fields): the fast path changes nothing.

The oracle is the validating constructor itself, on every input: where validation would accept
the fields, both give equal records with the same JSON; where it would convert or refuse a value,
the builder must have taken the validated path (same result, or the same RecordError).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab.errors import RecordError
from axon_lab.records import Bar, Observation, PortfolioSnapshot, Position, StrategyState, built

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _bars(n: int, start: datetime) -> tuple[Bar, ...]:
    return tuple(
        Bar(
            timestamp=start + timedelta(hours=i),
            open=100.0 + i,
            high=101.0 + i,
            low=99.0 + i,
            close=100.5 + i,
            volume=10.0,
        )
        for i in range(n)
    )


good_symbols = st.sampled_from(["SYN", "BTC-USD", "a" * 64])
good_features = st.none() | st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
LATER = T0 + timedelta(hours=10)
PORTFOLIO = PortfolioSnapshot(
    timestamp=T0,
    cash=50.0,
    positions={"SYN": Position(symbol="SYN", quantity=1.0, avg_price=100.0, mark_price=101.0)},
    equity=151.0,
)

# one change each: what validation would convert (so the builder must not skip it) or refuse
CHANGES: dict[str, Any] = {
    "naive time": {"timestamp": datetime(2024, 1, 1, 10)},
    "time in another zone": {"timestamp": LATER.astimezone(timezone(timedelta(hours=2)))},
    "bars after the time": {"timestamp": T0 + timedelta(hours=2)},
    "symbols as a list": {"symbols": ["SYN"]},
    "no symbols": {"symbols": ()},
    "a symbol too long": {"symbols": ("a" * 65,)},
    "a symbol with a space": {"symbols": ("S Y N",)},
    "an empty symbol": {"symbols": ("",)},
    "an empty timeframe": {"timeframe": ""},
    "a portfolio as a dict": {"portfolio": PORTFOLIO.model_dump()},
    "a state as a dict": {"strategy_state": {"step_count": 2}},
    "bars as a list": "bars_list",
    "bars of an unknown symbol": "bars_other",
    "features of an unknown symbol": "features_other",
    "an infinite feature": "feature_inf",
    "a NaN feature": "feature_nan",
    "an int feature": "feature_int",
    "a bool feature": "feature_bool",
    "a str feature": "feature_str",
}


@st.composite
def fields(draw: st.DrawFn) -> dict[str, Any]:
    syms = tuple(draw(st.lists(good_symbols, min_size=1, max_size=3, unique=True)))
    parts: dict[str, Any] = {
        "timestamp": LATER,
        "symbols": syms,
        "timeframe": "1h",
        "bars": {
            s: _bars(draw(st.integers(0, 8)), T0) for s in draw(st.sets(st.sampled_from(syms)))
        },
        "features": {
            s: draw(st.dictionaries(st.sampled_from(["rsi_14", "atr_14"]), good_features))
            for s in draw(st.sets(st.sampled_from(syms)))
        },
        "portfolio": PORTFOLIO,
        "strategy_state": StrategyState(step_count=draw(st.integers(0, 3))),
    }
    change = draw(st.none() | st.sampled_from(sorted(CHANGES)))
    if change is None:
        return parts
    what = CHANGES[change]
    if isinstance(what, dict):
        return {**parts, **what}
    first = syms[0]
    if what == "bars_list":
        return {**parts, "bars": {first: list(_bars(3, T0))}}
    if what == "bars_other":
        return {**parts, "bars": {**parts["bars"], "OTHER": _bars(1, T0)}}
    if what == "features_other":
        return {**parts, "features": {**parts["features"], "OTHER": {"x": 1.0}}}
    bad = {
        "feature_inf": math.inf,
        "feature_nan": math.nan,
        "feature_int": 50,
        "feature_bool": True,
        "feature_str": "1.5",
    }[what]
    return {**parts, "features": {first: {"rsi_14": bad}}}


@settings(max_examples=300)
@given(fields())
def test_the_built_observation_is_the_validated_one(parts: dict[str, Any]) -> None:
    try:
        expected = Observation(**parts)
    except RecordError as err:
        message = str(err)
    else:
        message = ""
    if message:
        with pytest.raises(RecordError, match=re.escape(message)):
            built.observation(**parts)
        return
    got = built.observation(**parts)
    assert got == expected
    assert got.to_json() == expected.to_json()
    assert got.digest() == expected.digest()
    assert type(got.symbols) is tuple
    assert got.timestamp.tzinfo is UTC


def test_a_clean_observation_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = Observation.model_construct

    def spy(**kw: Any) -> Observation:
        calls.append("construct")
        return original(**kw)

    monkeypatch.setattr(Observation, "model_construct", spy)
    parts = {
        "timestamp": T0 + timedelta(hours=10),
        "symbols": ("SYN",),
        "timeframe": "1h",
        "bars": {"SYN": _bars(5, T0)},
        "features": {"SYN": {"rsi_14": 55.0, "atr_14": None}},
        "portfolio": PortfolioSnapshot(timestamp=T0, cash=10.0, equity=10.0),
        "strategy_state": StrategyState(),
    }
    built.observation(**parts)
    assert calls == ["construct"]
    with pytest.raises(RecordError, match="look-ahead"):
        built.observation(**{**parts, "timestamp": T0 + timedelta(hours=2)})
    assert calls == ["construct"]  # the late bar went through validation, which refused it
