"""The chain is fail-closed: a failure anywhere is a recorded rejection; nothing is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from axon_lab.backends import run_sync
from axon_lab.errors import BackendError
from axon_lab.records import DefenceLine, OrderRequest, OrderStatus
from axon_lab.risk import (
    DryRunMode,
    GateState,
    KillSwitch,
    RiskChain,
    RiskLimits,
    TwoPhaseMode,
)


def order(cid: str = "c-1", qty: float = 1.0, side: str = "buy", **kw: object) -> OrderRequest:
    return OrderRequest(client_order_id=cid, symbol="AAA", side=side, quantity=qty, **kw)


def place(chain: RiskChain, o: OrderRequest, token: str | None = None):
    return run_sync(chain.place_order(o, confirm_token=token))


class BoomError(RuntimeError):
    pass


class RaisingMode:
    name = "raising"
    sends_orders = True

    def check(self, ctx):
        raise BoomError("mode exploded")


class RaisingLimits:
    def check(self, ctx):
        raise BoomError("limits exploded")


class EmptyLimits:
    def check(self, ctx):
        return ()


class RaisingGate:
    name = "raising_gate"
    state = GateState.OPEN

    def check(self, ctx):
        raise BoomError("gate exploded")

    def observe(self, report):
        return None


class JunkGate(RaisingGate):
    name = "junk_gate"

    def check(self, ctx):
        return "yes, fine"


class BadObserverGate(RaisingGate):
    def check(self, ctx):
        from axon_lab.risk import AlwaysOpenGate

        return AlwaysOpenGate().check(ctx)

    def observe(self, report):
        raise BoomError("cannot observe")


def test_a_passing_order_records_every_line(spy):
    chain = RiskChain(spy, limits=RiskLimits(max_order_notional=1_000.0))
    report = place(chain, order())
    assert report.ok
    assert report.status == "filled"
    assert [v.line for v in report.verdicts] == [
        DefenceLine.SAFETY_MODE,
        DefenceLine.LIMIT,
        DefenceLine.GATE,
        DefenceLine.BUYING_POWER,
        DefenceLine.BACKEND,
    ]
    assert all(v.approved for v in report.verdicts)
    assert report.fills
    assert report.sent
    assert len(spy.placed) == 1
    assert chain.last_report == report


@pytest.mark.parametrize(
    ("kwargs", "line", "rule", "text"),
    [
        (
            {"mode": RaisingMode()},
            DefenceLine.SAFETY_MODE,
            "safety_mode_exception",
            "mode exploded",
        ),
        ({"limits": RaisingLimits()}, DefenceLine.LIMIT, "limit_exception", "limits exploded"),
        ({"limits": EmptyLimits()}, DefenceLine.LIMIT, "limit_exception", "returned no verdict"),
        ({"gates": [RaisingGate()]}, DefenceLine.GATE, "gate_exception", "gate exploded"),
        ({"gates": [JunkGate()]}, DefenceLine.GATE, "gate_exception", "not a RiskVerdict"),
    ],
)
def test_an_exception_in_any_check_is_a_rejection_never_a_pass(spy, kwargs, line, rule, text):
    chain = RiskChain(spy, **kwargs)
    report = place(chain, order())
    assert not report.ok
    assert report.status == "rejected"
    rejection = report.rejection
    assert (rejection.line, rejection.rule) == (line, rule)
    assert text in rejection.message
    assert "fail-closed" in rejection.message
    assert spy.placed == []
    assert chain.metrics.risk_rejects.values() == {rule: 1}


def test_backend_exception_is_a_backend_rejection_and_a_backend_fail(spy):
    spy.fail_with = BackendError("venue down")
    chain = RiskChain(spy)
    report = place(chain, order())
    assert (report.status, report.rejection.line, report.rejection.rule) == (
        "error",
        DefenceLine.BACKEND,
        "backend_error",
    )
    assert "venue down" in report.error
    assert report.sent  # the backend was asked, and failed
    snap = chain.metrics.snapshot()
    assert snap.backend_fails == {"place": 1}
    assert snap.risk_rejects == {"backend_error": 1}
    assert snap.orders == {"error": 1}


def test_unreadable_portfolio_rejects_before_anything_is_sent(spy):
    spy.fail_reads_with = BackendError("no connection")
    chain = RiskChain(spy)
    report = place(chain, order())
    assert report.rejection.rule == "context_unavailable"
    assert "no connection" in report.rejection.message
    assert spy.placed == []
    assert not report.sent
    assert chain.metrics.snapshot().backend_fails == {"context": 1}


def test_dry_run_checks_everything_but_sends_nothing(spy):
    chain = RiskChain(spy, mode=DryRunMode(), limits=RiskLimits(max_order_notional=30.0))
    ok = place(chain, order("small", qty=1.0))
    assert ok.ok
    assert ok.dry_run
    assert ok.status == "dry_run"
    assert ok.ack.status is OrderStatus.DRY_RUN
    assert not ok.sent
    assert ok.order == order("small", qty=1.0)
    too_big = place(chain, order("big", qty=2.0))
    assert too_big.rejection.rule == "max_order_notional"
    assert run_sync(chain.cancel_order("anything")).status == "dry_run"
    assert spy.placed == []
    assert spy.cancelled == []
    assert run_sync(spy.query_portfolio()).positions == {}


def test_two_phase_confirm_executes_the_first_submission(spy, clock):
    chain = RiskChain(spy, mode=TwoPhaseMode(confirm_above=10.0, ttl=timedelta(seconds=30)))
    first = place(chain, order("first", qty=2.0))
    assert first.status == "pending_confirmation"
    assert first.confirm_token
    assert first.ack.status is OrderStatus.PENDING_CONFIRMATION
    assert not first.sent
    assert spy.placed == []
    clock.advance(timedelta(seconds=29))
    # an LLM resending the same terms may carry a fresh client id; the first one is kept
    done = place(chain, order("resent", qty=2.0), token=first.confirm_token)
    assert done.ok
    assert done.status == "filled"
    assert [o.client_order_id for o in spy.placed] == ["first"]
    assert done.verdicts[0].rule == "confirmed"


@pytest.mark.parametrize(
    ("changed", "advance", "rule"),
    [
        ({"qty": 3.0}, 0, "confirm_token_mismatch"),
        ({"side": "sell"}, 0, "confirm_token_mismatch"),
        ({"order_type": "limit", "price": 25.0}, 0, "confirm_token_mismatch"),
        ({}, 31, "confirm_token_invalid"),
    ],
)
def test_two_phase_token_is_bound_to_the_order_and_expires(spy, clock, changed, advance, rule):
    chain = RiskChain(spy, mode=TwoPhaseMode(confirm_above=10.0, ttl=timedelta(seconds=30)))
    token = place(chain, order("first", qty=2.0)).confirm_token
    clock.advance(timedelta(seconds=advance))
    terms = {"qty": 2.0, **changed}
    report = place(chain, order("first", **terms), token=token)
    assert report.rejection.rule == rule
    assert spy.placed == []
    # used or void either way: the right order with the same token is refused too
    assert (
        place(chain, order("first", qty=2.0), token=token).rejection.rule == "confirm_token_invalid"
    )


def test_two_phase_token_cannot_confirm_a_replace(spy):
    chain = RiskChain(spy, mode=TwoPhaseMode(confirm_above=10.0, ttl=timedelta(minutes=1)))
    token = place(chain, order("first", qty=2.0, order_type="limit", price=10.0)).confirm_token
    small = place(chain, order("rest", qty=0.5, order_type="limit", price=10.0))
    assert small.ok
    assert small.status == "accepted"
    report = run_sync(chain.replace_order("rest", quantity=2.0, confirm_token=token))
    assert report.rejection.rule == "confirm_token_mismatch"
    assert spy.replaced == []


def test_daily_order_limit_resets_each_simulated_utc_day(spy, clock):
    chain = RiskChain(spy, limits=RiskLimits(max_daily_orders=2))
    assert [place(chain, order(f"d{i}", qty=0.1)).ok for i in range(3)] == [True, True, False]
    assert chain.metrics.daily_orders == 2
    clock.advance(timedelta(hours=12))  # 00:00 UTC of the next day
    assert place(chain, order("next-day", qty=0.1)).ok
    assert chain.metrics.daily_orders == 1


def test_replace_goes_through_the_limits(spy):
    chain = RiskChain(spy, limits=RiskLimits(max_order_notional=30.0))
    assert place(chain, order("r", qty=1.0, order_type="limit", price=10.0)).status == "accepted"
    too_big = run_sync(chain.replace_order("r", quantity=5.0))
    assert too_big.rejection.rule == "max_order_notional"
    assert too_big.rejection.observed == 50.0
    assert spy.replaced == []
    fine = run_sync(chain.replace_order("r", quantity=2.0, price=12.0))
    assert fine.ok
    assert fine.ack.quantity == 2.0
    assert fine.order.price == 12.0
    assert spy.replaced == [("r", 2.0, 12.0)]
    assert chain.metrics.snapshot().modifies == {"rejected": 1, "accepted": 1}


def test_replace_of_unknown_order_and_invalid_terms(spy):
    chain = RiskChain(spy)
    unknown = run_sync(chain.replace_order("ghost", quantity=1.0))
    assert (unknown.ok, unknown.status) == (
        False,
        "error",
    )
    assert "unknown order id" in unknown.message
    place(chain, order("r", qty=1.0, order_type="limit", price=10.0))
    bad = run_sync(chain.replace_order("r", quantity=-1.0))
    assert bad.status == "invalid"
    assert "quantity" in bad.message
    assert spy.replaced == []


def test_cancel_passes_even_when_halted_and_reports_errors(spy):
    kill = KillSwitch(clock=spy.clock)
    chain = RiskChain(spy, gates=[kill])
    place(chain, order("c", qty=1.0, order_type="limit", price=10.0))
    kill.engage("halt")
    assert run_sync(chain.cancel_order("c")).status == "cancelled"
    again = run_sync(chain.cancel_order("c"))
    assert again.status == "error"
    assert "cannot go from cancelled" in again.message
    assert chain.metrics.snapshot().cancels == {"cancelled": 1, "error": 1}


def test_a_gate_that_cannot_observe_warns_but_the_order_stands(spy):
    chain = RiskChain(spy, gates=[BadObserverGate()])
    with pytest.warns(
        RuntimeWarning, match="failed to observe a report: BoomError: cannot observe"
    ):
        report = place(chain, order())
    assert report.ok
    assert len(spy.placed) == 1


def test_latency_is_measured_per_operation(spy):
    chain = RiskChain(spy)
    reports = [place(chain, order(f"l{i}", qty=0.1)) for i in range(3)]
    assert all(r.latency_s > 0 for r in reports)
    assert chain.metrics.snapshot().latency.count == 3
