"""Vectorized backtesting: one compiled fill model for runs, parameter sweeps and the sim backend.

The only public API is what this module exports.

Stepping (for the ``sim`` backend): the vectorized run is one call of :func:`fill_range_nb` over
all bars; a stepper calls it repeatedly over consecutive ranges ``[start, stop)`` with the same
``state`` array (cash, position, the working limit/stop order, the position's stop-loss and
take-profit; see ``_kernels``). After advancing through a decision bar ``t`` it submits that
bar's order with :func:`submit_orders_nb` and advances from ``t + 1``. Fills, cash and equity are
identical to one vectorized call given the same orders (property tests hold both ways).

Examples:
    >>> import numpy as np
    >>> bars = np.ones((4, 1)) * 100.0
    >>> params = make_params(fees=0.001)
    >>> state = init_state_nb(1, 10_000.0)
    >>> out = [np.empty((4, 1)) for _ in range(3)]
    >>> records = np.empty((8, 6))
    >>> col, bar, typ = (np.zeros(1, np.int64) for _ in range(3))
    >>> size, price, sl, tp = np.array([10.0]), *(np.full(1, np.nan) for _ in range(3))
    >>> n = fill_range_nb(
    ...     bars, bars, bars, bars, np.empty((0, 0)), 0, col, bar, typ, size, price, sl, tp,
    ...     params, state, 0, 2, *out, records, np.empty((0, 0)),
    ... )
    >>> n, int(records[0, 1]), float(state[0, 1])  # one fill on bar 1 (next open): 10 units
    (1, 1, 10.0)
"""

from axon_lab.backtest._inputs import check_choice, check_prices, make_params
from axon_lab.backtest._kernels import N_STATE, fill_range_nb, init_state_nb, submit_orders_nb
from axon_lab.backtest._result import FILL_KINDS, BacktestResult, run
from axon_lab.backtest._splits import purged_kfold_splits, walk_forward_splits
from axon_lab.backtest._stats import STATS_KEYS, bars_per_year
from axon_lab.backtest._sweep import sma_cross_signals, sweep

__all__ = [
    "check_choice",
    "check_prices",
    # running
    "run",
    "BacktestResult",
    "STATS_KEYS",
    "FILL_KINDS",
    "bars_per_year",
    # sweeps
    "sweep",
    "sma_cross_signals",
    # validation splits
    "walk_forward_splits",
    "purged_kfold_splits",
    # kernels for steppers
    "fill_range_nb",
    "submit_orders_nb",
    "init_state_nb",
    "make_params",
    "N_STATE",
]
