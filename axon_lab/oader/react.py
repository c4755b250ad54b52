"""Analyze with an LLM: :class:`ReActAnalyzer`, a bounded Thought -> Action -> Observation loop.

Each turn the model sees the system prompt (the JSON contract and the tools), the rendered
observation and every earlier turn. It may call tools up to ``max_iterations`` times:

* each tool call is checked against the offered schemas (:func:`~axon_lab.llm.check_tool_call`);
  an unknown tool or arguments that are not a JSON object become the turn's observation — a JSON
  error telling the model what was wrong — and the loop goes on;
* every tool result passes the :class:`~axon_lab.llm.InputGuard` (normalised, capped, injections
  filtered, wrapped in ``<untrusted_data>``) before it re-enters the prompt;
* each turn is recorded as a :class:`~axon_lab.records.ReasoningStep` (the model's text as the
  thought, the :class:`~axon_lab.records.ToolCall`, the guarded result).

When the model answers without a tool call, the answer is validated as an
:class:`~axon_lab.records.Analysis`; an invalid answer gets one repair request, then the step
abstains (``source=abstain``, raw text kept). When the tool budget is spent the model is asked for
its final answer (validated the same way). Every :class:`~axon_lab.records.LLMCall` is kept.

Only read-only tools (market data, portfolio) are offered by default: orders are the Execute
stage's job, after the Decide stage and through the risk chain.

Bounds: ``deadline_s`` caps a step's time (checked before each call; each call is bounded by its
client's own per-attempt deadline), a failed call is recorded like any other (with its attempts),
and the model's text echoed into later turns is clipped (a marked cut) so a huge answer cannot
make every following request huge.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from axon_lab._text import MAX_ECHO_CHARS, MAX_ERROR_CHARS, clip
from axon_lab.errors import (
    BudgetExceededError,
    CacheMissError,
    ConfigError,
    LLMError,
    LLMOutputError,
)
from axon_lab.llm import (
    AnalysisContract,
    InputGuard,
    LLMClient,
    PreparedTools,
    SystemPrompt,
    abstain,
    check_tool_call,
    complete_analysis,
    failed_llm_call,
    parse_analysis,
)
from axon_lab.records import (
    Analysis,
    AnalysisSource,
    LLMCall,
    Observation,
    ReasoningStep,
    ToolCall,
)
from axon_lab.tools.registry import ToolRegistry

from .prompts import render_observation
from .stages import is_driven_inline, run_blocking

__all__ = ["DEFAULT_READ_TOOLS", "ReActAnalyzer"]

DEFAULT_READ_TOOLS = ("get_market_data", "query_portfolio")
"""The tools an analyst is offered unless told otherwise."""


def _repair(problems: str, contract: AnalysisContract) -> dict[str, Any]:
    return {
        "role": "user",
        "content": (
            f"Your answer was rejected: {clip(problems, MAX_ERROR_CHARS)} Reply with only the JSON "
            "object (keys thought, "
            "market_assessment, risk_assessment, confidence, action, reason). If confidence is "
            f"below {contract.min_confidence:g}, action must be 'hold'."
        ),
    }


_FINAL = {
    "role": "user",
    "content": (
        "The tool budget is spent. Answer now with only the JSON object described in the system "
        "prompt."
    ),
}


class ReActAnalyzer:
    """The Analyze stage with an LLM: bounded ReAct over the tool registry.

    Args:
        client: Any :class:`~axon_lab.llm.LLMClient` (wrap it in ``CachedClient`` to replay).
        tools: The registry tools are looked up in.
        tool_names: The tools offered to the model (default: :data:`DEFAULT_READ_TOOLS` that the
            registry has).
        prompt: The system prompt (default: :class:`~axon_lab.llm.SystemPrompt`).
        max_iterations: Most model turns that may call tools.
        guard: The input guard for tool results.
        render: Observation -> user message text.
        structured: Ask for the contract's JSON schema on forced final answers.
        deadline_s: Most seconds a step may spend (checked before each LLM call); past it the
            step abstains, keeping the calls made. None: no step deadline.
        **params: Passed to every ``client.complete`` call (``temperature``, ``max_tokens``...).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from axon_lab.backends import MockTradingBackend
        >>> from axon_lab.llm import ScriptedClient, make_response
        >>> from axon_lab.records import Observation, PortfolioSnapshot, ToolCall
        >>> from axon_lab.tools import make_trading_tools
        >>> t = datetime(2024, 1, 2, tzinfo=timezone.utc)
        >>> obs = Observation(timestamp=t, symbols=("X",), timeframe="1d", bars={"X": ()},
        ...                   portfolio=PortfolioSnapshot.build(timestamp=t, cash=100.0))
        >>> answer = ('{"thought": "flat book", "market_assessment": "range", '
        ...           '"risk_assessment": "low", "confidence": 0.4, "action": "hold", '
        ...           '"reason": "no edge"}')
        >>> client = ScriptedClient([
        ...     make_response(tool_calls=[ToolCall(name="query_portfolio", arguments="{}",
        ...                                        call_id="c1")]),
        ...     answer,
        ... ])
        >>> tools = make_trading_tools(MockTradingBackend({"X": 10.0}, cash=100.0))
        >>> analysis = ReActAnalyzer(client, tools)(obs)
        >>> analysis.source.value, analysis.action.value, len(analysis.llm_calls)
        ('llm', 'hold', 2)
        >>> step = analysis.reasoning_steps[0]
        >>> step.action.name, step.observation.startswith("<untrusted_data")
        ('query_portfolio', True)
    """

    def __init__(
        self,
        client: LLMClient,
        tools: ToolRegistry,
        *,
        tool_names: Sequence[str] | None = None,
        prompt: SystemPrompt | None = None,
        max_iterations: int = 3,
        guard: InputGuard | None = None,
        render: Callable[[Observation], str] = render_observation,
        structured: bool = True,
        deadline_s: float | None = None,
        **params: Any,
    ) -> None:
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int):
            raise ConfigError(f"max_iterations must be an int >= 0, got {max_iterations!r}")
        if deadline_s is not None and (
            isinstance(deadline_s, bool)
            or not isinstance(deadline_s, int | float)
            or not deadline_s > 0
        ):
            raise ConfigError(
                f"deadline_s must be a number of seconds > 0 (or None for no deadline), got "
                f"{deadline_s!r}"
            )
        self.deadline_s = None if deadline_s is None else float(deadline_s)
        names = (
            [n for n in DEFAULT_READ_TOOLS if n in tools]
            if tool_names is None
            else list(tool_names)
        )
        for name in names:
            tools.get(name)  # raises ToolError with a "did you mean" for unknown names
        self.client = client
        self.tools = tools
        specs = [spec for spec in tools.openai_tools() if spec["function"]["name"] in names]
        # the same schemas go with every request: checked and serialised once (the copy has
        # sorted keys, so the prompt describes the tools from the originals, in their order)
        self.specs = PreparedTools(specs)
        base = prompt or SystemPrompt()
        self.prompt = base.with_tools(specs) if specs else base
        self.contract = self.prompt.contract
        self.max_iterations = max(0, max_iterations)
        self.guard = guard or InputGuard()
        self.render = render
        self.structured = structured
        self.params = params
        self._system = self.prompt.build()

    @property
    def name(self) -> str:
        """The model name (what ``Analysis.analyst`` records)."""
        return self.client.model

    def _parse(
        self, text: str, model: str, calls: list[LLMCall], steps: list[ReasoningStep]
    ) -> Analysis:
        return parse_analysis(
            text, analyst=model, contract=self.contract, llm_calls=calls, reasoning_steps=steps
        )

    async def _tool_turn(
        self,
        call: ToolCall,
        call_id: str,
        convo: list[dict[str, Any]],
        thought: str,
        steps: list[ReasoningStep],
    ) -> None:
        try:
            check_tool_call(call, self.specs)
        except LLMError as exc:
            if len(call.arguments) > MAX_ECHO_CHARS:  # refused anyway; keep the record small
                call = call.replace(arguments=clip(call.arguments, MAX_ECHO_CHARS))
            result = json.dumps(
                {"ok": False, "error": {"type": "invalid_tool_call", "message": str(exc)}}
            )
        else:
            result = await self.tools.aexecute(call.name, call.arguments)
        guarded = self.guard.wrap(result, source=f"tool:{call.name}")
        steps.append(ReasoningStep(thought=thought, action=call, observation=guarded))
        convo.append({"role": "tool", "tool_call_id": call_id, "content": guarded})

    async def acall(self, observation: Observation) -> Analysis:
        """Run the ReAct loop on ``observation``; return a validated analysis or an abstention.

        Raises:
            BudgetExceededError: The cost budget is spent.
            CacheMissError: A replaying cache met an unrecorded request.
        """
        convo: list[dict[str, Any]] = [
            {"role": "system", "content": self._system},
            {"role": "user", "content": self.render(observation)},
        ]
        calls: list[LLMCall] = []
        steps: list[ReasoningStep] = []
        turns = self.max_iterations if self.specs else 0
        started = time.monotonic()
        for turn in range(turns):
            late = self._late(started, calls, steps)
            if late is not None:
                return late
            began = time.monotonic()
            try:
                if is_driven_inline():  # a blocking run() inside a running loop (Jupyter)
                    response = self.client.complete(convo, tools=self.specs, **self.params)
                else:  # under asyncio: other windows' steps run while this call waits
                    response = await self.client.acomplete(convo, tools=self.specs, **self.params)
            except (BudgetExceededError, CacheMissError):
                raise
            except LLMError as exc:
                calls.append(
                    failed_llm_call(
                        self.client,
                        convo,
                        exc,
                        latency_s=time.monotonic() - began,
                        tools=self.specs,
                        **self.params,
                    )
                )
                return abstain(
                    f"the LLM call failed: {exc}",
                    analyst=self.name,
                    llm_calls=calls,
                    reasoning_steps=steps,
                )
            calls.append(response.to_llm_call())
            if not response.tool_calls:
                try:
                    return self._parse(response.text, response.model, calls, steps)
                except LLMOutputError as exc:
                    calls[-1] = response.to_llm_call(error=str(exc))
                    convo += [
                        {"role": "assistant", "content": clip(response.text, MAX_ECHO_CHARS)},
                        _repair(str(exc), self.contract),
                    ]
                    late = self._late(started, calls, steps)
                    if late is not None:
                        return late
                    return self._finish(convo, calls, steps, max_repairs=0, repaired=True)
            ids = [c.call_id or f"call-{turn}-{j}" for j, c in enumerate(response.tool_calls)]
            text = clip(response.text, MAX_ECHO_CHARS)
            convo.append(_assistant_turn(text, response.tool_calls, ids))
            thought = text.strip() or f"Call {len(response.tool_calls)} tool(s)."
            for call, call_id in zip(response.tool_calls, ids, strict=True):
                await self._tool_turn(call, call_id, convo, thought, steps)
        if turns:
            convo.append(dict(_FINAL))
        late = self._late(started, calls, steps)
        if late is not None:
            return late
        return self._finish(convo, calls, steps, max_repairs=1)

    def _late(
        self, started: float, calls: list[LLMCall], steps: list[ReasoningStep]
    ) -> Analysis | None:
        """An abstention if the step's deadline has passed, else None."""
        if self.deadline_s is None:
            return None
        spent = time.monotonic() - started
        if spent < self.deadline_s:
            return None
        return abstain(
            f"the step's deadline of {self.deadline_s:g} s passed after {len(calls)} LLM call(s) "
            f"({spent:.1f} s); raise deadline_s or use a faster model",
            analyst=self.name,
            llm_calls=calls,
            reasoning_steps=steps,
        )

    def _finish(
        self,
        convo: list[dict[str, Any]],
        calls: list[LLMCall],
        steps: list[ReasoningStep],
        *,
        max_repairs: int,
        repaired: bool = False,
    ) -> Analysis:
        final = complete_analysis(
            self.client,
            convo,
            contract=self.contract,
            max_repairs=max_repairs,
            structured=self.structured,
            reasoning_steps=steps,
            **self.params,
        )
        changes: dict[str, Any] = {"llm_calls": (*calls, *final.llm_calls)}
        if repaired and final.source is AnalysisSource.ABSTAIN:
            # this call was itself the repair request: say so in the abstention
            changes["reason"] = final.reason.replace("after 0 repair", "after 1 repair", 1)
            changes["thought"] = final.thought.replace("after 0 repair", "after 1 repair", 1)
        return final.replace(**changes)

    def __call__(self, observation: Observation) -> Analysis:
        """Blocking :meth:`acall`."""
        return run_blocking(self.acall(observation))

    def __repr__(self) -> str:
        names = [s["function"]["name"] for s in self.specs]
        return (
            f"ReActAnalyzer(model={self.name!r}, tools={names}, "
            f"max_iterations={self.max_iterations})"
        )


def _assistant_turn(
    text: str, tool_calls: Sequence[ToolCall], ids: Sequence[str]
) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call, call_id in zip(tool_calls, ids, strict=True)
        ],
    }
