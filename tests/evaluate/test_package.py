"""The evaluate package's public surface: names, frozen records, lazy heavy imports."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

import axon_lab
from axon_lab import evaluate
from axon_lab.errors import AxonError, EvaluationError


def test_public_names_resolve_and_are_grouped_once():
    assert len(evaluate.__all__) == len(set(evaluate.__all__))
    for name in evaluate.__all__:
        assert hasattr(evaluate, name), name
    assert axon_lab.evaluate is evaluate
    assert axon_lab.EvaluationError is EvaluationError
    assert issubclass(EvaluationError, AxonError)
    assert issubclass(EvaluationError, ValueError)


RECORDS = [
    "Interval", "PairedComparison", "SharpeTest", "PBOResult", "FDRResult", "SPAResult",
    "RomanoWolfResult", "CalibrationResult", "CalibrationBin", "RegimeStats", "RunStats",
]  # fmt: skip


@pytest.mark.parametrize("name", RECORDS)
def test_records_are_frozen_keyword_only_dataclasses(name):
    cls = getattr(evaluate, name)
    params = cls.__dataclass_params__
    assert params.frozen
    assert "__slots__" in cls.__dict__
    assert all(f.kw_only for f in dataclasses.fields(cls))
    assert cls.__doc__
    assert "Attributes:" in cls.__doc__
    for field in dataclasses.fields(cls):  # every field is documented
        assert f"{field.name}:" in cls.__doc__, (name, field.name)


def test_a_record_cannot_be_changed():
    ci = evaluate.bootstrap_interval([1.0, 2.0, 3.0], n_resamples=10, seed=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ci.low = 0.0  # type: ignore[misc]


def test_importing_evaluate_leaves_arch_scipy_and_optuna_for_later():
    probe = (
        "import sys, json, axon_lab.evaluate; "
        "print(json.dumps(sorted(m for m in ('arch', 'scipy', 'optuna', 'statsmodels') "
        "if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []
