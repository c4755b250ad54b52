from __future__ import annotations

import os
import uuid

import optuna
import pandas as pd
import pytest
from typer.testing import CliRunner

from axon_lab.cli import app
from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.hpo import SweepSpec, close_storage, create_study, run_sweep

POSTGRES_URL = os.environ.get("AXON_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def data_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sweep") / "bars.csv"
    make_synthetic(1200, timeframe="1h", seed=4).to_csv(path)
    return str(path)


@pytest.mark.postgres
@pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="AXON_TEST_POSTGRES_URL is not set; start a server with `bash .ci/postgres`",
)
def test_two_workers_share_one_postgres_study_without_duplicates(data_path: str) -> None:
    assert POSTGRES_URL is not None
    name = f"test-sweep-{uuid.uuid4().hex[:12]}"
    spec = SweepSpec(study=name, storage=POSTGRES_URL, data=data_path, seed=0)
    result = run_sweep(spec, n_workers=2, n_trials=12)
    study = create_study(name, storage=POSTGRES_URL, directions=("maximize", "maximize"))
    try:
        trials = study.trials
        assert len(trials) == 12
        assert sorted(t.number for t in trials) == list(range(12))
        assert {t.user_attrs["worker"] for t in trials} == {0, 1}
        assert len({t.user_attrs["pid"] for t in trials}) == 2
        assert sum(t.user_attrs["worker"] == 0 for t in trials) == 6
        assert all(t.state.name == "COMPLETE" for t in trials)
        assert len(result.results) == 12
        assert result.results["oos_sharpe"].notna().all()
    finally:
        optuna.delete_study(study_name=name, storage=study._storage)  # keep the server clean
        close_storage(study)


def test_sweep_spec_errors(data_path: str) -> None:
    with pytest.raises(ConfigError, match=r"exactly one of data=PATH or sample=NAME"):
        SweepSpec(study="s", storage="sqlite:///x.db")
    with pytest.raises(ConfigError, match=r"cannot share an in-memory study"):
        SweepSpec(study="s", storage=":memory:", data=data_path)
    spec = SweepSpec(study="s", storage="sqlite:///x.db", data=data_path)
    with pytest.raises(ConfigError, match=r"n_workers=0 must be an int >= 1"):
        run_sweep(spec, n_workers=0, n_trials=1)


def test_cli_sweep_on_sqlite(data_path: str, tmp_path) -> None:
    db = tmp_path / "runs" / "axon.db"
    best = tmp_path / "best.json"
    args = ["sweep", "--storage", f"sqlite:///{db}", "--workers", "1", "--trials", "4"]
    args += ["--study", "cli", "--data", data_path, "--best-json", str(best)]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "study 'cli': 4 trials" in out.output
    assert "oos_sharpe" in out.output
    assert best.exists()
    bad = CliRunner().invoke(app, ["sweep", "--storage", "mysql://x", "--data", data_path])
    assert bad.exit_code == 2
    assert "Unsupported storage scheme" in bad.output
    assert isinstance(pd.read_json(best, typ="series"), pd.Series)
