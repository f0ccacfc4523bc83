"""The one-page decision brief: its words, and every company's brief built and read back.

The fast tests word a results file as the brief does. The slow ones build, with the real
brief notebook and template, the brief of every company profile (their results made here
with few draws; telecom's after the illustrative pilot), then read each PDF back: one A4
page, no characters drawn over others, no code identifiers, no font under 8 pt; and the
numbers of one company compared on its brief, the landing page, the e-mail and its
results file.
"""

from __future__ import annotations

import html
import json
import re
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest
from pypdf import PdfReader

from cxtradeoff import brief, narrative, printcheck
from cxtradeoff.cli import main
from cxtradeoff.contracts import ResultsFile, load_manifest, load_results
from cxtradeoff.formatting import (
    break_even_words,
    chance,
    decision_break_even,
    decision_contender,
    decision_lines,
    money,
    parameter_label,
    scenario_title,
    share,
)
from cxtradeoff.paths import NOTEBOOKS_DIR
from cxtradeoff.pilot import pilot_file_path, read_pilot_file
from cxtradeoff.pipeline.config import ReportSpec
from cxtradeoff.pipeline.plan import report_key
from cxtradeoff.profiles import load_profiles
from cxtradeoff.results import build_results

SCENARIOS = ["status_quo", "hybrid", "full_automation", "reversal"]
XSS = "<script>alert(1)</script>"
A4_PT = (595.3, 841.9)  # 210 x 297 mm


def _results(profile: str, *, draws: int = 1000, pilot: bool = False) -> ResultsFile:
    counts = read_pilot_file(pilot_file_path("telecom-illustrative-pilot.csv")) if pilot else None
    return build_results(load_profiles()[profile], SCENARIOS, draws=draws, seed=11, pilot=counts)


@pytest.fixture(scope="module")
def spanish() -> ResultsFile:
    """A company a law binds: full automation and the reversal are forbidden."""
    return _results("spanish_telecom")


@pytest.fixture(scope="module")
def piloted() -> ResultsFile:
    return _results("telecom", pilot=True)


def _flat(text: str) -> str:
    """Text with every run of white space made one space (PDF lines wrap anywhere)."""
    return " ".join(text.split())


def _reads(sentence: str, text: str) -> bool:
    """Whether the words of ``sentence`` come in order in ``text``: a PDF read back puts
    the lines of two columns side by side, so a sentence may be interleaved with the other
    column's words, never reordered."""
    words = iter(text.split())
    return all(any(word == seen for seen in words) for word in sentence.split())


# ---------------------------------------------------------------------------- words


def test_the_options_table_marks_the_choice_the_forbidden_and_what_can_be_undone(
    spanish: ResultsFile,
) -> None:
    rows = {r.scenario: r for r in brief.option_rows(spanish)}
    assert list(rows) == SCENARIOS
    assert rows[spanish.recommended].recommended
    assert sum(r.recommended for r in rows.values()) == 1
    rule = spanish.scenarios["full_automation"].blocked_by
    assert rule and "Law 10/2025" in rule
    for name in ("full_automation", "reversal"):
        assert rows[name].forbidden and rows[name].reversible == f"Not allowed: {rule}"
        assert rows[name].p_best == brief.NOTHING  # never the best: it cannot be chosen
    assert rows["status_quo"].reversible == "Nothing to undo"
    assert rows["status_quo"].break_even == brief.NOTHING
    assert rows["hybrid"].reversible.startswith("Easy to undo")
    hybrid = spanish.scenarios["hybrid"]
    assert rows["hybrid"].npv_mean == money(hybrid.npv_mean, "EUR")
    assert rows["hybrid"].p_loss == chance(hybrid.p_loss)
    assert rows["hybrid"].break_even == break_even_words(hybrid.break_even_conversion_npv)
    page = brief.options_html(spanish)
    assert page.count('class="rule">not allowed<') == 2 and html.escape(rule) in page


def test_full_automation_says_what_undoing_it_costs() -> None:
    results = _results("telecom", draws=200)
    row = {r.scenario: r for r in brief.option_rows(results)}["full_automation"]
    full, reversal = results.scenarios["full_automation"], results.scenarios["reversal"]
    assert row.reversible.startswith("Costly to undo: agents cut")
    assert money(full.severance_cost, "EUR", compact=True) in row.reversible
    assert money(reversal.rehiring_cost, "EUR", compact=True) in row.reversible


def test_the_header_states_the_decision_and_escapes_the_data(spanish: ResultsFile) -> None:
    hostile = spanish.model_copy(update={"display_name": XSS})
    top = brief.header_html(hostile, kicker="Decision brief", built="2026-11-27")
    lines = decision_lines(hostile)
    assert f"<h1>{html.escape(lines.title)}</h1>" in top
    assert html.escape(lines.decision) in top and "27 November 2026" in top
    assert "<script>" not in top and "&lt;script&gt;" in top
    assert "After the pilot" not in top


def test_a_pilot_is_said_in_the_title_and_in_one_line(piloted: ResultsFile) -> None:
    assert piloted.pilot is not None
    lines = decision_lines(piloted)
    assert lines.title.endswith("(after an illustrative pilot)") and lines.pilot is not None
    pilot = piloted.pilot
    assert f"{pilot.ai_churned:,} of {pilot.ai_customers:,}" in lines.pilot
    assert share(pilot.switch_conversion.mean) in lines.pilot
    assert lines.flip.startswith("After the pilot") and "no study measures it" not in lines.flip
    top = brief.header_html(piloted, kicker="Decision brief", built="2026-11-27")
    assert "After an illustrative pilot." in top and html.escape(lines.pilot) in top
    assert "After an illustrative 3-month pilot" in lines.pilot
    assert "after an illustrative pilot" in brief.options_html(piloted)


def test_an_option_more_often_best_than_the_one_recommended_is_explained(
    spanish: ResultsFile,
) -> None:
    """The options table shows each option's chance of being best; when a permitted option
    beats the recommended one on that, the brief says why it is still not recommended."""
    assert decision_lines(spanish).odds is None  # hybrid: recommended and most often best
    scenarios = dict(spanish.scenarios)
    chosen = spanish.recommended
    scenarios[chosen] = scenarios[chosen].model_copy(update={"p_best": 0.3})
    scenarios["status_quo"] = scenarios["status_quo"].model_copy(update={"p_best": 0.7})
    flipped = spanish.model_copy(update={"scenarios": scenarios})
    odds = decision_lines(flipped).odds
    assert odds is not None
    assert odds.startswith("The status quo comes out ahead in more of the draws (70% against 30%")
    assert money(scenarios[chosen].npv_mean, "EUR") in odds and "EUR 0" in odds
    top = brief.header_html(flipped, kicker="Decision brief", built="2026-11-27")
    assert f'<p class="odds">{html.escape(odds)}</p>' in top
    assert odds in narrative.headline_paragraph(flipped)
    # a forbidden option is never offered as the better bet, however often it would win
    forbidden = dict(scenarios)
    forbidden["status_quo"] = scenarios["status_quo"].model_copy(update={"p_best": 0.1})
    forbidden["full_automation"] = scenarios["full_automation"].model_copy(update={"p_best": 0.6})
    assert not forbidden["full_automation"].permitted
    assert decision_lines(spanish.model_copy(update={"scenarios": forbidden})).odds is None


def test_what_moves_the_answer_names_the_three_inputs_in_words(spanish: ResultsFile) -> None:
    part = brief.what_moves_html(spanish, chart_svg="<svg></svg>")
    lines = decision_lines(spanish)
    assert html.escape(lines.flip) in part and html.escape(lines.evppi) in part
    assert len(spanish.drivers) == 3
    for driver in spanish.drivers:
        assert html.escape(parameter_label(driver.parameter)) in part
        assert driver.parameter not in part


def test_the_other_valuation_of_a_lost_customer_is_given_when_it_differs() -> None:
    results = _results("b2b_software", draws=200)
    note = brief.other_valuation_note(results)
    assert note is not None and note.startswith("Valuing a lost customer at the cost of winning")
    hybrid = results.scenarios["hybrid"]
    assert break_even_words(hybrid.break_even_conversion_npv_replacement) in note
    assert brief.other_valuation_note(_results("telecom", draws=200)) is None


def test_the_chart_keeps_its_tick_labels_apart(spanish: ResultsFile) -> None:
    fig = brief.npv_range_chart(spanish)
    ax = fig.axes[0]
    fig.canvas.draw()
    boxes = sorted((t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()),
                   key=lambda b: b.x0)  # fmt: skip
    assert len(boxes) >= 2 and all(a.x1 < b.x0 for a, b in pairwise(boxes))
    svg = brief.svg_of(fig)
    assert svg.startswith("<svg") and "Full automation (not allowed)" in svg  # text stays text


def test_the_sources_line_says_where_the_figures_come_from(spanish: ResultsFile) -> None:
    basis = brief.profile_basis(["public figure", "assumption", "assumption"])
    line = brief.sources_html(spanish, basis=basis, built="2026-11-27")
    assert "1 of its 3 inputs rest on a public figure" in line
    assert "evidence report" in line and "Built 27 November 2026" in line


def test_the_brief_reads_the_file_it_is_given_or_the_last_build(
    tmp_path: Path, spanish: ResultsFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = tmp_path / "given.json"
    given.write_text(spanish.model_dump_json())
    assert brief.results_for_brief([str(given)]) == spanish
    (tmp_path / "telecom.results.json").write_text(spanish.model_dump_json())
    assert brief.results_for_brief([], reports_dir=tmp_path) == spanish
    monkeypatch.setattr(brief, "EXPLORE_DRAWS", 100)  # no build at all: telecom, on the spot
    fresh = brief.results_for_brief([], reports_dir=tmp_path / "none")
    assert (fresh.profile, fresh.draws) == ("telecom", 100)


def test_the_template_is_part_of_a_report_key() -> None:
    spec = ReportSpec("a", Path("a.ipynb"), "A")
    keys = {
        report_key(
            ReportSpec("a", Path("a.ipynb"), "A", template=t), {}, formats=["pdf"], dep_keys={}
        )
        for t in ("cxtradeoff", "brief")
    }
    assert len(keys) == 2
    assert report_key(spec, {}, formats=["pdf"], dep_keys={}) in keys


# ---------------------------------------------------------------------------- built

PROFILES = {
    "telecom": "telecom",
    "retail-bank": "retail_bank",
    "ecommerce": "ecommerce",
    "b2b-software": "b2b_software",
    "fintech": "fintech",
    "spanish-telecom": "spanish_telecom",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every company's brief, built by the pipeline from results made here (telecom's
    after the illustrative pilot), with a stand-in for the analysis notebook that hands
    the build its results file; plus one report that is not a company's."""
    root = tmp_path_factory.mktemp("briefs")
    (root / "notebooks").mkdir()
    stand_in = {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [],
             "execution_count": None, "id": "p",
             "source": 'source: str = ""  # results file to hand on\n'
                       'results_path: str = ""  # where the build wants it'},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "id": "c", "source": "import shutil\nshutil.copyfile(source, results_path)"},
        ],
        "metadata": {"kernelspec": {"name": "cxtradeoff", "display_name": "Python (cxtradeoff)",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    (root / "notebooks" / "company.ipynb").write_text(json.dumps(stand_in))
    (root / "notebooks" / "notes.ipynb").write_text(
        json.dumps(
            {
                **stand_in,
                "cells": [
                    {**stand_in["cells"][0], "source": 'note: str = "x"  # a note'},
                    {**stand_in["cells"][1], "source": "print(note)"},
                ],
            }
        )
    )
    reports: list[dict] = [{"name": "notes", "notebook": "notebooks/notes.ipynb",
                            "title": "Notes on the evidence"}]  # fmt: skip
    for name, profile in PROFILES.items():
        source = root / f"{name}.source.json"
        source.write_text(_results(profile, pilot=profile == "telecom").model_dump_json())
        reports += [
            {"name": name, "notebook": "notebooks/company.ipynb", "profile": profile,
             "title": f"Savings versus loyalty: {name}", "parameters": {"source": str(source)}},
            {"name": f"{name}.brief", "notebook": str(NOTEBOOKS_DIR / "06-brief.ipynb"),
             "title": f"Decision brief: {name}", "template": "brief", "depends_on": [name],
             "parameters": {"built": "2026-11-27"}},
        ]  # fmt: skip
    (root / "reports.yaml").write_text(json.dumps({"reports": reports}))
    out = root / "out"
    code = main(["build", "--config", str(root / "reports.yaml"), "--out", str(out), "--jobs", "2"])
    assert code == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", PROFILES)
def test_every_brief_is_one_clean_a4_page(built: Path, name: str) -> None:
    pdf = built / f"{name}.brief.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1, f"{name}: {len(reader.pages)} pages"
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - A4_PT[0]) < 2 and abs(float(box.height) - A4_PT[1]) < 2
    overlaps = printcheck.overlapping_characters(pdf)
    assert not overlaps, "\n".join(map(str, overlaps))
    text = "\n".join(printcheck.pdf_text(pdf))
    assert printcheck.code_identifiers(text) == []
    assert printcheck.smallest_font_pt(pdf) >= 7.95  # 8 pt, as Chromium rounds it
    results = load_results(built / f"{name}.results.json")
    lines = decision_lines(results)
    flat = _flat(text)
    for sentence in (lines.title, lines.decision, lines.flip, lines.evppi):
        assert _reads(sentence, flat), sentence
    assert "Built 27 November 2026" in flat
    page = (built / f"{name}.brief.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # loads nothing from a host
    assert "<script" not in page.lower()


@pytest.mark.slow
def test_a_forbidden_scenario_is_marked_with_its_rule(built: Path) -> None:
    results = load_results(built / "spanish-telecom.results.json")
    rule = results.scenarios["full_automation"].blocked_by
    assert rule
    flat = _flat(printcheck.pdf_text(built / "spanish-telecom.brief.pdf")[0])
    assert _reads(f"Not allowed: {rule}", flat) and _reads("Full automation (not allowed)", flat)
    index = html.unescape((built / "index.html").read_text())
    assert f"Full automation and reversal not allowed: {rule}" in index


@pytest.mark.slow
def test_the_pilot_is_on_the_brief_and_the_landing_row(built: Path) -> None:
    results = load_results(built / "telecom.results.json")
    lines = decision_lines(results)
    assert results.pilot is not None and lines.pilot is not None
    flat = _flat(printcheck.pdf_text(built / "telecom.brief.pdf")[0])
    assert "(after an illustrative pilot)" in flat and _reads(
        f"After an illustrative pilot. {lines.pilot}", flat
    )
    rows = _landing_rows(built / "index.html")
    assert "after an illustrative pilot" in rows["telecom"] and "pilot" not in rows["ecommerce"]


class _Rows(HTMLParser):
    """The text of each row of the landing page's tables, keyed by the brief it links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.text: list[str] = []
        self.key: str | None = None
        self.all: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.text, self.key = [], None
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.endswith(".brief.pdf"):
            self.key = href.removesuffix(".brief.pdf")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self.key:
            self.rows[self.key] = _flat(" ".join(self.text))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.all.append(data)


def _landing_rows(index: Path) -> dict[str, str]:
    parser = _Rows()
    parser.feed(index.read_text())
    return parser.rows


@pytest.mark.slow
def test_the_landing_page_is_a_dashboard_without_code_names(built: Path) -> None:
    parser = _Rows()
    parser.feed((built / "index.html").read_text())
    assert set(parser.rows) == set(PROFILES)  # one row per company, its brief on it
    text = _flat(" ".join(parser.all))
    assert printcheck.code_identifiers(text) == []
    assert "Notes on the evidence" in text  # the other reports are listed too
    for name in PROFILES:
        results = load_results(built / f"{name}.results.json")
        row = parser.rows[name]
        assert decision_lines(results).title in row
        assert f'href="{name}.brief.pdf"' in (built / "index.html").read_text()


@pytest.mark.slow
def test_brief_landing_page_email_and_results_file_say_the_same(
    built: Path, tmp_path: Path
) -> None:
    """The figures of one company, formatted from its results file, read the same on its
    brief, its landing-page row and in the e-mail; and the decision lines too."""
    results = load_results(built / "retail-bank.results.json")
    head, currency = results.headline, results.currency
    lines = decision_lines(results)
    break_even, _ = decision_break_even(results)
    assert results.recommended == "status_quo"  # the richer case: an AI option turned down
    contender = results.scenarios[str(decision_contender(results))]
    figures = [
        money(head.npv_mean, currency), chance(head.p_loss), share(head.switch_conversion),
        break_even, money(contender.npv_mean, currency), chance(contender.p_loss),
        scenario_title(results.recommended),
    ]  # fmt: skip
    brief_text = _flat(printcheck.pdf_text(built / "retail-bank.brief.pdf")[0])
    row = _landing_rows(built / "index.html")["retail-bank"]
    eml = tmp_path / "m.eml"
    assert main(["email", "--to", "you@example.com", "--reports-dir", str(built),
                 "--report", "retail-bank", "--config", str(tmp_path / "none.yaml"),
                 "--dry-run", str(eml)]) == 0  # fmt: skip
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    mail = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert msg["Subject"] == lines.title
    assert mail.startswith(f"{lines.title}\n{lines.decision}\n")  # the decision leads
    assert [p.get_filename() for p in msg.iter_attachments()] == [
        "cxtradeoff-retail-bank.brief.pdf"
    ]
    for shown in figures:
        assert shown in brief_text, ("brief", shown)
        assert shown in row, ("landing page", shown)
        assert shown in _flat(mail), ("e-mail", shown)
    for sentence in (lines.title, lines.decision):
        assert _reads(sentence, brief_text) and sentence in row and sentence in mail
    # hybrid is more often best than the status quo recommended: both say why
    assert lines.odds is not None and lines.odds.startswith("The hybrid set-up comes out ahead")
    assert _reads(lines.odds, brief_text) and lines.odds in _flat(mail)
    manifest = load_manifest(built / "manifest.json")
    assert manifest.reports["retail-bank"].headline.npv_mean == head.npv_mean  # type: ignore[union-attr]
    assert manifest.build_id in mail.split("\n-- \n", 1)[1]  # build ids in the footer only
    assert manifest.build_id not in mail.split("\n-- \n", 1)[0]
