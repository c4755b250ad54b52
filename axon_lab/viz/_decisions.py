"""Price candles with the agent's decisions and its bracket exits.

Each step is placed on the latest bar that opened at or before its timestamp (the bar the agent
was looking at). A step falls in exactly one kind, checked in this order:

1. ``rejected`` -- a risk verdict rejected its order (whatever the decision's action was);
2. ``abstain`` -- no decision was made (a stage failed) or the decision's source is ``abstain``;
3. ``buy``, ``sell`` or ``hold`` -- the decision's action. Holds are drawn only on request
   (``show_holds=True``): a run holds at most steps, and a marker on every bar hides the price.

Buys sit at the bar's low, sells at its high, everything else at its close.

Exits that no decision placed -- a stop loss or take profit the backend triggered -- are drawn
where they filled (``stop_loss``, ``take_profit``): a fill that shrinks the position, of an order
no step placed, whose price is nearer the stop loss or the take profit of the entry decision
before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from axon_lab._text import escape_html
from axon_lab.errors import ConfigError
from axon_lab.records import DecisionSource, Fill, RiskVerdict, Side, StepRecord
from axon_lab.viz._common import align_to_bars, check_bar_frame, check_steps, graph_objects

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "DECISION_KINDS",
    "DecisionMarkers",
    "DecisionsInfo",
    "get_decisions_info",
    "plot_decisions",
]

DECISION_KINDS: tuple[str, ...] = (
    "buy",
    "sell",
    "hold",
    "abstain",
    "rejected",
    "stop_loss",
    "take_profit",
)
"""The marker groups of :func:`plot_decisions`, in drawing order."""

_STYLE: dict[str, tuple[str, str]] = {  # kind -> (marker symbol, colour)
    "buy": ("triangle-up", "#1a9850"),
    "sell": ("triangle-down", "#d73027"),
    "hold": ("circle", "#878787"),
    "abstain": ("circle-open", "#762a83"),
    "rejected": ("x", "#000000"),
    "stop_loss": ("square", "#b2182b"),
    "take_profit": ("star", "#2166ac"),
}


class DecisionMarkers(NamedTuple):
    """One marker group of the decisions figure.

    Attributes:
        kind: One of :data:`DECISION_KINDS`.
        steps: Step numbers.
        x: Open time of the bar each step is drawn on.
        y: Price the marker sits at.
        actions: The decision's action (``""`` when there was no decision).
        confidences: The decision's confidence, else the analysis's, else None.
        rules: For rejections, ``"line/rule"`` of every rejecting verdict joined by ``", "``;
            ``""`` otherwise.
        hover: Hover text (HTML-escaped user text, ``<br>`` between lines).
    """

    kind: str
    steps: list[int]
    x: list[pd.Timestamp]
    y: list[float]
    actions: list[str]
    confidences: list[float | None]
    rules: list[str]
    hover: list[str]


class DecisionsInfo(NamedTuple):
    """Everything :func:`plot_decisions` draws.

    Attributes:
        symbol: Name of the candlestick trace (``frame.attrs["symbol"]``, else ``"price"``).
        x: Bar open times.
        open: Bar opens.
        high: Bar highs.
        low: Bar lows.
        close: Bar closes.
        markers: One group per kind, in :data:`DECISION_KINDS` order (empty groups included).
    """

    symbol: str
    x: list[pd.Timestamp]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    markers: tuple[DecisionMarkers, ...]


def _kind(step: StepRecord) -> str:
    if step.rejections:
        return "rejected"
    if step.decision is None or step.decision.source is DecisionSource.ABSTAIN:
        return "abstain"
    return str(step.decision.action.value)


def _confidence(step: StepRecord) -> float | None:
    if step.decision is not None:
        return step.decision.confidence
    if step.analysis is not None:
        return step.analysis.confidence
    return None


def _reason(step: StepRecord) -> str:
    if step.decision is not None and step.decision.reason:
        return step.decision.reason
    if step.analysis is not None and step.analysis.reason:
        return step.analysis.reason
    if step.is_failed:
        return f"{step.failed_stage} failed: {step.error}"
    return ""


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\N{HORIZONTAL ELLIPSIS}"


def _rejection_line(v: RiskVerdict) -> str:
    text = f"rejected by {v.line.value}/{v.rule}: limit {v.limit!s}, observed {v.observed!s}"
    return text + (f" ({v.message})" if v.message else "")


def _hover(step: StepRecord, action: str, conf: float | None, max_chars: int) -> str:
    lines = [
        f"step {step.step} at {step.timestamp.isoformat()}",
        f"action: {action or 'none'}",
        f"confidence: {'n/a' if conf is None else f'{conf:.2f}'}",
        f"reason: {_shorten(_reason(step), max_chars) or 'n/a'}",
    ]
    lines += [_shorten(_rejection_line(v), max_chars) for v in step.rejections]
    return "<br>".join(escape_html(line) for line in lines)


def _bracket_exits(ordered: Sequence[StepRecord]) -> list[tuple[StepRecord, Fill, str]]:
    """(step, fill, kind) of every fill that closed a position through a bracket."""
    placed = {a.order_id for s in ordered for a in s.acks}
    out: list[tuple[StepRecord, Fill, str]] = []
    position: dict[str, float] = {}
    brackets: dict[str, tuple[float | None, float | None]] = {}
    for step in ordered:
        d = step.decision
        if d is not None and (d.stop_loss is not None or d.take_profit is not None):
            brackets[d.symbol] = (d.stop_loss, d.take_profit)
        for fill in step.fills:
            held = position.get(fill.symbol, 0.0)
            signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
            position[fill.symbol] = held + signed
            if held == 0.0 or (held > 0) == (signed > 0) or fill.order_id in placed:
                continue
            stop, target = brackets.get(fill.symbol, (None, None))
            if stop is None and target is None:
                continue
            to_stop = abs(fill.price - stop) if stop is not None else float("inf")
            to_target = abs(fill.price - target) if target is not None else float("inf")
            out.append((step, fill, "stop_loss" if to_stop <= to_target else "take_profit"))
    return out


def get_decisions_info(
    frame: pd.DataFrame,
    steps: Sequence[StepRecord],
    *,
    max_reason_chars: int = 200,
    show_holds: bool = False,
) -> DecisionsInfo:
    """Compute the candles and the decision markers of :func:`plot_decisions`.

    Args:
        frame: A canonical OHLCV frame covering the run (UTC DatetimeIndex of bar open times).
        steps: The run's steps, e.g. ``ExplainStore.steps(run_id)``; any order.
        max_reason_chars: Longer reasons and rejection texts are cut to this length in the hover.
        show_holds: Also mark the steps that held.

    Returns:
        The candles and one marker group per kind (see the module docstring for the rules).

    Raises:
        ConfigError: If the frame or the steps are unusable, or a step lies outside the frame.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> from axon_lab.records import Decision, StepRecord
        >>> frame = make_synthetic(3, timeframe="1h", seed=0)
        >>> hold = Decision(action="hold", symbol="SYN", confidence=0.4, source="rules")
        >>> step = StepRecord(run_id="r", step=0, timestamp=frame.index[1],
        ...                   observation_digest="d", decision=hold, equity=1e4, pnl=0.0)
        >>> info = get_decisions_info(frame, [step], show_holds=True)
        >>> [(m.kind, m.steps) for m in info.markers if m.steps]
        [('hold', [0])]
        >>> [m.kind for m in get_decisions_info(frame, [step]).markers if m.steps]
        []
    """
    check_bar_frame(frame, ("open", "high", "low", "close"))
    ordered = check_steps(steps)
    if max_reason_chars < 1:
        raise ConfigError(f"max_reason_chars must be >= 1, got {max_reason_chars!r}.")
    pos = align_to_bars(
        pd.DatetimeIndex(frame.index), [pd.Timestamp(s.timestamp) for s in ordered], what="a step"
    )
    x = list(frame.index)
    opens, highs, lows, closes = (
        frame[c].astype(float).tolist() for c in ("open", "high", "low", "close")
    )
    groups: dict[str, DecisionMarkers] = {
        k: DecisionMarkers(k, [], [], [], [], [], [], []) for k in DECISION_KINDS
    }
    for step, bar in zip(ordered, pos.tolist(), strict=True):
        kind = _kind(step)
        if kind == "hold" and not show_holds:
            continue
        action = "" if step.decision is None else str(step.decision.action.value)
        conf = _confidence(step)
        y = lows[bar] if kind == "buy" else highs[bar] if kind == "sell" else closes[bar]
        g = groups[kind]
        g.steps.append(step.step)
        g.x.append(x[bar])
        g.y.append(y)
        g.actions.append(action)
        g.confidences.append(conf)
        g.rules.append(", ".join(f"{v.line.value}/{v.rule}" for v in step.rejections))
        g.hover.append(_hover(step, action, conf, max_reason_chars))
    exits = _bracket_exits(ordered)
    if exits:
        bars = align_to_bars(
            pd.DatetimeIndex(frame.index),
            [pd.Timestamp(f.timestamp) for _, f, _ in exits],
            what="a fill",
        )
        for (step, fill, kind), bar in zip(exits, bars.tolist(), strict=True):
            g = groups[kind]
            g.steps.append(step.step)
            g.x.append(x[bar])
            g.y.append(fill.price)
            g.actions.append(fill.side.value)
            g.confidences.append(None)
            g.rules.append("")
            g.hover.append(
                "<br>".join(
                    escape_html(line)
                    for line in (
                        f"{kind.replace('_', ' ')} at {fill.timestamp.isoformat()}",
                        f"{fill.side.value} {fill.quantity:g} at {fill.price:g} (fee {fill.fee:g})",
                        f"seen at step {step.step}",
                    )
                )
            )
    return DecisionsInfo(
        symbol=str(frame.attrs.get("symbol") or "price"),
        x=x,
        open=opens,
        high=highs,
        low=lows,
        close=closes,
        markers=tuple(groups[k] for k in DECISION_KINDS),
    )


def plot_decisions(
    frame: pd.DataFrame,
    steps: Sequence[StepRecord],
    *,
    max_reason_chars: int = 200,
    show_holds: bool = False,
) -> go.Figure:
    """Plot price candles with one marker trace per decision kind that occurs.

    Args:
        frame: A canonical OHLCV frame covering the run.
        steps: The run's steps.
        max_reason_chars: Longer reasons are cut to this length in the hover.
        show_holds: Also mark the steps that held.

    Returns:
        A plotly figure: a ``Candlestick`` named after the symbol, then one ``Scatter`` per
        non-empty kind of :data:`DECISION_KINDS`, named after the kind.

    Raises:
        ConfigError: As :func:`get_decisions_info`.
    """
    info = get_decisions_info(
        frame, steps, max_reason_chars=max_reason_chars, show_holds=show_holds
    )
    go = graph_objects()
    fig = go.Figure()
    fig.add_trace(
        go.Candlestick(
            x=info.x, open=info.open, high=info.high, low=info.low, close=info.close,
            name=info.symbol,
        )
    )  # fmt: skip
    for group in info.markers:
        if not group.steps:
            continue
        symbol, colour = _STYLE[group.kind]
        fig.add_trace(
            go.Scatter(
                x=group.x,
                y=group.y,
                mode="markers",
                name=group.kind,
                marker={"symbol": symbol, "color": colour, "size": 11},
                text=group.hover,
                hovertemplate="%{text}<extra>" + group.kind + "</extra>",
            )
        )
    fig.update_layout(
        title=f"{info.symbol}: decisions",
        xaxis_rangeslider_visible=False,
        yaxis_title="price",
        legend_title="decision",
    )
    return fig
