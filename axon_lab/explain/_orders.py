"""The report's order rows: each order with the decision, analysis, verdicts, fills and prompts.

:func:`order_rows` turns a run's steps into one :class:`OrderRow` per order (and one per bracket
exit the backend filled on its own); :func:`with_prompts` adds, from the store, the request and
raw response of each LLM call of the step that placed the order, which :func:`prompts_html`
shows collapsed and escaped.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axon_lab._text import clip, escape_html
from axon_lab.explain._prompts import read_blobs
from axon_lab.llm import request_json
from axon_lab.records import Fill, OrderAck, RiskVerdict, StepRecord

if TYPE_CHECKING:
    from axon_lab.explain._store import ExplainStore

__all__ = ["OrderRow", "order_rows", "prompts_html", "short", "with_prompts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRow:
    """One order (or one unsent order's fill) and everything that explains it."""

    step: int
    timestamp: str
    order: str
    side: str
    quantity: float
    status: str
    decision: str
    analysis: str
    reasoning: str
    verdicts: str
    fills: str
    prompts: tuple[tuple[str, str], ...] = ()
    """Each LLM call of the step that placed the order: (the request as sent, the raw response)."""


def short(text: str, cap: int = 240) -> str:
    return text if len(text) <= cap else text[: cap - 1] + "…"


def _verdict(v: RiskVerdict) -> str:
    text = f"{v.line.value}:{v.rule} {'ok' if v.approved else 'REJECTED'}"
    if isinstance(v.observed, float) and isinstance(v.limit, float):
        text += f" ({v.observed:g} vs limit {v.limit:g})"
    return text


def _verdicts(verdicts: list[RiskVerdict]) -> str:
    return "; ".join(_verdict(v) for v in verdicts)


def _fills(fills: list[tuple[int, Fill]]) -> str:
    return "; ".join(
        f"step {step} {f.side.value} {f.quantity:g} @ {f.price:,.6g} fee {f.fee:.4g}"
        for step, f in fills
    )


_PROMPT_CHARS = 20_000  # per message shown in the page; the store keeps the whole text


def prompts_html(prompts: tuple[tuple[str, str], ...]) -> str:
    """Each call's messages and raw response, collapsed; every text escaped.

    ``prompts`` are ``(request JSON, raw response)`` pairs (``PromptRecord.request`` and
    ``.response``); the report's order rows and the step-detail widget both show them this way.
    """
    e = escape_html
    out = []
    for i, (request, response) in enumerate(prompts, 1):
        try:
            messages = json.loads(request).get("messages", [])
        except ValueError:
            messages = []
        shown = "".join(
            f"<p><b>{e(str(m.get('role', '?')))}</b></p>"
            f"<pre>{e(clip(_content(m), _PROMPT_CHARS))}</pre>"
            for m in messages
            if isinstance(m, dict)
        )
        out.append(
            f"<details><summary>call {i}: {len(messages)} message(s)</summary>{shown}"
            f"<p><b>response</b></p><pre>{e(clip(response, _PROMPT_CHARS))}</pre></details>"
        )
    return "".join(out) or "-"


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    text = content if isinstance(content, str) else json.dumps(content)
    calls = message.get("tool_calls")
    return text + ("\n" + json.dumps(calls) if calls else "")


def with_prompts(
    store: ExplainStore, run_id: str, steps: list[StepRecord], rows: list[OrderRow]
) -> list[OrderRow]:
    """The rows with the requests and responses of their steps' LLM calls, from the store."""
    by_step = {s.step: s for s in steps}
    calls = {
        r.step: by_step[r.step].analysis.llm_calls  # type: ignore[union-attr]
        for r in rows
        if r.step in by_step and by_step[r.step].analysis is not None
    }
    digests = {d for cs in calls.values() for c in cs for d in c.request_parts}
    texts = read_blobs(store, run_id, digests)
    out = []
    for row in rows:
        pairs = tuple(
            (request_json([texts[d] for d in c.request_parts]), c.raw_response)
            for c in calls.get(row.step, ())
            if c.request_parts and all(d in texts for d in c.request_parts)
        )
        out.append(dataclasses.replace(row, prompts=pairs) if pairs else row)
    return out


def order_rows(steps: list[StepRecord]) -> list[OrderRow]:
    fills_by_order: dict[str, list[tuple[int, Fill]]] = {}
    for st in steps:
        for f in st.fills:
            fills_by_order.setdefault(f.order_id, []).append((st.step, f))
    rows: list[OrderRow] = []
    seen: set[str] = set()
    for st in steps:
        for ack in st.acks:
            if ack.status.value == "cancelled" and ack.order_id in seen:
                continue
            seen.add(ack.order_id)
            rows.append(_ack_row(st, ack, fills_by_order.get(ack.order_id, [])))
    for order_id, pairs in fills_by_order.items():
        if order_id in seen:
            continue
        step, first = pairs[0]
        rows.append(
            OrderRow(
                step=step,
                timestamp=first.timestamp.isoformat(),
                order=order_id,
                side=first.side.value,
                quantity=math.fsum(f.quantity for _, f in pairs),
                status="filled (backend exit: bracket stop loss / take profit)",
                decision="",
                analysis="",
                reasoning="",
                verdicts="exits a position: not sent through the risk chain",
                fills=_fills(pairs),
            )
        )
    rows.sort(key=lambda r: (r.step, r.order))
    return rows


def _ack_row(st: StepRecord, ack: OrderAck, fills: list[tuple[int, Fill]]) -> OrderRow:
    d, a = st.decision, st.analysis
    decision = ""
    if d is not None and ack.status.value != "cancelled":
        decision = (
            f"{d.action.value} {d.quantity or 0:g} {d.order_type.value}"
            + (f" @ {d.price:,.6g}" if d.price else "")
            + (f" SL {d.stop_loss:,.6g}" if d.stop_loss else "")
            + (f" TP {d.take_profit:,.6g}" if d.take_profit else "")
            + f" [{d.source.value}] {d.reason}"
        )
    elif ack.status.value == "cancelled":
        decision = "cancelled: entry still resting after one decision interval"
    analysis = reasoning = ""
    if a is not None and ack.status.value != "cancelled":
        analysis = short(
            f"[{a.source.value} {a.analyst}] {a.market_assessment.value}/{a.risk_assessment.value}"
            f" conf {a.confidence:.2f}: {a.thought}"
        )
        reasoning = " -> ".join(
            s.action.name if s.action is not None else short(s.thought, 60)
            for s in a.reasoning_steps
        )
    mine = [v for v in st.verdicts if v.client_order_id in (None, ack.client_order_id)]
    # The ack is the order's state when it was sent; fills in later steps (a market order fills at
    # the next bar's open on a backtest backend, a limit when price reaches it) complete the story.
    filled = math.fsum(f.quantity for _, f in fills)
    status = ack.status.value
    if ack.status.value in ("accepted", "new", "partially_filled") and filled > 0:
        status = "filled" if filled >= ack.quantity * (1 - 1e-9) else "partially_filled"
    return OrderRow(
        step=st.step,
        timestamp=st.timestamp.isoformat(),
        order=f"{ack.client_order_id} ({ack.order_id})",
        side=ack.side.value,
        quantity=ack.quantity,
        status=status,
        decision=short(decision, 400),
        analysis=analysis,
        reasoning=reasoning,
        verdicts=_verdicts(mine),
        fills=_fills(fills),
    )
