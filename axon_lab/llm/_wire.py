"""Decoding a chat-completions HTTP body into an :class:`LLMResponse`, with specific errors.

The body is decoded by hand rather than by the SDK's models so that every way a server can go wrong
gets its own message: invalid UTF-8, an HTML page (a proxy or a wrong ``base_url``), truncated JSON,
an empty ``choices`` list, a message without content or tool calls.
"""

from __future__ import annotations

import json
from typing import Any

from axon_lab._json import loads_bounded
from axon_lab.errors import LLMResponseError, RecordError
from axon_lab.llm._response import LLMResponse, Usage
from axon_lab.records import ToolCall

__all__ = ["parse_chat_completion"]

_SNIPPET = 120


def _snippet(text: str, at: int = 0) -> str:
    start = max(at - _SNIPPET // 2, 0)
    return text[start : start + _SNIPPET]


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        near = body[max(exc.start - 20, 0) : exc.start + 20]
        raise LLMResponseError(
            f"The server's response is not valid UTF-8 (byte {exc.start}: {near!r}). "
            "The server or a proxy is corrupting the body; check its encoding settings."
        ) from None


def _load(text: str, content_type: str) -> dict[str, Any]:
    stripped = text.lstrip()
    if "html" in content_type.lower() or stripped[:15].lower().startswith(("<!doctype", "<html")):
        raise LLMResponseError(
            f"The server answered with an HTML page, not JSON ({_snippet(stripped)!r}). "
            "base_url probably points at a web page or a proxy; use the API root, e.g. "
            "'http://127.0.0.1:8080/v1'."
        )
    try:
        data = loads_bounded(text, what="The server's response", error=LLMResponseError)
    except json.JSONDecodeError as exc:
        raise LLMResponseError(
            f"The server's response is not valid JSON ({exc.msg} at char {exc.pos} of "
            f"{len(text)}; near {_snippet(text, exc.pos)!r}). The body was probably cut off."
        ) from None
    if not isinstance(data, dict):
        raise LLMResponseError(
            f"Expected a JSON object with 'choices', got {type(data).__name__}: {_snippet(text)!r}."
        )
    return data


def _tool_calls(message: dict[str, Any]) -> tuple[ToolCall, ...]:
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise LLMResponseError(f"message.tool_calls must be a list, got {raw_calls!r}.")
    calls = []
    for i, tc in enumerate(raw_calls):
        fn = tc.get("function") if isinstance(tc, dict) else None
        if not isinstance(fn, dict):
            raise LLMResponseError(f"tool_calls[{i}] has no 'function' object: {tc!r}.")
        args = fn.get("arguments", "{}")
        if not isinstance(args, str):  # some servers send an object; keep the wire format
            args = json.dumps(args)
        try:
            call = ToolCall(name=str(fn.get("name") or ""), arguments=args, call_id=tc.get("id"))
        except RecordError as exc:
            raise LLMResponseError(f"tool_calls[{i}] is malformed: {exc}") from None
        calls.append(call)
    return tuple(calls)


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def parse_chat_completion(
    body: bytes, *, content_type: str = "application/json", requested_model: str
) -> LLMResponse:
    """Parse a chat-completions response body.

    Args:
        body: The raw HTTP body.
        content_type: The response's ``Content-Type`` header.
        requested_model: The model asked for, used when the body names none.

    Returns:
        The response (latency and request hash are stamped by the caller).

    Raises:
        LLMResponseError: If the body is not a usable chat completion; the message says why.

    Examples:
        >>> body = b'{"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}'
        >>> parse_chat_completion(body, requested_model="m").text
        'hi'
        >>> parse_chat_completion(b'{"choices": []}', requested_model="m")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        axon_lab.errors.LLMResponseError: The server returned an empty 'choices' list ...
    """
    text = _decode(body)
    data = _load(text, content_type)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise LLMResponseError(
            f"The server returned an empty 'choices' list (body: {_snippet(text)!r}); the "
            "model produced nothing. Retry, or check the prompt and max_tokens."
        )
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise LLMResponseError(f"choices[0] has no 'message' object: {_snippet(text)!r}.")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise LLMResponseError(f"message.content must be a string, got {content!r}.")
    raw_usage = data.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    finish = choice.get("finish_reason")
    return LLMResponse(
        text=content or "",
        tool_calls=_tool_calls(message),
        usage=Usage(
            prompt_tokens=_count(usage, "prompt_tokens"),
            completion_tokens=_count(usage, "completion_tokens"),
        ),
        model=str(data.get("model") or requested_model),
        finish_reason=str(finish) if finish is not None else None,
        raw=text,
    )
