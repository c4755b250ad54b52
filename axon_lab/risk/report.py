"""ExecutionReport: the structured outcome of one trading operation through the risk chain.

The trading tools turn it into the JSON an LLM reads; the OADER loop records it as is, without
re-parsing that JSON.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from axon_lab.records import Fill, OrderAck, OrderRequest, Record, RiskVerdict

__all__ = ["ExecutionReport"]


class ExecutionReport(Record):
    """What happened to one place, replace or cancel request.

    Attributes:
        operation: ``"place"``, ``"replace"`` or ``"cancel"``.
        ok: True when the operation went through (also for a dry run, which sends nothing).
        status: The ack's status value, or ``"rejected"`` / ``"pending_confirmation"`` /
            ``"error"`` / ``"invalid"`` when nothing was executed.
        order: The order as checked (and, if sent, as sent).
        verdicts: Every verdict that was produced, in chain order; a rejection is the last.
        ack: The backend's ack (or a synthetic dry-run / pending-confirmation ack).
        fills: Fills of the order so far.
        dry_run: True when the safety mode kept the order from the backend.
        sent: True when the backend was asked to carry out the operation (whatever it answered).
        confirm_token: The token to resend with the order under two-phase confirmation.
        message: A one-line summary for people and LLMs.
        error: The exception text when something raised, else None.
        latency_s: End-to-end duration of the operation in seconds.
    """

    operation: Literal["place", "replace", "cancel"]
    ok: bool
    status: str = Field(min_length=1)
    order: OrderRequest | None = None
    order_id: str | None = None
    verdicts: tuple[RiskVerdict, ...] = ()
    ack: OrderAck | None = None
    fills: tuple[Fill, ...] = ()
    dry_run: bool = False
    sent: bool = False
    confirm_token: str | None = None
    message: str = ""
    error: str | None = None
    latency_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)

    @property
    def rejection(self) -> RiskVerdict | None:
        """The rejecting verdict, if any."""
        for verdict in self.verdicts:  # (a loop: read on every report by the chain and gates)
            if not verdict.approved:
                return verdict
        return None
