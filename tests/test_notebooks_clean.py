"""Every committed notebook is stripped of outputs and follows the notebook conventions."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cxtradeoff import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))
KERNELSPEC = {"name": "cxtradeoff", "display_name": "Python (cxtradeoff)", "language": "python"}


def _ids() -> list[str]:
    return [p.name for p in NOTEBOOKS]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, f"no notebook found in {paths.NOTEBOOKS_DIR}"
    assert paths.NOTEBOOKS_DIR / "01-evidence.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids())
def test_no_outputs_and_no_execution_counts(path: Path) -> None:
    dirty = [
        index
        for index, cell in enumerate(_load(path)["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; strip them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids())
def test_kernelspec(path: Path) -> None:
    assert _load(path)["metadata"].get("kernelspec") == KERNELSPEC


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids())
def test_one_parameters_cell_of_typed_commented_literals(path: Path) -> None:
    cells = _load(path)["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters', not 1"
    source = _source(tagged[0])
    tree = ast.parse(source)
    assert tree.body, f"{path.name}: the parameters cell is empty"
    lines = source.splitlines()
    for statement in tree.body:
        where = f"{path.name}, parameters line {statement.lineno}"
        assert isinstance(statement, ast.AnnAssign), f"{where}: not `name: type = value`"
        assert statement.value is not None, f"{where}: no value"
        ast.literal_eval(statement.value)  # raises ValueError when not a literal
        assert "#" in lines[statement.end_lineno - 1], f"{where}: no comment"
