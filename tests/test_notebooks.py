"""The notebooks: stored with their outputs (so they read on GitHub), and re-executed from a
fresh kernel by the suite (a notebook whose cell raises fails it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notebooks import NOTEBOOKS, execute, missing_tools

MISSING = missing_tools()
NEEDS_TOOLS = pytest.mark.skipif(
    bool(MISSING), reason=f"running notebooks needs {', '.join(MISSING)} (the [dev] extra)")

EXPECTED = ["01_chain_rule.ipynb", "02_neuron_and_mlp.ipynb", "03_four_equations.ipynb",
            "04_iris.ipynb", "05_scalars_to_arrays.ipynb"]


def _code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_the_five_tutorials_are_there() -> None:
    assert [path.name for path in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_stored_notebook_has_its_outputs(path: Path) -> None:
    """Every code cell was run, in order, and nothing stored is an error; pictures are
    PNG (GitHub does not show a notebook's SVG outputs)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = _code_cells(notebook)
    assert cells
    assert [cell["execution_count"] for cell in cells] == list(range(1, len(cells) + 1))
    outputs = [output for cell in cells for output in cell["outputs"]]
    assert outputs, "stored without outputs: run python -m notebooks"
    assert not [o for o in outputs if o["output_type"] == "error"]
    pictures = [o for o in outputs
                if "data" in o and any(key.startswith("image/") for key in o["data"])]
    assert all("image/png" in o["data"] for o in pictures)
    assert all("".join(cell["source"]).strip() for cell in notebook["cells"])


@NEEDS_TOOLS
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_without_an_error(path: Path) -> None:
    notebook = execute(path)  # raises CellExecutionError, naming the cell, on an error
    cells = _code_cells(notebook)
    assert all(cell.execution_count is not None for cell in cells)
    assert not [o for cell in cells for o in cell.outputs if o.output_type == "error"]


@NEEDS_TOOLS
def test_a_failing_cell_fails_the_run(tmp_path: Path) -> None:
    import nbformat
    from nbclient.exceptions import CellExecutionError

    broken = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from mlp import four_equations\nprint('ran')"),
        nbformat.v4.new_code_cell("four_equations(None, [1.0], 0, 'mse')"),
    ])
    path = tmp_path / "broken.ipynb"
    nbformat.write(broken, path)
    with pytest.raises(CellExecutionError, match="needs an MLP"):
        execute(path)
