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
from cxtradeoff.evidence import CUSTOMER_TOPICS, load_claims, load_events
from cxtradeoff.theme import PALETTE


@pytest.fixture(scope="module")
def claims() -> pd.DataFrame:
    return load_claims()


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return load_events()


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
        assert matplotlib.colors.to_hex(bar.get_facecolor()) == PALETTE[row["status"]]
    texts = [t.get_text() for t in ax.texts]
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
    svg = er.figure_svg(er.customer_shares_chart(edited, title="t"))
    assert svg.count('id="bar-') == 5
    assert "bar-open_to_ai_verint" not in svg
    assert "Verint · number differs" in svg


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
    assert list(rows) == events["id"].tolist()
    atlassian = rows["atlassian_layoffs"]
    assert atlassian[0] == "Atlassian (AU)"
    assert (atlassian[3], atlassian[4], atlassian[5]) == ("350 jobs", "150 jobs", "number differs")


# --------------------------------------------------------------------------- narrative


def test_summary_counts_come_from_the_data(claims: pd.DataFrame, events: pd.DataFrame) -> None:
    text = er.verification_summary(claims, events)
    counts = er.status_counts(claims)
    assert text.startswith(f"Of the {len(claims)} figures the article cites: ")
    assert f"{counts['unverified']} not verified" in text
    assert f"{counts['verified']} verified as stated" in text
    usable = counts["verified"] + counts["wording differs"]
    assert f"{usable} figures can be traced to a primary source" in text
    assert f"Of the {len(events)} workforce events it cites: " in text
    doubtful = claims[claims["status"].isin(["unverified", "number differs"])]
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(bullets) == len(doubtful) + int((events["status"] != "verified").sum())
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


def test_load_evidence_from_a_folder(tmp_path: Path) -> None:
    for source in (paths.EVIDENCE_CLAIMS, paths.EVIDENCE_EVENTS, paths.REFERENCE_FIGURES):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    loaded = er.load_evidence(str(tmp_path))
    assert loaded.claims.equals(er.load_evidence("").claims)
    assert len(loaded.events) == 4 and len(loaded.reference) == 9
