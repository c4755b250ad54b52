"""notebooks/01_quickstart.ipynb and its jupytext twin (percent format) hold the same cells."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _cells(path: Path) -> list[tuple[str, str]]:
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(path)
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_the_quickstart_notebook_and_its_py_twin_do_not_drift() -> None:
    ipynb = _cells(NOTEBOOKS / "01_quickstart.ipynb")
    twin = _cells(NOTEBOOKS / "01_quickstart.py")
    assert ipynb == twin, (
        "notebooks/01_quickstart.ipynb and .py differ; edit the .py, then run "
        "`jupytext --sync notebooks/01_quickstart.py`"
    )
    assert any("make_agent" in source for _, source in twin)
