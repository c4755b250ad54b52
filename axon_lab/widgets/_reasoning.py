"""ReasoningChainView: each step's Thought -> Action -> Observation chain, newest step first.

An entry shows the step's reasoning turns (the thought, the tool and its JSON arguments, the tool
result), the final answer as JSON (the analysis without its turns and calls) and the decision. The
raw LLM text (each call's response, and the analysis's raw text when it abstained) is rendered
only when its toggle is pressed. Only the newest ``max_entries`` entries are kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from axon_lab.records import Analysis, Decision, StepRecord

from ._common import TABLE_STYLE, BaseView, esc, fmt_json, fmt_num, fmt_time, ipywidgets

__all__ = ["ReasoningChainView", "render_chain_html"]

ENTRY_CLASS = "axon-reasoning-entry"
"""CSS class of an entry's box (browser tests count them)."""


def _decision_html(decision: Decision | None) -> str:
    if decision is None:
        return "<b>Decision</b>: none"
    parts = [decision.action.value.upper(), decision.symbol]
    if decision.quantity is not None:
        parts.append(f"{decision.quantity:g} {decision.order_type.value}")
    if decision.price is not None:
        parts.append(f"@ {fmt_num(decision.price)}")
    if decision.stop_loss is not None:
        parts.append(f"SL {fmt_num(decision.stop_loss)}")
    if decision.take_profit is not None:
        parts.append(f"TP {fmt_num(decision.take_profit)}")
    return (
        f"<b>Decision</b> ({esc(decision.source.value)}): {esc(' '.join(parts))}"
        f" — {esc(decision.reason)}"
    )


def _final_json(analysis: Analysis) -> str:
    final = analysis.model_dump(mode="json", exclude={"reasoning_steps", "llm_calls", "raw_text"})
    return json.dumps(final, indent=2, ensure_ascii=False)


def render_chain_html(record: StepRecord) -> str:
    """The HTML of one step's entry (without the raw LLM text).

    Examples:
        >>> from datetime import UTC, datetime
        >>> r = StepRecord(run_id="r", step=3, timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        ...                observation_digest="", equity=1.0, pnl=0.0)
        >>> "step 3" in render_chain_html(r)
        True
    """
    head = f"<b>step {record.step}</b> · {esc(fmt_time(record.timestamp))} UTC"
    analysis = record.analysis
    parts = [TABLE_STYLE]
    if analysis is not None:
        head += (
            f" · <b>{esc(analysis.action.value.upper())}</b> · {esc(analysis.source.value)}"
            f" · confidence {analysis.confidence:.2f} · {esc(analysis.analyst)}"
        )
    parts.append(f'<div class="axon-step-head">{head}</div>')
    if record.error is not None:
        failure = f"failed in {esc(record.failed_stage)}: {esc(record.error)}"
        parts.append(f'<div style="color:#b00">{failure}</div>')
    if analysis is not None:
        turns = []
        for i, turn in enumerate(analysis.reasoning_steps, 1):
            item = f"<b>Thought {i}</b>: {esc(turn.thought)}"
            if turn.action is not None:
                item += (
                    f"<br><b>Action</b>: <code>{esc(turn.action.name)}</code>"
                    f'<pre class="axon-pre">{fmt_json(turn.action.arguments)}</pre>'
                )
            if turn.observation is not None:
                item += (
                    f'<b>Observation</b>:<pre class="axon-pre">'
                    f"{fmt_json(turn.observation, limit=1_500)}</pre>"
                )
            turns.append(f"<li>{item}</li>")
        if turns:
            parts.append(f"<ol>{''.join(turns)}</ol>")
        parts.append(f"<b>Thought</b>: {esc(analysis.thought)}")
        parts.append(
            f'<details><summary>final JSON</summary><pre class="axon-pre">'
            f"{esc(_final_json(analysis))}</pre></details>"
        )
    parts.append(f"<div>{_decision_html(record.decision)}</div>")
    return "".join(parts)


def _raw_html(record: StepRecord) -> str:
    analysis = record.analysis
    if analysis is None:
        return ""
    blocks = [
        f"<b>call {i}</b> · {esc(call.model)} · "
        f"{'cache hit' if call.cache_hit else 'live'}"
        f'<pre class="axon-pre">{esc(call.raw_response)}</pre>'
        for i, call in enumerate(analysis.llm_calls, 1)
    ]
    if analysis.raw_text:
        blocks.append(f'<b>raw text</b><pre class="axon-pre">{esc(analysis.raw_text)}</pre>')
    return "".join(blocks)


class ReasoningChainView(BaseView):
    """One entry per step: the reasoning chain, the final JSON, the decision, raw text on demand.

    Args:
        max_entries: Entries kept (the oldest are dropped).

    Attributes:
        entries: The entry boxes, newest first (``view.widget.children`` below the title).
        steps: Step numbers of the entries, newest first.

    Examples:
        >>> from datetime import UTC, datetime
        >>> view = ReasoningChainView()
        >>> view.add([StepRecord(run_id="r", step=0, timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        ...                      observation_digest="", equity=1.0, pnl=0.0)])
        >>> view.steps
        [0]
    """

    def __init__(self, *, max_entries: int = 20) -> None:
        w = ipywidgets()
        self.max_entries = max_entries
        self.entries: list[Any] = []
        self.steps: list[int] = []
        self._box = w.VBox([], layout=w.Layout(max_height="600px", overflow="auto"))
        self._title = w.HTML("<b>Reasoning chain</b> (no step yet)")
        self.widget = w.VBox([self._title, self._box])

    def _entry(self, record: StepRecord) -> Any:
        w = ipywidgets()
        body = w.HTML(render_chain_html(record))
        calls = record.analysis.llm_calls if record.analysis is not None else ()
        has_raw = bool(calls) or bool(record.analysis is not None and record.analysis.raw_text)
        toggle = w.ToggleButton(
            value=False,
            description=f"raw LLM text ({len(calls)} calls)" if has_raw else "no raw LLM text",
            disabled=not has_raw,
            layout=w.Layout(width="auto"),
        )
        raw = w.HTML("", layout=w.Layout(display="none"))

        def on_toggle(change: dict[str, Any]) -> None:
            if change["new"] and not raw.value:
                raw.value = _raw_html(record)  # rendered on demand only
            raw.layout.display = None if change["new"] else "none"

        toggle.observe(on_toggle, names="value")
        # flex "0 0 auto": in the scrolling list an entry keeps its height instead of shrinking
        box = w.VBox(
            [body, toggle, raw],
            layout=w.Layout(border="1px solid #ddd", padding="4px", flex="0 0 auto"),
        )
        box.add_class(ENTRY_CLASS)
        return box

    def add(self, records: Sequence[StepRecord]) -> None:
        """Add an entry per record (newest on top), dropping the oldest past ``max_entries``."""
        if not records:
            return
        new = sorted(records, key=lambda r: r.step, reverse=True)[: self.max_entries]
        entries = [self._entry(r) for r in new] + self.entries
        steps = [r.step for r in new] + self.steps
        for dropped in entries[self.max_entries :]:
            dropped.close()
        self.entries = entries[: self.max_entries]
        self.steps = steps[: self.max_entries]
        self._box.children = tuple(self.entries)
        self._title.value = f"<b>Reasoning chain</b> (newest first; last step {self.steps[0]})"

    def clear(self) -> None:
        """Remove every entry."""
        for entry in self.entries:
            entry.close()
        self.entries, self.steps = [], []
        self._box.children = ()
        self._title.value = "<b>Reasoning chain</b> (no step yet)"
