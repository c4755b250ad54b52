"""Compiled fill kernels: the one fill model behind vectorized runs, sweeps and the sim backend.

Rules (in the spirit of vectorbt's ``generic/nb.py``):

1. Functions ending in ``_nb`` are numba-compiled and cached on disk (decorators in ``_jit``);
   arrays in, arrays out. They never allocate 2-D temporaries and never raise on user data
   (inputs are validated in Python before any kernel runs).
2. Price arrays are 2-D float64 ``(bars, columns)``; a price array with one column is broadcast to
   every column. Outputs are written into arrays the caller allocates.
3. All per-column simulation state lives in one float64 array ``state`` of shape
   ``(columns, N_STATE)`` (layout: the ``S_*`` constants). :func:`fill_range_nb` advances bars
   ``[start, stop)`` and leaves ``state`` ready for the next call, so running ``[0, k)`` then
   ``[k, n)`` gives exactly the fills of one call over ``[0, n)``. This is the stepper a
   simulated trading backend uses between decision points.
4. Scalar settings travel in a 1-D float64 ``params`` array (layout: the ``P_*`` constants).
5. Compile time counts: a fresh process with an empty cache compiles every function a call reaches,
   and numba compiles a whole call graph up front. Nothing compiles at import, and each entry point
   reaches only what it needs (``run`` compiles neither the sweep nor the stats kernels). Python
   calls ``kernel`` functions only; helpers that only compiled code calls have no Python entry
   point (see ``_jit``). Small hot-path helpers are ``inline_helper``: LLVM inlines them (numba's
   own ``inline="always"`` inlines numba IR and re-types the helper at every call site: it made the
   first ``run`` seconds slower); rare, large handlers are ``helper``, compiled once and called.
   Pass typed constants (``int(np.int64(0))``), not literals, to compiled functions: numba compiles
   a separate specialisation for each literal argument. numba's on-disk cache only checks the
   calling function's own file: after editing a helper in ``_stats.py`` or ``_trades.py``, delete
   ``axon_lab/backtest/__pycache__/*.nb[ci]``.

The fill model, bar by bar for each column:

1. The working order (at most one per column; a new submission replaces it) becomes active on the
   bar after its submission. A market/target order fills at the open. A buy limit fills at
   ``min(open, limit)`` if ``low <= limit``; a buy stop at ``max(open, stop)`` if
   ``high >= stop`` (sells mirror). Gaps through the price fill at the open.
2. The open position's stop-loss and take-profit (attached by the order that opened it) are
   checked from the bar after that fill: a gap through either at the open fills at the open;
   otherwise, if the bar's range touches both, the stop-loss is assumed hit first (conservative).
3. New submissions at this bar are registered (explicit orders first, then the target); each
   replaces the working order, so the last one submitted on a bar is the one that works. With
   ``execution="close"`` a market/target order submitted on this bar fills at its close instead of
   waiting for the next open.
4. ``cash``, ``position`` and ``equity = cash + position * close`` are recorded.

Slippage worsens market, stop and stop-loss fills by ``slippage`` (a fraction); limit and
take-profit orders fill at their price. Fees are ``notional * fees + fixed_fee`` per fill. Buys
are capped so that ``cash >= -(leverage - 1) * equity`` after the fill (no negative cash at
leverage 1); shorts (only if allowed) are capped at ``|position| * price <= leverage * equity``.
Sizes are rounded down to a multiple of ``lot_size`` when it is positive.
"""

from __future__ import annotations

import numpy as np

from axon_lab.backtest._jit import helper, inline_helper, kernel
from axon_lab.backtest._stats import NO_STATS, load_stats_nb, stats_step_nb, store_stats_nb

# ----------------------------------------------------------------------------- state layout
S_CASH = 0
S_POS = 1
S_KIND = 2  # working order kind, K_*
S_SIZE = 3  # units (signed, may be +-inf) or target fraction
S_PRICE = 4  # limit / stop price
S_SL = 5  # stop-loss the working order will attach
S_TP = 6  # take-profit the working order will attach
S_FROM = 7  # first bar the working order is active on
S_POS_SL = 8  # stop-loss attached to the open position
S_POS_TP = 9  # take-profit attached to the open position
S_SLTP_FROM = 10  # first bar the position's stop-loss / take-profit are checked on
S_FEES = 11  # cumulative fees paid
N_STATE = 12

# working order kinds
K_NONE = 0
K_MARKET = 1
K_TARGET = 2
K_SIGNAL = 3
K_LIMIT = 4
K_STOP = 5

# order types accepted in explicit orders
OT_MARKET = 0
OT_LIMIT = 1
OT_STOP = 2

# fill kinds written to order records
F_MARKET = 0
F_LIMIT = 1
F_STOP = 2
F_STOP_LOSS = 3
F_TAKE_PROFIT = 4

# params layout
P_FEES = 0
P_FIXED = 1
P_SLIP = 2
P_LOT = 3
P_LEV = 4
P_SHORT = 5
P_CLOSE = 6
N_PARAMS = 7

# order record layout (float64 rows)
R_COL = 0
R_BAR = 1
R_SIZE = 2
R_PRICE = 3
R_FEE = 4
R_KIND = 5
N_REC = 6


def init_state(n_cols: int, init_cash: float) -> np.ndarray:
    """Return a fresh ``(n_cols, N_STATE)`` state (plain numpy; see :func:`init_state_nb`)."""
    state = np.full((n_cols, N_STATE), np.nan)
    state[:, S_CASH] = init_cash
    state[:, [S_POS, S_KIND, S_FROM, S_SLTP_FROM, S_FEES]] = 0.0
    return state


@kernel
def init_state_nb(n_cols: int, init_cash: float) -> np.ndarray:
    """Return a fresh ``(n_cols, N_STATE)`` state: all cash, flat, no working order."""
    state = np.full((n_cols, N_STATE), np.nan)
    for c in range(n_cols):
        state[c, S_CASH] = init_cash
        state[c, S_POS] = 0.0
        state[c, S_KIND] = K_NONE
        state[c, S_FROM] = 0.0
        state[c, S_SLTP_FROM] = 0.0
        state[c, S_FEES] = 0.0
    return state


@inline_helper
def fill_nb(
    st: np.ndarray, size: float, price: float, slip_on: bool, params: np.ndarray
) -> tuple[float, float, float]:
    """Execute ``size`` units (signed; +-inf means as much as allowed) at ``price``.

    Updates ``st`` (one state row) in place and returns ``(filled, exec_price, fee)``; ``filled``
    is 0.0 when nothing could be filled.
    """
    fees = params[P_FEES]
    fixed = params[P_FIXED]
    lot = params[P_LOT]
    lev = params[P_LEV]
    cash = st[S_CASH]
    pos = st[S_POS]
    equity = cash + pos * price
    if size > 0.0:
        adj = price * (1.0 + params[P_SLIP]) if slip_on else price
        spendable = cash + (lev - 1.0) * max(equity, 0.0)
        max_size = (spendable - fixed) / (1.0 + fees) / adj
        if max_size <= 0.0:
            return 0.0, adj, 0.0
        capped = size >= max_size
        fsize = max_size if capped else size
        if lot > 0.0:
            fsize = np.floor(fsize / lot + 1e-9) * lot  # round down to a multiple of lot
            if fsize * adj * (1.0 + fees) + fixed > spendable:
                fsize -= lot
            capped = False
        if fsize <= 0.0:
            return 0.0, adj, 0.0
        value = fsize * adj
        # all-in: spend exactly the spendable cash, so cash lands on its floor (0 at leverage 1)
        fee = spendable - value if capped else value * fees + fixed
        st[S_CASH] = cash - spendable if capped else cash - value - fee
        st[S_POS] = pos + fsize
        st[S_FEES] += fee
        return fsize, adj, fee
    if size < 0.0:
        adj = price * (1.0 - params[P_SLIP]) if slip_on else price
        short_room = pos + lev * max(equity, 0.0) / adj
        max_sell = short_room if params[P_SHORT] > 0.0 else max(pos, 0.0)
        if max_sell <= 0.0:
            return 0.0, adj, 0.0
        fsize = min(-size, max_sell)
        if lot > 0.0 and fsize != pos:
            fsize = min(np.floor(fsize / lot + 1e-9) * lot, max_sell)
        if fsize <= 0.0:
            return 0.0, adj, 0.0
        value = fsize * adj
        fee = value * fees + fixed
        if fee > value and cash + value - fee < 0.0:
            return 0.0, adj, 0.0
        st[S_CASH] = cash + value - fee
        st[S_POS] = pos - fsize
        st[S_FEES] += fee
        return -fsize, adj, fee
    return 0.0, price, 0.0


@inline_helper
def target_delta_nb(
    st: np.ndarray, frac: float, price: float, kind: int, allow_short: bool
) -> float:
    """Units to trade to reach ``frac`` of equity at ``price`` (0.0 when nothing to do).

    ``kind == K_SIGNAL`` skips the order when the position already has the target's sign (a
    repeated entry signal does not rebalance); ``K_TARGET`` always rebalances.
    """
    pos: float = st[S_POS]
    same_side = (frac > 0.0 and pos > 0.0) or (frac < 0.0 and pos < 0.0)
    if kind == K_SIGNAL and (same_side or (frac == 0.0 and pos == 0.0)):
        return 0.0
    if frac == 0.0:
        return -pos
    if frac < 0.0 and not allow_short:
        return -pos
    equity: float = st[S_CASH] + pos * price
    desired = frac * equity / price
    delta = desired - pos
    if abs(delta) * price <= 1e-12 * max(abs(equity), 1.0):
        return 0.0
    return delta


@inline_helper
def _record_nb(
    records: np.ndarray, n: int, c: int, i: int, size: float, price: float, fee: float, kind: int
) -> int:
    records[n, R_COL] = c
    records[n, R_BAR] = i
    records[n, R_SIZE] = size
    records[n, R_PRICE] = price
    records[n, R_FEE] = fee
    records[n, R_KIND] = kind
    return n + 1


@inline_helper
def _fill_working_nb(
    st: np.ndarray,
    c: int,
    i: int,
    o: float,
    h: float,
    lo: float,
    params: np.ndarray,
    records: np.ndarray,
    n: int,
) -> int:
    kind = int(st[S_KIND])
    size = st[S_SIZE]
    px = st[S_PRICE]
    price = np.nan
    fkind = F_MARKET
    if kind in (K_MARKET, K_TARGET, K_SIGNAL):
        price = o
    elif kind == K_LIMIT:
        fkind = F_LIMIT
        if size > 0.0:
            if o <= px:
                price = o
            elif lo <= px:
                price = px
        elif o >= px:
            price = o
        elif h >= px:
            price = px
    elif kind == K_STOP:
        fkind = F_STOP
        if size > 0.0:
            if o >= px:
                price = o
            elif h >= px:
                price = px
        elif o <= px:
            price = o
        elif lo <= px:
            price = px
    if np.isnan(price):
        return n  # resting order not triggered on this bar
    if kind in (K_TARGET, K_SIGNAL):
        size = target_delta_nb(st, size, price, kind, params[P_SHORT] > 0.0)
    sl = st[S_SL]
    tp = st[S_TP]
    st[S_KIND] = K_NONE
    if size == 0.0:
        return n
    pos_before = st[S_POS]
    filled, xp, fee = fill_nb(st, size, price, kind != K_LIMIT, params)
    if filled == 0.0:
        return n
    # the position's stop-loss / take-profit: cleared when it closes or flips, replaced by the
    # filled order's own (checked from the next bar)
    pos = st[S_POS]
    if pos == 0.0 or (pos > 0.0) != (pos_before > 0.0) or pos_before == 0.0:
        st[S_POS_SL] = np.nan
        st[S_POS_TP] = np.nan
    if pos != 0.0 and (not np.isnan(sl) or not np.isnan(tp)):
        st[S_POS_SL] = sl
        st[S_POS_TP] = tp
        st[S_SLTP_FROM] = i + 1
    return _record_nb(records, n, c, i, filled, xp, fee, fkind)


@helper
def _check_sltp_nb(
    st: np.ndarray,
    c: int,
    i: int,
    o: float,
    h: float,
    lo: float,
    params: np.ndarray,
    records: np.ndarray,
    n: int,
) -> int:
    pos = st[S_POS]
    sl = st[S_POS_SL]
    tp = st[S_POS_TP]
    price = np.nan
    fkind = F_STOP_LOSS
    if pos > 0.0:
        if not np.isnan(sl) and o <= sl:
            price = o
        elif not np.isnan(tp) and o >= tp:
            price = o
            fkind = F_TAKE_PROFIT
        elif not np.isnan(sl) and lo <= sl:
            price = sl
        elif not np.isnan(tp) and h >= tp:
            price = tp
            fkind = F_TAKE_PROFIT
    else:
        if not np.isnan(sl) and o >= sl:
            price = o
        elif not np.isnan(tp) and o <= tp:
            price = o
            fkind = F_TAKE_PROFIT
        elif not np.isnan(sl) and h >= sl:
            price = sl
        elif not np.isnan(tp) and lo <= tp:
            price = tp
            fkind = F_TAKE_PROFIT
    if np.isnan(price):
        return n
    filled, xp, fee = fill_nb(st, -pos, price, fkind == F_STOP_LOSS, params)
    if filled == 0.0:
        return n
    if st[S_POS] == 0.0:
        st[S_POS_SL] = np.nan
        st[S_POS_TP] = np.nan
    return _record_nb(records, n, c, i, filled, xp, fee, fkind)


@inline_helper
def _submit_nb(
    st: np.ndarray, kind: int, size: float, price: float, sl: float, tp: float, i: int
) -> None:
    if size == 0.0 and kind == K_MARKET:
        st[S_KIND] = K_NONE  # a zero-size order cancels the working order
        return
    st[S_KIND] = kind
    st[S_SIZE] = size
    st[S_PRICE] = price
    st[S_SL] = sl
    st[S_TP] = tp
    st[S_FROM] = i + 1


@inline_helper
def _sltp_from_nb(st: np.ndarray) -> float:
    """First bar the position's stop-loss / take-profit are checked on (inf if none)."""
    armed = st[S_POS] != 0.0 and not (np.isnan(st[S_POS_SL]) and np.isnan(st[S_POS_TP]))
    first: float = st[S_SLTP_FROM]
    return first if armed else np.inf


@helper
def _fill_at_close_nb(
    st: np.ndarray, c: int, i: int, cl: float, params: np.ndarray, records: np.ndarray, n: int
) -> int:
    """With close execution, fill a market/target order submitted on bar ``i`` at its close."""
    kind = st[S_KIND]
    if params[P_CLOSE] > 0.0 and st[S_FROM] == i + 1 and kind in (K_MARKET, K_TARGET, K_SIGNAL):
        st[S_FROM] = i
        return _fill_working_nb(st, c, i, cl, cl, cl, params, records, n)
    return n


@kernel
def submit_orders_nb(
    state: np.ndarray,
    c: int,
    i: int,
    close_i: float,
    types: np.ndarray,
    sizes: np.ndarray,
    prices: np.ndarray,
    sls: np.ndarray,
    tps: np.ndarray,
    params: np.ndarray,
    records: np.ndarray,
) -> int:
    """Submit the orders decided at the close of bar ``i`` to column ``c`` (the stepper's entry).

    A stepper advances :func:`fill_range_nb` over ``[start, i + 1)`` with no orders, decides,
    calls this once with that bar's orders (in submission order; each replaces the working
    order, as in a vectorized run), then advances from ``i + 1``: the fills equal those of one
    vectorized call given the same orders. With close execution a market order fills at
    ``close_i`` now (the ``equity``/``cash``/``position`` rows written for bar ``i`` predate it).

    Returns:
        The number of order records written to ``records`` from row 0 (0 or 1).
    """
    st = state[c]
    for j in range(types.shape[0]):
        ot = types[j]
        kind = K_MARKET if ot == OT_MARKET else (K_LIMIT if ot == OT_LIMIT else K_STOP)
        _submit_nb(st, kind, sizes[j], prices[j], sls[j], tps[j], i)
    if params[P_CLOSE] > 0.0:
        return _fill_at_close_nb(st, c, i, close_i, params, records, int(np.int64(0)))
    return 0


@kernel
def fill_range_nb(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    target: np.ndarray,
    target_kind: int,
    ord_col: np.ndarray,
    ord_bar: np.ndarray,
    ord_type: np.ndarray,
    ord_size: np.ndarray,
    ord_price: np.ndarray,
    ord_sl: np.ndarray,
    ord_tp: np.ndarray,
    params: np.ndarray,
    state: np.ndarray,
    start: int,
    stop: int,
    equity_out: np.ndarray,
    cash_out: np.ndarray,
    pos_out: np.ndarray,
    records: np.ndarray,
    acc: np.ndarray,
) -> int:
    """Advance every column over bars ``[start, stop)``; return the number of order records.

    Args:
        open_: Opens, ``(bars, 1 | columns)``. ``high``, ``low``, ``close`` likewise.
        high: Highs.
        low: Lows.
        close: Closes.
        target: Target fractions ``(bars, 1 | columns)``, NaN = no order; ``(0, 0)`` for none.
        target_kind: ``K_TARGET`` (rebalance) or ``K_SIGNAL`` (skip when already on that side).
        ord_col: Explicit orders, sorted by (column, bar, submission order): column.
        ord_bar: Bar the order is submitted on (decided at that bar's close).
        ord_type: ``OT_MARKET``, ``OT_LIMIT`` or ``OT_STOP``.
        ord_size: Signed units, +-inf for as much as allowed; 0 cancels the working order.
        ord_price: Limit / stop price (NaN for market).
        ord_sl: Stop-loss price attached to the resulting position (NaN for none).
        ord_tp: Take-profit price attached to the resulting position (NaN for none).
        params: Settings, layout ``P_*``.
        state: ``(columns, N_STATE)`` state, updated in place.
        start: First bar to process.
        stop: One past the last bar to process.
        equity_out: ``(bars, columns)`` output, rows ``[start, stop)`` written; ``(0, 0)`` skips.
        cash_out: Same for cash.
        pos_out: Same for position.
        records: ``(capacity, N_REC)`` order records written from row 0.
        acc: ``(columns, N_ACC)`` stats accumulators (see ``_stats``) folded bar by bar, so
            sweeps need no equity series; ``(0, 0)`` skips.
    """
    n_cols = state.shape[0]
    pcols = open_.shape[1]
    has_target = target.shape[0] > 0
    tcols = target.shape[1]
    write = equity_out.shape[0] > 0
    fold = acc.shape[0] > 0
    close_exec = params[P_CLOSE] > 0.0
    n = int(np.int64(0))  # typed, not the literal 0 (rule 5)
    k0 = 0
    for c in range(n_cols):
        st = state[c]
        pc = c if pcols > 1 else 0
        tc = c if tcols > 1 else 0
        while k0 < ord_col.shape[0] and ord_col[k0] < c:
            k0 += 1
        k = k0
        while k < ord_col.shape[0] and ord_col[k] == c and ord_bar[k] < start:
            k += 1
        # Hot-path locals: LLVM keeps them in registers; they are reloaded after any event.
        nxt = ord_bar[k] if k < ord_col.shape[0] and ord_col[k] == c else -1
        active = st[S_FROM] if st[S_KIND] != K_NONE else np.inf
        sltp = _sltp_from_nb(st)
        cash = st[S_CASH]
        pos = st[S_POS]
        a = load_stats_nb(acc[c]) if fold else NO_STATS
        for i in range(start, stop):
            cl = close[i, pc]
            t = target[i, tc] if has_target else np.nan
            if active <= i or sltp <= i or nxt == i or not np.isnan(t):
                o = open_[i, pc]
                h = high[i, pc]
                lo = low[i, pc]
                if st[S_KIND] != K_NONE and st[S_FROM] <= i:
                    n = _fill_working_nb(st, c, i, o, h, lo, params, records, n)
                if _sltp_from_nb(st) <= i:
                    n = _check_sltp_nb(st, c, i, o, h, lo, params, records, n)
                while k < ord_col.shape[0] and ord_col[k] == c and ord_bar[k] == i:
                    ot = ord_type[k]
                    kind = K_MARKET if ot == OT_MARKET else (K_LIMIT if ot == OT_LIMIT else K_STOP)
                    _submit_nb(st, kind, ord_size[k], ord_price[k], ord_sl[k], ord_tp[k], i)
                    k += 1
                if not np.isnan(t):
                    _submit_nb(st, target_kind, t, np.nan, np.nan, np.nan, i)
                if close_exec:  # a guard here: calling a compiled function costs ~0.2 us
                    n = _fill_at_close_nb(st, c, i, cl, params, records, n)
                nxt = ord_bar[k] if k < ord_col.shape[0] and ord_col[k] == c else -1
                active = st[S_FROM] if st[S_KIND] != K_NONE else np.inf
                sltp = _sltp_from_nb(st)
                cash = st[S_CASH]
                pos = st[S_POS]
            if write:
                cash_out[i, c] = cash
                pos_out[i, c] = pos
                equity_out[i, c] = cash + pos * cl
            if fold:
                a = stats_step_nb(a, i, cash + pos * cl, pos)
        if fold:
            store_stats_nb(acc[c], a)
    return n
