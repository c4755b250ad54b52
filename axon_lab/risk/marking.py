"""Marking to market: what the gates see every step, and what a step records of them.

:meth:`RiskChain.mark <axon_lab.risk.RiskChain.mark>` shows every gate the portfolio at each
step, orders or not; :class:`MarkReport` is what it found. The helpers below read gate states
and new transitions from any gate that keeps them (a gate from the older protocol without a
``transitions`` log is shown by its state alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from axon_lab.records import GateState, GateTransition, PortfolioSnapshot

from .gate import RiskGate
from .report import ExecutionReport

__all__ = ["MarkReport", "gate_states", "new_transitions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkReport:
    """What marking to market found.

    Attributes:
        portfolio: The portfolio marked now.
        gate_states: Each gate's state after seeing it, by gate name.
        cancels: The cancels a HALTED gate caused (with ``cancel_on_halt``).
    """

    portfolio: PortfolioSnapshot
    gate_states: dict[str, GateState]
    cancels: tuple[ExecutionReport, ...] = ()


def gate_states(gates: Sequence[RiskGate]) -> dict[str, GateState]:
    """Each gate's state by name (a repeated name gets ``#2``, ``#3`` ...)."""
    out: dict[str, GateState] = {}
    for gate in gates:
        name = gate.name
        key, n = name, 1
        while key in out:
            n += 1
            key = f"{name}#{n}"
        out[key] = GateState(gate.state)
    return out


def new_transitions(gates: Sequence[RiskGate], seen: dict[int, int]) -> tuple[GateTransition, ...]:
    """Transitions the gates logged since ``seen`` (updated: gate index -> count read)."""
    out: list[GateTransition] = []
    for i, gate in enumerate(gates):
        log = getattr(gate, "transitions", None)
        if log is None:
            continue
        log = tuple(log)
        start = seen.get(i, 0)
        out.extend(log[start:])
        seen[i] = len(log)
    return tuple(sorted(out, key=lambda t: t.timestamp))
