"""ToolRegistry: a named set of tools, their OpenAI tool definitions and a plain-text listing.

Examples:
    >>> from axon_lab.backends import MockTradingBackend
    >>> from axon_lab.tools import make_trading_tools
    >>> tools = make_trading_tools(MockTradingBackend({"X": 10.0}, cash=100.0))
    >>> tools.names
    ('place_order', 'query_portfolio', 'cancel_order', 'replace_order')
    >>> spec = tools.openai_tools()[0]
    >>> spec["type"], spec["function"]["name"], spec["function"]["parameters"]["required"]
    ('function', 'place_order', ['symbol', 'side', 'quantity'])
    >>> tools.execute("place_order", '{"symbol": "X", "side": "buy", "quantity": -1}')[:60]
    '{"ok":false,"error":{"type":"invalid_arguments","message":"I'
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from axon_lab.errors import ConfigError, ToolError

from .base import Tool
from .result import error_payload

__all__ = ["ToolRegistry"]

_JSON_TYPES = {"number": "number", "integer": "integer", "string": "string", "boolean": "boolean"}


def _type_label(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " | ".join(repr(v) for v in prop["enum"])
    if "anyOf" in prop:
        return " | ".join(_type_label(p) for p in prop["anyOf"])
    kind = prop.get("type", "any")
    return "null" if kind == "null" else _JSON_TYPES.get(kind, str(kind))


class ToolRegistry:
    """Tools by name; emits OpenAI tool definitions and dispatches JSON calls.

    Args:
        tools: The tools; names must be unique.
    """

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        """Add a tool.

        Raises:
            ConfigError: If a tool of that name is already registered.
        """
        if tool.name in self._tools:
            raise ConfigError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    @property
    def names(self) -> tuple[str, ...]:
        """Tool names in registration order."""
        return tuple(self._tools)

    def get(self, name: str) -> Tool:
        """The tool called ``name``.

        Raises:
            ToolError: If there is none (the message suggests a close name).
        """
        try:
            return self._tools[name]
        except KeyError:
            raise ToolError(self._unknown(name)) from None

    def _unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, self._tools, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"Unknown tool {name!r}; available tools: {', '.join(self._tools)}.{hint}"

    def __getitem__(self, name: str) -> Tool:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def openai_tools(self) -> list[dict[str, Any]]:
        """Tool definitions in the OpenAI chat-completions ``tools`` format."""
        return [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters_schema(),
                },
            }
            for tool in self
        ]

    def describe(self) -> str:
        """A plain-text listing of the tools and their arguments, for prompts without tool use."""
        blocks = []
        for tool in self:
            schema = tool.parameters_schema()
            required = set(schema.get("required", ()))
            lines = [f"{tool.name}: {tool.description}"]
            for arg, prop in schema.get("properties", {}).items():
                need = (
                    "required" if arg in required else f"optional, default {prop.get('default')!r}"
                )
                desc = prop.get("description", "")
                lines.append(f"  - {arg} ({_type_label(prop)}; {need}) {desc}".rstrip())
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    async def aexecute(self, name: str, args: str) -> str:
        """Call tool ``name`` with JSON ``args``; unknown names give a JSON error too."""
        tool = self._tools.get(name)
        if tool is None:
            return _dumps(error_payload("unknown_tool", self._unknown(name)))
        return await tool.aexecute(args)

    def execute(self, name: str, args: str) -> str:
        """Blocking :meth:`aexecute`."""
        tool = self._tools.get(name)
        if tool is None:
            return _dumps(error_payload("unknown_tool", self._unknown(name)))
        return tool.execute(args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._tools)})"


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))
