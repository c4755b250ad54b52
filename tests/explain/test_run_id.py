"""Run ids become folder names: one rule, checked where a run is created and where an id read
back from a store becomes a path (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore, check_run_id, run_folder

BAD = ["../../x", "..", ".", "/etc/x", "a/b", "a\\b", "C:x", "", "a\x00b", "x" * 129, " lead", "é"]


@pytest.mark.parametrize("run_id", BAD)
def test_bad_run_ids_are_refused_with_the_rule(run_id: str) -> None:
    with pytest.raises(ConfigError, match="a run id becomes a folder name"):
        check_run_id(run_id)
    with ExplainStore("sqlite://") as store, pytest.raises(ConfigError, match="run_id"):
        store.create_run({}, run_id=run_id, data_fingerprint="-", model="m")


@pytest.mark.parametrize("run_id", ["d1", "run-20240101T000000-ab12", "btc_sma.v2", "x" * 128])
def test_good_run_ids_pass(run_id: str, tmp_path: Path) -> None:
    assert check_run_id(run_id) == run_id
    assert run_folder(tmp_path, run_id) == tmp_path / run_id


@given(st.text(max_size=40))
def test_an_accepted_id_always_names_a_folder_directly_inside_the_root(run_id: str) -> None:
    root = Path("/srv/runs")
    try:
        folder = run_folder(root, run_id)
    except ConfigError:
        return
    # oracle: path arithmetic, independent of the id rule
    assert folder.parent == root
    assert folder.name == run_id
    assert ".." not in folder.parts
