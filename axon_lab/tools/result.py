"""What a tool call returns: a JSON string for the LLM and a typed :class:`ToolResult` for code.

Errors are answers too: bad arguments, an unknown symbol or a risk rejection come back as JSON
(``{"ok": false, "error": {...}}``) so a ReAct loop can read the message and try again. Code
that prefers exceptions calls :meth:`ToolResult.raise_for_error`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from axon_lab.errors import ToolError
from axon_lab.risk.report import ExecutionReport

__all__ = ["ToolArgumentError", "ToolResult", "error_payload"]


class ToolArgumentError(ToolError):
    """A tool call's arguments are invalid; ``details`` lists each problem for the LLM.

    Args:
        message: What is wrong and how to fix it.
        kind: Machine-readable error type, e.g. ``"invalid_arguments"``.
        details: One mapping per problem (``field``, ``problem``, ``got``).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "invalid_arguments",
        details: tuple[dict[str, Any], ...] = (),
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.details = details


def error_payload(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON object of a failed call: ``{"ok": false, "error": {"type", "message", ...}}``."""
    return {"ok": False, "error": {"type": kind, "message": message, **extra}}


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The typed outcome of one tool call (immutable).

    Attributes:
        tool: The tool's name.
        ok: Whether the call succeeded.
        payload: The JSON object returned to the LLM.
        report: The risk chain's report, for trading operations that reached the chain.
        value: The typed value the payload was made from, where there is one (the
            :class:`~axon_lab.records.PortfolioSnapshot` of ``query_portfolio``), for code
            that reads the result in Python; it says nothing the payload does not, and is not
            compared.
    """

    tool: str
    ok: bool
    payload: dict[str, Any] = field(default_factory=dict)
    report: ExecutionReport | None = None
    value: Any = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        """The payload as compact JSON (what :meth:`Tool.execute` returns)."""
        return json.dumps(self.payload, separators=(",", ":"), allow_nan=False, default=str)

    @property
    def error(self) -> dict[str, Any] | None:
        """The payload's ``error`` object, or None on success."""
        err = self.payload.get("error")
        return err if isinstance(err, dict) else None

    def raise_for_error(self) -> ToolResult:
        """Return self on success; raise :class:`~axon_lab.errors.ToolError` on failure.

        Raises:
            ToolError: With the error's message, if the call failed.
        """
        if self.ok:
            return self
        err = self.error or {}
        raise ToolError(f"{self.tool}: {err.get('type', 'error')}: {err.get('message', '')}")

    @classmethod
    def failure(cls, tool: str, kind: str, message: str, **extra: Any) -> ToolResult:
        """A failed result carrying :func:`error_payload`."""
        return cls(tool=tool, ok=False, payload=error_payload(kind, message, **extra))
