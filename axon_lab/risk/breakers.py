"""Circuit breakers: gates that close on their own when rejections or losses pile up.

* :class:`RejectionCircuitBreaker` — ``max_rejections`` rejections (by the limit or backend lines)
  within ``window`` halt trading for ``cooldown``; it reopens by itself afterwards.
* :class:`PnLCircuitBreaker` — a drawdown from peak equity or a loss since the start of the UTC
  day past a threshold moves it to HALTED, or to REDUCING where only position-reducing orders
  pass. A daily-loss trip clears at the next UTC day; a drawdown trip needs :meth:`reset`.

Times are the loop's clock readings carried by each order context and report.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import date, datetime, timedelta

from axon_lab.errors import ConfigError
from axon_lab.records import DefenceLine, PortfolioSnapshot

from .context import OrderContext
from .daily import day_of
from .gate import BaseRiskGate, GateState
from .report import ExecutionReport

__all__ = ["PnLCircuitBreaker", "RejectionCircuitBreaker"]


class RejectionCircuitBreaker(BaseRiskGate):
    """Halts for ``cooldown`` after ``max_rejections`` rejections within ``window``.

    Args:
        max_rejections: Rejections within the window that trip the breaker (>= 1).
        window: The sliding window rejections are counted over.
        cooldown: How long the breaker stays halted.
        lines: Which defence lines' rejections count (default: limits and backend; the gate's
            own rejections never count, or it would hold itself shut).
        name: The gate's name.

    Examples:
        >>> from datetime import timedelta
        >>> breaker = RejectionCircuitBreaker(
        ...     max_rejections=3, window=timedelta(minutes=1), cooldown=timedelta(minutes=5))
        >>> breaker.state.value
        'open'
    """

    default_name = "rejection_circuit_breaker"

    def __init__(
        self,
        *,
        max_rejections: int,
        window: timedelta,
        cooldown: timedelta,
        lines: frozenset[DefenceLine] = frozenset({DefenceLine.LIMIT, DefenceLine.BACKEND}),
        name: str | None = None,
    ) -> None:
        if max_rejections < 1:
            raise ConfigError(f"max_rejections must be >= 1, got {max_rejections!r}")
        if window <= timedelta(0) or cooldown <= timedelta(0):
            raise ConfigError(f"window and cooldown must be positive, got {window!r}, {cooldown!r}")
        super().__init__(name=name)
        self.max_rejections = max_rejections
        self.window = window
        self.cooldown = cooldown
        self.lines = frozenset(lines) - {DefenceLine.GATE}
        self._rejections: deque[datetime] = deque()
        self._until: datetime | None = None

    def _update(self, ctx: OrderContext) -> None:
        self._expire(ctx.now)

    def mark(self, portfolio: PortfolioSnapshot, now: datetime) -> GateState:
        """Reopen once the cooldown has elapsed, orders or not; returns the state."""
        self._expire(now)
        return self._state

    def _expire(self, now: datetime) -> None:
        if self._until is not None and now >= self._until:
            self._until = None
            self._rejections.clear()
            self._set_state(GateState.OPEN, at=now, cause="cooldown elapsed")

    def observe(self, report: ExecutionReport) -> None:
        """Count the report's rejection if it came from a counted line; trip when due."""
        rejection = report.rejection
        if rejection is None or rejection.line not in self.lines:
            return
        now = rejection.timestamp
        self._expire(now)
        if self._until is not None:
            return
        self._rejections.append(now)
        while self._rejections and self._rejections[0] <= now - self.window:
            self._rejections.popleft()
        if len(self._rejections) >= self.max_rejections:
            self._until = now + self.cooldown
            self._set_state(
                GateState.HALTED,
                at=now,
                cause=(
                    f"{len(self._rejections)} rejections within {self.window}, last "
                    f"{rejection.rule}; halted until {self._until.isoformat()}"
                ),
                limit=float(self.max_rejections),
                observed=float(len(self._rejections)),
            )


class PnLCircuitBreaker(BaseRiskGate):
    """Trips on drawdown from peak equity or on the day's loss.

    Args:
        max_drawdown: Fraction of peak equity, in (0, 1), that trips it (None: off).
        max_daily_loss: Loss in account currency since the UTC day's first reading that trips it
            (None: off).
        trip_to: ``GateState.HALTED`` or ``GateState.REDUCING``.
        name: The gate's name.

    Examples:
        >>> from datetime import datetime, timezone
        >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
        >>> breaker = PnLCircuitBreaker(max_drawdown=0.1, trip_to=GateState.REDUCING)
        >>> breaker.update_equity(100.0, at=t).value
        'open'
        >>> breaker.update_equity(85.0, at=t).value
        'reducing'
        >>> breaker.transitions[-1].cause
        'drawdown 15% from peak 100 >= 10%'
    """

    default_name = "pnl_circuit_breaker"

    def __init__(
        self,
        *,
        max_drawdown: float | None = None,
        max_daily_loss: float | None = None,
        trip_to: GateState = GateState.HALTED,
        name: str | None = None,
    ) -> None:
        if max_drawdown is None and max_daily_loss is None:
            raise ConfigError("set max_drawdown and/or max_daily_loss; both are None")
        if max_drawdown is not None and not (0 < max_drawdown < 1):
            raise ConfigError(f"max_drawdown is a fraction in (0, 1), got {max_drawdown!r}")
        if max_daily_loss is not None and not (
            math.isfinite(max_daily_loss) and max_daily_loss > 0
        ):
            raise ConfigError(f"max_daily_loss must be a finite amount > 0, got {max_daily_loss!r}")
        if trip_to is GateState.OPEN:
            raise ConfigError("trip_to must be GateState.HALTED or GateState.REDUCING")
        super().__init__(name=name)
        self.max_drawdown = max_drawdown
        self.max_daily_loss = max_daily_loss
        self.trip_to = trip_to
        self._peak: float | None = None
        self._day: date | None = None
        self._day_start: float = 0.0
        self._trip: str | None = None  # "drawdown" | "daily_loss"

    def _update(self, ctx: OrderContext) -> None:
        self.update_equity(ctx.portfolio.equity, at=ctx.now)

    def mark(self, portfolio: PortfolioSnapshot, now: datetime) -> GateState:
        """Feed the marked equity (the loop does this every step, before Decide)."""
        return self.update_equity(portfolio.equity, at=now)

    def update_equity(self, equity: float, *, at: datetime) -> GateState:
        """Feed an equity reading (every step's mark and every order's check); returns the state."""
        day = day_of(at)
        if day != self._day:
            self._day = day
            self._day_start = equity
            if self._trip == "daily_loss":
                self._trip = None
                self._set_state(GateState.OPEN, at=at, cause="new UTC day")
        self._peak = equity if self._peak is None else max(self._peak, equity)
        if self._trip is not None:
            return self._state
        if self.max_drawdown is not None and self._peak > 0:
            drawdown = (self._peak - equity) / self._peak
            if drawdown >= self.max_drawdown:
                self._trip = "drawdown"
                self._set_state(
                    self.trip_to,
                    at=at,
                    cause=(
                        f"drawdown {drawdown:.0%} from peak {self._peak:g} >= "
                        f"{self.max_drawdown:.0%}"
                    ),
                    limit=self.max_drawdown,
                    observed=drawdown,
                )
                return self._state
        loss = self._day_start - equity
        if self.max_daily_loss is not None and loss >= self.max_daily_loss:
            self._trip = "daily_loss"
            self._set_state(
                self.trip_to,
                at=at,
                cause=f"daily loss {loss:g} >= {self.max_daily_loss:g}",
                limit=self.max_daily_loss,
                observed=loss,
            )
        return self._state

    def reset(self, *, at: datetime, cause: str = "manual reset") -> None:
        """Reopen after a trip and restart the peak from the next reading."""
        self._trip = None
        self._peak = None
        self._set_state(GateState.OPEN, at=at, cause=cause)
