"""Cash and position accounting from a stream of fills.

A :class:`Ledger` applies :class:`~axon_lab.records.Fill` s in order: cash moves by the fill's
notional and fee, positions by its signed quantity, and realised PnL is booked against the
average entry price when a position is reduced, closed or flipped.

Examples:
    >>> from datetime import datetime, timezone
    >>> from axon_lab.records import Fill
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> ledger = Ledger(cash=1000.0)
    >>> ledger.apply(Fill(fill_id="f1", order_id="o1", symbol="X", side="buy",
    ...                   quantity=2.0, price=10.0, timestamp=t))
    >>> ledger.apply(Fill(fill_id="f2", order_id="o2", symbol="X", side="sell",
    ...                   quantity=1.0, price=15.0, timestamp=t))
    >>> ledger.quantity("X"), ledger.cash, ledger.realized_pnl
    (1.0, 995.0, 5.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from axon_lab.errors import ConfigError
from axon_lab.records import Fill, PortfolioSnapshot, Position, Side

__all__ = ["Ledger"]

_FLAT_TOLERANCE = 1e-12


def _same(a: float, b: float) -> bool:
    # equal and with the same sign (0.0 vs -0.0 is a change); a NaN never equals anything
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


class Ledger:
    """Running cash, positions, realised PnL and fees.

    :attr:`version` counts the changes to any of them (every fill, every cash, PnL or fee
    assignment that changes the value), so a reader can cache what it derives from the ledger
    until the version moves.

    Args:
        cash: Starting cash; must be finite.
    """

    def __init__(self, cash: float) -> None:
        if not math.isfinite(cash):
            raise ConfigError(f"cash must be finite, got {cash!r}")
        self.version = 0
        self._cash = float(cash)
        self._realized = 0.0
        self._fees = 0.0
        self._qty: dict[str, float] = {}
        self._avg: dict[str, float] = {}
        self.fills: list[Fill] = []
        self._by_order: dict[str, list[Fill]] = {}

    @property
    def cash(self) -> float:
        """The cash balance."""
        return self._cash

    @cash.setter
    def cash(self, value: float) -> None:
        if not _same(value, self._cash):
            self.version += 1
        self._cash = value

    @property
    def realized_pnl(self) -> float:
        """Realised profit and loss so far."""
        return self._realized

    @realized_pnl.setter
    def realized_pnl(self, value: float) -> None:
        if not _same(value, self._realized):
            self.version += 1
        self._realized = value

    @property
    def fees_paid(self) -> float:
        """Fees paid so far."""
        return self._fees

    @fees_paid.setter
    def fees_paid(self, value: float) -> None:
        if not _same(value, self._fees):
            self.version += 1
        self._fees = value

    def fills_of(self, order_id: str) -> tuple[Fill, ...]:
        """The fills of one order, in execution order (indexed; no scan of the history)."""
        return tuple(self._by_order.get(order_id, ()))

    def positions(self) -> dict[str, float]:
        """Every open position's signed quantity, by symbol (a copy)."""
        return dict(self._qty)

    def quantity(self, symbol: str) -> float:
        """The signed position in ``symbol`` (0.0 when flat)."""
        return self._qty.get(symbol, 0.0)

    def seed_position(self, symbol: str, quantity: float, avg_price: float) -> None:
        """Open a position held before the ledger started (no fill, no cash moved).

        Raises:
            ConfigError: If the symbol already has a position or a value is not finite.
        """
        if symbol in self._qty:
            raise ConfigError(f"{symbol!r} already has a position of {self._qty[symbol]!r}")
        if not (math.isfinite(quantity) and math.isfinite(avg_price) and avg_price > 0):
            raise ConfigError(
                f"cannot seed {symbol!r} with quantity {quantity!r} at {avg_price!r}; "
                "both must be finite and the price > 0"
            )
        if quantity != 0.0:
            self._qty[symbol] = float(quantity)
            self._avg[symbol] = float(avg_price)
            self.version += 1

    def apply(self, fill: Fill) -> None:
        """Book one fill."""
        signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
        old = self._qty.get(fill.symbol, 0.0)
        avg = self._avg.get(fill.symbol, 0.0)
        new = old + signed
        if old == 0.0 or (old > 0) == (signed > 0):
            # Opening or adding: the average entry price moves.
            self._avg[fill.symbol] = (abs(old) * avg + fill.quantity * fill.price) / abs(new)
        else:
            closed = min(abs(old), abs(signed))
            direction = 1.0 if old > 0 else -1.0
            self._realized += closed * (fill.price - avg) * direction
            if abs(signed) > abs(old):  # flipped through flat: the rest opens at the fill price
                self._avg[fill.symbol] = fill.price
        if abs(new) <= _FLAT_TOLERANCE * max(abs(old), abs(signed), 1.0):
            self._qty.pop(fill.symbol, None)
            self._avg.pop(fill.symbol, None)
        else:
            self._qty[fill.symbol] = new
        self._cash -= signed * fill.price + fill.fee
        self._fees += fill.fee
        self.fills.append(fill)
        self._by_order.setdefault(fill.order_id, []).append(fill)
        self.version += 1

    def snapshot(self, timestamp: datetime, mark: Callable[[str], float]) -> PortfolioSnapshot:
        """A :class:`~axon_lab.records.PortfolioSnapshot` with positions marked by ``mark``.

        Raises:
            RecordError: If a value is invalid (e.g. a NaN mark).
        """
        positions: dict[str, Position] = {
            sym: Position(symbol=sym, quantity=qty, avg_price=self._avg[sym], mark_price=mark(sym))
            for sym, qty in sorted(self._qty.items())
        }
        return PortfolioSnapshot.build(
            timestamp=timestamp,
            cash=self._cash,
            positions=positions,
            realized_pnl=self._realized,
            fees_paid=self._fees,
        )
