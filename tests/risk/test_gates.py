from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from axon_lab.backends import run_sync
from axon_lab.clock import SimulatedClock
from axon_lab.errors import ConfigError
from axon_lab.records import DefenceLine, OrderRequest, PortfolioSnapshot, Position
from axon_lab.risk import (
    AlwaysOpenGate,
    ExecutionReport,
    GateState,
    KillSwitch,
    OrderContext,
    PnLCircuitBreaker,
    RejectionCircuitBreaker,
    RiskChain,
    RiskGate,
    RiskLimits,
    reject,
)

T = datetime(2024, 1, 1, 12, tzinfo=UTC)


def ctx(
    now: datetime = T, equity: float = 100.0, held: float = 0.0, side: str = "buy"
) -> OrderContext:
    positions = {}
    cash = equity
    if held:
        positions["X"] = Position(symbol="X", quantity=held, avg_price=1.0, mark_price=1.0)
        cash = equity - held
    pf = PortfolioSnapshot.build(timestamp=now, cash=cash, positions=positions)
    o = OrderRequest(client_order_id="c", symbol="X", side=side, quantity=1.0)
    return OrderContext(order=o, now=now, mark_price=1.0, portfolio=pf)


def rejected_report(now: datetime, line: DefenceLine = DefenceLine.LIMIT) -> ExecutionReport:
    v = reject(ctx(now), line, "some_rule")
    return ExecutionReport(operation="place", ok=False, status="rejected", verdicts=(v,))


@pytest.mark.parametrize(
    "gate",
    [
        AlwaysOpenGate(),
        KillSwitch(),
        PnLCircuitBreaker(max_drawdown=0.5),
        RejectionCircuitBreaker(max_rejections=1, window=timedelta(1), cooldown=timedelta(1)),
    ],
)
def test_gates_satisfy_the_protocol_and_start_open(gate):
    assert isinstance(gate, RiskGate)
    v = gate.check(ctx())
    assert v.approved
    assert v.line is DefenceLine.GATE
    assert v.gate_state == "open"
    assert v.rule == gate.name


def test_rejection_breaker_trips_within_the_window_and_cools_down():
    gate = RejectionCircuitBreaker(
        max_rejections=3, window=timedelta(minutes=1), cooldown=timedelta(minutes=10)
    )
    for s in (0, 20, 40):
        gate.observe(rejected_report(T + timedelta(seconds=s)))
    assert gate.state is GateState.HALTED
    v = gate.check(ctx(T + timedelta(minutes=5)))
    assert not v.approved
    assert v.gate_state == "halted"
    assert (v.limit, v.observed) == (3.0, 3.0)
    assert gate.check(ctx(T + timedelta(seconds=40, minutes=10))).approved
    assert [(t.from_state, t.to_state) for t in gate.transitions] == [
        (GateState.OPEN, GateState.HALTED),
        (GateState.HALTED, GateState.OPEN),
    ]
    assert "3 rejections" in gate.transitions[0].cause
    assert gate.transitions[1].cause == "cooldown elapsed"


def test_rejection_breaker_ignores_spread_out_and_own_line_rejections():
    gate = RejectionCircuitBreaker(
        max_rejections=2, window=timedelta(minutes=1), cooldown=timedelta(minutes=10)
    )
    gate.observe(rejected_report(T))
    gate.observe(rejected_report(T + timedelta(minutes=2)))
    gate.observe(rejected_report(T + timedelta(minutes=2, seconds=1), DefenceLine.GATE))
    gate.observe(rejected_report(T + timedelta(minutes=2, seconds=2), DefenceLine.SAFETY_MODE))
    assert gate.state is GateState.OPEN


def test_pnl_breaker_halts_on_drawdown_until_reset():
    gate = PnLCircuitBreaker(max_drawdown=0.2)
    assert gate.check(ctx(equity=100.0)).approved
    assert gate.check(ctx(equity=120.0)).approved
    v = gate.check(ctx(equity=95.0))  # 20.8% below the peak of 120
    assert not v.approved
    assert v.gate_state == "halted"
    assert v.limit == 0.2
    assert v.observed == pytest.approx(25 / 120)
    assert gate.check(ctx(T + timedelta(days=3), equity=130.0)).gate_state == "halted"
    gate.reset(at=T + timedelta(days=3))
    assert gate.check(ctx(T + timedelta(days=3), equity=130.0)).approved


def test_pnl_breaker_daily_loss_clears_on_the_next_utc_day():
    gate = PnLCircuitBreaker(max_daily_loss=10.0)
    gate.check(ctx(equity=100.0))
    assert not gate.check(ctx(T + timedelta(hours=1), equity=89.0)).approved
    assert gate.transitions[-1].cause == "daily loss 11 >= 10"
    nxt = T + timedelta(hours=12)  # 00:00 UTC next day
    assert gate.check(ctx(nxt, equity=89.0)).approved
    assert gate.transitions[-1].cause == "new UTC day"


def test_reducing_state_lets_only_position_reducing_orders_through():
    gate = PnLCircuitBreaker(max_drawdown=0.1, trip_to=GateState.REDUCING)
    gate.update_equity(100.0, at=T)
    gate.update_equity(80.0, at=T)
    assert gate.state is GateState.REDUCING
    assert gate.check(ctx(equity=80.0, held=5.0, side="sell")).approved
    blocked = gate.check(ctx(equity=80.0, held=5.0, side="buy"))
    assert not blocked.approved
    assert "only orders that reduce" in blocked.message
    assert not gate.check(ctx(equity=80.0, held=0.0, side="sell")).approved


def test_kill_switch_in_a_chain_stamps_transitions_with_the_loop_clock(prices):
    from axon_lab.backends import MockTradingBackend

    clock = SimulatedClock(T)
    kill = KillSwitch(clock=clock)
    chain = RiskChain(MockTradingBackend(prices, cash=100.0, clock=clock), gates=[kill])
    clock.advance(timedelta(minutes=7))
    kill.engage("fat finger")
    o = OrderRequest(client_order_id="k", symbol="AAA", side="buy", quantity=1.0)
    report = run_sync(chain.place_order(o))
    assert report.rejection.rule == "kill_switch"
    assert "fat finger" in report.rejection.message
    assert kill.transitions[0].timestamp == T + timedelta(minutes=7)
    assert kill.is_engaged


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: PnLCircuitBreaker(), "both are None"),
        (lambda: PnLCircuitBreaker(max_drawdown=1.5), "fraction in"),
        (lambda: PnLCircuitBreaker(max_daily_loss=-1.0), "max_daily_loss"),
        (lambda: PnLCircuitBreaker(max_drawdown=0.1, trip_to=GateState.OPEN), "trip_to"),
        (lambda: KillSwitch(engaged_state=GateState.OPEN), "engaged_state"),
        (
            lambda: RejectionCircuitBreaker(
                max_rejections=0, window=timedelta(1), cooldown=timedelta(1)
            ),
            "max_rejections",
        ),
        (
            lambda: RejectionCircuitBreaker(
                max_rejections=1, window=timedelta(0), cooldown=timedelta(1)
            ),
            "positive",
        ),
    ],
)
def test_gate_configuration_errors(build, match):
    with pytest.raises(ConfigError, match=match):
        build()


def test_rejection_breaker_trips_from_a_chain(prices):
    from axon_lab.backends import MockTradingBackend

    clock = SimulatedClock(T)
    breaker = RejectionCircuitBreaker(
        max_rejections=2, window=timedelta(minutes=5), cooldown=timedelta(hours=1)
    )
    chain = RiskChain(
        MockTradingBackend(prices, cash=100.0, clock=clock),
        limits=RiskLimits(max_order_notional=1.0),
        gates=[breaker],
    )
    big = [
        OrderRequest(client_order_id=f"b{i}", symbol="BBB", side="buy", quantity=5.0)
        for i in range(2)
    ]
    assert [run_sync(chain.place_order(o)).rejection.rule for o in big] == [
        "max_order_notional"
    ] * 2
    small = OrderRequest(client_order_id="s", symbol="BBB", side="buy", quantity=0.1)
    assert run_sync(chain.place_order(small)).rejection.rule == "rejection_circuit_breaker"
    clock.advance(timedelta(hours=1))
    assert run_sync(chain.place_order(small)).ok
