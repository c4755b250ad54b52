"""Two-phase confirmation in a run: a stated policy answers, and every answer is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.oader import make_agent
from axon_lab.risk import (
    AskCallable,
    AutoConfirmBelow,
    ConfirmationQueue,
    RiskLimits,
    TwoPhaseMode,
    WaitForPerson,
)
from axon_lab.widgets import ConfirmationPanel

DATA = make_synthetic(400, timeframe="1h", start="2024-01-01", seed=7, symbol="SYN")


def _agent(**kw):
    return make_agent(
        DATA, store="sqlite://", run_id="two-phase", progress=False, limits=RiskLimits(), **kw
    )


def _rules(loop) -> list[str]:
    return [v.rule for s in loop.store.steps(loop.run_id) for v in s.verdicts]


def test_a_two_phase_backtest_needs_a_stated_policy():
    # before: 300 steps gave 55 confirmation_required verdicts and not one fill
    with pytest.raises(ConfigError, match="confirmation policy"):
        _agent(mode="two_phase")


def test_auto_confirm_below_trades_and_records_each_answer():
    loop = _agent(mode="two_phase", confirm=AutoConfirmBelow(1e9))
    loop.run(300)
    rules = _rules(loop)
    asked = rules.count("confirmation_required")
    assert asked > 0
    assert rules.count("confirmation_given") == asked
    assert rules.count("confirmed") == asked  # the chain's own verdict on the resend
    fills = loop.store.fills(loop.run_id)
    assert fills
    given = [
        v
        for s in loop.store.steps(loop.run_id)
        for v in s.verdicts
        if v.rule == "confirmation_given"
    ]
    assert all("AutoConfirmBelow" in v.message for v in given)
    loop.close()


def test_auto_confirm_below_denies_above_its_notional_and_nothing_trades():
    loop = _agent(mode="two_phase", confirm=AutoConfirmBelow(1.0))
    loop.run(300)
    rules = _rules(loop)
    assert rules.count("confirmation_required") > 0
    assert rules.count("confirmation_denied") == rules.count("confirmation_required")
    assert "confirmed" not in rules
    assert loop.store.fills(loop.run_id) == []
    loop.close()


def test_a_failing_ask_is_a_denial():
    def ask(pending):
        raise RuntimeError("operator console offline")

    loop = _agent(mode="two_phase", confirm=AskCallable(ask))
    loop.run(300)
    denied = [
        v
        for s in loop.store.steps(loop.run_id)
        for v in s.verdicts
        if v.rule == "confirmation_denied"
    ]
    assert denied
    assert all("operator console offline" in v.message for v in denied)
    assert loop.store.fills(loop.run_id) == []
    loop.close()


def test_a_person_confirms_from_the_panel_and_the_next_step_trades():
    loop = _agent(
        mode=TwoPhaseMode(confirm_above=0.0, ttl=timedelta(hours=3)), confirm=WaitForPerson()
    )
    queue = loop.execute.confirmations
    assert isinstance(queue, ConfirmationQueue)
    while not queue.waiting:
        loop.step()
    token = queue.waiting[0].token
    panel = ConfirmationPanel(queue)
    confirm, _deny = panel.rows[token]
    confirm.click()
    assert panel.rows == {}
    record = loop.step()
    given = [v for v in record.verdicts if v.rule == "confirmation_given"]
    assert [v.message for v in given] == ["confirmed by person (widget)"]
    assert "confirmed" in [v.rule for v in record.verdicts]
    loop.close()


def test_a_confirmation_after_the_token_expired_is_refused_and_recorded():
    loop = _agent(
        mode=TwoPhaseMode(confirm_above=0.0, ttl=timedelta(minutes=30)), confirm=WaitForPerson()
    )
    queue = loop.execute.confirmations
    while not queue.waiting:
        loop.step()
    queue.confirm(queue.waiting[0].token, by="late reviewer")
    loop.step()  # the next decision time is an hour later: the 30-minute token has expired
    record = loop.last_record
    rules = [v.rule for v in record.verdicts]
    assert "confirmation_given" in rules
    assert "confirm_token_invalid" in rules
    assert not [a for a in record.acks if a.status.value == "filled"]
    loop.close()


def test_a_live_two_phase_loop_waits_for_a_person_by_default():
    from axon_lab.backends import MockTradingBackend
    from axon_lab.clock import WallClock

    backend = MockTradingBackend({"SYN": 100.0}, cash=1_000.0, clock=WallClock())
    loop = make_agent(
        DATA, backend=backend, store="sqlite://", run_id="live", progress=False, mode="two_phase"
    )
    assert isinstance(loop.execute.confirmations.policy, WaitForPerson)
    loop.close()
