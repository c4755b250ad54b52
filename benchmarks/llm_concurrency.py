"""LLM batch concurrency and cache-hit overhead, against the fake chat-completions server.

The server adds 200 ms to every reply. 64 independent calls are sent one after another, then at
concurrency 16 (async, one connection pool; and a thread pool, for the sync API). The ideal
speed-up is 16; the target is >= 0.8 x 16 = 12.8. Cache-hit overhead is the time of a
``CachedClient.complete`` answered from the SQLite cache (including request validation and
hashing), per call; the target is < 1 ms.

    python benchmarks/llm_concurrency.py [--calls 64] [--concurrency 16] [--latency 0.2]

Last line: ``speedup=X cache_hit_us=Y``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from axon_lab.llm import (
    CachedClient,
    LLMRequest,
    MemoryCacheStore,
    OpenAICompatClient,
    SQLCacheStore,
)


def requests(n: int) -> list[LLMRequest]:
    return [
        LLMRequest.build([{"role": "user", "content": f"independent question {i}"}], max_tokens=8)
        for i in range(n)
    ]


def cache_hit_us(client: CachedClient, reqs: list[LLMRequest], rounds: int) -> float:
    client.complete_many(reqs)  # record
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for r in reqs:
            resp = client.complete(r.messages, **r.params)
            if not resp.cache_hit:
                raise RuntimeError("expected a cache hit")
        samples.append((time.perf_counter() - start) / len(reqs))
    return statistics.median(samples) * 1e6


def run(args: argparse.Namespace, base_url: str) -> None:
    client = OpenAICompatClient("fake-model", base_url=base_url, max_concurrency=args.concurrency)
    reqs = requests(args.calls)
    client.send(reqs[0])  # warm the connection pool

    start = time.perf_counter()
    for r in reqs:
        client.send(r)
    sequential = time.perf_counter() - start

    start = time.perf_counter()
    out = asyncio.run(client.acomplete_many(reqs, max_concurrency=args.concurrency))
    concurrent_async = time.perf_counter() - start
    assert len(out) == args.calls

    start = time.perf_counter()
    client.complete_many(reqs, max_concurrency=args.concurrency)
    concurrent_threads = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        sql = SQLCacheStore(f"sqlite:///{Path(tmp) / 'axon.db'}")
        hit_sql = cache_hit_us(CachedClient(client, store=sql), reqs, rounds=20)
        sql.close()
    hit_mem = cache_hit_us(CachedClient(client, store=MemoryCacheStore()), reqs, rounds=20)
    client.close()

    ideal = args.calls * args.latency / args.concurrency
    speedup = sequential / concurrent_async
    print(f"{args.calls} calls, {args.latency * 1000:.0f} ms server latency each")
    print(f"sequential:            {sequential:7.2f} s")
    print(f"async, concurrency {args.concurrency}: {concurrent_async:7.2f} s (ideal {ideal:.2f} s)")
    print(f"threads, concurrency {args.concurrency}: {concurrent_threads:5.2f} s")
    print(
        f"speed-up async {speedup:.1f}x, threads {sequential / concurrent_threads:.1f}x "
        f"(target >= {0.8 * args.concurrency:.1f}x)"
    )
    print(f"cache hit per call: sqlite {hit_sql:.0f} us, memory {hit_mem:.0f} us (target < 1000)")
    print(f"speedup={speedup:.2f} cache_hit_us={hit_sql:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()

    # The server runs in its own process, as a real one would: in-process, its threads would
    # compete with the client for the GIL and inflate the client's overhead.
    server = subprocess.Popen(
        [sys.executable, "-m", "axon_lab.llm.testing", "--latency", str(args.latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        run(args, base_url)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


if __name__ == "__main__":
    main()
