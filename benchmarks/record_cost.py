"""What keeping what the model saw costs: bytes per step and loop time, with it and without.

Since store layout 4 the record keeps, by content, every step's observation and every part of
every LLM request (``axon_blobs``, zlib). This script runs the same agents twice into SQLite files
on disk (fsync per commit, as a real run): once as they are, and once with the archive turned
off (``PROMPTS.take`` returning nothing: the step rows alone, as before layout 4), alternating
the two ``--repeat`` times, and prints bytes per step and the median wall time per step:

* a rules run (the offline default) over 2,000 hourly bars;
* an LLM run: a scripted model behind ``CachedClient(mode="record")`` over 1,000 bars.

    python benchmarks/record_cost.py [--repeat 3]

Last line: ``rules_blob_bytes_per_step=A llm_blob_bytes_per_step=B rules_time_ratio=R
llm_time_ratio=S`` (time with the record over time without).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from axon_lab.data import make_synthetic
from axon_lab.llm import PROMPTS, CachedClient, ScriptedClient
from axon_lab.oader import make_agent

DATA = make_synthetic(3_000, timeframe="1h", start="2024-01-01", seed=1, symbol="SYN")
ANSWER = json.dumps(
    {
        "thought": "the trend is up",
        "market_assessment": "uptrend",
        "risk_assessment": "low",
        "confidence": 0.9,
        "action": "buy",
        "reason": "higher highs",
    }
)


def run(kind: str, steps: int, *, keep: bool) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder}/axon.db"
    analyst: Any = "rules"
    if kind == "llm":
        client = ScriptedClient(lambda request: ANSWER, model="scripted")
        analyst = CachedClient(client, store=f"sqlite:///{folder}/cache.db", mode="record")
    take = PROMPTS.take
    if not keep:
        PROMPTS.take = lambda keys: {}  # type: ignore[method-assign]
    try:
        loop = make_agent(DATA, analyst=analyst, store=url, run_id=kind, progress=False)
        start = time.perf_counter()
        loop.run(steps)
        elapsed = time.perf_counter() - start
        loop.close()
    finally:
        PROMPTS.take = take  # type: ignore[method-assign]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        step_bytes = conn.execute(sa.text("select sum(length(record_json)) from axon_steps"))
        blob = conn.execute(
            sa.text("select count(*), sum(length(data)), sum(size) from axon_blobs")
        )
        step_total = step_bytes.scalar_one() or 0
        n_blobs, stored, raw = blob.one()
    engine.dispose()
    return {
        "us_per_step": elapsed / steps * 1e6,
        "step_json": step_total / steps,
        "blobs": float(n_blobs or 0),
        "blob_bytes": (stored or 0) / steps,
        "blob_raw": (raw or 0) / steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    results: dict[str, dict[str, float]] = {}
    for kind, steps in (("rules", 2_000), ("llm", 1_000)):
        with_, without = [], []
        for _ in range(args.repeat):
            with_.append(run(kind, steps, keep=True))
            without.append(run(kind, steps, keep=False))
        kept, bare = with_[-1], without[-1]
        t_with = statistics.median(r["us_per_step"] for r in with_)
        t_without = statistics.median(r["us_per_step"] for r in without)
        print(
            f"{kind}: {steps:,} steps; step JSON {kept['step_json']:,.0f} B/step; kept "
            f"{kept['blobs']:,.0f} texts, {kept['blob_bytes']:,.0f} B/step stored "
            f"({kept['blob_raw']:,.0f} B/step before zlib); median {t_with:,.0f} us/step with, "
            f"{t_without:,.0f} us/step without (step JSON {bare['step_json']:,.0f} B/step)"
        )
        results[kind] = {"blob": kept["blob_bytes"], "ratio": t_with / t_without}
    print(
        f"rules_blob_bytes_per_step={results['rules']['blob']:.0f} "
        f"llm_blob_bytes_per_step={results['llm']['blob']:.0f} "
        f"rules_time_ratio={results['rules']['ratio']:.2f} "
        f"llm_time_ratio={results['llm']['ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
