"""make_agent's one-argument extras: the RL hint and the documents around the Observe stage.

Kept apart from ``agent.py`` so each extra stays a few lines there: this module checks the
arguments (before the run is created), says what the run config records about them, and gives
the function that wraps the Observe stage in their stages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from axon_lab.data import DocumentFeed, load_documents
from axon_lab.data.view import MarketView
from axon_lab.errors import ConfigError

from .documents import DocumentsStage
from .hints import RLHintStage

__all__ = ["observe_extras"]


def _hint_policy(policy: Any, view: MarketView) -> Any:
    if callable(getattr(policy, "hint", None)):
        return policy  # an RLPolicy (or anything that gives hints)
    if callable(getattr(policy, "action_probabilities", None)):
        from axon_lab.rl import RLPolicy  # gymnasium and torch only when asked for

        # the frame, not the view: the policy computes its own features from the bars
        frame = view.as_of(view.end, view.symbols[0])
        frame.attrs = {**frame.attrs, "symbol": view.symbols[0], "timeframe": view.timeframe.label}
        return RLPolicy(policy, frame)
    raise ConfigError(
        f"rl_hint must be a trained policy (axon_lab.rl.train_policy's TrainedPolicy) or an "
        f"axon_lab.rl.RLPolicy, got {type(policy).__name__}"
    )


def _documents(documents: Any) -> DocumentsStage:
    """A template stage (no inner Observe stage yet) holding the feed and its limits."""
    if isinstance(documents, DocumentsStage):
        if documents.observe is not None:
            raise ConfigError(
                "documents=DocumentsStage(...) for make_agent takes None as the stage to wrap "
                "(make_agent wraps its own Observe stage): DocumentsStage(None, feed, ...)"
            )
        return documents
    if isinstance(documents, str | Path):
        documents = load_documents(documents)
    if isinstance(documents, DocumentFeed):
        return DocumentsStage(None, documents)
    raise ConfigError(
        f"documents must be a DocumentFeed or the path of a JSONL, CSV or Parquet file, got "
        f"{type(documents).__name__}; load one with axon_lab.data.load_documents(path)"
    )


def observe_extras(
    view: MarketView, *, rl_hint: Any = None, documents: Any = None
) -> tuple[Callable[[Any], Any], dict[str, Any], list[str]]:
    """Check the extras and say how they wrap the Observe stage.

    Returns:
        A function wrapping an Observe stage in the extras' stages, the run config entries, and
        the parts a rebuild cannot restore.

    Raises:
        ConfigError: For an argument of the wrong kind.
        DataError: For a documents file that fails validation.
    """
    config: dict[str, Any] = {}
    custom: list[str] = []
    policy = None if rl_hint is None else _hint_policy(rl_hint, view)
    docs = None if documents is None else _documents(documents)
    if policy is not None:
        name = str(getattr(policy, "name", type(policy).__name__))
        config["rl_hint"] = {"policy": name, "mode": "in the prompt"}
        custom.append(f"the RL hint policy {name}")
    if docs is not None:
        config["documents"] = {
            "feed": docs.feed.name,
            "n": len(docs.feed),
            "delay": str(docs.feed.delay),
            "max_documents": docs.max_documents,
            "token_budget": docs.token_budget,
        }
        custom.append(f"the document feed {docs.feed.name}")

    def wrap(observe: Any) -> Any:
        if policy is not None:
            observe = RLHintStage(observe, policy)
        if docs is not None:
            observe = docs.wrapping(observe)
        return observe

    return wrap, config, custom
