"""RunComparison: runs side by side — their table, their equity overlaid, where two of them part.

The view calls :func:`~axon_lab.explain.compare_runs`, :func:`~axon_lab.explain.get_comparison_info`
and :func:`~axon_lab.explain.diff_runs` and renders what they return; it works on any store
(SQLite or PostgreSQL). Run ids and every text from the record are escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord

from ._common import BaseView, esc, html_table, ipywidgets

if TYPE_CHECKING:
    from axon_lab.data import MarketView
    from axon_lab.explain import ExplainStore

__all__ = ["RunComparison"]

_SHOWN = ("steps", "total_return", "sharpe", "max_drawdown", "turnover", "fees", "rejections",
          "llm_cost", "abstentions")  # fmt: skip
_PERCENT = {"total_return", "max_drawdown"}


def _cell(key: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if key in _PERCENT:
        return f"{value:.2%}"
    if key in ("steps", "rejections", "abstentions"):
        return f"{value:,.0f}"
    return f"{value:,.4g}"


class RunComparison(BaseView):
    """A table of runs, their equity curves overlaid, and the first step where two differ.

    Args:
        store: Where the runs are.
        run_ids: The runs to compare (two or more for a diff).
        view: The market data, for a buy-and-hold line and row.

    Attributes:
        table: HTML widget with the comparison table.
        figure: The overlaid equity (a plotly ``FigureWidget``).
        diff: HTML widget saying where the first two runs part.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import make_agent
        >>> data = make_synthetic(300, timeframe="1h", seed=4, symbol="S")
        >>> a = make_agent(data, store="sqlite://", run_id="a", progress=False)
        >>> _ = a.run(150)
        >>> b = make_agent(data, store=a.store, run_id="b", progress=False, risk_fraction=0.02)
        >>> _ = b.run(150)
        >>> view = RunComparison(a.store, ["a", "b"], view=a.view)
        >>> "buy &amp; hold" in view.table.value, "differs" in view.diff.value
        (True, True)
        >>> a.close()
    """

    def __init__(
        self, store: ExplainStore, run_ids: Sequence[str], *, view: MarketView | None = None
    ) -> None:
        if not run_ids:
            raise ConfigError("RunComparison needs at least one run id")
        w = ipywidgets()
        from axon_lab.explain import (
            compare_runs,
            diff_runs,
            get_comparison_info,
            plot_comparison,
        )

        ids = list(run_ids)
        frame = compare_runs(store, ids, view=view)
        rows = [[esc(name), *(_cell(k, row[k]) for k in _SHOWN)] for name, row in frame.iterrows()]
        self.table = w.HTML(html_table(["run", *_SHOWN], rows))
        fig = plot_comparison(get_comparison_info(store, ids, view=view))
        import plotly.graph_objects as go

        self.figure: Any = go.FigureWidget(fig)
        text = "Pick two runs to see where they part."
        if len(ids) >= 2:
            found = diff_runs(store, ids[0], ids[1])
            text = (
                f"{esc(ids[0])} and {esc(ids[1])} agree at every step."
                if found is None
                else f"First difference: {esc(found.detail)}"
            )
        self.diff = w.HTML(f"<p>{text}</p>")
        self.widget = w.VBox([self.table, self.figure, self.diff])
        self.widget.add_class("axon-run-comparison")

    def add(self, records: Sequence[StepRecord]) -> None:
        """A comparison is of stored runs; new steps do not change it."""

    def clear(self) -> None:
        """Nothing to forget."""
