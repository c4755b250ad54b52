"""The `axon-lab` command line, run in a subprocess exactly as a user runs it."""

from __future__ import annotations

import re
import subprocess
import sys


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from axon_lab.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_datasets_summarises_every_bundled_sample_with_its_repairs() -> None:
    from axon_lab import list_samples

    result = _run("datasets", "--details", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    installed = [s.name for s in list_samples() if s.installed]
    for name in installed:
        assert f"== {name} " in out
    assert f"{len(installed)} of {len(list_samples())} bundled datasets loaded." in out
    btc = out.split("== btc-usd-15m")[1].split("\n== ")[0]
    assert "8,686 bars" in btc
    assert "32 duplicate timestamp(s)" in btc
    assert re.search(r"9 gap\(s\), 243 missing bar\(s\)", btc)
    assert "2021-09-27 13:45 -> 2021-12-29 13:45 UTC" in btc
    daily = out.split("== btc-usd-1d")[1].split("\n== ")[0]
    assert "dropped 4 row(s): 4 missing_value" in daily


def test_unknown_command_fails_with_usage() -> None:
    result = _run("frobnicate")
    assert result.returncode != 0
    assert "No such command" in result.stderr


def test_llm_serve_refuses_a_missing_model_file_with_a_clear_error() -> None:
    result = _run("llm", "serve", "--model-path", "/nonexistent/model.gguf", "--port", "1")
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "/nonexistent/model.gguf" in result.stderr
