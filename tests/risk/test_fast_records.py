"""Verdicts and reports built without re-validation are the validated ones; bad values still fail.

The chain lays out its RiskVerdicts and ExecutionReports directly when every value is plainly
valid. For any values the result must be exactly what validation gives, or the same error, and
a NaN or infinite price must still end in a fail-closed rejection, never in a pass.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.records import (
    DefenceLine,
    OrderAck,
    OrderRequest,
    OrderStatus,
    PortfolioSnapshot,
    RiskVerdict,
)
from axon_lab.records.testing import assert_same_outcome as assert_same
from axon_lab.records.testing import outcome
from axon_lab.risk import RiskChain, RiskLimits, TwoPhaseMode, approve, reject
from axon_lab.risk.context import OrderContext
from axon_lab.risk.report import ExecutionReport
from axon_lab.risk.report import build_report as _report

T = datetime(2024, 1, 1, 12, tzinfo=UTC)
ORDER = OrderRequest(client_order_id="c-1", symbol="X", side="buy", quantity=2.0)

values = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.text(max_size=3),
    st.just(True),
)
times = st.sampled_from(
    [
        T,
        T.astimezone(timezone(timedelta(hours=-5))),
        pd.Timestamp(T),
        T.replace(tzinfo=None),
    ]
)


@given(
    st.booleans(),
    st.sampled_from([*DefenceLine, "limit"]),
    st.sampled_from(["max_order_notional", ""]),
    st.dictionaries(
        st.sampled_from(["limit", "observed", "message", "gate_state", "colour"]),
        values,
        max_size=4,
    ),
    times,
)
def test_a_verdict_is_the_validated_verdict(approved, line, rule, details, now):
    ctx = OrderContext(
        order=ORDER,
        now=now,
        mark_price=10.0,
        portfolio=PortfolioSnapshot.build(timestamp=T, cash=100.0),
    )
    slow = outcome(
        RiskVerdict,
        approved=approved,
        line=line,
        rule=rule,
        timestamp=now,
        client_order_id=ORDER.client_order_id,
        **details,
    )
    build = approve if approved else reject
    assert_same(outcome(build, ctx, line, rule, **details), slow)


def test_non_finite_verdict_values_still_raise():
    ctx = OrderContext(
        order=ORDER,
        now=T,
        mark_price=10.0,
        portfolio=PortfolioSnapshot.build(timestamp=T, cash=1.0),
    )
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(Exception, match="finite"):
            reject(ctx, DefenceLine.LIMIT, "max_order_notional", limit=1.0, observed=bad)


ACK = OrderAck(
    order_id="o-1",
    client_order_id="c-1",
    symbol="X",
    side="buy",
    quantity=2.0,
    status=OrderStatus.ACCEPTED,
    timestamp=T,
)
VERDICT = RiskVerdict(approved=True, line=DefenceLine.LIMIT, rule="r", timestamp=T)

report_fields = st.fixed_dictionaries(
    {
        "operation": st.sampled_from(["place", "replace", "cancel", "fly"]),
        "ok": st.sampled_from([True, False, 1]),
        "status": st.sampled_from(["accepted", "", 3]),
    },
    optional={
        "order": st.sampled_from([None, ORDER, OrderRequest.model_construct(symbol="X")]),
        "order_id": st.sampled_from([None, "o-1", 7]),
        "verdicts": st.sampled_from([(), (VERDICT,), [VERDICT], ("junk",)]),
        "ack": st.sampled_from([None, ACK, "ack"]),
        "fills": st.sampled_from([(), [], ("junk",)]),
        "dry_run": st.sampled_from([False, True, 0]),
        "sent": st.booleans(),
        "confirm_token": st.sampled_from([None, "tok"]),
        "message": st.sampled_from(["", "done", None]),
        "error": st.sampled_from([None, "boom"]),
        "latency_s": st.sampled_from([0.0, 1e-5, -1.0, float("nan"), 2]),
        "colour": st.just("red"),
    },
)


@given(report_fields)
def test_a_report_is_the_validated_report(fields):
    assert_same(outcome(_report, dict(fields)), outcome(ExecutionReport, **fields))


class MarkBackend(MockTradingBackend):
    """A backend whose last price is whatever the test says (a feed gone wrong)."""

    mark: Any = float("nan")

    async def last_price(self, symbol: str) -> float:
        return self.mark  # type: ignore[no-any-return]


@pytest.mark.parametrize("mark", [float("nan"), float("inf")])
@pytest.mark.parametrize(
    ("mode", "limits", "rule"),
    [
        ("direct", RiskLimits(max_order_notional=1e9), "limit_exception"),
        ("direct", RiskLimits(max_position_value=1e9), "limit_exception"),
        (TwoPhaseMode(confirm_above=10.0, ttl=timedelta(minutes=1)), None, "safety_mode_exception"),
    ],
)
def test_a_non_finite_mark_is_a_fail_closed_rejection(mark, mode, limits, rule):
    backend = MarkBackend({"X": 10.0}, cash=1e6, clock=SimulatedClock(T))
    backend.mark = mark
    chain = RiskChain(backend, mode=mode, limits=limits)
    report = asyncio.run(chain.place_order(ORDER))
    assert not report.ok
    assert report.status == "rejected"
    assert report.rejection is not None
    assert report.rejection.rule == rule
    assert "finite" in report.rejection.message
    assert not report.sent
    assert asyncio.run(backend.fills()) == ()
