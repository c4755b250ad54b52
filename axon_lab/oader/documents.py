"""The text channel in the Observe stage: :class:`DocumentsStage`.

A part of the Observe stage: it wraps another Observe stage and adds the most recent documents
available at the observation time (a :class:`~axon_lab.data.DocumentFeed` read as of it, so
nothing published after ``t - delay`` can enter) about the observed symbols, plus market-wide
ones, newest first, cut to a token budget. The observation carries exactly what the prompt shows;
:func:`~axon_lab.oader.render_observation` passes each document through the
:class:`~axon_lab.llm.InputGuard` (untrusted text) inside ``<untrusted_data>`` tags, and the
explain store keeps the documents with the step's observation.

Token counts: ``ceil(characters / 4)`` by default — the rule the cost ledger's estimates use
(tokenizers are model-specific, and none is a dependency); pass ``count_tokens`` for an exact one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from axon_lab.data import DocumentFeed
from axon_lab.errors import ConfigError
from axon_lab.records import Document, Observation

from .stages import ObserveStage, as_async, run_blocking

__all__ = ["DocumentsStage", "estimate_tokens", "fit_documents"]

_MIN_CUT_TOKENS = 16  # below this a cut document says too little to be worth its tokens


def estimate_tokens(text: str) -> int:
    """``ceil(len(text) / 4)``: the cost ledger's rule of thumb.

    Examples:
        >>> estimate_tokens("x" * 9)
        3
    """
    return math.ceil(len(text) / 4)


def _size(doc: Document, count: Callable[[str], int]) -> int:
    return count(doc.title) + count(doc.text)


def fit_documents(
    documents: tuple[Document, ...],
    token_budget: int,
    *,
    count_tokens: Callable[[str], int] = estimate_tokens,
) -> tuple[Document, ...]:
    """Keep documents in order while their titles and texts fit ``token_budget``.

    The first document that does not fit is cut to the tokens left (``truncated=True``) when at
    least 16 are left; the rest are dropped.

    Examples:
        >>> from datetime import UTC, datetime
        >>> t = datetime(2024, 1, 1, tzinfo=UTC)
        >>> docs = (Document(doc_id="a", published_at=t, text="x" * 40),
        ...         Document(doc_id="b", published_at=t, text="y" * 400))
        >>> [(d.doc_id, len(d.text), d.truncated) for d in fit_documents(docs, 40)]
        [('a', 40, False), ('b', 120, True)]
    """
    kept: list[Document] = []
    left = token_budget
    for doc in documents:
        need = _size(doc, count_tokens)
        if need <= left:
            kept.append(doc)
            left -= need
            continue
        room = left - count_tokens(doc.title)
        if room >= _MIN_CUT_TOKENS:
            text = doc.text
            lo, hi = 0, len(text)  # the longest prefix that fits (count_tokens grows with length)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if count_tokens(text[:mid]) <= room:
                    lo = mid
                else:
                    hi = mid - 1
            kept.append(doc.replace(text=text[:lo], truncated=True))
        break
    return tuple(kept)


class DocumentsStage:
    """Observe stage part: the wrapped stage's observation plus the documents available then.

    Args:
        observe: The Observe stage to wrap (``now -> Observation``); None for a template that
            ``make_agent(documents=...)`` completes (see :meth:`wrapping`).
        feed: The documents, served point-in-time.
        max_documents: Most documents per observation (newest first).
        token_budget: Most tokens of document titles and texts per observation.
        count_tokens: Tokens of a text (default :func:`estimate_tokens`).

    Raises:
        ConfigError: For a feed that is not a DocumentFeed or bad limits.

    Examples:
        >>> import pandas as pd
        >>> from datetime import datetime, timezone
        >>> from axon_lab.data import load_documents
        >>> from axon_lab.records import Observation, PortfolioSnapshot
        >>> t = datetime(2024, 1, 2, tzinfo=timezone.utc)
        >>> base = lambda now: Observation(timestamp=now, symbols=("X",), timeframe="1d",
        ...     bars={"X": ()}, portfolio=PortfolioSnapshot.build(timestamp=now, cash=1.0))
        >>> feed = load_documents(pd.DataFrame({
        ...     "published_at": ["2024-01-01T12:00Z", "2024-01-03T00:00Z"],
        ...     "text": ["X wins a contract.", "X is halted."], "symbols": ["X", "X"]}))
        >>> [d.text for d in DocumentsStage(base, feed)(t).documents]  # the later one is unseen
        ['X wins a contract.']
    """

    def __init__(
        self,
        observe: ObserveStage | Any | None,
        feed: DocumentFeed,
        *,
        max_documents: int = 5,
        token_budget: int = 600,
        count_tokens: Callable[[str], int] = estimate_tokens,
    ) -> None:
        if not isinstance(feed, DocumentFeed):
            raise ConfigError(
                f"documents must be a DocumentFeed (axon_lab.data.load_documents(path)), got "
                f"{type(feed).__name__}"
            )
        for name, value in (("max_documents", max_documents), ("token_budget", token_budget)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
        self.observe = observe
        self.feed = feed
        self.max_documents = max_documents
        self.token_budget = token_budget
        self.count_tokens = count_tokens
        self._observe = None if observe is None else as_async(observe)

    def wrapping(self, observe: ObserveStage | Any) -> DocumentsStage:
        """A copy of this stage (same feed and limits) around ``observe``."""
        return DocumentsStage(
            observe,
            self.feed,
            max_documents=self.max_documents,
            token_budget=self.token_budget,
            count_tokens=self.count_tokens,
        )

    def select(self, observation: Observation) -> tuple[Document, ...]:
        """The documents for ``observation``: available at its time, newest first, fitted."""
        found: dict[str, Document] = {}
        for symbol in observation.symbols:
            for doc in self.feed.as_of(observation.timestamp, symbol, limit=self.max_documents):
                found.setdefault(doc.doc_id, doc)
        newest = sorted(found.values(), key=lambda d: d.published_at, reverse=True)
        return fit_documents(
            tuple(newest[: self.max_documents]), self.token_budget, count_tokens=self.count_tokens
        )

    async def acall(self, now: datetime) -> Observation:
        """Observe at ``now``, then add the documents available at the observation's time.

        Raises:
            ConfigError: If the stage wraps no Observe stage (a template).
        """
        if self._observe is None:
            raise ConfigError(
                "this DocumentsStage wraps no Observe stage: build it as "
                "DocumentsStage(observe, feed) or pass it to make_agent(documents=...)"
            )
        observation: Observation = await self._observe(now)
        docs = self.select(observation)
        return observation.replace(documents=docs) if docs else observation

    def __call__(self, now: datetime) -> Observation:
        """Blocking :meth:`acall`."""
        return run_blocking(self.acall(now))

    def __repr__(self) -> str:
        return (
            f"DocumentsStage({self.observe!r}, {self.feed!r}, max_documents={self.max_documents}, "
            f"token_budget={self.token_budget})"
        )
