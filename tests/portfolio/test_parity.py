"""The portfolio loop and the vectorized engine on one universe: identical fills (issue 22)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axon_lab import backtest
from axon_lab.data import UniverseView, make_synthetic_universe
from axon_lab.portfolio import PortfolioSimBackend, RankingAnalyst, make_portfolio_agent
from axon_lab.records import PortfolioDecision, PortfolioObservation
from axon_lab.risk import PortfolioLimits


def _engine_run(loop) -> backtest.BacktestResult:
    """The engine, given the order stream the loop's backend sent to the kernel."""
    be = loop.backend
    log = be.order_log
    sent = log[log["status"] == "sent"][["bar", "col", "size"]]
    return backtest.run(
        be.kernel_prices(), orders=sent, init_cash=be.sleeve_cash,
        fees=be.settings["fees"], slippage_bps=be.settings["slippage_bps"], execution="next_open",
    )  # fmt: skip


def _assert_same_fills(loop, res: backtest.BacktestResult) -> None:
    be = loop.backend
    eng = res.orders
    fills = be.fills
    assert len(fills) == len(eng) > 0
    syms = be.universe.symbols
    got = pd.DataFrame(
        {
            "col": [syms.index(f.symbol) for f in fills],
            "bar": [be.universe.index.get_loc(pd.Timestamp(f.timestamp)) for f in fills],
            "size": [f.quantity if f.side.value == "buy" else -f.quantity for f in fills],
            "price": [f.price for f in fills],
            "fee": [f.fee for f in fills],
        }
    ).sort_values(["bar", "col"], kind="stable", ignore_index=True)
    want = eng.assign(col=eng["col"].astype(int))[["col", "bar", "size", "price", "fee"]]
    want = want.sort_values(["bar", "col"], kind="stable", ignore_index=True)
    # bit for bit: the same kernel, the same inputs
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_dtype=False)
    # the same positions, and the account's equity is the sleeves' sum
    last = be.rows_done - 1
    np.testing.assert_array_equal(res.positions.to_numpy()[last], be.positions)
    sleeves = res.equity.to_numpy()[last] - be.sleeve_cash
    marks = np.nan_to_num(be.view.marks[last], nan=0.0)
    prices_used = res.positions.to_numpy()[last] * (
        be.kernel_prices()["close"].to_numpy()[last] - marks
    )
    assert math.isclose(
        be.init_cash + math.fsum(sleeves.tolist()) - float(prices_used.sum()),
        be.equity(),
        rel_tol=0,
        abs_tol=1e-6,
    )


def test_loop_and_engine_fill_a_universe_identically() -> None:
    uni = make_synthetic_universe(12, 160, seed=21)
    loop = make_portfolio_agent(
        uni, analyst=RankingAnalyst(top_k=4), cash=50_000.0, fees=0.001, slippage_bps=5.0,
        run_id="parity", band=0.01,
    )  # fmt: skip
    loop.run()
    _assert_same_fills(loop, _engine_run(loop))
    # every step was recorded, with its fills, in the explain store
    steps = loop.store.steps("parity")
    assert len(steps) == uni.n_bars
    assert sum(len(s.fills) for s in steps) == len(loop.backend.fills)
    assert math.isclose(steps[-1].equity, loop.backend.equity(), rel_tol=0, abs_tol=1e-9)
    loop.close()


class _EqualWeight:
    """Every tradable symbol at the same weight, every step: orders before halts for sure."""

    def __call__(self, obs: PortfolioObservation) -> PortfolioDecision:
        live = [s for s, ok in zip(obs.symbols, obs.tradable, strict=True) if ok]
        w = 0.9 / max(len(live), 1)
        return PortfolioDecision(timestamp=obs.timestamp, target_weights=dict.fromkeys(live, w),
                                 source="rules")  # fmt: skip


def test_parity_holds_through_halts_listings_and_delistings() -> None:
    uni = make_synthetic_universe(15, 120, seed=5, listings=True)
    loop = make_portfolio_agent(
        uni, analyst=_EqualWeight(), cash=20_000.0, fees=0.0005, run_id="halts",
        limits=PortfolioLimits(max_gross=1.0, fee_rate=0.0005),
    )  # fmt: skip
    loop.run()
    log = loop.backend.order_log
    # orders placed the day before a halt were cancelled, never filled at a stale price
    assert (log["status"] == "cancelled_no_bar").sum() > 0
    steps = loop.store.steps("halts")
    assert sum(s.portfolio.n_cancelled for s in steps) == (log["status"] != "sent").sum()
    has = uni.has_bar
    index = list(uni.index)
    for f in loop.backend.fills:
        row = index.index(pd.Timestamp(f.timestamp))
        assert has[row, uni.symbols.index(f.symbol)], f"{f.symbol} filled without a bar"
    _assert_same_fills(loop, _engine_run(loop))
    loop.close()


@pytest.mark.parametrize("n_symbols", [1, 3])
def test_pnl_by_symbol_sums_to_the_step_pnl(n_symbols: int) -> None:
    uni = make_synthetic_universe(n_symbols, 90, seed=8)
    loop = make_portfolio_agent(uni, analyst=RankingAnalyst(top_k=2, min_score=-9.0),
                                fees=0.001, run_id="pnl")  # fmt: skip
    loop.run()
    steps = loop.store.steps("pnl")
    traded = 0
    for s in steps:
        assert s.portfolio is not None
        total = math.fsum(s.portfolio.pnl_by_symbol.values())
        assert math.isclose(total, s.pnl, rel_tol=1e-9, abs_tol=1e-6)
        traded += s.portfolio.n_orders
    assert traded > 0
    loop.close()


# ---------------------------------------------------------------------------- random order streams


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_symbols=st.integers(1, 6),
    fees=st.sampled_from([0.0, 0.001]),
    slippage=st.sampled_from([0.0, 10.0]),
    every=st.integers(1, 3),
)
def test_any_order_stream_fills_as_the_engine_fills_it(
    seed: int, n_symbols: int, fees: float, slippage: float, every: int
) -> None:
    uni = make_synthetic_universe(n_symbols, 60, seed=seed, listings=True)
    view = UniverseView(uni, fast=2, slow=5)
    be = PortfolioSimBackend(view, cash=10_000.0, fees=fees, slippage_bps=slippage)
    rng = np.random.default_rng(seed)
    for row in range(1, 60, every):
        be.advance_to_row(row)
        sizes = np.where(rng.random(n_symbols) < 0.4, rng.normal(0, 20, n_symbols), 0.0)
        # only symbols with a bar now may be ordered (the loop's rule), sells may exceed holdings
        be.submit(np.where(view.has_bar[row - 1], np.round(sizes, 3), 0.0))
    be.advance_to_row(60)
    log = be.order_log
    sent = log[log["status"] == "sent"][["bar", "col", "size"]]
    res = backtest.run(be.kernel_prices(), orders=sent, init_cash=be.sleeve_cash, fees=fees,
                       slippage_bps=slippage)  # fmt: skip
    eng = res.orders
    got = sorted(
        (uni.symbols.index(f.symbol), uni.index.get_loc(pd.Timestamp(f.timestamp)),
         f.quantity if f.side.value == "buy" else -f.quantity, f.price, f.fee)
        for f in be.fills
    )  # fmt: skip
    want = sorted(zip(eng["col"].astype(int), eng["bar"], eng["size"], eng["price"], eng["fee"],
                      strict=True))  # fmt: skip
    assert got == [tuple(w) for w in want]
    np.testing.assert_array_equal(res.positions.to_numpy()[-1], be.positions)
