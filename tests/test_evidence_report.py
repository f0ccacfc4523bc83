"""Charts, tables and narrative of the evidence report, on the real data and edited copies."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.colors
import pandas as pd
import pytest

from cxtradeoff import evidence_report as er
from cxtradeoff import paths
from cxtradeoff.errors import DataValidationError
from cxtradeoff.evidence import CUSTOMER_TOPICS, load_claims, load_events
from cxtradeoff.formatting import COLOURS


@pytest.fixture(scope="module")
def claims() -> pd.DataFrame:
    return load_claims()


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return load_events()


@pytest.fixture(scope="module")
def evidence() -> er.Evidence:
    return er.load_evidence()


@pytest.fixture(scope="module")
def surveys(evidence: er.Evidence) -> pd.DataFrame:
    return evidence.surveys


class _Rows(HTMLParser):
    """Collect the text of each ``<tr data-id>`` row's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._row: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and dict(attrs).get("data-id"):
            self._row = dict(attrs)["data-id"]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self.rows[self._row].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html_text: str) -> dict[str, list[str]]:
    parser = _Rows()
    parser.feed(html_text)
    return parser.rows


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("value", "high", "unit", "expected"),
    [
        (0.53, None, "share", "53%"),
        (0.8, None, "share", "80%"),
        (0.145, None, "share", "14.5%"),
        (5.0, 25.0, "multiple", "5–25×"),
        (0.25, 0.85, "share", "25%–85%"),
        (8.01, None, "usd_per_contact", "$8.01 per contact"),
        (4000.0, None, "jobs", "4,000 jobs"),
        (float("nan"), None, "share", "–"),
        (None, None, "none", "–"),
    ],
)
def test_format_value(value: object, high: object, unit: str, expected: str) -> None:
    assert er.format_value(value, high, unit=unit) == expected


def test_source_label_prefers_the_primary_source(claims: pd.DataFrame) -> None:
    rows = claims.set_index("id", drop=False)
    assert er.source_label(rows.loc["prefer_no_ai_gartner"].to_dict()) == "Gartner, 2024"
    assert er.source_label(rows.loc["prefer_human_verint"].to_dict()) == "Verint"
    # no source found: the one the article credits
    assert er.source_label(rows.loc["savings_mckinsey"].to_dict()) == "McKinsey"
    assert (
        er.source_label(rows.loc["acquisition_vs_retention"].to_dict())
        == "Harvard Business Review, 2014"
    )


def test_status_counts_list_every_status(claims: pd.DataFrame) -> None:
    counts = er.status_counts(claims)
    assert list(counts) == [
        "verified",
        "wording differs",
        "number differs",
        "secondary only",
        "unverified",
        "qualitative",
    ]
    assert sum(counts.values()) == len(claims)
    assert counts == claims["status"].value_counts().reindex(list(counts), fill_value=0).to_dict()


# --------------------------------------------------------------------------- chart


def test_customer_shares_selects_survey_shares(claims: pd.DataFrame) -> None:
    data = er.customer_shares(claims)
    expected = claims[
        (claims["unit"] == "share")
        & claims["topic"].isin(CUSTOMER_TOPICS)
        & claims["article_value"].notna()
    ]
    assert sorted(data["id"]) == sorted(expected["id"])
    assert len(data) == 6
    assert "savings_mckinsey" not in set(data["id"])  # a saving, not what customers say
    assert data.set_index("id").loc["prefer_no_ai_gartner", "label"] == "Gartner, 2024 · verified"


def test_chart_has_one_bar_per_share_coloured_by_status(claims: pd.DataFrame) -> None:
    fig = er.customer_shares_chart(claims, title="What customers say")
    ax = fig.axes[0]
    data = er.customer_shares(claims).set_index("id")
    bars = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("bar-")}
    assert set(bars) == {f"bar-{i}" for i in data.index}
    for claim_id, bar in bars.items():
        row = data.loc[claim_id.removeprefix("bar-")]
        assert bar.get_width() == pytest.approx(row["article_value"])
        assert matplotlib.colors.to_hex(bar.get_facecolor()) == COLOURS[row["status"]]
    texts = [t.get_text().replace("\n", " · ") for t in ax.texts]  # two lines a label
    for label in data["label"]:
        assert any(label in t for t in texts)
    assert any("56% (source: 61%)" in t for t in texts)
    assert ax.get_title(loc="left") == "What customers say"
    svg = er.figure_svg(fig)
    assert svg.count('id="bar-') == len(data)
    assert "What customers say" in svg  # text is kept as text


def test_chart_follows_the_data(claims: pd.DataFrame) -> None:
    edited = claims.copy()
    edited.loc[edited["id"] == "prefer_human_verint", "status"] = "number differs"
    edited = edited[edited["id"] != "open_to_ai_verint"]
    fig = er.customer_shares_chart(edited, title="t")
    labels = [t.get_text().replace("\n", " · ") for t in fig.axes[0].texts]
    svg = er.figure_svg(fig)
    assert svg.count('id="bar-') == 5
    assert "bar-open_to_ai_verint" not in svg
    assert "56% (source: 61%)  Verint · vendor survey · number differs" in labels
    assert "53%  Gartner, 2024 · wording differs" in labels  # not a vendor: not marked
    assert "Verint" in svg and "vendor survey · number differs" in svg


def test_newer_surveys_chart_is_labelled(surveys: pd.DataFrame) -> None:
    fig = er.newer_surveys_chart(surveys, title="Since the article")
    (ax,) = fig.axes
    assert ax.get_title(loc="left") == "Since the article"
    bars = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("survey-")}
    assert set(bars) == {f"survey-{i}" for i in surveys["id"]}
    by_id = surveys.set_index("id")
    for gid, bar in bars.items():
        row = by_id.loc[gid.removeprefix("survey-")]
        assert bar.get_width() == pytest.approx(row["value"])
        assert matplotlib.colors.to_hex(bar.get_facecolor()) == COLOURS[row["status"]]
    texts = [t.get_text() for t in ax.texts]
    assert "83%  Five9, 2026\nvendor survey · secondary only" in texts
    assert "70%  Acquire BPO, 2024\nvendor survey · secondary only" in texts
    assert "20%  Qualtrics, 2025\nvendor survey · secondary only" in texts
    svg = er.figure_svg(fig)
    assert svg.count('id="survey-') == len(surveys) and 'id="bar-' not in svg
    assert "secondary only" in svg and "wording differs" in svg  # the legend
    assert "primary source" not in svg  # no diamonds on this chart


def test_newer_surveys_order_and_labels(surveys: pd.DataFrame) -> None:
    data = er.newer_surveys(surveys)
    assert data["topic"].iloc[0] == "preference_for_humans"
    assert data["topic"].iloc[-1] == "spending_after_bad_experience"
    edited = surveys.copy()
    edited["vendor_survey"] = False
    assert not er.newer_surveys(edited)["label"].str.contains("vendor").any()


# --------------------------------------------------------------------------- tables


def test_claims_table_has_one_row_per_claim(claims: pd.DataFrame) -> None:
    rows = table_rows(er.claims_table_html(claims))
    assert list(rows) == claims["id"].tolist()
    gartner = rows["prefer_no_ai_gartner"]
    assert gartner[2] == "64%" and gartner[4] == "64%" and gartner[5] == "verified"
    assert "n = 5,728" in gartner[3]
    assert rows["acquisition_vs_retention"][2] == "5–25×"
    assert rows["savings_mckinsey"][3] == "none found"
    assert rows["qualtrics_opinionway"][2] == "–"


def test_claims_table_links_only_known_sources(claims: pd.DataFrame) -> None:
    html_text = er.claims_table_html(claims)
    links = re.findall(r'href="([^"]+)"', html_text)
    assert sorted(links) == sorted(claims["source_link"].dropna())


def test_tables_escape_the_data(claims: pd.DataFrame) -> None:
    edited = claims.copy()
    edited.loc[0, "article_claim"] = "<script>alert('x')</script> & more"
    edited.loc[0, "note"] = '"quoted" <b>bold</b>'
    html_text = er.claims_table_html(edited)
    assert "<script>" not in html_text and "<b>bold" not in html_text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html_text
    rows = table_rows(html_text)
    assert rows[edited.loc[0, "id"]][0] == "<script>alert('x')</script> & more"


def test_events_table(events: pd.DataFrame) -> None:
    rows = table_rows(er.events_table_html(events))
    # only the events the article cites; those found since have their own table
    assert list(rows) == events.loc[events["cited_by"] == "article", "id"].tolist()
    atlassian = rows["atlassian_layoffs"]
    assert atlassian[0] == "Atlassian (AU)30 Jul 2025"
    assert (atlassian[2], atlassian[3], atlassian[5]) == ("350 jobs", "150 jobs", "number differs")
    assert atlassian[4].startswith("The Daily Star (citing Sky News Australia)")
    assert rows["sky_agent_cuts"][4] == "none found"


# --------------------------------------------------------------------------- narrative


def test_summary_counts_come_from_the_data(claims: pd.DataFrame, events: pd.DataFrame) -> None:
    text = er.verification_summary(claims, events)
    counts = er.status_counts(claims)
    assert text.startswith(f"Of the {len(claims)} figures the article cites: ")
    assert f"{counts['unverified']} not verified" in text
    assert f"{counts['verified']} verified as stated" in text
    usable = counts["verified"] + counts["wording differs"]
    assert f"{usable} figures can be traced to a primary source" in text
    cited = events[events["cited_by"] == "article"]
    assert f"Of the {len(cited)} workforce events it cites: " in text
    doubtful = claims[claims["status"].isin(["unverified", "number differs"])]
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(bullets) == len(doubtful) + int((cited["status"] != "verified").sum())
    assert "Commonwealth Bank" not in text  # found since the article: not the article's
    assert any(b.startswith("- Atlassian:") for b in bullets)
    assert "(53%, Gartner, 2024, status: wording differs)" in text
    assert "conversion rate is a prior" in text


def test_summary_changes_with_the_data(claims: pd.DataFrame, events: pd.DataFrame) -> None:
    edited = claims.copy()
    edited.loc[edited["id"] == "consider_switch_gartner", "status"] = "unverified"
    edited = edited[~edited["id"].isin(["cso_retention_gartner", "qualtrics_opinionway"])]
    text = er.verification_summary(edited, events.iloc[:1])
    assert text.startswith("Of the 10 figures the article cites: ")
    assert "5 not verified" in text
    assert "qualitative" not in text.split("\n")[0]
    assert "Of the 1 workforce event it cites: 1 verified as stated." in text
    assert "consider switching (status: unverified) is itself in doubt" in text


def test_summary_escapes_markdown(claims: pd.DataFrame, events: pd.DataFrame) -> None:
    edited = claims.copy()
    edited.loc[edited["id"] == "savings_mckinsey", "note"] = "see *this* <i>and</i> [that]"
    text = er.verification_summary(edited, events)
    assert r"see \*this\* &lt;i&gt;and&lt;/i&gt; \[that\]" in text


DATA_FILES = (
    paths.EVIDENCE_CLAIMS,
    paths.EVIDENCE_EVENTS,
    paths.REFERENCE_FIGURES,
    paths.FORECASTS,
    paths.CUSTOMER_SURVEYS,
    paths.FIELD_EXPERIMENTS,
    paths.SERVICE_RULES,
)


def test_load_evidence_from_a_folder(tmp_path: Path) -> None:
    for source in DATA_FILES:
        (tmp_path / source.name).write_bytes(source.read_bytes())
    loaded = er.load_evidence(str(tmp_path))
    assert loaded.claims.equals(er.load_evidence("").claims)
    assert len(loaded.events) == 7 and len(loaded.reference) == 10
    assert (len(loaded.forecasts), len(loaded.surveys), len(loaded.experiments)) == (7, 8, 5)
    assert [rule.id for rule in loaded.rules][:1] == ["es_law_10_2025_large_firms"]


def test_load_evidence_names_a_missing_new_file(tmp_path: Path) -> None:
    for source in DATA_FILES:
        if source != paths.SERVICE_RULES:
            (tmp_path / source.name).write_bytes(source.read_bytes())
    with pytest.raises(DataValidationError, match="service rules file does not exist"):
        er.load_evidence(tmp_path)


# --------------------------------------------------------------------------- since the article


def test_reversals_table(events: pd.DataFrame) -> None:
    rows = table_rows(er.reversals_table_html(events))
    assert list(rows) == ["cba_voice_bot_reversal", "klarna_human_on_request_2025",
                          "klarna_headcount_2025"]  # fmt: skip
    cba = rows["cba_voice_bot_reversal"]
    assert cba[0] == "Commonwealth Bank of Australia (AU)reversal, 21 Aug 2025"
    assert (cba[2], cba[4]) == ("45 jobs", "verified")
    assert cba[3].startswith("Information Age (Australian Computer Society)")
    assert rows["klarna_human_on_request_2025"][2] == "–"  # no number
    assert rows["klarna_headcount_2025"][4] == "secondary only"
    assert rows["klarna_headcount_2025"][0].endswith("staff cut, Jun 2025")


def test_forecasts_table(evidence: er.Evidence) -> None:
    html_text = er.forecasts_table_html(evidence.forecasts)
    rows = table_rows(html_text)
    assert list(rows) == evidence.forecasts["id"].tolist()
    f500 = rows["gartner_no_f500_agentless_2028"]
    assert f500[0].startswith("Forecast, Gartner: By 2028, none of the Fortune 500")
    assert (f500[1], f500[2], f500[4]) == ("0%", "2028", "verified")
    survey = rows["gartner_cut_because_of_ai"]
    assert survey[0].startswith("Survey of service leaders, Gartner:")
    assert (survey[1], survey[2]) == ("20%", "")
    assert "n = 321" in survey[3]
    assert "https://www.businesswire.com/news/home/20250910318438/en" in html_text


def test_surveys_table_marks_vendor_surveys(surveys: pd.DataFrame) -> None:
    rows = table_rows(er.surveys_table_html(surveys))
    assert set(rows) == set(surveys["id"])
    qualtrics = rows["qualtrics_2026_ai_no_benefit"]
    assert qualtrics[1] == "20%"
    assert qualtrics[2].startswith("Qualtrics XM Institute (vendor survey)fieldwork Q3 2025")
    assert "n = 20,000" in qualtrics[2]


def test_experiments_table_says_what_each_does_not_show(evidence: er.Evidence) -> None:
    rows = table_rows(er.experiments_table_html(evidence.experiments))
    luo = rows["luo_chatbot_disclosure_2019"]
    assert "6,200 customers" in luo[1]
    assert "not service contacts" in luo[4]
    assert "(Brazil)" in rows["de_mesquita_intention_gap_2023"][1]
    assert rows["brynjolfsson_li_raymond_2025"][5] == "number differs"


def test_since_article_summary(evidence: er.Evidence) -> None:
    paragraphs = er.since_article_paragraphs(
        evidence.events, evidence.forecasts, evidence.surveys, evidence.experiments
    )
    assert [p.split("**")[1] for p in paragraphs] == [
        "Reversals.",
        "Forecasts.",
        "Newer surveys.",
        "Field experiments.",
        "The intention-behaviour gap.",
    ]
    text = er.since_article_summary(
        evidence.events, evidence.forecasts, evidence.surveys, evidence.experiments
    )
    assert text == "\n\n".join(paragraphs)
    assert text.startswith(
        "**Reversals.** 2 reversals the article did not report, at Commonwealth Bank of "
        "Australia and Klarna."
    )
    # forecasts by date of publication, each with its status
    lines = [line for line in text.splitlines() if line.startswith("- By 20")]
    assert len(lines) == 5
    assert lines[0].endswith("(Gartner, 5 Mar 2025; secondary only).")
    assert lines[-1].endswith("(Gartner, 3 Feb 2026; verified).")
    assert "all run by companies that sell service technology" in text
    assert "7 of the 8 were read only in press coverage" in text
    assert (
        "5 studies observe what people do rather than what they say: Luo et al. (2019), "
        "Zhang et al. (2025), Brynjolfsson et al. (2025), Wirtz et al. (2014) and de Mesquita "
        "et al. (2023)."
    ) in text
    assert "stays a stated prior" in text
    # follows the data
    fewer = evidence.events[evidence.events["id"] != "cba_voice_bot_reversal"]
    edited = er.since_article_summary(
        fewer, evidence.forecasts.iloc[:0], evidence.surveys.iloc[:0], evidence.experiments
    )
    assert edited.startswith("**Reversals.** 1 reversal the article did not report, at Klarna.")
    assert "**Forecasts.**" not in edited and "**Newer surveys.**" not in edited


def test_rules_table_in_words(evidence: er.Evidence) -> None:
    html_text = er.rules_table_html(evidence.rules)
    rows = table_rows(html_text)
    assert list(rows) == [rule.id for rule in evidence.rules]
    spain = rows["es_law_10_2025_large_firms"]
    assert spain[1] == "Spain"
    assert "at least 250 staff, or turnover above EUR 50 million" in spain[2]
    assert spain[3] == "in force 28 Dec 2025; binds from 28 Dec 2026"
    assert spain[4].startswith(
        "a person on request; calls answered quickly; complaints answered in time:"
    )
    assert rows["eu_ai_act_art_50_1"][1] == "European Union (27 member states)"
    assert rows["eu_ai_act_art_50_1"][2] == "Every firm, whatever its size"
    assert rows["eu_digital_fairness_act"][3] == "a proposal, not in force"
    assert rows["ca_moffatt_v_air_canada_2024"][1] == "Canada"
    # no code identifiers in what the reader sees
    visible = " ".join(" ".join(cells) for cells in rows.values())
    for code in ("human_on_request", "ai_disclosure", "passenger_transport", "case_law", "_"):
        assert code not in visible


def test_law_summary(evidence: er.Evidence) -> None:
    text = er.law_summary(evidence.rules)
    assert text.startswith(
        "**A person on request** is compulsory in Spain for the firms the table lists, under "
        "Spain's Law 10/2025 on customer service: in force since 28 Dec 2025, and firms have "
        "until 28 Dec 2026 to adapt."
    )
    assert "at least one half" in text and "Hybrid passes" in text
    assert "Under the EU AI Act, Article 50(1), from 2 Aug 2026 in the European Union" in text
    assert "**Not yet law.** EU Digital Fairness Act (proposal)" in text
