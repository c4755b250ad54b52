"""PortfolioSimBackend: a universe in one run, on the vectorized engine's fill kernel.

One kernel column per symbol, all advanced by **one** call of
:func:`~axon_lab.backtest.fill_range_nb` per step (numba over bars x symbols), so a step costs the
same Python whatever the universe's size. Orders are market orders in signed units, decided at the
close of a row and filled at the next row's open (``execution="next_open"``), exactly as in
``axon_lab.backtest.run(prices, orders=...)``.

Shared cash. The kernel keeps cash per column; here every column runs as a *sleeve* that starts
with :attr:`PortfolioSimBackend.sleeve_cash` (far above the account's cash, so the kernel never
caps a fill) and the account's cash is the starting cash plus the sum of the sleeves' changes.
The shared-cash limit is therefore not the kernel's: it is the portfolio risk line's buying-power
check (:func:`~axon_lab.risk.check_portfolio`), taken at the decision's marks. A fill at the next
open can cost more than the mark; keep a ``cash_buffer`` for that gap.

Missing bars (policy of :mod:`axon_lab.data.universe`): an order whose symbol has no bar on the
row it would fill on is cancelled before the kernel sees that row (``order_log`` status
``"cancelled_no_bar"``), never filled at a stale price. The kernel reads prices carried forward
over such rows (and back-filled before a listing) only so that it never meets a NaN; no order is
ever working on them.

Parity: ``backtest.run(backend.kernel_prices(), orders=<order_log rows sent>,
init_cash=backend.sleeve_cash, ...)`` gives the same fills (bar, size, price, fee) and the same
per-symbol cash and positions, to the last bit (``tests/portfolio/test_parity.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from axon_lab.backtest import fill_range_nb, init_state_nb, make_params, submit_orders_nb
from axon_lab.data import Universe, UniverseView
from axon_lab.errors import ConfigError
from axon_lab.records import Fill, PortfolioSnapshot, Position, Side

__all__ = ["PortfolioSimBackend"]

# state columns of the kernel (the layout documented in axon_lab.backtest's kernels)
_S_CASH, _S_POS, _S_KIND, _S_FEES = 0, 1, 2, 11
_K_NONE = 0
# order record layout
_R_COL, _R_BAR, _R_SIZE, _R_PRICE, _R_FEE = 0, 1, 2, 3, 4
_N_REC = 6
_EMPTY2 = np.empty((0, 0))
_EMPTY_I = np.empty(0, dtype=np.int64)
_EMPTY_F = np.empty(0)
_FILL_RANGE: Callable[..., int] = fill_range_nb
_SUBMIT: Callable[..., int] = submit_orders_nb
_SLEEVE_FACTOR = 100.0


def _stamp(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1_000)


class PortfolioSimBackend:
    """Backtest execution of a whole universe with the vectorized engine's fill model.

    Args:
        view: The universe view (its clock, marks and bars).
        cash: Starting cash of the one account.
        fees: Fee as a fraction of notional per fill.
        fixed_fee: Fixed fee per fill.
        slippage_bps: Adverse slippage on market fills, in basis points.
        direction: ``"long"`` or ``"both"`` (shorts allowed by the kernel).

    Raises:
        ConfigError: On a bad setting.
    """

    def __init__(
        self,
        view: UniverseView,
        *,
        cash: float,
        fees: float = 0.0,
        fixed_fee: float = 0.0,
        slippage_bps: float = 0.0,
        direction: str = "long",
    ) -> None:
        if not (isinstance(cash, int | float) and math.isfinite(cash) and cash > 0):
            raise ConfigError(f"cash must be a positive finite number, got {cash!r}.")
        self.view = view
        self.universe: Universe = view.universe
        self.init_cash = float(cash)
        self.settings = {"fees": fees, "fixed_fee": fixed_fee, "slippage_bps": slippage_bps,
                         "direction": direction}  # fmt: skip
        self._params = make_params(
            fees=fees, fixed_fee=fixed_fee, slippage_bps=slippage_bps, direction=direction,
            execution="next_open",
        )  # fmt: skip
        self.sleeve_cash = _SLEEVE_FACTOR * self.init_cash
        u = self.universe
        px = self.kernel_prices()
        self._o, self._h, self._l, self._c = (
            np.ascontiguousarray(px[k].to_numpy()) for k in ("open", "high", "low", "close")
        )
        self._has = view.has_bar
        self._marks = view.marks
        m = u.n_symbols
        self._state: np.ndarray = init_state_nb(m, self.sleeve_cash)
        self._done = 0
        self._pending = np.zeros(m, dtype=bool)
        self._sub_type = np.zeros(1, dtype=np.int64)
        self._sub_size = np.zeros(1)
        self._sub_nan = np.full(1, np.nan)
        self._sub_rec = np.empty((2, _N_REC))
        self._avg = np.zeros(m)
        self._fills: list[Fill] = []
        self._log: list[tuple[int, int, float, str]] = []
        self._n_orders = 0

    # ------------------------------------------------------------------ engine view
    def kernel_prices(self) -> dict[str, pd.DataFrame]:
        """The OHLC the kernel reads, never NaN.

        Carried forward over missing rows and back-filled before a listing; no order is ever
        working on those rows (see the module docstring).
        """
        u = self.universe
        out = {}
        for name in ("open", "high", "low", "close"):
            f = pd.DataFrame(getattr(u, name), index=u.index, columns=list(u.symbols))
            out[name] = f.ffill().bfill()
        return out

    @property
    def order_log(self) -> pd.DataFrame:
        """Every order placed so far.

        Columns: decision ``bar``, symbol column ``col``, signed ``size``, ``status``
        (``"sent"`` reached the kernel, ``"cancelled_no_bar"`` did not).
        """
        rows = self._log
        return pd.DataFrame(
            {
                "bar": np.array([r[0] for r in rows], dtype=np.int64),
                "col": np.array([r[1] for r in rows], dtype=np.int64),
                "size": np.array([r[2] for r in rows], dtype=np.float64),
                "status": [r[3] for r in rows],
            }
        )

    # ------------------------------------------------------------------ account
    @property
    def rows_done(self) -> int:
        """Rows of the clock the kernel has processed."""
        return self._done

    @property
    def positions(self) -> np.ndarray:
        """Signed units held per symbol (a copy)."""
        return self._state[:, _S_POS].copy()

    @property
    def cash(self) -> float:
        """The account's cash: the starting cash plus every sleeve's change."""
        return self.init_cash + math.fsum((self._state[:, _S_CASH] - self.sleeve_cash).tolist())

    @property
    def fees_paid(self) -> float:
        """Fees paid so far."""
        return math.fsum(self._state[:, _S_FEES].tolist())

    def marks(self) -> np.ndarray:
        """Each symbol's mark at the last processed row (NaN before it lists)."""
        if self._done == 0:
            return np.full(self.universe.n_symbols, np.nan)
        return np.asarray(self._marks[self._done - 1], dtype=np.float64)

    def symbol_values(self) -> np.ndarray:
        """Per symbol, its sleeve's equity change.

        That is the cash its fills moved plus its position at the mark; these sum to equity
        minus the starting cash.
        """
        marks = np.nan_to_num(self.marks(), nan=0.0)
        st = self._state
        return np.asarray((st[:, _S_CASH] - self.sleeve_cash) + st[:, _S_POS] * marks)

    def equity(self) -> float:
        """Cash plus positions at their marks."""
        marks = np.nan_to_num(self.marks(), nan=0.0)
        return self.cash + float(np.dot(self._state[:, _S_POS], marks))

    def snapshot(self, timestamp: datetime) -> PortfolioSnapshot:
        """The account as a :class:`~axon_lab.records.PortfolioSnapshot` at ``timestamp``."""
        pos = self._state[:, _S_POS]
        marks = self.marks()
        held = np.flatnonzero(pos != 0.0)
        syms = self.universe.symbols
        positions = {
            syms[j]: Position(
                symbol=syms[j], quantity=q, avg_price=a, mark_price=mk
            )
            for j, q, a, mk in zip(
                held.tolist(), pos[held].tolist(), self._avg[held].tolist(),
                marks[held].tolist(), strict=True,
            )
        }  # fmt: skip
        cash = self.cash
        equity = cash + math.fsum(p.quantity * p.mark_price for p in positions.values())
        unrealized = math.fsum(
            p.quantity * (p.mark_price - p.avg_price) for p in positions.values()
        )
        return PortfolioSnapshot(
            timestamp=timestamp, cash=cash, positions=positions, equity=equity,
            realized_pnl=equity - self.init_cash - unrealized, fees_paid=self.fees_paid,
        )  # fmt: skip

    @property
    def fills(self) -> tuple[Fill, ...]:
        """Every fill so far."""
        return tuple(self._fills)

    # ------------------------------------------------------------------ time
    def advance_to_row(self, n: int) -> tuple[tuple[Fill, ...], int]:
        """Process rows ``[rows_done, n)`` in one kernel call.

        Returns:
            The fills, and how many orders were cancelled because their symbol had no bar to
            fill on.
        """
        if n <= self._done:
            return (), 0
        cancelled = 0
        if self._pending.any():
            row = self._done
            gone = np.flatnonzero(self._pending & ~self._has[row])
            for c in gone.tolist():  # no bar to fill on: cancel (a zero-size order cancels)
                self._submit_one(c, row - 1, 0.0)
                cancelled += 1
                self._mark_log(c, "cancelled_no_bar")
            self._pending[:] = False
        m = self.universe.n_symbols
        records = np.empty((2 * (n - self._done) * m + 4, _N_REC))
        k = _FILL_RANGE(
            self._o, self._h, self._l, self._c, _EMPTY2, 3,
            _EMPTY_I, _EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F, _EMPTY_F, _EMPTY_F,
            self._params, self._state, self._done, n, _EMPTY2, _EMPTY2, _EMPTY2, records, _EMPTY2,
        )  # fmt: skip
        self._done = n
        return self._book(records[:k]), cancelled

    def _book(self, records: np.ndarray) -> tuple[Fill, ...]:
        if records.shape[0] == 0:
            return ()
        opens = self.universe.index.asi8
        syms = self.universe.symbols
        rows = records.tolist()
        # each fill's position before it: walk back from the kernel's final positions
        running: dict[int, float] = {}
        before: list[float] = []
        for row in reversed(rows):
            c = int(row[_R_COL])
            running[c] = running.get(c, float(self._state[c, _S_POS])) - row[_R_SIZE]
            before.append(running[c])
        before.reverse()
        out = []
        for row, held in zip(rows, before, strict=True):
            c, bar, size, price, fee = int(row[_R_COL]), int(row[_R_BAR]), row[_R_SIZE], \
                row[_R_PRICE], row[_R_FEE]  # fmt: skip
            after = held + size
            if held == 0.0 or held * size > 0.0:
                self._avg[c] = (abs(held) * self._avg[c] + abs(size) * price) / abs(after)
            elif after * held < 0.0:
                self._avg[c] = price  # flipped: the new side opened at this price
            elif after == 0.0:
                self._avg[c] = 0.0
            self._n_orders += 1
            fill = Fill(
                fill_id=f"P-{self._n_orders}-fill", order_id=f"P-{bar}-{syms[c]}",
                symbol=syms[c], side=Side.BUY if size > 0 else Side.SELL, quantity=abs(size),
                price=price, fee=max(fee, 0.0), timestamp=_stamp(int(opens[bar])),
            )  # fmt: skip
            out.append(fill)
        self._fills.extend(out)
        return tuple(out)

    # ------------------------------------------------------------------ orders
    def _submit_one(self, c: int, bar: int, size: float) -> None:
        self._sub_size[0] = size
        _SUBMIT(
            self._state, c, bar, float(self._c[bar, c]), self._sub_type, self._sub_size,
            self._sub_nan, self._sub_nan, self._sub_nan, self._params, self._sub_rec,
        )  # fmt: skip

    def _mark_log(self, c: int, status: str) -> None:
        for i in range(len(self._log) - 1, -1, -1):
            if self._log[i][1] == c and self._log[i][3] == "sent":
                bar, col, size, _ = self._log[i]
                self._log[i] = (bar, col, size, status)
                return

    def submit(self, orders: np.ndarray) -> int:
        """Submit market orders decided at the last processed row.

        They fill at the next row's open. ``orders`` holds signed units per symbol (0: none).
        Returns how many were submitted.

        Raises:
            ConfigError: If no row has been processed, or ``orders`` has the wrong shape.
        """
        if self._done == 0:
            raise ConfigError("advance the backend to a decision time before submitting orders.")
        sizes = np.asarray(orders, dtype=np.float64)
        if sizes.shape != (self.universe.n_symbols,) or not np.isfinite(sizes).all():
            raise ConfigError(
                f"orders must be {self.universe.n_symbols} finite sizes, one per symbol; got "
                f"shape {sizes.shape}."
            )
        bar = self._done - 1
        cols = np.flatnonzero(sizes != 0.0)
        for c, size in zip(cols.tolist(), sizes[cols].tolist(), strict=True):
            self._submit_one(c, bar, size)
            self._log.append((bar, c, size, "sent"))
        self._pending[cols] = True
        pending = self._state[:, _S_KIND] != _K_NONE
        self._pending &= pending
        return int(cols.shape[0])

    def __repr__(self) -> str:
        return (
            f"PortfolioSimBackend({self.universe.n_symbols} symbols, row {self._done}/"
            f"{self.universe.n_bars}, equity={self.equity():.2f})"
        )
