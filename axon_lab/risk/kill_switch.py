"""A manual kill switch: an operator halts trading at once, and releases it later.

Examples:
    >>> from datetime import datetime, timezone
    >>> from axon_lab.clock import SimulatedClock
    >>> switch = KillSwitch(clock=SimulatedClock(datetime(2024, 1, 1, tzinfo=timezone.utc)))
    >>> switch.engage("operator: news event")
    >>> switch.state.value, switch.transitions[-1].cause
    ('halted', 'operator: news event')
    >>> switch.release("all clear")
    >>> switch.state.value
    'open'
"""

from __future__ import annotations

from axon_lab.clock import Clock, WallClock
from axon_lab.errors import ConfigError

from .context import OrderContext
from .gate import BaseRiskGate, GateState

__all__ = ["KillSwitch"]


class KillSwitch(BaseRiskGate):
    """A gate only a person moves.

    Args:
        clock: Stamps transitions (use the loop's clock; default: wall clock).
        engaged_state: The state when engaged: HALTED (default) or REDUCING.
        name: The gate's name.
    """

    default_name = "kill_switch"

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        engaged_state: GateState = GateState.HALTED,
        name: str | None = None,
    ) -> None:
        if engaged_state is GateState.OPEN:
            raise ConfigError("engaged_state must be GateState.HALTED or GateState.REDUCING")
        super().__init__(name=name)
        self._clock: Clock = clock if clock is not None else WallClock()
        self.engaged_state = engaged_state

    @property
    def is_engaged(self) -> bool:
        """Whether the switch is engaged."""
        return self._state is not GateState.OPEN

    def engage(self, cause: str) -> None:
        """Stop trading now, recording why."""
        self._set_state(self.engaged_state, at=self._clock.now(), cause=cause)

    def release(self, cause: str) -> None:
        """Resume trading, recording why."""
        self._set_state(GateState.OPEN, at=self._clock.now(), cause=cause)

    def _update(self, ctx: OrderContext) -> None:
        return None
