"""The vectorized entry point :func:`run` and its frozen :class:`BacktestResult`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.backtest import _kernels as k
from axon_lab.backtest import _stats as s
from axon_lab.backtest import _trades as t
from axon_lab.backtest._inputs import (
    Prices,
    check_orders,
    check_prices,
    check_settings,
    check_signals,
)
from axon_lab.errors import ConfigError

__all__ = ["FILL_KINDS", "BacktestResult", "run", "simulate"]

FILL_KINDS = ("market", "limit", "stop", "stop_loss", "take_profit")
"""Fill kinds in :attr:`BacktestResult.orders`, indexed by the kernel's ``F_*`` codes."""

_EMPTY2 = np.empty((0, 0))
_EMPTY_I = np.empty(0, dtype=np.int64)
_EMPTY_F = np.empty(0)


def simulate(
    px: Prices,
    target: np.ndarray | None,
    target_kind: int,
    orders: tuple[np.ndarray, ...] | None,
    params: np.ndarray,
    init_cash: float,
    n_cols: int,
    *,
    series: bool = True,
    acc: np.ndarray = _EMPTY2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the fill kernel over all bars; return ``(equity, cash, position, records, state)``."""
    n = px.n_bars
    if orders is None:
        orders = (_EMPTY_I, _EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F, _EMPTY_F, _EMPTY_F)
    if target is None:
        n_sub = 0
        target = _EMPTY2
    else:
        n_sub = int(np.count_nonzero(~np.isnan(target)))
        if target.shape[1] == 1 and n_cols > 1:
            n_sub *= n_cols
    capacity = 2 * (n_sub + orders[0].shape[0]) + 1
    records = np.empty((capacity, k.N_REC))
    shape = (n, n_cols) if series else (0, 0)
    equity, cash, pos = np.empty(shape), np.empty(shape), np.empty(shape)
    state = k.init_state(n_cols, init_cash)
    for c in range(acc.shape[0]):
        s.init_acc_nb(acc[c], init_cash)
    kernel: Callable[..., int] = k.fill_range_nb
    m = kernel(
        px.open, px.high, px.low, px.close, target, target_kind, *orders, params, state,
        0, n, equity, cash, pos, records, acc,
    )  # fmt: skip
    return equity, cash, pos, records[:m], state


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    """The outcome of :func:`run`: series per column, order and trade records, statistics.

    Attributes:
        index: The bars' index.
        columns: One label per simulated column.
        init_cash: Starting cash per column.
    """

    index: pd.Index
    columns: pd.Index
    init_cash: float
    _timeframe: float | str | pd.Timedelta | None = field(repr=False)
    _equity: np.ndarray = field(repr=False)
    _cash: np.ndarray = field(repr=False)
    _pos: np.ndarray = field(repr=False)
    _records: np.ndarray = field(repr=False)
    _fees: np.ndarray = field(repr=False)
    _prices: Prices = field(repr=False)
    _settings: dict[str, Any] = field(repr=False)

    @property
    def bars_per_year(self) -> float:
        """Annualisation factor used by :meth:`stats` (see :func:`bars_per_year`)."""
        return s.bars_per_year(self.index, self._timeframe)

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=self.index, columns=self.columns, copy=False)

    @property
    def equity(self) -> pd.DataFrame:
        """Equity at each bar's close: ``cash + position * close``."""
        return self._frame(self._equity)

    @property
    def cash(self) -> pd.DataFrame:
        """Cash after each bar."""
        return self._frame(self._cash)

    @property
    def positions(self) -> pd.DataFrame:
        """Position (signed units) after each bar."""
        return self._frame(self._pos)

    @property
    def drawdown(self) -> pd.DataFrame:
        """Drawdown from the running peak (including ``init_cash``), as a negative fraction."""
        peak = np.maximum(np.maximum.accumulate(self._equity, axis=0), self.init_cash)
        return self._frame(self._equity / peak - 1.0)

    @property
    def final_equity(self) -> np.ndarray:
        """Equity at the last bar, one value per column."""
        return np.array(self._equity[-1], dtype=np.float64)

    @property
    def orders(self) -> pd.DataFrame:
        """Fills: column, bar, timestamp, signed size, price (after slippage), fee, kind."""
        r = self._records
        bar = r[:, k.R_BAR].astype(np.int64)
        return pd.DataFrame(
            {
                "col": self.columns[r[:, k.R_COL].astype(np.int64)],
                "bar": bar,
                "timestamp": self.index[bar],
                "size": r[:, k.R_SIZE],
                "price": r[:, k.R_PRICE],
                "fee": r[:, k.R_FEE],
                "kind": pd.Categorical.from_codes(
                    r[:, k.R_KIND].astype(np.int64), categories=pd.Index(list(FILL_KINDS))
                ),
            }
        )

    def _trade_array(self) -> np.ndarray:
        r = self._records
        trades: np.ndarray = t.trades_from_orders_nb(
            r[:, k.R_COL].copy(),
            r[:, k.R_BAR].copy(),
            r[:, k.R_SIZE].copy(),
            r[:, k.R_PRICE].copy(),
            r[:, k.R_FEE].copy(),
            len(self.columns),
            self._equity_close_last(),
        )
        return trades

    def _equity_close_last(self) -> np.ndarray:
        close = self._prices.close[-1]
        return np.broadcast_to(close, (len(self.columns),)).copy()

    @property
    def trades(self) -> pd.DataFrame:
        """Position-level trades (see :mod:`axon_lab.backtest._trades`), open ones last-valued."""
        a = self._trade_array()
        entry = a[:, t.TR_ENTRY_BAR].astype(np.int64)
        exit_ = a[:, t.TR_EXIT_BAR].astype(np.int64)
        is_open = a[:, t.TR_IS_OPEN] > 0
        exit_ts = pd.Series(self.index[np.where(is_open, 0, exit_)]).where(~is_open)
        return pd.DataFrame(
            {
                "col": self.columns[a[:, t.TR_COL].astype(np.int64)],
                "entry_bar": entry,
                "exit_bar": exit_,
                "entry_time": self.index[entry],
                "exit_time": exit_ts.to_numpy(),
                "direction": np.where(a[:, t.TR_DIRECTION] > 0, "long", "short"),
                "size": a[:, t.TR_SIZE],
                "entry_price": a[:, t.TR_ENTRY_PRICE],
                "exit_price": a[:, t.TR_EXIT_PRICE],
                "fees": a[:, t.TR_FEES],
                "pnl": a[:, t.TR_PNL],
                "return": a[:, t.TR_RETURN],
                "is_open": is_open,
            }
        )

    def _acc(self) -> np.ndarray:
        n_cols = len(self.columns)
        acc = np.empty((n_cols, s.N_ACC))
        for c in range(n_cols):
            s.equity_stats_nb(self._equity, self._pos, self.init_cash, acc[c], c)
        a = self._trade_array()
        s.fold_trades(acc, a[:, t.TR_COL], a[:, t.TR_IS_OPEN] > 0, a[:, t.TR_PNL])
        acc[:, s.A_FEES] = self._fees
        return acc

    def stats(self) -> pd.DataFrame | pd.Series:
        """Performance statistics (keys: ``STATS_KEYS``; definitions in ``_stats``).

        Returns:
            A Series for a single column, else a DataFrame with one row per column.
        """
        acc = self._acc()
        rows = [s.finalize(a, self.init_cash, self.bars_per_year) for a in acc]
        if len(rows) == 1:
            return pd.Series(rows[0], name=self.columns[0], dtype=object)
        return pd.DataFrame(rows, index=self.columns)

    def buy_and_hold_stats(self) -> pd.DataFrame | pd.Series:
        """Stats of buying all-in on the first bar's signal and holding, with the same costs."""
        px = self._prices
        entries = np.zeros((px.n_bars, px.close.shape[1]), dtype=bool)
        entries[0] = True
        bh = run(
            {"open": px.open, "high": px.high, "low": px.low, "close": px.close},
            entries=entries,
            **{**self._settings, "timeframe": self.bars_per_year},
        )
        return bh.stats()


def run(
    prices: Any,
    *,
    entries: Any = None,
    exits: Any = None,
    target: Any = None,
    orders: Any = None,
    fees: float = 0.0,
    fixed_fee: float = 0.0,
    slippage_bps: float = 0.0,
    init_cash: float = 10_000.0,
    direction: str = "long",
    leverage: float = 1.0,
    lot_size: float = 0.0,
    execution: str = "next_open",
    timeframe: float | str | pd.Timedelta | None = None,
) -> BacktestResult:
    """Backtest signals, target positions or explicit orders over bars x columns.

    Args:
        prices: A DataFrame (or mapping) with open/high/low/close columns, 1-D per asset or 2-D
            ``(bars, assets)``; or closes alone (then open = high = low = close).
        entries: Boolean entry signals ``(bars,)`` or ``(bars, columns)``, decided at the close.
            An entry goes all-in long; ignored while already long.
        exits: Boolean exit signals: close the position (``direction="long"``) or go all-in
            short (``"both"``). An entry and an exit on one bar cancel out.
        target: Target position as a fraction of equity (NaN = leave as is), in ``[0, 1]`` long
            only or ``[-leverage, leverage]``; rebalances whenever given.
        orders: Explicit orders: a DataFrame (or mapping of columns) with ``bar`` (integer
            position of the decision bar) or ``timestamp``, ``size`` (signed units; ``inf`` /
            ``-inf`` for as much as allowed; 0 cancels), and optional ``type`` (market | limit |
            stop), ``price``, ``stop_loss``, ``take_profit`` (absolute prices) and ``col``.
            Limit and stop orders rest until filled or replaced (one working order per column).
        fees: Fee as a fraction of notional per fill (0.001 = 0.1 %).
        fixed_fee: Fixed fee per fill, in cash.
        slippage_bps: Adverse slippage on market and stop fills, in basis points.
        init_cash: Starting cash per column.
        direction: ``"long"`` (long only) or ``"both"`` (shorts allowed).
        leverage: Gross exposure cap as a multiple of equity; 1.0 means cash never goes negative.
        lot_size: Round order sizes down to a multiple of this (0 = fractional).
        execution: ``"next_open"`` fills market orders at the next bar's open, ``"close"`` at the
            decision bar's close.
        timeframe: Bars per year, or a bar length; inferred from a DatetimeIndex when None.

    Returns:
        A :class:`BacktestResult`.

    Raises:
        DataError: Bad prices (missing columns, NaN or non-positive values), naming the bar.
        ConfigError: Bad settings, misaligned signals or malformed orders, naming the position.

    Examples:
        >>> import numpy as np
        >>> close = np.array([10.0, 11.0, 12.0, 11.0, 13.0])
        >>> res = run(close, entries=[True, False, False, False, False], fees=0.0)
        >>> res.positions.iloc[:, 0].tolist()  # fills at the next open (here = close)
        [0.0, 909.0909090909091, 909.0909090909091, 909.0909090909091, 909.0909090909091]
        >>> round(float(res.final_equity[0]), 2)
        11818.18
        >>> int(res.stats()["n_open_trades"])
        1
    """
    px = check_prices(prices)
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
    tgt, kind, labels = check_signals(entries, exits, target, px, direction, leverage)
    n_cols = px.close.shape[1]
    if tgt is not None:
        if n_cols > 1 and tgt.shape[1] not in (1, n_cols):
            raise ConfigError(
                f"signals have {tgt.shape[1]} columns but prices have {n_cols} assets; "
                "pass one column per asset, or a single asset."
            )
        n_cols = max(n_cols, tgt.shape[1])
    ords = check_orders(orders, px, n_cols) if orders is not None else None
    if timeframe is not None:
        s.bars_per_year(None, timeframe)  # validate now; inferring from the index waits
    equity, cash, pos, records, state = simulate(px, tgt, kind, ords, params, init_cash, n_cols)
    columns = pd.Index(labels) if labels is not None and len(labels) == n_cols else None
    return BacktestResult(
        index=px.index,
        columns=columns if columns is not None else pd.RangeIndex(n_cols),
        init_cash=float(init_cash),
        _timeframe=timeframe,
        _equity=equity,
        _cash=cash,
        _pos=pos,
        _records=records,
        _fees=state[:, k.S_FEES].copy(),
        _prices=px,
        _settings={
            "fees": fees,
            "fixed_fee": fixed_fee,
            "slippage_bps": slippage_bps,
            "init_cash": init_cash,
            "leverage": leverage,
            "lot_size": lot_size,
            "execution": execution,
            "timeframe": timeframe,
        },
    )
