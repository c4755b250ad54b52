"""The evaluation report: leaderboard, verdicts, per-window equity curves; HTML, Markdown, notebook.

Figures follow the project's pattern: :func:`get_leaderboard_info` and
:func:`get_window_equity_info` compute what is drawn (NamedTuples of lists, tested), and
:func:`plot_leaderboard` / :func:`plot_window_equity` render plotly figures. Every text that came
from data (symbols) or a model (agent names, analyst descriptions) is escaped with
:func:`html.escape` wherever it is shown, in the HTML, in the Markdown (which notebooks render as
HTML) and in figure labels (plotly renders a subset of HTML in text).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from axon_lab.errors import ConfigError
from axon_lab.evaluate._cutoff import CutoffSplit, split_by_cutoff
from axon_lab.evaluate._results import Evaluation
from axon_lab.evaluate._verdict import EvaluationSummary, summarize_evaluation

__all__ = [
    "EvaluationReport",
    "LeaderboardInfo",
    "WindowEquityInfo",
    "build_evaluation_report",
    "get_leaderboard_info",
    "get_window_equity_info",
    "plot_leaderboard",
    "plot_window_equity",
]


class LeaderboardInfo(NamedTuple):
    """Mean return per window and its interval, per agent (escaped names)."""

    agents: list[str]
    means: list[float]
    lows: list[float]
    highs: list[float]


class WindowEquityInfo(NamedTuple):
    """Equity relative to the starting cash, per window and agent (escaped labels)."""

    windows: list[str]
    agents: list[str]
    times: list[list[list[str]]]
    values: list[list[list[float]]]


def get_leaderboard_info(summary: EvaluationSummary) -> LeaderboardInfo:
    """What :func:`plot_leaderboard` draws."""
    rows = summary.leaderboard
    return LeaderboardInfo(
        agents=[html.escape(r.agent) for r in rows],
        means=[r.mean_return for r in rows],
        lows=[r.interval.low if r.interval else math.nan for r in rows],
        highs=[r.interval.high if r.interval else math.nan for r in rows],
    )


def get_window_equity_info(evaluation: Evaluation) -> WindowEquityInfo:
    """What :func:`plot_window_equity` draws (the random baseline: its first draw)."""
    agents = list(evaluation.agents)
    times: list[list[list[str]]] = []
    values: list[list[list[float]]] = []
    for w in evaluation.windows:
        t_row, v_row = [], []
        for agent in agents:
            eq = evaluation.equity[("random-d0" if agent == "random" else agent, w.label)]
            t_row.append([t.isoformat() for t in eq.index])
            v_row.append([float(v) / evaluation.cash for v in eq])
        times.append(t_row)
        values.append(v_row)
    return WindowEquityInfo(
        windows=[html.escape(w.label) for w in evaluation.windows],
        agents=[html.escape(a) for a in agents],
        times=times,
        values=values,
    )


def plot_leaderboard(info: LeaderboardInfo) -> Any:
    """Mean window return per agent with its interval."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=info.agents,
            y=info.means,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [h - m for h, m in zip(info.highs, info.means, strict=True)],
                "arrayminus": [m - lo for lo, m in zip(info.lows, info.means, strict=True)],
            },
        )
    )
    fig.update_layout(
        title="Mean return per window (bootstrap interval over windows)",
        yaxis_tickformat=".1%",
        template="plotly_white",
        height=380,
    )
    return fig


def plot_window_equity(info: WindowEquityInfo, *, columns: int = 3) -> Any:
    """Small multiples: one panel per window, one line per agent (equity / starting cash)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    n = len(info.windows)
    rows = max(1, math.ceil(n / columns))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=info.windows)
    colors = ["#1f77b4", "#7f7f7f", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    for i in range(n):
        for j, agent in enumerate(info.agents):
            fig.add_trace(
                go.Scatter(
                    x=info.times[i][j],
                    y=info.values[i][j],
                    name=agent,
                    legendgroup=agent,
                    showlegend=i == 0,
                    line={"color": colors[j % len(colors)], "width": 1.5},
                ),
                row=i // columns + 1,
                col=i % columns + 1,
            )
    fig.update_layout(
        title="Equity per window (1 = starting cash)",
        template="plotly_white",
        height=260 * rows + 80,
    )
    return fig


def _fmt(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.2%}"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class EvaluationReport:
    """An evaluation's report: a value rendered as Markdown, HTML, or in a notebook.

    Attributes:
        evaluation: The evaluation.
        summary: Its leaderboard, verdicts and Sharpe test.
        model_cutoff: The training cutoff of the agents' model, when known.
        cutoff_splits: Per agent under test, its windows before, spanning and after the cutoff
            with the comparison against buy-and-hold in each.
    """

    evaluation: Evaluation
    summary: EvaluationSummary
    model_cutoff: date | None = None
    cutoff_splits: dict[str, tuple[CutoffSplit, ...]] = field(default_factory=dict)

    def _cutoff_lines(self) -> list[str]:
        if self.model_cutoff is None:
            return [
                "The model's training cutoff is unknown: no window can be called out of sample. "
                "Pass model_cutoff=... (see axon_lab.audit.load_cutoffs)."
            ]
        lines = []
        for agent, splits in self.cutoff_splits.items():
            for s in splits:
                c = s.comparison
                interval = (
                    f"[{_fmt(c.interval.low)}, {_fmt(c.interval.high)}]" if c else f"({s.note})"
                )
                lines.append(
                    f"{agent}, {s.n_windows} window(s) {s.window_class} the cutoff "
                    f"{self.model_cutoff}: mean excess return over buy & hold "
                    f"{_fmt(s.mean_excess)} {interval}"
                )
        return lines

    def __repr__(self) -> str:
        ev = self.evaluation
        return f"EvaluationReport({ev.evaluation_id!r}, agents={list(ev.agents)})"

    def _leaderboard_rows(self) -> list[list[str]]:
        out = []
        for r in self.summary.leaderboard:
            ci = f"[{_fmt(r.interval.low)}, {_fmt(r.interval.high)}]" if r.interval else "n/a"
            sharpe = "n/a" if not math.isfinite(r.mean_sharpe) else f"{r.mean_sharpe:.2f}"
            out.append(
                [
                    r.agent,
                    r.role,
                    _fmt(r.mean_return),
                    ci,
                    _fmt(r.median_return),
                    sharpe,
                    f"{r.wins_vs_buy_and_hold} of {r.n_windows}",
                ]
            )
        return out

    def _header(self) -> list[tuple[str, str]]:
        ev = self.evaluation
        symbols = sorted({w.symbol for w in ev.windows})
        return [
            ("evaluation id", ev.evaluation_id),
            ("store", ev.store_url),
            ("symbols", ", ".join(symbols)),
            (
                "windows",
                f"{len(ev.windows)} ({len(ev.windows) // max(len(symbols), 1)} per symbol)",
            ),
            ("cash / fee rate", f"{ev.cash:,.0f} / {ev.fee_rate:g}"),
            ("fill model", "decide at a bar's close, market orders fill at the next bar's open"),
            (
                "baselines",
                "rules and random (same loop and sim backend); buy_and_hold and flat "
                "(vectorized engine, same fill kernel)",
            ),
            (
                "audits",
                "not run here (look-ahead check, anonymised re-run, decision stability): run "
                "`axon-lab audit RUN_ID` on the runs listed below",
            ),
        ]

    def _sharpe_line(self) -> str:
        s = self.summary.sharpe
        if s is None:
            return self.summary.sharpe_note
        return (
            f"{self.summary.sharpe_note}: annualised Sharpe {s.sharpe:.2f} over {s.n_obs} steps, "
            f"PSR {s.psr:.2f}, DSR {s.dsr:.2f} (threshold {s.expected_max_sharpe:.2f})"
        )

    def to_markdown(self) -> str:
        """The report as Markdown (data and model text escaped)."""
        e = html.escape
        lines = [f"# Evaluation {e(self.evaluation.evaluation_id)}", ""]
        lines += [f"- **{k}**: {e(v)}" for k, v in self._header()]
        lines += ["", "## Verdict", ""]
        lines += [f"- {e(c.verdict)}" for c in self.summary.comparisons]
        lines += [f"- {e(self._sharpe_line())}", "", "## By the model's training cutoff", ""]
        lines += [f"- {e(line)}" for line in self._cutoff_lines()]
        lines += ["", "## Leaderboard", ""]
        head = ["agent", "role", "mean return", "interval", "median", "mean Sharpe", "beats B&H"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(e(c) for c in row) + " |" for row in self._leaderboard_rows()]
        lines += ["", "## Runs behind every number", ""]
        lines += ["| agent | window | total return | run id |", "|---|---|---|---|"]
        for _, row in self.evaluation.results.iterrows():
            agent = row["agent"] if row["draw"] < 0 else f"random-d{row['draw']}"
            lines.append(
                f"| {e(agent)} | {e(row['label'])} | {_fmt(row['total_return'])} | "
                f"`{e(row['run_id'])}` |"
            )
        return "\n".join(lines) + "\n"

    def figures(self) -> list[Any]:
        """The plotly figures: leaderboard, then equity per window."""
        return [
            plot_leaderboard(get_leaderboard_info(self.summary)),
            plot_window_equity(get_window_equity_info(self.evaluation)),
        ]

    def _tables_html(self) -> str:
        e = html.escape
        parts = [f"<h1>Evaluation {e(self.evaluation.evaluation_id)}</h1><ul>"]
        parts += [f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in self._header()]
        parts.append("</ul><h2>Verdict</h2><ul>")
        parts += [f"<li>{e(c.verdict)}</li>" for c in self.summary.comparisons]
        parts.append(f"<li>{e(self._sharpe_line())}</li></ul>")
        parts.append("<h2>By the model's training cutoff</h2><ul>")
        parts += [f"<li>{e(line)}</li>" for line in self._cutoff_lines()]
        parts.append("</ul><h2>Leaderboard</h2>")
        head = ["agent", "role", "mean return", "interval", "median", "mean Sharpe", "beats B&H"]
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        for row in self._leaderboard_rows():
            parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
        parts.append("</table>")
        return "".join(parts)

    def to_html(self) -> str:
        """A self-contained HTML page (plotly.js inlined once; escaped text)."""
        from axon_lab.viz import section_html

        e = html.escape
        figs = "".join(
            section_html(f, i == 0, div_id=f"evaluation-fig-{i}")
            for i, f in enumerate(self.figures())
        )
        runs = ["<h2>Runs behind every number</h2><table><tr><th>agent</th><th>window</th>"]
        runs.append("<th>total return</th><th>run id</th></tr>")
        for _, row in self.evaluation.results.iterrows():
            agent = row["agent"] if row["draw"] < 0 else f"random-d{row['draw']}"
            runs.append(
                f"<tr><td>{e(agent)}</td><td>{e(row['label'])}</td>"
                f"<td>{_fmt(row['total_return'])}</td><td><code>{e(row['run_id'])}</code></td></tr>"
            )
        runs.append("</table>")
        style = (
            "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style>"
        )
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Evaluation "
            f"{e(self.evaluation.evaluation_id)}</title>{style}</head><body>"
            f"{self._tables_html()}{figs}{''.join(runs)}</body></html>"
        )

    def _repr_html_(self) -> str:
        # the notebook view: tables and verdicts (figures via report.figures(), kept out of the
        # notebook's saved output because plotly.js weighs megabytes)
        return self._tables_html()

    def save(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``report.md`` and ``report.html`` under ``directory``; return their paths."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        md, page = folder / "report.md", folder / "report.html"
        md.write_text(self.to_markdown(), encoding="utf-8")
        page.write_text(self.to_html(), encoding="utf-8")
        return md, page


def build_evaluation_report(
    evaluation: Evaluation,
    *,
    level: float = 0.95,
    n_trials: int | None = None,
    model_cutoff: date | None = None,
) -> EvaluationReport:
    """The report of ``evaluation`` (see :func:`summarize_evaluation` for the arguments).

    With ``model_cutoff``, each agent under test is also compared with buy-and-hold within the
    windows before, spanning and after the cutoff (:func:`split_by_cutoff`).

    Raises:
        ConfigError: If ``evaluation`` is not an :class:`~axon_lab.evaluate.Evaluation`.
    """
    if not isinstance(evaluation, Evaluation):
        raise ConfigError(
            f"build_evaluation_report needs what evaluate(...) returned, got "
            f"{type(evaluation).__name__}"
        )
    splits = {}
    if model_cutoff is not None and "buy_and_hold" in evaluation.agents:
        splits = {
            agent: split_by_cutoff(evaluation, agent, model_cutoff, level=level)
            for agent in evaluation.agents_under_test
        }
    return EvaluationReport(
        evaluation=evaluation,
        summary=summarize_evaluation(evaluation, level=level, n_trials=n_trials),
        model_cutoff=model_cutoff,
        cutoff_splits=splits,
    )
