"""ExecutionReport: the structured outcome of one trading operation through the risk chain.

The trading tools turn it into the JSON an LLM reads; the OADER loop records it as is, without
re-parsing that JSON.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from axon_lab.records import Fill, OrderAck, OrderRequest, Record, RiskVerdict
from axon_lab.records._construct import after_validators, has_layout, raw

__all__ = ["ExecutionReport", "build_report"]


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


_REPORT_FIELDS = tuple(ExecutionReport.model_fields)
_REPORT_DEFAULTS = {
    "order": None, "order_id": None, "verdicts": (), "ack": None, "fills": (), "dry_run": False,
    "sent": False, "confirm_token": None, "message": "", "error": None, "latency_s": 0.0,
}  # fmt: skip
_REPORT_REQUIRED = frozenset({"operation", "ok", "status"})
_FAST_REPORT = has_layout(ExecutionReport, _REPORT_FIELDS, _REPORT_DEFAULTS) and set(
    _REPORT_FIELDS
) == _REPORT_REQUIRED | set(_REPORT_DEFAULTS)
_REPORT_TEMPLATE = dict.fromkeys(_REPORT_FIELDS)  # (schema order)
_REPORT_TEMPLATE.update(_REPORT_DEFAULTS)
_OPERATIONS = frozenset({"place", "replace", "cancel"})
# the model validators pydantic re-runs on an order nested in a report (it is not re-validated)
_ORDER_CHECKS = after_validators(OrderRequest)
_INF = math.inf


def _optional_str(value: object) -> bool:
    return value is None or type(value) is str


def _plain_report(fields: dict[str, Any]) -> bool:
    # Whether ExecutionReport(**fields) would accept every value and keep it as is: exact types
    # (plain bool/str/float/tuple, records of the declared classes), which validation returns
    # unchanged, and an order whose model validators pass again.
    g = fields.get
    op, status = g("operation"), g("status")
    order, ack = g("order"), g("ack")
    verdicts, fills = g("verdicts", ()), g("fills", ())
    latency = g("latency_s", 0.0)
    if not (
        fields.keys() >= _REPORT_REQUIRED
        and fields.keys() <= _REPORT_TEMPLATE.keys()
        and type(op) is str
        and op in _OPERATIONS
        and type(g("ok")) is bool
        and type(status) is str
        and status
        and type(g("message", "")) is str
        and type(g("dry_run", False)) is bool
        and type(g("sent", False)) is bool
        and _optional_str(g("order_id"))
        and _optional_str(g("confirm_token"))
        and _optional_str(g("error"))
        and (ack is None or type(ack) is OrderAck)
        and type(latency) is float
        and 0.0 <= latency < _INF
        and type(verdicts) is tuple
        and type(fills) is tuple
    ):
        return False
    for verdict in verdicts:
        if type(verdict) is not RiskVerdict:
            return False
    for fill in fills:
        if type(fill) is not Fill:
            return False
    if order is None:
        return True
    if type(order) is not OrderRequest or _ORDER_CHECKS is None:
        return False
    try:
        for check in _ORDER_CHECKS:
            if check(order) is not order:
                return False
    except Exception:
        return False  # validation will raise what it raises
    return True


def build_report(fields: dict[str, Any]) -> ExecutionReport:
    """``ExecutionReport(**fields)``; assembled without re-validation when that changes nothing.

    The chain builds reports from its own verdicts, the backend's acks and fills and the order
    it checked; re-validating those costs more than the rest of the chain. When every value is
    already what validation would keep (see ``_plain_report``) the report is laid out directly;
    anything else is validated, raising RecordError as before.
    """
    if _FAST_REPORT and _plain_report(fields):
        data = _REPORT_TEMPLATE.copy()
        data.update(fields)
        return raw(ExecutionReport, data, set(fields))
    return ExecutionReport(**fields)
