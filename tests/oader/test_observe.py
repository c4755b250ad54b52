"""ContextBuilder: the observation it builds without re-validation equals the validated one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.data import MarketView, make_synthetic
from axon_lab.errors import RecordError, ToolError
from axon_lab.oader import ContextBuilder, snapshot_from_payload
from axon_lab.oader.observe import _is_valid
from axon_lab.records import Observation
from axon_lab.tools import ToolResult, make_trading_tools


@pytest.fixture
def observe() -> ContextBuilder:
    frame = make_synthetic(80, timeframe="1h", start="2024-01-01", seed=3, symbol="SYN")
    view = MarketView(frame, feature_spec=["rsi_14", "atr_14"])
    tools = make_trading_tools(MockTradingBackend({"SYN": 100.0}, cash=1_000.0))
    return ContextBuilder(view, tools.query, lookback=5)


def test_fast_observation_equals_the_validated_one(observe: ContextBuilder) -> None:
    for hour in (3, 20, 60):  # NaN features (None) early, numbers later
        now = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=hour)
        fast = observe(now)
        checked = Observation(**dict(fast))
        assert fast == checked
        assert fast.to_json() == checked.to_json()
        assert fast.digest() == checked.digest()


def _fields(observe: ContextBuilder, now: datetime) -> dict[str, Any]:
    return dict(observe(now))


def test_what_validation_would_change_or_reject_takes_the_validated_path(
    observe: ContextBuilder,
) -> None:
    now = datetime(2024, 1, 2, tzinfo=UTC)
    fields = _fields(observe, now)
    assert _is_valid(fields)
    other_zone = now.astimezone(timezone(timedelta(hours=2)))
    assert not _is_valid({**fields, "timestamp": other_zone})  # validation normalises to UTC
    inf = {"SYN": {**fields["features"]["SYN"], "rsi_14": float("inf")}}
    assert not _is_valid({**fields, "features": inf})
    ints = {"SYN": {**fields["features"]["SYN"], "rsi_14": 50}}
    assert not _is_valid({**fields, "features": ints})  # validation turns it into 50.0
    early = now - timedelta(hours=5)
    assert not _is_valid({**fields, "timestamp": early})  # its bars are after the time
    with pytest.raises(RecordError, match="rsi_14"):
        Observation(**{**fields, "features": inf})
    with pytest.raises(RecordError, match="look-ahead"):
        Observation(**{**fields, "timestamp": early})


class _JsonOnlyPortfolio:
    """A portfolio tool that answers with JSON only (no typed value)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def arun(self, args: str) -> ToolResult:
        result = await self.inner.arun(args)
        return ToolResult(tool=result.tool, ok=result.ok, payload=result.payload)


def test_the_snapshot_read_from_the_tools_json_is_the_typed_one(observe: ContextBuilder) -> None:
    now = datetime(2024, 1, 2, 5, tzinfo=UTC)
    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=SimulatedClock(now))
    tools = make_trading_tools(backend)
    tools.place.run('{"symbol": "SYN", "side": "buy", "quantity": 2}')
    typed = ContextBuilder(observe.view, tools.query, lookback=5)(now)
    from_json = ContextBuilder(observe.view, _JsonOnlyPortfolio(tools.query), lookback=5)(now)
    assert typed.portfolio.positions["SYN"].quantity == 2
    assert from_json == typed
    assert from_json.digest() == typed.digest()


# ---------------------------------------------------------------- snapshot_from_payload


def _payload(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ok": True,
        "timestamp": "2024-01-01T00:00:00+00:00",
        "cash": 50.0,
        "equity": 70.0,
        "realized_pnl": 0.0,
        "fees_paid": 0.0,
        "positions": [{"symbol": "X", "quantity": 2.0, "avg_price": 9.0, "mark_price": 10.0}],
    }
    base.update(changes)
    return base


def test_a_valid_payload_round_trips() -> None:
    snap = snapshot_from_payload(_payload())
    assert snap.quantity("X") == 2.0
    assert snap.equity == 70.0


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"timestamp": "2024-01-01T00:00:00"}, "timezone"),  # naive
        ({"cash": "oops"}, "cash"),
        ({"realized_pnl": float("nan")}, "realized_pnl"),
        (
            {
                "positions": [
                    {"symbol": "X", "quantity": 2.0, "avg_price": -9.0, "mark_price": 10.0}
                ]
            },
            "avg_price",
        ),
        ({"equity": 1e9}, "equity"),  # not cash + positions
        ({"positions": "X"}, "not a list"),
        ({"positions": [["X", 2.0]]}, "not an object"),
        ({"fees_paid": -1.0}, "fees_paid"),
    ],
)
def test_a_bad_payload_is_a_tool_error(changes: dict[str, Any], match: str) -> None:
    # before: model_construct let each of these through as a "snapshot"
    with pytest.raises(ToolError, match=match):
        snapshot_from_payload(_payload(**changes))


def test_a_payload_missing_a_field_names_it() -> None:
    payload = _payload()
    del payload["cash"]
    with pytest.raises(ToolError, match="lacks the field 'cash'"):
        snapshot_from_payload(payload)
