from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from axon_lab.errors import ConfigError
from axon_lab.records import DefenceLine, OrderRequest, PortfolioSnapshot, Position
from axon_lab.risk import OrderContext, RiskLimits

T = datetime(2024, 1, 1, tzinfo=UTC)
MARK = 10.0


def ctx(
    qty: float = 2.0, side: str = "buy", held: float = 0.0, symbol: str = "AAA", **kw
) -> OrderContext:
    positions = {}
    if held:
        positions[symbol] = Position(symbol=symbol, quantity=held, avg_price=MARK, mark_price=MARK)
    pf = PortfolioSnapshot.build(timestamp=T, cash=0.0, positions=positions)
    o = OrderRequest(client_order_id="c", symbol=symbol, side=side, quantity=qty, **kw)
    return OrderContext(order=o, now=T, mark_price=MARK, portfolio=pf)


def last(limits: RiskLimits, c: OrderContext):
    verdicts = limits.check(c)
    assert all(v.line is DefenceLine.LIMIT for v in verdicts)
    assert all(v.approved for v in verdicts[:-1])
    return verdicts[-1]


@pytest.mark.parametrize(
    ("limits", "c", "rule", "limit", "observed"),
    [
        (RiskLimits(max_order_notional=19.0), ctx(2.0), "max_order_notional", 19.0, 20.0),
        (
            RiskLimits(max_order_notional=19.0),
            ctx(2.0, order_type="limit", price=9.0),
            None,
            19.0,
            18.0,
        ),
        (RiskLimits(max_position_abs=5.0), ctx(2.0, held=4.0), "max_position_abs", 5.0, 6.0),
        (
            RiskLimits(max_position_abs=5.0),
            ctx(2.0, side="sell", held=-4.0),
            "max_position_abs",
            5.0,
            6.0,
        ),
        (RiskLimits(max_position_value=50.0), ctx(2.0, held=4.0), "max_position_value", 50.0, 60.0),
        (RiskLimits(blocked_symbols=frozenset({"AAA"})), ctx(), "blocked_symbols", "AAA", "AAA"),
        (
            RiskLimits(allowed_symbols=frozenset({"BBB", "CCC"})),
            ctx(),
            "allowed_symbols",
            "BBB,CCC",
            "AAA",
        ),
    ],
)
def test_each_rule_names_its_limit_and_observed_value(limits, c, rule, limit, observed):
    v = last(limits, c)
    if rule is None:
        assert v.approved
        assert (v.limit, v.observed) == (limit, observed)
    else:
        assert not v.approved
        assert (v.rule, v.limit, v.observed) == (rule, limit, observed)
        assert v.client_order_id == "c"
        assert v.timestamp == T


def test_reducing_orders_pass_position_limits_even_above_them():
    limits = RiskLimits(max_position_abs=1.0, max_position_value=1.0)
    verdicts = limits.check(ctx(2.0, side="sell", held=5.0))
    assert [v.approved for v in verdicts] == [True, True]
    assert "only reduces" in verdicts[0].message


def test_daily_orders_counts_this_order_and_skips_replacements():
    limits = RiskLimits(max_daily_orders=3)
    c = ctx(0.1)
    assert last(limits, replace(c, orders_today=2)).approved
    v = last(limits, replace(c, orders_today=3))
    assert (v.approved, v.limit, v.observed) == (False, 3.0, 4.0)
    replacement = replace(c, orders_today=3, operation="replace:o-1")
    assert [v.rule for v in limits.check(replacement)] == ["no_limits"]


def test_rules_stop_at_the_first_rejection():
    limits = RiskLimits(blocked_symbols=frozenset({"AAA"}), max_order_notional=1.0)
    assert [v.rule for v in limits.check(ctx())] == ["blocked_symbols"]


def test_no_limits_still_leaves_a_verdict():
    (v,) = RiskLimits().check(ctx())
    assert (v.approved, v.rule) == (True, "no_limits")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_order_notional": 0.0}, "max_order_notional=0.0"),
        ({"max_order_notional": float("nan")}, "finite"),
        ({"max_daily_orders": -1}, "max_daily_orders"),
        ({"max_position": 1.0}, "max_position"),
    ],
)
def test_invalid_limits_raise_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        RiskLimits(**kwargs)
