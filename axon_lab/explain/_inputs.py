"""The observation's extra inputs, shown: the RL policy's hint and the documents a step read.

The explain store keeps every step's :class:`~axon_lab.records.Observation`; these render the
parts an Observe stage added (:class:`~axon_lab.oader.RLHintStage`,
:class:`~axon_lab.oader.DocumentsStage`) as HTML and Markdown, every text escaped (documents are
untrusted text, a policy name is the user's), for the report and the step-detail widget. Role
costs of a multi-role Analyze stage are summed from the stored calls by :func:`cost_by_role`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from axon_lab._text import clip, escape_html
from axon_lab.records import Observation, StepRecord

if TYPE_CHECKING:
    from axon_lab.explain._store import ExplainStore

__all__ = ["cost_by_role", "inputs_html", "inputs_markdown", "order_step_inputs"]

_TEXT_CHARS = 2_000  # per document shown; the store keeps the whole text


def _hint_text(obs: Observation) -> str | None:
    h = obs.rl_hint
    if h is None:
        return None
    if h.q_values:
        detail = "q-values " + ", ".join(f"{a.value}={q:.4g}" for a, q in h.q_values.items())
    else:
        detail = "probabilities " + ", ".join(
            f"{a.value}={p:.3f}" for a, p in h.probabilities.items()
        )
    conf = "n/a" if h.confidence is None else f"{h.confidence:.3f}"
    value = "n/a" if h.value is None else f"{h.value:.4g}"
    return f"{h.policy}: {h.action.value}, confidence {conf}, value {value}; {detail}"


def inputs_html(observation: Observation) -> str:
    """The RL hint and the documents of ``observation`` as escaped HTML ("" when none).

    Examples:
        >>> from datetime import UTC, datetime
        >>> from axon_lab.records import Document, PortfolioSnapshot
        >>> t = datetime(2024, 1, 2, tzinfo=UTC)
        >>> doc = Document(doc_id="d1", published_at=t, text="<script>alert(1)</script>")
        >>> obs = Observation(timestamp=t, symbols=("X",), timeframe="1d", bars={"X": ()},
        ...     portfolio=PortfolioSnapshot.build(timestamp=t, cash=1.0), documents=(doc,))
        >>> page = inputs_html(obs)
        >>> "&lt;script&gt;" in page, "<script>" in page
        (True, False)
    """
    e = escape_html
    out = []
    hint = _hint_text(observation)
    if hint is not None:
        out.append(f"<div class='axon-rl-hint'><b>RL policy hint</b>: {e(hint)}</div>")
    if observation.documents:
        items = "".join(
            f"<li><code>{e(d.published_at.isoformat()[:16])}</code> "
            f"[{e(','.join(d.symbols) or 'market')}] <b>{e(d.title)}</b> "
            f"{e(clip(d.text, _TEXT_CHARS))}{' <i>(cut to the budget)</i>' if d.truncated else ''}"
            "</li>"
            for d in observation.documents
        )
        out.append(f"<div><b>Documents ({len(observation.documents)})</b><ul>{items}</ul></div>")
    return "".join(out)


def inputs_markdown(observation: Observation) -> str:
    """The RL hint and the document titles of ``observation`` as one Markdown line ("" if none)."""
    parts = []
    hint = _hint_text(observation)
    if hint is not None:
        parts.append(f"RL hint {hint}")
    if observation.documents:
        titles = "; ".join(
            clip(d.title or d.text, 120).replace("\n", " ") for d in observation.documents
        )
        parts.append(f"{len(observation.documents)} document(s): {titles}")
    return " | ".join(parts)


def order_step_inputs(
    store: ExplainStore, run_id: str, steps: Sequence[StepRecord]
) -> list[tuple[int, Observation]]:
    """``(step, observation)`` of the steps that placed orders, where the observation had inputs."""
    from axon_lab.explain._args import parse_record
    from axon_lab.explain._prompts import read_blobs

    wanted = [s for s in steps if s.acks and s.observation_digest]
    texts = read_blobs(store, run_id, {s.observation_digest for s in wanted})
    out = []
    for s in wanted:
        text = texts.get(s.observation_digest)
        if text is None:
            continue
        obs = parse_record(Observation, text, "observation")
        if obs.rl_hint is not None or obs.documents:
            out.append((s.step, obs))
    return out


def cost_by_role(steps: Iterable[StepRecord]) -> dict[str, float]:
    """The recorded LLM cost of each role (calls without a role under ``""``).

    Examples:
        >>> cost_by_role([])
        {}
    """
    out: dict[str, list[float]] = {}
    for s in steps:
        for c in s.analysis.llm_calls if s.analysis is not None else ():
            out.setdefault(c.role or "", []).append(c.cost)
    return {role: math.fsum(costs) for role, costs in out.items()}
