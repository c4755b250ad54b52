"""Gates see every bar: the loop marks the portfolio before Decide, and the step records it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from axon_lab.data.frame import make_canonical
from axon_lab.oader import make_agent
from axon_lab.records import Action, Decision, DecisionSource, GateState, OrderType
from axon_lab.risk import KillSwitch, PnLCircuitBreaker, RiskLimits


def _boom_and_bust() -> pd.DataFrame:
    """Flat at 100, up to 280, back down to 109: a 61 % drawdown from the peak, no gaps."""
    close = np.concatenate(
        [np.full(10, 100.0), np.linspace(100, 280, 20), np.linspace(280, 109, 20)]
    )
    close = np.concatenate([close, np.full(10, 109.0)])
    frame = pd.DataFrame(
        {
            "open": close,
            "high": close * 1.001,
            "low": close * 0.999,
            "close": close,
            "volume": np.full(close.size, 1_000.0),
        },
        index=pd.date_range("2024-01-01", periods=close.size, freq="1h"),
    )
    return make_canonical(frame, symbol="BOOM", timeframe="1h")


def _buy_once_then_hold():
    state = {"bought": False}

    def decide(analysis, observation):
        price = observation.bars["BOOM"][-1].close
        if not state["bought"]:
            state["bought"] = True
            return Decision(
                action=Action.BUY,
                symbol="BOOM",
                quantity=95.0,  # 9,500 of 10,000 cash at 100
                order_type=OrderType.MARKET,
                confidence=1.0,
                source=DecisionSource.RULES,
                reason="buy once",
            )
        if observation.timestamp.hour == 0 and observation.timestamp.day == 3:
            return Decision(
                action=Action.BUY,
                symbol="BOOM",
                quantity=1.0,
                order_type=OrderType.LIMIT,
                price=price,
                confidence=1.0,
                source=DecisionSource.RULES,
                reason="buy more after the bust",
            )
        return Decision(
            action=Action.HOLD, symbol="BOOM", confidence=1.0, source=DecisionSource.RULES
        )

    return decide


def test_a_drawdown_between_orders_trips_the_breaker_before_the_next_order():
    # before: the breaker saw equity only when an order was checked, so 10k -> 28k -> 10.9k with
    # no order in between left it open and the next buy filled
    breaker = PnLCircuitBreaker(max_drawdown=0.2, name="dd")
    loop = make_agent(
        _boom_and_bust(),
        store="sqlite://",
        run_id="bust",
        progress=False,
        cash=10_000.0,
        fee_rate=0.0,
        limits=RiskLimits(),
        gates=[breaker],
        decide=_buy_once_then_hold(),
    )
    loop.run()
    steps = loop.store.steps("bust")
    tripped = [s for s in steps if s.gate_transitions]
    assert tripped, "the breaker never tripped"
    trip = tripped[0]
    assert trip.decision is not None
    assert trip.decision.action is Action.HOLD  # tripped on a step without any order
    (transition,) = trip.gate_transitions
    assert transition.gate == "dd"
    assert transition.to_state is GateState.HALTED
    assert "drawdown" in transition.cause
    assert trip.gate_states == {"dd": GateState.HALTED}
    assert max(s.equity for s in steps) > 20_000.0
    later_buys = [s for s in steps if s.step > trip.step and s.decision.action is Action.BUY]
    assert later_buys
    for s in later_buys:
        assert any(v.rule == "dd" and not v.approved for v in s.verdicts)
        assert not s.fills
    assert all(s.gate_states for s in steps)  # every step records the gate's state
    loop.close()


def test_a_halt_cancels_resting_orders_when_configured():
    kill = KillSwitch(name="desk")
    placed = {"n": 0}

    def decide(analysis, observation):
        placed["n"] += 1
        if placed["n"] == 1:
            price = observation.bars["BOOM"][-1].close
            return Decision(
                action=Action.BUY,
                symbol="BOOM",
                quantity=1.0,
                order_type=OrderType.LIMIT,
                price=price * 0.5,  # rests: far below the market
                confidence=1.0,
                source=DecisionSource.RULES,
            )
        return Decision(
            action=Action.HOLD, symbol="BOOM", confidence=1.0, source=DecisionSource.RULES
        )

    loop = make_agent(
        _boom_and_bust(),
        store="sqlite://",
        run_id="halt",
        progress=False,
        cash=10_000.0,
        limits=RiskLimits(),
        gates=[kill],
        decide=decide,
        cancel_on_halt=True,
    )
    loop.execute.cancel_stale = False  # keep the entry resting across steps
    loop.step()
    resting = loop.backend.open_orders
    from axon_lab.backends import run_sync

    assert len(run_sync(resting())) == 1
    kill.engage("operator halt")
    record = loop.step()
    assert [a.status.value for a in record.acks] == ["cancelled"]
    assert run_sync(resting()) == ()
    assert record.gate_states == {"desk": GateState.HALTED}
    assert [t.cause for t in record.gate_transitions] == ["operator halt"]
    loop.close()
