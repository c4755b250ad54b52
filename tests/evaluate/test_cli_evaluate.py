"""`axon-lab evaluate`: runs the rules agent against its baselines and writes the report."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from axon_lab.cli import app


def test_evaluate_writes_the_report_and_resumes(tmp_path: Path) -> None:
    runner = CliRunner()
    args = [
        "evaluate",
        "--data",
        "synthetic-1d",
        "--windows",
        "2",
        "--window-bars",
        "30",
        "--random-draws",
        "1",
        "--workers",
        "1",
        "--store",
        f"sqlite:///{tmp_path / 'axon.db'}",
        "--out",
        str(tmp_path / "runs"),
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    eval_id = first.output.split("evaluation ", 1)[1].split(":", 1)[0]
    folder = tmp_path / "runs" / eval_id
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "rules beats buy_and_hold in" in md
    assert (folder / "report.html").stat().st_size > 0
    again = runner.invoke(app, [*args, "--resume", eval_id])
    assert again.exit_code == 0, again.output
    assert (folder / "report.md").read_text(encoding="utf-8") == md


def test_evaluate_names_a_bad_sample() -> None:
    result = CliRunner().invoke(app, ["evaluate", "--data", "no-such", "--store", "sqlite://"])
    assert result.exit_code == 2
    assert "neither a file nor a bundled sample" in result.output


def test_evaluate_on_a_cluster_refuses_a_store_its_workers_cannot_share() -> None:
    args = ["evaluate", "--cluster", "tcp://127.0.0.1:1", "--store", "sqlite:///runs/axon.db"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "is relative: each worker would write its own file" in result.output
