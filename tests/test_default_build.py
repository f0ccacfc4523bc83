"""The project's own reports, built by the pipeline with few draws, read back as a user would."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from cxtradeoff.browser import require_chromium
from cxtradeoff.cli import main
from cxtradeoff.contracts import load_manifest, load_results
from cxtradeoff.formatting import (
    break_even_sentence,
    break_even_words,
    chance,
    money,
    scenario_title,
)
from cxtradeoff.paths import COMPANY_PROFILES, NOTEBOOKS_DIR, REPORTS_CONFIG, ROOT
from cxtradeoff.pipeline.export import CHROMIUM_ARGS

pytestmark = pytest.mark.slow

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The evidence and telecom reports and telecom's brief, built with 1,000 Monte Carlo
    draws (asking for the brief builds the report it reads first)."""
    out = tmp_path_factory.mktemp("reports")
    code = main(["build", "--config", str(REPORTS_CONFIG), "--out", str(out), "--only",
                 "telecom.brief", "evidence", "--param", "draws=1000", "--jobs", "2"])  # fmt: skip
    assert code == 0
    return out


def _pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def test_analysis_pdf_has_pages_and_the_headline_numbers(built: Path) -> None:
    results = json.loads((built / "telecom.results.json").read_text())
    head, currency = results["headline"], results["currency"]
    pages, text = _pdf_text(built / "telecom.pdf")
    assert pages > 1
    assert "Savings versus loyalty: telecom operator" in text  # the title block
    assert f"Page 1 of {pages}" in text
    scenario = results["scenarios"][head["scenario"]]
    assert money(scenario["annual_savings"], currency) in text
    assert money(head["npv"], currency) in text
    k_star = head.get("break_even_conversion_npv", head["break_even_conversion"])
    assert " ".join(break_even_sentence(k_star).split())[:60] in text
    assert f"the chance of losing money is {chance(head['p_loss'])}" in text


def test_evidence_pdf_holds_the_title_and_the_key_figures(built: Path) -> None:
    pages, text = _pdf_text(built / "evidence.pdf")
    assert pages > 1
    assert "What customers say about AI in customer service" in text
    assert "53%" in text and "64%" in text


def test_manifest_and_landing_page_carry_the_headline(built: Path) -> None:
    manifest = load_manifest(built / "manifest.json")
    entry = manifest.reports["telecom"]
    results = load_results(built / "telecom.results.json")
    assert entry.headline is not None
    assert entry.headline.model_dump() == {
        "currency": results.currency,
        **results.headline.model_dump(),
    }
    assert entry.parameters["draws"] == 1000 and entry.parameters["profile"] == "telecom"
    assert "data/company_profiles.csv" in entry.inputs
    assert manifest.reports["evidence"].headline is None
    index = (built / "index.html").read_text()
    assert "Telecom operator (illustrative)" in index
    head = results.headline  # the landing page words them as the report does
    for shown in (scenario_title(head.scenario), money(head.npv_mean, results.currency),
                  break_even_words(head.break_even_conversion_npv), chance(head.p_loss)):  # fmt: skip
        assert shown in index, shown


def test_a_hostile_display_name_renders_as_text_and_runs_nothing(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    profiles = tmp_path / "profiles.csv"
    with COMPANY_PROFILES.open(newline="") as src, profiles.open("w", newline="") as dst:
        rows = list(csv.DictReader(src))
        writer = csv.DictWriter(dst, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            if row["profile"] == "telecom":
                row["display_name"] = XSS
            writer.writerow(row)
    config = tmp_path / "reports.yaml"
    config.write_text(json.dumps({"reports": [{
        "name": "hostile", "notebook": str(NOTEBOOKS_DIR / "02-savings-vs-loyalty.ipynb"),
        "title": "Hostile <b>title</b>", "profile": "telecom", "inputs": [str(profiles)],
        "parameters": {"profile": "telecom", "profiles_path": str(profiles), "draws": 1000}}]}))  # fmt: skip
    out = tmp_path / "out"
    assert main(["build", "--config", str(config), "--out", str(out), "--formats", "html"]) == 0
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=require_chromium(), args=list(CHROMIUM_ARGS))
        for name in ("hostile.html", "index.html"):
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto((out / name).as_uri(), wait_until="load")
            page.wait_for_timeout(200)
            body = page.inner_text("body")
            assert XSS in body, name  # shown as text
            assert page.locator("script").count() == 0, name  # no script element at all
            assert page.evaluate("document.querySelectorAll('b').length === 0 || "
                                 "![...document.querySelectorAll('b')].some(b => b.textContent === 'title')")  # fmt: skip
            page.close()
        browser.close()
    assert dialogs == []


def test_evidence_html_is_self_contained_and_names_its_sources(built: Path) -> None:
    import re

    html = (built / "evidence.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc=", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*rel=.?stylesheet", html, re.IGNORECASE)
    assert not re.search(r"<img[^>]*\bsrc=.?(https?:)?//", html, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html, re.IGNORECASE)
    for source in ("Gartner", "HubSpot", "Verint", "Harvard Business Review", "Klarna"):
        assert source in html, source


def test_a_forced_rebuild_gives_the_same_numbers_bit_for_bit(built: Path) -> None:
    before = (built / "telecom.results.json").read_bytes()
    code = main(["build", "--config", str(REPORTS_CONFIG), "--out", str(built), "--only", "telecom",
                 "--param", "draws=1000", "--force", "--formats", "html"])  # fmt: skip
    assert code == 0
    assert (built / "telecom.results.json").read_bytes() == before
    assert (built / "telecom.pdf").exists()  # not made this time: the last one is kept
    assert load_manifest(built / "manifest.json").reports["telecom"].outputs["pdf"] is None


def test_the_brief_is_built_after_its_report_and_listed_like_the_others(built: Path) -> None:
    from cxtradeoff import printcheck
    from cxtradeoff.formatting import decision_lines

    manifest = load_manifest(built / "manifest.json")
    entry = manifest.reports["telecom.brief"]
    assert entry.status == "ok" and entry.depends_on == ["telecom"]
    assert entry.outputs["pdf"] == "telecom.brief.pdf" and entry.outputs["results"] is None
    assert entry.input_hash and "notebooks/06-brief.ipynb" in entry.inputs
    pdf = built / "telecom.brief.pdf"
    pages, text = _pdf_text(pdf)
    assert pages == 1
    lines = decision_lines(load_results(built / "telecom.results.json"))
    assert lines.title.split(":")[0] in text and "The options" in text
    assert "Page 1 of" not in text  # no running header or footer: the brief has its own
    assert printcheck.code_identifiers(text) == [] and not printcheck.overlapping_characters(pdf)
    archived = sorted((built / "archive").iterdir())[-1]
    assert (archived / "telecom.brief.pdf").is_file()
    index = (built / "index.html").read_text()
    assert 'href="telecom.brief.pdf"' in index and lines.title in index


def test_built_files_match_the_committed_json_schemas_and_decide_on_the_mean(built: Path) -> None:
    """The results files and the manifest a build writes validate against docs/schemas/
    (what an outside reader would check them with), and every results file recommends
    the permitted scenario with the highest expected NPV."""
    import jsonschema

    schemas = ROOT / "docs" / "schemas"
    checks = {
        "manifest.json": "manifest.v2.schema.json",
        **{p.name: "results.v2.schema.json" for p in built.glob("*.results.json")},
    }
    assert len(checks) >= 2
    for name, schema in checks.items():
        document = json.loads((built / name).read_text(encoding="utf-8"))
        jsonschema.validate(document, json.loads((schemas / schema).read_text(encoding="utf-8")))
    for path in built.glob("*.results.json"):
        results = load_results(path)
        allowed = {n: s.npv_mean for n, s in results.scenarios.items() if s.permitted}
        assert results.recommended == max(allowed, key=allowed.get), path.name
        assert results.headline.scenario == results.recommended
