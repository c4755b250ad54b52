"""Trade accounting: turning fills into position-level trades.

A trade runs from the fill that opens a position (flat -> non-flat) to the fill that closes it
(back to flat); fills on the same side add to it at an averaged entry price, fills on the other
side realise PnL against that average. A fill that flips the position closes the trade and opens
a new one with the remainder; its fee is split pro rata by size. PnL is net of entry and exit
fees; a trade's return is its PnL over the summed entry notional.

Rules as in :mod:`axon_lab.backtest._kernels`: ``_nb`` kernels, arrays in, arrays out. The same
:func:`trade_update_nb` serves the order-records pass and the fused sweep kernels, so a sweep's
trade statistics equal a run's.
"""

from __future__ import annotations

import numpy as np

from axon_lab.backtest._jit import helper, kernel

# trade state layout (one float64 row per column)
T_POS = 0
T_AVG = 1
T_ENTRY_FEES = 2
T_EXIT_FEES = 3
T_REALIZED = 4
T_ENTRY_BAR = 5
T_ENTRY_VALUE = 6
T_EXIT_VALUE = 7
T_EXIT_QTY = 8
T_ENTRY_QTY = 9
N_TSTATE = 10

# trade record layout (float64 rows)
TR_COL = 0
TR_ENTRY_BAR = 1
TR_EXIT_BAR = 2
TR_DIRECTION = 3
TR_SIZE = 4
TR_ENTRY_PRICE = 5
TR_EXIT_PRICE = 6
TR_FEES = 7
TR_PNL = 8
TR_RETURN = 9
TR_IS_OPEN = 10
N_TREC = 11


@kernel
def new_trade_state_nb() -> np.ndarray:
    """Return a flat trade state row."""
    return np.zeros(N_TSTATE)


@helper
def _open_nb(ts: np.ndarray, bar: int, size: float, price: float, fee: float) -> None:
    ts[T_POS] = size
    ts[T_AVG] = price
    ts[T_ENTRY_FEES] = fee
    ts[T_EXIT_FEES] = 0.0
    ts[T_REALIZED] = 0.0
    ts[T_ENTRY_BAR] = bar
    ts[T_ENTRY_VALUE] = abs(size) * price
    ts[T_EXIT_VALUE] = 0.0
    ts[T_EXIT_QTY] = 0.0
    ts[T_ENTRY_QTY] = abs(size)


@helper
def trade_update_nb(
    ts: np.ndarray, bar: int, size: float, price: float, fee: float, out: np.ndarray
) -> bool:
    """Apply one fill to trade state ``ts``; return True if it closed a trade.

    When a trade closes, ``out`` (length ``N_TREC``) receives its record; ``TR_COL`` is left to
    the caller.
    """
    pos = ts[T_POS]
    if pos == 0.0:
        _open_nb(ts, bar, size, price, fee)
        return False
    if (size > 0.0) == (pos > 0.0):
        qty = abs(pos)
        ts[T_AVG] = (ts[T_AVG] * qty + price * abs(size)) / (qty + abs(size))
        ts[T_POS] = pos + size
        ts[T_ENTRY_FEES] += fee
        ts[T_ENTRY_VALUE] += abs(size) * price
        ts[T_ENTRY_QTY] += abs(size)
        return False
    direction = 1.0 if pos > 0.0 else -1.0
    qty = min(abs(size), abs(pos))
    close_fee = fee * qty / abs(size)
    ts[T_REALIZED] += (price - ts[T_AVG]) * qty * direction
    ts[T_EXIT_FEES] += close_fee
    ts[T_EXIT_VALUE] += price * qty
    ts[T_EXIT_QTY] += qty
    new_pos = pos + size
    if abs(size) < abs(pos):
        ts[T_POS] = new_pos
        return False
    _write_trade_nb(ts, bar, bool(np.bool_(False)), price, out)
    ts[T_POS] = 0.0
    rest = abs(size) - qty
    if rest > 0.0:
        _open_nb(ts, bar, -direction * rest, price, fee - close_fee)
    return True


@helper
def _write_trade_nb(ts: np.ndarray, bar: int, is_open: bool, last: float, out: np.ndarray) -> None:
    # Callers pass typed values (``bool(np.bool_(True))``), not literals: numba would compile a
    # separate specialisation for each literal argument.
    direction = 1.0 if ts[T_POS] > 0.0 else -1.0
    fees = ts[T_ENTRY_FEES] + ts[T_EXIT_FEES]
    realized = ts[T_REALIZED]
    exit_value = ts[T_EXIT_VALUE]
    exit_qty = ts[T_EXIT_QTY]
    if is_open:
        rem = abs(ts[T_POS])
        realized += (last - ts[T_AVG]) * rem * direction
        exit_value += last * rem
        exit_qty += rem
    pnl = realized - fees
    out[TR_ENTRY_BAR] = ts[T_ENTRY_BAR]
    out[TR_EXIT_BAR] = -1.0 if is_open else bar
    out[TR_DIRECTION] = direction
    out[TR_SIZE] = ts[T_ENTRY_QTY]
    out[TR_ENTRY_PRICE] = ts[T_ENTRY_VALUE] / ts[T_ENTRY_QTY]
    out[TR_EXIT_PRICE] = exit_value / exit_qty if exit_qty > 0.0 else np.nan
    out[TR_FEES] = fees
    out[TR_PNL] = pnl
    out[TR_RETURN] = pnl / ts[T_ENTRY_VALUE] if ts[T_ENTRY_VALUE] > 0.0 else np.nan
    out[TR_IS_OPEN] = 1.0 if is_open else 0.0


@kernel
def trades_from_orders_nb(
    rec_col: np.ndarray,
    rec_bar: np.ndarray,
    rec_size: np.ndarray,
    rec_price: np.ndarray,
    rec_fee: np.ndarray,
    n_cols: int,
    last_close: np.ndarray,
) -> np.ndarray:
    """Return ``(trades, N_TREC)`` records from fills sorted by (column, bar).

    Trades still open after the last fill are marked open and valued at ``last_close[col]``.
    """
    n = rec_col.shape[0]
    out = np.empty((n + n_cols, N_TREC))
    m = 0
    ts = np.zeros(N_TSTATE)
    for k in range(n):
        c = int(rec_col[k])
        if k == 0 or rec_col[k - 1] != rec_col[k]:
            ts[:] = 0.0
        if trade_update_nb(ts, int(rec_bar[k]), rec_size[k], rec_price[k], rec_fee[k], out[m]):
            out[m, TR_COL] = c
            m += 1
        last_of_col = k == n - 1 or rec_col[k + 1] != rec_col[k]
        if last_of_col and ts[T_POS] != 0.0:
            _write_trade_nb(ts, int(np.int64(-1)), bool(np.bool_(True)), last_close[c], out[m])
            out[m, TR_COL] = c
            m += 1
    return out[:m]
