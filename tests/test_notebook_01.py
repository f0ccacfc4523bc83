"""Notebook 01 (the evidence) executed by papermill, and its outputs read back."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from cxtradeoff import paths
from cxtradeoff.evidence import CUSTOMER_TOPICS, STATUSES

NOTEBOOK = paths.NOTEBOOKS_DIR / "01-evidence.ipynb"
DATA_FILES = (paths.EVIDENCE_CLAIMS, paths.EVIDENCE_EVENTS, paths.REFERENCE_FIGURES)

pytestmark = pytest.mark.slow


def run(tmp_path: Path, **parameters: Any) -> nbformat.NotebookNode:
    output = tmp_path / "01-evidence.out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters=parameters,
        kernel_name=paths.KERNEL_NAME,
        cwd=str(tmp_path),
        progress_bar=False,
    )
    return nbformat.read(str(output), as_version=4)


def outputs(nb: nbformat.NotebookNode, mime: str) -> list[str]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if mime in data:
                found.append(data[mime])
    return found


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def copy_data(folder: Path) -> Path:
    folder.mkdir()
    for source in DATA_FILES:
        shutil.copyfile(source, folder / source.name)
    return folder


def expected_bars(claims: list[dict[str, str]]) -> set[str]:
    """Share claims about what customers say, straight from the CSV."""
    return {
        row["id"]
        for row in claims
        if row["unit"] == "share" and row["topic"] in CUSTOMER_TOPICS and row["article_value"]
    }


def test_notebook_on_the_project_data(tmp_path: Path) -> None:
    nb = run(tmp_path, data_dir=str(paths.DATA_DIR))
    claims = read_csv(paths.EVIDENCE_CLAIMS)
    events = read_csv(paths.EVIDENCE_EVENTS)

    assert not any(
        out.get("output_type") == "error" for cell in nb.cells for out in cell.get("outputs", [])
    )
    (svg,) = outputs(nb, "image/svg+xml")
    bars = set(re.findall(r'id="bar-([a-z0-9_]+)"', svg))
    assert bars == expected_bars(claims)
    assert len(bars) == 6
    assert "What customers say about AI in customer service" in svg
    for status in {r["status"] for r in claims if r["id"] in bars}:
        assert f"· {status}" in svg

    claims_html, events_html = outputs(nb, "text/html")
    assert 'data-table="claims"' in claims_html and 'data-table="events"' in events_html
    assert re.findall(r'<tr data-id="([^"]+)"', claims_html) == [r["id"] for r in claims]
    assert re.findall(r'<tr data-id="([^"]+)"', events_html) == [r["id"] for r in events]

    (summary,) = outputs(nb, "text/markdown")
    n_unverified = sum(r["status"] == "unverified" for r in claims)
    assert summary.startswith(f"Of the {len(claims)} figures the article cites: ")
    assert f"{n_unverified} not verified" in summary
    assert f"Of the {len(events)} workforce events it cites: " in summary
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert markdown[0] == "# What customers say about AI in customer service"


def test_notebook_follows_edited_data_and_parameters(tmp_path: Path) -> None:
    folder = copy_data(tmp_path / "data")
    claims = read_csv(folder / "evidence_claims.csv")
    kept = [r for r in claims if r["id"] not in {"open_to_ai_verint", "cso_retention_gartner"}]
    for row in kept:
        if row["id"] == "prefer_human_verint":
            row["status"] = "number differs"
    with (folder / "evidence_claims.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(claims[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)

    nb = run(tmp_path, data_dir=str(folder), title="Customers and AI: edited data")

    (svg,) = outputs(nb, "image/svg+xml")
    assert set(re.findall(r'id="bar-([a-z0-9_]+)"', svg)) == expected_bars(kept)
    assert "Customers and AI: edited data" in svg
    assert "Verint · number differs" in svg
    claims_html = outputs(nb, "text/html")[0]
    assert len(re.findall(r"<tr data-id=", claims_html)) == len(kept) == 10
    (summary,) = outputs(nb, "text/markdown")
    assert summary.startswith("Of the 10 figures the article cites: ")
    unverified = sum(r["status"] == "unverified" for r in kept)
    assert f"{unverified} not verified" in summary
    assert set(STATUSES) >= {r["status"] for r in kept}


def test_notebook_stops_on_invalid_data_naming_line_and_column(tmp_path: Path) -> None:
    folder = copy_data(tmp_path / "data")
    path = folder / "workforce_events.csv"
    text = path.read_text(encoding="utf-8").replace("number differs", "wrong number")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PapermillExecutionError) as info:
        run(tmp_path, data_dir=str(folder))
    assert info.value.ename == "DataValidationError"
    assert (
        "workforce_events.csv, line 3, column 'status': 'wrong number' is not one of"
        in info.value.evalue
    )
