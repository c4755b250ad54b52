"""How an observation is shown to an LLM: a compact, deterministic text block.

Numbers only come from the observation (which came from ``MarketView.as_of``); the rendering is
deterministic so identical observations give identical prompts, hence identical cache keys.

Forecast features (``fc_*``, from :class:`~axon_lab.forecast.Forecasts`) get their own line with
their bands, and retrieved similar past contexts (:class:`~axon_lab.memory.Memory`) a section
with their outcomes; a context's summary may come from a memory file, so it is guarded like a
symbol.

A symbol is data too: one that breaks :func:`~axon_lab.data.check_symbol`'s rule (loaded data
never does; a hand-built observation might) is shown as a quoted, guarded string (the
:class:`~axon_lab.llm.InputGuard` filters instructions in it) instead of as a heading.

Examples:
    >>> from datetime import datetime, timezone
    >>> from axon_lab.records import Bar, Observation, PortfolioSnapshot
    >>> t = datetime(2024, 1, 2, tzinfo=timezone.utc)
    >>> bar = Bar(timestamp=datetime(2024, 1, 1, tzinfo=timezone.utc), open=10.0, high=11.0,
    ...           low=9.5, close=10.5, volume=3.0)
    >>> obs = Observation(timestamp=t, symbols=("X",), timeframe="1d", bars={"X": (bar,)},
    ...                   features={"X": {"rsi_14": 55.25, "atr_14": None}},
    ...                   portfolio=PortfolioSnapshot.build(timestamp=t, cash=100.0))
    >>> print(render_observation(obs, max_bars=1))
    Time: 2024-01-02T00:00:00+00:00 (bars: 1d, complete bars only)
    == X ==
    timestamp,open,high,low,close,volume
    2024-01-01T00:00,10,11,9.5,10.5,3
    Indicators (last complete bar): rsi_14=55.25, atr_14=n/a
    == Portfolio ==
    cash=100, equity=100, realized_pnl=0, fees_paid=0; positions: none
    == Strategy state ==
    steps=0, last_action=none, cumulative_pnl=0
"""

from __future__ import annotations

from axon_lab._memo import IdentityMemo
from axon_lab.data import check_symbol
from axon_lab.errors import DataError
from axon_lab.llm import InputGuard
from axon_lab.records import Bar, Document, Observation, RLHint, SimilarContext

__all__ = ["render_observation"]


_SYMBOL_GUARD = InputGuard(max_chars=64)
# documents were cut to the prompt's token budget by the DocumentsStage: the guard only cleans
_DOCUMENT_GUARD = InputGuard(max_chars=1_000_000)
_SUMMARY_GUARD = InputGuard(max_chars=240)


def _symbol(symbol: str) -> str:
    """The symbol as prompt text: as is when it follows the symbol rule, else guarded and quoted."""
    try:
        return check_symbol(symbol)
    except DataError:
        return repr(_SYMBOL_GUARD.check(symbol).text)


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.8g}"


def _format_bar(b: Bar) -> str:
    return (
        f"{b.timestamp.isoformat()[:16]},{_num(b.open)},{_num(b.high)},"
        f"{_num(b.low)},{_num(b.close)},{_num(b.volume)}"
    )


# Consecutive observations share all but their newest Bar object (the ContextBuilder reuses
# them): each line is formatted once.
_bar_line: IdentityMemo[Bar, str] = IdentityMemo(_format_bar)


def render_observation(observation: Observation, *, max_bars: int = 12) -> str:
    """The observation as prompt text: recent bars, indicators, portfolio, strategy state."""
    lines = [
        f"Time: {observation.timestamp.isoformat()} (bars: {observation.timeframe}, "
        "complete bars only)"
    ]
    for symbol in observation.symbols:
        lines.append(f"== {_symbol(symbol)} ==")
        lines.append("timestamp,open,high,low,close,volume")
        lines += _bar_line.many(observation.bars.get(symbol, ())[-max_bars:])
        feats = observation.features.get(symbol, {})
        plain = {k: v for k, v in feats.items() if not k.startswith("fc_")}
        if plain:
            shown = ", ".join(f"{k}={_num(v)}" for k, v in plain.items())
            lines.append(f"Indicators (last complete bar): {shown}")
        if len(plain) < len(feats):
            lines.append(_forecast_line(feats))
    p = observation.portfolio
    held = (
        "; ".join(
            f"{_symbol(s)} qty={_num(pos.quantity)} avg={_num(pos.avg_price)} "
            f"mark={_num(pos.mark_price)}"
            for s, pos in p.positions.items()
        )
        or "none"
    )
    lines.append("== Portfolio ==")
    lines.append(
        f"cash={_num(p.cash)}, equity={_num(p.equity)}, realized_pnl={_num(p.realized_pnl)}, "
        f"fees_paid={_num(p.fees_paid)}; positions: {held}"
    )
    s = observation.strategy_state
    lines.append("== Strategy state ==")
    lines.append(
        f"steps={s.step_count}, last_action={s.last_action.value if s.last_action else 'none'}, "
        f"cumulative_pnl={_num(s.cumulative_pnl)}"
    )
    if observation.similar_contexts:
        lines.append(
            "== Similar past contexts (most similar first; each outcome was known before now) =="
        )
        lines += [_similar_line(c) for c in observation.similar_contexts]
    if observation.rl_hint is not None:
        lines += _hint_lines(observation.rl_hint)
    if observation.documents:
        lines += _document_lines(observation.documents)
    return "\n".join(lines)


def _hint_lines(hint: RLHint) -> list[str]:
    """The RL policy's recommendation (seed 001's RL-augmented LLM: one signal among others)."""
    name = repr(_SYMBOL_GUARD.check(hint.policy).text)
    if hint.q_values:
        shown = ", ".join(f"{a.value}={_num(q)}" for a, q in hint.q_values.items())
        head = f"action={hint.action.value} (greedy); q-values: {shown}"
    else:
        probs = ", ".join(f"{a.value}={p:.3f}" for a, p in hint.probabilities.items())
        conf = "n/a" if hint.confidence is None else f"{hint.confidence:.3f}"
        head = f"action={hint.action.value}, confidence={conf}; probabilities: {probs}"
    return [
        f"== RL policy {name} (a trained policy's recommendation; weigh it, do not obey it) ==",
        f"{head}; value estimate={_num(hint.value)} "
        f"(last bar read: {hint.bar_time.isoformat()[:16]})",
    ]


def _document_lines(documents: tuple[Document, ...]) -> list[str]:
    """Each document guarded (it is untrusted text) and wrapped in ``<untrusted_data>``."""
    lines = [f"== Documents ({len(documents)}, newest first; published before this time) =="]
    for doc in documents:
        about = ",".join(_symbol(s) for s in doc.symbols) or "market"
        head = f"{doc.published_at.isoformat()[:16]} [{about}]"
        if doc.source:
            head += f" ({doc.source})"
        body = f"{head} {doc.title}\n{doc.text}" if doc.title else f"{head}\n{doc.text}"
        if doc.truncated:
            body += " [cut to the token budget]"
        lines.append(_DOCUMENT_GUARD.wrap(body, source=f"document:{doc.doc_id}"))
    return lines


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.3%}"


def _forecast_line(feats: dict[str, float | None]) -> str:
    """The forecast features in words, with their bands."""
    h = feats.get("fc_horizon")
    horizon = "n/a" if h is None else f"{h:g}"
    vol, lo, hi = feats.get("fc_vol"), feats.get("fc_vol_lo"), feats.get("fc_vol_hi")
    p, plo, phi = feats.get("fc_p_up"), feats.get("fc_p_up_lo"), feats.get("fc_p_up_hi")
    vol_text = "n/a" if vol is None else f"{vol:.3%}"
    if vol is not None and lo is not None and hi is not None:
        vol_text += f" [{lo:.3%}, {hi:.3%}]"
    p_text = "n/a" if p is None else f"{p:.3f}"
    if p is not None and plo is not None and phi is not None:
        p_text += f" [{plo:.3f}, {phi:.3f}]"
    return (
        f"Forecasts for the next {horizon} bars (models fitted on earlier bars only; bands are "
        f"uncertainty intervals): return std {vol_text}, P(up) {p_text}"
    )


def _similar_line(c: SimilarContext) -> str:
    action = c.action.value if c.action is not None else "n/a"
    return (
        f"- {c.timestamp.isoformat()[:16]} {_symbol(c.symbol)} (similarity {c.similarity:.3f}): "
        f"{_SUMMARY_GUARD.check(c.summary).text} -> next {c.horizon} bars {_pct(c.forward_return)}"
        f"; action then {action}, its result {_pct(c.result)}"
    )
