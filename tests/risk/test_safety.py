from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from axon_lab.errors import ConfigError
from axon_lab.records import OrderRequest, PortfolioSnapshot
from axon_lab.risk import (
    DirectMode,
    DryRunMode,
    OrderContext,
    SafetyMode,
    TwoPhaseMode,
    make_safety_mode,
)

T = datetime(2024, 1, 1, tzinfo=UTC)


def ctx(qty: float = 3.0, **kw) -> OrderContext:
    o = OrderRequest(client_order_id="c", symbol="X", side="buy", quantity=qty)
    return OrderContext(
        order=o,
        now=T,
        mark_price=10.0,
        portfolio=PortfolioSnapshot.build(timestamp=T, cash=0.0),
        **kw,
    )


def test_names_build_modes():
    assert isinstance(make_safety_mode("direct"), DirectMode)
    assert isinstance(make_safety_mode("dry_run"), DryRunMode)
    two = make_safety_mode("two_phase", confirm_above=5.0, ttl=timedelta(seconds=9))
    assert isinstance(two, TwoPhaseMode)
    assert two.confirm_above == 5.0
    assert all(isinstance(m, SafetyMode) for m in (DirectMode(), DryRunMode(), two))
    with pytest.raises(ConfigError, match="unknown safety mode 'yolo'"):
        make_safety_mode("yolo")


def test_direct_and_dry_run_decisions():
    d = DirectMode().check(ctx())
    assert d.verdict.approved
    assert d.dispatch
    r = DryRunMode().check(ctx())
    assert r.verdict.approved
    assert not r.dispatch
    assert not DryRunMode().sends_orders


def test_below_threshold_passes_without_a_token():
    mode = TwoPhaseMode(confirm_above=30.0, ttl=timedelta(minutes=1))
    d = mode.check(ctx(3.0))
    assert d.verdict.approved
    assert d.verdict.rule == "below_confirm_threshold"
    assert d.confirm_token is None
    assert mode.pending_tokens == 0


def test_expired_tokens_are_forgotten():
    mode = TwoPhaseMode(confirm_above=0.0, ttl=timedelta(seconds=10))
    token = mode.check(ctx()).confirm_token
    assert mode.pending_tokens == 1
    late = replace(ctx(), now=T + timedelta(seconds=11), confirm_token=token)
    assert mode.check(late).verdict.rule == "confirm_token_invalid"
    assert mode.pending_tokens == 0


def test_tokens_are_unique_per_request():
    mode = TwoPhaseMode(confirm_above=0.0, ttl=timedelta(seconds=10))
    tokens = {mode.check(ctx()).confirm_token for _ in range(20)}
    assert len(tokens) == 20


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"confirm_above": -1.0, "ttl": timedelta(1)}, "confirm_above"),
        ({"confirm_above": float("inf"), "ttl": timedelta(1)}, "confirm_above"),
        ({"confirm_above": 1.0, "ttl": timedelta(0)}, "ttl must be positive"),
    ],
)
def test_two_phase_configuration_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TwoPhaseMode(**kwargs)
