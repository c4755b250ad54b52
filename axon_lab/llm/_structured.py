"""Structured output: how a JSON schema is asked for, depending on what the server supports.

Servers differ. OpenAI and vLLM accept ``response_format={"type": "json_schema", ...}``;
llama.cpp's Python server refuses that but accepts ``{"type": "json_object", "schema": ...}``;
some accept neither, and then the schema goes into the prompt and the answer is parsed. The
:class:`StructuredMode` ladder is tried top-down; :class:`~axon_lab.llm.OpenAICompatClient` steps
down on a 400/422 that names the response format and remembers the mode that worked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from axon_lab.errors import ConfigError

__all__ = ["StructuredMode", "json_schema_format", "apply_structured_mode", "schema_of"]


class StructuredMode(StrEnum):
    """How structured output is requested, strongest first."""

    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"
    PROMPT = "prompt"

    def fallback(self) -> StructuredMode | None:
        """The next weaker mode, or None at the bottom of the ladder."""
        order = list(StructuredMode)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


def json_schema_format(
    schema: Mapping[str, Any], *, name: str = "response", strict: bool = True
) -> dict[str, Any]:
    """Build an OpenAI ``response_format`` asking for JSON that matches ``schema``.

    Examples:
        >>> fmt = json_schema_format({"type": "object"}, name="analysis")
        >>> fmt["type"], fmt["json_schema"]["name"]
        ('json_schema', 'analysis')
    """
    if not isinstance(schema, Mapping):
        raise ConfigError(f"schema must be a JSON-schema dict, got {type(schema).__name__}.")
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": dict(schema), "strict": strict},
    }


def schema_of(response_format: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON schema inside a ``response_format``, if it carries one."""
    kind = response_format.get("type")
    if kind == "json_schema":
        inner = response_format.get("json_schema") or {}
        schema = inner.get("schema")
        return dict(schema) if isinstance(schema, Mapping) else None
    if kind == "json_object":
        schema = response_format.get("schema")
        return dict(schema) if isinstance(schema, Mapping) else None
    return None


def _prompt_instruction(schema: dict[str, Any] | None) -> str:
    if schema is None:
        return "Respond with a single JSON object and nothing else."
    return (
        "Respond with a single JSON object and nothing else. It must match this JSON schema:\n"
        + json.dumps(schema, sort_keys=True)
    )


def apply_structured_mode(
    messages: list[dict[str, Any]],
    response_format: Mapping[str, Any] | None,
    mode: StructuredMode,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Rewrite a request's messages and response format for ``mode``.

    Args:
        messages: Chat messages (not modified).
        response_format: What the caller asked for.
        mode: What the server is believed to support.

    Returns:
        ``(messages, response_format)`` to send.

    Examples:
        >>> fmt = json_schema_format({"type": "object"})
        >>> _, sent = apply_structured_mode([], fmt, StructuredMode.JSON_OBJECT)
        >>> sent
        {'type': 'json_object', 'schema': {'type': 'object'}}
        >>> msgs, sent = apply_structured_mode(
        ...     [{"role": "user", "content": "hi"}], fmt, StructuredMode.PROMPT)
        >>> sent is None, msgs[0]["role"]
        (True, 'system')
    """
    if response_format is None or response_format.get("type") not in {
        "json_schema",
        "json_object",
    }:
        return messages, dict(response_format) if response_format is not None else None
    schema = schema_of(response_format)
    if mode is StructuredMode.JSON_SCHEMA:
        return messages, dict(response_format)
    if mode is StructuredMode.JSON_OBJECT:
        fmt: dict[str, Any] = {"type": "json_object"}
        if schema is not None:
            fmt["schema"] = schema
        return messages, fmt
    instruction = _prompt_instruction(schema)
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system" and isinstance(out[0].get("content"), str):
        out[0]["content"] = f"{out[0]['content']}\n\n{instruction}"
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out, None


def names_response_format(status: int, body: str) -> bool:
    """Whether an HTTP error says the server does not support the requested response format.

    A 400 or 422 that names ``response_format``/``json_schema`` qualifies. So does a 500 that
    names ``response_format`` in a validation message: llama.cpp's Python server reports its
    refusal of ``json_schema`` that way.

    Examples:
        >>> names_response_format(400, "response_format type json_schema is not supported")
        True
        >>> names_response_format(500, "Input should be 'text' ('response_format')")
        True
        >>> names_response_format(500, "CUDA out of memory")
        False
    """
    text = body.lower()
    if status in (400, 422):
        return any(word in text for word in ("response_format", "json_schema", "response format"))
    if status == 500:
        return "response_format" in text and any(
            word in text for word in ("input should be", "validation", "not supported")
        )
    return False
