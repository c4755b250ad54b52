"""SimTradingBackend: parity with the vectorized engine, fill timing, order handling, errors.

Parity: a scripted order stream placed through the backend at its decision times (stepping the
clock bar by bar, or every 24 bars so one kernel call covers many bars) gives the fills and the
final equity of ``axon_lab.backtest.run(prices, orders=...)`` given the same orders.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axon_lab.backends import SimTradingBackend, SyncTradingBackend
from axon_lab.backtest import run
from axon_lab.clock import SimulatedClock, WallClock
from axon_lab.data import MarketView, make_synthetic
from axon_lab.errors import BackendError, ConfigError, DataError, RecordError
from axon_lab.records import OrderRequest, OrderStatus, Side

CASH = 10_000.0
HOUR = timedelta(hours=1)
ALL = 1e12  # "as much as allowed": the kernel caps it exactly like an infinite size


def bars(n: int = 120, seed: int = 7, symbol: str = "SYN") -> pd.DataFrame:
    return make_synthetic(n, timeframe="1h", start="2024-01-01", seed=seed, symbol=symbol)


def request(cid: str, row: Mapping[str, Any], symbol: str = "SYN") -> OrderRequest:
    typ = row.get("type", "market")
    level = row.get("price", math.nan)
    sl, tp = row.get("stop_loss", math.nan), row.get("take_profit", math.nan)
    return OrderRequest(
        client_order_id=cid,
        symbol=symbol,
        side="buy" if row["size"] > 0 else "sell",
        quantity=abs(row["size"]),
        order_type=typ,
        price=level if typ == "limit" else None,
        stop_price=level if typ == "stop" else None,
        stop_loss=None if math.isnan(sl) else sl,
        take_profit=None if math.isnan(tp) else tp,
    )


def drive(
    df: pd.DataFrame, script: Sequence[Mapping[str, Any]], every: int = 1, **kw: Any
) -> SimTradingBackend:
    """Step a SimulatedClock over the decision times, placing each scripted order at its bar."""
    sim = SimTradingBackend(df, cash=CASH, **kw)
    b = SyncTradingBackend(sim)
    done = df.index + pd.Timedelta(hours=1)  # bar i completes when bar i + 1 opens
    for i in range(0, len(df), every):
        sim.advance_to(done[i].to_pydatetime())
        for j, row in enumerate(r for r in script if r["bar"] == i):
            if row["size"] == 0:  # a zero-size order cancels the working one
                for ack in b.open_orders("SYN"):
                    b.cancel_order(ack.order_id)
            else:
                b.place_order(request(f"o{i}-{j}", row))
    sim.advance_to(done[-1].to_pydatetime())
    return sim


def sim_fills(sim: SimTradingBackend, df: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {
            "bar": df.index.get_loc(pd.Timestamp(f.timestamp)),
            "size": f.quantity if f.side is Side.BUY else -f.quantity,
            "price": f.price,
            "fee": f.fee,
        }
        for f in SyncTradingBackend(sim).fills()
    ]
    return pd.DataFrame(rows, columns=["bar", "size", "price", "fee"], dtype=float)


def assert_parity(df: pd.DataFrame, script: list[dict[str, Any]], every: int, **kw: Any) -> int:
    return compare(drive(df, script, every, **kw), df, script, **kw)


def compare(
    sim: SimTradingBackend, df: pd.DataFrame, script: list[dict[str, Any]], **kw: Any
) -> int:
    """Assert the sim's fills and final equity equal a vectorized run of ``script``."""
    sim.advance_to(sim.bar_time(-1) + HOUR)  # through the last bar, as the vectorized run goes
    res = run(df, orders=pd.DataFrame(script, columns=["bar", "size", "type", "price",
              "stop_loss", "take_profit"]), init_cash=CASH, **kw)  # fmt: skip
    ours, ref = sim_fills(sim, df), res.orders.astype({"bar": float})
    assert len(ours) == len(ref), (ours, ref)
    np.testing.assert_array_equal(ours["bar"], ref["bar"])
    np.testing.assert_allclose(ours["price"], ref["price"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours["size"], ref["size"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ours["fee"], ref["fee"], rtol=0, atol=1e-9)
    equity = SyncTradingBackend(sim).query_portfolio().equity
    assert abs(equity - float(res.final_equity[0])) < 0.005
    return len(ours)


def decision_script(df: pd.DataFrame, every: int) -> list[dict[str, Any]]:
    """Market, limit with SL/TP, stop, cancel and exits, all at decision bars of ``every``."""
    c = df["close"].to_numpy()
    at = lambda k: k * max(every, 8)  # noqa: E731 - the k-th decision bar (a decision time)
    return [
        {"bar": at(0), "size": 5.0, "type": "market", "stop_loss": c[0] * 0.97},
        {"bar": at(1), "size": -ALL, "type": "market"},
        {"bar": at(2), "size": 8.0, "type": "limit", "price": c[at(2)] * 0.995,
         "stop_loss": c[at(2)] * 0.97, "take_profit": c[at(2)] * 1.01},
        {"bar": at(3), "size": 4.0, "type": "stop", "price": c[at(3)] * 1.003,
         "take_profit": c[at(3)] * 1.02},
        {"bar": at(3), "size": 3.0, "type": "limit", "price": c[at(3)] * 0.99},  # replaces
        {"bar": at(4), "size": 0.0, "type": "market"},  # cancels what still rests
        {"bar": at(4), "size": ALL, "type": "market", "take_profit": c[at(4)] * 1.004},
    ]  # fmt: skip


@pytest.mark.parametrize("every", [1, 24])
@pytest.mark.parametrize(
    "kw",
    [{}, {"fees": 0.001, "fixed_fee": 1.0, "slippage_bps": 5.0}, {"direction": "both"}],
)
def test_scripted_stream_equals_vectorized_run(every, kw):
    df = bars(24 * 6)
    assert assert_parity(df, decision_script(df, every), every, **kw) >= 4


@pytest.mark.parametrize("every", [1, 24])
def test_oader_loop_with_scripted_orders_equals_vectorized_run(every):
    oader = pytest.importorskip(
        "axon_lab.oader", reason="the OADER loop (axon_lab.oader) is not available yet",
        exc_type=ImportError,
    )  # fmt: skip
    df = bars(24 * 6)
    script = decision_script(df, every)
    view = MarketView(df)
    sim = SimTradingBackend(view, cash=CASH, fees=0.001)
    bar_of = {t + pd.Timedelta(hours=1): i for i, t in enumerate(df.index)}

    async def scripted_execute(decision: Any, observation: Any) -> Any:
        i = bar_of[pd.Timestamp(observation.timestamp)]
        acks = []
        for j, row in enumerate(r for r in script if r["bar"] == i):
            if row["size"] == 0:
                for ack in await sim.open_orders("SYN"):
                    acks.append(await sim.cancel_order(ack.order_id))
            else:
                acks.append(await sim.place_order(request(f"o{i}-{j}", row)))
        return oader.Execution(acks=tuple(acks))

    agent = oader.make_agent(
        view, backend=sim, store="sqlite://", run_id="sim-parity", every=every, progress=False
    )
    loop = oader.OADERLoop(
        agent.observe, agent.analyze, agent.decide, scripted_execute, agent.record,
        backend=sim, clock=sim.clock, view=view, every=every, run_id="sim-parity",
        progress=False,
    )  # fmt: skip
    loop.run()
    agent.close()
    assert loop.step_index == len(view.decision_times(every))
    assert sim.clock.now() == view.decision_times(every)[-1]  # the loop's last decision time
    assert compare(sim, df, script, fees=0.001) >= 4


# ------------------------------------------------------------------ hypothesis: random streams


@st.composite
def streams(draw: st.DrawFn, df: pd.DataFrame, every: int) -> list[dict[str, Any]]:
    decisions = list(range(0, len(df), every))
    out: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 12))):
        bar = draw(st.sampled_from(decisions))
        ref = float(df["close"].iloc[bar])
        typ = draw(st.sampled_from(["market", "limit", "stop"]))
        size = draw(st.one_of(st.floats(0.05, 40.0), st.just(ALL), st.just(0.0)))
        if size == 0.0:
            out.append({"bar": bar, "size": 0.0, "type": "market"})
            continue
        size *= draw(st.sampled_from([1.0, -1.0]))
        row = {"bar": bar, "size": size, "type": typ}
        if typ != "market":
            row["price"] = ref * draw(st.floats(0.97, 1.03))
        for name in ("stop_loss", "take_profit"):
            if draw(st.booleans()):
                row[name] = ref * draw(st.floats(0.95, 1.05))
        try:  # keep only orders a backend can be sent
            request("check", row)
        except RecordError:
            continue
        out.append(row)
    return out


SETTINGS = st.fixed_dictionaries(
    {
        "fees": st.sampled_from([0.0, 0.002]),
        "fixed_fee": st.sampled_from([0.0, 0.5]),
        "slippage_bps": st.sampled_from([0.0, 3.0]),
        "lot_size": st.sampled_from([0.0, 0.5]),
        "leverage": st.sampled_from([1.0, 2.0]),
        "direction": st.sampled_from(["long", "both"]),
    }
)
DF = bars(60, seed=11)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), every=st.sampled_from([1, 5, 24]), kw=SETTINGS)
def test_random_streams_equal_vectorized_run(data, every, kw):
    assert_parity(DF, data.draw(streams(DF, every)), every, **kw)


# ------------------------------------------------------------------ fill timing


def test_market_order_fills_at_next_open_and_marks_to_last_close():
    df = bars(10)
    sim = SimTradingBackend(df, cash=CASH)
    b = SyncTradingBackend(sim)
    ack = b.place_order(request("m", {"size": 2.0}))
    assert ack.status is OrderStatus.ACCEPTED
    assert b.fills() == ()
    sim.step()
    (fill,) = b.fills()
    assert fill.price == df["open"].iloc[1]
    assert fill.timestamp == df.index[1]
    assert b.place_order(request("m", {"size": 2.0})).status is OrderStatus.FILLED
    snap = b.query_portfolio()
    assert snap.positions["SYN"].mark_price == df["close"].iloc[1]
    assert snap.equity == pytest.approx(CASH - 2.0 * fill.price + 2.0 * df["close"].iloc[1])


def test_close_execution_fills_at_once_at_the_completed_bar_close():
    df = bars(10)
    sim = SimTradingBackend(df, cash=CASH, execution="close")
    ack = SyncTradingBackend(sim).place_order(request("m", {"size": 2.0}))
    assert ack.status is OrderStatus.FILLED
    assert ack.avg_fill_price == df["close"].iloc[0]
    res = run(df, orders={"bar": [0], "size": [2.0]}, init_cash=CASH, execution="close")
    assert res.orders["price"].tolist() == [ack.avg_fill_price]


def test_a_decision_inside_a_bar_waits_for_the_next_open():
    df = bars(10)
    clock = SimulatedClock(df.index[3].to_pydatetime() + timedelta(minutes=30))
    sim = SimTradingBackend(df, cash=CASH, clock=clock)
    b = SyncTradingBackend(sim)
    assert sim.bars_done == 3  # bar 3 is still forming
    b.place_order(request("mid", {"size": 1.0}))
    sim.advance_to(df.index[5].to_pydatetime())
    (fill,) = b.fills()
    assert fill.timestamp == df.index[4]  # not bar 3's open, which is in the past
    assert fill.price == df["open"].iloc[4]


def test_stop_loss_exit_is_a_filled_reduce_only_order():
    df = bars(48)
    low = float(df["low"].iloc[1:].min())
    sim = SimTradingBackend(df, cash=CASH)
    b = SyncTradingBackend(sim)
    sl = float(df["open"].iloc[1]) * 0.999
    assert low < sl, "fixture: the synthetic path must trade below the stop"
    b.place_order(request("entry", {"size": 3.0, "stop_loss": sl}))
    sim.advance_to(sim.bar_time(-1) + HOUR)
    entry, exit_ = b.fills()
    exit_order = b.get_order(exit_.order_id)
    assert exit_order.client_order_id.startswith("entry~sl")
    assert exit_order.reduce_only
    assert exit_order.side is Side.SELL
    assert exit_.quantity == entry.quantity
    assert exit_.price <= sl
    assert b.query_portfolio().quantity("SYN") == 0.0


# ------------------------------------------------------------------ one working order per symbol


def test_a_second_order_replaces_the_working_one():
    df = bars(10)
    b = SyncTradingBackend(SimTradingBackend(df, cash=CASH))
    first = b.place_order(request("a", {"size": 1.0, "type": "limit", "price": 1.0}))
    second = b.place_order(request("b", {"size": 2.0, "type": "limit", "price": 2.0}))
    old = b.place_order(request("a", {"size": 1.0, "type": "limit", "price": 1.0}))
    assert old.status is OrderStatus.CANCELLED
    assert f"replaced by {second.order_id}" in old.message
    assert [a.order_id for a in b.open_orders()] == [second.order_id]
    assert first.order_id != second.order_id


def test_on_second_order_reject_keeps_the_working_one():
    b = SyncTradingBackend(SimTradingBackend(bars(10), cash=CASH, on_second_order="reject"))
    first = b.place_order(request("a", {"size": 1.0, "type": "limit", "price": 1.0}))
    second = b.place_order(request("b", {"size": 2.0}))
    assert second.status is OrderStatus.REJECTED
    assert f"order {first.order_id} is already working on SYN" in second.message
    assert [a.order_id for a in b.open_orders()] == [first.order_id]
    b.replace_order(first.order_id, price=1.5)  # replacing the working order is allowed


def test_cancelled_and_replaced_orders_leave_the_kernel():
    df = bars(30)
    sim = SimTradingBackend(df, cash=CASH)
    b = SyncTradingBackend(sim)
    high = float(df["high"].max())
    ack = b.place_order(request("s", {"size": 1.0, "type": "stop", "price": high * 2}))
    new = b.replace_order(ack.order_id, price=float(df["low"].min()) * 0.5)
    assert b.get_order(new.order_id).stop_price == pytest.approx(float(df["low"].min()) * 0.5)
    sim.step()
    assert len(b.fills(new.order_id)) == 1  # the lowered stop triggers at once
    lim = b.place_order(request("l", {"size": -1.0, "type": "limit", "price": high * 0.999}))
    b.cancel_order(lim.order_id)
    sim.advance_to(sim.bar_time(-1) + HOUR)
    assert b.fills(lim.order_id) == ()


# ------------------------------------------------------------------ what the kernel refuses


def test_unfillable_and_partly_filled_orders_end_cancelled_with_the_reason():
    df = bars(10)
    sim = SimTradingBackend(df, cash=100.0)
    b = SyncTradingBackend(sim)
    b.place_order(request("sell", {"size": -1.0}))
    sim.step()
    ack = b.place_order(request("sell", {"size": -1.0}))
    assert ack.status is OrderStatus.CANCELLED
    assert "nothing more to sell (direction='long'" in ack.message
    b.place_order(request("big", {"size": 1_000.0}))
    sim.step()
    ack = b.place_order(request("big", {"size": 1_000.0}))
    assert ack.status is OrderStatus.CANCELLED
    assert 0 < ack.filled_quantity < 1_000.0
    assert "not enough cash for the rest" in ack.message
    assert b.query_portfolio().cash == pytest.approx(0.0, abs=1e-9)


def test_rejections_name_the_reason():
    df = bars(5)
    sim = SimTradingBackend(df, cash=CASH, clock=SimulatedClock(df.index[0].to_pydatetime()))
    b = SyncTradingBackend(sim)
    assert "no bar is complete" in b.place_order(request("early", {"size": 1.0})).message
    sim.advance_to(sim.bar_time(-1) + HOUR)
    late = b.place_order(request("late", {"size": 1.0}))
    assert late.status is OrderStatus.REJECTED
    assert "no bar after" in late.message
    assert "stop one bar earlier" in late.message
    stop_limit = OrderRequest(
        client_order_id="sl", symbol="SYN", side="buy", quantity=1.0, order_type="stop",
        stop_price=2.0, price=2.5,
    )  # fmt: skip
    sim2 = SyncTradingBackend(SimTradingBackend(df, cash=CASH))
    assert "stop-limit" in sim2.place_order(stop_limit).message
    ioc = OrderRequest(
        client_order_id="ioc", symbol="SYN", side="buy", quantity=1.0, order_type="limit",
        price=2.0, time_in_force="ioc",
    )  # fmt: skip
    assert "time_in_force='ioc'" in sim2.place_order(ioc).message


def test_streaming_orders_wait_for_appended_bars():
    df = bars(6)
    sim = SimTradingBackend(df.iloc[:3], cash=CASH, streaming=True)
    sim.advance_to(df.index[3].to_pydatetime())
    b = SyncTradingBackend(sim)
    assert b.place_order(request("w", {"size": 1.0})).status is OrderStatus.ACCEPTED
    sim.append_bars(df.iloc[3:])
    sim.step()
    assert [f.price for f in b.fills()] == [df["open"].iloc[3]]
    with pytest.raises(DataError, match="not after the last bar"):
        sim.append_bars(df.iloc[4:])


# ------------------------------------------------------------------ several symbols


def test_an_idle_symbol_changes_nothing_and_cash_is_shared():
    a, z = bars(48, seed=1, symbol="A"), bars(48, seed=2, symbol="Z")
    z.index = a.index
    sim = SimTradingBackend(MarketView({"A": a, "Z": z}, feature_spec=()), cash=CASH)
    b = SyncTradingBackend(sim)
    b.place_order(request("a", {"size": ALL}, symbol="A"))
    b.place_order(request("z", {"size": ALL}, symbol="Z"))
    sim.advance_to(sim.bar_time(-1) + HOUR)
    fills = b.fills()
    assert [f.symbol for f in fills] == ["A"]  # A spent all the cash; Z found none
    assert b.place_order(request("z", {"size": ALL}, symbol="Z")).status is OrderStatus.CANCELLED
    res = run(a, orders={"bar": [0], "size": [math.inf]}, init_cash=CASH)
    assert fills[0].quantity == pytest.approx(float(res.orders["size"].iloc[0]), rel=1e-12)
    snap = b.query_portfolio()
    assert snap.equity == pytest.approx(float(res.final_equity[0]), abs=0.005)


def test_symbols_on_different_timestamps_are_refused():
    a, z = bars(10, symbol="A"), bars(10, symbol="Z").iloc[1:]
    with pytest.raises(DataError, match="not on the same timestamps"):
        SimTradingBackend({"A": a, "Z": z}, cash=CASH)


# ------------------------------------------------------------------ clock and API errors


def test_clock_errors():
    df = bars(5)
    sim = SimTradingBackend(df, cash=CASH)
    with pytest.raises(ConfigError, match="naive"):
        sim.advance_to(datetime(2024, 1, 1))  # naive on purpose
    with pytest.raises(ConfigError, match="cannot step 9 bar"):
        sim.step(9)
    now = sim.clock.now()
    assert sim.advance_to(df.index[0].to_pydatetime()) == ()  # an earlier time moves nothing
    assert sim.clock.now() == now
    wall = SimTradingBackend(df, cash=CASH, clock=WallClock())
    assert wall.bars_done == 5  # the wall clock is past every bar
    with pytest.raises(ConfigError, match="give the backend a SimulatedClock"):
        wall.advance_to(datetime.now(df.index.tz) + HOUR)
    with pytest.raises(BackendError, match="takes prices from its bars"):
        sim.set_price("SYN", 1.0)
    with pytest.raises(ConfigError, match="Did you mean 'reject'"):
        SimTradingBackend(df, cash=CASH, on_second_order="rejct")


def test_importing_backends_does_not_load_numba():
    code = "import sys, axon_lab.backends; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_two_symbols_with_ample_cash_each_equal_their_own_vectorized_run():
    a, z = bars(72, seed=3, symbol="A"), bars(72, seed=4, symbol="Z")
    z.index = a.index
    scripts = {
        "A": [{"bar": 2, "size": 3.0, "type": "market"},
              {"bar": 3, "size": -1.0, "type": "limit", "price": float(a["close"].iloc[3]) * 1.001},
              {"bar": 30, "size": -ALL, "type": "market"}],
        "Z": [{"bar": 2, "size": 2.0, "type": "market",
               "take_profit": float(z["close"].iloc[2]) * 1.01},
              {"bar": 9, "size": 1.0, "type": "stop", "price": float(z["close"].iloc[9]) * 1.01}],
    }  # fmt: skip
    sim = SimTradingBackend({"A": a, "Z": z}, cash=CASH, fees=0.001)
    b = SyncTradingBackend(sim)
    done = a.index + pd.Timedelta(hours=1)
    for i in range(len(a)):
        sim.advance_to(done[i].to_pydatetime())
        for sym, script in scripts.items():
            for row in (r for r in script if r["bar"] == i):
                b.place_order(request(f"{sym}{i}", row, symbol=sym))
    total = -CASH
    for sym, df in (("A", a), ("Z", z)):
        res = run(df, orders=pd.DataFrame(scripts[sym]), init_cash=CASH, fees=0.001)
        ours = [f for f in b.fills() if f.symbol == sym]
        assert len(ours) == len(res.orders) >= 1
        for f, (_, ref) in zip(ours, res.orders.iterrows(), strict=True):
            assert f.timestamp == ref["timestamp"]
            assert f.price == pytest.approx(ref["price"], abs=1e-9)
            assert f.quantity == pytest.approx(abs(ref["size"]), abs=1e-9)
        total += float(res.final_equity[0])
    assert len(b.fills()) >= 4
    assert b.query_portfolio().equity == pytest.approx(total, abs=0.005)
