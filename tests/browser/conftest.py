"""Servers and one headless Chromium for the browser tests.

The tests need Python Playwright and Debian's Chromium (``.ci/browser`` installs it; Playwright's
own browser download is not used). Without them the tests are skipped, except under ``CI=true``,
where a missing browser fails. Each server runs in its own process group with isolated
``JUPYTER_*`` directories on 127.0.0.1, gets a bounded startup wait, and is killed at teardown.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02_step_the_loop.ipynb"
CHROMIUM = os.environ.get("AXON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 90.0


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (pip install playwright)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (run .ci/browser, or set AXON_CHROMIUM)"
    return None


def require_browser() -> None:
    """Skip without a browser; under CI=true, fail instead."""
    why = _missing()
    if why is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI=true: {why}")
    pytest.skip(why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server process started in its own process group."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    workdir: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:]

    def wait_ready(self, probe: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(probe, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        pytest.fail(f"server not ready after {STARTUP_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass


def isolated_env(base: Path) -> dict[str, str]:
    """Environment with private Jupyter/IPython dirs, news and update checks off."""
    env = dict(os.environ)
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "IPYTHONDIR": base / "ipython",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    labconfig = dirs["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir(exist_ok=True)
    # no "get notified about Jupyter news?" toast, no news fetching
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    (dirs["JUPYTER_CONFIG_DIR"] / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                }
            }
        )
    )
    return env


def start(cmd: list[str], workdir: Path, env: dict[str, str], url: str) -> Server:
    log = workdir.parent / f"{workdir.name}.log"
    handle = log.open("wb")
    proc = subprocess.Popen(
        cmd,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed whole at teardown
    )
    handle.close()
    return Server(proc=proc, url=url, log=log, workdir=workdir)


def notebook_copy(tmp: Path) -> Path:
    work = tmp / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    return work


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[Server]:
    """JupyterLab on 127.0.0.1 with a copy of notebook 02."""
    require_browser()
    work = notebook_copy(tmp_path)
    env = isolated_env(tmp_path / "jupyter")
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.root_dir={work}",
        f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
        "--ServerApp.port_retries=0",
    ]  # fmt: skip
    server = start(cmd, work, env, f"http://127.0.0.1:{port}")
    server.extra["token"] = token
    try:
        server.wait_ready(f"{server.url}/api/status?token={token}")
        yield server
    finally:
        server.stop()


@pytest.fixture
def voila(tmp_path: Path) -> Iterator[Server]:
    """Voilà serving a copy of notebook 02 on 127.0.0.1."""
    require_browser()
    work = notebook_copy(tmp_path)
    env = isolated_env(tmp_path / "jupyter")
    port = free_port()
    cmd = [
        sys.executable, "-m", "voila", NOTEBOOK.name, "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1", "--show_tracebacks=True",
        # jupytext's lab extension needs JupyterLab's document manager, which Voila lacks
        "--VoilaConfiguration.extension_denylist=jupyterlab-jupytext",
    ]  # fmt: skip
    server = start(cmd, work, env, f"http://127.0.0.1:{port}")
    try:
        server.wait_ready(f"{server.url}/voila/static/voila.js")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Playwright session and one persistent Chromium context at a time.

    Module scope, not session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, which would break every later test that calls ``asyncio.run``.
    """
    require_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1800},
        )
        try:
            yield context
        finally:
            context.close()
