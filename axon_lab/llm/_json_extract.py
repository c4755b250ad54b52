"""Finding the JSON object in a model's answer: raw JSON, a fenced block, or JSON then prose."""

from __future__ import annotations

import json
import re
from typing import Any

from axon_lab.errors import LLMOutputError

__all__ = ["extract_json_object"]

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n?(.*?)```", re.DOTALL)
_MAX_STARTS = 64  # how many '{' positions to try before giving up


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def _try(text: str, start: int = 0) -> dict[str, Any] | None:
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def extract_json_object(text: str) -> dict[str, Any]:
    r"""Return the first JSON object in ``text``.

    Tries, in order: the whole text, each fenced code block, then each ``{`` from the left (so
    prose before or after the object is ignored). ``NaN`` and ``Infinity`` are rejected.

    Raises:
        LLMOutputError: If no JSON object can be found; the message quotes the start of the text.

    Examples:
        >>> extract_json_object('Sure! ```json\n{"a": 1}\n``` Hope it helps.')
        {'a': 1}
        >>> extract_json_object('{"a": [1, 2]} That is my answer.')
        {'a': [1, 2]}
        >>> extract_json_object("no json here")
        Traceback (most recent call last):
        ...
        axon_lab.errors.LLMOutputError: No JSON object found in the answer: 'no json here'.
    """
    stripped = text.strip()
    found = _try(stripped)
    if found is not None:
        return found
    for block in _FENCE.findall(stripped):
        found = _try(block.strip())
        if found is not None:
            return found
    start = stripped.find("{")
    tries = 0
    while start != -1 and tries < _MAX_STARTS:
        found = _try(stripped, start)
        if found is not None:
            return found
        start = stripped.find("{", start + 1)
        tries += 1
    raise LLMOutputError(f"No JSON object found in the answer: {stripped[:200]!r}.")
