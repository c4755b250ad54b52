"""The loop on a live feed: paper trading, skipped bar closes, and stopping without orphaned orders.

The local exchange (real HTTP on 127.0.0.1) runs on a simulated clock that the runner's ``sleep``
moves, so a session of many bars runs in a moment and the same way every time; the loop's clock
is a plain :class:`Clock` reading it (not a ``SimulatedClock``), which makes the loop live. The
wall-clock path is run by the CLI tests (tests/test_cli_live.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from axon_lab.clock import SimulatedClock
from axon_lab.data import FeedGapWarning, LiveMarketView, make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.oader import BarCloseClock, LiveRunner, make_agent
from axon_lab.records import Action, Analysis, Decision, Observation, OrderType

pytest.importorskip("ccxt", reason="the live feed needs axon-lab[exchange]")

from axon_lab.backends import ExchangeTradingBackend, LocalExchangeServer, SimTradingBackend

SYMBOL = "BTC/USDT"
MIN = pd.Timedelta(minutes=1)
SETTLE = timedelta(seconds=2)
SOURCE = make_synthetic(200, timeframe="1m", start="2024-05-01", seed=8, symbol=SYMBOL)


class ExchangeTime:
    """The exchange's simulated clock, read by the loop; ``sleep`` moves it (and the exchange)."""

    def __init__(self, server: LocalExchangeServer, clock: SimulatedClock) -> None:
        self.server, self.clock = server, clock
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.clock.now()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.server.advance_to(self.clock.now() + timedelta(seconds=seconds))


@pytest.fixture(scope="module")
def server():
    clock = SimulatedClock((SOURCE.index[-1] + MIN).to_pydatetime())
    with LocalExchangeServer({SYMBOL: SOURCE}, cash=10_000.0, clock=clock) as srv:
        yield srv


def start(server, bars: pd.DataFrame, i: int) -> ExchangeTime:
    """A fresh account whose clock is at bar ``i``'s open plus ten seconds."""
    clock = SimulatedClock((SOURCE.index[i] + pd.Timedelta(seconds=10)).to_pydatetime())
    server.reset({SYMBOL: bars}, cash=10_000.0, clock=clock)
    return ExchangeTime(server, clock)


def make_feed(server, time: ExchangeTime) -> LiveMarketView:
    return LiveMarketView(
        "binance", [SYMBOL], "1m", history=60, clock=time, url=server.url,
        config={"rateLimit": 1}, retry_pause=0.0,
    )  # fmt: skip


def buy_then_sell(analysis: Analysis, observation: Observation) -> Decision:
    """Buy at the first step, sell everything at the fourth: market orders."""
    held = observation.portfolio.quantity(SYMBOL)
    step = buy_then_sell.steps
    buy_then_sell.steps += 1
    if step == 0:
        return Decision(
            action=Action.BUY, symbol=SYMBOL, quantity=2.0, source="rules", confidence=1.0
        )
    if step == 3 and held > 0:
        return Decision(
            action=Action.SELL, symbol=SYMBOL, quantity=held, source="rules", confidence=1.0
        )
    return Decision(action=Action.HOLD, symbol=SYMBOL, source="rules", confidence=1.0)


buy_then_sell.steps = 0  # type: ignore[attr-defined]


def test_paper_trading_steps_once_per_closed_bar_and_fills_at_the_next_open(server):
    time = start(server, SOURCE, 100)
    feed = make_feed(server, time)
    bar_clock = BarCloseClock(feed.end.to_pydatetime())
    paper = SimTradingBackend(feed, cash=10_000.0, clock=bar_clock, streaming=True)
    buy_then_sell.steps = 0
    loop = make_agent(
        feed, backend=paper, decide=buy_then_sell, store="sqlite://", run_id="paper",
        progress=False, fee_rate=0.0,
    )  # fmt: skip
    runner = LiveRunner(
        loop, feed, paper=paper, bar_clock=bar_clock, clock=time, settle=SETTLE, sleep=time.sleep
    )
    summary = runner.run(6)
    assert (summary.steps, summary.bars, summary.skipped, summary.gaps) == (6, 6, 0, 0)
    steps = loop.store.steps("paper")
    # one step per bar close (bars 100..105 close at the opens of 101..106), each run SETTLE
    # after it but stamped with it, as a backtest stamps its steps
    assert [s.timestamp for s in steps] == [SOURCE.index[i] for i in range(101, 107)]
    assert time.now() == SOURCE.index[106] + SETTLE
    fills = loop.store.fills("paper")
    # an order decided as bar k closed fills at bar k + 1's open, known once that bar closed
    assert [(f.side.value, f.quantity, f.price) for f in fills] == [
        ("buy", 2.0, float(SOURCE["open"].iloc[101])),
        ("sell", 2.0, float(SOURCE["open"].iloc[104])),
    ]
    assert runner.stop().describe() == "cancelled 0 open order(s)"
    runner.close()


def test_a_paper_session_of_the_rules_agent_records_what_a_backtest_of_the_same_bars_records(
    server,
):
    bars = make_synthetic(400, timeframe="1m", start="2024-05-01", seed=8, symbol=SYMBOL)
    clock = SimulatedClock((bars.index[100] + pd.Timedelta(seconds=10)).to_pydatetime())
    server.reset({SYMBOL: bars}, cash=10_000.0, clock=clock)
    time = ExchangeTime(server, clock)
    feed = make_feed(server, time)  # bars 40..99, then one more per step
    bar_clock = BarCloseClock(feed.end.to_pydatetime())
    paper = SimTradingBackend(feed, cash=10_000.0, fees=0.001, clock=bar_clock, streaming=True)
    loop = make_agent(
        feed, backend=paper, cash=10_000.0, store="sqlite://", run_id="rules", progress=False
    )
    runner = LiveRunner(
        loop, feed, paper=paper, bar_clock=bar_clock, clock=time, settle=SETTLE, sleep=time.sleep
    )
    assert runner.run(250).steps == 250
    # the oracle: the plain backtest over the bars the session saw, deciding at the same closes
    backtest = make_agent(
        bars.iloc[40:350], cash=10_000.0, store="sqlite://", run_id="rules", progress=False,
        start=bars.index[101].to_pydatetime(),
    )  # fmt: skip
    backtest.run()
    paper_steps, backtest_steps = loop.store.steps("rules"), backtest.store.steps("rules")
    assert len(backtest_steps) == 250
    assert paper_steps == backtest_steps  # observations, decisions, verdicts, fills, equity
    fills = loop.store.fills("rules")
    assert len(fills) >= 4  # the agent did trade, or this would prove little
    assert fills == backtest.store.fills("rules")
    runner.close()
    backtest.close()


def test_a_bar_close_the_exchange_does_not_publish_is_skipped_not_decided_on_old_bars(server):
    time = start(server, SOURCE.iloc[:101], 100)  # the exchange has nothing after bar 100
    feed = make_feed(server, time)
    bar_clock = BarCloseClock(feed.end.to_pydatetime())
    loop = make_agent(
        feed, backend=SimTradingBackend(feed, cash=1_000.0, clock=bar_clock, streaming=True),
        store="sqlite://", run_id="skip", progress=False,
    )  # fmt: skip
    runner = LiveRunner(
        loop, feed, paper=loop.backend, bar_clock=bar_clock, clock=time, settle=SETTLE,
        patience=2, sleep=time.sleep,
    )  # fmt: skip
    with pytest.warns(FeedGapWarning, match="has not published the bar closing at"):
        summary = runner.run(5, until=(SOURCE.index[104]).to_pydatetime())
    # bar 100 closes at 101's open and is stepped; the closes at 102, 103 and 104 never come
    assert (summary.steps, summary.skipped) == (1, 3)
    assert len(loop.store.steps("skip")) == 1
    runner.close()


def test_an_exchange_that_stops_answering_costs_a_step_and_the_next_refresh_backfills(server):
    time = start(server, SOURCE, 100)
    feed = make_feed(server, time)
    bar_clock = BarCloseClock(feed.end.to_pydatetime())
    paper = SimTradingBackend(feed, cash=1_000.0, clock=bar_clock, streaming=True)
    loop = make_agent(feed, backend=paper, store="sqlite://", run_id="down", progress=False)
    runner = LiveRunner(
        loop, feed, paper=paper, bar_clock=bar_clock, clock=time, settle=SETTLE, patience=2,
        sleep=time.sleep,
    )  # fmt: skip
    # every kline request around the first close is dropped: 3 refreshes of 3 tries each
    server.faults.set(drops=9, only=frozenset({"klines"}))
    try:
        with pytest.warns(FeedGapWarning) as caught:
            summary = runner.run(2)
    finally:
        server.faults.clear()
    assert "got no answer from binance after 3 tries" in str(caught[0].message)
    assert (summary.steps, summary.skipped, summary.bars) == (2, 1, 3)
    # the close of bar 100 (at 101's open) was missed; the next refresh brought bars 100 and 101
    steps = loop.store.steps("down")
    assert [s.timestamp for s in steps] == [SOURCE.index[102], SOURCE.index[103]]
    same = feed.as_of(feed.end)[["open", "high", "low", "close", "volume"]]
    pd.testing.assert_frame_equal(same, SOURCE.iloc[40:103], check_freq=False, check_names=False)
    runner.close()


def rest_a_limit_buy(analysis: Analysis, observation: Observation) -> Decision:
    """A limit buy far below the market, which rests on the book."""
    price = round(observation.bars[SYMBOL][-1].close * 0.5, 2)
    return Decision(
        action=Action.BUY, symbol=SYMBOL, quantity=0.5, order_type=OrderType.LIMIT, price=price,
        source="rules", confidence=1.0,
    )  # fmt: skip


def interrupt(record) -> None:
    raise KeyboardInterrupt  # what Ctrl-C raises in the running session


@pytest.mark.parametrize("leave", [False, True], ids=["cancel", "leave"])
def test_ctrl_c_cancels_the_sessions_open_orders_unless_told_to_leave_them(server, leave):
    time = start(server, SOURCE, 100)
    feed = make_feed(server, time)
    backend = ExchangeTradingBackend(
        "binance", symbols=[SYMBOL], clock=time, url=server.url,
        config=server.ccxt_config() | {"rateLimit": 1},
    )  # fmt: skip
    loop = make_agent(
        feed, backend=backend, decide=rest_a_limit_buy, store="sqlite://", run_id="ctrl-c",
        progress=False, fee_rate=0.0, cash=10_000.0, callbacks=interrupt,
    )  # fmt: skip
    runner = LiveRunner(loop, feed, settle=SETTLE, sleep=time.sleep)
    with pytest.raises(KeyboardInterrupt):
        runner.run(3)
    resting = server.engine.open_orders(None)
    assert len(resting) == 1  # the order reached the exchange before the interrupt
    report = runner.stop(leave_orders=leave)
    if leave:
        assert report.cancelled == ()
        assert len(report.left_open) == 1
        assert "LEFT 1 order(s) OPEN on the exchange" in report.describe()
        assert len(server.engine.open_orders(None)) == 1
    else:
        assert [a.status.value for a in report.cancelled] == ["cancelled"]
        assert report.left_open == ()
        assert server.engine.open_orders(None) == []
    runner.close()


def test_a_runner_refuses_a_loop_on_a_simulated_clock(server):
    time = start(server, SOURCE, 100)
    feed = make_feed(server, time)
    loop = make_agent(SOURCE, store="sqlite://", run_id="sim", progress=False)
    with pytest.raises(ConfigError, match="needs a loop on a wall clock"):
        LiveRunner(loop, feed)
    feed.close()
    loop.close()


def always_buy(observation: Observation) -> Analysis:
    return Analysis(
        thought="test", market_assessment="uptrend", risk_assessment="low", confidence=0.9,
        action="buy", reason="test", source="rules", analyst="always-buy",
    )  # fmt: skip


@pytest.mark.parametrize("brackets", [True, False], ids=["brackets", "plain"])
def test_the_default_decide_stage_reaches_the_exchange_without_brackets(server, brackets):
    """The exchange backend places no bracket orders: with brackets the entry is refused (a
    recorded backend verdict), with ``brackets=False`` the same entry reaches the exchange."""
    time = start(server, SOURCE, 100)
    feed = make_feed(server, time)
    backend = ExchangeTradingBackend(
        "binance", symbols=[SYMBOL], clock=time, url=server.url,
        config=server.ccxt_config() | {"rateLimit": 1},
    )  # fmt: skip
    loop = make_agent(
        feed, backend=backend, analyst=always_buy, brackets=brackets, store="sqlite://",
        run_id="brackets", progress=False, fee_rate=0.0, cash=10_000.0,
    )  # fmt: skip
    runner = LiveRunner(loop, feed, settle=SETTLE, sleep=time.sleep)
    runner.run(1)
    step = loop.store.steps("brackets")[0]
    assert step.decision is not None
    assert step.decision.action is Action.BUY
    assert (step.decision.stop_loss is not None) is brackets
    sent = server.engine.open_orders(None)
    if brackets:
        assert sent == []
        rejected = [v for v in step.verdicts if not v.approved]
        assert [v.line.value for v in rejected] == ["backend"]
    else:
        assert len(sent) == 1
        assert all(v.approved for v in step.verdicts)
        assert "brackets off" in step.decision.reason
    runner.stop()
    runner.close()
