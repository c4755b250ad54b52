"""RiskRejectionInspector: a filterable table of the orders the risk chain rejected.

One row per rejecting :class:`~axon_lab.records.RiskVerdict`: the step, the defence line, the rule,
its limit and the observed value, the order it rejected (the step's decision, with its client
order id), the gate state and the message. Dropdowns filter by rule and by defence line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from axon_lab.records import Action, StepRecord

from ._common import TABLE_STYLE, BaseView, esc, fmt_num, fmt_time, html_table, ipywidgets

__all__ = ["ALL", "RejectionRow", "RiskRejectionInspector", "get_rejection_rows"]

ALL = "(all)"
"""The filter value that keeps every row."""


class RejectionRow(NamedTuple):
    """One rejected order.

    Attributes:
        step: The step number.
        timestamp: When the verdict was given (``YYYY-MM-DD HH:MM``, UTC).
        line: The defence line (``safety_mode``, ``limit``, ``gate``, ``backend``).
        rule: The rule that rejected.
        limit: The rule's limit, as text.
        observed: The observed value, as text.
        order: The rejected order (side, quantity, symbol, type, price, brackets).
        client_order_id: The order's client id, when known.
        gate_state: The gate's state when it rejected, when a gate did.
        message: The verdict's message.
    """

    step: int
    timestamp: str
    line: str
    rule: str
    limit: str
    observed: str
    order: str
    client_order_id: str
    gate_state: str
    message: str


def _order_text(record: StepRecord) -> str:
    d = record.decision
    if d is None or d.action is Action.HOLD:
        return "-"
    text = f"{d.action.value} {d.quantity:g} {d.symbol} {d.order_type.value}"
    if d.price is not None:
        text += f" @ {fmt_num(d.price)}"
    if d.stop_loss is not None:
        text += f" SL {fmt_num(d.stop_loss)}"
    if d.take_profit is not None:
        text += f" TP {fmt_num(d.take_profit)}"
    return text


def get_rejection_rows(steps: Sequence[StepRecord]) -> list[RejectionRow]:
    """The rejected orders of ``steps``, in step order.

    Examples:
        >>> from datetime import UTC, datetime
        >>> from axon_lab.records import RiskVerdict
        >>> t = datetime(2024, 1, 1, tzinfo=UTC)
        >>> v = RiskVerdict(approved=False, line="limit", rule="max_daily_orders", limit=1.0,
        ...                 observed=2.0, timestamp=t)
        >>> s = StepRecord(run_id="r", step=0, timestamp=t, observation_digest="", verdicts=(v,),
        ...                equity=1.0, pnl=0.0)
        >>> get_rejection_rows([s])[0][2:6]
        ('limit', 'max_daily_orders', '1.00', '2.00')
    """
    rows = []
    for record in sorted(steps, key=lambda r: r.step):
        for v in record.rejections:
            rows.append(
                RejectionRow(
                    step=record.step,
                    timestamp=fmt_time(v.timestamp),
                    line=v.line.value,
                    rule=v.rule,
                    limit=fmt_num(v.limit),
                    observed=fmt_num(v.observed),
                    order=_order_text(record),
                    client_order_id=v.client_order_id or "",
                    gate_state=v.gate_state or "",
                    message=v.message,
                )
            )
    return rows


_HEADER = ("step", "time", "line", "rule", "limit", "observed", "order", "gate", "message")


class RiskRejectionInspector(BaseView):
    """A table of rejected orders with rule and defence-line filters.

    Attributes:
        rows: Every rejected order seen, in step order.
        visible_rows: The rows the current filters keep.
        rule_filter: Dropdown of rules (``"(all)"`` first).
        line_filter: Dropdown of defence lines (``"(all)"`` first).
        table: The HTML widget holding the table.

    Examples:
        >>> view = RiskRejectionInspector()
        >>> view.rule_filter.options, view.visible_rows
        (('(all)',), [])
    """

    def __init__(self) -> None:
        w = ipywidgets()
        self.rows: list[RejectionRow] = []
        self.visible_rows: list[RejectionRow] = []
        self.rule_filter = w.Dropdown(options=[ALL], value=ALL, description="rule")
        self.line_filter = w.Dropdown(options=[ALL], value=ALL, description="line")
        self.count = w.HTML()
        self.table = w.HTML()
        self.rule_filter.observe(self._on_filter, names="value")
        self.line_filter.observe(self._on_filter, names="value")
        self.widget = w.VBox([w.HBox([self.rule_filter, self.line_filter, self.count]), self.table])
        self._render()

    def _on_filter(self, _change: dict[str, Any]) -> None:
        self._render()

    def set_filter(self, *, rule: str | None = None, line: str | None = None) -> None:
        """Filter by rule and/or defence line (``None`` or ``"(all)"`` keeps all)."""
        self.rule_filter.value = rule or ALL
        self.line_filter.value = line or ALL

    def _update_options(self) -> None:
        for dropdown, values in (
            (self.rule_filter, sorted({r.rule for r in self.rows})),
            (self.line_filter, sorted({r.line for r in self.rows})),
        ):
            options = (ALL, *values)
            if tuple(dropdown.options) != options:
                keep = dropdown.value if dropdown.value in options else ALL
                dropdown.options = options
                dropdown.value = keep

    def _render(self) -> None:
        rule, line = self.rule_filter.value, self.line_filter.value
        self.visible_rows = [
            r
            for r in self.rows
            if (rule == ALL or r.rule == rule) and (line == ALL or r.line == line)
        ]
        self.count.value = f"{len(self.visible_rows)} of {len(self.rows)} rejected orders"
        if not self.visible_rows:
            self.table.value = "<i>no rejected order</i>"
            return
        cells = [
            [
                str(r.step),
                esc(r.timestamp),
                esc(r.line),
                f"<b>{esc(r.rule)}</b>",
                esc(r.limit),
                esc(r.observed),
                esc(r.order)
                + (f"<br><code>{esc(r.client_order_id)}</code>" if r.client_order_id else ""),
                esc(r.gate_state or "-"),
                esc(r.message),
            ]
            for r in self.visible_rows
        ]
        self.table.value = TABLE_STYLE + html_table(_HEADER, cells)

    def add(self, records: Sequence[StepRecord]) -> None:
        """Add the rejected orders of newly recorded steps."""
        new = get_rejection_rows(records)
        if not new:
            return
        self.rows.extend(new)
        self._update_options()
        self._render()

    def clear(self) -> None:
        """Remove every row and reset the filters."""
        self.rows = []
        self._update_options()
        self._render()
