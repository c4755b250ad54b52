"""Decide: :class:`DecisionEngine` turns an analysis into a risk-sized order, or a hold.

The rules, in order (seed 001's, plus sizing from risk):

1. an abstaining analysis holds (``source=abstain``);
2. the proposed action: ``mode="direct"`` takes the analysis's own ``action`` (LLM-direct);
   ``mode="rules"`` maps the assessment (uptrend -> buy, downtrend -> sell, range -> hold), the
   rules fallback. ``source`` is the analysis's source in direct mode; in rules mode it is
   ``rules`` for a rules analysis and ``fallback`` when the rules overrode an LLM's action;
3. confidence under ``min_confidence`` holds; ``risk_assessment == "high"`` holds;
4. positions: a buy while short closes the short; a sell while long closes the long (exits carry
   no brackets); **a sell while flat in long-only mode is a hold** (there is nothing to sell and
   shorting is off); a buy while already holding the risk-sized position holds (no pyramiding
   past the risk budget);
5. an entry is a limit order ``entry_offset_atr`` ATRs through the last close (a marketable
   buffer that caps slippage), with a stop loss ``stop_atr`` ATRs away and a take profit
   ``reward_risk`` times the stop distance on the other side (with ``brackets=False`` the two
   levels still size the entry but are not attached to it: for a venue that takes no bracket
   orders, where the risk chain's gates are what watches the position);
6. size: ``quantity = equity * risk_fraction / (stop_atr * ATR)`` — the stop costs
   ``risk_fraction`` of equity — then capped by cash (long-only: no borrowing),
   ``max_leverage * equity`` of exposure, and the :class:`~axon_lab.risk.RiskLimits` the risk chain
   enforces (order notional, position size and value, each with ``cap_margin`` headroom because
   the order is checked at the next price), and rounded down to the instrument's lot size (else
   ``quantity_step``). A size that rounds to zero holds. With ``vol_target`` the uncapped size
   is ``equity * vol_target / (price * forecast vol)`` instead: the position's forecast
   volatility over the forecast horizon (``vol_feature``, from
   :class:`~axon_lab.forecast.Forecasts`) is ``vol_target`` of equity; no forecast yet holds;
7. the venue: with an :class:`~axon_lab.records.Instrument`, prices go on its tick grid (entries
   and exits rounded to the passive side) and an order below its minimum quantity or notional
   is not sent: the step holds and its reason says which minimum, so no dust order reaches a
   venue that would refuse it.

ATR comes from the observation's features (``atr_feature``) or, if absent, from the mean true range
of the observation's bars.
"""

from __future__ import annotations

import math
from typing import Literal

from axon_lab.errors import ConfigError
from axon_lab.llm import DEFAULT_MIN_CONFIDENCE
from axon_lab.records import (
    Action,
    Analysis,
    AnalysisSource,
    Decision,
    DecisionSource,
    Instrument,
    MarketAssessment,
    Observation,
    OrderType,
    RiskLevel,
    Side,
)
from axon_lab.risk.limits import RiskLimits

from .rules_analyst import true_ranges

__all__ = ["DecisionEngine", "DecisionMode"]

DecisionMode = Literal["direct", "rules"]

_SOURCES = {
    AnalysisSource.LLM: DecisionSource.LLM,
    AnalysisSource.RULES: DecisionSource.RULES,
    AnalysisSource.RL: DecisionSource.RL,
    AnalysisSource.ABSTAIN: DecisionSource.ABSTAIN,
}
_BY_TREND = {
    MarketAssessment.UPTREND: Action.BUY,
    MarketAssessment.DOWNTREND: Action.SELL,
    MarketAssessment.RANGE: Action.HOLD,
}


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


class DecisionEngine:
    """The Decide stage: seed 001's rules with risk-based sizing (see the module docstring).

    Args:
        mode: ``"direct"`` (follow the analysis's action) or ``"rules"`` (map its assessment).
        symbol: The traded symbol (default: the observation's first).
        min_confidence: Under this confidence, hold.
        risk_fraction: Fraction of equity lost if the stop loss is hit.
        stop_atr: Stop distance in ATRs.
        reward_risk: Take-profit distance as a multiple of the stop distance.
        entry_offset_atr: How far through the last close (in ATRs) the limit price sits.
        limits: The risk limits orders will meet; the size is capped to pass them.
        long_only: Forbid short positions.
        max_leverage: Largest position value as a multiple of equity.
        fee_rate: Fee rate assumed when capping a buy by cash.
        cap_margin: Headroom kept under each cap, as a fraction of it.
        quantity_step: Quantities are rounded down to a multiple of this (when the instrument
            has no lot size).
        atr_feature: The feature that holds the ATR.
        instrument: The venue's rules for the symbol (tick, lot, minimums); see rule 7.
        vol_target: Volatility-target sizing (see rule 6); None sizes by the stop's risk.
        vol_feature: The feature holding the forecast volatility (a return's std).
        brackets: Attach the stop loss and take profit to entries (see rule 5).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from axon_lab.records import Bar, PortfolioSnapshot
        >>> t = datetime(2024, 1, 2, tzinfo=timezone.utc)
        >>> bar = Bar(timestamp=datetime(2024, 1, 1, tzinfo=timezone.utc), open=99.0,
        ...           high=101.0, low=98.0, close=100.0, volume=1.0)
        >>> obs = Observation(timestamp=t, symbols=("X",), timeframe="1d", bars={"X": (bar,)},
        ...                   features={"X": {"atr_14": 2.0}},
        ...                   portfolio=PortfolioSnapshot.build(timestamp=t, cash=5_000.0))
        >>> analysis = Analysis(thought="t", market_assessment="uptrend", risk_assessment="low",
        ...                     confidence=0.9, action="buy", source="rules", analyst="rules:x")
        >>> d = DecisionEngine(risk_fraction=0.01, stop_atr=2.0)(analysis, obs)
        >>> d.action.value, d.quantity, d.price, d.stop_loss, d.take_profit  # 50 at risk / 4
        ('buy', 12.5, 100.5, 96.5, 108.5)
    """

    def __init__(
        self,
        *,
        mode: DecisionMode = "direct",
        symbol: str | None = None,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        risk_fraction: float = 0.01,
        stop_atr: float = 2.0,
        reward_risk: float = 2.0,
        entry_offset_atr: float = 0.25,
        limits: RiskLimits | None = None,
        long_only: bool = True,
        max_leverage: float = 1.0,
        fee_rate: float = 0.0,
        cap_margin: float = 0.02,
        quantity_step: float = 1e-8,
        atr_feature: str = "atr_14",
        instrument: Instrument | None = None,
        vol_target: float | None = None,
        vol_feature: str = "fc_vol",
        brackets: bool = True,
    ) -> None:
        if mode not in ("direct", "rules"):
            raise ConfigError(f"mode must be 'direct' or 'rules', got {mode!r}")
        if not 0 <= min_confidence <= 1:
            raise ConfigError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
        if not 0 < risk_fraction < 1:
            raise ConfigError(f"risk_fraction must be in (0, 1), got {risk_fraction!r}")
        if not 0 <= cap_margin < 1:
            raise ConfigError(f"cap_margin must be in [0, 1), got {cap_margin!r}")
        if not 0 <= fee_rate < 1:
            raise ConfigError(f"fee_rate must be in [0, 1), got {fee_rate!r}")
        if not (math.isfinite(entry_offset_atr) and entry_offset_atr >= 0):
            raise ConfigError(f"entry_offset_atr must be >= 0, got {entry_offset_atr!r}")
        self.mode: DecisionMode = mode
        self.symbol = symbol
        self.min_confidence = min_confidence
        self.risk_fraction = risk_fraction
        self.stop_atr = _positive("stop_atr", stop_atr)
        self.reward_risk = _positive("reward_risk", reward_risk)
        self.entry_offset_atr = float(entry_offset_atr)
        self.limits = limits if limits is not None else RiskLimits()
        self.long_only = long_only
        self.max_leverage = _positive("max_leverage", max_leverage)
        self.fee_rate = fee_rate
        self.cap_margin = cap_margin
        self.quantity_step = _positive("quantity_step", quantity_step)
        self.atr_feature = atr_feature
        self.instrument = instrument
        self.vol_target = None if vol_target is None else _positive("vol_target", vol_target)
        self.vol_feature = vol_feature
        if not isinstance(brackets, bool):
            raise ConfigError(f"brackets must be True or False, got {brackets!r}")
        self.brackets = brackets

    # ------------------------------------------------------------------ helpers

    def _atr(self, observation: Observation, symbol: str) -> float | None:
        value = observation.features.get(symbol, {}).get(self.atr_feature)
        if value is not None and value > 0:
            return value
        bars = observation.bars.get(symbol, ())
        if not bars:
            return None
        ranges = true_ranges([b.high for b in bars], [b.low for b in bars], [b.close for b in bars])
        atr = math.fsum(ranges) / len(ranges)
        return atr if atr > 0 else None

    def _round(self, quantity: float) -> float:
        if self.instrument is not None and self.instrument.lot_size is not None:
            return self.instrument.round_quantity(quantity)
        steps = math.floor(quantity / self.quantity_step + 1e-9)
        return round(steps * self.quantity_step, 12)

    def _tick(self, price: float, side: Side) -> float:
        return price if self.instrument is None else self.instrument.round_price(price, side=side)

    def _too_small(self, quantity: float, price: float) -> str:
        """Why the venue would refuse this size ("" when it would not)."""
        if self.instrument is None:
            return ""
        problem = self.instrument.size_problem(quantity, price)
        if not problem:
            return ""
        return f"not sent: {problem} ({self.instrument.source or 'instrument rules'})"

    def _entry_size(
        self,
        observation: Observation,
        symbol: str,
        price: float,
        atr: float,
        held: float,
        *,
        buying: bool,
    ) -> tuple[float, float, list[str]]:
        """Risk-sized quantity to add to ``held``, rounded and not (direction: the caller's)."""
        equity = observation.portfolio.equity
        margin = 1.0 - self.cap_margin
        vol = observation.features.get(symbol, {}).get(self.vol_feature)
        if self.vol_target is not None and vol is not None and vol > 0:
            target = equity * self.vol_target / (price * vol)
        else:
            target = equity * self.risk_fraction / (self.stop_atr * atr)
        caps: dict[str, float] = {"exposure": self.max_leverage * equity * margin / price}
        limits = self.limits
        if limits.max_position_abs is not None:
            caps["max_position_abs"] = limits.max_position_abs * margin
        if limits.max_position_value is not None:
            caps["max_position_value"] = limits.max_position_value * margin / price
        position_cap = min(caps.values())
        add = min(target, position_cap) - abs(held)
        binding = [k for k, v in caps.items() if v < target]
        order_caps: dict[str, float] = {}
        if limits.max_order_notional is not None:
            order_caps["max_order_notional"] = limits.max_order_notional * margin / price
        if buying:
            order_caps["cash"] = observation.portfolio.cash * margin / (price * (1 + self.fee_rate))
        for name, cap in order_caps.items():
            if cap < add:
                add = cap
                binding.append(name)
        return self._round(max(add, 0.0)), add, binding

    def _hold(
        self, symbol: str, analysis: Analysis, source: DecisionSource, reason: str
    ) -> Decision:
        return Decision(
            action=Action.HOLD,
            symbol=symbol,
            reason=reason,
            confidence=analysis.confidence,
            source=source,
        )

    # ------------------------------------------------------------------ the rules

    def __call__(self, analysis: Analysis, observation: Observation) -> Decision:
        """Decide on ``analysis`` given ``observation`` (see the module docstring)."""
        symbol = self.symbol or observation.symbols[0]
        if analysis.source is AnalysisSource.ABSTAIN:
            return self._hold(
                symbol,
                analysis,
                DecisionSource.ABSTAIN,
                f"the analysis abstained: {analysis.reason}",
            )
        if self.mode == "direct":
            proposed, source = analysis.action, _SOURCES[analysis.source]
        else:
            proposed = _BY_TREND[analysis.market_assessment]
            source = (
                DecisionSource.RULES
                if analysis.source is AnalysisSource.RULES
                else DecisionSource.FALLBACK
            )
        if proposed is Action.HOLD:
            return self._hold(symbol, analysis, source, f"hold proposed: {analysis.reason}")
        if analysis.confidence < self.min_confidence:
            return self._hold(
                symbol,
                analysis,
                source,
                f"confidence {analysis.confidence:.2f} is below the threshold "
                f"{self.min_confidence:g}",
            )
        if analysis.risk_assessment is RiskLevel.HIGH:
            return self._hold(symbol, analysis, source, "risk assessment is high: holding")
        bars = observation.bars.get(symbol, ())
        if not bars:
            return self._hold(symbol, analysis, source, f"no complete bar of {symbol} yet")
        last = bars[-1].close
        atr = self._atr(observation, symbol)
        if atr is None:
            return self._hold(symbol, analysis, source, "no volatility estimate (ATR) yet")
        held = observation.portfolio.quantity(symbol)
        buying = proposed is Action.BUY
        offset = self.entry_offset_atr * atr
        side, other = (Side.BUY, Side.SELL) if buying else (Side.SELL, Side.BUY)
        price = self._tick(last + offset if buying else last - offset, side)
        if price <= 0:
            return self._hold(symbol, analysis, source, f"limit price {price:.6g} is not positive")
        if (buying and held < 0) or (not buying and held > 0):
            quantity, note = abs(held), "closes"
            cap = self.limits.max_order_notional
            if cap is not None and quantity * price > cap * (1.0 - self.cap_margin):
                quantity = self._round(cap * (1.0 - self.cap_margin) / price)
                note = "reduces (capped by max_order_notional; the rest next step)"
            if quantity <= 0:
                return self._hold(symbol, analysis, source, "exit rounds to zero quantity")
            small = self._too_small(quantity, price)
            if small:
                return self._hold(symbol, analysis, source, f"exit of {quantity:g} {small}")
            return Decision(
                action=proposed,
                symbol=symbol,
                quantity=quantity,
                order_type=OrderType.LIMIT,
                price=price,
                reason=(
                    f"{analysis.market_assessment.value} (conf {analysis.confidence:.2f}): "
                    f"{proposed.value} {quantity:g} {note} the "
                    f"{'short' if held < 0 else 'long'} position of {abs(held):g}"
                ),
                confidence=analysis.confidence,
                source=source,
            )
        if not buying and self.long_only:
            return self._hold(
                symbol,
                analysis,
                source,
                "sell signal while flat in long-only mode: nothing to sell, so hold",
            )
        vol = observation.features.get(symbol, {}).get(self.vol_feature)
        if self.vol_target is not None and not (vol is not None and vol > 0):
            return self._hold(
                symbol,
                analysis,
                source,
                f"vol_target sizing needs the forecast volatility {self.vol_feature!r}, which "
                "is not available yet",
            )
        quantity, wanted, binding = self._entry_size(
            observation, symbol, price, atr, held, buying=buying
        )
        if quantity <= 0 < wanted:
            return self._hold(
                symbol,
                analysis,
                source,
                f"{proposed.value} signal, but the risk-sized quantity {wanted:.6g} rounds down "
                "to zero at the lot size",
            )
        if quantity <= 0:
            why = ", ".join(binding) or "the risk budget"
            return self._hold(
                symbol,
                analysis,
                source,
                f"{proposed.value} signal, but the position is already at its size ({why})",
            )
        small = self._too_small(quantity, price)
        if small:
            return self._hold(symbol, analysis, source, f"entry of {quantity:g} {small}")
        distance = self.stop_atr * atr
        stop = self._tick(price - distance if buying else price + distance, other)
        target = self._tick(
            price + self.reward_risk * distance if buying else price - self.reward_risk * distance,
            other,
        )
        if stop <= 0 or target <= 0:
            return self._hold(
                symbol, analysis, source, f"stop {stop:.6g} or target {target:.6g} not positive"
            )
        if (stop >= price or target <= price) if buying else (stop <= price or target >= price):
            return self._hold(
                symbol,
                analysis,
                source,
                f"stop {stop:.6g} and target {target:.6g} do not straddle the price {price:.6g} "
                "on the tick grid",
            )
        capped = f"; capped by {', '.join(binding)}" if binding else ""
        return Decision(
            action=proposed,
            symbol=symbol,
            quantity=quantity,
            order_type=OrderType.LIMIT,
            price=price,
            stop_loss=stop if self.brackets else None,
            take_profit=target if self.brackets else None,
            reason=(
                f"{analysis.market_assessment.value} (conf {analysis.confidence:.2f}): "
                f"{proposed.value} {quantity:g} "
                + (
                    f"risking {self.risk_fraction:.2%} of equity "
                    f"{observation.portfolio.equity:,.2f} over a {self.stop_atr:g} ATR stop "
                    f"(ATR {atr:.6g})"
                    if self.vol_target is None
                    else f"sized to a forecast volatility of {self.vol_target:.2%} of equity "
                    f"{observation.portfolio.equity:,.2f} ({self.vol_feature} {vol:.4%})"
                )
                + capped
                + ("" if self.brackets else "; no stop-loss/take-profit attached (brackets off)")
            ),
            confidence=analysis.confidence,
            source=source,
        )

    def __repr__(self) -> str:
        return (
            f"DecisionEngine(mode={self.mode!r}, risk_fraction={self.risk_fraction}, "
            f"stop_atr={self.stop_atr}, long_only={self.long_only})"
        )
