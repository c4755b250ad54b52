"""evaluate(): windows, baselines, resume, determinism and the LLM path (async, budget cap)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError, EvaluationError
from axon_lab.evaluate import (
    AgentSpec,
    EvalWindow,
    RandomAnalyst,
    _harness,
    buy_and_hold_equity,
    evaluate,
    make_windows,
)
from axon_lab.explain import ExplainStore
from axon_lab.llm import CostLedger, MeteredClient, PriceTable, ScriptedClient

CASH = 100_000.0
FEE = 0.001


def frame(symbol: str = "SYN", seed: int = 3, n: int = 200) -> pd.DataFrame:
    return make_synthetic(n, timeframe="1d", seed=seed, symbol=symbol)


# --------------------------------------------------------------------- random analyst for crashes
CRASH: dict[str, int | None] = {"at": None, "calls": 0}


class _CrashingRandom:
    """A RandomAnalyst that raises KeyboardInterrupt on its CRASH['at']-th call overall."""

    def __init__(self) -> None:
        self.inner = RandomAnalyst(rate=0.3, seed=11)
        self.name = self.inner.name

    def __call__(self, observation: Any) -> Any:
        CRASH["calls"] = int(CRASH["calls"] or 0) + 1
        if CRASH["at"] is not None and CRASH["calls"] == CRASH["at"]:
            raise KeyboardInterrupt  # what Ctrl-C does mid-step: the step is not recorded
        return self.inner(observation)


def crashing_factory() -> _CrashingRandom:
    return _CrashingRandom()


def test_windows_are_walk_forward_and_do_not_overlap() -> None:
    windows = make_windows("S", 200, n_windows=3, warmup=50, test=40)
    assert [(w.first, w.start, w.stop) for w in windows] == [
        (30, 80, 120),
        (70, 120, 160),
        (110, 160, 200),
    ]
    assert all(a.stop <= b.start for a, b in itertools.pairwise(windows))
    with pytest.raises(ConfigError, match="only 1 windows of 150 bars fit"):
        make_windows("S", 200, n_windows=2, warmup=50, test=150)


def test_agent_spec_refuses_what_the_evaluation_sets() -> None:
    with pytest.raises(ConfigError, match=r"\['fee_rate'\] are set by the evaluation"):
        AgentSpec(name="x", params={"fee_rate": 0.0})
    with pytest.raises(ConfigError, match="AgentSpec name 'a b'"):
        AgentSpec(name="a b")
    with pytest.raises(ConfigError, match="reserved for baselines"):
        evaluate(AgentSpec(name="flat"), frame(), store="sqlite://", progress=False)


def test_each_window_is_a_run_with_the_evaluation_in_its_config() -> None:
    with ExplainStore("sqlite://") as store:
        ev = evaluate(
            AgentSpec(name="rules"),
            frame(),
            n_windows=2,
            warmup=50,
            n_random=2,
            store=store,
            evaluation_id="ev-a",
            progress=False,
        )
        ids = {r.run_id for r in store.runs()}
        assert ids == {
            f"ev-a--{a}--SYN--w{i:02d}" for a in ("rules", "random-d0", "random-d1") for i in (0, 1)
        }
        info = store.get_run("ev-a--rules--SYN--w01")
        meta = info.config["evaluation"]
        assert (meta["id"], meta["window"], meta["symbol"], meta["role"]) == (
            "ev-a",
            1,
            "SYN",
            "agent",
        )
        assert meta["n_steps"] == ev.windows[1].n_steps == len(store.steps(info.run_id))
        # the first decision is at the close of the window's first decision bar
        full = frame()
        first_bar = full.index[ev.windows[1].start]
        assert pd.Timestamp(meta["start"]) == first_bar + pd.Timedelta(days=1)
    assert set(ev.agents) == {"rules", "buy_and_hold", "flat", "random"}
    assert (
        ev.results.groupby("agent").size()
        == pd.Series({"buy_and_hold": 2, "flat": 2, "random": 4, "rules": 2})
    ).all()


def test_buy_and_hold_baseline_equals_a_hand_computation() -> None:
    full = frame(n=160)
    w = make_windows("SYN", len(full), n_windows=1, warmup=60, test=50)[0]
    bars = full.iloc[w.start : w.stop]
    equity = buy_and_hold_equity(bars, cash=CASH, fee_rate=FEE)
    # by hand: decide on the first bar's close, buy everything the cash covers (fee included) at
    # the next bar's open, hold to the last close
    units = CASH / (bars["open"].iloc[1] * (1.0 + FEE))
    assert equity.iloc[0] == pytest.approx(CASH, rel=1e-12)
    assert equity.iloc[-1] == pytest.approx(units * bars["close"].iloc[-1], rel=1e-9)
    assert equity.iloc[5] == pytest.approx(units * bars["close"].iloc[5], rel=1e-9)
    with ExplainStore("sqlite://") as store:
        ev = evaluate(
            AgentSpec(name="rules"),
            full,
            n_windows=1,
            warmup=60,
            test=50,
            n_random=0,
            store=store,
            evaluation_id="bh",
            progress=False,
        )
    got = ev.results.set_index("agent").loc["buy_and_hold", "total_return"]
    assert got == pytest.approx(units * bars["close"].iloc[-1] / CASH - 1.0, rel=1e-9)
    assert ev.results.set_index("agent").loc["flat", "total_return"] == 0.0
    # the agent's equity is marked on the same closes as the baseline's
    assert list(ev.equity[("rules", w.label)].index) == [
        t + pd.Timedelta(days=1) for t in bars.index
    ]


def test_an_evaluation_is_deterministic_given_its_seed() -> None:
    def run(eval_id: str, seed: int) -> pd.DataFrame:
        with ExplainStore("sqlite://") as store:
            ev = evaluate(
                AgentSpec(name="rules"),
                [frame("AAA", 1), frame("BBB", 2)],
                n_windows=2,
                warmup=50,
                n_random=2,
                seed=seed,
                store=store,
                evaluation_id=eval_id,
                progress=False,
            )
        return ev.results.drop(columns=["run_id"])

    a, b = run("one", 7), run("two", 7)
    pd.testing.assert_frame_equal(a, b)
    c = run("three", 8)
    random_a = a[a["agent"] == "random"]["total_return"].to_numpy()
    random_c = c[c["agent"] == "random"]["total_return"].to_numpy()
    assert not np.array_equal(random_a, random_c)  # another seed, other random draws
    pd.testing.assert_frame_equal(a[a["agent"] == "rules"], c[c["agent"] == "rules"])


def test_random_baseline_trades_as_often_as_the_agent() -> None:
    analyst = RandomAnalyst(rate=0.25, seed=0)
    draws = analyst.rng.random(20_000)  # same generator, independent copy of its stream
    rate = float(np.mean(draws < 0.25))
    assert rate == pytest.approx(0.25, abs=0.01)
    with pytest.raises(ConfigError, match="rate must be in"):
        RandomAnalyst(rate=1.5, seed=0)


def test_resume_after_an_interrupt_skips_finished_runs_and_gives_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ev.db'}"
    spec = AgentSpec(name="rnd", analyst=crashing_factory, kind="cpu")
    kwargs: dict[str, Any] = {
        "n_windows": 3,
        "warmup": 50,
        "n_random": 1,
        "workers": 1,
        "progress": False,
    }
    CRASH.update(at=None, calls=0)
    clean = evaluate(spec, frame(), store=url, evaluation_id="clean", **kwargs)
    per_window = clean.windows[0].n_steps
    CRASH.update(at=per_window + 10, calls=0)  # Ctrl-C in the middle of the second window
    with pytest.raises(KeyboardInterrupt):
        evaluate(spec, frame(), store=url, evaluation_id="crash", **kwargs)
    with ExplainStore(url) as store:
        stored = {r.run_id: len(store.steps(r.run_id)) for r in store.runs() if "crash" in r.run_id}
    assert stored == {"crash--rnd--SYN--w00": per_window, "crash--rnd--SYN--w01": 9}

    built: list[str] = []
    original = _harness._make_loop

    def spy(task: Any, *args: Any, **kw: Any) -> Any:
        built.append(task.run_id)
        return original(task, *args, **kw)

    monkeypatch.setattr(_harness, "_make_loop", spy)
    CRASH.update(at=None, calls=0)
    resumed = evaluate(spec, frame(), store=url, evaluation_id="crash", **kwargs)
    assert "crash--rnd--SYN--w00" not in built  # finished: skipped
    assert "crash--rnd--SYN--w01" in built  # unfinished: resumed
    pd.testing.assert_frame_equal(
        resumed.results.drop(columns=["run_id"]), clean.results.drop(columns=["run_id"])
    )
    with ExplainStore(url) as store:
        assert len(store.steps("crash--rnd--SYN--w01")) == per_window


def _answer(request: Any) -> str:
    return json.dumps(
        {
            "thought": "scripted",
            "market_assessment": "range",
            "risk_assessment": "medium",
            "confidence": 0.4,
            "action": "hold",
            "reason": "nothing to do",
        }
    )


def scripted_factory() -> ScriptedClient:
    return ScriptedClient(_answer, model="scripted-model")


def test_llm_agents_run_concurrently_in_one_process_with_one_shared_client(
    tmp_path: Path,
) -> None:
    made: list[Any] = []

    def factory() -> Any:
        made.append(scripted_factory())
        return made[-1]

    spec = AgentSpec(name="llm", analyst=factory)
    assert spec.kind == "llm"
    ev = evaluate(
        spec,
        frame(),
        n_windows=3,
        warmup=50,
        n_random=1,
        concurrency=3,
        store=f"sqlite:///{tmp_path / 'ev.db'}",
        evaluation_id="llm",
        workers=1,
        progress=False,
    )
    assert len(made) == 1  # one client (cache, ledger) for every window
    assert (ev.results.loc[ev.results["agent"] == "llm", "n_fills"] == 0).all()
    # the agent never traded, so its random twin never trades either
    assert (ev.results.loc[ev.results["agent"] == "random", "trade_rate"] == 0).all()


def budget_factory() -> Any:
    ledger = CostLedger(PriceTable({"scripted-model": (1000.0, 1000.0)}), budget=0.05)
    return MeteredClient(scripted_factory(), ledger)


def test_a_budget_cap_stops_the_whole_evaluation_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ev.db'}"
    spec = AgentSpec(name="llm", analyst=budget_factory)
    with pytest.raises(EvaluationError, match=r"stopped: the LLM budget is spent.*--resume bud"):
        evaluate(
            spec, frame(), n_windows=2, warmup=50, store=url, evaluation_id="bud", progress=False
        )
    with ExplainStore(url) as store:
        for run in store.runs():
            assert store.check_run(run.run_id) == []  # what was recorded is whole


def test_bad_data_is_refused_with_the_fix() -> None:
    no_symbol = frame().copy()
    no_symbol.attrs = {}
    with pytest.raises(ConfigError, match=r"attrs\['symbol'\]"):
        evaluate(AgentSpec(name="rules"), no_symbol, store="sqlite://", progress=False)
    with pytest.raises(ConfigError, match="neither a file nor a bundled sample"):
        evaluate(AgentSpec(name="rules"), "no-such-sample", store="sqlite://", progress=False)
    w = EvalWindow(symbol="S", index=0, first=0, start=10, stop=30)
    assert (w.n_steps, w.label) == (20, "S/w00")


def test_cpu_windows_run_on_a_given_executor(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path / 'ev.db'}"
    common: dict[str, Any] = {"n_windows": 2, "warmup": 50, "n_random": 1, "progress": False}
    with ThreadPoolExecutor(max_workers=2) as pool:
        pooled = evaluate(
            AgentSpec(name="rules"),
            frame(),
            store=url,
            evaluation_id="pool",
            executor=pool,
            **common,
        )
        assert not pool._shutdown  # the caller's executor is left open
    local = evaluate(
        AgentSpec(name="rules"), frame(), store=url, evaluation_id="local", workers=1, **common
    )
    pd.testing.assert_frame_equal(
        pooled.results.drop(columns=["run_id"]), local.results.drop(columns=["run_id"])
    )
    with pytest.raises(ConfigError, match="cannot reach an in-memory store"):
        evaluate(AgentSpec(name="rules"), frame(), store="sqlite://", executor=pool, **common)


def test_a_killed_evaluation_resumes_to_identical_results(tmp_path: Path) -> None:
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import _killed_evaluation as killed

    url = f"sqlite:///{tmp_path / 'ev.db'}"
    clean = killed.run(url, "clean")
    per_window = clean.windows[0].n_steps
    script = Path(__file__).with_name("_killed_evaluation.py")
    proc = subprocess.run(
        [sys.executable, str(script), url, "killed", str(per_window + 7)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == -9, proc.stderr  # SIGKILL mid-step, in the second window
    with ExplainStore(url) as store:
        stored = {
            r.run_id: len(store.steps(r.run_id)) for r in store.runs() if "killed" in r.run_id
        }
    assert stored == {"killed--rnd--KIL--w00": per_window, "killed--rnd--KIL--w01": 6}
    resumed = killed.run(url, "killed")  # killing_factory never kills here (KILL_AT is 0)
    pd.testing.assert_frame_equal(
        resumed.results.drop(columns=["run_id"]), clean.results.drop(columns=["run_id"])
    )
