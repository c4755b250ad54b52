"""The portfolio loop: point in time, recorded every step, fail-closed on stage errors."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from axon_lab.data import Universe, UniverseView, make_synthetic_universe
from axon_lab.errors import ConfigError, RecordError, StageError
from axon_lab.explain import read_blobs
from axon_lab.portfolio import RankingAnalyst, make_portfolio_agent, weights_to_orders
from axon_lab.records import (
    Action,
    Decision,
    PortfolioDecision,
    PortfolioObservation,
    PortfolioSnapshot,
)
from axon_lab.risk import PortfolioLimits

T0 = datetime(2024, 1, 2, tzinfo=UTC)


def _changed_after(uni: Universe, row: int) -> Universe:
    """The same universe with every bar after ``row`` scaled (the future rewritten)."""
    arrays = {}
    for name in ("open", "high", "low", "close", "volume"):
        a = getattr(uni, name).copy()
        a[row + 1 :] *= 1.7
        arrays[name] = a
    return Universe(symbols=uni.symbols, index=uni.index, timeframe=uni.timeframe,
                    reports=uni.reports, **arrays)  # fmt: skip


def test_rewriting_the_future_leaves_every_earlier_step_unchanged() -> None:
    uni = make_synthetic_universe(8, 120, seed=2)
    cut = 80
    runs = []
    for data in (uni, _changed_after(uni, cut)):
        loop = make_portfolio_agent(data, analyst=RankingAnalyst(top_k=3), run_id="pit", fees=0.001)
        loop.run(cut + 1)  # steps 0..cut decide after rows 0..cut
        runs.append(loop.store.steps("pit"))
        loop.close()
    a, b = runs
    assert [s.observation_digest for s in a] == [s.observation_digest for s in b]
    assert [s.portfolio for s in a] == [s.portfolio for s in b]


def test_every_step_is_recorded_with_its_observation() -> None:
    uni = make_synthetic_universe(5, 60, seed=4, listings=False)
    loop = make_portfolio_agent(uni, run_id="rec")
    loop.run()
    steps = loop.store.steps("rec")
    assert [s.step for s in steps] == list(range(60))
    last = steps[-1]
    text = read_blobs(loop.store, "rec", [last.observation_digest])[last.observation_digest]
    obs = PortfolioObservation.from_json(text)
    assert obs.symbols == uni.symbols
    assert obs.timestamp == last.timestamp
    assert obs.bars["close"] == tuple(uni.close[-1].tolist())
    assert obs == loop.last_observation
    loop.close()


def test_a_halted_symbol_is_observed_as_not_tradable() -> None:
    uni = make_synthetic_universe(6, 100, seed=3, listings=True)
    view = UniverseView(uni)
    loop = make_portfolio_agent(view, run_id="halt")
    j = uni.symbols.index("S002")
    halted = int(np.flatnonzero(~uni.has_bar[:, j] & (np.arange(100) > 30))[0])
    loop.run(halted + 1)
    obs = loop.last_observation
    assert obs is not None
    assert obs.tradable[j] is False
    assert obs.bars["close"][j] is None
    assert obs.marks[j] == uni.close[halted - 1, j]
    late = uni.symbols.index("S004")  # lists at row 25
    assert loop.store.steps("halt")[0].portfolio is not None
    first = loop.store.steps("halt")[0]
    text = read_blobs(loop.store, "halt", [first.observation_digest])[first.observation_digest]
    assert PortfolioObservation.from_json(text).marks[late] is None
    loop.close()


class _Boom:
    def __call__(self, obs: PortfolioObservation) -> PortfolioDecision:
        raise RuntimeError("analyst exploded")


def test_a_failing_stage_is_recorded_and_nothing_trades() -> None:
    uni = make_synthetic_universe(3, 20, seed=1)
    loop = make_portfolio_agent(uni, analyst=_Boom(), run_id="boom")
    with pytest.raises(StageError, match="failed in analyze: RuntimeError: analyst exploded"):
        loop.step()
    rec = loop.store.steps("boom")[0]
    assert rec.failed_stage == "analyze"
    assert rec.portfolio.n_orders == 0
    loop.close()
    carry = make_portfolio_agent(uni, analyst=_Boom(), run_id="carry", on_error="abstain")
    carry.run()
    assert len(carry.store.steps("carry")) == 20
    assert not carry.backend.fills
    carry.close()


def test_bad_inputs_are_refused() -> None:
    uni = make_synthetic_universe(3, 20, seed=1)
    with pytest.raises(ConfigError, match="must be a Universe or a UniverseView"):
        make_portfolio_agent({"A": 1})  # type: ignore[arg-type]
    loop = make_portfolio_agent(uni, run_id="x")
    loop.run()
    with pytest.raises(ConfigError, match="no decision time left"):
        loop.step()
    loop.close()


def test_the_ranking_analyst_holds_the_top_scores() -> None:
    uni = make_synthetic_universe(30, 90, seed=6)
    loop = make_portfolio_agent(uni, analyst=RankingAnalyst(top_k=5, invested=0.8), run_id="rk")
    loop.run(60)
    obs = loop.last_observation
    assert obs is not None
    decision = loop.last_record.portfolio.decision
    # oracle: sort (score, column) in plain Python
    scored = [(s, -j, sym) for j, (sym, s, ok) in
              enumerate(zip(obs.symbols, obs.features["trend"], obs.tradable, strict=True))
              if ok and s is not None and s >= 0.0]  # fmt: skip
    top = [sym for _, _, sym in sorted(scored, reverse=True)[:5]]
    assert set(decision.target_weights) == set(top)
    assert math.isclose(sum(decision.target_weights.values()), 0.8)
    assert decision.source.value == "rules"
    loop.close()


def test_weights_to_orders_band_lot_and_decisions() -> None:
    kw = {"symbols": ("A", "B", "C"), "positions": np.array([10.0, 5.0, 0.0]),
              "marks": np.array([10.0, 20.0, np.nan]), "tradable": np.array([True, True, True]),
              "equity": 1000.0}  # fmt: skip
    d = PortfolioDecision(timestamp=T0, target_weights={"A": 0.104, "C": 0.5}, source="rules")
    # A: 0.4 units (4 of notional) is under the band; B closes out (0 weight) despite the band;
    # C has no mark: no order
    assert weights_to_orders(d, band=0.01, **kw).tolist() == [0.0, -5.0, 0.0]
    assert weights_to_orders(d, lot_size=1.0, **kw).tolist() == [0.0, -5.0, 0.0]
    per = PortfolioDecision(
        timestamp=T0, source="rules",
        decisions=(Decision(action=Action.BUY, symbol="A", quantity=2.0, confidence=0.9,
                            source="rules"),
                   Decision(action=Action.SELL, symbol="B", quantity=1.0, confidence=0.9,
                            source="rules")),
    )  # fmt: skip
    assert weights_to_orders(per, **kw).tolist() == [2.0, -1.0, 0.0]
    unknown = PortfolioDecision(timestamp=T0, target_weights={"Z": 0.1}, source="rules")
    with pytest.raises(ConfigError, match=r"outside the universe: \['Z'\]"):
        weights_to_orders(unknown, **kw)


def _snap() -> PortfolioSnapshot:
    return PortfolioSnapshot.build(timestamp=T0, cash=100.0)


def test_portfolio_records_validate_their_columns() -> None:
    bars = dict.fromkeys(("open", "high", "low", "close", "volume"), (1.0, None))
    obs = PortfolioObservation(timestamp=T0, timeframe="1d", symbols=("A", "B"),
                               tradable=(True, False), bars=bars, marks=(1.0, 2.0),
                               features={"trend": (0.5, None)}, weights=(0.0, 0.0),
                               portfolio=_snap())  # fmt: skip
    assert PortfolioObservation.from_json(obs.to_json()) == obs
    assert obs.table().loc["B", "trend"] is None or math.isnan(obs.table().loc["B", "trend"])
    with pytest.raises(RecordError, match="marks has 1 values for 2 symbols"):
        obs.replace(marks=(1.0,))
    with pytest.raises(RecordError, match="'B' is tradable but has no bar"):
        obs.replace(tradable=(True, True))
    with pytest.raises(RecordError, match="symbols repeat"):
        obs.replace(symbols=("A", "A"))
    with pytest.raises(RecordError, match="exactly one of target_weights and decisions"):
        PortfolioDecision(timestamp=T0, source="rules")
    with pytest.raises(RecordError, match="target_weights"):
        PortfolioDecision(timestamp=T0, source="rules", target_weights={"A": math.nan})


def test_limits_reject_what_the_analyst_overweights() -> None:
    uni = make_synthetic_universe(10, 120, seed=11)
    loop0 = make_portfolio_agent(uni, analyst=RankingAnalyst(top_k=3, invested=0.9), run_id="f")
    loop0.run()
    # the symbol the free run held most often gets a tight cap
    held = [sym for s in loop0.store.steps("f") for sym in s.portfolio.weights]
    capped = max(set(held), key=held.count)
    loop0.close()
    limits = PortfolioLimits(max_weight=0.5, symbol_max_weight={capped: 0.05})
    loop = make_portfolio_agent(uni, analyst=RankingAnalyst(top_k=3, invested=0.9),
                                limits=limits, run_id="lim")  # fmt: skip
    loop.run()
    steps = loop.store.steps("lim")
    rejected = [v for s in steps for v in s.rejections]
    assert rejected
    assert {(v.rule, v.client_order_id) for v in rejected} == {("symbol_weight", capped)}
    assert all(s.portfolio.weights.get(capped, 0.0) == 0.0 for s in steps)
    assert sum(s.portfolio.n_orders for s in steps) > 0  # the others still traded
    assert sum(s.portfolio.n_rejected for s in steps) == len(rejected)
    loop.close()


def test_per_symbol_limit_orders_are_refused_not_changed() -> None:
    per = PortfolioDecision(
        timestamp=T0,
        source="rules",
        decisions=(
            Decision(action=Action.BUY, symbol="A", quantity=2.0, order_type="limit",
                     price=9.0, confidence=0.9, source="rules"),
        ),
    )  # fmt: skip
    with pytest.raises(ConfigError, match="fills market orders only"):
        weights_to_orders(per, symbols=("A",), positions=np.zeros(1), marks=np.array([10.0]),
                          tradable=np.array([True]), equity=100.0)  # fmt: skip


def test_the_one_symbol_observation_reader_points_to_the_portfolio_one() -> None:
    from axon_lab.explain import observation
    from axon_lab.portfolio import portfolio_observation

    loop = make_portfolio_agent(make_synthetic_universe(3, 10, seed=1), run_id="o")
    loop.run()
    with pytest.raises(ConfigError, match="is a portfolio step"):
        observation(loop.store, "o", 3)
    assert portfolio_observation(loop.store, "o", 3).symbols == ("S000", "S001", "S002")
    loop.close()


def test_the_snapshot_carries_each_positions_average_entry_price() -> None:
    uni = make_synthetic_universe(6, 150, seed=13)
    loop = make_portfolio_agent(uni, analyst=RankingAnalyst(top_k=3), fees=0.001, run_id="avg")
    loop.run()
    # the average entry price of what is held, from the fills alone: buys that add to a long
    # position average in, sells reduce it at the same average, a flat position forgets it
    qty: dict[str, float] = {}
    cost: dict[str, float] = {}
    for f in loop.backend.fills:
        q = qty.get(f.symbol, 0.0)
        if f.side.value == "buy":
            cost[f.symbol] = cost.get(f.symbol, 0.0) + f.quantity * f.price
            qty[f.symbol] = q + f.quantity
        else:
            left = q - f.quantity
            cost[f.symbol] = 0.0 if abs(left) < 1e-9 else cost[f.symbol] * left / q
            qty[f.symbol] = left
    snap = loop.backend.snapshot(loop.last_record.timestamp)
    assert snap.positions
    for sym, pos in snap.positions.items():
        assert math.isclose(pos.quantity, qty[sym], rel_tol=1e-9)
        assert math.isclose(pos.avg_price, cost[sym] / qty[sym], rel_tol=1e-9)
    assert math.isclose(snap.equity, loop.last_record.equity, rel_tol=1e-12)
    loop.close()
