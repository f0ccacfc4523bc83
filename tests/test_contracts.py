"""The results file and the manifest: typed, versioned, with their committed JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cxtradeoff.contracts import (
    Manifest,
    ResultsFile,
    json_schemas,
    load_manifest,
    load_results,
)
from cxtradeoff.errors import DataValidationError
from cxtradeoff.paths import ROOT
from cxtradeoff.profiles import load_profiles
from cxtradeoff.results import build_results, write_results

SCHEMAS = ROOT / "docs" / "schemas"


@pytest.fixture(scope="module")
def results() -> ResultsFile:
    telecom = load_profiles()["telecom"]
    return build_results(telecom, ["status_quo", "hybrid"], draws=200, seed=5)


def test_results_round_trip_through_the_file(tmp_path: Path, results: ResultsFile) -> None:
    path = write_results(results, tmp_path / "out" / "r.results.json")
    assert load_results(path) == results
    assert json.loads(path.read_text(encoding="utf-8"))["schema_version"] == 2
    assert [p.name for p in path.parent.iterdir()] == ["r.results.json"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_version": None}, "older layout"),
        ({"schema_version": 1}, "older layout"),
        ({"schema_version": 99}, "unknown layout"),
        ({"draws": 0}, "draws: Input should be greater than or equal to 1"),
        ({"recommended": "reversal"}, "recommended scenario 'reversal' is not in scenarios"),
        ({"headline": {"scenario": "hybrid"}}, "headline.annual_savings: Field required"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_a_results_file_of_another_version_or_shape_says_to_rebuild(
    tmp_path: Path, results: ResultsFile, change: dict, message: str
) -> None:
    data = {**results.model_dump(mode="json"), **change}
    if change.get("schema_version", 1) is None:
        del data["schema_version"]
    path = tmp_path / "old.results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataValidationError, match=message) as info:
        load_results(path)
    assert "rebuild the report" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"), [(None, "does not exist"), ("{not json", "not valid JSON")]
)
def test_a_missing_or_torn_manifest_is_named(
    tmp_path: Path, text: str | None, message: str
) -> None:
    path = tmp_path / "manifest.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError, match=message):
        load_manifest(path)


def test_no_nan_or_infinity_reaches_a_results_file(results: ResultsFile) -> None:
    data = results.model_dump()
    data["scenarios"]["hybrid"]["npv"] = float("inf")
    with pytest.raises(ValueError, match=r"scenarios\.hybrid\.npv\n  Input should be a finite"):
        ResultsFile.model_validate(data)


def test_manifest_model_reads_what_it_writes(tmp_path: Path) -> None:
    manifest = Manifest(
        build_id="20261127T000000Z-00000000",
        built_at="2026-11-27T00:00:00+00:00",
        config="reports.yaml",
        reports={"evidence": {"title": "Evidence", "notebook": "n.ipynb", "status": "ok"}},
    )
    path = tmp_path / "manifest.json"
    path.write_text(manifest.model_dump_json(), encoding="utf-8")
    assert load_manifest(path) == manifest


def test_a_portfolio_unit_names_its_roll_up_and_no_other_entry_gains_a_field(
    tmp_path: Path,
) -> None:
    """``unit_of`` is written for a portfolio's units alone: a build without portfolios
    writes the manifest it wrote before the field existed, which older readers accept."""
    from cxtradeoff.contracts import write_model

    entry = {"title": "T", "notebook": "n.ipynb", "status": "ok"}
    manifest = Manifest(build_id="b", built_at="t", config="reports.yaml", reports={
        "plain": entry, "unit": {**entry, "unit_of": "group"}, "group": entry})  # fmt: skip
    path = write_model(manifest, tmp_path / "manifest.json")
    written = json.loads(path.read_text(encoding="utf-8"))["reports"]
    assert "unit_of" not in written["plain"] and "unit_of" not in written["group"]
    assert written["unit"]["unit_of"] == "group"
    assert load_manifest(path) == manifest


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_committed_json_schemas_match_the_models(name: str) -> None:
    committed = SCHEMAS / name
    assert committed.is_file(), f"{committed} is missing: run 'make schemas'"
    assert json.loads(committed.read_text(encoding="utf-8")) == json_schemas()[name], (
        f"{committed} differs from the model: run 'make schemas' and commit the result"
    )
