"""RulesAnalyst: a deterministic technical analyst that fills the same Analysis an LLM does.

It is the offline default and the baseline every LLM analyst is compared with, and it is always
labelled as rules (``source=rules``, ``analyst="rules:..."``), never as an LLM. It reads the
observation it is given (the bars and the portfolio the Observe stage has just built, all complete
at the observation time) and nothing else; its reasoning chain records what it read, each
indicator and the scores, one :class:`~axon_lab.records.ReasoningStep` each. The Observe stage
must hold at least :attr:`RulesAnalyst.lookback` bars per symbol (``make_agent`` sees to it);
with fewer, the analyst says it is warming up.

Indicators, from the observation's bars:

* ``sma_fast``, ``sma_slow``: simple means of the last ``fast`` / ``slow`` closes;
* ``atr``: mean true range of the last ``atr_window`` bars; ``vol_ratio = atr / mean true range
  of the last vol_window bars`` (above 1: more volatile than usual);
* ``rsi``: Cutler's RSI over ``rsi_window`` changes (simple means of gains and losses; 100 when
  there is no loss, 50 when the price did not move).

Readings:

* ``spread = (sma_fast - sma_slow) / atr`` (the trend in ATR units). ``uptrend`` if
  ``spread >= trend_threshold``, ``downtrend`` if ``spread <= -trend_threshold``, else ``range``.
* risk: ``high`` if ``vol_ratio >= high_vol_ratio``, ``low`` if ``vol_ratio <= low_vol_ratio``,
  else ``medium``.
* confidence = ``0.5 * trend + 0.3 * momentum + 0.2 * calm`` where, with ``clip`` to [0, 1]:

  - trend: in a trend ``clip((|spread| - trend_threshold) / (full_trend - trend_threshold))``;
    in a range ``1 - |spread| / trend_threshold`` (how clearly flat it is);
  - momentum: in an uptrend ``clip((rsi - 50) / 25)``, in a downtrend ``clip((50 - rsi) / 25)``,
    in a range ``1 - clip(|rsi - 50| / 25)``;
  - calm: ``clip((high_vol_ratio - vol_ratio) / (high_vol_ratio - low_vol_ratio))``.

* action: ``buy`` in an uptrend and ``sell`` in a downtrend when confidence reaches
  ``min_confidence``; otherwise ``hold`` (the same contract an LLM's answer is held to).

Before enough bars are complete the analyst answers ``hold`` with confidence 0 and says why.

Forecasts. When the observation holds forecast features (``make_agent(...,
forecasts=Forecasts(...))``), the analyst states them in its reasoning and lets the direction
forecast veto: a ``buy`` whose ``P(up)`` band lies wholly under 0.5 (``fc_p_up_hi < 0.5``), or a
``sell`` whose band lies wholly over it (``fc_p_up_lo > 0.5``), becomes a ``hold`` that says why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from axon_lab.errors import ConfigError
from axon_lab.llm import DEFAULT_MIN_CONFIDENCE
from axon_lab.records import (
    Action,
    Analysis,
    AnalysisSource,
    Bar,
    MarketAssessment,
    Observation,
    ReasoningStep,
    RiskLevel,
)

__all__ = ["RulesAnalyst", "rsi_cutler", "true_ranges"]

_WEIGHTS = (0.5, 0.3, 0.2)


def _clip(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def true_ranges(
    highs: Sequence[float], lows: Sequence[float], closes: Sequence[float]
) -> list[float]:
    """True ranges; the first bar uses ``high - low``.

    Examples:
        >>> true_ranges([3.0, 5.0], [1.0, 4.0], [2.0, 4.5])
        [2.0, 3.0]
    """
    out = [highs[0] - lows[0]]
    for i in range(1, len(closes)):
        prev = closes[i - 1]
        out.append(max(highs[i] - lows[i], abs(highs[i] - prev), abs(lows[i] - prev)))
    return out


def rsi_cutler(closes: Sequence[float], window: int) -> float:
    """Cutler's RSI of the last ``window`` changes (simple means of gains and losses).

    Examples:
        >>> round(rsi_cutler([1.0, 2.0, 1.0, 2.0], 3), 4)
        66.6667
        >>> rsi_cutler([1.0, 1.0, 1.0], 2)
        50.0
    """
    tail = closes[-(window + 1) :]
    gains = losses = 0.0
    for a, b in itertools.pairwise(tail):
        change = b - a
        if change > 0:
            gains += change
        else:
            losses -= change
    if gains == 0.0 and losses == 0.0:
        return 50.0
    if losses == 0.0:
        return 100.0
    return 100.0 - 100.0 / (1.0 + gains / losses)


def _with_forecast(analysis: Analysis, feats: dict[str, float | None]) -> Analysis:
    """The analysis with the forecast stated and its veto applied (see the module docstring)."""
    p, lo, hi = feats.get("fc_p_up"), feats.get("fc_p_up_lo"), feats.get("fc_p_up_hi")
    vol = feats.get("fc_vol")
    if p is None and vol is None:
        return analysis
    h = feats.get("fc_horizon")
    said = (
        f"Forecast for the next {h:g} bars: return std "
        + ("n/a" if vol is None else f"{vol:.3%}")
        + ", P(up) "
        + ("n/a" if p is None or lo is None or hi is None else f"{p:.3f} [{lo:.3f}, {hi:.3f}]")
        + "."
        if h is not None
        else "Forecast features without a horizon."
    )
    steps = (*analysis.reasoning_steps, ReasoningStep(thought=said))
    veto = ""
    if analysis.action is Action.BUY and hi is not None and hi < 0.5:
        veto = f"the direction forecast's P(up) band [{lo:.3f}, {hi:.3f}] is below 0.5"
    elif analysis.action is Action.SELL and lo is not None and lo > 0.5:
        veto = f"the direction forecast's P(up) band [{lo:.3f}, {hi:.3f}] is above 0.5"
    if not veto:
        return analysis.replace(reasoning_steps=steps)
    reason = f"{analysis.action.value} signal vetoed: {veto}"
    return analysis.replace(
        action=Action.HOLD,
        reason=reason,
        thought=f"{analysis.thought} {reason}.",
        reasoning_steps=(*steps, ReasoningStep(thought=reason.capitalize() + ".")),
    )


class RulesAnalyst:
    """A deterministic SMA/RSI/ATR analyst (see the module docstring for every formula).

    Args:
        symbol: The symbol to analyse (default: the observation's first symbol).
        fast: Fast SMA window.
        slow: Slow SMA window.
        rsi_window: RSI window (changes).
        atr_window: ATR window.
        vol_window: Window of the "usual" true range that ``vol_ratio`` compares with.
        trend_threshold: ``|spread|`` (ATR units) from which the market is trending.
        full_trend: ``|spread|`` at which the trend score saturates.
        low_vol_ratio: ``vol_ratio`` at or under which risk is low.
        high_vol_ratio: ``vol_ratio`` at or over which risk is high.
        min_confidence: Under this confidence the action is ``hold``.

    Attributes:
        lookback: The bars per symbol the indicators need (the Observe stage's minimum).

    Examples:
        >>> from axon_lab.backends import MockTradingBackend
        >>> from axon_lab.data import MarketView, make_synthetic
        >>> from axon_lab.oader import ContextBuilder
        >>> view = MarketView(make_synthetic(200, timeframe="1h", start="2024-01-01", seed=7,
        ...                                  symbol="SYN"))
        >>> analyst = RulesAnalyst()
        >>> observe = ContextBuilder(view, MockTradingBackend({"SYN": 1.0}, cash=1e3),
        ...                          lookback=analyst.lookback)
        >>> analysis = analyst(observe(view.decision_times()[120].to_pydatetime()))
        >>> analysis.source.value, analysis.analyst
        ('rules', 'rules:sma10/30-rsi14-atr14')
        >>> [step.thought.split(":")[0] for step in analysis.reasoning_steps]
        ['Bars', 'Position', 'Indicators', 'Reading']
        >>> 0.0 <= analysis.confidence <= 1.0
        True
    """

    def __init__(
        self,
        *,
        symbol: str | None = None,
        fast: int = 10,
        slow: int = 30,
        rsi_window: int = 14,
        atr_window: int = 14,
        vol_window: int = 48,
        trend_threshold: float = 0.5,
        full_trend: float = 2.0,
        low_vol_ratio: float = 0.8,
        high_vol_ratio: float = 1.5,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        for name, value in (
            ("fast", fast),
            ("slow", slow),
            ("rsi_window", rsi_window),
            ("atr_window", atr_window),
            ("vol_window", vol_window),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
        if fast >= slow:
            raise ConfigError(f"fast ({fast}) must be shorter than slow ({slow})")
        if not 0 < trend_threshold < full_trend:
            raise ConfigError(
                f"need 0 < trend_threshold < full_trend, got {trend_threshold!r}, {full_trend!r}"
            )
        if not 0 < low_vol_ratio < high_vol_ratio:
            raise ConfigError(
                f"need 0 < low_vol_ratio < high_vol_ratio, got {low_vol_ratio!r}, "
                f"{high_vol_ratio!r}"
            )
        if not 0 <= min_confidence <= 1:
            raise ConfigError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
        self.symbol = symbol
        self.fast, self.slow = fast, slow
        self.rsi_window, self.atr_window, self.vol_window = rsi_window, atr_window, vol_window
        self.trend_threshold, self.full_trend = trend_threshold, full_trend
        self.low_vol_ratio, self.high_vol_ratio = low_vol_ratio, high_vol_ratio
        self.min_confidence = min_confidence
        self.lookback = max(slow, rsi_window + 1, atr_window + 1, vol_window + 1)
        self.name = f"rules:sma{fast}/{slow}-rsi{rsi_window}-atr{atr_window}"

    async def acall(self, observation: Observation) -> Analysis:
        """Analyse ``observation``: its bars and position, the indicators, their scores."""
        return self._analyse(observation)

    def _analyse(self, observation: Observation) -> Analysis:
        symbol = self.symbol or observation.symbols[0]
        bars = observation.bars.get(symbol)
        if bars is None:
            raise ConfigError(
                f"the rules analyst reads {symbol!r}, which the observation does not hold "
                f"(it holds {list(observation.bars)}); pass symbol= one of them"
            )
        steps = [ReasoningStep(thought=_bars_read(symbol, bars, self.lookback))]
        position = observation.portfolio.positions.get(symbol)
        held = 0.0 if position is None else position.quantity
        steps.append(
            ReasoningStep(
                thought=(
                    f"Position: {held:g} {symbol}, cash {observation.portfolio.cash:,.2f}, "
                    f"equity {observation.portfolio.equity:,.2f}."
                )
            )
        )
        if len(bars) < self.lookback:
            why = (
                f"warming up: {len(bars)} of the {self.lookback} complete bars the indicators "
                "need; no reading yet"
            )
            steps.append(ReasoningStep(thought=why.capitalize() + "."))
            return self._analysis(
                MarketAssessment.RANGE, RiskLevel.HIGH, 0.0, Action.HOLD, why, why, steps
            )
        analysis = self._read(bars[-self.lookback :], symbol, held, steps)
        return _with_forecast(analysis, observation.features.get(symbol, {}))

    def _read(
        self, bars: Sequence[Bar], symbol: str, held: float, steps: list[ReasoningStep]
    ) -> Analysis:
        closes = [b.close for b in bars]
        highs = [b.high for b in bars]
        lows = [b.low for b in bars]
        ranges = true_ranges(highs, lows, closes)
        atr = math.fsum(ranges[-self.atr_window :]) / self.atr_window
        usual = math.fsum(ranges[-self.vol_window :]) / self.vol_window
        sma_fast = math.fsum(closes[-self.fast :]) / self.fast
        sma_slow = math.fsum(closes[-self.slow :]) / self.slow
        rsi = rsi_cutler(closes, self.rsi_window)
        if atr <= 0.0 or usual <= 0.0:
            why = "the last bars did not move (ATR 0): no trend or risk can be measured"
            steps.append(ReasoningStep(thought=why.capitalize() + "."))
            return self._analysis(
                MarketAssessment.RANGE, RiskLevel.HIGH, 0.0, Action.HOLD, why, why, steps
            )
        spread = (sma_fast - sma_slow) / atr
        vol_ratio = atr / usual
        t = self.trend_threshold
        if spread >= t:
            market, direction = MarketAssessment.UPTREND, 1.0
        elif spread <= -t:
            market, direction = MarketAssessment.DOWNTREND, -1.0
        else:
            market, direction = MarketAssessment.RANGE, 0.0
        if direction:
            trend = _clip((abs(spread) - t) / (self.full_trend - t))
            momentum = _clip(direction * (rsi - 50.0) / 25.0)
        else:
            trend = _clip(1.0 - abs(spread) / t)
            momentum = 1.0 - _clip(abs(rsi - 50.0) / 25.0)
        calm = _clip((self.high_vol_ratio - vol_ratio) / (self.high_vol_ratio - self.low_vol_ratio))
        wt, wm, wc = _WEIGHTS
        confidence = round(wt * trend + wm * momentum + wc * calm, 6)
        if vol_ratio >= self.high_vol_ratio:
            risk = RiskLevel.HIGH
        elif vol_ratio <= self.low_vol_ratio:
            risk = RiskLevel.LOW
        else:
            risk = RiskLevel.MEDIUM
        action = Action.HOLD
        if confidence >= self.min_confidence:
            if market is MarketAssessment.UPTREND:
                action = Action.BUY
            elif market is MarketAssessment.DOWNTREND:
                action = Action.SELL
        readings = (
            f"SMA{self.fast}={sma_fast:.6g}, SMA{self.slow}={sma_slow:.6g}, ATR{self.atr_window}="
            f"{atr:.6g} ({atr / closes[-1]:.3%} of price), spread={spread:+.2f} ATR, "
            f"RSI{self.rsi_window}={rsi:.1f}, vol_ratio={vol_ratio:.2f}"
        )
        scores = (
            f"confidence {confidence:.3f} = {wt}*trend {trend:.2f} + {wm}*momentum "
            f"{momentum:.2f} + {wc}*calm {calm:.2f}"
        )
        steps.append(ReasoningStep(thought=f"Indicators: {readings}."))
        steps.append(
            ReasoningStep(thought=f"Reading: {market.value}, risk {risk.value}; {scores}.")
        )
        thought = (
            f"{symbol}: {readings}. Market {market.value}, risk {risk.value} "
            f"(position {held:g}). {scores}."
        )
        if action is Action.HOLD:
            reason = f"{market.value} with confidence {confidence:.2f}" + (
                f" < {self.min_confidence:g}"
                if confidence < self.min_confidence
                else ": no directional signal"
            )
        else:
            reason = (
                f"{market.value}: spread {spread:+.2f} ATR, RSI {rsi:.1f}, conf {confidence:.2f}"
            )
        return self._analysis(market, risk, confidence, action, thought, reason, steps)

    def _analysis(
        self,
        market: MarketAssessment,
        risk: RiskLevel,
        confidence: float,
        action: Action,
        thought: str,
        reason: str,
        steps: list[ReasoningStep],
    ) -> Analysis:
        return Analysis(
            thought=thought,
            market_assessment=market,
            risk_assessment=risk,
            confidence=confidence,
            action=action,
            reason=reason,
            source=AnalysisSource.RULES,
            analyst=self.name,
            reasoning_steps=tuple(steps),
        )

    def __call__(self, observation: Observation) -> Analysis:
        """Analyse ``observation`` (the same as :meth:`acall`; nothing here waits)."""
        return self._analyse(observation)

    def __repr__(self) -> str:
        return f"RulesAnalyst({self.name!r})"


def _bars_read(symbol: str, bars: Sequence[Bar], needed: int) -> str:
    if not bars:
        return f"Bars: the observation holds no complete bar of {symbol} yet."
    used = bars[-needed:]
    return (
        f"Bars: read the last {len(used)} complete bars of {symbol} from the observation, "
        f"{used[0].timestamp.isoformat()} to {used[-1].timestamp.isoformat()} "
        f"(last close {used[-1].close:.6g})."
    )
