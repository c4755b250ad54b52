"""ReActAnalyzer under asyncio awaits the client (so windows overlap); driven inline it blocks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from axon_lab.llm import ScriptedClient
from axon_lab.oader import ReActAnalyzer
from axon_lab.oader.stages import is_driven_inline, run_blocking
from axon_lab.records import AnalysisSource

from .test_react import ANSWER, setup


class _Tracking(ScriptedClient):
    """Records which entry point each call came through."""

    def __init__(self) -> None:
        super().__init__(lambda _request: json.dumps(ANSWER), model="scripted-model")
        self.entries: list[str] = []

    def complete(self, *args: Any, **kwargs: Any) -> Any:
        self.entries.append("complete")
        return super().complete(*args, **kwargs)

    async def acomplete(self, *args: Any, **kwargs: Any) -> Any:
        self.entries.append("acomplete")
        await asyncio.sleep(0)  # a real client suspends here while the request is in flight
        return await super().acomplete(*args, **kwargs)


def _analyzer() -> tuple[ReActAnalyzer, _Tracking, Any]:
    base, observation = setup([])
    client = _Tracking()
    return ReActAnalyzer(client, base.tools), client, observation


def test_under_asyncio_the_analyzer_awaits_the_async_client() -> None:
    analyzer, client, observation = _analyzer()
    analysis = asyncio.run(analyzer.acall(observation))
    assert analysis.source is AnalysisSource.LLM
    assert client.entries == ["acomplete"]


def test_driven_inline_in_a_running_loop_it_uses_the_blocking_client() -> None:
    analyzer, client, observation = _analyzer()

    async def notebook_cell() -> Any:  # like loop.run() called from a Jupyter cell
        assert not is_driven_inline()
        return run_blocking(analyzer.acall(observation))

    analysis = asyncio.run(notebook_cell())
    assert analysis.source is AnalysisSource.LLM
    assert client.entries == ["complete"]
    assert not is_driven_inline()  # reset after the inline drive
