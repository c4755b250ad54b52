"""ConfirmationPanel: the orders waiting for two-phase confirmation, each with Confirm and Deny.

The panel only reads a :class:`~axon_lab.risk.ConfirmationQueue` and calls its ``confirm`` /
``deny``; the loop's next step carries the answer out and records it as a verdict. Every text
shown (symbol, reason) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from axon_lab.records import StepRecord
from axon_lab.risk import ConfirmationQueue, PendingConfirmation

from ._common import BaseView, esc, fmt_num, ipywidgets

__all__ = ["ConfirmationPanel"]


class ConfirmationPanel(BaseView):
    """Rows of pending orders with Confirm and Deny buttons; empty when nothing waits.

    Args:
        queue: The loop's confirmation queue (``loop.execute.confirmations``), or None.
        by: How a click is attributed in the record.

    Attributes:
        rows: The widgets of the rows shown, by token (``rows[token] = (confirm, deny)``).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from axon_lab.records import OrderRequest
        >>> from axon_lab.risk import WaitForPerson
        >>> queue = ConfirmationQueue(WaitForPerson())
        >>> order = OrderRequest(client_order_id="c", symbol="X", side="buy", quantity=2.0)
        >>> _ = queue.offer(PendingConfirmation(
        ...     token="t1", order=order, notional=20.0,
        ...     issued_at=datetime(2024, 1, 1, tzinfo=timezone.utc), arguments="{}"))
        >>> panel = ConfirmationPanel(queue)
        >>> confirm, deny = panel.rows["t1"]
        >>> confirm.click()
        >>> [(p.token, a) for p, a, _ in queue.take_decided()], panel.rows
        ([('t1', 'confirm')], {})
    """

    def __init__(self, queue: ConfirmationQueue | None, *, by: str = "person (widget)") -> None:
        w = ipywidgets()
        self.queue = queue
        self.by = by
        self.rows: dict[str, tuple[Any, Any]] = {}
        self.title = w.HTML()
        self.box = w.VBox([])
        self.widget = w.VBox([self.title, self.box])
        self.widget.add_class("axon-confirmations")
        self.refresh()

    def _row(self, pending: PendingConfirmation) -> Any:
        w = ipywidgets()
        order = pending.order
        price = f" @ {fmt_num(order.price)}" if order.price is not None else ""
        label = w.HTML(
            f"<code>{esc(order.client_order_id)}</code> {esc(order.side.value)} "
            f"{fmt_num(order.quantity, 6)} {esc(order.symbol)}{price} · notional "
            f"{fmt_num(pending.notional)} · issued {esc(pending.issued_at.isoformat())}"
        )
        confirm = w.Button(description="Confirm", button_style="success", icon="check")
        deny = w.Button(description="Deny", button_style="danger", icon="times")
        confirm.on_click(lambda _b, t=pending.token: self._answer(t, confirm=True))
        deny.on_click(lambda _b, t=pending.token: self._answer(t, confirm=False))
        self.rows[pending.token] = (confirm, deny)
        return w.HBox([label, confirm, deny])

    def _answer(self, token: str, *, confirm: bool) -> None:
        if self.queue is None:
            return
        if confirm:
            self.queue.confirm(token, by=self.by)
        else:
            self.queue.deny(token, by=self.by)
        self.refresh()

    def refresh(self) -> None:
        """Show the orders waiting now."""
        waiting = self.queue.waiting if self.queue is not None else ()
        self.rows = {}
        self.box.children = tuple(self._row(p) for p in waiting)
        self.title.value = (
            f"<b>{len(waiting)} order(s) wait for confirmation</b> "
            "(the next step carries out your answer)"
            if waiting
            else ""
        )

    def add(self, records: Sequence[StepRecord]) -> None:
        """New steps may have queued orders: refresh."""
        self.refresh()

    def clear(self) -> None:
        """Nothing of its own to forget; refresh."""
        self.refresh()
