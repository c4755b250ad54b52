"""The answer of an evaluation: a leaderboard with intervals, paired verdicts, the deflated Sharpe.

Pure computation over an :class:`~axon_lab.evaluate.Evaluation` (no plotly, no HTML): the
report renders it. Intervals are stationary-bootstrap percentile intervals over the windows
(:func:`bootstrap_interval`, :func:`paired_comparison`); with a handful of windows they resample
windows one by one.

A verdict never claims more than its interval allows (:func:`verdict_text`): it counts the
windows won, gives the mean excess return with its interval, and says "earned more" only when
the whole interval lies above zero, "earned less" only when it lies below, and otherwise that the
windows show no evidence of a difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._bootstrap import Interval, bootstrap_interval
from axon_lab.evaluate._paired import paired_comparison
from axon_lab.evaluate._results import Evaluation
from axon_lab.evaluate._sharpe import SharpeTest, deflated_sharpe, sharpe_test

__all__ = [
    "Comparison",
    "EvaluationSummary",
    "LeaderboardRow",
    "summarize_evaluation",
    "verdict_text",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderboardRow:
    """One agent or baseline over every window.

    Attributes:
        agent: Name (``random`` averages its draws per window).
        role: ``"agent"`` or ``"baseline"``.
        n_windows: Windows.
        mean_return: Mean total return per window.
        interval: Bootstrap interval of the mean (None with fewer than 2 windows).
        median_return: Median total return per window.
        mean_sharpe: Mean of the windows' annualised Sharpe ratios (NaN-free windows only).
        wins_vs_buy_and_hold: Windows in which it returned strictly more than buy-and-hold.
        run_ids: The runs behind the row.
    """

    agent: str
    role: str
    n_windows: int
    mean_return: float
    interval: Interval | None
    median_return: float
    mean_sharpe: float
    wins_vs_buy_and_hold: int
    run_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """An agent under test against one baseline, window by window.

    Attributes:
        agent: The agent under test.
        baseline: The baseline.
        n: Windows.
        wins: Windows the agent returned strictly more.
        ties: Windows with equal returns.
        mean_excess: Mean of ``agent - baseline`` total returns.
        interval: Bootstrap interval of the mean excess (None with fewer than 2 windows).
        verdict: The plain-language verdict (:func:`verdict_text`).
    """

    agent: str
    baseline: str
    n: int
    wins: int
    ties: int
    mean_excess: float
    interval: Interval | None
    verdict: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationSummary:
    """Leaderboard, verdicts and the Sharpe test of an evaluation.

    Attributes:
        leaderboard: Agents under test first, then baselines.
        comparisons: Each agent under test against each baseline.
        sharpe: The selected agent's Sharpe test over all its steps: the deflated Sharpe over
            the agents compared (``n_trials`` of them), or the PSR with one agent; None when it
            cannot be computed (then ``sharpe_note`` says why).
        sharpe_note: What the Sharpe test is, or why it is missing.
        level: Confidence level of the intervals.
    """

    leaderboard: tuple[LeaderboardRow, ...]
    comparisons: tuple[Comparison, ...]
    sharpe: SharpeTest | None
    sharpe_note: str
    level: float


def _pct(x: float) -> str:
    return f"{x:+.2%}"


def verdict_text(
    agent: str,
    baseline: str,
    *,
    wins: int,
    n: int,
    mean_excess: float,
    interval: Interval | None,
) -> str:
    """One sentence on ``agent`` against ``baseline`` that never claims more than the interval.

    Examples:
        >>> from axon_lab.evaluate import Interval
        >>> ci = Interval(estimate=-0.004, low=-0.019, high=0.011, level=0.95,
        ...               method="stationary bootstrap (percentile)", block_length=1,
        ...               n_resamples=2000)
        >>> text = verdict_text("llm", "buy_and_hold", wins=7, n=16, mean_excess=-0.004,
        ...                     interval=ci)
        >>> text.split(" (")[0]
        'llm beats buy_and_hold in 7 of 16 windows; mean excess return -0.40% [-1.90%, +1.10%]'
        >>> text.endswith("(95% interval): no evidence of a difference over these windows.")
        True
    """
    head = (
        f"{agent} beats {baseline} in {wins} of {n} windows; mean excess return {_pct(mean_excess)}"
    )
    if interval is None or not (math.isfinite(interval.low) and math.isfinite(interval.high)):
        return head + " (too few windows for an interval): no conclusion."
    band = f" [{_pct(interval.low)}, {_pct(interval.high)}] ({interval.level:.0%} interval)"
    if interval.low > 0:
        tail = f": the whole interval is above zero, so it earned more than {baseline}"
    elif interval.high < 0:
        tail = f": the whole interval is below zero, so it earned less than {baseline}"
    else:
        tail = ": no evidence of a difference"
    return head + band + tail + " over these windows."


def _interval(values: np.ndarray, level: float, seed: int) -> Interval | None:
    if len(values) < 2:
        return None
    return bootstrap_interval(values, level=level, seed=seed)


def summarize_evaluation(
    evaluation: Evaluation, *, level: float = 0.95, n_trials: int | None = None
) -> EvaluationSummary:
    """Leaderboard, verdicts and Sharpe test of ``evaluation`` (pure; no figures).

    Args:
        evaluation: What :func:`~axon_lab.evaluate.evaluate` returned.
        level: Confidence level of the intervals.
        n_trials: Agents or parameter sets tried before these (e.g.
            :func:`n_trials_from_study`); default: the agents under test.

    Returns:
        The :class:`EvaluationSummary`.
    """
    ev = evaluation
    seed = ev.seed
    bh = ev.window_returns("buy_and_hold")
    rows = []
    for agent in ev.agents:
        r = ev.window_returns(agent)
        sharpes = ev.results.loc[ev.results["agent"] == agent, "sharpe"].dropna()
        rows.append(
            LeaderboardRow(
                agent=agent,
                role="agent" if agent in ev.agents_under_test else "baseline",
                n_windows=len(r),
                mean_return=float(np.mean(r)),
                interval=_interval(r, level, seed),
                median_return=float(np.median(r)),
                mean_sharpe=float(sharpes.mean()) if len(sharpes) else math.nan,
                wins_vs_buy_and_hold=int(np.sum(r > bh)),
                run_ids=tuple(ev.run_ids(agent)),
            )
        )
    comparisons = []
    for agent in ev.agents_under_test:
        a = ev.window_returns(agent)
        for baseline in ev.agents:
            if baseline in ev.agents_under_test:
                continue
            b = ev.window_returns(baseline)
            interval = None
            if len(a) >= 2:
                interval = paired_comparison(a, b, level=level, seed=seed).interval
            wins, ties, mean = int(np.sum(a > b)), int(np.sum(a == b)), float(np.mean(a - b))
            comparisons.append(
                Comparison(
                    agent=agent,
                    baseline=baseline,
                    n=len(a),
                    wins=wins,
                    ties=ties,
                    mean_excess=mean,
                    interval=interval,
                    verdict=verdict_text(
                        agent, baseline, wins=wins, n=len(a), mean_excess=mean, interval=interval
                    ),
                )
            )
    sharpe, note = _sharpe(ev, n_trials)
    return EvaluationSummary(
        leaderboard=tuple(rows),
        comparisons=tuple(comparisons),
        sharpe=sharpe,
        sharpe_note=note,
        level=level,
    )


def _sharpe(ev: Evaluation, n_trials: int | None) -> tuple[SharpeTest | None, str]:
    names = list(ev.agents_under_test)
    matrix = np.column_stack([ev.step_returns(a) for a in names])
    tried = max(n_trials or len(names), len(names))
    try:
        if len(names) >= 2:
            test: Any = deflated_sharpe(
                matrix, periods_per_year=ev.periods_per_year, n_trials=tried
            )
            chosen = names[int(test.trial_index)]
            return test, (
                f"deflated Sharpe of {chosen}, the best of {tried} agents/parameter sets compared "
                "(per-step returns of every window)"
            )
        test = sharpe_test(matrix[:, 0], periods_per_year=ev.periods_per_year)
    except EvaluationError as exc:
        return None, f"no Sharpe test: {exc}"
    return test, (
        f"probabilistic Sharpe of {names[0]} (one agent evaluated, nothing selected here: "
        "evaluate several agents or parameter sets together to deflate it)"
    )
