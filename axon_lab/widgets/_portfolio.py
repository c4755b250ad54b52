"""PortfolioView: a portfolio run's weights over time, contributions, and one step's book.

A step slider picks a step; the view shows that step's weights and per-symbol PnL (largest
first), its decision's reason and its rejections. The figures come from
:func:`~axon_lab.viz.get_portfolio_info`. No business logic here; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from axon_lab.records import StepRecord
from axon_lab.viz import get_portfolio_info, graph_objects, plot_contributions, plot_weights

from ._common import BaseView, esc, html_table, ipywidgets

__all__ = ["PortfolioView", "render_portfolio_step_html"]


def render_portfolio_step_html(step: StepRecord, *, rows: int = 15) -> str:
    """One portfolio step as HTML: its weights and PnL by symbol, reason, rejections."""
    p = step.portfolio
    if p is None:
        return "<p>this step has no portfolio part</p>"
    names = sorted(set(p.weights) | set(p.pnl_by_symbol),
                   key=lambda s: -abs(p.weights.get(s, 0.0)))[:rows]  # fmt: skip
    table = html_table(
        ["symbol", "weight", "step pnl"],
        [[esc(s), f"{p.weights.get(s, 0.0):.2%}", f"{p.pnl_by_symbol.get(s, 0.0):+,.2f}"]
         for s in names],
    )  # fmt: skip
    reason = esc(p.decision.reason) if p.decision is not None else "(no decision)"
    rejected = "".join(f"<li>{esc(v.client_order_id or '')}: {esc(v.rule)} {esc(v.message)}</li>"
                       for v in step.rejections)  # fmt: skip
    return (
        f"<p><b>step {step.step}</b> {esc(step.timestamp.isoformat())} equity "
        f"{step.equity:,.2f} (pnl {step.pnl:+,.2f}); gross {p.gross:.2f}, net {p.net:.2f}, "
        f"{p.n_tradable} tradable, {p.n_orders} orders, {p.n_rejected} rejected, "
        f"{p.n_cancelled} cancelled (no bar)</p><p>{reason}</p>{table}"
        + (f"<ul>{rejected}</ul>" if rejected else "")
    )


class PortfolioView(BaseView):
    """Weights over time, contribution to return, and a step picker (see the module docstring).

    Args:
        top: How many symbols the figures name (the rest is ``other``).

    Examples:
        >>> from axon_lab.data import make_synthetic_universe
        >>> from axon_lab.portfolio import make_portfolio_agent
        >>> loop = make_portfolio_agent(make_synthetic_universe(4, 50, seed=1), run_id="v")
        >>> view = PortfolioView()
        >>> view.add(loop.run().store.steps("v"))
        >>> view.slider.max
        49
        >>> loop.close()
    """

    def __init__(self, *, top: int = 10) -> None:
        w = ipywidgets()
        go = graph_objects()
        self.top = top
        self.steps: list[StepRecord] = []
        self.weights_figure: Any = go.FigureWidget()
        self.contribution_figure: Any = go.FigureWidget()
        self.slider = w.IntSlider(value=0, min=0, max=0, description="step")
        self.detail = w.HTML("<p>no steps yet</p>")
        self.slider.observe(lambda _: self._show(), names="value")
        self.widget = w.VBox([self.weights_figure, self.contribution_figure, self.slider,
                              self.detail])  # fmt: skip

    def _show(self) -> None:
        if self.steps:
            self.detail.value = render_portfolio_step_html(self.steps[self.slider.value])

    def add(self, records: Sequence[StepRecord]) -> None:
        """Show newly recorded steps."""
        self.steps.extend(records)
        if not self.steps:
            return
        info = get_portfolio_info(self.steps, top=self.top)
        for target, fig in ((self.weights_figure, plot_weights(info)),
                            (self.contribution_figure, plot_contributions(info))):  # fmt: skip
            with target.batch_update():
                target.data = ()
                for trace in fig.data:
                    target.add_trace(trace)
                target.layout = fig.layout
        self.slider.max = len(self.steps) - 1
        self.slider.value = len(self.steps) - 1
        self._show()

    def clear(self) -> None:
        """Forget every step."""
        self.steps = []
        self.weights_figure.data = ()
        self.contribution_figure.data = ()
        self.slider.max = 0
        self.detail.value = "<p>no steps yet</p>"
