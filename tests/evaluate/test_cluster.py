"""evaluate(..., cluster=...): two Dask worker processes, one PostgreSQL store, one LLM cache.

The cluster tests need the PostgreSQL test server (``AXON_TEST_POSTGRES_URL``) and skip without
it; each gets a fresh schema (tests/conftest.py). One LocalCluster serves the module (starting
one costs seconds); windows are tiny.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError, MissingDependencyError
from axon_lab.evaluate import AgentSpec, evaluate
from axon_lab.explain import ExplainStore

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _cluster_agents import CALLS, MADE, CachedScripted, CountingRandom  # noqa: E402

COMMON: dict[str, Any] = {"n_windows": 3, "warmup": 40, "test": 12, "progress": False}


def frame() -> pd.DataFrame:
    return make_synthetic(120, timeframe="1d", seed=4, symbol="CLU")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two worker processes, one thread each, that import the agents of _cluster_agents.py."""
    if not os.environ.get("AXON_TEST_POSTGRES_URL"):
        pytest.skip("AXON_TEST_POSTGRES_URL is not set")
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as opened,
    ):
        opened.run(exec, f"import sys; sys.path.insert(0, {str(HERE)!r})")
        yield opened


def _runs(url: str, evaluation_id: str) -> dict[str, int]:
    with ExplainStore(url) as store:
        return {
            r.run_id: len(store.steps(r.run_id))
            for r in store.runs()
            if r.config.get("evaluation", {}).get("id") == evaluation_id
        }


def _same(a: Any, b: Any) -> None:
    pd.testing.assert_frame_equal(
        a.results.drop(columns=["run_id"]), b.results.drop(columns=["run_id"])
    )


# --------------------------------------------------------------------- CPU windows
def test_cpu_windows_on_two_workers_land_in_postgres_and_equal_one_process(
    client: Any, postgres_url: str
) -> None:
    spread = evaluate(
        AgentSpec(name="rules"), frame(), n_random=1, store=postgres_url,
        evaluation_id="clu-cpu", cluster=client, **COMMON,
    )  # fmt: skip
    local = evaluate(
        AgentSpec(name="rules"), frame(), n_random=1, store=postgres_url,
        evaluation_id="one-cpu", workers=1, **COMMON,
    )  # fmt: skip
    runs = _runs(postgres_url, "clu-cpu")
    # rules and one random draw, three windows each, every run whole
    assert sorted(runs) == sorted(
        f"clu-cpu--{agent}--CLU--w0{i}" for agent in ("rules", "random-d0") for i in range(3)
    )
    assert set(runs.values()) == {12}
    _same(spread, local)


# --------------------------------------------------------------------- resume
def test_a_partial_evaluation_resumes_on_the_cluster_skipping_finished_runs(
    client: Any, postgres_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "started.txt"
    kwargs: dict[str, Any] = {"n_random": 1, "store": postgres_url, **COMMON}
    clean = evaluate(
        AgentSpec(name="rnd", analyst=CountingRandom(str(log)), kind="cpu"),
        frame(), evaluation_id="clean", workers=1, **kwargs,
    )  # fmt: skip
    # in this process, a Ctrl-C on the 17th call: w00 whole (12 steps), w01 at 4 steps
    CALLS["n"] = 0
    crashing = AgentSpec(name="rnd", analyst=CountingRandom(str(log), crash_at=17), kind="cpu")
    with pytest.raises(KeyboardInterrupt):
        evaluate(crashing, frame(), evaluation_id="part", workers=1, **kwargs)
    assert _runs(postgres_url, "part") == {"part--rnd--CLU--w00": 12, "part--rnd--CLU--w01": 4}

    log.write_text("")
    spec = AgentSpec(name="rnd", analyst=CountingRandom(str(log)), kind="cpu")
    resumed = evaluate(spec, frame(), evaluation_id="part", cluster=client, **kwargs)
    started = log.read_text().split()
    assert len(started) == 2  # w01 resumed and w02 new; the finished w00 skipped
    assert str(os.getpid()) not in started  # they ran on the workers
    _same(resumed, clean)
    assert set(_runs(postgres_url, "part").values()) == {12}
    log.write_text("")
    again = evaluate(spec, frame(), evaluation_id="part", cluster=client, **kwargs)
    assert log.read_text() == ""  # every run finished: none executed
    _same(again, clean)


# --------------------------------------------------------------------- LLM windows
def test_llm_windows_share_the_postgres_cache_across_workers(
    client: Any, postgres_url: str
) -> None:
    from axon_lab.llm import SQLCacheStore

    kwargs: dict[str, Any] = {"n_random": 0, "store": postgres_url, "concurrency": 2, **COMMON}
    recorded = evaluate(
        AgentSpec(name="llm", analyst=CachedScripted(postgres_url)),
        frame(), evaluation_id="llm-rec", cluster=client, **kwargs,
    )  # fmt: skip
    assert set(_runs(postgres_url, "llm-rec").values()) == {12}
    cache = SQLCacheStore(postgres_url)
    try:
        assert len(cache) == 3 * 12  # one response per step, written by the workers
    finally:
        cache.close()
    # replay on the workers: every answer comes from the cache the other workers wrote
    replayed = evaluate(
        AgentSpec(name="llm", analyst=CachedScripted(postgres_url, mode="replay")),
        frame(), evaluation_id="llm-rep", cluster=client, **kwargs,
    )  # fmt: skip
    local = evaluate(
        AgentSpec(name="llm", analyst=CachedScripted(postgres_url, mode="replay")),
        frame(), evaluation_id="llm-one", workers=1, **kwargs,
    )  # fmt: skip
    while MADE:  # the one made here, in process (the workers close theirs)
        MADE.pop().close()
    _same(replayed, recorded)
    _same(local, recorded)
    assert (recorded.results["n_fills"] > 0).any()  # the scripted answers trade


# --------------------------------------------------------------------- refusals (no cluster)
@pytest.mark.parametrize(
    ("store", "match"),
    [
        ("sqlite://", "cannot reach the in-memory store"),
        ("sqlite:///runs/axon.db", "is relative: each worker would write its own file"),
    ],
)
def test_a_store_the_workers_cannot_share_is_refused(store: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        evaluate(AgentSpec(name="rules"), frame(), store=store, cluster="tcp://127.0.0.1:1")


def test_without_dask_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'axon-lab\[distributed\]'"):
        evaluate(
            AgentSpec(name="rules"), frame(), store=f"sqlite:///{tmp_path / 'ev.db'}",
            cluster="tcp://127.0.0.1:1", **COMMON,
        )  # fmt: skip


def test_a_cluster_and_an_executor_together_are_refused(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool, pytest.raises(ConfigError, match="not both"):
        evaluate(
            AgentSpec(name="rules"), frame(), store=f"sqlite:///{tmp_path / 'ev.db'}",
            cluster="tcp://127.0.0.1:1", executor=pool, **COMMON,
        )  # fmt: skip


@given(
    n=st.integers(min_value=1, max_value=60),
    concurrency=st.integers(min_value=1, max_value=20),
    threads=st.integers(min_value=1, max_value=16),
)
def test_llm_shares_cover_every_window_once_within_the_concurrency(
    n: int, concurrency: int, threads: int
) -> None:
    from axon_lab.evaluate import _cluster

    tasks: list[Any] = list(range(n))  # the dealing never looks inside a task
    shares = _cluster._llm_shares(tasks, concurrency, threads)
    assert sorted(t for share in shares for t in share) == tasks  # each window exactly once
    assert all(1 <= len(share) <= concurrency for share in shares)
    assert len(shares) >= min(threads, n)  # every worker thread gets a share when there are enough
