"""One run's numbers for an evaluation: the backtest's own statistics plus turnover.

Return, Sharpe, Sortino, maximum drawdown, exposure and fees are taken from
:meth:`axon_lab.backtest.BacktestResult.stats` (their definitions live in the backtest's stats
module and are checked there against empyrical), so an evaluation reports exactly the numbers a
backtest shows. What the backtest does not compute is added here:

- ``turnover = sum(|size| * price over all fills) / mean(equity)``: how many times the book
  was traded over the run; ``annual_turnover = turnover / (n_bars / periods_per_year)``;
- ``fee_drag = fees_paid / init_cash``: the fees as a share of the starting capital.

:func:`bar_returns` gives the per-bar returns behind the Sharpe ratio (``equity[t] /
equity[t-1] - 1`` with ``init_cash`` before the first bar), for :func:`sharpe_test` and the
bootstrap.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from axon_lab.errors import EvaluationError

if TYPE_CHECKING:
    from axon_lab.backtest import BacktestResult

__all__ = ["RunStats", "bar_returns", "run_stats"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStats:
    """The per-run statistics an evaluation reports (NaN where the backtest has none).

    Attributes:
        column: The backtest column these numbers describe.
        n_bars: Number of bars.
        periods_per_year: The annualisation factor the backtest used.
        total_return: ``final / init_cash - 1``.
        sharpe: Annualised Sharpe ratio (risk-free rate 0).
        sortino: Annualised Sortino ratio.
        max_drawdown: Largest fall from a running peak, a negative fraction.
        exposure: Share of bars that end with a position.
        fees_paid: Fees paid, in cash.
        fee_drag: ``fees_paid / init_cash``.
        turnover: Traded notional over mean equity, for the whole run.
        annual_turnover: ``turnover`` per year.
    """

    column: Hashable
    n_bars: int
    periods_per_year: float
    total_return: float
    sharpe: float
    sortino: float
    max_drawdown: float
    exposure: float
    fees_paid: float
    fee_drag: float
    turnover: float
    annual_turnover: float


def _column(result: BacktestResult, column: Hashable | None) -> tuple[int, Hashable]:
    """Position and label of ``column`` among the backtest's columns."""
    cols: list[Hashable] = list(result.columns)
    if column is None:
        if len(cols) != 1:
            raise EvaluationError(
                f"the backtest has {len(cols)} columns {cols[:5]}; pass column= to pick one."
            )
        return 0, cols[0]
    if column not in cols:
        raise EvaluationError(
            f"column={column!r} is not a column of the backtest; use one of {cols[:10]}."
        )
    return cols.index(column), column


def bar_returns(result: BacktestResult, column: Hashable | None = None) -> pd.Series:
    """Per-bar returns of one backtest column, as its Sharpe ratio sees them.

    Args:
        result: A backtest (:func:`axon_lab.backtest.run`).
        column: Which column; may be omitted when there is one.

    Returns:
        ``equity[t] / equity[t-1] - 1`` per bar, with ``init_cash`` before the first bar.

    Raises:
        EvaluationError: If ``column`` is missing or unknown.

    Examples:
        >>> from axon_lab.backtest import run
        >>> res = run([10.0, 10.0, 11.0, 12.1], entries=[True, False, False, False])
        >>> bar_returns(res).round(4).tolist()  # bought at bar 1's open
        [0.0, 0.0, 0.1, 0.1]
    """
    pos, label = _column(result, column)
    equity = result.equity.iloc[:, pos].to_numpy()
    prev = np.concatenate([[result.init_cash], equity[:-1]])
    return pd.Series(equity / prev - 1.0, index=result.index, name=label)


def run_stats(result: BacktestResult, column: Hashable | None = None) -> RunStats:
    """The per-run statistics of one backtest column (definitions in the module doc).

    Args:
        result: A backtest (:func:`axon_lab.backtest.run`).
        column: Which column; may be omitted when there is one.

    Returns:
        A :class:`RunStats`.

    Raises:
        EvaluationError: If ``column`` is missing or unknown.

    Examples:
        >>> from axon_lab.backtest import run
        >>> res = run([10.0, 10.0, 11.0, 12.1], entries=[True, False, False, False],
        ...           init_cash=100.0, timeframe=252)
        >>> st = run_stats(res)  # 100 traded over a mean equity of (100 + 100 + 110 + 121) / 4
        >>> round(st.total_return, 3), st.exposure, round(st.turnover, 4)
        (0.21, 0.75, 0.9281)
    """
    pos, label = _column(result, column)
    stats = result.stats()
    row = stats if isinstance(stats, pd.Series) else stats.iloc[pos]
    orders = result.orders
    fills = orders[orders["col"] == label]
    traded = float((fills["size"].abs() * fills["price"]).sum())
    equity = result.equity.iloc[:, pos].to_numpy()
    n_bars = int(equity.size)
    ppy = float(result.bars_per_year)
    mean_equity = float(np.mean(equity))
    turnover = traded / mean_equity if mean_equity > 0 else math.nan
    fees = float(row["fees_paid"])
    return RunStats(
        column=label,
        n_bars=n_bars,
        periods_per_year=ppy,
        total_return=float(row["total_return"]),
        sharpe=float(row["sharpe"]),
        sortino=float(row["sortino"]),
        max_drawdown=float(row["max_drawdown"]),
        exposure=float(row["exposure"]),
        fees_paid=fees,
        fee_drag=fees / result.init_cash,
        turnover=turnover,
        annual_turnover=turnover / (n_bars / ppy),
    )
