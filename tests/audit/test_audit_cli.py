"""`axon-lab audit RUN_ID` and the report's Audits section."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from axon_lab.audit import audit_lines, load_audit, save_audit
from axon_lab.cli import app
from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore, build_report
from axon_lab.llm import ScriptedClient
from axon_lab.oader import make_agent

ANSWER = json.dumps(
    {
        "thought": "t",
        "market_assessment": "range",
        "risk_assessment": "low",
        "confidence": 0.5,
        "action": "hold",
        "reason": "<b>r</b>",
    }
)


@pytest.fixture
def store_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path}/axon.db"
    with ExplainStore(url) as store:
        make_agent("synthetic-1h", store=store, run_id="rules-run", progress=False).run(150)
        make_agent(
            "synthetic-1h",
            analyst=ScriptedClient(lambda r: ANSWER),
            store=store,
            run_id="llm-run",
            progress=False,
        ).run(5)
    return url


def test_a_report_without_audits_says_how_to_run_them(store_url, tmp_path):
    with ExplainStore(store_url) as store:
        report = build_report(store, "rules-run", figures=False)
    text = report.to_markdown()
    assert "## Audits" in text
    assert "Audits not run" in text
    assert "`axon-lab audit rules-run`" in text
    assert "axon-lab audit rules-run" in report.to_html()


def test_audit_runs_the_three_audits_and_adds_them_to_the_report(store_url, tmp_path):
    result = CliRunner().invoke(app, ["audit", "rules-run", "--store", store_url, "--seed", "3"])
    assert result.exit_code == 0, result.output
    saved = load_audit(tmp_path / "runs" / "rules-run")
    assert saved["lookahead"]["passed"] is True
    assert saved["memorisation"]["decision_agreement"] == 1.0
    assert saved["stability"]["unstable_steps"] == []
    assert 0.0 <= saved["sensitivity"]["flip_rate"] <= 1.0
    assert saved["seed"] == 3
    md = (tmp_path / "runs" / "rules-run" / "report.md").read_text()
    assert "look-ahead check of rules:" in md
    assert "anonymised re-run" in md
    assert "decision stability (5 steps x 5 samples)" in md
    # `axon-lab report` (and build_report) read the saved results back
    again = CliRunner().invoke(app, ["report", "rules-run", "--store", store_url])
    assert again.exit_code == 0, again.output
    assert (
        "look-ahead check of rules:" in (tmp_path / "runs" / "rules-run" / "report.md").read_text()
    )


def test_an_llm_run_without_a_model_lists_each_audit_as_not_run(store_url, tmp_path):
    result = CliRunner().invoke(app, ["audit", "llm-run", "--store", store_url])
    assert result.exit_code == 0, result.output
    saved = load_audit(tmp_path / "runs" / "llm-run")
    for part in ("lookahead", "sensitivity", "memorisation", "stability"):
        assert "--llm" in saved["not_run"][part]
    assert saved["cutoff"]["window"] == "unknown"
    lines = audit_lines(saved, "llm-run")
    assert any(line.startswith("look-ahead check: not run") for line in lines)


def test_an_unknown_run_is_a_clear_error(store_url):
    result = CliRunner().invoke(app, ["audit", "nope", "--store", store_url])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_audit_results_round_trip_and_a_damaged_file_is_refused(tmp_path):
    path = save_audit({"run_id": "x", "lookahead": {"summary": "ok"}}, tmp_path / "x")
    assert load_audit(path) == {"run_id": "x", "lookahead": {"summary": "ok"}}
    assert load_audit(tmp_path / "missing") is None
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not readable audit JSON"):
        load_audit(tmp_path / "x")
    lines = audit_lines({"run_id": "other"}, "x")
    assert lines[0].startswith("WARNING")
