"""Per-step cost of the retrieval memory at 10k and 100k stored contexts.

Usage::

    python benchmarks/memory_step.py [--repeats R] [--text]

Measured, each as the median over ``--repeats`` calls (microseconds per step):

- ``embed``: the feature embedder (no model) on one observation of 20 bars;
- ``search``: the k=5 nearest of N stored vectors, exact numpy and usearch HNSW, for the feature
  vectors (16 numbers; with ``--text`` also MiniLM-sized ones, 384 numbers, whose 100k HNSW
  build takes minutes on a busy 2-core machine);
- ``step``: :meth:`Memory.step` whole (settle the due outcome, embed, search with the backend
  ``"auto"`` picks, build the :class:`SimilarContext` records, keep the context as pending);
- with ``--text``: one MiniLM embedding per step (after the model is loaded once; load time
  shown).

Stored contexts are random unit vectors with synthetic outcomes (the search cost does not depend
on what the vectors mean). The last line reads
``memory_step embed_us=E n=10000 numpy16_us=.. usearch16_us=.. step_us=.. n=100000 ...``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from axon_lab.backends import MockTradingBackend  # noqa: E402
from axon_lab.data import MarketView, make_synthetic  # noqa: E402
from axon_lab.memory import FeatureEmbedder, Memory, VectorIndex  # noqa: E402
from axon_lab.oader import ContextBuilder  # noqa: E402


def _median_us(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _filled(n: int, view: MarketView, rng: np.random.Generator) -> Memory:
    """A memory holding ``n`` settled contexts, all ending before the view starts."""
    memory = Memory("bench", k=5, horizon=24)
    first = int(view.start.value) - (n + 48) * 3_600_000_000_000
    ts = first + np.arange(n, dtype=np.int64) * 3_600_000_000_000
    # filled through the private lists: building 100k contexts through a loop would time the loop
    memory._ts = ts.tolist()
    memory._outcome = (ts + 24 * 3_600_000_000_000).tolist()
    memory._symbol = ["SYN"] * n
    memory._summary = ["last 16 bars: +0.10% (up 8 of 16, bar std 0.20%); position flat"] * n
    memory._fwd = rng.normal(0, 0.01, n).tolist()
    memory._action = ["hold"] * n
    memory._result = [0.0] * n
    memory._max_outcome = memory._outcome[-1]
    memory.timeframe = view.timeframe.label
    memory.index.restore(_unit(rng, n, 16), None)
    return memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--text", action="store_true", help="also time MiniLM embeddings")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    frame = make_synthetic(2_000, timeframe="1h", start="2024-01-01", seed=1, symbol="SYN")
    view = MarketView(frame)

    observe = ContextBuilder(view, MockTradingBackend({"SYN": 100.0}, cash=1e5), lookback=20)
    times = view.decision_times()[100:]
    observations = [observe(t.to_pydatetime()) for t in times[: args.repeats + 1]]
    embedder = FeatureEmbedder()
    it = iter(observations * 2)
    embed_us = _median_us(lambda: embedder.embed(next(it), "SYN"), args.repeats)
    line = [f"embed_us={embed_us:.1f}"]
    print(f"feature embedding: {embed_us:.1f} us/step")
    for n in (10_000, 100_000):
        row = [f"n={n}"]
        for dim in (16, 384) if args.text else (16,):
            data = _unit(rng, n, dim)
            queries = _unit(rng, args.repeats, dim)
            for backend in ("numpy", "usearch"):
                index = VectorIndex(dim, backend=backend)
                t = time.perf_counter()
                index.add(data)
                build_s = time.perf_counter() - t
                q = iter(queries)
                us = _median_us(lambda index=index, q=q: index.search(next(q), 5), args.repeats)
                print(f"n={n:>6} dim={dim:>3} {backend:>7}: search {us:8.1f} us", end="")
                print(f" (build {build_s:.2f} s)")
                row.append(f"{backend}{dim}_us={us:.1f}")
        memory = _filled(n, view, rng)
        obs = iter(observations)
        step_us = _median_us(
            lambda memory=memory, obs=obs: memory.step(view, next(obs)), args.repeats
        )
        print(
            f"n={n:>6} Memory.step ({'usearch' if memory.index.uses_usearch else 'numpy'}): "
            f"{step_us:.1f} us/step"
        )
        row.append(f"step_us={step_us:.1f}")
        line += row
    if args.text:
        from axon_lab.memory import TextEmbedder

        text = TextEmbedder()
        t = time.perf_counter()
        text.embed_texts(["warm up"])
        load_s = time.perf_counter() - t
        it = iter(observations * 2)
        text_us = _median_us(lambda: text.embed(next(it), "SYN"), min(args.repeats, 100))
        print(f"MiniLM: load {load_s:.1f} s, {text_us:.0f} us/step")
        line.append(f"text_us={text_us:.0f} text_load_s={load_s:.1f}")
    print("memory_step " + " ".join(line))


if __name__ == "__main__":
    main()
