"""Resuming a run: re-running recorded steps restores the state; the run goes on identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore, code_version
from axon_lab.oader import RulesAnalyst, StageError, data_fingerprint, make_agent

from .conftest import synthetic


def test_an_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    frame = synthetic(200, seed=4)
    with ExplainStore(f"sqlite:///{tmp_path / 'a.db'}") as store:
        make_agent(frame, store=store, run_id="r", progress=False).run(150)
        whole = store.steps("r")
    assert sum(len(s.fills) for s in whole) > 0
    url = f"sqlite:///{tmp_path / 'b.db'}"
    first = make_agent(frame, store=url, run_id="r", progress=False)
    first.run(90)
    first.close()  # the process "dies" here
    resumed = make_agent(frame, store=url, run_id="r", resume=True, progress=False)
    assert resumed.step_index == 90
    resumed.run(60)
    assert resumed.store.steps("r") == whole
    resumed.close()


def test_resuming_on_other_data_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    make_agent(synthetic(80, seed=1), store=url, run_id="r", progress=False).run(5)
    with pytest.raises(ConfigError, match=r"was recorded on data sha256:.*not on this data"):
        make_agent(synthetic(80, seed=2), store=url, run_id="r", resume=True, progress=False)
    with pytest.raises(ConfigError, match="resume=True needs the run_id"):
        make_agent(synthetic(80, seed=1), store=url, resume=True, progress=False)


def test_a_non_deterministic_rerun_is_detected(tmp_path: Path) -> None:
    frame = synthetic(200, seed=4)
    url = f"sqlite:///{tmp_path / 'd.db'}"
    make_agent(frame, store=url, run_id="r", progress=False).run(150)
    with pytest.raises(StageError, match=r"re-running step .* gave a different"):
        make_agent(frame, store=url, run_id="r", resume=True, progress=False, risk_fraction=0.02)


def test_the_run_config_is_recorded(agent_factory: object) -> None:
    frame = make_synthetic(120, timeframe="1h", start="2024-01-01", seed=8, symbol="SYN")
    loop = agent_factory(frame, every=2, config={"note": "unit test"})
    info = loop.store.get_run("t")
    assert info.data_fingerprint == data_fingerprint(loop.view)
    assert info.model == RulesAnalyst().name
    assert info.model_cutoff is None
    assert info.code_version == code_version()
    assert info.config["every"] == 2
    assert info.config["note"] == "unit test"
    assert info.config["limits"]["max_order_notional"] == 50_000.0
    assert info.config["backend"] == "SimTradingBackend"
