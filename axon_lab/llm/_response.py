"""The response half of the seam: a frozen :class:`LLMResponse` and its token :class:`Usage`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Self

from axon_lab._text import MAX_ERROR_CHARS, MAX_RAW_CHARS, clip
from axon_lab.records import LLMCall, ToolCall

__all__ = ["LLMResponse", "Usage"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """Token counts reported by the server (zero when it reports none).

    Examples:
        >>> Usage(prompt_tokens=12, completion_tokens=3).total_tokens
        15
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMResponse:
    """What every client returns: the answer, its tool calls and how it was obtained.

    Attributes:
        text: The assistant message content ("" when the model only called tools).
        tool_calls: Tool calls in the OpenAI format, as :class:`~axon_lab.records.ToolCall`.
        usage: Token counts.
        latency_s: Wall time of the call that produced the text, including retries. A cache
            hit keeps the latency recorded when the call was live, so replays are identical.
        model: The model that answered (as the server names it, else the requested model).
        finish_reason: ``"stop"``, ``"length"``, ``"tool_calls"``, ... or None.
        request_hash: The request's cache key (see :func:`~axon_lab.llm.request_key`).
        cache_hit: Whether the response came from the cache.
        raw: The raw response body as text (what :class:`~axon_lab.records.LLMCall` keeps).
        attempts: How many HTTP attempts the call took (1 means no retry).
        retry_errors: Why each failed attempt was retried, oldest first.
        structured_mode: How structured output was requested (``json_schema``, ``json_object``,
            ``prompt``), or None when no response format was asked for.
        cost: What the call cost, once a :class:`~axon_lab.llm.MeteredClient` priced it
            (0.0 for unpriced calls and cache hits).

    Examples:
        >>> r = LLMResponse(text="ok", model="m", latency_s=0.1)
        >>> r.to_llm_call(cost=0.0).model
        'm'
        >>> LLMResponse.from_dict(r.to_dict()) == r
        True
    """

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    model: str
    finish_reason: str | None = None
    request_hash: str = ""
    cache_hit: bool = False
    raw: str = ""
    attempts: int = 1
    retry_errors: tuple[str, ...] = ()
    structured_mode: str | None = None
    cost: float = 0.0
    request_parts: tuple[str, ...] = ()

    def replace(self, **changes: Any) -> LLMResponse:
        """Return a copy with ``changes`` applied.

        Raises:
            TypeError: For a name that is not a field.
        """
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible data (the cache's storage format)."""
        return {
            "text": self.text,
            "tool_calls": [tc.to_dict() for tc in self.tool_calls],
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
            },
            "latency_s": self.latency_s,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "request_hash": self.request_hash,
            "cache_hit": self.cache_hit,
            "raw": self.raw,
            "attempts": self.attempts,
            "retry_errors": list(self.retry_errors),
            "structured_mode": self.structured_mode,
            "cost": self.cost,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild a response from :meth:`to_dict` output."""
        return cls(
            text=data["text"],
            tool_calls=tuple(ToolCall.from_dict(tc) for tc in data.get("tool_calls", ())),
            usage=Usage(**data.get("usage", {})),
            latency_s=float(data.get("latency_s", 0.0)),
            model=data["model"],
            finish_reason=data.get("finish_reason"),
            request_hash=data.get("request_hash", ""),
            cache_hit=bool(data.get("cache_hit", False)),
            raw=data.get("raw", ""),
            attempts=int(data.get("attempts", 1)),
            retry_errors=tuple(data.get("retry_errors", ())),
            structured_mode=data.get("structured_mode"),
            cost=float(data.get("cost", 0.0)),
        )

    def to_llm_call(self, *, cost: float | None = None, error: str | None = None) -> LLMCall:
        """The :class:`~axon_lab.records.LLMCall` record of this response.

        The raw text is clipped to :data:`~axon_lab._text.MAX_RAW_CHARS` (the cut is marked) and
        the error to ``MAX_ERROR_CHARS``: a hostile 1 MB answer must not grow every step record.

        Args:
            cost: Override the response's own ``cost``.
            error: Why the response could not be used, if it could not.
        """
        return LLMCall(
            model=self.model,
            request_hash=self.request_hash or "unhashed",
            tokens_in=self.usage.prompt_tokens,
            tokens_out=self.usage.completion_tokens,
            latency_s=max(self.latency_s, 0.0),
            cost=self.cost if cost is None else cost,
            cache_hit=self.cache_hit,
            raw_response=clip(self.raw or self.text, MAX_RAW_CHARS),
            finish_reason=self.finish_reason,
            error=None if error is None else clip(error, MAX_ERROR_CHARS),
            attempts=max(self.attempts, 1),
            retry_errors=tuple(clip(e, MAX_ERROR_CHARS) for e in self.retry_errors),
            request_parts=self.request_parts,
        )
