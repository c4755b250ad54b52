"""Finding the JSON object in a model's answer: raw JSON, a fenced block, or JSON then prose."""

from __future__ import annotations

import json
import re
from typing import Any

from axon_lab._json import MAX_JSON_DEPTH, check_json_depth
from axon_lab.errors import LLMOutputError

__all__ = ["extract_json_object"]

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n?(.*?)```", re.DOTALL)
_MAX_STARTS = 64  # how many '{' positions to try before giving up


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def _try(text: str, start: int = 0, too_deep: list[int] | None = None) -> dict[str, Any] | None:
    try:
        check_json_depth(text, start, error=LLMOutputError)
        value, _ = _DECODER.raw_decode(text, start)
    except LLMOutputError:
        if too_deep is not None:
            too_deep.append(start)
        return None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def extract_json_object(text: str) -> dict[str, Any]:
    r"""Return the first JSON object in ``text``.

    Tries, in order: the whole text, each fenced code block, then each ``{`` from the left (so
    prose before or after the object is ignored). ``NaN`` and ``Infinity`` are rejected, and so is
    JSON nested deeper than :data:`MAX_JSON_DEPTH` levels (the standard decoder would raise
    ``RecursionError`` on a hostile ``"[" * 100_000``).

    Raises:
        LLMOutputError: If no JSON object can be found (or the only ones nest too deep); the
            message quotes the start of the text.

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
    too_deep: list[int] = []
    found = _try(stripped, 0, too_deep)
    if found is not None:
        return found
    for block in _FENCE.findall(stripped):
        found = _try(block.strip(), 0, too_deep)
        if found is not None:
            return found
    start = stripped.find("{")
    tries = 0
    while start != -1 and tries < _MAX_STARTS:
        found = _try(stripped, start, too_deep)
        if found is not None:
            return found
        start = stripped.find("{", start + 1)
        tries += 1
    why = f" (JSON there nests deeper than {MAX_JSON_DEPTH} levels)" if too_deep else ""
    raise LLMOutputError(f"No JSON object found in the answer{why}: {stripped[:200]!r}.")
