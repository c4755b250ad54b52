"""Past one machine: an evaluation's windows on a Dask cluster (the ``distributed`` extra).

``evaluate(..., cluster="tcp://host:8786")`` (or a ``distributed.Client``, or a
``distributed.LocalCluster``) submits every unfinished window to the cluster; Dask schedules
them, moves them off a worker that dies and retries them elsewhere. Nothing here schedules:
the harness submits, Dask places, the harness counts the steps that come back.

- ``kind="cpu"`` windows (rules, random, RL): one Dask task each.
- ``kind="llm"`` windows: split into *shares*, at least one per worker thread and at most
  ``concurrency`` windows each; a share is one Dask task that runs its windows with asyncio,
  ``concurrency`` at a time, through one client its own process builds with the spec's factory.
  So each worker thread overlaps its own calls, and at most ``concurrency`` x shares calls are in
  flight. A budget cap (:class:`~axon_lab.llm.CostLedger`) counts per share, since each share
  builds its own ledger: divide a global budget by the shares, or meter at the server.

Every task opens the explain store by URL, so the store must be one every worker reaches:
``postgresql://...`` across machines (an absolute ``sqlite:////path`` only works when every
worker runs on this machine). The LLM cache is shared the same way: let the factory build
``CachedClient(..., store="postgresql://...")``; each share opens the cache by URL.

Resume is the store's, as in one process: finished runs are skipped before anything is
submitted, and a run that a worker did not finish (the worker died, or the evaluation was
stopped) is resumed from its last recorded step, whether Dask retries it or a later
``evaluate(..., evaluation_id=...)`` does.
"""

from __future__ import annotations

import math
import secrets
from typing import TYPE_CHECKING, Any

from axon_lab._imports import require
from axon_lab.errors import ConfigError

if TYPE_CHECKING:
    from axon_lab.evaluate._harness import _Task

__all__ = ["check_cluster_store", "open_client", "run_on_cluster"]

_CONNECT_TIMEOUT_S = 30


def _distributed() -> Any:
    return require("distributed", "distributed", purpose="evaluate(..., cluster=...)")


def check_cluster_store(url: str) -> None:
    """Refuse a store that the cluster's workers cannot all reach.

    Raises:
        ConfigError: For an in-memory database or a relative SQLite path (each worker would
            write its own file, relative to its own working directory).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"store {url!r} is not a database URL ({exc}); give the cluster a shared store, "
            "e.g. 'postgresql://user:password@host:5432/axon'"
        ) from exc
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database or ""
    if database in ("", ":memory:") or url.startswith("memory:"):
        raise ConfigError(
            f"a cluster's workers cannot reach the in-memory store {url!r}; give every worker "
            "one PostgreSQL store, e.g. store='postgresql://user:password@host:5432/axon'"
        )
    if not database.startswith("/"):
        raise ConfigError(
            f"the SQLite path in store {url!r} is relative: each worker would write its own "
            "file under its own working directory. Give every worker one PostgreSQL store, "
            "e.g. store='postgresql://user:password@host:5432/axon' (or, when every worker "
            "runs on this machine, an absolute path: 'sqlite:////abs/path/axon.db')"
        )


def open_client(cluster: Any) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``cluster`` and whether this call opened it (and must close).

    Args:
        cluster: A scheduler address (``"tcp://host:8786"``), a ``distributed.Client``, or a
            cluster object with a ``scheduler_address`` (e.g. ``distributed.LocalCluster``).

    Raises:
        MissingDependencyError: If ``distributed`` is not installed (names the extra).
        ConfigError: If ``cluster`` is none of these, or its scheduler cannot be reached.
    """
    distributed = _distributed()
    if isinstance(cluster, distributed.Client):
        return cluster, False
    address = cluster if isinstance(cluster, str) else getattr(cluster, "scheduler_address", None)
    if not isinstance(address, str) or not address:
        raise ConfigError(
            f"cluster must be a Dask scheduler address ('tcp://host:8786'), a "
            f"distributed.Client or a distributed.LocalCluster, got {cluster!r}"
        )
    try:
        return distributed.Client(address, timeout=_CONNECT_TIMEOUT_S), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(
            f"cannot reach the Dask scheduler at {address!r} ({exc}); start one with "
            "`dask scheduler` and workers with `dask worker tcp://HOST:8786`, then pass "
            "its address"
        ) from exc


def _llm_shares(tasks: list[_Task], concurrency: int, threads: int) -> list[list[_Task]]:
    """Deal the LLM windows round-robin into shares: >= one per thread, <= concurrency each."""
    n = max(min(len(tasks), max(threads, math.ceil(len(tasks) / concurrency))), 1)
    return [share for share in (tasks[i::n] for i in range(n)) if share]


def _run_one(task: _Task) -> int:
    """Run (or finish) one CPU window on a worker; the steps it ran."""
    from axon_lab.evaluate._harness import _run_task

    return _run_task(task)[1]


class _Counter:
    """Counts the steps a share ran (a worker has no progress bar)."""

    def __init__(self) -> None:
        self.n = 0

    def update(self, n: int = 1) -> None:
        """Count ``n`` steps."""
        self.n += n


def _run_share(tasks: list[_Task], concurrency: int, evaluation_id: str) -> int:
    """Run a share of LLM windows on a worker with asyncio; the steps it ran."""
    from axon_lab.evaluate._harness import _run_llm

    counter = _Counter()
    # the share's analysts were made for it, in this worker: close them (clients, cache stores)
    _run_llm(tasks, concurrency, counter, evaluation_id, close=True)
    return counter.n


def run_on_cluster(
    client: Any, tasks: list[_Task], concurrency: int, bar: Any, evaluation_id: str
) -> None:
    """Submit ``tasks`` (unfinished windows) to the cluster; count their steps on ``bar``.

    On any error (a task's, or Ctrl-C here) the tasks still queued or running are cancelled
    and the error is raised; what they recorded stays in the store, to be resumed.
    """
    distributed = _distributed()
    token = secrets.token_hex(4)
    llm = [t for t in tasks if t.spec.kind == "llm"]
    cpu = [t for t in tasks if t.spec.kind == "cpu"]
    threads = sum(client.nthreads().values()) or 1
    futures = [
        client.submit(_run_share, share, concurrency, evaluation_id, key=f"axon-llm-{i}-{token}")
        for i, share in enumerate(_llm_shares(llm, concurrency, threads) if llm else [])
    ]
    futures += [client.submit(_run_one, t, key=f"axon-{t.run_id}-{token}") for t in cpu]
    try:
        for future in distributed.as_completed(futures):
            bar.update(future.result())
    except BaseException:
        client.cancel(futures)
        raise
