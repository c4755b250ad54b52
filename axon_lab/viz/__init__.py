"""Plotly figures of runs, sweeps, studies and training: a pure info computation, then a renderer.

Each figure comes as a pair: ``get_*_info(...)`` computes what is drawn (a NamedTuple of lists,
with no plotly involved; tests and widgets read it) and ``plot_*(...)`` turns it into a plotly
``Figure``. plotly is imported only when a figure is rendered, so importing this package is
cheap. :func:`figures_to_html` and :func:`section_html` embed figures in HTML (the explain report
uses them). Bad input raises :class:`~axon_lab.errors.ConfigError` naming the value and the fix.

The only public API is what this module exports.

Examples:
    >>> from axon_lab.viz import get_training_curve_info
    >>> get_training_curve_info({"timesteps": [10, 20], "reward": [1.0, 2.0]}).reward
    [1.0, 2.0]
"""

from axon_lab.viz._common import graph_objects
from axon_lab.viz._confidence import ConfidenceInfo, get_confidence_info, plot_confidence
from axon_lab.viz._decisions import (
    DECISION_KINDS,
    DecisionMarkers,
    DecisionsInfo,
    get_decisions_info,
    plot_decisions,
)
from axon_lab.viz._equity import EquityInfo, drawdown, get_equity_info, plot_equity
from axon_lab.viz._html import figures_to_html, section_html
from axon_lab.viz._llm_usage import LLMUsageInfo, get_llm_usage_info, plot_llm_usage
from axon_lab.viz._pareto import (
    ParetoFrontInfo,
    get_pareto_front_info,
    pareto_mask,
    plot_pareto_front,
)
from axon_lab.viz._portfolio import (
    PortfolioInfo,
    get_portfolio_info,
    plot_contributions,
    plot_weights,
    portfolio_frames,
)
from axon_lab.viz._rejections import RejectionsInfo, get_rejections_info, plot_rejections
from axon_lab.viz._sweep import (
    SWEEP_AGGREGATIONS,
    SweepHeatmapInfo,
    get_sweep_heatmap_info,
    plot_sweep_heatmap,
)
from axon_lab.viz._training import (
    TrainingCurveInfo,
    get_training_curve_info,
    plot_training_curve,
)

__all__ = [
    # plotly, imported lazily (for the widgets' figures)
    "graph_objects",
    # runs: price and decisions
    "plot_decisions",
    "get_decisions_info",
    "DecisionsInfo",
    "DecisionMarkers",
    "DECISION_KINDS",
    # runs: equity
    "plot_equity",
    "get_equity_info",
    "EquityInfo",
    "drawdown",
    # runs: confidence, rejections, LLM usage
    "plot_confidence",
    "get_confidence_info",
    "ConfidenceInfo",
    "plot_rejections",
    "get_rejections_info",
    "RejectionsInfo",
    "plot_llm_usage",
    "get_llm_usage_info",
    "LLMUsageInfo",
    # sweeps and studies
    "plot_sweep_heatmap",
    "get_sweep_heatmap_info",
    "SweepHeatmapInfo",
    "SWEEP_AGGREGATIONS",
    "plot_pareto_front",
    "get_pareto_front_info",
    "ParetoFrontInfo",
    "pareto_mask",
    # RL training
    "plot_training_curve",
    "get_training_curve_info",
    "TrainingCurveInfo",
    # HTML
    # portfolio runs
    "plot_weights",
    "plot_contributions",
    "get_portfolio_info",
    "portfolio_frames",
    "PortfolioInfo",
    "figures_to_html",
    "section_html",
]
