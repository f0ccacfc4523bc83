"""Print quality: the checks of ``cxtradeoff.printcheck`` on PDFs made here, good and bad,
so that each check is seen to fail on what it is meant to catch; then the same checks on
every report the project builds, and their HTML opened in Chromium."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cxtradeoff import printcheck
from cxtradeoff.formatting import money

A4 = (595.28, 841.89)


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A minimal PDF, one page per list of content-stream operators (Helvetica as /F1).

    Coordinates are PDF points from the bottom left corner, as in ``BT /F1 12 Tf 72 700 Td
    (text) Tj ET`` or ``72 100 200 150 re f``.
    """
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, ops in enumerate(pages):
        stream = "\n".join(ops).encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4[0]} {A4[1]}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def text(x: float, y_from_top: float, words: str, *, size: float = 11) -> str:
    """A line of Helvetica text whose baseline is ``y_from_top`` points below the page top."""
    return f"BT /F1 {size} Tf {x} {A4[1] - y_from_top} Td ({words}) Tj ET"


def body_lines(first: float, last: float, *, step: float = 16) -> list[str]:
    lines, y = [], first
    while y <= last:
        lines.append(text(60, y, "Automation pays while fewer than 6% of customers leave."))
        y += step
    return lines


HEADER_FOOTER = [text(40, 30, "Telecom report", size=8), text(480, 820, "Page 1 of 2", size=8)]


@pytest.fixture
def good_pdf(tmp_path: Path) -> Path:
    """Two pages: the first full down to the footer, the last half full; 9 pt and up."""
    full = [*HEADER_FOOTER, *body_lines(80, 780)]
    last = [*HEADER_FOOTER, *body_lines(80, 300), text(60, 320, "Bold", size=9)]
    last.append(text(60.2, 320, "Bold", size=9))  # faux bold: the same glyphs drawn twice
    return write_pdf(tmp_path / "good.pdf", [full, last])


@pytest.fixture
def bad_pdf(tmp_path: Path) -> Path:
    """What was found in the telecom report: a table whose columns run into each other, a
    page half blank before the last, code names in the text and 6 pt type."""
    overlapping = [
        *HEADER_FOOTER,
        *body_lines(80, 760),
        text(60, 776, "contacts_per_customer"),
        text(120, 776, "Contacts per customer a year"),  # printed over the code name
    ]
    half_empty = [*HEADER_FOOTER, *body_lines(80, 380), f"60 {A4[1] - 420} 300 20 re f"]
    last = [*HEADER_FOOTER, text(60, 80, "Annual loyalty cost: 2e+06 (annual_loyalty_cost)")]
    last.append(text(60, 100, "Footnote in tiny type", size=6))
    return write_pdf(tmp_path / "bad.pdf", [overlapping, half_empty, last])


def test_a_good_pdf_passes_every_check(good_pdf: Path) -> None:
    assert printcheck.overlapping_characters(good_pdf) == []
    fill = printcheck.page_fill(good_pdf)
    assert len(fill) == 2
    assert fill[0] > 0.9  # down to the footer band
    assert 0.3 < fill[1] < 0.45  # the last page may be short
    assert printcheck.smallest_font_pt(good_pdf) == pytest.approx(8)  # the header's type
    assert printcheck.code_identifiers(" ".join(printcheck.pdf_text(good_pdf))) == []


def test_text_drawn_over_text_is_caught(bad_pdf: Path) -> None:
    overlaps = printcheck.overlapping_characters(bad_pdf)
    assert overlaps, "a label printed over a code name must be found"
    assert {o.page for o in overlaps} == {1}
    assert "contacts" in overlaps[0].context
    assert "page 1:" in str(overlaps[0])


def test_a_half_empty_page_is_caught(bad_pdf: Path) -> None:
    fill = printcheck.page_fill(bad_pdf)
    assert fill[0] > 0.9
    # the rectangle under the text is content too: it ends 420 pt from the top
    assert fill[1] == pytest.approx(420 / A4[1], abs=0.005)
    assert fill[1] < 2 / 3


def test_code_identifiers_and_small_type_are_caught(bad_pdf: Path) -> None:
    found = printcheck.code_identifiers("\n".join(printcheck.pdf_text(bad_pdf)))
    assert "annual_loyalty_cost" in found  # (the overlapped code name reads garbled)
    assert printcheck.smallest_font_pt(bad_pdf) == pytest.approx(6)


def test_the_header_and_footer_bands_are_not_content(tmp_path: Path) -> None:
    only_bands = write_pdf(tmp_path / "bands.pdf", [HEADER_FOOTER])
    assert printcheck.page_fill(only_bands) == [0.0]
    # a white rectangle over the whole content area (Chromium's page background) neither
    white = write_pdf(
        tmp_path / "white.pdf", [[*HEADER_FOOTER, "1 1 1 rg 34 45 527 746 re f", "0 0 0 rg"]]
    )
    assert printcheck.page_fill(white) == [0.0]


def test_a_table_column_run_into_the_next_is_an_overlap() -> None:
    """Digits of one cell drawn over the next cell's, as in the old scenario table."""
    row = [
        dict(text=d, x0=100 + 6 * i, x1=106 + 6 * i, top=600, bottom=611)
        for i, d in enumerate("33,856,001")
    ]
    row += [
        dict(text=d, x0=129 + 6 * i, x1=135 + 6 * i, top=600, bottom=611)
        for i, d in enumerate("0,272")
    ]
    overlaps = printcheck.page_overlaps(row, page=2)
    assert overlaps and overlaps[0].page == 2


def test_every_model_input_has_a_label_and_a_unit() -> None:
    """A director's table never falls back on a code name or a bare number."""
    from cxtradeoff.formatting import PARAMETER_LABELS, PARAMETER_UNITS
    from cxtradeoff.model import Parameters

    assert set(Parameters.model_fields) == set(PARAMETER_LABELS) == set(PARAMETER_UNITS)


# --------------------------------------------------------------------------- tables

SCENARIOS = ["status_quo", "hybrid", "full_automation", "reversal"]


def _visible_text(html: str) -> str:
    """An HTML table's text, its style sheet and tags left out."""
    return re.sub(r"<[^>]+>", " ", html.split("</style>")[-1])


@pytest.fixture(scope="module")
def spanish() -> Any:
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.results import build_results

    return build_results(load_profiles()["spanish_telecom"], SCENARIOS, draws=1000, seed=2)


def test_the_options_table_gives_each_scenario_in_words(spanish: Any) -> None:
    from cxtradeoff import tables
    from cxtradeoff.formatting import chance, scenario_title

    html = tables.options_table(spanish)
    text = _visible_text(html)
    assert f"{scenario_title(spanish.recommended)} (recommended)" in text
    for name, result in spanish.scenarios.items():
        assert scenario_title(name) in text
        assert chance(result.p_loss) in text and chance(result.p_best) in text
        assert money(result.npv_mean, spanish.currency, compact=True) in text
    # the rule that forbids full automation in Spain, named in the note, not in a narrow cell
    assert "Full automation is not permitted: Spain" in text
    assert text.count("no (see below)") == 2
    assert printcheck.code_identifiers(text) == []
    assert "e+0" not in text


def test_tables_carry_their_own_scoped_style() -> None:
    """great_tables leaves two rules unscoped; render scopes them to the table."""
    from great_tables import GT

    from cxtradeoff import tables

    html = tables.render(GT(pd.DataFrame({"a": ["x"]}), id="t1"), table_id="t1")
    style = html.split("</style>")[0]
    for line in style.splitlines():
        if "{" in line and not line.strip().startswith(("@", "}")):
            assert line.strip().startswith("#t1"), line
    assert "overflow-x:visible" in html.replace(" ", "")  # nothing to scroll on paper


def test_inputs_in_words_and_code_names_only_in_the_appendix() -> None:
    from cxtradeoff import tables
    from cxtradeoff.formatting import PARAMETER_LABELS, parameter_value
    from cxtradeoff.profiles import load_profiles

    company = load_profiles()["ecommerce"]
    director = "".join(
        _visible_text(table)
        for table in (
            tables.inputs_table(company, currency="EUR", overrides={"horizon_years": 4}),
            tables.uncertain_inputs_table(company.parameters, "hybrid", currency="EUR"),
            tables.drivers_table(company.parameters, "hybrid", currency="EUR"),
        )
    )
    assert printcheck.code_identifiers(director) == []
    assert "set for this report" in director  # the horizon differs from the profile's
    cost = company.parameters.cost_ai_contact  # a unit cost reads to the cent
    assert parameter_value("cost_ai_contact", cost, "EUR") == f"EUR {cost:.2f}"
    assert f"EUR {cost:.2f}" in director
    appendix = _visible_text(tables.code_names_table(company.parameters, "hybrid", currency="EUR"))
    assert set(printcheck.code_identifiers(appendix)) >= {n for n in PARAMETER_LABELS if "_" in n}
    assert re.findall(r"\d(?:\.\d+)?e[+-]\d", director + appendix) == []


# --------------------------------------------------------------------------- built reports
#
# The default reports (reports.yaml: the full reports and the one-page briefs; telecom after
# the illustrative pilot) built once for the module, then every PDF read back with printcheck
# and every HTML page opened in Chromium.

#: where the analysts' appendix starts: code names are allowed from there on
APPENDIX = "Appendix: inputs by their code names"
#: the HTML laid out at the width a printed A4 page gives it (186 mm at 96 px an inch), and
#: at a desktop window's
PRINT_WIDTH_PX = 703
SCREEN_WIDTH_PX = 1280


@pytest.fixture(scope="module")
def built_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every default report's PDF (and HTML beside it), by report name."""
    from cxtradeoff.cli import main
    from cxtradeoff.paths import REPORTS_CONFIG

    out = tmp_path_factory.mktemp("reports")
    few = ["--param", "draws=2000"]  # the layout, not the precision, is under test
    code = main(["build", "--config", str(REPORTS_CONFIG), "--out", str(out), "--jobs", "2", *few])
    assert code == 0
    return {path.name.removesuffix(".pdf"): path for path in out.glob("*.pdf")}


def _default_reports() -> list[str]:
    """The names of the reports ``reports.yaml`` builds, briefs included."""
    from cxtradeoff.paths import REPORTS_CONFIG

    return re.findall(r"(?m)^  - name: ([\w.-]+)", REPORTS_CONFIG.read_text(encoding="utf-8"))


REPORTS = _default_reports()
#: the full reports (a brief is one page, with no contents and no appendix)
FULL_REPORTS = [name for name in REPORTS if not name.endswith(".brief")]
#: the company reports, whose code names go to an appendix for analysts
COMPANY_REPORTS = [name for name in FULL_REPORTS if name not in ("evidence", "comparison")]


@dataclass(frozen=True)
class Findings:
    """What printcheck finds in one PDF (read once for every test)."""

    overlaps: list[printcheck.Overlap]
    fill: list[float]
    smallest_pt: float
    pages: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    @property
    def outside_appendix(self) -> str:
        """The text up to the analysts' appendix (all of it when there is none)."""
        return self.text.split(APPENDIX, 1)[0]


@pytest.fixture(scope="module")
def findings(built_reports: dict[str, Path]) -> dict[str, Findings]:
    return {
        name: Findings(
            overlaps=printcheck.overlapping_characters(pdf),
            fill=printcheck.page_fill(pdf),
            smallest_pt=printcheck.smallest_font_pt(pdf),
            pages=printcheck.pdf_text(pdf),
        )
        for name, pdf in built_reports.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_no_text_is_drawn_over_other_text(findings: dict[str, Findings], name: str) -> None:
    overlaps = findings[name].overlaps
    assert overlaps == [], "\n".join(str(o) for o in overlaps[:10])


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_no_page_but_the_last_is_more_than_a_third_empty(
    findings: dict[str, Findings], name: str
) -> None:
    fill = findings[name].fill
    short = {page: round(f, 2) for page, f in enumerate(fill[:-1], start=1) if f < 2 / 3}
    assert short == {}, f"pages filled to less than 2/3 of their height: {short}"


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_no_type_below_8_pt(findings: dict[str, Findings], name: str) -> None:
    # Chromium prints 8 pt type (the running header) at 7.995 pt
    assert findings[name].smallest_pt >= 8 - 0.01


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_no_code_name_outside_the_analysts_appendix(
    findings: dict[str, Findings], name: str
) -> None:
    assert printcheck.code_identifiers(findings[name].outside_appendix) == []
    if name in COMPANY_REPORTS:  # they have the analysts' appendix
        assert APPENDIX in findings[name].text
        assert "switch_conversion" in findings[name].text.split(APPENDIX, 1)[1]


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_no_number_in_scientific_notation_or_unformatted(
    findings: dict[str, Findings], name: str
) -> None:
    text = findings[name].text
    assert re.findall(r"\d(?:\.\d+)?e[+-]\d", text) == []
    # a large amount is grouped or worded (8,000,000 or EUR 8 million), never 8000000
    assert re.findall(r"(?<![\d,.])\d{5,}(?![\d,])", text) == []


@pytest.mark.slow
def test_the_report_leads_with_the_decision_and_the_options(
    built_reports: dict[str, Path], findings: dict[str, Findings]
) -> None:
    from cxtradeoff.contracts import load_results

    results = load_results(built_reports["telecom"].with_suffix(".results.json"))
    first = " ".join(findings["telecom"].pages[0].split())
    assert first.index("The decision") < first.index("Net present value")  # then the options
    assert "Recommended: " in first and "(recommended)" in first
    assert money(results.headline.npv_mean, results.currency) in first


@pytest.mark.slow
def test_after_a_pilot_the_report_says_so_and_shows_what_it_measured(
    findings: dict[str, Findings],
) -> None:
    """telecom is built after the illustrative pilot (reports.yaml); the others on the prior."""
    text = " ".join(findings["telecom"].text.split())
    assert "These figures use what an illustrative pilot measured" in text
    assert "What the pilot measured" in text and "randomised pilot" in text
    assert "What the pilot says about the customers who actually leave" in text  # its chart
    assert "What the pilot measured" not in findings["retail-bank"].text


def wide_tables(page: Any) -> list[str]:
    """The tables of a page (Playwright) wider than the element that holds them."""
    return page.evaluate(
        """() => [...document.querySelectorAll('table')].flatMap(t => {
            const box = t.parentElement;
            const over = t.getBoundingClientRect().width - box.clientWidth;
            const name = t.closest('[id]') ? t.closest('[id]').id : t.className;
            return over > 1 ? [`${name}: ${Math.round(over)} px wider than its container`] : [];
        })"""
    )


def broken_contents_links(page: Any) -> list[str]:
    """Links of the table of contents that lead nowhere."""
    return page.evaluate(
        """() => [...document.querySelectorAll('nav.cx-toc a')].flatMap(a => {
            const id = decodeURIComponent(a.getAttribute('href').slice(1));
            return document.getElementById(id) ? [] : [a.textContent];
        })"""
    )


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    from cxtradeoff.browser import require_chromium
    from cxtradeoff.pipeline.export import CHROMIUM_ARGS

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=require_chromium(), args=list(CHROMIUM_ARGS))
        yield chromium
        chromium.close()


def open_page(browser: Any, html: Path, *, width: int, media: str) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=True)
    page.emulate_media(media=media)
    page.goto(html.as_uri(), wait_until="load")
    return page


@pytest.mark.slow
def test_a_table_wider_than_its_container_is_caught(browser: Any, tmp_path: Path) -> None:
    """The check below can fail: a table of long unbreakable cells in a narrow column."""
    html = tmp_path / "wide.html"
    cells = "".join(f"<td>{'x' * 60}</td>" for _ in range(4))
    html.write_text(
        f'<div id="narrow" style="width: 300px"><table><tr>{cells}</tr></table></div>'
        '<nav class="cx-toc"><a href="#Nowhere">Nowhere</a></nav>'
    )
    page = open_page(browser, html, width=PRINT_WIDTH_PX, media="print")
    assert wide_tables(page) and "narrow" in wide_tables(page)[0]
    assert broken_contents_links(page) == ["Nowhere"]
    page.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize(
    ("width", "media"), [(PRINT_WIDTH_PX, "print"), (SCREEN_WIDTH_PX, "screen")]
)
def test_no_table_is_wider_than_its_container(
    built_reports: dict[str, Path], browser: Any, name: str, width: int, media: str
) -> None:
    page = open_page(browser, built_reports[name].with_suffix(".html"), width=width, media=media)
    try:
        assert page.locator("table").count() > 0
        assert wide_tables(page) == []
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", FULL_REPORTS)
def test_the_html_has_a_table_of_contents_that_leads_to_each_section(
    built_reports: dict[str, Path], browser: Any, name: str
) -> None:
    page = open_page(browser, built_reports[name].with_suffix(".html"), width=SCREEN_WIDTH_PX,
                     media="screen")  # fmt: skip
    try:
        entries = page.locator("nav.cx-toc a").all_text_contents()
        headings = page.locator("h2").all_text_contents()
        assert len(entries) >= 3
        assert entries == [h.rstrip("¶") for h in headings]
        assert broken_contents_links(page) == []
        assert page.locator("nav.cx-toc").is_visible()
        page.emulate_media(media="print")
        assert not page.locator(
            "nav.cx-toc"
        ).is_visible()  # the printed report leads with the decision
    finally:
        page.close()


#: a tablet held upright, the narrowest window the landing page is laid out for
TABLET_WIDTH_PX = 768


def local_links(page: Any) -> list[str]:
    """Where the page's links lead inside the reports folder (no fragment, no host)."""
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [h.split("#")[0] for h in hrefs if not re.match(r"^([a-z]+:|#)", h)]


@pytest.mark.slow
def test_a_link_to_a_missing_file_is_caught(browser: Any, tmp_path: Path) -> None:
    """The check below can fail: a landing page linking a brief that was never written."""
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    index = tmp_path / "index.html"
    index.write_text('<a href="a.pdf">a</a> <a href="b.brief.pdf#page=1">b</a> <a href="#x">x</a>')
    page = open_page(browser, index, width=SCREEN_WIDTH_PX, media="screen")
    try:
        links = local_links(page)
    finally:
        page.close()
    assert links == ["a.pdf", "b.brief.pdf"]
    assert [h for h in links if not (tmp_path / h).is_file()] == ["b.brief.pdf"]


@pytest.mark.slow
@pytest.mark.parametrize("width", [SCREEN_WIDTH_PX, TABLET_WIDTH_PX])
def test_the_landing_page_fits_and_every_link_leads_to_a_built_file(
    built_reports: dict[str, Path], browser: Any, width: int
) -> None:
    """The page a director opens first, in a real browser: each company's brief, report
    and notebook one click away, every link to a file the build wrote, no table spilling
    out of the page on a desktop window or an upright tablet."""
    from urllib.parse import unquote

    out = built_reports["telecom"].parent
    page = open_page(browser, out / "index.html", width=width, media="screen")
    try:
        links = local_links(page)
        assert wide_tables(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        page.close()
    for name in COMPANY_REPORTS:
        assert {f"{name}.brief.pdf", f"{name}.pdf", f"{name}.html"} <= set(links), name
    assert {"evidence.pdf", "comparison.pdf"} <= set(links)
    assert [h for h in links if not (out / unquote(h)).is_file()] == []
