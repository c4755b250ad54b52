"""Invariants of the risk chain over arbitrary order sequences, limits and gate states.

For every generated scenario, with the backend wrapped in a recording spy:

* no order that violates a limit, arrives while a gate is closed, or is placed in dry run ever
  reaches the backend (checked against an oracle computed independently from the portfolio
  before each call, and against the report's own verdicts);
* every rejection is counted exactly once in ``risk_rejects``;
* the sum of signed fills equals the position change, per symbol.

Run ``HYPOTHESIS_PROFILE=thorough pytest tests/risk/test_properties.py`` for >= 100k examples.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

from hypothesis import event, given
from hypothesis import strategies as st

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock, utc_day
from axon_lab.records import DefenceLine, OrderRequest, Side
from axon_lab.risk import (
    DryRunMode,
    GateState,
    KillSwitch,
    PnLCircuitBreaker,
    RejectionCircuitBreaker,
    RiskChain,
    RiskLimits,
    TwoPhaseMode,
)

START_PRICES = {"AAA": 20.0, "BBB": 4.0}
SYMBOLS = [*START_PRICES, "CCC"]  # CCC is not traded: the backend line must refuse it
START = datetime(2024, 3, 1, 20, tzinfo=UTC)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """None half of the time, so most scenarios have only a few active rules."""
    return st.one_of(st.none(), strategy)


limits_st = st.builds(
    RiskLimits,
    max_order_notional=maybe(st.floats(0.5, 400, allow_nan=False)),
    max_daily_orders=maybe(st.integers(0, 12)),
    max_position_abs=maybe(st.floats(0, 15, allow_nan=False)),
    max_position_value=maybe(st.floats(0.5, 400, allow_nan=False)),
    allowed_symbols=st.one_of(st.none(), st.frozensets(st.sampled_from(SYMBOLS), min_size=2)),
    blocked_symbols=st.one_of(
        st.just(frozenset()), st.frozensets(st.sampled_from(SYMBOLS), max_size=1)
    ),
)

place_st = st.tuples(
    st.just("place"),
    st.sampled_from(["AAA", "AAA", "BBB", "BBB", "CCC"]),
    st.sampled_from(["buy", "sell"]),
    st.floats(0.01, 8, allow_nan=False),
    st.sampled_from(["market", "limit"]),
    st.floats(0.5, 1.5, allow_nan=False),  # limit price as a fraction of the mark
    st.sampled_from([False, False, False, True]),  # reduce_only
)
other_st = st.one_of(
    st.tuples(st.just("advance"), st.integers(1, 60 * 30)),  # minutes
    st.tuples(st.just("move"), st.sampled_from(list(START_PRICES)), st.floats(0.7, 1.4)),
    st.tuples(st.just("kill"), st.sampled_from([True, False, False])),  # engage / release
    st.tuples(st.just("confirm"), st.booleans()),  # resend the last pending order (altered?)
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("replace"), st.integers(0, 5), st.floats(0.01, 8, allow_nan=False)),
)
# about half the actions place an order; the rest move time, prices and gates around them
action_st = st.integers(0, 9).flatmap(lambda k: place_st if k < 5 else other_st)
mode_st = st.sampled_from(["direct", "direct", "dry_run", "two_phase"])


class Spy:
    """A recording proxy: every order-changing call is logged before it is forwarded."""

    def __init__(self, inner: MockTradingBackend) -> None:
        self.inner = inner
        self.calls: list[tuple[str, object]] = []

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    @property
    def clock(self):
        return self.inner.clock

    @property
    def symbols(self):
        return self.inner.symbols

    async def place_order(self, order):
        self.calls.append(("place", order))
        return await self.inner.place_order(order)

    async def replace_order(self, order_id, *, quantity=None, price=None):
        self.calls.append(("replace", order_id))
        return await self.inner.replace_order(order_id, quantity=quantity, price=price)

    async def cancel_order(self, order_id):
        self.calls.append(("cancel", order_id))
        return await self.inner.cancel_order(order_id)


def violates(
    limits: RiskLimits, order: OrderRequest, position: float, mark: float, today: int
) -> bool:
    """Independent oracle of the limit rules (new orders)."""
    price = order.price if order.price is not None else mark
    proj = position + order.signed_quantity
    grows = abs(proj) > abs(position)
    return (
        order.symbol in limits.blocked_symbols
        or (limits.allowed_symbols is not None and order.symbol not in limits.allowed_symbols)
        or (
            limits.max_order_notional is not None
            and order.quantity * price > limits.max_order_notional
        )
        or (limits.max_position_abs is not None and grows and abs(proj) > limits.max_position_abs)
        or (
            limits.max_position_value is not None
            and grows
            and abs(proj) * mark > limits.max_position_value
        )
        or (limits.max_daily_orders is not None and today + 1 > limits.max_daily_orders)
    )


@given(
    limits=limits_st,
    mode_name=mode_st,
    confirm_above=st.floats(0, 100, allow_nan=False),
    drawdown=st.none() | st.floats(0.001, 0.5),
    reducing=st.booleans(),
    max_rejections=st.integers(1, 4),
    actions=st.lists(action_st, min_size=3, max_size=40),
)
def test_no_forbidden_order_reaches_the_backend(
    limits, mode_name, confirm_above, drawdown, reducing, max_rejections, actions
):
    asyncio.run(
        _scenario(limits, mode_name, confirm_above, drawdown, reducing, max_rejections, actions)
    )


async def _scenario(limits, mode_name, confirm_above, drawdown, reducing, max_rejections, actions):
    clock = SimulatedClock(START)
    inner = MockTradingBackend(START_PRICES, cash=1_000.0, clock=clock)
    spy = Spy(inner)
    kill = KillSwitch(clock=clock)
    gates = [
        kill,
        RejectionCircuitBreaker(
            max_rejections=max_rejections, window=timedelta(minutes=30), cooldown=timedelta(hours=2)
        ),
    ]
    if drawdown is not None:
        trip = GateState.REDUCING if reducing else GateState.HALTED
        gates.append(PnLCircuitBreaker(max_drawdown=drawdown, trip_to=trip))
    mode = {
        "direct": "direct",
        "dry_run": DryRunMode(),
        "two_phase": TwoPhaseMode(confirm_above=confirm_above, ttl=timedelta(minutes=15)),
    }[mode_name]
    chain = RiskChain(spy, mode=mode, limits=limits, gates=gates)

    reports = []
    pending: tuple[OrderRequest, str] | None = None
    sent_today = 0
    day = utc_day(clock.now())
    seq = 0

    for action in actions:
        kind = action[0]
        if utc_day(clock.now()) != day:
            day, sent_today = utc_day(clock.now()), 0
        if kind == "advance":
            clock.advance(timedelta(minutes=action[1]))
            continue
        if kind == "move":
            _, sym, factor = action
            inner.set_price(sym, START_PRICES[sym] * factor)
            continue
        if kind == "kill":
            kill.engage("test") if action[1] else kill.release("test")
            continue

        before = len(spy.calls)
        if kind in ("place", "confirm"):
            if kind == "place":
                _, sym, side, qty, otype, frac, reduce_only = action
                mark = START_PRICES.get(sym, 1.0)
                if sym in START_PRICES:
                    mark = await inner.last_price(sym)
                seq += 1
                order = OrderRequest(
                    client_order_id=f"o{seq}",
                    symbol=sym,
                    side=side,
                    quantity=qty,
                    order_type=otype,
                    price=round(mark * frac, 6) if otype == "limit" else None,
                    reduce_only=reduce_only,
                )
                token = None
            else:
                if pending is None:
                    continue
                order, token = pending
                if action[1]:  # altered: the token must not confirm it
                    order = order.replace(quantity=order.quantity * 2)
            known = order.symbol in START_PRICES
            pf = await inner.query_portfolio()
            mark = await inner.last_price(order.symbol) if known else None
            kill_closed = kill.state is not GateState.OPEN
            report = await chain.place_order(order, confirm_token=token)
            reports.append(report)
            reached = len(spy.calls) - before
            assert reached in (0, 1)
            assert reached == (1 if report.sent else 0)
            if report.confirm_token is not None:
                pending = (order, report.confirm_token)
            elif kind == "confirm":
                pending = None
            if reached:
                # everything before the backend approved, and the oracle agrees
                assert all(v.approved for v in report.verdicts[:-1])
                assert report.verdicts[-1].line is DefenceLine.BACKEND
                assert mode_name != "dry_run"
                assert not kill_closed
                assert known
                assert not violates(limits, order, pf.quantity(order.symbol), mark, sent_today)
                if token is not None:
                    assert action[1] is False
            if (
                known and any(v.line is DefenceLine.BACKEND for v in report.verdicts)
            ) or report.dry_run:
                sent_today += 1
        elif kind == "cancel":
            opened = await inner.open_orders()
            if not opened:
                continue
            target = opened[action[1] % len(opened)].order_id
            report = await chain.cancel_order(target)
            reports.append(report)
            assert len(spy.calls) - before == (0 if mode_name == "dry_run" else 1)
            assert report.sent is (mode_name != "dry_run")
        elif kind == "replace":
            opened = await inner.open_orders()
            if not opened:
                continue
            target = opened[action[1] % len(opened)].order_id
            kill_closed = kill.state is not GateState.OPEN
            report = await chain.replace_order(target, quantity=action[2])
            reports.append(report)
            reached = len(spy.calls) - before
            assert reached == (1 if report.sent else 0)
            if reached:
                assert mode_name != "dry_run"
                assert not kill_closed
                assert all(v.approved for v in report.verdicts[:-1])

    if mode_name == "dry_run":
        assert spy.calls == []
    placed = sum(c[0] == "place" for c in spy.calls)
    event(f"orders reaching the backend: {placed if placed < 3 else '3+'}")
    for r in reports:
        if r.rejection is not None:
            event(f"rejected by {r.rejection.line.value}: {r.rejection.rule}")

    # every rejection is counted exactly once
    rejected = [r for r in reports if r.rejection is not None]
    assert all(sum(not v.approved for v in r.verdicts) == 1 for r in rejected)
    counted = chain.metrics.risk_rejects.values()
    assert sum(counted.values()) == len(rejected)
    by_rule: dict[str, int] = {}
    for r in rejected:
        by_rule[r.rejection.rule] = by_rule.get(r.rejection.rule, 0) + 1
    assert counted == by_rule
    assert chain.metrics.latency.count == len(reports)

    # the sum of fills equals the position change
    fills = await inner.fills()
    portfolio = await inner.query_portfolio()
    for sym in START_PRICES:
        signed = math.fsum(
            f.quantity if f.side is Side.BUY else -f.quantity for f in fills if f.symbol == sym
        )
        assert math.isclose(portfolio.quantity(sym), signed, rel_tol=1e-9, abs_tol=1e-9)
    reported = {f.fill_id for r in reports for f in r.fills}
    assert reported <= {f.fill_id for f in fills}
