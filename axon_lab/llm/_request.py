"""The request half of the seam: a frozen :class:`LLMRequest` and its stable cache key.

A request is what a caller hands to :meth:`LLMClient.complete`: chat messages in the OpenAI
format, optional OpenAI tool schemas, an optional ``response_format`` and sampling parameters. Its
key is the SHA-256 of the canonical JSON (sorted keys, no whitespace, no NaN) of ``(model,
messages, tools, response_format, params)``; it is what the cache stores responses under.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from axon_lab.errors import ConfigError

__all__ = ["LLMRequest", "canonical_json", "request_key"]


def canonical_json(value: Any) -> str:
    """Serialise ``value`` to canonical JSON: sorted keys, compact separators, no NaN.

    Args:
        value: JSON-compatible data.

    Returns:
        The canonical JSON text.

    Raises:
        ConfigError: If ``value`` holds something JSON cannot represent (a set, NaN, an object).

    Examples:
        >>> canonical_json({"b": 1, "a": [1.5, "x"]})
        '{"a":[1.5,"x"],"b":1}'
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"LLM request data must be JSON-serialisable ({exc}); pass plain dicts, lists, "
            "strings, finite numbers, booleans and None."
        ) from exc


def request_key(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None = None,
    response_format: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> str:
    """The stable cache key of a request: sha256 of its canonical JSON.

    Args:
        model: Model name the request is sent to.
        messages: Chat messages.
        tools: OpenAI tool schemas, if any.
        response_format: The requested response format, if any.
        params: Sampling parameters (temperature, max_tokens, ...).

    Returns:
        A 64-character hex digest; equal requests give equal keys in every process.

    Examples:
        >>> k = request_key("m", [{"role": "user", "content": "hi"}], params={"temperature": 0})
        >>> k == request_key("m", [{"content": "hi", "role": "user"}], params={"temperature": 0})
        True
        >>> len(k)
        64
    """
    payload = {
        "model": model,
        "messages": list(messages),
        "tools": list(tools) if tools is not None else None,
        "response_format": response_format,
        "params": dict(params or {}),
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def _plain(value: Any) -> Any:
    # A JSON round trip deep-copies the caller's data and proves it is serialisable.
    return json.loads(canonical_json(value))


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMRequest:
    """One chat-completion request, independent of the model it is sent to.

    Attributes:
        messages: Chat messages in the OpenAI format (``{"role": ..., "content": ...}``).
        tools: OpenAI tool schemas (``{"type": "function", "function": {...}}``), or None.
        response_format: ``{"type": "json_schema", "json_schema": {...}}``,
            ``{"type": "json_object"}`` or None.
        params: Extra body parameters: ``temperature``, ``max_tokens``, ``seed``, ...

    Examples:
        >>> req = LLMRequest.build([{"role": "user", "content": "hi"}], temperature=0)
        >>> req.params
        {'temperature': 0}
    """

    messages: tuple[dict[str, Any], ...]
    tools: tuple[dict[str, Any], ...] | None = None
    response_format: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> LLMRequest:
        """Validate and deep-copy the parts of a request.

        Raises:
            ConfigError: If there are no messages, a message lacks a role, or a part is not
                JSON-serialisable.
        """
        if isinstance(messages, str | bytes):
            raise ConfigError(
                "messages must be a list of {'role': ..., 'content': ...} dicts, not a string; "
                "wrap it: [{'role': 'user', 'content': text}]"
            )
        msgs = tuple(_plain(dict(m)) for m in messages)
        if not msgs:
            raise ConfigError("messages is empty; pass at least one chat message.")
        for i, msg in enumerate(msgs):
            if msg.get("role") not in {"system", "user", "assistant", "tool", "developer"}:
                raise ConfigError(
                    f"messages[{i}] has role {msg.get('role')!r}; use one of 'system', 'user', "
                    "'assistant', 'tool', 'developer'."
                )
        return cls(
            messages=msgs,
            tools=tuple(_plain(dict(t)) for t in tools) if tools is not None else None,
            response_format=_plain(dict(response_format)) if response_format is not None else None,
            params=_plain(dict(params)),
        )

    def key(self, model: str) -> str:
        """The cache key of this request sent to ``model`` (see :func:`request_key`)."""
        return request_key(model, self.messages, self.tools, self.response_format, self.params)

    @property
    def tool_names(self) -> tuple[str, ...]:
        """Names of the offered tools, in order."""
        return tuple(str(t.get("function", {}).get("name", "")) for t in self.tools or ())
