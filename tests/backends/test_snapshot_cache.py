"""The backends' portfolio snapshot cache and the sim backend's idle-sync shortcut.

``query_portfolio`` hands out the previous snapshot while nothing it depends on moved (the
clock reading, the ledger's version, the marks' version); every kind of change must build a new
one, equal to a snapshot built from scratch. The sim backend's ``_sync``/``advance_to`` return
at once while the clock stands still, and never skip work that is due.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.backends import Ledger, MockTradingBackend, OmsTradingBackend, SimTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.data import make_synthetic
from axon_lab.records import OrderRequest, PortfolioSnapshot

T = datetime(2024, 1, 1, 12, tzinfo=UTC)


def query(backend: object) -> PortfolioSnapshot:
    return asyncio.run(backend.query_portfolio())  # type: ignore[attr-defined]


def fresh(backend: object) -> PortfolioSnapshot:
    """What the snapshot must be: built now from the ledger and marks, bypassing the cache."""
    b = backend  # a BaseTradingBackend
    return b._ledger.snapshot(b.clock.now(), b._marks.__getitem__)  # type: ignore[attr-defined]


def order(cid: str, side: str = "buy", qty: float = 1.0, **kw: object) -> OrderRequest:
    return OrderRequest(client_order_id=cid, symbol="X", side=side, quantity=qty, **kw)


@pytest.fixture(params=[MockTradingBackend, OmsTradingBackend])
def backend(request: pytest.FixtureRequest) -> MockTradingBackend:
    return request.param({"X": 10.0, "Y": 5.0}, cash=1_000.0, clock=SimulatedClock(T))


def test_an_unchanged_backend_returns_the_same_snapshot(backend):
    first = query(backend)
    assert query(backend) is first
    assert first == fresh(backend)


def test_a_fill_builds_a_new_snapshot(backend):
    before = query(backend)
    asyncio.run(backend.place_order(order("c-1")))
    after = query(backend)
    assert after is not before
    assert after == fresh(backend)
    assert after.quantity("X") == 1.0
    assert after.cash == 990.0


def test_a_mark_change_builds_a_new_snapshot(backend):
    asyncio.run(backend.place_order(order("c-1")))
    before = query(backend)
    backend.set_price("X", 12.0)
    after = query(backend)
    assert after is not before
    assert after == fresh(backend)
    assert after.positions["X"].mark_price == 12.0
    assert after.equity == 1_002.0


def test_a_move_of_the_clock_builds_a_new_snapshot(backend):
    before = query(backend)
    backend.clock.advance(timedelta(minutes=1))
    after = query(backend)
    assert after is not before
    assert after.timestamp == T + timedelta(minutes=1)
    assert after == fresh(backend)


def test_a_cash_assignment_builds_a_new_snapshot(backend):
    before = query(backend)
    backend._ledger.cash = 2_000.0
    after = query(backend)
    assert after is not before
    assert after.cash == 2_000.0 == fresh(backend).cash


@pytest.mark.parametrize("attr", ["cash", "realized_pnl", "fees_paid"])
def test_ledger_version_moves_with_every_change_and_only_then(attr):
    ledger = Ledger(cash=0.0)
    v0 = ledger.version
    setattr(ledger, attr, 0.0)  # the same value: nothing changed
    assert ledger.version == v0
    setattr(ledger, attr, -0.0)  # a different JSON value: a change
    assert ledger.version == v0 + 1
    assert str(getattr(ledger, attr)) == "-0.0"
    setattr(ledger, attr, float("nan"))
    setattr(ledger, attr, float("nan"))  # a NaN never equals: each counts
    assert ledger.version == v0 + 3
    setattr(ledger, attr, 5.0)
    assert ledger.version == v0 + 4
    assert getattr(ledger, attr) == 5.0


def test_ledger_version_moves_with_every_fill():
    backend = MockTradingBackend({"X": 10.0}, cash=1_000.0, clock=SimulatedClock(T))
    versions = [backend._ledger.version]
    for i, side in enumerate(["buy", "buy", "sell", "sell"]):
        asyncio.run(backend.place_order(order(f"c-{i}", side)))
        versions.append(backend._ledger.version)
    assert versions == sorted(set(versions))  # strictly increasing


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("order"), st.sampled_from(["buy", "sell"]), st.floats(0.1, 3.0)),
            st.tuples(st.just("price"), st.sampled_from(["X", "Y"]), st.floats(1.0, 20.0)),
            st.tuples(st.just("clock"), st.integers(0, 90)),
            st.tuples(st.just("cash"), st.floats(-100.0, 5_000.0)),
            st.tuples(st.just("query")),
        ),
        max_size=30,
    )
)
def test_every_snapshot_equals_one_built_from_scratch(actions):
    backend = OmsTradingBackend({"X": 10.0, "Y": 5.0}, cash=1_000.0, clock=SimulatedClock(T))
    for n, action in enumerate(actions):
        kind = action[0]
        if kind == "order":
            asyncio.run(backend.place_order(order(f"c-{n}", action[1], action[2])))
        elif kind == "price":
            backend.set_price(action[1], action[2])
        elif kind == "clock":
            backend.clock.advance(timedelta(seconds=action[1]))
        elif kind == "cash":
            backend._ledger.cash = action[1]
        snap = query(backend)
        expected = fresh(backend)
        assert snap == expected
        assert snap.model_dump_json() == expected.model_dump_json()


# ---------------------------------------------------------------------------- the sim backend


def bars(n: int = 60) -> pd.DataFrame:
    return make_synthetic(n, timeframe="1h", start="2024-01-01", seed=3, symbol="X")


def test_sim_snapshot_is_cached_until_a_bar_completes_or_a_fill_lands():
    df = bars()
    sim = SimTradingBackend(df, cash=10_000.0)
    first = query(sim)
    assert query(sim) is first
    assert sim.advance_to(sim.clock.now()) == ()
    assert query(sim) is first
    asyncio.run(sim.place_order(order("c-1", qty=2.0)))  # fills at the next open
    assert query(sim) is first  # nothing filled, nothing marked yet
    fills = sim.step()
    assert len(fills) == 1
    after = query(sim)
    assert after is not first
    assert after.quantity("X") == 2.0
    assert after == fresh(sim)
    marked = after.positions["X"].mark_price
    assert marked == float(df["close"].iloc[1])
    sim.step()  # no fill, but the mark moves to the next close
    moved = query(sim)
    assert moved is not after
    assert moved.positions["X"].mark_price == float(df["close"].iloc[2])
    assert moved == fresh(sim)


def test_sim_sync_while_the_clock_stands_still_does_nothing_and_skips_nothing_due():
    df = bars()
    clock = SimulatedClock(df.index[1].to_pydatetime())
    sim = SimTradingBackend(df, cash=10_000.0, clock=clock)
    mid_bar = df.index[1].to_pydatetime() + timedelta(minutes=30)
    clock.set(mid_bar)
    asyncio.run(sim.place_order(order("c-1")))  # decided inside bar 1: waits for its close
    assert sim.advance_to(mid_bar) == ()
    assert sim.advance_to(mid_bar) == ()
    assert asyncio.run(sim.open_orders())[0].status.value == "accepted"
    fills = sim.advance_to(df.index[3].to_pydatetime())  # bar 1 done: fills at bar 2's open
    assert [f.price for f in fills] == [float(df["open"].iloc[2])]
    assert [f.timestamp for f in fills] == [df.index[2].to_pydatetime()]


def test_sim_appended_bars_wake_an_order_waiting_for_a_next_bar():
    df = bars(40)
    sim = SimTradingBackend(df.iloc[:20], cash=10_000.0, streaming=True)
    sim.advance_to(df.index[20].to_pydatetime())  # after the last bar's completion
    ack = asyncio.run(sim.place_order(order("c-1")))
    assert ack.status.value == "accepted"
    assert sim.advance_to(sim.clock.now()) == ()  # no bar to fill at yet
    sim.append_bars(df.iloc[20:22])
    fills = sim.advance_to(df.index[21].to_pydatetime())
    assert [f.price for f in fills] == [float(df["open"].iloc[20])]
    assert query(sim) == fresh(sim)
