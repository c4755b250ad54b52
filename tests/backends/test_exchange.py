"""The exchange backend's own rules (beyond the conformance suite), and the local exchange."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pandas as pd
import pytest

from axon_lab.backends import (
    ExchangeTradingBackend,
    LocalExchangeServer,
    RequestBudget,
    SyncTradingBackend,
    run_sync,
)
from axon_lab.backends._exchange_markets import make_client, venue_client_id
from axon_lab.clock import SimulatedClock
from axon_lab.errors import ConfigError, MissingDependencyError
from axon_lab.records import DefenceLine, Instrument, MarginPolicy, OrderRequest, OrderStatus
from axon_lab.risk import RiskChain

from .conftest import exchange_harness, local_exchange

pytest.importorskip("ccxt", reason="the exchange backend needs axon-lab[exchange]")

START = datetime(2024, 6, 1, tzinfo=UTC)
PRICES = {"AAA": 20.0}


@pytest.fixture
def harness():
    h = exchange_harness(PRICES, SimulatedClock(START), 1_000.0)
    yield h, SyncTradingBackend(h.backend)
    h.close()


def order(cid: str, **kw: object) -> OrderRequest:
    fields: dict[str, object] = {"symbol": "AAA", "side": "buy", "quantity": 1.0, **kw}
    return OrderRequest(client_order_id=cid, **fields)  # type: ignore[arg-type]


def test_markets_feed_the_instruments_of_the_risk_chain():
    server = local_exchange()
    clock = SimulatedClock(START)
    rules = Instrument(symbol="AAA/USDT", tick_size=0.05, lot_size=0.001, min_notional=5.0)
    index = pd.DatetimeIndex([pd.Timestamp(START) - pd.Timedelta(hours=1)], name="timestamp")
    frame = pd.DataFrame({c: [20.0] for c in ("open", "high", "low", "close")}, index=index)
    server.reset({"AAA/USDT": frame}, cash=100.0, clock=clock, instruments={"AAA/USDT": rules})
    config = server.ccxt_config() | {"rateLimit": 1}
    backend = ExchangeTradingBackend(
        symbols={"AAA": "AAA/USDT"}, clock=clock, config=config, url=server.url
    )
    try:
        b = SyncTradingBackend(backend)
        b.query_portfolio()
        ins = backend.instruments["AAA"]
        assert (ins.tick_size, ins.lot_size, ins.min_notional) == (0.05, 0.001, 5.0)
        assert "binance markets via ccxt" in ins.source
        off_grid = b.place_order(order("g", quantity=0.0015))
        assert off_grid.status is OrderStatus.REJECTED
        assert "lot size" in off_grid.message
        too_small = b.place_order(order("s", quantity=0.2))
        assert "minimum notional" in too_small.message
        assert server.engine.orders_sent() == 0  # refused here, never sent (nor rounded by ccxt)
    finally:
        backend.close()


def test_insufficient_funds_is_a_rejected_ack_and_a_backend_verdict(harness):
    h, b = harness
    # the chain believes the account may borrow (leverage 5); the spot venue refuses
    chain = RiskChain(h.backend, margin=MarginPolicy(leverage=5.0))
    report = run_sync(chain.place_order(order("big", order_type="limit", price=19.0, quantity=100)))
    assert not report.ok
    verdict = report.verdicts[-1]
    assert (verdict.line, verdict.rule) == (DefenceLine.BACKEND, "backend_rejected")
    assert "insufficient funds" in verdict.message
    assert b.place_order(report.order).status is OrderStatus.REJECTED  # idempotent


def test_a_client_id_the_venue_cannot_take_is_mapped_and_found_again(harness):
    _h, b = harness
    cid = "run:2024/06/01 step 7 ~ buy the dip, with a long explanation"
    ack = b.place_order(order(cid, order_type="limit", price=10.0))
    assert ack.client_order_id == cid
    server_order = local_exchange().engine.get_order({"orderId": ack.order_id})
    assert server_order["clientOrderId"] == venue_client_id(cid)
    assert len(venue_client_id(cid)) <= 36
    assert b.cancel_order(cid).status is OrderStatus.CANCELLED


def test_budget_waits_when_the_window_is_full():
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    budget = RequestBudget(2, 1.0, monotonic=lambda: now[0], sleep=fake_sleep)

    async def burst() -> None:
        for _ in range(5):
            await budget.acquire("fetch_ticker")

    asyncio.run(burst())
    assert budget.calls["fetch_ticker"] == 5
    assert budget.waits == 2
    assert now[0] == pytest.approx(2.0)  # requests 3-4 wait a window, request 5 another
    budget.pause(3.0)
    asyncio.run(budget.acquire("fetch_balance"))
    assert now[0] == pytest.approx(5.0)
    assert budget.retry_after_pauses == 1


def test_the_backend_counts_its_requests_in_the_budget(harness):
    h, b = harness
    b.query_portfolio()
    budget = h.backend.budget  # type: ignore[attr-defined]
    assert budget.calls["load_markets"] == 1
    assert budget.calls["fetch_balance"] >= 1
    assert budget.total == sum(budget.calls.values())


def test_missing_ccxt_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ccxt.async_support", None)
    with pytest.raises(MissingDependencyError, match=r"axon-lab\[exchange\]"):
        make_client("binance", {}, None)


def test_unknown_exchange_and_unknown_market_are_config_errors(harness):
    with pytest.raises(ConfigError, match="Did you mean 'binance'"):
        make_client("binanse", {}, None)
    server = local_exchange()
    backend = ExchangeTradingBackend(
        symbols={"AAA": "AAA/USDC"},
        clock=SimulatedClock(START),
        config=server.ccxt_config() | {"rateLimit": 1},
        url=server.url,
    )
    try:
        with pytest.raises(ConfigError, match=r"no market 'AAA/USDC'\. Did you mean 'AAA/USDT'"):
            run_sync(backend.start())
    finally:
        backend.close()


def test_symbols_must_share_one_quote_asset():
    with pytest.raises(ConfigError, match="one quote asset"):
        ExchangeTradingBackend(symbols=["BTC/USDT", "ETH/BTC"])


def test_the_server_serves_loopback_only():
    frame = pd.DataFrame(
        {c: [1.0] for c in ("open", "high", "low", "close")},
        index=pd.DatetimeIndex([pd.Timestamp(START)], name="timestamp"),
    )
    with pytest.raises(ConfigError, match="loopback"):
        LocalExchangeServer(
            {"A/USDT": frame}, cash=1.0, clock=SimulatedClock(START), host="0.0.0.0"
        )


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_signed_endpoints_check_key_and_signature(harness):
    server = local_exchange()
    url = f"{server.url}/api/v3/account?timestamp=1&signature=00"
    status, body = _get(url, {"X-MBX-APIKEY": "wrong"})
    assert (status, body["code"]) == (401, -2015)
    status, body = _get(url, {"X-MBX-APIKEY": server.api_key})
    assert (status, body["code"]) == (400, -1022)


def test_ohlcv_serves_complete_bars_only(harness):
    h, _b = harness
    server = local_exchange()
    h.set_price("AAA", 21.0)
    h.set_price("AAA", 22.0)
    client = make_client("binance", server.ccxt_config() | {"rateLimit": 1}, server.url)

    async def bars() -> list[list[float]]:
        try:
            rows: list[list[float]] = await client.fetch_ohlcv("AAA/USDT", "1h")
            return rows
        finally:
            await client.close()

    rows = asyncio.run(bars())
    assert [r[4] for r in rows] == [20.0, 21.0, 22.0]
    now_ms = int(h.backend.clock.now().timestamp() * 1000)
    assert all(r[0] + 3_600_000 <= now_ms for r in rows)


def test_a_wall_clock_exchange_serves_only_the_bars_the_clock_has_passed():
    from axon_lab.data import make_synthetic

    bars = make_synthetic(48, timeframe="1h", start="2024-01-01", seed=4, symbol="SYN/USDT")
    with LocalExchangeServer.on_wall_clock({"SYN/USDT": bars}, cash=100.0, history=24) as server:
        rows = server.engine.klines("SYNUSDT", "1h", None, None, 1000)
        assert [float(r[4]) for r in rows] == list(bars["close"].iloc[:24])
        assert server.engine.price("SYN/USDT") == bars["close"].iloc[23]
    with pytest.raises(ConfigError, match="history=0"):
        LocalExchangeServer.on_wall_clock({"SYN/USDT": bars}, cash=100.0, history=0)


def test_the_backend_is_a_context_manager_that_closes_its_client():
    server = local_exchange()
    config = server.ccxt_config() | {"rateLimit": 1}

    async def use() -> float:
        async with ExchangeTradingBackend(
            symbols={"AAA": "AAA/USDT"}, clock=SimulatedClock(START), config=config, url=server.url
        ) as backend:
            session = backend.session
            price = await backend.last_price("AAA")
        assert session.client is None  # closed
        return price

    clock = SimulatedClock(START)
    index = pd.DatetimeIndex([pd.Timestamp(START) - pd.Timedelta(hours=1)], name="timestamp")
    frame = pd.DataFrame({c: [7.5] for c in ("open", "high", "low", "close")}, index=index)
    server.reset({"AAA/USDT": frame}, cash=10.0, clock=clock)
    assert asyncio.run(use()) == 7.5


def test_compare_reports_cash_and_position_differences_in_words():
    from axon_lab.backends._exchange_reconcile import compare

    found = compare(
        quote="USDT",
        cash=100.0,
        venue_cash=90.0,
        positions={"AAA": 1.0},
        venue_positions={"AAA": 1.0, "BBB": 2.0},
        unknown_orders=[],
        fills=[],
        expected_fills=None,
    )
    assert [(d.kind, d.symbol, d.expected, d.observed) for d in found] == [
        ("cash", "", 100.0, 90.0),
        ("position", "BBB", 0.0, 2.0),
    ]
    assert "difference -10" in found[0].message
    same = compare(
        quote="USDT",
        cash=100.0,
        venue_cash=100.0 + 1e-12,
        positions={},
        venue_positions={},
        unknown_orders=[],
        fills=[],
        expected_fills=[],
    )
    assert same == ()
