"""`AgentObjective`: tune an agent's configuration over recorded LLM analyses.

The LLM is asked once per bar and prompt variant (:func:`record_analyses`, through a
:class:`~axon_lab.llm.CachedClient` so that a rerun replays instead of calling again); the
objective then searches the decision rule around those analyses — the confidence threshold, the
position size (a risk limit), whether a high risk assessment blocks entries, and which prompt
variant to trust — with every trial a vectorized backtest of the resulting target positions.
Thousands of trials cost no LLM call.

The rule, per bar: an analysis whose confidence is below ``min_confidence``, or whose risk is high
when ``block_high_risk``, holds; ``buy`` targets ``+position_size`` of equity; ``sell`` targets
``-position_size`` (flat when ``direction="long"``); no analysis holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from axon_lab import backtest
from axon_lab.errors import ConfigError
from axon_lab.hpo._objective import (
    DEFAULT_METRICS,
    BaseObjective,
    FoldScore,
    WalkForward,
    stats_row,
)
from axon_lab.hpo._space import SearchSpaceDef
from axon_lab.records import Action, Analysis, RiskLevel

__all__ = ["AGENT_SPACE", "AgentObjective", "agent_targets", "record_analyses"]

AGENT_SPACE: dict[str, SearchSpaceDef] = {
    "min_confidence": SearchSpaceDef(param_type="uniform", low=0.0, high=1.0),
    "position_size": SearchSpaceDef(param_type="uniform", low=0.05, high=1.0),
    "block_high_risk": SearchSpaceDef(param_type="categorical", choices=(True, False)),
}
"""The default space; ``prompt_variant`` is added when several variants were recorded."""


def agent_targets(
    analyses: Sequence[Analysis | None],
    *,
    min_confidence: float,
    position_size: float,
    block_high_risk: bool,
    allow_short: bool,
) -> np.ndarray:
    """Target positions (NaN = hold) of the decision rule over per-bar analyses.

    Examples:
        >>> from axon_lab.records import Analysis
        >>> a = Analysis(thought="", market_assessment="uptrend", risk_assessment="low",
        ...              confidence=0.8, action="buy", source="llm", analyst="m")
        >>> agent_targets([a, None], min_confidence=0.5, position_size=0.5,
        ...               block_high_risk=True, allow_short=False).tolist()
        [0.5, nan]
    """
    out = np.full(len(analyses), np.nan)
    for i, a in enumerate(analyses):
        if a is None or a.confidence < min_confidence:
            continue
        if block_high_risk and a.risk_assessment is RiskLevel.HIGH:
            continue
        if a.action is Action.BUY:
            out[i] = position_size
        elif a.action is Action.SELL:
            out[i] = -position_size if allow_short else 0.0
    return out


def _describe(view: Any, t: pd.Timestamp, lookback: int) -> str:
    bars = view.as_of(t, lookback=lookback)
    feats = view.features_as_of(t)
    rows = "\n".join(
        f"{ts:%Y-%m-%d %H:%M} o={r.open:.6g} h={r.high:.6g} l={r.low:.6g} c={r.close:.6g}"
        for ts, r in bars.iterrows()
    )
    shown = ", ".join(f"{k}={v:.4g}" for k, v in feats.items() if v is not None)
    return f"Symbol {view.symbols[0]}, last {len(bars)} bars:\n{rows}\nFeatures: {shown}"


def record_analyses(
    client: Any,
    view: Any,
    times: Sequence[pd.Timestamp],
    variants: Mapping[str, Any],
    *,
    lookback: int = 24,
    describe: Callable[[Any, pd.Timestamp], str] | None = None,
) -> dict[str, list[Analysis]]:
    """Ask for one analysis per time and prompt variant (read point-in-time from ``view``).

    Args:
        client: An LLM client; pass a :class:`~axon_lab.llm.CachedClient` so reruns replay.
        view: A :class:`~axon_lab.data.MarketView` with one symbol.
        times: Decision times (e.g. ``view.decision_times()``).
        variants: ``name -> SystemPrompt`` (anything with ``messages(text)``).
        lookback: Bars shown in the default description.
        describe: ``(view, t) -> text`` of the market at ``t`` (default: bars and features).

    Returns:
        ``variant -> analyses``, aligned with ``times``.
    """
    from axon_lab.llm import complete_analysis

    text_of = describe or (lambda v, t: _describe(v, t, lookback))
    out: dict[str, list[Analysis]] = {}
    for name, prompt in variants.items():
        out[name] = [complete_analysis(client, prompt.messages(text_of(view, t))) for t in times]
    return out


class AgentObjective(BaseObjective):
    """Walk-forward objective over the decision rule around recorded analyses.

    Args:
        prices: OHLC frame; bar ``i`` is decided with ``analyses[variant][i]`` at its close.
        analyses: ``variant -> per-bar analyses`` (None where none was made).
        space: Search space (default :data:`AGENT_SPACE` plus ``prompt_variant``).
        walk_forward: Split settings.
        metrics: Statistics returned (maximised).
        fixed: Fixed rule parameters.
        **backtest_kwargs: ``fees``, ``direction``... of the backtests.

    Raises:
        ConfigError: If a variant's analyses are not aligned with ``prices``.
    """

    def __init__(
        self,
        prices: pd.DataFrame,
        analyses: Mapping[str, Sequence[Analysis | None]],
        *,
        space: Mapping[str, SearchSpaceDef | Mapping[str, Any]] | None = None,
        walk_forward: WalkForward | None = None,
        metrics: Sequence[str] = DEFAULT_METRICS,
        fixed: Mapping[str, Any] | None = None,
        **backtest_kwargs: Any,
    ) -> None:
        if not analyses:
            raise ConfigError("analyses is empty; record at least one prompt variant first.")
        for name, seq in analyses.items():
            if len(seq) != len(prices):
                raise ConfigError(
                    f"Variant {name!r} has {len(seq)} analyses for {len(prices)} bars; record one "
                    "per bar (None where there is none)."
                )
        if space is None:
            space = dict(AGENT_SPACE)
            if len(analyses) > 1:
                space["prompt_variant"] = SearchSpaceDef(
                    param_type="categorical", choices=tuple(analyses)
                )
        super().__init__(
            space, len(prices), walk_forward=walk_forward, metrics=metrics, fixed=fixed
        )
        self.prices = prices[["open", "high", "low", "close"]]
        self.analyses = {k: list(v) for k, v in analyses.items()}
        self.backtest_kwargs = dict(backtest_kwargs)
        self.backtest_kwargs.setdefault("timeframe", backtest.bars_per_year(prices.index, None))
        self.allow_short = self.backtest_kwargs.get("direction", "long") == "both"

    def _stats(self, idx: np.ndarray, target: np.ndarray) -> dict[str, float]:
        sl = slice(int(idx[0]), int(idx[-1]) + 1)
        res = backtest.run(self.prices.iloc[sl], target=target[sl], **self.backtest_kwargs)
        return stats_row(res.stats(), self.metrics)

    def _score_fold(
        self,
        params: Mapping[str, Any],
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        trial: Any,
        fold: int,
    ) -> FoldScore:
        variant = params.get("prompt_variant", next(iter(self.analyses)))
        target = agent_targets(
            self.analyses[variant],
            min_confidence=float(params["min_confidence"]),
            position_size=float(params["position_size"]),
            block_high_risk=bool(params["block_high_risk"]),
            allow_short=self.allow_short,
        )
        return FoldScore(
            in_sample=self._stats(train_idx, target), out_of_sample=self._stats(test_idx, target)
        )
