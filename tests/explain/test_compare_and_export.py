"""Runs compared, diffed and exported, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import math

import pandas as pd
import polars as pl
import pytest

from axon_lab.data import make_synthetic
from axon_lab.explain import (
    COMPARISON_COLUMNS,
    ExplainStore,
    compare_runs,
    diff_runs,
    export_parquet,
    export_tables,
    get_comparison_info,
    plot_comparison,
)
from axon_lab.oader import make_agent
from axon_lab.risk import RiskLimits

DATA = make_synthetic(400, timeframe="1h", start="2024-01-01", seed=9, symbol="SYN")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request):
    if request.param == "sqlite":
        the_store = ExplainStore("sqlite://")
    else:
        the_store = ExplainStore(request.getfixturevalue("postgres_url"))
    yield the_store
    the_store.close()


def _run(store, run_id, n=200, **kw):
    loop = make_agent(DATA, store=store, run_id=run_id, progress=False, **kw)
    loop.run(n)
    return loop


def test_compare_runs_matches_a_hand_computation(store):
    loop = _run(store, "a")
    _run(store, "b", max_iterations=3, limits=RiskLimits(max_order_notional=5_000.0))
    table = compare_runs(store, ["a", "b"], view=loop.view)
    assert list(table.columns) == list(COMPARISON_COLUMNS)
    steps = store.steps("a")
    start = steps[0].equity - steps[0].pnl
    assert table.loc["a", "total_return"] == pytest.approx(steps[-1].equity / start - 1)
    fills = store.fills("a")
    assert table.loc["a", "fees"] == pytest.approx(math.fsum(f.fee for f in fills))
    assert table.loc["a", "fills"] == len(fills)
    rejections = sum(len(s.rejections) for s in store.steps("b"))
    assert table.loc["b", "rejections"] == rejections
    # buy and hold: the close complete at the last step over the close complete at the first
    first = loop.view.as_of(steps[0].timestamp, "SYN")["close"].iloc[-1]
    last = loop.view.as_of(steps[-1].timestamp, "SYN")["close"].iloc[-1]
    assert table.loc["buy & hold", "total_return"] == pytest.approx(last / first - 1)
    info = get_comparison_info(store, ["a", "b"], view=loop.view)
    assert info.names == ["a", "b", "buy & hold"]
    assert [len(y) for y in info.equity] == [200, 200, 200]
    assert len(plot_comparison(info).data) == 3


def test_diff_runs_names_the_first_divergence(store):
    _run(store, "base")
    _run(store, "same")
    _run(store, "bigger", risk_fraction=0.03)
    assert diff_runs(store, "base", "same") is None
    d = diff_runs(store, "base", "bigger")
    assert d is not None
    assert d.where == "decision"
    first = next(
        x.step
        for x, y in zip(store.steps("base"), store.steps("bigger"), strict=True)
        if x.decision != y.decision
    )
    assert d.step == first
    _run(store, "short", n=120)
    cut = diff_runs(store, "base", "short")
    assert (cut.where, cut.step) == ("length", 120)


def test_export_tables_hold_every_record_once(store, tmp_path):
    _run(store, "e1", n=150)
    _run(store, "e2", n=100, risk_fraction=0.02)
    tables = export_tables(store, ["e1", "e2"])
    steps = store.steps("e1") + store.steps("e2")
    assert len(tables["steps"]) == 250
    assert len(tables["verdicts"]) == sum(len(s.verdicts) for s in steps)
    assert len(tables["orders"]) == sum(len(s.acks) for s in steps)
    assert len(tables["fills"]) == sum(len(s.fills) for s in steps)
    assert set(tables["steps"]["run_id"]) == {"e1", "e2"}
    fills = tables["fills"]
    assert fills["quantity"].sum() == pytest.approx(sum(f.quantity for s in steps for f in s.fills))
    verdicts = tables["verdicts"]
    text = verdicts[verdicts["observed_text"].notna()]
    assert text["observed"].isna().all()  # a text value never lands in the number column
    polars_tables = export_tables(store, ["e1", "e2"], engine="polars")
    assert isinstance(polars_tables["steps"], pl.DataFrame)
    assert polars_tables["steps"].height == 250
    paths = export_parquet(store, ["e1", "e2"], tmp_path / "out")
    back = pd.read_parquet(paths["fills"])
    assert len(back) == len(fills)
    assert back["price"].tolist() == fills["price"].tolist()


def test_export_refuses_bad_arguments(store, tmp_path):
    from axon_lab.errors import ConfigError

    _run(store, "x", n=10)
    with pytest.raises(ConfigError, match="engine must be"):
        export_tables(store, "x", engine="spark")
    with pytest.raises(ConfigError, match="at least one run id"):
        export_tables(store, [])
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        export_parquet(store, "x", tmp_path / "file")
