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
DATA_FILES = (
    paths.EVIDENCE_CLAIMS,
    paths.EVIDENCE_EVENTS,
    paths.REFERENCE_FIGURES,
    paths.FORECASTS,
    paths.CUSTOMER_SURVEYS,
    paths.FIELD_EXPERIMENTS,
    paths.SERVICE_RULES,
)

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


#: the HTML tables the notebook shows, in order
TABLES = ("claims", "events", "reversals", "forecasts", "surveys", "experiments", "rules")
#: every source added from the review of 2025-26, as the report names it
NEW_SOURCES = (
    "Commonwealth Bank of Australia",
    "Information Age (Australian Computer Society)",
    "CX Dive (citing a Bloomberg interview)",
    "Semafor",
    "ABP Live (citing Moneycontrol)",
    "The Daily Star (citing Sky News Australia)",
    "Gartner Predicts None of the Fortune 500 Companies Will Have Fully Eliminated Human",
    "Gartner Predicts Half of Companies That Cut Customer Service Staff Due to AI Will Rehire",
    "Gartner (reported by IT-Online)",
    "Gartner (reported by Chanl)",
    "Qualtrics XM Institute",
    "Five9",
    "Acquire BPO",
    "Frontiers: Machines vs. Humans",
    "Engaging Customers with AI in Online Chats",
    "Generative AI at Work",
    "Contrasting the Drivers of Switching Intent and Switching Behavior",
    "Measuring the intention-behavior gap in service failure and recovery",
    "Ley 10/2025, de 26 de diciembre",
    "Regulation (EU) 2024/1689 (Artificial Intelligence Act)",
    "Moffatt v. Air Canada, 2024 BCCRT 149",
    "EU Digital Fairness Act",
)


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
    svg, surveys_svg = outputs(nb, "image/svg+xml")
    bars = set(re.findall(r'id="bar-([a-z0-9_]+)"', svg))
    assert bars == expected_bars(claims)
    assert len(bars) == 6
    assert "What customers say about AI in customer service" in svg
    for status in {r["status"] for r in claims if r["id"] in bars}:
        assert status in svg

    surveys = read_csv(paths.CUSTOMER_SURVEYS)
    found = set(re.findall(r'id="survey-([a-z0-9_]+)"', surveys_svg))
    assert found == {r["id"] for r in surveys}
    assert "Consumer surveys published since the article" in surveys_svg
    assert "Five9, 2026" in surveys_svg and "vendor survey · secondary only" in surveys_svg

    tables = dict(zip(TABLES, outputs(nb, "text/html"), strict=True))
    for name, html_text in tables.items():
        assert f'data-table="{name}"' in html_text
    ids = {name: re.findall(r'<tr data-id="([^"]+)"', t) for name, t in tables.items()}
    article = [r for r in events if r["cited_by"] == "article"]
    assert ids["claims"] == [r["id"] for r in claims]
    assert ids["events"] == [r["id"] for r in article]
    assert ids["reversals"] == [r["id"] for r in events if r["cited_by"] == "review"]
    assert ids["forecasts"] == [r["id"] for r in read_csv(paths.FORECASTS)]
    assert set(ids["surveys"]) == {r["id"] for r in surveys}
    assert ids["experiments"] == [r["id"] for r in read_csv(paths.FIELD_EXPERIMENTS)]
    assert ids["rules"] == [r["id"] for r in read_csv(paths.SERVICE_RULES)]

    summary, *paragraphs, law = outputs(nb, "text/markdown")
    since = "\n\n".join(paragraphs)
    assert len(paragraphs) == 5  # one output per paragraph, so a printed page can break
    n_unverified = sum(r["status"] == "unverified" for r in claims)
    assert summary.startswith(f"Of the {len(claims)} figures the article cites: ")
    assert f"{n_unverified} not verified" in summary
    assert f"Of the {len(article)} workforce events it cites: " in summary
    assert since.startswith("**Reversals.**") and "stays a stated prior" in since
    assert law.startswith("**A person on request** is compulsory in Spain")
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert markdown[0] == "# What customers say about AI in customer service"
    headings = [line for text in markdown for line in text.splitlines() if line.startswith("## ")]
    assert "## What happened since the article" in headings
    assert "## What the law requires, where" in headings

    # the report names each new source, as published
    report = svg + surveys_svg + "".join(tables.values()) + since + law
    for name in NEW_SOURCES:
        assert name in report, name


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

    nb = run(
        tmp_path,
        data_dir=str(folder),
        title="Customers and AI: edited data",
        surveys_title="Newer surveys: edited title",
    )

    svg, surveys_svg = outputs(nb, "image/svg+xml")
    assert "Newer surveys: edited title" in surveys_svg
    assert set(re.findall(r'id="bar-([a-z0-9_]+)"', svg)) == expected_bars(kept)
    assert "Customers and AI: edited data" in svg
    assert "Verint" in svg and "vendor survey · number differs" in svg
    claims_html = outputs(nb, "text/html")[0]
    assert len(re.findall(r"<tr data-id=", claims_html)) == len(kept) == 10
    summary = outputs(nb, "text/markdown")[0]
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


def test_notebook_follows_edited_rules_and_stops_on_a_bad_rule(tmp_path: Path) -> None:
    folder = copy_data(tmp_path / "data")
    path = folder / "service_rules.csv"
    rows = read_csv(path)
    kept = [r for r in rows if r["id"] != "ca_moffatt_v_air_canada_2024"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    nb = run(tmp_path, data_dir=str(folder))
    rules_html = outputs(nb, "text/html")[-1]
    assert re.findall(r'<tr data-id="([^"]+)"', rules_html) == [r["id"] for r in kept]
    assert "Moffatt" not in rules_html

    text = path.read_text(encoding="utf-8").replace(",ES,,true,250,", ",Spain,,true,250,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PapermillExecutionError) as info:
        run(tmp_path, data_dir=str(folder))
    assert info.value.ename == "DataValidationError"
    assert (
        "service_rules.csv, line 2, column 'jurisdiction': 'Spain' is not an ISO 3166-1 alpha-2"
        in info.value.evalue
    )
