"""LiveEquityChart: an equity line that grows as steps arrive, in a plotly FigureWidget.

The points are computed by :func:`axon_lab.viz.get_equity_info` and kept in this object's own
lists (``x``, ``y``). Each update sets the trace's ``x``/``y`` in one ``batch_update`` (one
restyle message: the open views redraw that trace, nothing is rebuilt) and then re-syncs the
widget's synced state. Why both: a FigureWidget sends trace updates as one-off messages and does
not keep them in its synced state, so a frontend that connects later (Voilà renders after the
notebook ran; a reloaded page) would draw the data the figure had when it was built.
:meth:`LiveEquityChart.resync` writes the current figure into that state; it runs after each
update and before each display.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from axon_lab.records import StepRecord
from axon_lab.viz import get_equity_info, graph_objects

from ._common import BaseView

__all__ = ["LiveEquityChart"]


def _label(ts: Any) -> str:
    # plotly.js reads "YYYY-MM-DD HH:MM:SS" as a date; it rejects a "+00:00" offset
    return str(ts.strftime("%Y-%m-%d %H:%M:%S"))


class LiveEquityChart(BaseView):
    """The equity after each step, as a line with a marker per step.

    Args:
        title: The figure title.
        height: The figure height in pixels.

    Attributes:
        x: Step times (UTC, ``YYYY-MM-DD HH:MM:SS``), one per point.
        y: Equity after each step.
        steps: Step numbers, one per point.
        figure: The plotly ``FigureWidget`` (``view.widget`` is the same object).

    Examples:
        >>> from datetime import UTC, datetime
        >>> chart = LiveEquityChart()
        >>> t = datetime(2024, 1, 1, tzinfo=UTC)
        >>> chart.add([StepRecord(run_id="r", step=0, timestamp=t, observation_digest="",
        ...                       equity=101.0, pnl=1.0)])
        >>> chart.x, chart.y, list(chart.figure.data[0].y)
        (['2024-01-01 00:00:00'], [101.0], [101.0])
    """

    def __init__(self, *, title: str = "Equity", height: int = 320) -> None:
        go = graph_objects()
        self.x: list[str] = []
        self.y: list[float] = []
        self.steps: list[int] = []
        self._initial: float | None = None
        self.figure: Any = go.FigureWidget(
            data=[go.Scatter(x=[], y=[], mode="lines+markers", name="equity")],
            layout={
                "title": {"text": title},
                "height": height,
                "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
                "xaxis": {"title": {"text": "time (UTC)"}, "type": "date"},
                "yaxis": {"title": {"text": "equity"}},
                "showlegend": False,
            },
        )
        self.widget = self.figure

    def add(self, records: Sequence[StepRecord]) -> None:
        """Append one point per record and send the trace once."""
        if not records:
            return
        if self._initial is None:
            first = min(records, key=lambda r: r.step)
            self._initial = first.equity - first.pnl
        info = get_equity_info(records, initial_equity=self._initial)
        self.x.extend(_label(t) for t in info.x)
        self.y.extend(info.equity)
        self.steps.extend(sorted(r.step for r in records))
        self._push()

    def clear(self) -> None:
        """Remove every point."""
        self.x, self.y, self.steps = [], [], []
        self._initial = None
        self._push()

    def _push(self) -> None:
        with self.figure.batch_update():
            self.figure.data[0].x = list(self.x)
            self.figure.data[0].y = list(self.y)
        self.resync()

    def resync(self) -> None:
        """Write the figure's current data and layout into the widget's synced state."""
        fig = self.figure
        fig._widget_data = copy.deepcopy(fig._data)
        fig._widget_layout = copy.deepcopy(fig._layout_obj._props)
