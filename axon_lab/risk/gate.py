"""Defence line 3, RiskGates: dynamic switches that stop trading when conditions turn bad.

A gate is OPEN (orders pass), REDUCING (only orders that reduce a position pass, as in
nautilus_trader's RiskEngine) or HALTED (nothing passes). Every state change is kept as a
:class:`GateTransition` with its cause.

To write a gate, subclass :class:`BaseRiskGate` and implement :meth:`BaseRiskGate._update`, which
looks at the order context and moves the state with :meth:`BaseRiskGate._set_state`; the base turns
the state into a verdict. Override :meth:`BaseRiskGate.observe` to learn from outcomes and
:meth:`BaseRiskGate.mark` to watch the portfolio as it is marked to market every step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Protocol, runtime_checkable

from axon_lab.records import DefenceLine, GateState, GateTransition, PortfolioSnapshot, RiskVerdict

from .context import OrderContext, approve, reject
from .report import ExecutionReport

__all__ = [
    "AlwaysOpenGate",
    "BaseRiskGate",
    "GateState",
    "GateTransition",
    "RiskGate",
]

_LINE = DefenceLine.GATE


@runtime_checkable
class RiskGate(Protocol):
    """What the chain consumes: a named gate that judges orders and observes outcomes."""

    @property
    def name(self) -> str:
        """The gate's name, used as the verdict's rule."""
        ...

    @property
    def state(self) -> GateState:
        """The current state."""
        ...

    def check(self, ctx: OrderContext) -> RiskVerdict:
        """Judge one order."""
        ...

    def observe(self, report: ExecutionReport) -> None:
        """Learn from the outcome of an operation."""
        ...

    def mark(self, portfolio: PortfolioSnapshot, now: datetime) -> GateState:
        """See the portfolio marked to market at ``now`` (every step, orders or not)."""
        ...


class BaseRiskGate(ABC):
    """State, transition log and verdicts; subclasses implement :meth:`_update`.

    Args:
        name: The gate's name (default: the class's snake-case role).
    """

    default_name = "gate"

    def __init__(self, *, name: str | None = None) -> None:
        self._name = name or self.default_name
        self._state = GateState.OPEN
        self._transitions: list[GateTransition] = []

    @property
    def name(self) -> str:
        """The gate's name, used as the verdict's rule."""
        return self._name

    @property
    def state(self) -> GateState:
        """The current state."""
        return self._state

    @property
    def transitions(self) -> tuple[GateTransition, ...]:
        """Every state change so far, oldest first."""
        return tuple(self._transitions)

    @abstractmethod
    def _update(self, ctx: OrderContext) -> None:
        """Bring the state up to date for ``ctx`` (call :meth:`_set_state` to change it)."""

    def observe(self, report: ExecutionReport) -> None:
        """Learn from an operation's outcome (default: nothing)."""
        return None

    def mark(self, portfolio: PortfolioSnapshot, now: datetime) -> GateState:
        """See the portfolio marked to market at ``now``; returns the state (default: no change).

        The loop calls this every step before Decide, so a gate that watches equity trips
        between orders, not only when the next order is checked.
        """
        return self._state

    def check(self, ctx: OrderContext) -> RiskVerdict:
        """Update the state, then approve or reject ``ctx``'s order by it."""
        self._update(ctx)
        state = self._state
        if state is GateState.OPEN:
            return approve(ctx, _LINE, self._name, gate_state=state.value)
        last = self._transitions[-1] if self._transitions else None
        limit = last.limit if last is not None else None
        observed = last.observed if last is not None else None
        cause = last.cause if last is not None else ""
        if state is GateState.REDUCING and ctx.reduces_position:
            return approve(
                ctx,
                _LINE,
                self._name,
                limit=limit,
                observed=observed,
                gate_state=state.value,
                message=f"reducing only ({cause}); this order reduces the position",
            )
        fix = (
            "only orders that reduce a position pass"
            if state is GateState.REDUCING
            else "no orders pass"
        )
        return reject(
            ctx,
            _LINE,
            self._name,
            limit=limit,
            observed=observed,
            gate_state=state.value,
            message=f"gate {self._name!r} is {state.value} ({cause}); {fix}",
        )

    def _set_state(
        self,
        state: GateState,
        *,
        at: datetime,
        cause: str,
        limit: float | str | None = None,
        observed: float | str | None = None,
    ) -> None:
        if state is self._state:
            return
        self._transitions.append(
            GateTransition(
                timestamp=at,
                gate=self._name,
                from_state=self._state,
                to_state=state,
                cause=cause,
                limit=limit,
                observed=observed,
            )
        )
        self._state = state

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, state={self._state.value})"


class AlwaysOpenGate(BaseRiskGate):
    """A gate that never closes (the default when no gates are given)."""

    default_name = "always_open"

    def _update(self, ctx: OrderContext) -> None:
        return None
