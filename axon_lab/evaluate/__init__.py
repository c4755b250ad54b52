"""Evaluations: an agent and its baselines over many windows, and the statistics that judge them.

The harness: :func:`evaluate` runs an :class:`AgentSpec` and its baselines (buy-and-hold, flat,
rules, a random agent of the same trade frequency) over walk-forward windows, each window a
resumable run in the explain store; :func:`build_evaluation_report` turns the
:class:`Evaluation` into a leaderboard with intervals, verdicts and equity curves.

The statistics: pure functions over numpy arrays and pandas Series; each names the paper it
implements in its module. Results are frozen records; every stochastic function takes ``seed``
and draws from ``np.random.default_rng(seed)``. Bad input raises
:class:`~axon_lab.errors.EvaluationError` naming the value and the fix. ``arch`` (bootstrap, SPA,
StepM) and ``scipy`` are imported when a function that needs them is first called.

The only public API is what this module exports.

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sweep = rng.normal(0.0, 0.01, (1000, 20))  # 20 configurations without skill
    >>> deflated_sharpe(sweep, periods_per_year=252).dsr < 0.95
    True
    >>> 0.3 < probability_of_backtest_overfitting(sweep, n_partitions=8).pbo < 0.7
    True
"""

from axon_lab.evaluate._bootstrap import (
    Interval,
    bootstrap_distribution,
    bootstrap_interval,
    optimal_block_length,
)
from axon_lab.evaluate._calibration import CalibrationBin, CalibrationResult, calibration
from axon_lab.evaluate._costs import square_root_cost
from axon_lab.evaluate._cutoff import CutoffSplit, split_by_cutoff
from axon_lab.evaluate._fdr import FDRResult, benjamini_hochberg
from axon_lab.evaluate._harness import evaluate
from axon_lab.evaluate._paired import PairedComparison, paired_comparison
from axon_lab.evaluate._pbo import PBOResult, probability_of_backtest_overfitting
from axon_lab.evaluate._regimes import REGIMES, RegimeStats, classify_regimes, split_by_regime
from axon_lab.evaluate._report import (
    EvaluationReport,
    LeaderboardInfo,
    WindowEquityInfo,
    build_evaluation_report,
    get_leaderboard_info,
    get_window_equity_info,
    plot_leaderboard,
    plot_window_equity,
)
from axon_lab.evaluate._results import BASELINES, Evaluation, buy_and_hold_equity
from axon_lab.evaluate._run import RunStats, bar_returns, run_stats
from axon_lab.evaluate._sharpe import (
    EULER_MASCHERONI,
    SharpeTest,
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    sharpe_test,
)
from axon_lab.evaluate._snooping import RomanoWolfResult, SPAResult, romano_wolf, spa_test
from axon_lab.evaluate._spec import (
    AgentSpec,
    EvalWindow,
    RandomAnalyst,
    RandomAnalystFactory,
    make_windows,
    window_run_id,
)
from axon_lab.evaluate._trials import n_trials_from_study
from axon_lab.evaluate._verdict import (
    Comparison,
    EvaluationSummary,
    LeaderboardRow,
    summarize_evaluation,
    verdict_text,
)

__all__ = [
    # the harness
    "evaluate",
    "AgentSpec",
    "Evaluation",
    "EvalWindow",
    "make_windows",
    "window_run_id",
    "BASELINES",
    "RandomAnalyst",
    "RandomAnalystFactory",
    "buy_and_hold_equity",
    # the report
    "build_evaluation_report",
    "EvaluationReport",
    "summarize_evaluation",
    "EvaluationSummary",
    "LeaderboardRow",
    "Comparison",
    "verdict_text",
    "get_leaderboard_info",
    "plot_leaderboard",
    "LeaderboardInfo",
    "get_window_equity_info",
    "plot_window_equity",
    "WindowEquityInfo",
    # one run
    "run_stats",
    "RunStats",
    "bar_returns",
    "square_root_cost",
    # intervals across windows
    "bootstrap_interval",
    "bootstrap_distribution",
    "optimal_block_length",
    "Interval",
    "paired_comparison",
    "PairedComparison",
    # skill after a search
    "sharpe_test",
    "deflated_sharpe",
    "probabilistic_sharpe_ratio",
    "expected_max_sharpe",
    "EULER_MASCHERONI",
    "SharpeTest",
    "n_trials_from_study",
    "probability_of_backtest_overfitting",
    "PBOResult",
    # many comparisons
    "benjamini_hochberg",
    "FDRResult",
    "spa_test",
    "SPAResult",
    "romano_wolf",
    "RomanoWolfResult",
    # calibration and regimes
    "calibration",
    "CalibrationResult",
    "CalibrationBin",
    "classify_regimes",
    "split_by_regime",
    "split_by_cutoff",
    "CutoffSplit",
    "RegimeStats",
    "REGIMES",
]
