"""Parameter sweeps: a grid becomes columns, one call evaluates them all, one row per parameter set.

Memory stays bounded: nothing of size bars x combos is kept. The built-in ``"sma_cross"`` strategy
runs a fused kernel (moving averages from one cumulative sum, signals, fills and statistics in a
single pass per column, columns in parallel) whose only per-column memory is a few small rows.
A callable strategy is evaluated chunk by chunk: its signals for at most ``chunk_cells`` cells are
simulated with stats folded bar by bar (no equity series), then dropped.

Both paths use the same fill and stats kernels as :func:`~axon_lab.backtest.run`, so a sweep row
equals ``run(...).stats()`` for that parameter set (a test holds it).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numba import prange

from axon_lab.backtest import _kernels as k
from axon_lab.backtest import _stats as s
from axon_lab.backtest import _trades as t
from axon_lab.backtest._inputs import check_choice, check_prices, check_settings, check_signals
from axon_lab.backtest._jit import kernel, parallel_kernel
from axon_lab.backtest._result import simulate
from axon_lab.errors import ConfigError

__all__ = ["sma_cross_signals", "sweep"]

Strategy = Callable[..., tuple[Any, Any]]


@kernel
def sma_cross_signals_nb(
    cs: np.ndarray, fast: int, slow: int, entries: np.ndarray, exits: np.ndarray
) -> None:
    """Fill ``entries``/``exits`` with SMA(fast) crossing above/below SMA(slow).

    ``cs`` is the cumulative sum of closes with a leading 0 (length bars + 1). A cross at bar
    ``i`` needs both averages defined at ``i - 1``.
    """
    n = cs.shape[0] - 1
    w0 = max(fast, slow)
    inv_f = 1.0 / fast
    inv_s = 1.0 / slow
    pf = 0.0
    ps = 0.0
    for i in range(n):
        entries[i] = False
        exits[i] = False
        if i < w0 - 1:
            continue
        f = (cs[i + 1] - cs[i + 1 - fast]) * inv_f
        sl = (cs[i + 1] - cs[i + 1 - slow]) * inv_s
        if i >= w0:
            entries[i] = f > sl and pf <= ps
            exits[i] = f < sl and pf >= ps
        pf = f
        ps = sl


def _cumsum(close: np.ndarray) -> np.ndarray:
    cs = np.empty(close.shape[0] + 1)
    cs[0] = 0.0
    np.cumsum(close, out=cs[1:])
    return cs


def sma_cross_signals(close: Any, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    """Entry and exit signals of a simple-moving-average crossover.

    Args:
        close: Closing prices, 1-D.
        fast: Fast window in bars.
        slow: Slow window in bars.

    Returns:
        Boolean ``(entries, exits)``: fast crosses above / below slow at that bar's close.

    Examples:
        >>> ent, ext = sma_cross_signals([3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0], 1, 2)
        >>> ent.nonzero()[0].tolist(), ext.nonzero()[0].tolist()
        ([3], [5])
    """
    c = np.ascontiguousarray(close, dtype=np.float64)
    if c.ndim != 1:
        raise ConfigError(f"close must be 1-D; got shape {c.shape}.")
    _check_windows(np.array([fast]), np.array([slow]), c.shape[0])
    ent = np.empty(c.shape[0], dtype=np.bool_)
    ext = np.empty(c.shape[0], dtype=np.bool_)
    sma_cross_signals_nb(_cumsum(c), int(fast), int(slow), ent, ext)
    return ent, ext


@parallel_kernel
def sma_cross_sweep_nb(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    cs: np.ndarray,
    fast: np.ndarray,
    slow: np.ndarray,
    short_value: float,
    params: np.ndarray,
    init_cash: float,
    acc_out: np.ndarray,
) -> None:
    """Fused SMA-crossover sweep: signals -> fills -> stats for each (fast, slow) column.

    Prices are 1-D; ``acc_out`` is ``(columns, N_ACC)``. Exits target ``short_value`` (0 = flat,
    -1 = short). Equivalent to :func:`fill_range_nb` on :func:`sma_cross_signals_nb` output.
    """
    n = close.shape[0]
    close_exec = params[k.P_CLOSE] > 0.0
    # typed constants, not literals: a literal argument compiles a helper again (_kernels rule 5)
    col = int(np.int64(0))
    signal = int(np.int64(k.K_SIGNAL))
    for j in prange(fast.shape[0]):
        st = k.init_state_nb(int(np.int64(1)), init_cash)[0]
        ts = np.zeros(t.N_TSTATE)
        trec = np.empty(t.N_TREC)
        rec = np.empty((4, k.N_REC))
        acc = acc_out[j]
        s.init_acc_nb(acc, init_cash)
        a = s.load_stats_nb(acc)
        fw = fast[j]
        sw = slow[j]
        w0 = max(fw, sw)
        inv_f = 1.0 / fw
        inv_s = 1.0 / sw
        pf = 0.0
        ps = 0.0
        # hot-path locals, reloaded from the state row after any event
        active = np.inf
        cash = init_cash
        pos = 0.0
        for i in range(n):
            m = int(np.int64(0))
            touched = False
            if active <= i:
                m = k._fill_working_nb(st, col, i, open_[i], high[i], low[i], params, rec, m)
                touched = True
            if i >= w0 - 1:
                f = (cs[i + 1] - cs[i + 1 - fw]) * inv_f
                sl = (cs[i + 1] - cs[i + 1 - sw]) * inv_s
                if i >= w0:
                    sig = np.nan
                    if f > sl and pf <= ps:
                        sig = 1.0
                    elif f < sl and pf >= ps:
                        sig = short_value
                    if not np.isnan(sig):
                        k._submit_nb(st, signal, sig, np.nan, np.nan, np.nan, i)
                        if close_exec:
                            m = k._fill_at_close_nb(st, col, i, close[i], params, rec, m)
                        touched = True
                pf = f
                ps = sl
            if touched:
                for r in range(m):
                    size, price, fee = rec[r, k.R_SIZE], rec[r, k.R_PRICE], rec[r, k.R_FEE]
                    if t.trade_update_nb(ts, i, size, price, fee, trec):
                        s.trade_stats_update_nb(acc, trec[t.TR_PNL])
                active = st[k.S_FROM] if st[k.S_KIND] != k.K_NONE else np.inf
                cash = st[k.S_CASH]
                pos = st[k.S_POS]
            a = s.stats_step_nb(a, i, cash + pos * close[i], pos)
        s.store_stats_nb(acc, a)
        acc[s.A_FEES] = st[k.S_FEES]
        if ts[t.T_POS] != 0.0:
            acc[s.A_NOPEN] = 1.0


def _check_windows(fast: np.ndarray, slow: np.ndarray, n_bars: int) -> None:
    for name, w in (("fast", fast), ("slow", slow)):
        bad = (w < 1) | (w > n_bars)
        if bad.any():
            raise ConfigError(
                f"grid[{name!r}] has window {w[bad][0]!r}; windows must be in 1..{n_bars} bars."
            )


def _grid_rows(grid: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    if not grid:
        raise ConfigError("grid is empty; pass e.g. {'fast': [5, 10], 'slow': [50, 100]}.")
    names = list(grid)
    for name in names:
        values = grid[name]
        if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
            raise ConfigError(f"grid[{name!r}] must be a list of values; got {values!r}.")
        if len(values) == 0:
            raise ConfigError(f"grid[{name!r}] is empty.")
    return pd.DataFrame(list(itertools.product(*(grid[n] for n in names))), columns=names)


def sweep(
    prices: Any,
    strategy: str | Strategy = "sma_cross",
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    fees: float = 0.0,
    fixed_fee: float = 0.0,
    slippage_bps: float = 0.0,
    init_cash: float = 10_000.0,
    direction: str = "long",
    leverage: float = 1.0,
    lot_size: float = 0.0,
    execution: str = "next_open",
    timeframe: float | str | pd.Timedelta | None = None,
    chunk_cells: int = 8_000_000,
) -> pd.DataFrame:
    """Evaluate every parameter set of ``grid`` on one asset; one row per set, params + stats.

    Args:
        prices: One asset's prices, as for :func:`~axon_lab.backtest.run`.
        strategy: ``"sma_cross"`` (grid keys ``fast``, ``slow``), or a callable
            ``strategy(close, **params) -> (entries, exits)`` over the 1-D closes.
        grid: Parameter name -> list of values; the Cartesian product is evaluated.
        fees: As in ``run``.
        fixed_fee: As in ``run``.
        slippage_bps: As in ``run``.
        init_cash: As in ``run``.
        direction: As in ``run``.
        leverage: As in ``run``.
        lot_size: As in ``run``.
        execution: As in ``run``.
        timeframe: As in ``run``.
        chunk_cells: For a callable strategy, the most signal cells (bars x columns) held at
            once.

    Returns:
        A DataFrame with the grid's columns followed by ``STATS_KEYS``.

    Raises:
        ConfigError: Unknown strategy, empty grid, bad windows or settings.

    Examples:
        >>> import numpy as np
        >>> close = 100 + np.cumsum(np.random.default_rng(0).normal(size=500))
        >>> res = sweep(close, "sma_cross", {"fast": [5, 10], "slow": [30, 50]}, fees=0.001)
        >>> res[["fast", "slow", "n_trades"]].shape
        (4, 3)
    """
    px = check_prices(prices)
    if px.close.shape[1] != 1:
        raise ConfigError(f"sweep takes one asset; prices has {px.close.shape[1]} columns.")
    params = check_settings(
        fees=fees,
        fixed_fee=fixed_fee,
        slippage_bps=slippage_bps,
        init_cash=init_cash,
        leverage=leverage,
        lot_size=lot_size,
        direction=direction,
        execution=execution,
    )
    rows = _grid_rows(grid or {})
    bpy = s.bars_per_year(px.index, timeframe)
    n_combos = len(rows)
    acc = np.empty((n_combos, s.N_ACC))
    if isinstance(strategy, str):
        check_choice("strategy", strategy, ("sma_cross",))
        missing = {"fast", "slow"} - set(rows.columns)
        if missing:
            raise ConfigError(f"grid for 'sma_cross' needs keys fast and slow; missing {missing}.")
        fast = rows["fast"].to_numpy(np.int64)
        slow = rows["slow"].to_numpy(np.int64)
        _check_windows(fast, slow, px.n_bars)
        close = np.ascontiguousarray(px.close[:, 0])
        sma_cross_sweep_nb(
            np.ascontiguousarray(px.open[:, 0]), np.ascontiguousarray(px.high[:, 0]),
            np.ascontiguousarray(px.low[:, 0]), close, _cumsum(close), fast, slow,
            -1.0 if direction == "both" else 0.0, params, float(init_cash), acc,
        )  # fmt: skip
    else:
        _sweep_callable(
            px, strategy, rows, params, float(init_cash), direction, leverage, acc, chunk_cells
        )
    stats = pd.DataFrame([s.finalize(a, init_cash, bpy) for a in acc], columns=list(s.STATS_KEYS))
    return pd.concat([rows, stats], axis=1)


def _sweep_callable(
    px: Any,
    strategy: Strategy,
    rows: pd.DataFrame,
    params: np.ndarray,
    init_cash: float,
    direction: str,
    leverage: float,
    acc: np.ndarray,
    chunk_cells: int,
) -> None:
    close = px.close[:, 0]
    chunk = max(1, min(len(rows), chunk_cells // max(px.n_bars, 1)))
    records_kwargs: list[dict[str, Any]] = [
        {str(key): v for key, v in rec.items()} for rec in rows.to_dict(orient="records")
    ]
    for lo in range(0, len(rows), chunk):
        part = records_kwargs[lo : lo + chunk]
        ent = np.empty((px.n_bars, len(part)), dtype=bool)
        ext = np.empty((px.n_bars, len(part)), dtype=bool)
        for j, kw in enumerate(part):
            e, x = strategy(close, **kw)
            ent[:, j] = np.asarray(e, dtype=bool)
            ext[:, j] = np.asarray(x, dtype=bool)
        tgt, kind, _ = check_signals(ent, ext, None, px, direction, leverage)
        del ent, ext
        sub = acc[lo : lo + len(part)]
        _, _, _, records, state = simulate(
            px, tgt, kind, None, params, init_cash, len(part), series=False, acc=sub
        )
        trades = t.trades_from_orders_nb(
            records[:, k.R_COL].copy(), records[:, k.R_BAR].copy(), records[:, k.R_SIZE].copy(),
            records[:, k.R_PRICE].copy(), records[:, k.R_FEE].copy(), len(part),
            np.full(len(part), close[-1]),
        )  # fmt: skip
        s.fold_trades(sub, trades[:, t.TR_COL], trades[:, t.TR_IS_OPEN] > 0, trades[:, t.TR_PNL])
        sub[:, s.A_FEES] = state[:, k.S_FEES]
