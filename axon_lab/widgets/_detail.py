"""StepDetail: everything recorded for one step, with a step picker.

Sections: the step (time, equity, pnl, observation digest, failure), the analysis, the decision,
the LLM calls (model, tokens, latency, cost, cache hit or live, with totals), the risk verdicts,
the order acknowledgements and the fills. The newest step is shown as steps arrive, unless the
user picked an earlier one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from axon_lab.records import StepRecord

from ._common import TABLE_STYLE, BaseView, esc, fmt_num, fmt_time, html_table, ipywidgets
from ._context import observation_extras_html

if TYPE_CHECKING:
    from axon_lab.explain import ExplainStore

__all__ = ["LLMTotals", "StepDetail", "llm_totals", "render_step_html"]


class LLMTotals(NamedTuple):
    """What a step's LLM calls added up to.

    Attributes:
        n_calls: Calls made.
        n_cache_hits: Of those, answered from the record/replay cache.
        cost: Summed cost.
        tokens_in: Summed prompt tokens.
        tokens_out: Summed completion tokens.
        latency_s: Summed latency in seconds.
    """

    n_calls: int
    n_cache_hits: int
    cost: float
    tokens_in: int
    tokens_out: int
    latency_s: float


def llm_totals(record: StepRecord) -> LLMTotals:
    """Sum the LLM calls of ``record``'s analysis (zeros when it made none).

    Examples:
        >>> from datetime import UTC, datetime
        >>> r = StepRecord(run_id="r", step=0, timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        ...                observation_digest="", equity=1.0, pnl=0.0)
        >>> llm_totals(r)
        LLMTotals(n_calls=0, n_cache_hits=0, cost=0.0, tokens_in=0, tokens_out=0, latency_s=0.0)
    """
    calls = record.analysis.llm_calls if record.analysis is not None else ()
    return LLMTotals(
        n_calls=len(calls),
        n_cache_hits=sum(c.cache_hit for c in calls),
        cost=math.fsum(c.cost for c in calls),
        tokens_in=sum(c.tokens_in for c in calls),
        tokens_out=sum(c.tokens_out for c in calls),
        latency_s=math.fsum(c.latency_s for c in calls),
    )


def _kv(pairs: Sequence[tuple[str, str]]) -> str:
    return html_table(["field", "value"], [[esc(k), v] for k, v in pairs])


def render_step_html(record: StepRecord) -> str:
    """The HTML of every section of one step.

    Examples:
        >>> from datetime import UTC, datetime
        >>> r = StepRecord(run_id="r", step=0, timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        ...                observation_digest="abc", equity=1.0, pnl=0.0)
        >>> "LLM calls: 0" in render_step_html(r)
        True
        >>> from axon_lab.records import GateState, GateTransition
        >>> trip = GateTransition(timestamp=r.timestamp, gate="dd", from_state="open",
        ...                       to_state="halted", cause="drawdown 25% <script>")
        >>> page = render_step_html(r.replace(gate_states={"dd": GateState.HALTED},
        ...                                    gate_transitions=(trip,)))
        >>> "dd: halted" in page, "&lt;script&gt;" in page, "<script>" in page
        (True, True, False)
    """
    out = [TABLE_STYLE, f"<h4>Step {record.step} of run {esc(record.run_id)}</h4>"]
    step_rows = [
        ("time", esc(fmt_time(record.timestamp)) + " UTC"),
        ("equity", fmt_num(record.equity)),
        ("pnl", fmt_num(record.pnl)),
        ("observation digest", f"<code>{esc(record.observation_digest[:16])}</code>"),
    ]
    if record.error is not None:
        step_rows.append(("failed", f"{esc(record.failed_stage)}: {esc(record.error)}"))
    out.append(_kv(step_rows))
    a = record.analysis
    if a is not None:
        out.append("<h5>Analysis</h5>")
        out.append(
            _kv(
                [
                    ("action", esc(a.action.value)),
                    (
                        "market / risk",
                        f"{esc(a.market_assessment.value)} / {esc(a.risk_assessment.value)}",
                    ),
                    ("confidence", f"{a.confidence:.3f}"),
                    ("source / analyst", f"{esc(a.source.value)} / {esc(a.analyst)}"),
                    ("reason", esc(a.reason)),
                    ("reasoning turns", str(len(a.reasoning_steps))),
                ]
            )
        )
    d = record.decision
    if d is not None:
        out.append("<h5>Decision</h5>")
        fields = ("action", "symbol", "quantity", "order_type", "price", "stop_loss",
                  "take_profit", "confidence", "source", "reason")  # fmt: skip
        dumped = d.model_dump(mode="json")
        out.append(_kv([(f, esc(dumped[f])) for f in fields]))
    t = llm_totals(record)
    out.append(
        f"<h5>LLM calls: {t.n_calls}</h5><div>cost {t.cost:.6f} · cache hits "
        f"{t.n_cache_hits}/{t.n_calls} · tokens {t.tokens_in} in / {t.tokens_out} out · "
        f"latency {t.latency_s:.3f} s</div>"
    )
    if a is not None and a.llm_calls:
        header = ["#", "model", "tokens in", "tokens out", "latency s", "cost", "cache",
                  "attempts", "finish", "error"]  # fmt: skip
        roles = any(c.role for c in a.llm_calls)
        if roles:  # a multi-role Analyze stage: each call's role
            header.insert(1, "role")
        rows = [
            [
                str(i),
                *([esc(c.role)] if roles else []),
                esc(c.model),
                str(c.tokens_in),
                str(c.tokens_out),
                f"{c.latency_s:.3f}",
                f"{c.cost:.6f}",
                "hit" if c.cache_hit else "live",
                # the retried attempts' errors on hover: a retry is part of the call's story
                f'<span title="{esc(" | ".join(c.retry_errors))}">{c.attempts}</span>'
                if c.retry_errors
                else str(c.attempts),
                esc(c.finish_reason),
                esc(c.error),
            ]
            for i, c in enumerate(a.llm_calls, 1)
        ]
        out.append(html_table(header, rows))
    if record.gate_states or record.gate_transitions:
        states = ", ".join(f"{esc(k)}: {esc(v.value)}" for k, v in record.gate_states.items())
        out.append(f"<h5>Gates</h5><div>{states or '-'}</div>")
        if record.gate_transitions:
            header = ["time", "gate", "from", "to", "cause", "limit", "observed"]
            rows = [
                [
                    esc(fmt_time(t.timestamp)),
                    esc(t.gate),
                    esc(t.from_state.value),
                    esc(t.to_state.value),
                    esc(t.cause),
                    esc(fmt_num(t.limit)),
                    esc(fmt_num(t.observed)),
                ]
                for t in record.gate_transitions
            ]
            out.append(html_table(header, rows))
    out.append(f"<h5>Risk verdicts: {len(record.verdicts)}</h5>")
    if record.verdicts:
        header = ["", "line", "rule", "limit", "observed", "gate", "order", "message"]
        rows = [
            [
                "✓" if v.approved else "✗",
                esc(v.line.value),
                esc(v.rule),
                esc(fmt_num(v.limit)),
                esc(fmt_num(v.observed)),
                esc(v.gate_state),
                esc(v.client_order_id),
                esc(v.message),
            ]
            for v in record.verdicts
        ]
        out.append(html_table(header, rows))
    out.append(f"<h5>Orders: {len(record.acks)} · fills: {len(record.fills)}</h5>")
    if record.acks:
        header = ["order", "client id", "side", "qty", "status", "filled", "avg price", "message"]
        rows = [
            [
                esc(k.order_id),
                esc(k.client_order_id),
                esc(k.side.value),
                f"{k.quantity:g}",
                esc(k.status.value),
                f"{k.filled_quantity:g}",
                fmt_num(k.avg_fill_price),
                esc(k.message),
            ]
            for k in record.acks
        ]
        out.append(html_table(header, rows))
    if record.fills:
        header = ["fill", "order", "side", "qty", "price", "fee", "time"]
        rows = [
            [
                esc(f.fill_id),
                esc(f.order_id),
                esc(f.side.value),
                f"{f.quantity:g}",
                fmt_num(f.price),
                fmt_num(f.fee, 4),
                esc(fmt_time(f.timestamp)),
            ]
            for f in record.fills
        ]
        out.append(html_table(header, rows))
    return "".join(out)


def _prompts_section(store: ExplainStore, record: StepRecord) -> str:
    """What each LLM call of the step was sent and answered, collapsed and escaped."""
    from axon_lab.explain import prompts_html, step_prompts

    pairs = tuple((p.request, p.response) for p in step_prompts(store, record))
    return "<h5>Prompts</h5>" + prompts_html(pairs) if pairs else ""


def _inputs_section(store: ExplainStore, record: StepRecord) -> str:
    """The RL hint and documents the step's observation carried, escaped ("" when none)."""
    from axon_lab.explain import inputs_html, read_blobs
    from axon_lab.records import Observation

    text = read_blobs(store, record.run_id, [record.observation_digest]).get(
        record.observation_digest
    )
    if text is None:
        return ""
    shown = inputs_html(Observation.from_json(text))
    return "<h5>Observation inputs</h5>" + shown if shown else ""


def _observation_section(store: ExplainStore, record: StepRecord) -> str:
    """The forecasts and similar contexts of the step's stored observation ("" if none)."""
    from axon_lab.errors import StoreError
    from axon_lab.explain import observation

    if not record.observation_digest:
        return ""
    try:
        seen = observation(store, record.run_id, record.step)
    except StoreError:  # not kept (an old layout, or a step that failed before Observe)
        return ""
    return observation_extras_html(seen)


def _stability_line(audit: Mapping[str, Any] | None, step: int) -> str:
    """The stability audit's finding for ``step`` ("" when it was not re-sampled)."""
    stability = audit.get("stability") if audit else None
    if not isinstance(stability, Mapping):
        return ""
    for entry in stability.get("steps") or ():
        if isinstance(entry, Mapping) and entry.get("step") == step:
            actions = [str(a) for a in entry.get("actions") or ()]
            agreement = entry.get("agreement")
            share = f"{agreement:.0%}" if isinstance(agreement, int | float) else "?"
            unstable = len(set(actions)) > 1
            flag = (
                "<b style='color:#b2182b'>the model disagreed with itself</b>: "
                if unstable
                else "stable: "
            )
            return (
                f"<h5>Decision stability</h5><div class='axon-stability'>{flag}agreement "
                f"{share} over {len(actions)} samples ({esc(', '.join(actions))})</div>"
            )
    return ""


class StepDetail(BaseView):
    """Everything recorded for one step; a picker chooses the step among those seen.

    Given the store, the step's LLM calls also show the prompt each one sent and its answer.

    Args:
        store: The explain store the steps are in (None: no prompts).
        audit: The run's audit results (``axon_lab.audit.load_audit``): a step the stability
            audit re-sampled shows its agreement, and is marked when the model disagreed with
            itself.

    Attributes:
        records: The steps seen, by step number.
        record: The step shown (None before the first).
        picker: The step number input.
        html: The HTML widget with the sections.

    Examples:
        >>> from datetime import UTC, datetime
        >>> view = StepDetail()
        >>> view.add([StepRecord(run_id="r", step=0, timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        ...                      observation_digest="", equity=1.0, pnl=0.0)])
        >>> view.record.step, "Step 0" in view.html.value
        (0, True)
    """

    def __init__(
        self, store: ExplainStore | None = None, *, audit: Mapping[str, Any] | None = None
    ) -> None:
        w = ipywidgets()
        self.store = store
        self.audit = audit
        self.records: dict[int, StepRecord] = {}
        self.record: StepRecord | None = None
        self._follow_latest = True
        self.picker = w.BoundedIntText(value=0, min=0, max=0, description="step", disabled=True)
        self.latest = w.Button(description="latest", layout=w.Layout(width="auto"))
        self.html = w.HTML(
            "<i>no step yet</i>", layout=w.Layout(max_height="600px", overflow="auto")
        )
        self.picker.observe(self._on_pick, names="value")
        self.latest.on_click(lambda _b: self.show_latest())
        self.widget = w.VBox([w.HBox([self.picker, self.latest]), self.html])

    def _on_pick(self, change: dict[str, Any]) -> None:
        step = change["new"]
        if step in self.records and (self.record is None or self.record.step != step):
            self._follow_latest = step == max(self.records)
            self._render(self.records[step])

    def _render(self, record: StepRecord) -> None:
        self.record = record
        page = render_step_html(record) + _stability_line(self.audit, record.step)
        if self.store is not None and record.observation_digest:
            page += _inputs_section(self.store, record)
        if self.store is not None:
            page += _observation_section(self.store, record)
        if self.store is not None and record.analysis is not None and record.analysis.llm_calls:
            page += _prompts_section(self.store, record)
        self.html.value = page
        if self.picker.value != record.step:
            self.picker.value = record.step

    def show(self, step: int) -> None:
        """Show step ``step`` (one this view has seen).

        Raises:
            KeyError: If the step was not seen.
        """
        if step not in self.records:
            raise KeyError(
                f"step {step} is not shown here; known steps: {sorted(self.records)[:5]}…"
            )
        self._follow_latest = step == max(self.records)
        self._render(self.records[step])

    def show_latest(self) -> None:
        """Show the newest step and keep following new ones."""
        self._follow_latest = True
        if self.records:
            self._render(self.records[max(self.records)])

    def add(self, records: Sequence[StepRecord]) -> None:
        """Remember newly recorded steps; show the newest unless an earlier one was picked."""
        if not records:
            return
        for r in records:
            self.records[r.step] = r
        self.picker.max = max(self.records)  # max first: min may not pass the old max
        self.picker.min = min(self.records)
        self.picker.disabled = False
        if self._follow_latest:
            self.show_latest()

    def clear(self) -> None:
        """Forget every step."""
        self.records, self.record, self._follow_latest = {}, None, True
        self.picker.min = self.picker.max = 0
        self.picker.value, self.picker.disabled = 0, True
        self.html.value = "<i>no step yet</i>"
