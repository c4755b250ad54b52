"""The compiled kernel against the slow pure-Python reference, plus accounting invariants."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axon_lab.backtest import N_STATE, fill_range_nb, init_state_nb, run, submit_orders_nb
from axon_lab.backtest._inputs import check_orders, check_prices, check_settings
from axon_lab.backtest._kernels import K_SIGNAL, K_TARGET, N_REC, init_state
from axon_lab.backtest._reference import RefOrder, as_float_list, reference_fills

N_BARS = 40


@st.composite
def bars(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(5, N_BARS))
    steps = draw(st.lists(st.floats(-0.08, 0.08), min_size=n, max_size=n))
    wiggle = draw(st.lists(st.floats(0.0, 0.05), min_size=2 * n, max_size=2 * n))
    gaps = draw(st.lists(st.floats(-0.03, 0.03), min_size=n, max_size=n))
    close = 100.0 * np.exp(np.cumsum(steps))
    open_ = np.r_[100.0, close[:-1]] * np.exp(gaps)
    high = np.maximum(open_, close) * (1 + np.array(wiggle[:n]))
    low = np.minimum(open_, close) * (1 - np.array(wiggle[n:]))
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close})


@st.composite
def order_lists(draw: st.DrawFn, n: int) -> list[RefOrder]:
    out = []
    for _ in range(draw(st.integers(0, 8))):
        typ = draw(st.sampled_from(["market", "limit", "stop"]))
        size = draw(
            st.one_of(
                st.floats(-50.0, 50.0).filter(lambda x: abs(x) > 1e-3),
                st.sampled_from([math.inf, -math.inf]),
            )
        )
        if typ == "market":
            size = draw(st.one_of(st.just(size), st.just(0.0)))
        price = draw(st.floats(80.0, 120.0)) if typ != "market" else math.nan
        sl = draw(st.one_of(st.just(math.nan), st.floats(70.0, 130.0)))
        tp = draw(st.one_of(st.just(math.nan), st.floats(70.0, 130.0)))
        out.append(RefOrder(draw(st.integers(0, n - 1)), size, typ, price, sl, tp))
    return out


def _kernel(df, *, targets=None, kind=K_SIGNAL, orders=(), **kw):
    px = check_prices(df)
    params = check_settings(
        fees=kw.get("fees", 0.0),
        fixed_fee=kw.get("fixed_fee", 0.0),
        slippage_bps=kw.get("slippage", 0.0) * 1e4,
        init_cash=1000.0,
        leverage=kw.get("leverage", 1.0),
        lot_size=kw.get("lot_size", 0.0),
        direction="both" if kw.get("allow_short") else "long",
        execution=kw.get("execution", "next_open"),
    )
    frame = pd.DataFrame(
        [
            {"bar": o.bar, "size": o.size, "type": o.type, "price": o.price,
             "stop_loss": o.stop_loss, "take_profit": o.take_profit}
            for o in orders
        ],
        columns=["bar", "size", "type", "price", "stop_loss", "take_profit"],
    )  # fmt: skip
    ords = check_orders(frame, px, 1)
    tgt = np.empty((0, 0)) if targets is None else np.asarray(targets, dtype=float)[:, None]
    return px, params, ords, tgt, kind


def _simulate(px, params, ords, tgt, kind, splits=()):
    n = px.n_bars
    state = init_state_nb(1, 1000.0)
    eq, cash, pos = np.empty((n, 1)), np.empty((n, 1)), np.empty((n, 1))
    records = []
    bounds = [0, *sorted(set(splits)), n]
    for a, b in itertools.pairwise(bounds):
        rec = np.empty((4 * n + 2 * len(ords[0]) + 2, N_REC))
        m = fill_range_nb(
            px.open, px.high, px.low, px.close, tgt, kind, *ords, params, state, a, b,
            eq, cash, pos, rec, np.empty((0, 0)),
        )  # fmt: skip
        records.append(rec[:m])
    return eq[:, 0], cash[:, 0], pos[:, 0], np.concatenate(records)


def _compare(ref, eq, cash, pos, rec):
    np.testing.assert_allclose(eq, ref.equity, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(cash, ref.cash, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(pos, ref.position, rtol=1e-9, atol=1e-9)
    assert len(rec) == len(ref.fills)
    for row, fill in zip(rec, ref.fills, strict=True):
        assert int(row[1]) == fill.bar
        assert row[2] == pytest.approx(fill.size, rel=1e-9, abs=1e-9)
        assert row[3] == pytest.approx(fill.price, rel=1e-12)
        assert row[4] == pytest.approx(fill.fee, rel=1e-9, abs=1e-9)


SETTINGS = st.fixed_dictionaries(
    {
        "fees": st.sampled_from([0.0, 0.001, 0.01]),
        "fixed_fee": st.sampled_from([0.0, 1.0]),
        "slippage": st.sampled_from([0.0, 0.0005]),
        "lot_size": st.sampled_from([0.0, 0.1, 1.0]),
        "leverage": st.sampled_from([1.0, 2.0]),
        "allow_short": st.booleans(),
        "execution": st.sampled_from(["next_open", "close"]),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), df=bars(), kw=SETTINGS)
def test_orders_match_reference(data, df, kw):
    orders = data.draw(order_lists(len(df)))
    px, params, ords, tgt, kind = _kernel(df, orders=orders, **kw)
    split = data.draw(st.lists(st.integers(1, len(df) - 1), max_size=3))
    eq, cash, pos, rec = _simulate(px, params, ords, tgt, kind, split)
    ref = reference_fills(
        *(as_float_list(df[c]) for c in ("open", "high", "low", "close")),
        orders=orders, init_cash=1000.0, **kw,
    )  # fmt: skip
    _compare(ref, eq, cash, pos, rec)
    # accounting identity at every bar
    np.testing.assert_allclose(eq, cash + pos * df["close"].to_numpy(), rtol=1e-12)
    if kw["leverage"] == 1.0 and not kw["allow_short"]:
        assert (cash >= -1e-9).all()


@settings(max_examples=100, deadline=None)
@given(data=st.data(), df=bars(), kw=SETTINGS, rebalance=st.booleans())
def test_targets_match_reference(data, df, kw, rebalance):
    n = len(df)
    lo = -1.0 if kw["allow_short"] else 0.0
    cell = st.one_of(st.just(math.nan), st.floats(lo, 1.0), st.just(1.0))
    raw = data.draw(st.lists(cell, min_size=n, max_size=n))
    kind = K_TARGET if rebalance else K_SIGNAL
    px, params, ords, tgt, kind = _kernel(df, targets=raw, kind=kind, **kw)
    eq, cash, pos, rec = _simulate(px, params, ords, tgt, kind)
    ref = reference_fills(
        *(as_float_list(df[c]) for c in ("open", "high", "low", "close")),
        targets=raw, target_kind="target" if rebalance else "signal", init_cash=1000.0, **kw,
    )  # fmt: skip
    _compare(ref, eq, cash, pos, rec)


@settings(max_examples=60, deadline=None)
@given(
    level=st.floats(1.0, 1e4),
    sizes=st.lists(st.floats(-20.0, 20.0), min_size=1, max_size=10),
    short=st.booleans(),
)
def test_zero_cost_round_trips_conserve_value(level, sizes, short):
    n = len(sizes) + 2
    df = pd.DataFrame({c: np.full(n, level) for c in ("open", "high", "low", "close")})
    orders = pd.DataFrame({"bar": range(len(sizes)), "size": sizes})
    orders.loc[len(orders)] = {"bar": len(sizes), "size": -math.inf if not short else 0.0}
    res = run(df, orders=orders, init_cash=1000.0, direction="both" if short else "long")
    np.testing.assert_allclose(res.equity.to_numpy(), 1000.0, rtol=1e-12)


def test_state_layout_is_exported():
    state = init_state_nb(3, 5.0)
    np.testing.assert_array_equal(state, init_state(3, 5.0))
    assert state.shape == (3, N_STATE)
    assert (state[:, 0] == 5.0).all()


@settings(max_examples=80, deadline=None)
@given(data=st.data(), df=bars(), kw=SETTINGS, every=st.integers(1, 6))
def test_stepper_with_submit_order_equals_vectorized(data, df, kw, every):
    """The sim-backend pattern: advance to a decision bar, submit, advance again."""
    n = len(df)
    decision_bars = list(range(0, n, every))
    orders = [o for o in data.draw(order_lists(n)) if o.bar in decision_bars]
    px, params, ords, tgt, kind = _kernel(df, orders=orders, **kw)
    eq, cash, pos, rec = _simulate(px, params, ords, tgt, kind)

    state = init_state_nb(1, 1000.0)
    out = [np.empty((n, 1)) for _ in range(3)]
    no_orders = tuple(np.empty(0, dtype=a.dtype) for a in ords)
    fills = []
    start = 0
    for t in decision_bars:
        buf = np.empty((4 * n + 2, N_REC))
        m = fill_range_nb(
            px.open, px.high, px.low, px.close, np.empty((0, 0)), K_SIGNAL, *no_orders,
            params, state, start, t + 1, *out, buf, np.empty((0, 0)),
        )  # fmt: skip
        fills.append(buf[:m])
        todays = [o for o in orders if o.bar == t]
        if todays:
            buf = np.empty((2, N_REC))
            m = submit_orders_nb(
                state, 0, t, px.close[t, 0],
                np.array([{"market": 0, "limit": 1, "stop": 2}[o.type] for o in todays]),
                *(np.array([getattr(o, f) for o in todays], dtype=float)
                  for f in ("size", "price", "stop_loss", "take_profit")),
                params, buf,
            )  # fmt: skip
            fills.append(buf[:m])
        start = t + 1
    buf = np.empty((4 * n + 2, N_REC))
    m = fill_range_nb(
        px.open, px.high, px.low, px.close, np.empty((0, 0)), K_SIGNAL, *no_orders,
        params, state, start, n, *out, buf, np.empty((0, 0)),
    )  # fmt: skip
    fills.append(buf[:m])
    np.testing.assert_array_equal(np.concatenate(fills), rec)
    assert state[0, 0] == cash[-1]
    assert state[0, 1] == pos[-1]
    if kw["execution"] == "next_open":
        np.testing.assert_array_equal(out[0][:, 0], eq)
