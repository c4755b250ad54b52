"""Memory: past contexts and what followed them, retrieved point-in-time at each step.

At each step (:meth:`Memory.step`, called by the Observe stage) for each symbol:

1. every pending context whose outcome is complete at ``now`` is settled: its forward return
   (close of the last bar complete at ``outcome_at`` over the close it was taken at, minus 1;
   ``outcome_at = t + horizon`` bars) read through the view as of ``outcome_at``, the action the
   step took and its result: the agent's equity now (the observation's portfolio, marked at
   the first step at or after ``outcome_at``) over its equity at the end of that step, minus 1.
   The step's action and equity come from :meth:`Memory.on_step_end`, which ``make_agent``
   registers as a loop callback. Only then is the context's vector searchable;
2. the ``k`` settled contexts most similar to the current one are returned, newest outcome at or
   before ``now`` by construction, and checked again: a memory holding an outcome after ``now``
   (built on a later period) is refused with a :class:`~axon_lab.errors.LookAheadError`;
3. the current context is kept as pending.

Persistence: :meth:`Memory.save` writes ``<directory>/<name>.npz`` (and ``<name>.usearch`` when
the index is a usearch one); a :class:`Memory` with the same name and directory loads it, so a
memory built on one period is used on a later one. ``make_agent`` puts it beside the explain
store's SQLite file (``runs/memory/``) and saves it when a run ends.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from axon_lab.data.view import MarketView
from axon_lab.errors import ConfigError, LookAheadError, StoreError
from axon_lab.records import Action, Observation, SimilarContext, StepRecord

from ._embed import ContextEmbedder, FeatureEmbedder, TextEmbedder
from ._index import IndexBackend, VectorIndex

__all__ = ["Memory"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FORMAT = 1


def _ns(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1) * 1_000


def _time(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1_000)


@dataclass(slots=True)
class _Pending:
    ts: int
    outcome: int
    symbol: str
    close: float
    vector: np.ndarray
    summary: str


def _embedder(value: str | ContextEmbedder) -> ContextEmbedder:
    if value == "features":
        return FeatureEmbedder()
    if value == "text":
        return TextEmbedder()
    if isinstance(value, str):
        raise ConfigError(
            f"embedder must be 'features', 'text' or an embedder object, got {value!r}"
        )
    if not isinstance(value, ContextEmbedder):
        raise ConfigError(
            f"embedder {value!r} lacks name, dim, embed(observation, symbol) and summary(...)"
        )
    return value


class Memory:
    """A retrieval memory of past contexts and their outcomes (see the module docstring).

    Args:
        name: The memory's name (its file name; letters, digits, ``.``, ``_``, ``-``).
        embedder: ``"features"`` (returns shape, no model; the default), ``"text"``
            (MiniLM-L6-v2 through sentence-transformers) or a :class:`ContextEmbedder`.
        k: Contexts retrieved per step and symbol.
        horizon: Bars after a context over which its outcome is measured.
        directory: Where the memory file lives (default: beside the explain store, set by
            ``make_agent``; None keeps it in this process only).
        backend: Vector search: ``"auto"`` (exact numpy below ``usearch_from`` entries, usearch
            from there), ``"numpy"`` or ``"usearch"``.
        usearch_from: Entries from which ``"auto"`` switches to usearch.
        load: Load the memory's file when it exists (False: start empty, and overwrite it on
            save).

    Examples:
        >>> memory = Memory("doc", k=3, horizon=4)
        >>> memory
        Memory('doc', embedder='features:returns16', k=3, horizon=4, entries=0)
    """

    def __init__(
        self,
        name: str,
        *,
        embedder: str | ContextEmbedder = "features",
        k: int = 5,
        horizon: int = 24,
        directory: str | Path | None = None,
        backend: IndexBackend = "auto",
        usearch_from: int = 50_000,
        load: bool = True,
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(
                f"memory name {name!r} must be 1-100 letters, digits, '.', '_' or '-' (it "
                "becomes a file name), e.g. 'btc-15m'"
            )
        for label, value in (("k", k), ("horizon", horizon), ("usearch_from", usearch_from)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{label} must be an int >= 1, got {value!r}")
        self.name = name
        self.embedder = _embedder(embedder)
        self.k = k
        self.horizon = horizon
        self.load = load
        self.index = VectorIndex(self.embedder.dim, backend=backend, usearch_from=usearch_from)
        self.timeframe: str | None = None
        self._ts: list[int] = []
        self._outcome: list[int] = []
        self._symbol: list[str] = []
        self._summary: list[str] = []
        self._fwd: list[float] = []
        self._action: list[str] = []
        self._result: list[float] = []
        self._max_outcome = -(2**63)
        self._pending: list[_Pending] = []
        self._actions: dict[int, str] = {}
        self._equity: dict[int, float] = {}
        self.loaded = 0
        self.directory: Path | None = None
        if directory is not None:
            self.attach(directory)

    # ------------------------------------------------------------------ persistence
    @property
    def path(self) -> Path | None:
        """The memory's file (None when it is kept in this process only)."""
        return None if self.directory is None else self.directory / f"{self.name}.npz"

    def attach(self, directory: str | Path) -> None:
        """Keep the memory in ``directory``; load its file there if it exists (and ``load``)."""
        self.directory = Path(directory).expanduser()
        path = self.path
        if self.load and path is not None and path.is_file() and not self._ts:
            self._read(path)

    def _read(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in data.files if k != "meta"}
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(
                f"the memory file {path} cannot be read ({exc}); delete it or pass load=False"
            ) from None
        want = {"format": _FORMAT, "embedder": self.embedder.name, "horizon": self.horizon}
        got = {k: meta.get(k) for k in want}
        if got != want:
            raise ConfigError(
                f"the memory file {path} was built with {got}; this Memory uses {want}. Use the "
                "same embedder and horizon, or another name"
            )
        self.timeframe = meta.get("timeframe")
        self._ts = arrays["ts"].tolist()
        self._outcome = arrays["outcome"].tolist()
        self._symbol = arrays["symbol"].tolist()
        self._summary = arrays["summary"].tolist()
        self._fwd = arrays["fwd"].tolist()
        self._action = arrays["action"].tolist()
        self._result = arrays["result"].tolist()
        self._max_outcome = max(self._outcome, default=-(2**63))
        self.index.restore(arrays["vectors"], path.with_suffix(".usearch"))
        self.loaded = len(self._ts)

    def save(self) -> Path:
        """Write the settled contexts to :attr:`path` (pending ones are not kept).

        Raises:
            ConfigError: If the memory has no directory.
        """
        path = self.path
        if path is None:
            raise ConfigError(
                f"memory {self.name!r} has no directory; pass Memory(..., directory=...) or "
                "give make_agent a SQLite file store"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": _FORMAT,
            "embedder": self.embedder.name,
            "horizon": self.horizon,
            "timeframe": self.timeframe,
        }
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp,
            meta=np.array(json.dumps(meta)),
            ts=np.array(self._ts, dtype=np.int64),
            outcome=np.array(self._outcome, dtype=np.int64),
            symbol=np.array(self._symbol, dtype=np.str_),
            summary=np.array(self._summary, dtype=np.str_),
            fwd=np.array(self._fwd, dtype=np.float64),
            action=np.array(self._action, dtype=np.str_),
            result=np.array(self._result, dtype=np.float64),
            vectors=self.index.vectors,
        )
        os.replace(tmp, path)
        self.index.save(path.with_suffix(".usearch"))
        return path

    # ------------------------------------------------------------------ the step
    def __len__(self) -> int:
        return len(self._ts)

    @property
    def latest_outcome(self) -> datetime | None:
        """When the newest settled outcome completed (None when empty)."""
        return _time(self._max_outcome) if self._ts else None

    def step(
        self, view: MarketView, observation: Observation, symbols: Sequence[str] | None = None
    ) -> tuple[SimilarContext, ...]:
        """Settle due outcomes, retrieve the contexts similar to now's, remember now's.

        Raises:
            LookAheadError: If the memory holds an outcome completed after the observation.
            ConfigError: If the memory was built on another timeframe.
        """
        now = observation.timestamp
        now_ns = _ns(now)
        if self.timeframe is None:
            self.timeframe = observation.timeframe
        elif self.timeframe != observation.timeframe:
            raise ConfigError(
                f"memory {self.name!r} holds {self.timeframe} contexts; the observation is "
                f"{observation.timeframe}. Use a memory of the same bar length"
            )
        self._settle(view, now_ns, observation.portfolio.equity)
        if self._max_outcome > now_ns:
            raise LookAheadError(
                f"memory {self.name!r} holds outcomes up to {self.latest_outcome}, after the "
                f"current bar ({now.isoformat()}): it was built on a later period. Build it "
                "from bars before this run's start, or use Memory(..., load=False)"
            )
        step_ns = view.timeframe.nanos
        found: list[SimilarContext] = []
        for symbol in symbols if symbols is not None else observation.symbols:
            vector = self.embedder.embed(observation, symbol)
            if vector is None:
                continue
            found += self._retrieve(vector, now_ns)
            bars = observation.bars.get(symbol, ())
            self._pending.append(
                _Pending(
                    ts=now_ns,
                    outcome=now_ns + self.horizon * step_ns,
                    symbol=symbol,
                    close=bars[-1].close,
                    vector=vector,
                    summary=self.embedder.summary(observation, symbol),
                )
            )
        return tuple(found)

    def _retrieve(self, vector: np.ndarray, now_ns: int) -> list[SimilarContext]:
        ids, sims = self.index.search(vector, self.k)
        out = []
        for i, sim in zip(ids.tolist(), sims.tolist(), strict=True):
            if self._outcome[i] > now_ns:  # cannot happen (settled ones only); fail closed
                raise LookAheadError(
                    f"memory {self.name!r} retrieved a context whose outcome completes at "
                    f"{_time(self._outcome[i])}, after {_time(now_ns)}"
                )
            result = self._result[i]
            out.append(
                SimilarContext(
                    timestamp=_time(self._ts[i]),
                    symbol=self._symbol[i],
                    similarity=round(sim, 6),
                    summary=self._summary[i],
                    horizon=self.horizon,
                    outcome_at=_time(self._outcome[i]),
                    forward_return=self._fwd[i],
                    action=Action(self._action[i]) if self._action[i] else None,
                    result=None if result != result else result,
                )
            )
        return out

    def _settle(self, view: MarketView, now_ns: int, equity: float) -> None:
        due = [p for p in self._pending if p.outcome <= now_ns]
        if not due:
            return
        self._pending = [p for p in self._pending if p.outcome > now_ns]
        vectors = []
        for p in due:
            _, values = view.bar_arrays_as_of(_time(p.outcome), p.symbol, lookback=1)
            if values.shape[0] == 0 or not p.close > 0:
                continue
            self._ts.append(p.ts)
            self._outcome.append(p.outcome)
            self._symbol.append(p.symbol)
            self._summary.append(p.summary)
            self._fwd.append(float(values[-1, 3]) / p.close - 1.0)
            self._action.append(self._actions.get(p.ts, ""))
            start = self._equity.get(p.ts)
            self._result.append(
                equity / start - 1.0 if start is not None and start > 0 else float("nan")
            )
            self._max_outcome = max(self._max_outcome, p.outcome)
            vectors.append(p.vector)
        if vectors:
            self.index.add(np.stack(vectors))
        keep = min((p.ts for p in self._pending), default=now_ns)
        self._actions = {t: a for t, a in self._actions.items() if t >= keep}
        self._equity = {t: e for t, e in self._equity.items() if t >= keep}

    # ------------------------------------------------------------------ loop hooks
    def on_step_end(self, record: StepRecord) -> None:
        """Remember the step's action and equity (the outcome of its context needs them)."""
        ts = _ns(record.timestamp)
        if record.decision is not None:
            self._actions[ts] = record.decision.action.value
        self._equity[ts] = record.equity

    def describe(self) -> dict[str, Any]:
        """The settings and size, as recorded with a run."""
        return {
            "name": self.name,
            "embedder": self.embedder.name,
            "k": self.k,
            "horizon": self.horizon,
            "backend": self.index.backend,
            "path": None if self.path is None else str(self.path),
            "entries_loaded": self.loaded,
            "latest_outcome": None if not self._ts else _time(self._max_outcome).isoformat(),
        }

    def __repr__(self) -> str:
        return (
            f"Memory({self.name!r}, embedder={self.embedder.name!r}, k={self.k}, "
            f"horizon={self.horizon}, entries={len(self)})"
        )
