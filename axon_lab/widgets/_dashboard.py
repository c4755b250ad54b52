"""Dashboard: the stepper, the live chart, the reasoning chain, the step detail and the rejections.

With a loop, the dashboard follows it (its views are fed by the stepper's
:class:`~axon_lab.widgets.LoopFollower`) and the run picker starts on the loop's run. Picking
another run of the store shows that past run (read with ``store.steps``); the stepper's buttons
are locked meanwhile, and picking the live run again reloads it from the store. Without a loop the
dashboard only browses the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord

from ._chart import LiveEquityChart
from ._common import BaseView, ipywidgets
from ._detail import StepDetail
from ._reasoning import ReasoningChainView
from ._rejections import RiskRejectionInspector
from ._stepper import LoopStepper

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from axon_lab.explain import ExplainStore
    from axon_lab.oader import OADERLoop

__all__ = ["Dashboard"]


class Dashboard(BaseView):
    """Everything in one widget: run picker, stepper and chart, reasoning, step detail, rejections.

    Args:
        loop: A loop to follow and drive (its ``loop.store`` is browsed); None to only browse.
        store: The explain store to browse (default: ``loop.store``).
        run_id: The run shown first (default: the loop's run, else the store's newest).
        factory: Builds a fresh loop for the stepper's Reset.
        max_entries: Reasoning-chain entries kept.
        audit: The shown run's audit results (``axon_lab.audit.load_audit``): the step detail
            marks the steps where the model disagreed with itself.

    Attributes:
        stepper: The :class:`LoopStepper` (None without a loop).
        chart: The live equity chart (the stepper's, with a loop).
        reasoning: The :class:`ReasoningChainView`.
        detail: The :class:`StepDetail`.
        rejections: The :class:`RiskRejectionInspector`.
        run_picker: Dropdown of the store's runs. run_id: The run shown.

    Raises:
        ConfigError: Without a loop and a store, or with a run id the store does not hold.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.oader import make_agent
        >>> loop = make_agent(make_synthetic(80, timeframe="1h", seed=1, symbol="SYN"),
        ...                   store="sqlite://", run_id="doc", progress=False)
        >>> dash = Dashboard(loop)
        >>> dash.stepper.step_button.click()
        >>> dash.reasoning.steps, dash.detail.record.step
        ([0], 0)
        >>> loop.close()
    """

    def __init__(
        self,
        loop: OADERLoop | None = None,
        *,
        store: ExplainStore | None = None,
        run_id: str | None = None,
        factory: Callable[[], OADERLoop] | None = None,
        max_entries: int = 20,
        audit: Mapping[str, Any] | None = None,
    ) -> None:
        w = ipywidgets()
        the_store = store if store is not None else getattr(loop, "store", None)
        if the_store is None:
            raise ConfigError(
                "Dashboard needs a loop built by make_agent (it carries loop.store) or store=...; "
                "pass store=ExplainStore(url) to browse recorded runs"
            )
        self.store: ExplainStore = the_store
        self.reasoning = ReasoningChainView(max_entries=max_entries)
        self.detail = StepDetail(store=self.store, audit=audit)
        self.rejections = RiskRejectionInspector()
        views: list[BaseView] = [self.reasoning, self.detail, self.rejections]
        self.stepper: LoopStepper | None = None
        if loop is not None:
            self.stepper = LoopStepper(loop, factory=factory, views=views)
            self.stepper.on_reset.append(self._on_reset)
            self.chart = self.stepper.chart
            top: Any = self.stepper.widget
        else:
            self.chart = LiveEquityChart()
            top = self.chart.widget
        self._views: list[BaseView] = [self.chart, *views]
        self.run_picker = w.Dropdown(description="run", layout=w.Layout(width="420px"))
        self.refresh_button = w.Button(description="refresh runs", layout=w.Layout(width="auto"))
        self.refresh_button.on_click(lambda _b: self.refresh_runs())
        self.run_id: str | None = None
        self.refresh_runs()
        first = run_id or (loop.run_id if loop is not None else None)
        if first is None and self.run_picker.options:
            first = self.run_picker.options[-1][1]
        if first is not None:
            self.show_run(first)
        self.run_picker.observe(self._on_pick, names="value")
        tabs = w.Tab(children=[self.detail.widget, self.rejections.widget])
        tabs.titles = ("Step detail", "Rejected orders")
        self.reasoning.widget.layout = w.Layout(width="50%")
        tabs.layout = w.Layout(width="50%")
        self.widget = w.VBox(
            [
                w.HBox([self.run_picker, self.refresh_button]),
                top,
                w.HBox([self.reasoning.widget, tabs]),
            ]
        )
        self.widget.add_class("axon-dashboard")

    @property
    def loop(self) -> OADERLoop | None:
        """The loop followed now (the stepper's; None without one)."""
        return self.stepper.loop if self.stepper is not None else None

    def refresh_runs(self) -> None:
        """Re-read the store's runs into the run picker (oldest first)."""
        runs = self.store.runs()
        options = [
            (f"{r.run_id} · {r.model} · {r.created_at:%Y-%m-%d %H:%M}", r.run_id) for r in runs
        ]
        current = self.run_id
        self.run_picker.options = options
        if current is not None and current in {v for _, v in options}:
            self.run_picker.value = current

    def _on_pick(self, change: dict[str, Any]) -> None:
        if change["new"] is not None and change["new"] != self.run_id:
            self.show_run(change["new"])

    def show_run(self, run_id: str) -> None:
        """Show run ``run_id`` from the store; the live run keeps following the loop.

        Raises:
            StoreError: If the store has no such run.
        """
        steps = self.store.steps(run_id)
        self.run_id = run_id
        live = self.loop is not None and self.loop.run_id == run_id
        if self.stepper is not None:
            self.stepper.follower.pending = []
            self.stepper.follower.enabled = live
            self.stepper.locked = not live
        self.clear()
        if steps:
            self.add(steps)
        if self.run_picker.value != run_id:
            if run_id not in {v for _, v in self.run_picker.options}:
                self.refresh_runs()
            self.run_picker.value = run_id
        if self.stepper is not None:
            self.stepper.refresh()

    def _on_reset(self, loop: OADERLoop) -> None:
        self.refresh_runs()
        self.show_run(loop.run_id)

    def add(self, records: Sequence[StepRecord]) -> None:
        """Feed records to every view."""
        for view in self._views:
            view.add(records)

    def clear(self) -> None:
        """Clear every view."""
        for view in self._views:
            view.clear()

    def resync(self) -> None:
        """Re-sync the chart (and the stepper's status) before display."""
        if self.stepper is not None:
            self.stepper.resync()
        else:
            self.chart.resync()
