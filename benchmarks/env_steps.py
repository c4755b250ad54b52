"""Environment steps per second: axon_lab's batched env against gym-anytrading on the same data.

Usage::

    python benchmarks/env_steps.py [--sample NAME] [--n-envs N] [--steps S] [--repeats R]

Both run random actions on the same bars (the bundled ``googl-1d`` sample, which is the
gym-anytrading ``STOCKS_GOOGL`` dataset) with the same observation window, and restart episodes
when they end. gym-anytrading's ``StocksEnv`` steps one env in Python; axon_lab's
``BatchedTradingEnv`` steps ``--n-envs`` windows per call, through the backtest fill model, and
each counted step is one environment step (one bar of one window). The single ``TradingEnv`` is
timed too, for reference. Every figure is the median of ``--repeats`` runs; the last line reads
``ratio_vs_gym_anytrading=X``: the batched env's steps/s at ``--ratio-n-envs`` windows over
gym-anytrading's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _median_rate(run: Callable[[], int], repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = run()
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default="googl-1d")
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--episode-length", type=int, default=256)
    parser.add_argument(
        "--n-envs", type=int, nargs="+", default=[64, 256, 1024], help="batch sizes timed"
    )
    parser.add_argument("--ratio-n-envs", type=int, default=1024, help="batch size of the ratio")
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per timed run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import gymnasium
    from gym_anytrading.envs import StocksEnv

    from axon_lab.data import load_sample
    from axon_lab.rl import BatchedTradingEnv, TradingEnv, make_market

    frame = load_sample(args.sample)
    market = make_market(frame)  # shared: feature reads are setup, not stepping
    rng = np.random.default_rng(0)
    window = args.window

    peer_df = frame.rename(columns=str.capitalize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium's passive checker on the peer env
        peer = StocksEnv(peer_df, window_size=window, frame_bound=(window, len(peer_df)))
        peer.reset(seed=0)

        def run_peer() -> int:
            for _ in range(args.steps):
                _, _, term, trunc, _ = peer.step(int(rng.integers(0, 2)))
                if term or trunc:
                    peer.reset()
            return args.steps

        peer_rate = _median_rate(run_peer, args.repeats)

    single = TradingEnv(market, window=window, episode_length=args.episode_length)
    single.reset(seed=0)

    def run_single() -> int:
        for _ in range(args.steps):
            _, _, term, trunc, _ = single.step(int(rng.integers(0, 3)))
            if term or trunc:
                single.reset()
        return args.steps

    single_rate = _median_rate(run_single, args.repeats)

    batched: dict[int, float] = {}
    for n_envs in sorted({*args.n_envs, args.ratio_n_envs}):
        venv = BatchedTradingEnv(
            market, n_envs=n_envs, window=window, episode_length=args.episode_length, seed=0
        )
        venv.reset()
        venv.step(np.zeros(n_envs, dtype=np.int64))  # compile / load the kernel outside timing
        calls = max(args.steps // n_envs, 1) * 4
        actions = rng.integers(0, 3, size=(calls, n_envs))

        def run_batched(venv=venv, calls=calls, actions=actions, n_envs=n_envs) -> int:
            for i in range(calls):
                venv.step(actions[i])
            return calls * n_envs

        batched[n_envs] = _median_rate(run_batched, args.repeats)
    ratio = batched[args.ratio_n_envs] / peer_rate
    print(f"data: {args.sample} ({len(frame)} bars), window={window}, repeats={args.repeats}")
    print(f"gym-anytrading StocksEnv   {peer_rate:>12,.0f} steps/s")
    print(f"axon_lab TradingEnv        {single_rate:>12,.0f} steps/s")
    for n_envs, rate in batched.items():
        print(
            f"axon_lab BatchedTradingEnv {rate:>12,.0f} steps/s  (n_envs={n_envs}, "
            f"x{rate / peer_rate:.1f})"
        )
    print(f"gymnasium {gymnasium.__version__}")
    print(f"ratio_vs_gym_anytrading={ratio:.1f}")


if __name__ == "__main__":
    main()
