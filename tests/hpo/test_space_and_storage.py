from __future__ import annotations

import dataclasses

import pytest

from axon_lab.errors import ConfigError
from axon_lab.hpo import (
    SearchSpaceDef,
    check_space,
    create_study,
    normalise_storage_url,
    suggest_params,
)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"param_type": "uniform", "low": 1.0, "high": 1.0},
            r"low=1\.0 >= high=1\.0; pass low < high",
        ),
        ({"param_type": "int", "low": 10, "high": 2}, r"low=10 >= high=2; .*low=2, high=10"),
        ({"param_type": "log_uniform", "low": 0.0, "high": 1.0}, r"needs 0 < low, got low=0\.0"),
        ({"param_type": "log_uniform", "low": -1.0, "high": 1.0}, r"a log scale cannot reach 0"),
        ({"param_type": "int", "low": 0, "high": 5, "log": True}, r"log-scale int needs 0 < low"),
        ({"param_type": "normal", "low": 0.0, "high": 1.0}, r"param_type='normal' is not one of"),
        ({"param_type": "categorical"}, r"categorical space needs choices"),
        ({"param_type": "uniform", "low": 0.0}, r"needs low and high"),
        ({"param_type": "int", "low": 0.5, "high": 3}, r"int space needs integer bounds"),
    ],
)
def test_bad_spaces_name_the_value_and_the_fix(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        SearchSpaceDef(**kwargs)


def test_space_defs_are_frozen_and_dicts_are_validated() -> None:
    d = SearchSpaceDef(param_type="uniform", low=0.0, high=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.low = 2.0  # type: ignore[misc]
    with pytest.raises(ConfigError, match=r"Parameter 'lr': log_uniform needs 0 < low"):
        check_space({"lr": {"param_type": "log_uniform", "low": 0, "high": 1e-2}})
    with pytest.raises(ConfigError, match=r"search space is empty"):
        check_space({})


def test_suggest_covers_every_kind_and_a_seed_reproduces() -> None:
    space = check_space(
        {
            "lr": SearchSpaceDef(param_type="log_uniform", low=1e-5, high=1e-2),
            "gamma": SearchSpaceDef(param_type="uniform", low=0.9, high=0.999),
            "n": SearchSpaceDef(param_type="int", low=2, high=64, step=2),
            "kind": SearchSpaceDef(param_type="categorical", choices=("a", "b")),
        }
    )

    def run(seed: int) -> list[dict]:
        study = create_study("s", storage=":memory:", seed=seed)
        study.optimize(lambda t: suggest_params(t, space)["gamma"], n_trials=8)
        return [t.params for t in study.trials]

    first = run(3)
    assert first == run(3)
    assert first != run(4)
    for p in first:
        assert 1e-5 <= p["lr"] <= 1e-2
        assert 0.9 <= p["gamma"] <= 0.999
        assert p["n"] % 2 == 0
        assert p["kind"] in ("a", "b")


def test_storage_urls(tmp_path) -> None:
    assert normalise_storage_url("postgresql://u:p@h:5432/d") == "postgresql+psycopg://u:p@h:5432/d"
    assert normalise_storage_url("postgres://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    db = tmp_path / "deep" / "dir" / "s.db"
    assert normalise_storage_url(f"sqlite:///{db}") == f"sqlite:///{db}"
    assert db.parent.is_dir()
    assert normalise_storage_url(None) == "sqlite:///runs/axon.db"
    with pytest.raises(ConfigError, match=r"Unsupported storage scheme 'mysql'"):
        normalise_storage_url("mysql://x/y")
    with pytest.raises(ConfigError, match=r"is not a URL"):
        normalise_storage_url("runs/axon.db")


def test_create_study_rejects_bad_directions() -> None:
    with pytest.raises(ConfigError, match=r"directions=\['up'\]"):
        create_study("s", storage=":memory:", directions=["up"])
