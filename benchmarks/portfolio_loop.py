"""Portfolio loop cost against the number of symbols, beside the one-symbol OADER loop.

A rules portfolio agent (:class:`~axon_lab.portfolio.RankingAnalyst`: rank by trend, hold the top
10) runs through :class:`~axon_lab.portfolio.PortfolioLoop` over 1, 50, 100 and 500 synthetic
symbols x 500 daily bars, recording every step (the StepRecord with its weights and per-symbol
PnL, and the observation of the whole universe, stored by content) in an SQLite explain store on
tmpfs; every step observes, ranks, sizes, checks portfolio risk, submits and records. The peer,
timed in the same run on the same machine, is the one-symbol loop (``make_agent``: the rules
analyst, the full risk chain, the sim backend) over 500 daily bars of one symbol, recorded the
same way.

Each figure is the median over ``--repeat`` runs of a whole run's wall time per step (setup --
building the universe, its features and the store -- excluded, for both).

Last line: ``us_per_symbol_step=X ratio_vs_single=Y``: X is the 500-symbol loop's cost per step
divided by 500; Y is X over the one-symbol loop's cost per step (the target is Y <= 0.2).

Usage: ``python benchmarks/portfolio_loop.py [--bars 500] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from axon_lab.data import make_synthetic, make_synthetic_universe
from axon_lab.oader import make_agent
from axon_lab.portfolio import RankingAnalyst, make_portfolio_agent

SIZES = (1, 50, 100, 500)


def _folder() -> Path:
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="axon-portfolio-bench-", dir=base))


def single_us(bars: int, folder: Path, i: int) -> float:
    data = make_synthetic(bars, timeframe="1d", start="2020-01-01", seed=7, symbol="SYN")
    url = f"sqlite:///{folder / f'single-{i}.db'}"
    loop = make_agent(data, store=url, run_id=f"single-{i}", progress=False)
    n = loop.remaining or 0
    t = time.perf_counter()
    loop.run()
    dt = time.perf_counter() - t
    loop.close()
    return dt / n * 1e6


def portfolio_us(n_symbols: int, bars: int, folder: Path, i: int) -> tuple[float, int]:
    uni = make_synthetic_universe(n_symbols, bars, seed=11)
    url = f"sqlite:///{folder / f'p{n_symbols}-{i}.db'}"
    loop = make_portfolio_agent(
        uni, analyst=RankingAnalyst(top_k=10), store=url, run_id=f"p{n_symbols}-{i}",
        fees=0.001, band=0.005,
    )  # fmt: skip
    n = loop.remaining
    t = time.perf_counter()
    loop.run()
    dt = time.perf_counter() - t
    recorded = len(loop.store.steps(loop.run_id))
    loop.close()
    return dt / n * 1e6, recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = _folder()
    warnings.simplefilter("ignore")  # synthetic data: repair notices are not the subject
    # warm up numba and SQLite once, outside the timings
    single_us(60, folder, -1)
    portfolio_us(3, 60, folder, -1)
    singles, per_size = [], {n: [] for n in SIZES}
    for i in range(args.repeat):
        singles.append(single_us(args.bars, folder, i))
        for n in SIZES:
            us, recorded = portfolio_us(n, args.bars, folder, i)
            if recorded != args.bars:
                raise SystemExit(f"{n} symbols: recorded {recorded} steps of {args.bars}")
            per_size[n].append(us)
    single = statistics.median(singles)
    print(f"one-symbol OADER loop (make_agent, rules): {single:,.0f} us/step")
    print(f"{'symbols':>8} {'us/step':>10} {'us/symbol-step':>15} {'vs single':>10}")
    for n in SIZES:
        us = statistics.median(per_size[n])
        print(f"{n:>8} {us:>10,.0f} {us / n:>15,.1f} {us / n / single:>10.4f}")
    x = statistics.median(per_size[500]) / 500
    print(f"us_per_symbol_step={x:.2f} ratio_vs_single={x / single:.4f}")


if __name__ == "__main__":
    main()
