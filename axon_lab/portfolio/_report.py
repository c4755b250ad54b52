"""The portfolio report of a run: per-symbol table, weights over time, contribution to return.

Built from the explain store alone (the step records' ``portfolio`` part, their fills and
verdicts), so any recorded portfolio run can be reported again. Every symbol and text shown is
HTML-escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from axon_lab.errors import StoreError
from axon_lab.records import PortfolioObservation, StepRecord
from axon_lab.viz import (
    PortfolioInfo,
    get_portfolio_info,
    plot_contributions,
    plot_weights,
    portfolio_frames,
    section_html,
)

if TYPE_CHECKING:
    from axon_lab.explain import ExplainStore

__all__ = ["PortfolioReport", "build_portfolio_report", "portfolio_observation"]


def portfolio_observation(store: ExplainStore, run_id: str, step: int) -> PortfolioObservation:
    """The observation step ``step`` of portfolio run ``run_id`` saw, read back from the store.

    Raises:
        StoreError: If the step does not exist or its observation was not kept.
    """
    from axon_lab.explain import read_blobs

    found = [s for s in store.steps(run_id) if s.step == step]
    if not found:
        raise StoreError(f"run {run_id!r} has no step {step}; list its steps with store.steps")
    digest = found[0].observation_digest
    text = read_blobs(store, run_id, [digest]).get(digest) if digest else None
    if text is None:
        raise StoreError(f"the observation of step {step} of run {run_id!r} was not kept")
    return PortfolioObservation.from_json(text)


def symbol_table(steps: list[StepRecord]) -> pd.DataFrame:
    """One row per symbol: mean and largest weight, contribution to return, fills, rejections."""
    weights, pnl = portfolio_frames(steps)
    start = steps[0].equity - steps[0].pnl
    names = sorted(set(weights.columns) | set(pnl.columns))
    weights = weights.reindex(columns=names, fill_value=0.0)
    pnl = pnl.reindex(columns=names, fill_value=0.0)
    fills: dict[str, int] = {}
    rejected: dict[str, int] = {}
    for s in steps:
        for f in s.fills:
            fills[f.symbol] = fills.get(f.symbol, 0) + 1
        for v in s.rejections:
            if v.client_order_id:
                rejected[v.client_order_id] = rejected.get(v.client_order_id, 0) + 1
    table = pd.DataFrame(
        {
            "mean_weight": weights.mean(),
            "max_weight": weights.abs().max(),
            "held_steps": (weights != 0).sum(),
            "contribution": pnl.sum() / start,
            "fills": pd.Series(fills, dtype="int64").reindex(names, fill_value=0),
            "rejections": pd.Series(rejected, dtype="int64").reindex(names, fill_value=0),
        }
    )
    table.index.name = "symbol"
    return table.sort_values("contribution", ascending=False, kind="stable")


@dataclass(frozen=True, slots=True)
class PortfolioReport:
    """A portfolio run's report.

    Attributes:
        run_id: The run.
        info: The figures' data (:class:`~axon_lab.viz.PortfolioInfo`).
        symbols: The per-symbol table.
        steps: How many steps were recorded.
    """

    run_id: str
    info: PortfolioInfo
    symbols: pd.DataFrame
    steps: int

    def figures(self) -> list[Any]:
        """The weights and contribution figures."""
        return [plot_weights(self.info), plot_contributions(self.info)]

    def to_html(self, *, max_rows: int = 50) -> str:
        """A self-contained HTML document (plotly.js inlined once)."""
        figs = self.figures()
        rows = "".join(
            "<tr><td>" + html.escape(str(sym)) + "</td>"
            + "".join(f"<td>{v:.4g}</td>" for v in row) + "</tr>"
            for sym, row in zip(self.symbols.index[:max_rows],
                                self.symbols.to_numpy()[:max_rows].tolist(), strict=True)
        )  # fmt: skip
        head = "".join(f"<th>{html.escape(c)}</th>" for c in ["symbol", *self.symbols.columns])
        title = html.escape(f"Portfolio run {self.run_id}")
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title></head><body><h1>{title}</h1><p>{self.steps} steps; return "
            f"{self.info.total_return:+.2%}</p>{section_html(figs[0], True)}"
            f"{section_html(figs[1], False)}<table><thead><tr>{head}</tr></thead><tbody>{rows}"
            "</tbody></table></body></html>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def build_portfolio_report(store: ExplainStore, run_id: str, *, top: int = 10) -> PortfolioReport:
    """Build the report of portfolio run ``run_id`` from ``store``.

    Raises:
        StoreError: If the run does not exist.
        ConfigError: If it is not a portfolio run.
    """
    steps = store.steps(run_id)
    info = get_portfolio_info(steps, top=top)
    return PortfolioReport(run_id=run_id, info=info, symbols=symbol_table(steps), steps=len(steps))
