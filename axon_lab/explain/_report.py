"""Explain reports: a run's summary, its buy-and-hold baseline and every order, as Markdown or HTML.

:func:`build_report` reads a run from the :class:`~axon_lab.explain.ExplainStore` and computes
(seed 001's ``ExplainBridge``, grown up):

* the summary — return, CAGR, Sharpe, volatility and max drawdown of the recorded equity curve
  (annualised from the step spacing, see ``_stats``), steps and failed steps, orders, fills, closed
  trades and win rate, fees, rejections by rule, LLM calls, cache hits, tokens and cost;
* the buy-and-hold baseline over the same steps, when prices are given (a view or a close series):
  all the starting equity bought at the first step's price, less one fee;
* one row per order, tying it to its step, the analysis (source, analyst, thought, the tool calls
  of its reasoning chain), the decision, every risk verdict of the order and its fills (also fills
  in later steps); fills of orders the run never sent itself (bracket exits) get their own rows.

The report is a value: :meth:`RunReport.to_markdown`, :meth:`RunReport.to_html` (one
self-contained file, no external assets: it opens offline) and :meth:`RunReport.save`. By default
the HTML page carries the run's plotly figures (decisions on the candles, equity vs buy-and-hold,
confidence, rejections by rule, LLM usage; see ``_report_figures``) with plotly.js inlined once;
``build_report(..., figures=False)`` gives a page with no scripts at all. The Markdown report is
the same either way. Sections can be added (:meth:`RunReport.add_section`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from axon_lab._text import escape_html, printable
from axon_lab.errors import ConfigError
from axon_lab.explain._info import RunInfo
from axon_lab.explain._orders import OrderRow, order_rows, prompts_html, short, with_prompts
from axon_lab.explain._run_id import run_folder
from axon_lab.explain._stats import MIN_YEARS_TO_ANNUALISE, equity_stats, periods_per_year
from axon_lab.records import Fill, Side, StepRecord

if TYPE_CHECKING:
    from axon_lab.explain._store import ExplainStore

__all__ = ["ExplainBridge", "OrderRow", "ReportSection", "RunReport", "build_report"]


class PriceSource(Protocol):
    """Anything with ``last_price(t)`` (a :class:`~axon_lab.data.MarketView`)."""

    def last_price(self, t: Any, symbol: str | None = None) -> float:
        """The last close known at ``t``."""
        ...


@dataclass(frozen=True, slots=True)
class ReportSection:
    """An extra report section: a title and its Markdown and HTML bodies (HTML is trusted)."""

    title: str
    markdown: str = ""
    html: str = ""


@dataclass(slots=True, kw_only=True)
class RunReport:
    """A run's explain report (see the module docstring)."""

    run: RunInfo
    summary: dict[str, Any]
    baseline: dict[str, Any] | None
    rejections: dict[str, int]
    orders: list[OrderRow]
    notes: list[str] = field(default_factory=list)
    sections: list[ReportSection] = field(default_factory=list)
    figures: list[ReportSection] = field(default_factory=list)
    """Figure sections of the HTML page only (plotly.js is inlined in the first)."""

    def add_section(self, title: str, *, markdown: str = "", html: str = "") -> None:
        """Append a section (e.g. a plotly figure's ``to_html(full_html=False)``)."""
        self.sections.append(ReportSection(title, markdown, html))

    # ------------------------------------------------------------------ markdown
    def to_markdown(self) -> str:
        """The report as Markdown."""
        s, b = self.summary, self.baseline
        lines = [f"# OADER run report: {self.run.run_id}", ""]
        lines += [f"- {k}: {_md(str(v))}" for k, v in self._header().items()]
        lines += ["", "## Summary", "", "| metric | run | buy & hold |", "|---|---|---|"]
        for key, label in _METRICS:
            lines.append(f"| {label} | {_fmt(key, s.get(key))} | {_fmt(key, (b or {}).get(key))} |")
        lines += ["", "## Activity", ""]
        lines += [f"- {label}: {_fmt(key, s.get(key))}" for key, label in _ACTIVITY]
        lines += ["", "## Rejections by rule", ""]
        lines += [f"- {_md(rule)}: {n}" for rule, n in self.rejections.items()] or ["- none"]
        if self.notes:
            lines += ["", "## Notes", "", *(f"- {_md(n)}" for n in self.notes)]
        lines += ["", "## Orders", ""]
        if self.orders:
            lines += ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
            for row in self.orders:
                cells = [_md(str(getattr(row, c))) for c in _COLUMNS]
                lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append("No orders.")
        for section in self.sections:
            lines += ["", f"## {section.title}", "", section.markdown]
        # model and data text reaches the page: control characters are shown, not obeyed
        return printable("\n".join(lines)) + "\n"

    # ------------------------------------------------------------------ html
    def to_html(self) -> str:
        """The report as one self-contained HTML page."""
        e = escape_html  # also shows NUL, BEL and bidi controls as visible marks
        s, b = self.summary, self.baseline
        head = "".join(f"<li><b>{e(k)}</b>: {e(str(v))}</li>" for k, v in self._header().items())
        metrics = "".join(
            f"<tr><td>{e(label)}</td><td>{e(_fmt(k, s.get(k)))}</td>"
            f"<td>{e(_fmt(k, (b or {}).get(k)))}</td></tr>"
            for k, label in _METRICS
        )
        activity = "".join(
            f"<tr><td>{e(label)}</td><td>{e(_fmt(k, s.get(k)))}</td></tr>" for k, label in _ACTIVITY
        )
        rejections = (
            "".join(f"<tr><td>{e(r)}</td><td>{n}</td></tr>" for r, n in self.rejections.items())
            or "<tr><td colspan=2>none</td></tr>"
        )
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        header = "".join(f"<th>{e(c)}</th>" for c in _COLUMNS) + "<th>prompt</th>"
        rows = (
            "".join(
                "<tr>"
                + "".join(f"<td>{e(str(getattr(r, c)))}</td>" for c in _COLUMNS)
                + f"<td>{prompts_html(r.prompts)}</td></tr>"
                for r in self.orders
            )
            or f"<tr><td colspan={len(_COLUMNS) + 1}>No orders.</td></tr>"
        )
        figures = "".join(
            f"<section class=figure><h3>{e(fig.title)}</h3>{fig.html}</section>"
            for fig in self.figures
        )
        extra = "".join(
            f"<section><h2>{e(sec.title)}</h2>{sec.html or '<pre>' + e(sec.markdown) + '</pre>'}"
            "</section>"
            for sec in self.sections
        )
        return (
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>OADER report {e(self.run.run_id)}</title><style>{_CSS}</style></head><body>"
            f"<h1>OADER run report: {e(self.run.run_id)}</h1><ul>{head}</ul>"
            "<h2>Summary</h2><table><tr><th>metric</th><th>run</th><th>buy &amp; hold</th></tr>"
            f"{metrics}</table><h2>Activity</h2><table>{activity}</table>"
            f"<h2>Rejections by rule</h2><table>{rejections}</table>"
            + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
            + (f"<h2>Figures</h2>{figures}" if figures else "")
            + f"<h2>Orders</h2><table class=orders><tr>{header}</tr>{rows}</table>{extra}"
            "</body></html>\n"
        )

    def save(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``report.md`` and ``report.html`` into ``directory``; return their paths."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        md, page = out / "report.md", out / "report.html"
        md.write_text(self.to_markdown(), encoding="utf-8")
        page.write_text(self.to_html(), encoding="utf-8")
        return md, page

    def _header(self) -> dict[str, Any]:
        header = {
            "model": self.run.model,
            "model training cutoff": self.run.model_cutoff or "unknown",
            "data": self.run.config.get("data", "?"),
            "data fingerprint": self.run.data_fingerprint,
            "code version": self.run.code_version,
            "window": f"{self.summary.get('start')} -> {self.summary.get('end')}",
        }
        # the optional Observe parts (make_agent's memory= and forecasts=), as configured
        for key in ("memory", "forecasts"):
            part = self.run.config.get(key)
            if isinstance(part, dict):
                header[key] = ", ".join(f"{k}={v}" for k, v in part.items() if v is not None)
        return header


_METRICS = (
    ("start_value", "start equity"),
    ("end_value", "end equity"),
    ("total_return", "total return"),
    ("cagr", "CAGR"),
    ("annual_volatility", "annual volatility"),
    ("sharpe", "Sharpe"),
    ("max_drawdown", "max drawdown"),
)
_ACTIVITY = (
    ("steps", "steps"),
    ("failed_steps", "failed steps"),
    ("abstentions", "abstentions"),
    ("fallbacks", "RL fallback decisions"),
    ("orders", "orders"),
    ("fills", "fills"),
    ("closed_trades", "closed trades"),
    ("win_rate", "win rate"),
    ("fees", "fees"),
    ("rejections", "rejections"),
    ("llm_calls", "LLM calls"),
    ("cache_hits", "LLM cache hits"),
    ("tokens_in", "tokens in"),
    ("tokens_out", "tokens out"),
    ("llm_cost", "LLM cost"),
)
_COLUMNS = (
    "step",
    "timestamp",
    "order",
    "side",
    "quantity",
    "status",
    "decision",
    "analysis",
    "reasoning",
    "verdicts",
    "fills",
)
_PERCENT = {"total_return", "cagr", "annual_volatility", "max_drawdown", "win_rate"}
_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}table.orders td{font-size:.85em;max-width:28em}"
)


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if key in _PERCENT:
            return f"{value:.2%}"
        return f"{value:,.4f}" if abs(value) < 1e3 else f"{value:,.2f}"
    return str(value)


def _md(text: str) -> str:
    """One line of outside text for Markdown: HTML-escaped, table bars escaped, one line.

    A Markdown renderer passes raw HTML through, so an unescaped ``<img onerror=...>`` from a
    model would run where the report is shown.
    """
    return escape_html(text).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _closed_trades(fills: list[Fill]) -> tuple[int, int]:
    """Round trips (position back to flat) and how many made money, per symbol."""
    pos: dict[str, float] = {}
    cash: dict[str, float] = {}
    closed = wins = 0
    for f in fills:
        signed = f.quantity if f.side is Side.BUY else -f.quantity
        pos[f.symbol] = pos.get(f.symbol, 0.0) + signed
        cash[f.symbol] = cash.get(f.symbol, 0.0) - signed * f.price - f.fee
        if abs(pos[f.symbol]) <= 1e-9 * max(abs(signed), 1.0):
            closed += 1
            wins += cash[f.symbol] > 0
            pos[f.symbol], cash[f.symbol] = 0.0, 0.0
    return closed, wins


def _prices(prices: PriceSource | pd.Series | None, steps: list[StepRecord]) -> list[float] | None:
    if prices is None or not steps:
        return None
    if isinstance(prices, pd.Series):
        series = prices.sort_index()
        idx = series.index.searchsorted([pd.Timestamp(s.timestamp) for s in steps], side="right")
        if (idx == 0).any():
            return None
        return [float(series.iloc[i - 1]) for i in idx]
    return [prices.last_price(s.timestamp) for s in steps]


def build_report(
    store: ExplainStore,
    run_id: str,
    *,
    view: PriceSource | None = None,
    prices: pd.Series | None = None,
    fee_rate: float | None = None,
    figures: bool = True,
    audit: Mapping[str, Any] | str | Path | None = None,
) -> RunReport:
    """Build the explain report of ``run_id``.

    Args:
        store: The explain store holding the run.
        run_id: The run.
        view: Prices for the buy-and-hold baseline (anything with ``last_price(t)``).
        prices: Or a close series indexed by bar completion time.
        fee_rate: Fee of the baseline's one purchase (default: the run config's ``fee_rate``).
        figures: Put the run's plotly figures in the HTML page (plotly.js inlined once, no
            network needed); False for a page without any script.
        audit: The run's audit results (:mod:`axon_lab.audit`), or the folder holding their
            ``audit.json`` (default: ``runs/<run id>``, where ``axon-lab audit`` writes it).
            Shown as the "Audits" section; without results, a line says how to run them.

    Raises:
        StoreError: If the run does not exist.
        ConfigError: If the run has no steps.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import make_agent
        >>> loop = make_agent(make_synthetic(200, timeframe="1h", seed=5, symbol="SYN"),
        ...                   store="sqlite://", run_id="rep", progress=False).run(120)
        >>> report = build_report(loop.store, "rep", view=loop.view)
        >>> report.summary["steps"], report.baseline is not None
        (120, True)
        >>> "<h2>Orders</h2>" in report.to_html()
        True
        >>> loop.close()
    """
    info = store.get_run(run_id)
    steps = store.steps(run_id)
    if not steps:
        raise ConfigError(f"run {run_id!r} has no steps yet; run the loop first")
    if steps[0].portfolio is not None:
        raise ConfigError(
            f"run {run_id!r} is a portfolio run (many symbols); report it with "
            "axon_lab.portfolio.build_portfolio_report(store, run_id) or loop.report()"
        )
    start_value = steps[0].equity - steps[0].pnl
    equity = [s.equity for s in steps]
    ppy = periods_per_year([s.timestamp for s in steps])
    summary: dict[str, Any] = dict(
        equity_stats(equity, start_value=start_value, periods_per_year=ppy)
    )
    fills = [f for s in steps for f in s.fills]
    acks = [a for s in steps for a in s.acks]
    calls = [c for s in steps if s.analysis is not None for c in s.analysis.llm_calls]
    rejected = [v for s in steps for v in s.rejections]
    closed, wins = _closed_trades(fills)
    summary.update(
        start=steps[0].timestamp.isoformat(),
        end=steps[-1].timestamp.isoformat(),
        steps=len(steps),
        failed_steps=sum(s.is_failed for s in steps),
        abstentions=sum(
            s.analysis is not None and s.analysis.source.value == "abstain" for s in steps
        ),
        fallbacks=sum(
            s.decision is not None and s.decision.source.value == "fallback" for s in steps
        ),
        orders=len({a.client_order_id for a in acks if a.status.value != "cancelled"}),
        fills=len(fills),
        closed_trades=closed,
        win_rate=wins / closed if closed else math.nan,
        fees=math.fsum(f.fee for f in fills),
        rejections=len(rejected),
        llm_calls=len(calls),
        cache_hits=sum(c.cache_hit for c in calls),
        tokens_in=sum(c.tokens_in for c in calls),
        tokens_out=sum(c.tokens_out for c in calls),
        llm_cost=math.fsum(c.cost for c in calls),
    )
    baseline = None
    closes = _prices(view if prices is None else prices, steps)
    fee = fee_rate if fee_rate is not None else float(info.config.get("fee_rate", 0.0))
    if closes is not None and closes[0] > 0:
        units = start_value * (1.0 - fee) / closes[0]
        curve = [units * p for p in closes]
        baseline = dict(equity_stats(curve, start_value=start_value, periods_per_year=ppy))
    notes = _notes(info, steps)
    years = len(steps) / ppy if ppy and math.isfinite(ppy) else math.nan
    if not years >= MIN_YEARS_TO_ANNUALISE:
        days = (steps[-1].timestamp - steps[0].timestamp).total_seconds() / 86_400
        notes.append(
            f"CAGR is not shown: the window spans {days:,.1f} days, and a return over less than "
            "a year is not annualised (GIPS). Sharpe and volatility are scaled to a year from "
            "the step returns; read them with the window's length in mind."
        )
    drawn = []
    if figures:
        from axon_lab.explain._report_figures import figure_sections

        drawn = [
            ReportSection(title, html=fragment)
            for title, fragment in figure_sections(
                steps,
                config=info.config,
                view=view,
                closes=closes if closes is not None and closes[0] > 0 else None,
                start_value=start_value,
                fee=fee,
            )
        ]
    report = RunReport(
        run=info,
        summary=summary,
        baseline=baseline,
        rejections=dict(Counter(v.rule for v in rejected).most_common()),
        orders=with_prompts(store, run_id, steps, order_rows(steps)),
        notes=notes,
        figures=drawn,
    )
    _add_inputs_section(report, store, run_id, steps)
    from axon_lab.audit import audit_lines, load_audit

    if audit is None or isinstance(audit, str | Path):
        audit = load_audit(run_folder(Path("runs"), run_id) if audit is None else audit)
    lines = audit_lines(audit, run_id)
    report.add_section(
        "Audits",
        markdown="\n".join(f"- {_md(line)}" for line in lines),
        html="<ul>" + "".join(f"<li>{escape_html(line)}</li>" for line in lines) + "</ul>",
    )
    return report


def _add_inputs_section(
    report: RunReport, store: ExplainStore, run_id: str, steps: list[StepRecord]
) -> None:
    """The RL hint, documents and role costs behind the run's orders, when it had any."""
    from axon_lab.explain._inputs import (
        cost_by_role,
        inputs_html,
        inputs_markdown,
        order_step_inputs,
    )

    rows = order_step_inputs(store, run_id, steps)
    roles = {r: c for r, c in cost_by_role(steps).items() if r}
    if not rows and not roles:
        return
    md = [f"- step {step}: {_md(inputs_markdown(obs))}" for step, obs in rows]
    html = [f"<h3>Step {step}</h3>{inputs_html(obs)}" for step, obs in rows]
    if roles:
        shown = ", ".join(f"{r}: {c:.6f}" for r, c in roles.items())
        md.insert(0, f"- LLM cost by role: {_md(shown)}")
        html.insert(0, f"<p>LLM cost by role: {escape_html(shown)}</p>")
    report.add_section("Inputs behind the orders", markdown="\n".join(md), html="".join(html))


def _notes(info: RunInfo, steps: list[StepRecord]) -> list[str]:
    notes = []
    cutoff = info.model_cutoff
    if isinstance(cutoff, date) and steps[0].timestamp.date() <= cutoff:
        notes.append(
            f"The backtest window starts on {steps[0].timestamp.date()}, before the model's "
            f"training cutoff {cutoff}: the model may have memorised this period."
        )
    elif info.model.startswith("rules:"):
        notes.append("Analyst: deterministic rules (no LLM); no training-data contamination.")
    else:
        notes.append(
            "The model's training cutoff is unknown: it may have seen this period in training."
        )
    failed = [s for s in steps if s.is_failed]
    if failed:
        first = failed[0]
        notes.append(
            f"{len(failed)} step(s) failed; the first, step {first.step}, in {first.failed_stage}: "
            f"{short(first.error or '', 200)}"
        )
    return notes


class ExplainBridge:
    """Seed 001's name for the store-to-report bridge: reports of any run in a store.

    Args:
        store: The explain store.
    """

    def __init__(self, store: ExplainStore) -> None:
        self.store = store

    def report(self, run_id: str, **kwargs: Any) -> RunReport:
        """:func:`build_report` for ``run_id``."""
        return build_report(self.store, run_id, **kwargs)

    def write(self, run_id: str, directory: str | Path, **kwargs: Any) -> tuple[Path, Path]:
        """Build the report of ``run_id`` and save it under ``directory``."""
        return self.report(run_id, **kwargs).save(directory)

    def __repr__(self) -> str:
        return f"ExplainBridge({self.store!r})"
