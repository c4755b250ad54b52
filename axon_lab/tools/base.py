"""The Tool protocol and the base class trading and data tools are built on.

A tool takes a JSON string and returns a JSON string — exactly what an LLM tool call carries —
with an async twin, and code calls the same tool with its typed argument model
(:meth:`BaseTool.acall`), so an LLM's tool call and a rules decision share one argument model and
one path through the checks. :class:`BaseTool` does the bookkeeping: it parses and validates the
arguments against a pydantic model (unknown fields, wrong types, NaN/inf and out-of-range values
become an error the LLM can act on), runs :meth:`BaseTool._validate` for checks that need live state
(an unknown symbol), calls the one abstract :meth:`BaseTool._arun`, turns any exception into a
JSON error, and keeps the typed :attr:`BaseTool.last_result`.
"""

from __future__ import annotations

import difflib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from axon_lab.backends.sync import run_sync

from .result import ToolArgumentError, ToolResult

__all__ = ["BaseTool", "Tool", "ToolArgs", "check_symbol", "json_schema"]


class ToolArgs(BaseModel):
    """Base of argument models: strict types, no unknown fields, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


ArgsT = TypeVar("ArgsT", bound=ToolArgs)


@runtime_checkable
class Tool(Protocol):
    """What a registry and an LLM loop consume."""

    @property
    def name(self) -> str:
        """The function name the LLM calls."""
        ...

    @property
    def description(self) -> str:
        """What the tool does, for the LLM."""
        ...

    def parameters_schema(self) -> dict[str, Any]:
        """The JSON Schema of the arguments object."""
        ...

    def execute(self, args: str) -> str:
        """Run with JSON arguments; return a JSON result (errors included)."""
        ...

    async def aexecute(self, args: str) -> str:
        """Async twin of :meth:`execute`."""
        ...


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            merged = {**_inline(defs[ref.removeprefix("#/$defs/")], defs)}
            merged.update({k: _inline(v, defs) for k, v in node.items() if k != "$ref"})
            return merged
        return {k: _inline(v, defs) for k, v in node.items() if k not in ("title", "$defs")}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with ``$defs`` inlined and titles dropped (OpenAI-friendly)."""
    raw = model.model_json_schema()
    schema: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    schema.setdefault("properties", {})
    return schema


def _describe_errors(exc: ValidationError, model: type[BaseModel]) -> ToolArgumentError:
    fields = sorted(model.model_fields)
    details: list[dict[str, Any]] = []
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        got = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(loc, fields, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problem = f"unknown field {loc!r}; allowed fields: {', '.join(fields)}.{hint}"
        elif err["type"] == "missing":
            problem = f"{loc!r} is required"
        elif err["type"] == "model_type" and not loc:
            problem = f"arguments must be a JSON object like {{...}}, got {got!r}"
        elif not loc:
            problem = msg
        else:
            problem = f"{loc!r}: {msg} (got {json.dumps(got, default=str)})"
        details.append({"field": loc or None, "problem": problem})
        lines.append(problem)
    return ToolArgumentError(
        "Invalid arguments: " + "; ".join(lines) + ". Fix them and call again.",
        details=tuple(details),
    )


def check_symbol(symbol: str, known: Iterable[str]) -> None:
    """Raise an LLM-actionable error unless ``symbol`` is in ``known``.

    Raises:
        ToolArgumentError: With kind ``"unknown_symbol"`` and a close match, if any.
    """
    if isinstance(known, (frozenset, set)) and symbol in known:  # as `in names` below
        return
    names = sorted(known)
    if symbol in names:
        return
    close = difflib.get_close_matches(symbol, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ToolArgumentError(
        f"Unknown symbol {symbol!r}; tradable symbols: {', '.join(names)}.{hint}",
        kind="unknown_symbol",
        details=({"field": "symbol", "problem": "unknown symbol", "got": symbol},),
    )


class BaseTool(ABC, Generic[ArgsT]):
    """JSON in, JSON out; subclasses set ``name``, ``description``, ``args_model``, ``_arun``."""

    name: ClassVar[str]
    description: ClassVar[str]
    args_model: ClassVar[type[ToolArgs]]

    def __init__(self) -> None:
        self.last_result: ToolResult | None = None

    def parameters_schema(self) -> dict[str, Any]:
        """The JSON Schema of the arguments object."""
        return json_schema(self.args_model)

    def parse_args(self, args: str) -> ArgsT:
        """Parse and validate a JSON argument string against the argument model.

        The live-state checks (:meth:`_validate`) run when the arguments are used
        (:meth:`acall`).

        Raises:
            ToolArgumentError: What is wrong with the arguments and how to fix it.
        """
        text = args.strip() or "{}"
        try:
            parsed = self.args_model.model_validate_json(text)
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                fields = ", ".join(repr(f) + ": ..." for f in self.args_model.model_fields)
                raise ToolArgumentError(
                    f"Arguments are not valid JSON ({args[:200]!r}); send a JSON object, "
                    f"e.g. {{{fields}}}.",
                    kind="invalid_json",
                ) from None
            raise _describe_errors(exc, self.args_model) from None
        return parsed  # type: ignore[return-value]

    def _validate(self, args: ArgsT) -> None:
        """Checks that need live state (e.g. known symbols); raise ToolArgumentError."""

    @abstractmethod
    async def _arun(self, args: ArgsT) -> ToolResult:
        """Do the work for validated ``args``."""

    async def acall(self, args: ArgsT) -> ToolResult:
        """Run with typed arguments (code's entry; an LLM's JSON goes through :meth:`arun`).

        The same live-state checks run, and a failure is a result, never an exception.
        """
        try:
            self._validate(args)
        except ToolArgumentError as exc:
            result = ToolResult.failure(self.name, exc.kind, str(exc), details=list(exc.details))
        else:
            try:
                result = await self._arun(args)
            except Exception as exc:  # an LLM loop needs an answer it can read, not a crash
                result = ToolResult.failure(
                    self.name,
                    "execution_failed",
                    f"{self.name} failed: {type(exc).__name__}: {exc}",
                )
        self.last_result = result
        return result

    async def arun(self, args: str) -> ToolResult:
        """Run with JSON arguments and return the typed result (never raises for bad input)."""
        try:
            parsed = self.parse_args(args)
        except ToolArgumentError as exc:
            result = ToolResult.failure(self.name, exc.kind, str(exc), details=list(exc.details))
            self.last_result = result
            return result
        return await self.acall(parsed)

    def run(self, args: str) -> ToolResult:
        """Blocking :meth:`arun` (works inside a running event loop too)."""
        return run_sync(self.arun(args))

    async def aexecute(self, args: str) -> str:
        """Run with JSON arguments; return the JSON result."""
        return (await self.arun(args)).text

    def execute(self, args: str) -> str:
        """Blocking :meth:`aexecute`."""
        return self.run(args).text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
