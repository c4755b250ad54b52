"""The command line with hostile run ids and stores (issue 15): nothing is written outside the
output folder, and a path named inside a store is never opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from axon_lab.cli import app
from axon_lab.data import make_synthetic
from axon_lab.oader import make_agent

runner = CliRunner()


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("run_id", ["../../escaped", "<absolute>", "..", "a/b"])
def test_demo_refuses_a_run_id_that_is_a_path(tmp_path: Path, run_id: str) -> None:
    if run_id == "<absolute>":
        run_id = str(tmp_path / "escaped-absolute")
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    out = work / "runs"
    result = runner.invoke(
        app, ["demo", "--steps", "3", "--no-progress", "--out", str(out), "--run-id", run_id]
    )
    assert result.exit_code == 2, result.output
    assert "a run id becomes a folder name" in result.output
    assert _files(tmp_path) == set()  # not even the store: the id is refused before any work


def _store_with_run(tmp_path: Path, run_id: str, data: str) -> str:
    url = f"sqlite:///{tmp_path / 'axon.db'}"
    frame = make_synthetic(60, timeframe="1h", start="2024-01-01", seed=1, symbol="SYN")
    loop = make_agent(frame, store=url, run_id="honest", progress=False, config={"data": data})
    loop.run(5)
    loop.close()
    if run_id != "honest":  # what an older version (or a hand-edited store) may hold
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for table in ("axon_steps", "axon_runs"):
                conn.execute(text(f"UPDATE {table} SET run_id = :new"), {"new": run_id})
            conn.execute(
                text("UPDATE axon_runs SET info_json = replace(info_json, '\"honest\"', :new)"),
                {"new": f'"{run_id}"'},
            )
        engine.dispose()
    return url


def test_report_refuses_a_stored_run_id_that_is_a_path(tmp_path: Path) -> None:
    url = _store_with_run(tmp_path, "../../escaped", "sample:btc-usd-15m")
    out = tmp_path / "a" / "b" / "runs"
    before = _files(tmp_path)
    result = runner.invoke(app, ["report", "--store", url, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "'../../escaped' is a path, not a name" in result.output
    assert _files(tmp_path) - before <= {tmp_path / "axon.db-wal", tmp_path / "axon.db-shm"}
    assert not (tmp_path / "a" / "escaped").exists()


def test_report_does_not_open_a_file_a_store_names(tmp_path: Path) -> None:
    planted = tmp_path / "not-bars.csv"
    planted.write_text("this is not,market data\n1,2\n")
    url = _store_with_run(tmp_path, "honest", f"file:{planted}")
    result = runner.invoke(app, ["report", "--store", url, "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "a path named by a store is not opened" in result.output
    assert (tmp_path / "runs" / "honest" / "report.html").exists()
    again = runner.invoke(
        app, ["report", "--store", url, "--out", str(tmp_path / "runs"), "--data", str(planted)]
    )
    assert again.exit_code == 2
    assert "missing required column" in again.output  # opened only when the user names it


def test_report_output_shows_control_characters_as_marks(tmp_path: Path) -> None:
    from axon_lab.oader import RulesAnalyst

    class Analyst:
        name = "evil\x1b]0;pwned\x07\u202emodel"

        def __init__(self, rules: RulesAnalyst) -> None:
            self.rules = rules

        def __call__(self, observation: object) -> object:
            return self.rules(observation)  # type: ignore[arg-type]

    url = f"sqlite:///{tmp_path / 'axon.db'}"
    frame = make_synthetic(60, timeframe="1h", start="2024-01-01", seed=1, symbol="SYN")
    loop = make_agent(frame, store=url, run_id="ctl", progress=False)
    loop.close()
    loop = make_agent(
        frame,
        store=url,
        run_id="ctl2",
        progress=False,
        analyst=Analyst(RulesAnalyst(symbol="SYN")),
    )
    loop.run(3)
    loop.close()
    result = runner.invoke(app, ["report", "ctl2", "--store", url, "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "evil\\x1b]0;pwned\\x07<U+202E>model" in result.output
    assert "\x1b" not in result.output
    assert "\u202e" not in result.output
