"""Memory: what is retrieved, when, and from which file; checked against a brute-force oracle.

The oracle re-derives every retrieval from the raw frame with plain numpy: the embedding
(``window`` log returns over their std, unit length), which contexts were eligible (outcome
complete at the step's time), the top ``k`` by inner product, the forward return and the action
and equity recorded for the step the context was taken at.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError, LookAheadError, StageError, StoreError
from axon_lab.explain import ExplainStore, observation
from axon_lab.memory import Memory, VectorIndex
from axon_lab.oader import make_agent, render_observation
from axon_lab.widgets import StepDetail

WINDOW, K, H = 16, 4, 5


def _frame(n: int = 260, seed: int = 4, start: str = "2024-01-01") -> pd.DataFrame:
    return make_synthetic(n, timeframe="1h", start=start, seed=seed, symbol="SYN")


def _oracle_vector(closes: np.ndarray) -> np.ndarray | None:
    if closes.size < WINDOW + 1:
        return None
    r = np.log(closes[-WINDOW:] / closes[-WINDOW - 1 : -1])
    z = r / r.std()
    return z / np.sqrt(np.sum(z * z))


def test_each_step_retrieves_the_k_nearest_contexts_whose_outcome_was_known() -> None:
    frame = _frame()
    with ExplainStore("sqlite://") as store:
        loop = make_agent(
            frame, store=store, run_id="m", progress=False, memory=Memory("m", k=K, horizon=H)
        )
        loop.run()
        steps = store.steps("m")
        seen = {s.step: observation(store, "m", s.step) for s in steps}
    closes = frame["close"].to_numpy()
    times = [s.timestamp for s in steps]
    bar = timedelta(hours=1)
    # decision time t completes the bar opening at t - 1h: the closes known at t
    known = [closes[: frame.index.get_loc(pd.Timestamp(t) - bar) + 1] for t in times]
    vectors = [_oracle_vector(c) for c in known]
    checked = 0
    for j, step in enumerate(steps):
        got = seen[step.step].similar_contexts
        eligible = [
            i for i in range(j) if vectors[i] is not None and times[i] + H * bar <= times[j]
        ]
        if vectors[j] is None or not eligible:
            assert got == ()
            continue
        sims = np.array([float(vectors[i] @ vectors[j]) for i in eligible])
        order = sorted(range(len(eligible)), key=lambda a: (-sims[a], a))[:K]
        want = [eligible[a] for a in order]
        assert [c.timestamp for c in got] == [times[i] for i in want]
        assert [c.similarity for c in got] == pytest.approx([sims[a] for a in order], abs=1e-5)
        for c, i in zip(got, want, strict=True):
            assert c.outcome_at == times[i] + H * bar <= step.timestamp
            start_close = known[i][-1]
            end_close = closes[len(known[i]) - 1 + H]
            assert c.forward_return == pytest.approx(end_close / start_close - 1.0)
            assert c.action == steps[i].decision.action
            settled_at = times.index(times[i] + H * bar)  # every=1: settled exactly then
            equity_then = seen[steps[settled_at].step].portfolio.equity
            assert c.result == pytest.approx(equity_then / steps[i].equity - 1.0)
        checked += 1
    assert checked > 100


def test_the_prompt_and_the_step_widget_show_the_retrieved_contexts() -> None:
    with ExplainStore("sqlite://") as store:
        loop = make_agent(
            _frame(120), store=store, run_id="p", progress=False, memory=Memory("p", k=2, horizon=3)
        )
        loop.run()
        last = store.steps("p")[-1]
        obs = observation(store, "p", last.step)
        text = render_observation(obs)
        assert "== Similar past contexts" in text
        first = obs.similar_contexts[0]
        assert f"(similarity {first.similarity:.3f})" in text
        view = StepDetail(store)
        view.add([last])
        assert "Similar past contexts: 2" in view.html.value
        assert f"{first.similarity:.3f}" in view.html.value


def test_a_memory_is_saved_beside_the_store_and_reused_on_a_later_period(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs' / 'axon.db'}"
    early, late = _frame(200, seed=1), _frame(150, seed=2, start="2024-03-01")
    loop = make_agent(
        early, store=url, run_id="a", progress=False, memory=Memory("shared", k=3, horizon=H)
    )
    loop.run()
    loop.close()
    saved = tmp_path / "runs" / "memory" / "shared.npz"
    assert saved.is_file()
    reused = Memory("shared", k=3, horizon=H)
    loop = make_agent(late, store=url, run_id="b", progress=False, memory=reused)
    assert reused.loaded > 150
    assert loop.config["memory"]["entries_loaded"] == reused.loaded
    loop.run(30)
    obs = observation(loop.store, "b", 20)
    # the first steps of the later period already retrieve contexts of the earlier one
    assert obs.similar_contexts
    assert all(c.outcome_at < pd.Timestamp("2024-03-01", tz="UTC") for c in obs.similar_contexts)
    loop.close()


def test_a_memory_built_on_a_later_period_is_refused(tmp_path: Path) -> None:
    late, early = _frame(120, seed=1, start="2024-06-01"), _frame(120, seed=2)
    built = Memory("later", horizon=H, directory=tmp_path)
    make_agent(late, store="sqlite://", run_id="x", progress=False, memory=built).run()
    assert (tmp_path / "later.npz").is_file()
    loop = make_agent(
        early,
        store="sqlite://",
        run_id="y",
        progress=False,
        memory=Memory("later", horizon=H, directory=tmp_path),
    )
    with pytest.raises(StageError, match="built on a later period") as info:
        loop.run(40)
    assert isinstance(info.value.__cause__, LookAheadError)
    assert info.value.step == 0  # refused at the first step, before any retrieval


def test_a_file_of_another_embedder_or_horizon_is_refused(tmp_path: Path) -> None:
    built = Memory("m", horizon=H, directory=tmp_path)
    make_agent(_frame(80), store="sqlite://", run_id="x", progress=False, memory=built).run()
    with pytest.raises(ConfigError, match="was built with"):
        Memory("m", horizon=H + 1, directory=tmp_path)
    Memory("m", horizon=H + 1, directory=tmp_path, load=False)  # a fresh one may replace it
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(StoreError, match="cannot be read"):
        Memory("bad", directory=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "../up"}, "must be 1-100 letters"),
        ({"name": "ok", "k": 0}, "k must be an int >= 1"),
        ({"name": "ok", "horizon": 1.5}, "horizon must be an int"),
        ({"name": "ok", "embedder": "words"}, "embedder must be 'features', 'text'"),
        ({"name": "ok", "backend": "faiss"}, "backend must be 'auto', 'numpy' or 'usearch'"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Memory(**kwargs)  # type: ignore[arg-type]


def test_usearch_finds_what_exact_search_finds() -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3_000, 16)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    exact, approx = VectorIndex(16, backend="numpy"), VectorIndex(16, backend="usearch")
    exact.add(data)
    approx.add(data)
    assert approx.uses_usearch
    assert not exact.uses_usearch
    hits = 0
    for q in data[:50] + 0.1 * rng.standard_normal((50, 16)).astype(np.float32):
        a, _ = exact.search(q, 5)
        b, sims = approx.search(q, 5)
        hits += len(set(a.tolist()) & set(b.tolist()))
        brute = data @ (q / 1.0)
        assert sims == pytest.approx(np.sort(brute[b])[::-1], abs=1e-4)
    assert hits >= 0.9 * 250  # recall@5 of the approximate index


def test_auto_switches_to_usearch_and_persists_its_index(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    index = VectorIndex(8, backend="auto", usearch_from=100)
    index.add(rng.standard_normal((99, 8)).astype(np.float32))
    assert not index.uses_usearch
    index.add(rng.standard_normal((2, 8)).astype(np.float32))
    assert index.uses_usearch
    assert len(index) == 101
    index.save(tmp_path / "i.usearch")
    again = VectorIndex(8, backend="auto", usearch_from=100)
    again.restore(index.vectors, tmp_path / "i.usearch")
    q = index.vectors[7]
    assert again.search(q, 3)[0].tolist() == index.search(q, 3)[0].tolist()
