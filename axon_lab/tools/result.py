"""What a tool call returns: a JSON string for the LLM and a typed :class:`ToolResult` for code.

Errors are answers too: bad arguments, an unknown symbol or a risk rejection come back as JSON
(``{"ok": false, "error": {...}}``) so a ReAct loop can read the message and try again. Code
that prefers exceptions calls :meth:`ToolResult.raise_for_error`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import FrozenInstanceError
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


_UNSET: Any = object()  # a deferred payload not built yet


def _built() -> dict[str, Any]:  # the _build of a result whose payload is already there
    raise AssertionError("unreachable: the payload is built")


_EMPTY: Any = object()  # no payload given: a new empty dict


class ToolResult:
    """The typed outcome of one tool call (immutable).

    Attributes:
        tool: The tool's name.
        ok: Whether the call succeeded.
        payload: The JSON object returned to the LLM.
        report: The risk chain's report, for trading operations that reached the chain.
        value: The typed value the payload was made from, where there is one (the
            :class:`~axon_lab.records.PortfolioSnapshot` of ``query_portfolio``), for code
            that reads the result in Python; it says nothing the payload does not.

    The payload may be built lazily (:meth:`deferred`): code that only reads :attr:`report`
    (the OADER Execute stage) never pays for the JSON object; the first read of :attr:`payload`
    or :attr:`text` builds it, once. Equality, ``repr`` and immutability are those of a frozen
    dataclass over ``(tool, ok, payload, report)``; ``value``, a typed view of the payload, is
    not compared.
    """

    __slots__ = ("_build", "_payload", "ok", "report", "tool", "value")
    __match_args__ = ("tool", "ok", "payload", "report")

    tool: str
    ok: bool
    report: ExecutionReport | None
    value: Any
    _payload: Any  # the payload, or _UNSET until _build makes it
    _build: Callable[[], dict[str, Any]]  # called only while _payload is _UNSET

    def __init__(
        self,
        *,
        tool: str,
        ok: bool,
        payload: dict[str, Any] = _EMPTY,
        report: ExecutionReport | None = None,
        value: Any = None,
    ) -> None:
        _set_tool(self, tool)
        _set_ok(self, ok)
        _set_payload(self, {} if payload is _EMPTY else payload)
        _set_build(self, _built)
        _set_report(self, report)
        _set_value(self, value)

    @classmethod
    def deferred(
        cls,
        *,
        tool: str,
        ok: bool,
        build: Callable[[], dict[str, Any]],
        report: ExecutionReport | None = None,
        value: Any = None,
    ) -> ToolResult:
        """A result whose payload ``build()`` makes on first read (``build`` must be pure)."""
        result = object.__new__(cls)
        _set_tool(result, tool)
        _set_ok(result, ok)
        _set_payload(result, _UNSET)
        _set_build(result, build)
        _set_report(result, report)
        _set_value(result, value)
        return result

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON object returned to the LLM."""
        payload: dict[str, Any] = self._payload
        if payload is _UNSET:
            payload = self._build()
            _set_payload(self, payload)
            _set_build(self, _built)  # drop the closure (and what it holds)
        return payload

    @property
    def text(self) -> str:
        """The payload as compact JSON (what :meth:`Tool.execute` returns)."""
        return _TEXT.encode(self.payload)

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

    # ------------------------------------------------------------ frozen-dataclass behaviour

    def _fields(self) -> tuple[Any, ...]:
        return (self.tool, self.ok, self.payload, self.report)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ToolResult) and other.__class__ is self.__class__:
            return self._fields() == other._fields()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())  # like the dataclass: a dict payload is unhashable

    def __repr__(self) -> str:
        return (
            f"{type(self).__qualname__}(tool={self.tool!r}, ok={self.ok!r}, "
            f"payload={self.payload!r}, report={self.report!r})"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:  # copy, deepcopy and pickle: payload built
        return (_rebuild, (self.tool, self.ok, self.payload, self.report, self.value))


# the slots, set directly (the class refuses attribute assignment: it is immutable)
_SLOTS: dict[str, Any] = {name: ToolResult.__dict__[name] for name in ToolResult.__slots__}
_set_tool = _SLOTS["tool"].__set__
_set_ok = _SLOTS["ok"].__set__
_set_report = _SLOTS["report"].__set__
_set_value = _SLOTS["value"].__set__
_set_payload = _SLOTS["_payload"].__set__
_set_build = _SLOTS["_build"].__set__
# what json.dumps(payload, separators=(",", ":"), allow_nan=False, default=str) uses
_TEXT = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=str)


def _rebuild(
    tool: str,
    ok: bool,
    payload: dict[str, Any],
    report: ExecutionReport | None,
    value: Any = None,
) -> ToolResult:
    return ToolResult(tool=tool, ok=ok, payload=payload, report=report, value=value)
