"""Packaging contracts: pyproject and environment.yml agree; importing axon_lab stays light."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(spec: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*?)\s*", spec)
    assert match is not None, f"unparseable requirement {spec!r}"
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return name, match.group(3).replace(" ", "")


def _pyproject_deps() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(_split(s) for s in project["dependencies"])


def _environment_deps() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps: dict[str, str] = {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for spec in item["pip"]:
                if not spec.startswith("-e"):
                    deps.update([_split(spec)])
        else:
            name, version = _split(item)
            if name not in {"python", "pip"}:
                deps[name] = version
    return deps


def _extra_deps() -> dict[str, str]:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    return dict(_split(s) for specs in extras.values() for s in specs if "axon-lab" not in s)


def test_environment_yml_names_the_same_dependencies_as_pyproject() -> None:
    env, core = _environment_deps(), _pyproject_deps()
    assert {name: env[name] for name in core if name in env} == core
    # anything more is one of pyproject's extras, with the same pin
    extra = {name: spec for name, spec in env.items() if name not in core}
    assert extra == {name: _extra_deps().get(name) for name in extra}
    assert "dask" in extra  # the distributed extra (evaluate(..., cluster=...))


def test_environment_yml_installs_the_package_itself() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [item["pip"] for item in env["dependencies"] if isinstance(item, dict)]
    assert ["-e ." in section for section in pip_sections] == [True]


def test_user_core_packages_are_plain_dependencies() -> None:
    core = {
        "jupyterlab", "ipywidgets", "pandas", "polars", "plotly", "optuna",
        "stable-baselines3", "gymnasium", "pytest", "nbval",
    }  # fmt: skip
    assert core <= set(_pyproject_deps())


def test_torch_is_pinned_to_the_local_cpu_build() -> None:
    assert _pyproject_deps()["torch"] == "==2.13.0"


def test_console_script_and_typed_marker() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["axon-lab"] == "axon_lab.cli:main"
    assert (ROOT / "axon_lab" / "py.typed").is_file()


HEAVY = ["torch", "plotly", "ipywidgets", "openai", "optuna", "stable_baselines3", "ccxt"]


def _modules_after(code: str, names: list[str]) -> list[str]:
    """Which of ``names`` are imported after running ``code`` in a fresh interpreter."""
    probe = (
        f"import sys, json; {code}; "
        f"print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return list(json.loads(out))


@pytest.mark.parametrize(
    "code",
    [
        "import axon_lab",
        # the whole public API resolved: every subpackage the loop, store and data layer need
        "import axon_lab; [getattr(axon_lab, n) for n in axon_lab.__all__]",
    ],
)
def test_import_axon_lab_imports_no_heavy_package(code: str) -> None:
    assert _modules_after(code, HEAVY) == []


def test_the_import_itself_is_lazy_and_a_name_imports_its_subpackage() -> None:
    assert _modules_after("import axon_lab", ["pandas", "pydantic", "sqlalchemy"]) == []
    assert _modules_after("import axon_lab; axon_lab.ConfigError", ["pandas", "pydantic"]) == []
    after = _modules_after("import axon_lab; axon_lab.load_sample", ["pandas", "axon_lab.data"])
    assert after == ["axon_lab.data", "pandas"]


def test_subpackages_and_unknown_names() -> None:
    import axon_lab

    assert axon_lab.oader.OADERLoop is axon_lab.OADERLoop
    assert set(axon_lab.__all__) <= set(dir(axon_lab))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        axon_lab.nope  # noqa: B018


def test_public_api_names_resolve() -> None:
    import axon_lab

    missing = [name for name in axon_lab.__all__ if not hasattr(axon_lab, name)]
    assert missing == []
    assert len(set(axon_lab.__all__)) == len(axon_lab.__all__)
