"""Jupyter widgets over the OADER loop and the explain store; no business logic here.

The views follow a running loop through its callbacks (:class:`LoopFollower`) and browse past runs
from an :class:`~axon_lab.explain.ExplainStore`; they call the loop and the store and render the
records they return. They work in JupyterLab and in Voilà.

* :class:`LoopStepper` — Step, Run N, Pause, Reset, speed, progress, a live equity chart, a log;
* :class:`ReasoningChainView` — each step's Thought -> Action -> Observation chain, raw LLM text on
  demand;
* :class:`RiskRejectionInspector` — the rejected orders, filterable by rule and defence line;
* :class:`StepDetail` — everything recorded for one step, LLM cost and cache hits included;
* :class:`ConfirmationPanel` — orders waiting for two-phase confirmation, with Confirm and Deny
  (part of the stepper);
* :class:`RunComparison` — stored runs side by side: table, overlaid equity, first difference;
* :class:`Dashboard` — all of them, with a run picker.

ipywidgets and plotly are imported when a view is built, so importing this package is cheap. The
only public API is what this module exports.

Examples:
    >>> from axon_lab.data import make_synthetic
    >>> from axon_lab.oader import make_agent
    >>> from axon_lab.widgets import Dashboard
    >>> loop = make_agent(make_synthetic(80, timeframe="1h", seed=1, symbol="SYN"),
    ...                   store="sqlite://", run_id="pkg", progress=False)
    >>> dash = Dashboard(loop)
    >>> for _ in range(3):
    ...     dash.stepper.step_button.click()
    >>> dash.reasoning.steps, len(dash.chart.y)
    ([2, 1, 0], 3)
    >>> loop.close()
"""

from axon_lab.widgets._chart import LiveEquityChart
from axon_lab.widgets._common import BaseView
from axon_lab.widgets._compare import RunComparison
from axon_lab.widgets._confirm import ConfirmationPanel
from axon_lab.widgets._context import observation_extras_html
from axon_lab.widgets._dashboard import Dashboard
from axon_lab.widgets._detail import LLMTotals, StepDetail, llm_totals, render_step_html
from axon_lab.widgets._follow import LoopFollower
from axon_lab.widgets._portfolio import PortfolioView, render_portfolio_step_html
from axon_lab.widgets._reasoning import ReasoningChainView, render_chain_html
from axon_lab.widgets._rejections import (
    RejectionRow,
    RiskRejectionInspector,
    get_rejection_rows,
)
from axon_lab.widgets._stepper import LoopStepper

__all__ = [
    # the dashboard and its views
    "Dashboard",
    "LoopStepper",
    "LiveEquityChart",
    "ReasoningChainView",
    "StepDetail",
    "RiskRejectionInspector",
    "ConfirmationPanel",
    "RunComparison",
    "PortfolioView",
    "render_portfolio_step_html",
    # plumbing
    "BaseView",
    "LoopFollower",
    # what the views render
    "RejectionRow",
    "get_rejection_rows",
    "LLMTotals",
    "llm_totals",
    "render_chain_html",
    "render_step_html",
    "observation_extras_html",
]
