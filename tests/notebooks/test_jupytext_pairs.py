"""Every notebook has a jupytext percent twin with the same cells, and checks it really has.

``notebooks/NN_name.ipynb`` and ``notebooks/NN_name.py`` must hold the same cells (type and
source); edit one, then sync the other with ``jupytext --sync notebooks/NN_name.ipynb``. A cell
marked ``# NBVAL_CHECK_OUTPUT`` must carry the output nbval compares against, else the check
passes vacuously.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

jupytext = pytest.importorskip("jupytext")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("*.ipynb"))


def cells(path: Path) -> list[tuple[str, str]]:
    notebook: Any = jupytext.read(path)
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]


def test_there_are_notebooks() -> None:
    assert PAIRS, f"no notebook in {NOTEBOOKS}"


@pytest.mark.parametrize("ipynb", PAIRS, ids=[p.name for p in PAIRS])
def test_the_notebook_and_its_py_twin_hold_the_same_cells(ipynb: Path) -> None:
    twin = ipynb.with_suffix(".py")
    assert twin.exists(), (
        f"{ipynb.name} has no jupytext twin; create it with jupytext --to py:percent"
    )
    assert "format_name: percent" in twin.read_text(encoding="utf-8"), f"{twin.name} is not percent"
    a, b = cells(ipynb), cells(twin)
    for i, (left, right) in enumerate(zip(a, b, strict=False)):
        assert left == right, (
            f"cell {i} differs between {ipynb.name} and {twin.name}; run "
            f"jupytext --sync notebooks/{ipynb.name}"
        )
    assert len(a) == len(b), f"{ipynb.name} has {len(a)} cells, {twin.name} has {len(b)}"


@pytest.mark.parametrize("ipynb", PAIRS, ids=[p.name for p in PAIRS])
def test_checked_cells_carry_their_expected_output(ipynb: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(ipynb, as_version=4)
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in cell.source:
            assert cell.outputs, (
                f"{ipynb.name} cell {i} is marked NBVAL_CHECK_OUTPUT but stores no output; "
                "execute the notebook and save it"
            )
