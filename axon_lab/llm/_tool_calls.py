"""Checking a model's tool call against the offered tools before anything executes it."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from axon_lab._json import loads_bounded
from axon_lab._text import MAX_ECHO_CHARS
from axon_lab.errors import LLMToolCallError
from axon_lab.records import ToolCall

__all__ = ["MAX_TOOL_ARGUMENT_CHARS", "check_tool_call"]

MAX_TOOL_ARGUMENT_CHARS = MAX_ECHO_CHARS
"""Longest argument string a tool call may have (real calls are a few dozen characters)."""


def _by_name(tools: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for tool in tools:
        fn = tool.get("function", tool)
        out[str(fn.get("name", ""))] = fn
    return out


def check_tool_call(call: ToolCall, tools: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Validate ``call`` against OpenAI tool schemas and return its parsed arguments.

    Checks that the tool exists, that the arguments are a JSON object of at most
    :data:`MAX_TOOL_ARGUMENT_CHARS` characters nested at most 64 deep, and that the schema's
    required parameters are present (deeper validation is the tool's own job).

    Args:
        call: The tool call as the model emitted it.
        tools: The OpenAI tool schemas offered in the request.

    Returns:
        The arguments as a dict.

    Raises:
        LLMToolCallError: Naming the tool, the problem and the fix; a loop should record it as the
            step's observation and let the model try again.

    Examples:
        >>> tools = [{"type": "function", "function": {"name": "get_price",
        ...     "parameters": {"type": "object", "required": ["symbol"]}}}]
        >>> check_tool_call(ToolCall(name="get_price", arguments='{"symbol": "BTC"}'), tools)
        {'symbol': 'BTC'}
        >>> check_tool_call(ToolCall(name="get_prices", arguments="{}"), tools)
        Traceback (most recent call last):
        ...
        axon_lab.errors.LLMToolCallError: Unknown tool 'get_prices'. Did you mean 'get_price'?
    """
    known = _by_name(tools)
    spec = known.get(call.name)
    if spec is None:
        close = difflib.get_close_matches(call.name, list(known), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else f" Available: {sorted(known)}."
        raise LLMToolCallError(f"Unknown tool {call.name!r}.{hint}")
    if len(call.arguments) > MAX_TOOL_ARGUMENT_CHARS:
        raise LLMToolCallError(
            f"Tool {call.name!r} got {len(call.arguments):,} characters of arguments; the cap is "
            f"{MAX_TOOL_ARGUMENT_CHARS:,}. Send only the parameters the tool takes."
        )
    try:
        args = loads_bounded(
            call.arguments or "{}",
            what=f"The arguments of tool {call.name!r}",
            error=LLMToolCallError,
        )
    except json.JSONDecodeError as exc:
        raise LLMToolCallError(
            f"Tool {call.name!r} got arguments that are not valid JSON ({exc.msg} at char "
            f"{exc.pos}): {call.arguments[:200]!r}. Send a JSON object."
        ) from None
    if not isinstance(args, dict):
        raise LLMToolCallError(
            f"Tool {call.name!r} needs a JSON object of arguments, got {type(args).__name__}: "
            f"{call.arguments[:200]!r}."
        )
    required = (spec.get("parameters") or {}).get("required") or ()
    missing = [name for name in required if name not in args]
    if missing:
        raise LLMToolCallError(f"Tool {call.name!r} is missing required arguments {missing}.")
    return args
