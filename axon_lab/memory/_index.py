"""Nearest-neighbour search over unit vectors: exact numpy for small memories, usearch for large.

Both rank by inner product (cosine similarity of unit vectors), ties by the older entry first,
and return at most ``k`` entry ids with their similarities. Below ``usearch_from`` entries the
search is exact (one matrix-vector product); from there on the vectors also go into a usearch
HNSW index (approximate, much faster at 100k entries). usearch is imported only then. Inserts use
one thread, so a rerun builds the same graph (on a busy 2-core machine, threads did not make the
bulk build faster either); a saved index reloads as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from axon_lab._imports import require
from axon_lab.errors import ConfigError

__all__ = ["IndexBackend", "VectorIndex"]

IndexBackend = Literal["auto", "numpy", "usearch"]
_BLOCK = 4_096


class VectorIndex:
    """Unit vectors in insertion order, searchable by inner product.

    Args:
        dim: Vector length.
        backend: ``"numpy"`` (exact), ``"usearch"`` (approximate HNSW) or ``"auto"`` (numpy
            until ``usearch_from`` entries).
        usearch_from: Entry count from which ``"auto"`` uses usearch.

    Examples:
        >>> index = VectorIndex(2, backend="numpy")
        >>> index.add(np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32))
        >>> ids, sims = index.search(np.array([0.0, 1.0], dtype=np.float32), 2)
        >>> ids.tolist(), sims.round(2).tolist()
        ([1, 2], [1.0, 0.8])
    """

    def __init__(
        self, dim: int, *, backend: IndexBackend = "auto", usearch_from: int = 50_000
    ) -> None:
        if backend not in ("auto", "numpy", "usearch"):
            raise ConfigError(f"backend must be 'auto', 'numpy' or 'usearch', got {backend!r}")
        self.dim = dim
        self.backend: IndexBackend = backend
        self.usearch_from = usearch_from
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._n = 0
        self._hnsw: Any = None

    def __len__(self) -> int:
        return self._n

    @property
    def vectors(self) -> np.ndarray:
        """The stored vectors, one row per entry (a read-only view)."""
        out = self._vectors[: self._n]
        out.flags.writeable = False
        return out

    @property
    def uses_usearch(self) -> bool:
        """Whether searches go through usearch."""
        return self._hnsw is not None

    def _want_usearch(self) -> bool:
        return self.backend == "usearch" or (
            self.backend == "auto" and self._n >= self.usearch_from
        )

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (their ids continue from ``len(self)``)."""
        rows = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        start, end = self._n, self._n + rows.shape[0]
        if end > self._vectors.shape[0]:  # amortised growth: doubling
            grown = np.zeros((max(end, 2 * self._vectors.shape[0], 64), self.dim), np.float32)
            grown[: self._n] = self._vectors[: self._n]
            self._vectors = grown
        self._vectors[start:end] = rows
        self._n = end
        if self._hnsw is not None:
            self._hnsw.add(np.arange(start, end, dtype=np.uint64), rows, threads=1)
        elif self._want_usearch():
            self._build()

    def _build(self, path: Path | None = None) -> None:
        usearch = require("usearch.index", "memory", purpose="a large retrieval memory")
        hnsw = None
        if path is not None and path.is_file():
            hnsw = usearch.Index.restore(str(path))
            if hnsw is None or len(hnsw) != self._n or hnsw.ndim != self.dim:
                hnsw = None  # a stale or foreign file: build it again
        if hnsw is None:
            hnsw = usearch.Index(ndim=self.dim, metric="ip", dtype="f32")
            if self._n:  # one thread: the same insertion order gives the same graph
                hnsw.add(np.arange(self._n, dtype=np.uint64), self._vectors[: self._n], threads=1)
        self._hnsw = hnsw

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ids and similarities of the ``k`` nearest entries, most similar first."""
        if self._n == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(self.dim)
        if self._hnsw is not None:
            found = self._hnsw.search(q, min(k, self._n), threads=1)
            ids = np.asarray(found.keys, dtype=np.int64)
            sims = 1.0 - np.asarray(found.distances, dtype=np.float64)  # ip distance = 1 - dot
        else:
            scores = np.empty(self._n, dtype=np.float32)
            # in blocks: one big matrix-vector product goes multi-threaded in BLAS, which on a
            # busy machine took from 0.3 to 20 ms at 100k x 16; blocks stay at about 0.3 ms
            for lo in range(0, self._n, _BLOCK):
                hi = min(lo + _BLOCK, self._n)
                np.matmul(self._vectors[lo:hi], q, out=scores[lo:hi])
            take = min(k, self._n)
            ids = np.argpartition(-scores, take - 1)[:take] if take < self._n else np.arange(take)
            sims = scores[ids].astype(np.float64)
        order = np.lexsort((ids, -sims))  # most similar first; ties: the older entry
        return ids[order], sims[order]

    def save(self, path: Path) -> None:
        """Write the usearch index to ``path`` (nothing when searches are exact)."""
        if self._hnsw is not None:
            self._hnsw.save(str(path))

    def restore(self, vectors: np.ndarray, path: Path | None) -> None:
        """Replace the contents by ``vectors``; reuse the usearch index at ``path`` if it fits."""
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        self._n = self._vectors.shape[0]
        self._hnsw = None
        if self._want_usearch():
            self._build(path)
