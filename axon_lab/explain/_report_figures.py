"""The explain report's figures: plotly sections of the HTML report, plotly.js inlined once.

:func:`figure_sections` draws, from a run's recorded steps (with :mod:`axon_lab.viz`):

* the decisions on the price candles, when the prices are a view with bars (``as_of``);
* the equity and its drawdown next to buy-and-hold (the same baseline as the report's summary:
  all the starting equity at the first step's price, less one fee), or alone without prices;
* the confidence of every step (with the decision threshold, when the run config records one);
* the rejections by rule over time, when any order was rejected;
* the LLM latency and cost per step, when the analyst called an LLM.

The first figure inlines plotly.js, the others reuse it, and the div ids are deterministic: the
page needs no network access and the same run gives the same page. The Markdown report has no
figures.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from axon_lab.records import StepRecord

__all__ = ["figure_sections"]


def _bars(view: Any, steps: list[StepRecord]) -> pd.DataFrame | None:
    """The bars the run saw (one symbol), or None when ``view`` has no bars."""
    as_of = getattr(view, "as_of", None)
    symbols = tuple(getattr(view, "symbols", ()))
    if as_of is None or not symbols:
        return None
    symbol = symbols[0]
    decided = [s.decision.symbol for s in steps if s.decision is not None]
    if len(symbols) > 1 and decided:
        symbol = decided[0]
    frame: pd.DataFrame = as_of(steps[-1].timestamp, symbol)
    delta = getattr(getattr(view, "timeframe", None), "delta", None)
    if delta is not None:
        frame = frame[frame.index >= pd.Timestamp(steps[0].timestamp) - delta]
    return frame if len(frame) else None


def _threshold(config: dict[str, Any]) -> float | None:
    value = config.get("min_confidence")
    if isinstance(value, int | float) and 0.0 <= float(value) <= 1.0:
        return float(value)
    return None


def figure_sections(
    steps: list[StepRecord],
    *,
    config: dict[str, Any],
    view: Any = None,
    closes: list[float] | None = None,
    start_value: float,
    fee: float = 0.0,
) -> list[tuple[str, str]]:
    """Render the run's figures as ``(title, html fragment)`` pairs, plotly.js in the first only.

    Args:
        steps: The run's steps, in order (at least one).
        config: The run's config (``min_confidence`` draws the confidence threshold).
        view: The prices the run saw; with ``as_of`` and ``symbols`` (a
            :class:`~axon_lab.data.MarketView`), the decisions are drawn on its candles.
        closes: The known close at each step, for the buy-and-hold curve; None to omit it.
        start_value: Equity before the first step.
        fee: Fee of buy-and-hold's one purchase.

    Returns:
        One pair per figure drawn, in the order of the module docstring.
    """
    from axon_lab.viz import (
        plot_confidence,
        plot_decisions,
        plot_equity,
        plot_llm_usage,
        plot_rejections,
        section_html,
    )

    figs: list[tuple[str, Any]] = []
    bars = _bars(view, steps) if view is not None else None
    if bars is not None:
        figs.append(("Decisions on the price", plot_decisions(bars, steps)))
    if closes is not None:
        index = pd.DatetimeIndex([pd.Timestamp(s.timestamp) for s in steps]).tz_convert("UTC")
        close = pd.Series(closes, index=index, name="close")
        equity = plot_equity(steps, close, initial_equity=start_value * (1.0 - fee))
        figs.append(("Equity vs buy-and-hold", equity))
    else:
        figs.append(("Equity", plot_equity(steps)))
    figs.append(("Confidence", plot_confidence(steps, threshold=_threshold(config))))
    if any(s.rejections for s in steps):
        figs.append(("Rejections by rule", plot_rejections(steps)))
    if any(s.analysis is not None and s.analysis.llm_calls for s in steps):
        figs.append(("LLM usage", plot_llm_usage(steps)))
    return [
        (title, section_html(fig, i == 0, div_id=f"axon-report-figure-{i}"))
        for i, (title, fig) in enumerate(figs)
    ]
