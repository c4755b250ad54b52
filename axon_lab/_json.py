"""Parsing JSON from outside (a server's body, a model's answer, a tool call) with a nesting cap.

The standard library's decoder recurses once per ``[`` or ``{``: ``"[" * 100_000`` raises
:class:`RecursionError`, which is not an axon_lab error, so one hostile answer could stop a run.
Neither ``json`` nor ``pydantic``'s parser (whose own limit raises its own error type at a depth
we cannot choose) offers a configurable depth limit, so every parse of outside text goes through
:func:`check_json_depth` first: a regex scan that skips string literals (their brackets are text)
and counts bracket nesting, stopping where the first value ends. It costs one pass over the
brackets and string tokens, far less than the parse itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

from axon_lab.errors import AxonError, LLMError

__all__ = ["MAX_JSON_DEPTH", "check_json_depth", "loads_bounded"]

MAX_JSON_DEPTH = 64
"""Deepest nesting accepted in outside JSON; real answers and tool calls nest a handful deep."""

# a string literal (escapes included, possibly unterminated at the end) or one bracket
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_OPEN = frozenset("[{")
_CLOSE = frozenset("]}")


def check_json_depth(
    text: str,
    start: int = 0,
    *,
    limit: int = MAX_JSON_DEPTH,
    what: str = "Outside text",
    error: type[AxonError] = LLMError,
) -> None:
    """Raise ``error`` if the JSON value starting at ``start`` nests deeper than ``limit``.

    The scan stops where the value's outermost bracket closes, so text after a value (prose after
    a model's JSON answer) does not count. Brackets inside string literals are skipped.

    Args:
        text: The text holding the JSON.
        start: Where the value starts.
        limit: The deepest nesting allowed.
        what: What the text is, for the message.
        error: The :class:`~axon_lab.errors.AxonError` subclass to raise.

    Raises:
        AxonError: ``error`` (an :class:`~axon_lab.errors.LLMError` unless told otherwise), naming
            the limit and where it was passed.

    Examples:
        >>> check_json_depth('{"a": [1, "[[[["]}', limit=2)
        >>> check_json_depth("[[[1]]]", limit=2)
        Traceback (most recent call last):
        ...
        axon_lab.errors.LLMError: Outside text: JSON nested deeper than 2 levels (at char 2) ...
    """
    if text.count("[", start) + text.count("{", start) <= limit:
        return  # fewer opening brackets than the limit: no nesting can pass it (C-speed count)
    depth = 0
    for match in _TOKEN.finditer(text, start):
        token = match.group()
        if token in _OPEN:
            depth += 1
            if depth > limit:
                raise error(
                    f"{what}: JSON nested deeper than {limit} levels (at char {match.start()}) "
                    "is refused rather than parsed; send flatter JSON."
                )
        elif token in _CLOSE:
            depth -= 1
            if depth <= 0:
                return
        elif depth == 0 and match.start() == start:
            return  # the value is a string: no nesting


def loads_bounded(
    text: str,
    *,
    limit: int = MAX_JSON_DEPTH,
    what: str = "Outside text",
    error: type[AxonError] = LLMError,
) -> Any:
    """``json.loads`` for outside text, after :func:`check_json_depth`.

    Raises:
        AxonError: ``error`` if the text nests too deep.
        json.JSONDecodeError: If the text is not JSON (callers word their own message).

    Examples:
        >>> loads_bounded('{"a": [1, 2]}')
        {'a': [1, 2]}
    """
    check_json_depth(text, len(text) - len(text.lstrip()), limit=limit, what=what, error=error)
    return json.loads(text)
