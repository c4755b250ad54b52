"""The request half of the seam: a frozen :class:`LLMRequest` and its stable cache key.

A request is what a caller hands to :meth:`LLMClient.complete`: chat messages in the OpenAI
format, optional OpenAI tool schemas, an optional ``response_format`` and sampling parameters. Its
key is the SHA-256 of the canonical JSON (sorted keys, no whitespace, no NaN) of ``(model,
messages, tools, response_format, params)``, plus the ``endpoint`` when one is given: the cache
stores responses under the key with the endpoint, so two servers never share answers.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from axon_lab.errors import ConfigError

__all__ = ["LLMRequest", "PreparedTools", "canonical_json", "request_key"]

_ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})


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
    *,
    endpoint: str | None = None,
) -> str:
    """The stable cache key of a request: sha256 of its canonical JSON.

    Args:
        model: Model name the request is sent to.
        messages: Chat messages.
        tools: OpenAI tool schemas, if any.
        response_format: The requested response format, if any.
        params: Sampling parameters (temperature, max_tokens, ...).
        endpoint: Where the request goes (a server's API root); part of the key unless None or
            "" (an in-process client, whose keys are as they were before endpoints counted).

    Returns:
        A 64-character hex digest; equal requests give equal keys in every process.

    Examples:
        >>> k = request_key("m", [{"role": "user", "content": "hi"}], params={"temperature": 0})
        >>> k == request_key("m", [{"content": "hi", "role": "user"}], params={"temperature": 0})
        True
        >>> len(k)
        64
    """
    payload: dict[str, Any] = {"endpoint": endpoint} if endpoint else {}
    payload |= {
        "model": model,
        "messages": list(messages),
        "tools": list(tools) if tools is not None else None,
        "response_format": response_format,
        "params": dict(params or {}),
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def _part(value: Any) -> tuple[Any, str]:
    """A deep copy of ``value`` and its canonical JSON (one serialisation for both)."""
    text = canonical_json(value)
    return json.loads(text), text


@functools.lru_cache(maxsize=256)
def _text_message(items: tuple[tuple[str, str], ...]) -> tuple[dict[str, str], str]:
    # A message whose values are all strings is fully described by its (immutable) items, so
    # its canonical JSON can be reused: a loop sends the same system prompt every step, and
    # re-serialising it was a large part of building a request. Its strings are immutable, so a
    # new dict of them is already the deep copy _part makes by parsing the text back.
    plain = dict(items)
    return plain, canonical_json(plain)


def _message(message: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    items = tuple(message.items())
    if all(type(k) is str and type(v) is str for k, v in items):
        plain, text = _text_message(items)
        return dict(plain), text  # a fresh dict: the cached one is never handed out
    return _part(dict(message))


class PreparedTools(tuple[dict[str, Any], ...]):
    """Tool schemas checked and serialised once, for reuse across requests.

    A caller that offers the same tools on every request (a ReAct loop) prepares them once;
    :meth:`LLMRequest.build` then takes them as they are.

    It is a tuple of the schemas, deep-copied with sorted keys as every request part is, so it
    goes wherever ``tools=`` does. Requests built from it share those dicts: treat them as
    read-only.

    Examples:
        >>> tools = PreparedTools([{"type": "function", "function": {"name": "f"}}])
        >>> req = LLMRequest.build([{"role": "user", "content": "hi"}], tools=tools)
        >>> req.tool_names, req.key("m") == request_key("m", req.messages, list(tools))
        (('f',), True)
    """

    texts: tuple[str, ...]

    def __new__(cls, tools: Sequence[Mapping[str, Any]]) -> PreparedTools:
        """Deep-copy ``tools`` and keep their canonical JSON.

        Raises:
            ConfigError: If a schema is not JSON-serialisable.
        """
        if isinstance(tools, str | bytes):
            raise ConfigError("tools must be a list of OpenAI tool schemas (dicts), not a string.")
        parts = [_part(dict(t)) for t in tools]
        self = super().__new__(cls, tuple(plain for plain, _ in parts))
        self.texts = tuple(text for _, text in parts)
        return self


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
    # The canonical JSON of each part, kept by build() so that key() joins texts instead of
    # serialising the request again; None for a request made without build().
    _texts: tuple[tuple[str, ...], tuple[str, ...] | None, str, str] | None = field(
        default=None, repr=False, compare=False
    )

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
        parts = [_message(m) for m in messages]
        if not parts:
            raise ConfigError("messages is empty; pass at least one chat message.")
        for i, (msg, _) in enumerate(parts):
            if msg.get("role") not in _ROLES:
                raise ConfigError(
                    f"messages[{i}] has role {msg.get('role')!r}; use one of 'system', 'user', "
                    "'assistant', 'tool', 'developer'."
                )
        if tools is None or isinstance(tools, PreparedTools):
            prepared = tools
        else:
            prepared = PreparedTools(tools)
        fmt, fmt_text = (
            _part(dict(response_format)) if response_format is not None else (None, "null")
        )
        plain_params, params_text = _part(dict(params))
        return cls(
            messages=tuple(m for m, _ in parts),
            tools=tuple(prepared) if prepared is not None else None,
            response_format=fmt,
            params=plain_params,
            _texts=(
                tuple(t for _, t in parts),
                prepared.texts if prepared is not None else None,
                fmt_text,
                params_text,
            ),
        )

    def key(self, model: str, *, endpoint: str | None = None) -> str:
        """The cache key of this request for ``model`` at ``endpoint`` (see :func:`request_key`)."""
        if self._texts is None:
            return request_key(
                model,
                self.messages,
                self.tools,
                self.response_format,
                self.params,
                endpoint=endpoint,
            )
        messages, tools, fmt, params = self._texts
        # exactly canonical_json(payload) of request_key: its keys in sorted order, each value
        # the canonical JSON already computed (json.dumps composes: a dict's text is its keys'
        # texts and its values' texts, joined)
        tools_text = "null" if tools is None else "[" + ",".join(tools) + "]"
        head = '{"endpoint":' + canonical_json(endpoint) + "," if endpoint else "{"
        text = (
            head + '"messages":[' + ",".join(messages) + '],"model":' + canonical_json(model)
            + ',"params":' + params + ',"response_format":' + fmt + ',"tools":' + tools_text + "}"
        )  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def tool_names(self) -> tuple[str, ...]:
        """Names of the offered tools, in order."""
        return tuple(str(t.get("function", {}).get("name", "")) for t in self.tools or ())
