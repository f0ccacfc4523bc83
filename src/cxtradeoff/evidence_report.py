"""Charts, tables and narrative of the evidence report (notebook ``01-evidence``).

Every function takes the validated frames of :mod:`cxtradeoff.evidence` (and the rules
of :mod:`cxtradeoff.rules`) and returns a figure, an HTML string or Markdown text;
nothing here reads files (except :func:`load_evidence`) or displays. HTML is built by
hand with every piece of text escaped, so a stray ``<`` or ``&`` in the data can never
break the page. What the reader sees is words: statuses, kinds, sectors, requirements
and jurisdictions are shown as text, never as the codes the data files use.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from cxtradeoff import paths
from cxtradeoff.evidence import (
    CUSTOMER_TOPICS,
    STATUSES,
    load_claims,
    load_events,
    load_experiments,
    load_forecasts,
    load_reference,
    load_surveys,
)
from cxtradeoff.formatting import COLOURS
from cxtradeoff.plots import figure_svg
from cxtradeoff.rules import (
    EU_MEMBERS,
    REQUIREMENT_LABELS,
    Rule,
    describe_firms,
    jurisdiction_name,
    load_rules,
)
from cxtradeoff.theme import PAGE_WIDTH_IN

__all__ = [
    "Evidence",
    "article_events",
    "claims_table_html",
    "customer_shares",
    "customer_shares_chart",
    "events_table_html",
    "experiments_table_html",
    "figure_svg",
    "forecasts_table_html",
    "format_value",
    "law_summary",
    "load_evidence",
    "newer_surveys",
    "newer_surveys_chart",
    "reversals_table_html",
    "rules_table_html",
    "since_article_paragraphs",
    "since_article_summary",
    "source_label",
    "status_counts",
    "surveys_table_html",
    "verification_summary",
]

#: the statuses under which the source was found and gives the article's number
_NUMBER_FOUND = ("verified", "wording differs")


@dataclass(frozen=True)
class Evidence:
    """The validated evidence tables and the rules."""

    claims: pd.DataFrame
    events: pd.DataFrame
    reference: pd.DataFrame
    forecasts: pd.DataFrame
    surveys: pd.DataFrame
    experiments: pd.DataFrame
    rules: tuple[Rule, ...]


def load_evidence(data_dir: str | Path | None = None) -> Evidence:
    """Load every evidence file, and the rules, from one folder.

    Parameters
    ----------
    data_dir
        Folder holding ``evidence_claims.csv``, ``workforce_events.csv``,
        ``reference_figures.csv``, ``forecasts.csv``, ``customer_surveys.csv``,
        ``field_experiments.csv`` and ``service_rules.csv``; ``None`` or ``""`` means
        the project's ``data/``.

    Returns
    -------
    Evidence
        The validated tables.

    Raises
    ------
    DataValidationError
        When a file is missing or breaks its schema.
    """
    folder = paths.DATA_DIR if data_dir in (None, "") else Path(data_dir)
    return Evidence(
        claims=load_claims(folder / paths.EVIDENCE_CLAIMS.name),
        events=load_events(folder / paths.EVIDENCE_EVENTS.name),
        reference=load_reference(folder / paths.REFERENCE_FIGURES.name),
        forecasts=load_forecasts(folder / paths.FORECASTS.name),
        surveys=load_surveys(folder / paths.CUSTOMER_SURVEYS.name),
        experiments=load_experiments(folder / paths.FIELD_EXPERIMENTS.name),
        rules=load_rules(folder / paths.SERVICE_RULES.name),
    )


def article_events(events: pd.DataFrame) -> pd.DataFrame:
    """The workforce events the article cites (not those found since)."""
    return events[events["cited_by"] == "article"].reset_index(drop=True)


# --------------------------------------------------------------------------- formatting


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _number(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text


def format_value(value: Any, high: Any = None, *, unit: str) -> str:
    """Format a figure for people: shares as percentages, multiples with a ``×``.

    Parameters
    ----------
    value
        The figure (low end of a range); missing gives ``"–"``.
    high
        High end of a range, or missing.
    unit
        ``share``, ``multiple``, ``jobs``, ``usd_per_contact`` or ``none``.

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(0.53, unit="share")
    '53%'
    >>> format_value(5, 25, unit="multiple")
    '5–25×'
    """
    if _missing(value) or unit == "none":
        return "–"

    def one(v: float) -> str:
        if unit == "share":
            return f"{_number(100 * v)}%"
        if unit == "usd_per_contact":
            return f"${v:,.2f}"
        return _number(v)

    text = one(float(value)) if _missing(high) else f"{one(float(value))}–{one(float(high))}"
    if unit == "multiple":
        return f"{text}×"
    if unit == "usd_per_contact":
        return f"{text} per contact"
    if unit == "jobs":
        return f"{text} jobs"
    return text


def _is_true(value: Any) -> bool:
    return not _missing(value) and bool(value)


def _year(date: Any) -> str:
    return "" if _missing(date) else str(date)[:4]


def source_label(row: Mapping[str, Any]) -> str:
    """Who the figure comes from, for a chart label: ``"Gartner, 2024"``.

    The primary source's publisher when one was found, otherwise the one the article names.
    """
    publisher = row.get("source_publisher")
    who = str(row["article_source"]) if _missing(publisher) else str(publisher)
    who = who.split(" (")[0]
    year = _year(row.get("source_date"))
    return f"{who}, {year}" if year else who


def status_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Number of rows per verification status, every status listed (zeros included)."""
    counts = frame["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in STATUSES}


# --------------------------------------------------------------------------- chart


def customer_shares(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims that say what customers think, as shares, in chart order.

    Parameters
    ----------
    claims
        Validated evidence claims.

    Returns
    -------
    pandas.DataFrame
        Share claims of the topics in :data:`~cxtradeoff.evidence.CUSTOMER_TOPICS`
        with an article figure, ordered by topic then by figure (largest first),
        with a ``label`` column: who said it, "vendor survey" where a company selling
        service technology ran the survey, and the status.
    """
    chosen = claims[
        (claims["unit"] == "share")
        & claims["topic"].isin(CUSTOMER_TOPICS)
        & claims["article_value"].notna()
    ].copy()
    chosen["topic_order"] = chosen["topic"].map({t: i for i, t in enumerate(CUSTOMER_TOPICS)})
    chosen = chosen.sort_values(["topic_order", "article_value"], ascending=[True, False])
    chosen["label"] = [
        " · ".join(
            [source_label(row)]
            + (["vendor survey"] if _is_true(row.get("vendor_survey")) else [])
            + [str(row["status"])]
        )
        for row in chosen.to_dict("records")
    ]
    return chosen.drop(columns="topic_order").reset_index(drop=True)


def _value_text(row: Mapping[str, Any]) -> str:
    """The article's figure, and the source's when it differs: ``"56% (source: 61%)"``."""
    text = format_value(row["article_value"], unit="share")
    source = row.get("source_value")
    if (
        source is not None
        and not _missing(source)
        and abs(float(source) - float(row["article_value"])) > 1e-9
    ):
        text += f" (source: {format_value(source, unit='share')})"
    return text


def _survey_label(row: Mapping[str, Any]) -> str:
    """Who ran a newer survey, the year, whether a vendor ran it, and the status."""
    who = str(row["surveyed_by"]).replace(" XM Institute", "")
    parts = [f"{who}, {_year(row['source_date'])}"]
    if _is_true(row["vendor_survey"]):
        parts.append("vendor survey")
    parts.append(str(row["status"]))
    return " · ".join(parts)


def newer_surveys(surveys: pd.DataFrame) -> pd.DataFrame:
    """The consumer surveys published since the article, in chart order.

    Parameters
    ----------
    surveys
        Validated customer surveys.

    Returns
    -------
    pandas.DataFrame
        Ordered by topic (what customers prefer, think, would do, then the rest) and by
        figure (largest first), with a ``label`` column: who ran the survey, the year,
        "vendor survey" where a company selling service technology ran it, and the status.
    """
    order = [*CUSTOMER_TOPICS, "transparency", "handoff", "spending_after_bad_experience"]
    chosen = surveys.copy()
    chosen["topic_order"] = chosen["topic"].map({t: i for i, t in enumerate(order)})
    chosen = chosen.sort_values(["topic_order", "value"], ascending=[True, False])
    chosen["label"] = [_survey_label(row) for row in chosen.to_dict("records")]
    return chosen.drop(columns="topic_order").reset_index(drop=True)


_ROW_IN = 0.38  # height of one bar's row, inches: two lines of 8.5 pt type and a gap
_WRAP = 52  # characters per line of a bar's description (two lines at most in the data)
_LABEL_RIGHT = 2.6  # the x axis runs to 2.6 (bars to 1): room for the labels right of the bars


def _bar_label(value: str, label: str) -> str:
    """The text right of a bar on two lines: the figure and who gave it, then the rest
    (``"83%  Five9, 2026\nvendor survey · secondary only"``)."""
    head, _, rest = label.partition(" · ")
    return f"{value}  {head}" + (f"\n{rest}" if rest else "")


def _bar_rows(
    ax: Axes,
    data: pd.DataFrame,
    *,
    values: str,
    descriptions: str,
    gid: str,
    with_source: bool,
) -> None:
    n = len(data)
    positions = list(range(n))[::-1]
    for y, row in zip(positions, data.to_dict("records"), strict=True):
        colour = COLOURS.get(row["status"], "#7f7f7f")
        (bar,) = ax.barh(y, row[values], color=colour, height=0.6)
        bar.set_gid(f"{gid}-{row['id']}")
        right = row[values]
        if with_source and not _missing(row["source_value"]):
            right = max(right, row["source_value"])
            ax.plot(row["source_value"], y, marker="D", color="black", markersize=5, zorder=3)
        text = _value_text(row) if with_source else format_value(row[values], unit="share")
        ax.text(
            right + 0.03, y, _bar_label(text, row["label"]), va="center", fontsize=8.5,
            linespacing=1.0,
        )  # fmt: skip
    ax.set_yticks(positions)
    ax.set_yticklabels([textwrap.fill(t, _WRAP) for t in data[descriptions]], fontsize=8.5)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, _LABEL_RIGHT)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.spines["bottom"].set_bounds(0, 1)
    ax.grid(axis="y", visible=False)


def _fit(fig: Figure) -> None:
    """Lay the chart out within the page's width: descriptions left, the legend's band
    (0.35 in) kept free below the axis label."""
    fig.tight_layout(rect=(0.0, 0.35 / fig.get_figheight(), 1.0, 1.0))


def _legend(fig: Figure, ax: Axes, statuses: set[str], *, diamond: bool) -> None:
    """Status colours (and the diamond, when drawn) below ``ax``."""
    handles: list[Any] = [Patch(color=COLOURS[s], label=s) for s in STATUSES if s in statuses]
    if diamond:
        handles.append(
            Line2D([], [], marker="D", color="black", linestyle="", markersize=5,
                   label="primary source's figure")
        )  # fmt: skip
    height = fig.get_figheight()
    box = ax.get_position()
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, box.y0 - 0.42 / height),
        ncol=min(len(handles), 4),
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
        fontsize=9,
    )


def customer_shares_chart(claims: pd.DataFrame, *, title: str) -> Figure:
    """Horizontal bars of what customers say in the article, coloured by verification status.

    Each bar is the article's figure; a black diamond marks the primary source's figure
    where one was found. Each bar is labelled with its source and year, "vendor survey"
    where a company selling service technology ran the survey, and its status. Every
    bar carries the ``gid`` ``bar-<claim id>`` (visible in SVG output).

    Parameters
    ----------
    claims
        Validated evidence claims.
    title
        Chart title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = customer_shares(claims)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.9 + _ROW_IN * max(len(data), 1)))
    _bar_rows(
        ax, data, values="article_value", descriptions="article_claim", gid="bar", with_source=True
    )
    ax.set_title(title, loc="left")
    ax.set_xlabel("share of customers, as the article gives it", fontsize=9, loc="left")
    _fit(fig)
    _legend(fig, ax, set(data["status"]), diamond=True)
    return fig


def newer_surveys_chart(surveys: pd.DataFrame, *, title: str) -> Figure:
    """Horizontal bars of the consumer surveys published since the article.

    Each bar is the survey's figure, coloured by verification status and labelled with
    who ran the survey and the year, "vendor survey" where a company selling service
    technology ran it, and the status. Every bar carries the ``gid``
    ``survey-<survey id>`` (visible in SVG output).

    Parameters
    ----------
    surveys
        Validated customer surveys.
    title
        Chart title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = newer_surveys(surveys)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.9 + _ROW_IN * max(len(data), 1)))
    _bar_rows(ax, data, values="value", descriptions="figure", gid="survey", with_source=False)
    ax.set_title(title, loc="left")
    ax.set_xlabel("share of consumers, as the survey gives it", fontsize=9, loc="left")
    _fit(fig)
    _legend(fig, ax, set(data["status"]), diamond=False)
    return fig


# --------------------------------------------------------------------------- tables

_TABLE_CSS = """<style>
table.cx-evidence {border-collapse: collapse !important; width: 100% !important;
  table-layout: fixed; font-size: 8.5pt; line-height: 1.35;}
table.cx-evidence th, table.cx-evidence td {border: 1px solid #bbb !important;
  padding: 4px 6px !important; vertical-align: top !important; text-align: left !important;
  overflow-wrap: break-word;}
table.cx-evidence th {background: #f0f0f0 !important;}
table.cx-evidence td.num {text-align: right !important;}
table.cx-evidence tr {page-break-inside: avoid; break-inside: avoid;}
table.cx-evidence .status {font-weight: bold; padding-left: 4px; display: inline-block;
  border-left: 6px solid #7f7f7f;}
table.cx-evidence .note {color: #333; font-size: 0.95em;}
</style>"""


def _colgroup(widths: tuple[int, ...]) -> str:
    return "<colgroup>" + "".join(f'<col style="width: {w}%">' for w in widths) + "</colgroup>"


def _e(value: Any) -> str:
    return "" if _missing(value) else html.escape(str(value), quote=True)


def _status_cell(status: str) -> str:
    colour = COLOURS.get(status, "#7f7f7f")
    return (
        f'<td><span class="status" style="border-left-color: {_e(colour)}">{_e(status)}</span></td>'
    )


def _source_cell(row: Mapping[str, Any], *, details: bool = True) -> str:
    if _missing(row.get("source_publisher")):
        return "<td><em>none found</em></td>"
    parts = [f"<strong>{_e(row['source_publisher'])}</strong>"]
    title = row.get("source_title")
    if not _missing(title):
        if not _missing(row.get("source_link")):
            parts.append(f'<a href="{_e(row["source_link"])}">{_e(title)}</a>')
        else:
            parts.append(_e(title))
    facts = []
    if not _missing(row.get("source_date")):
        facts.append(_e(row["source_date"]))
    if details and not _missing(row.get("sample_size")):
        facts.append(f"n = {int(row['sample_size']):,}")
    if details and not _missing(row.get("population")):
        facts.append(_e(row["population"]))
    if facts:
        parts.append("; ".join(facts))
    return "<td>" + "<br>".join(parts) + "</td>"


def claims_table_html(claims: pd.DataFrame) -> str:
    """The article's claims against their primary sources, as an HTML table.

    One row per claim (``<tr data-id="...">``): the claim, whom the article credits,
    the article's figure, the primary source, its figure, the status and a note.

    Parameters
    ----------
    claims
        Validated evidence claims.

    Returns
    -------
    str
        HTML (a ``<style>`` block and a ``<table>``), every value escaped.
    """
    head = (
        "<tr><th>Article's claim</th><th>Credited to</th><th>Article</th>"
        "<th>Primary source</th><th>Found</th><th>Status</th><th>What the check found</th></tr>"
    )
    body = []
    for row in claims.to_dict("records"):
        body.append(
            f'<tr data-id="{_e(row["id"])}">'
            f"<td>{_e(row['article_claim'])}</td>"
            f"<td>{_e(row['article_source'])}</td>"
            f'<td class="num">'
            f"{_e(format_value(row['article_value'], row['article_value_high'], unit=row['unit']))}"
            "</td>"
            f"{_source_cell(row)}"
            f'<td class="num">'
            f"{_e(format_value(row['source_value'], row['source_value_high'], unit=row['unit']))}"
            "</td>"
            f"{_status_cell(row['status'])}"
            f'<td class="note">{_e(row["note"])}</td>'
            "</tr>"
        )
    return _table("claims", (15, 11, 9, 19, 9, 14, 23), head, body)


def events_table_html(events: pd.DataFrame) -> str:
    """The workforce events the article cites, as an HTML table (one ``<tr data-id>`` each).

    Events found since the article are left out: :func:`reversals_table_html` shows them.

    Parameters
    ----------
    events
        Validated workforce events.

    Returns
    -------
    str
        HTML, every value escaped.
    """
    head = (
        "<tr><th>Company, when</th><th>Article's claim</th><th>Article</th>"
        "<th>Found</th><th>Source found</th><th>Status</th><th>What the check found</th></tr>"
    )
    body = []
    for row in article_events(events).to_dict("records"):
        body.append(
            f'<tr data-id="{_e(row["id"])}">'
            f"<td><strong>{_e(row['company'])}</strong> ({_e(row['country'])})<br>"
            f"{_e(_date_text(row['event_date']))}</td>"
            f"<td>{_e(row['claim'])}</td>"
            f'<td class="num">{_e(format_value(row["claim_value"], unit=row["unit"]))}</td>'
            f'<td class="num">{_e(format_value(row["source_value"], unit=row["unit"]))}</td>'
            f"{_source_cell(row)}"
            f"{_status_cell(row['status'])}"
            f'<td class="note">{_e(row["note"])}</td>'
            "</tr>"
        )
    return _table("events", (13, 17, 10, 10, 16, 13, 21), head, body)


def _table(name: str, widths: tuple[int, ...], head: str, body: Iterable[str]) -> str:
    return (
        f'{_TABLE_CSS}\n<table class="cx-evidence" data-table="{_e(name)}">'
        f"{_colgroup(widths)}<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    )


def _date_text(value: Any) -> str:
    """An ISO date at the precision known, in words: ``2025-08-21`` gives ``21 Aug 2025``."""
    if _missing(value):
        return ""
    text = str(value)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    parts = text.split("-")
    if len(parts) == 3:
        return f"{int(parts[2])} {months[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2 and parts[1].isdigit():
        return f"{months[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2 and parts[1].startswith("Q"):
        return f"{parts[1]} {parts[0]}"
    return text


def _kind_text(kind: str) -> str:
    return {"cut": "staff cut", "planned cut": "planned cut", "reversal": "reversal"}.get(
        kind, kind
    )


def reversals_table_html(events: pd.DataFrame) -> str:
    """The workforce events found since the article (reversals, corrected figures).

    One ``<tr data-id>`` per event whose ``cited_by`` is ``review``: company, when,
    what happened, the number of jobs, the source found, its status and a note.

    Parameters
    ----------
    events
        Validated workforce events.

    Returns
    -------
    str
        HTML, every value escaped.
    """
    head = (
        "<tr><th>Company, when</th><th>What happened</th><th>Jobs</th>"
        "<th>Source found</th><th>Status</th><th>What the sources say</th></tr>"
    )
    later = events[events["cited_by"] == "review"]
    body = []
    for row in later.to_dict("records"):
        body.append(
            f'<tr data-id="{_e(row["id"])}">'
            f"<td><strong>{_e(row['company'])}</strong> ({_e(row['country'])})<br>"
            f"<em>{_e(_kind_text(row['event_kind']))}</em>, {_e(_date_text(row['event_date']))}"
            "</td>"
            f"<td>{_e(row['claim'])}</td>"
            f'<td class="num">{_e(format_value(row["source_value"], unit=row["unit"]))}</td>'
            f"{_source_cell(row)}"
            f"{_status_cell(row['status'])}"
            f'<td class="note">{_e(row["note"])}</td>'
            "</tr>"
        )
    return _table("reversals", (14, 19, 8, 15, 13, 31), head, body)


def forecasts_table_html(forecasts: pd.DataFrame) -> str:
    """Analysts' forecasts and leader surveys, as an HTML table (one ``<tr data-id>`` each).

    Parameters
    ----------
    forecasts
        Validated forecasts.

    Returns
    -------
    str
        HTML, every value escaped.
    """
    head = (
        "<tr><th>Forecast or survey</th><th>Figure</th><th>For</th><th>Source found</th>"
        "<th>Status</th><th>Note</th></tr>"
    )
    body = []
    for row in forecasts.to_dict("records"):
        kind = "Forecast" if row["kind"] == "forecast" else "Survey of service leaders"
        target = "" if _missing(row["target_year"]) else str(int(row["target_year"]))
        body.append(
            f'<tr data-id="{_e(row["id"])}">'
            f"<td><em>{_e(kind)}, {_e(row['forecaster'])}:</em> {_e(row['statement'])}</td>"
            f'<td class="num">{_e(format_value(row["value"], unit=row["unit"]))}</td>'
            f'<td class="num">{_e(target)}</td>'
            f"{_source_cell(row)}"
            f"{_status_cell(row['status'])}"
            f'<td class="note">{_e(row["note"])}</td>'
            "</tr>"
        )
    return _table("forecasts", (25, 9, 8, 21, 14, 23), head, body)


def surveys_table_html(surveys: pd.DataFrame) -> str:
    """The consumer surveys published since the article (one ``<tr data-id>`` each).

    Parameters
    ----------
    surveys
        Validated customer surveys.

    Returns
    -------
    str
        HTML, every value escaped; vendor surveys say so beside the surveyor's name.
    """
    head = (
        "<tr><th>What was measured</th><th>Figure</th><th>Survey</th><th>Source found</th>"
        "<th>Status</th><th>Note</th></tr>"
    )
    body = []
    for row in newer_surveys(surveys).to_dict("records"):
        who = f"<strong>{_e(row['surveyed_by'])}</strong>"
        if _is_true(row["vendor_survey"]):
            who += " (vendor survey)"
        details = []
        if not _missing(row["fieldwork"]):
            details.append(f"fieldwork {_e(_date_text(row['fieldwork']))}")
        if not _missing(row["sample_size"]):
            details.append(f"n = {int(row['sample_size']):,}")
        details.append(_e(row["population"]))
        body.append(
            f'<tr data-id="{_e(row["id"])}">'
            f"<td>{_e(row['figure'])}</td>"
            f'<td class="num">{_e(format_value(row["value"], unit=row["unit"]))}</td>'
            f"<td>{who}<br>{'; '.join(details)}</td>"
            f"{_source_cell(row, details=False)}"
            f"{_status_cell(row['status'])}"
            f'<td class="note">{_e(row["note"])}</td>'
            "</tr>"
        )
    return _table("surveys", (18, 9, 19, 18, 14, 22), head, body)


def experiments_table_html(experiments: pd.DataFrame) -> str:
    """Field experiments and panels: what each found, shows and does not show.

    Parameters
    ----------
    experiments
        Validated field experiments.

    Returns
    -------
    str
        HTML, one ``<tr data-id>`` per study, every value escaped.
    """
    head = (
        "<tr><th>Study</th><th>Design and sample</th><th>Finding</th><th>What it shows</th>"
        "<th>What it does not show</th><th>Status</th></tr>"
    )
    body = []
    for row in experiments.to_dict("records"):
        sample = "" if _missing(row["sample_size"]) else f"{int(row['sample_size']):,} "
        where = "" if _missing(row["country"]) else f" ({jurisdiction_name(row['country'])})"
        title = _e(row["source_title"])
        if not _missing(row["source_link"]):
            title = f'<a href="{_e(row["source_link"])}">{title}</a>'
        body.append(
            f'<tr data-id="{_e(row["id"])}">'
            f"<td><strong>{title}</strong><br>{_e(row['authors'])}<br>"
            f"<em>{_e(row['outlet'])}</em>, {_e(_year(row['source_date']))} "
            f"({_e(row['source_publisher'])})</td>"
            f"<td>{_e(row['design'])}; {_e(sample)}{_e(row['sample_unit'])}; "
            f"{_e(row['setting'])}{_e(where)}</td>"
            f"<td>{_e(row['finding'])}</td>"
            f"<td>{_e(row['shows'])}</td>"
            f"<td>{_e(row['does_not_show'])}</td>"
            f"{_status_cell(row['status'])}"
            "</tr>"
        )
    return _table("experiments", (17, 15, 17, 19, 18, 14), head, body)


def _where(code: str) -> str:
    if code == "EU":
        return f"European Union ({len(EU_MEMBERS)} member states)"
    return jurisdiction_name(code)


def rules_table_html(rules: Iterable[Rule]) -> str:
    """What the law requires, where: one ``<tr data-id>`` per rule and scope.

    Parameters
    ----------
    rules
        From :func:`cxtradeoff.rules.load_rules`.

    Returns
    -------
    str
        HTML, every value escaped; requirements, sectors and jurisdictions in words.
    """
    head = (
        "<tr><th>Rule</th><th>Where</th><th>Which firms</th><th>From</th>"
        "<th>What it requires</th><th>Source found</th><th>Status</th></tr>"
    )
    body = []
    for rule in rules:
        if rule.kind == "proposal":
            when = "a proposal, not in force"
        elif rule.applies_from and rule.applies_from != rule.in_force:
            when = (
                f"in force {_date_text(str(rule.in_force))}; binds from "
                f"{_date_text(str(rule.applies_from))}"
            )
        else:
            when = f"{_date_text(str(rule.in_force))}"
        needs = "; ".join(REQUIREMENT_LABELS[r] for r in rule.requirements)
        source = f"<strong>{_e(rule.source_publisher)}</strong>"
        if rule.source_link:
            source += f'<br><a href="{_e(rule.source_link)}">{_e(rule.source_title)}</a>'
        else:
            source += f"<br>{_e(rule.source_title)}"
        body.append(
            f'<tr data-id="{_e(rule.id)}">'
            f"<td><strong>{_e(rule.name)}</strong><br><em>{_e(rule.kind)}</em></td>"
            f"<td>{_e(_where(rule.jurisdiction))}</td>"
            f"<td>{_e(describe_firms(rule))}</td>"
            f"<td>{_e(when)}</td>"
            f"<td>{'<strong>' + _e(needs) + ':</strong> ' if needs else ''}"
            f"{_e(rule.requirement_text)}</td>"
            f"<td>{source}</td>"
            f"{_status_cell(rule.status)}"
            "</tr>"
        )
    return _table("rules", (14, 11, 16, 10, 21, 15, 13), head, body)


# --------------------------------------------------------------------------- narrative


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _md(text: Any) -> str:
    """Escape text for Markdown (and the HTML it becomes)."""
    escaped = html.escape(str(text), quote=False)
    for char in "\\`*_[]#|":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def _status_sentence(counts: Mapping[str, int]) -> str:
    phrases = {
        "verified": "{} verified as stated",
        "wording differs": "{} found with the same number but worded differently",
        "number differs": "{} found with a different number",
        "secondary only": "{} found only in reports about the source",
        "unverified": "{} not verified",
        "qualitative": "{} qualitative (no figure)",
    }
    parts = [phrases[s].format(counts[s]) for s in STATUSES if counts.get(s, 0)]
    if not parts:
        return "none"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def verification_summary(claims: pd.DataFrame, events: pd.DataFrame) -> str:
    """Markdown: what could not be verified, and why it matters for the model.

    Every count and figure is taken from the data, so the text follows any change
    to the evidence files.

    Parameters
    ----------
    claims
        Validated evidence claims.
    events
        Validated workforce events (only those the article cites are counted).

    Returns
    -------
    str
        Markdown text (paragraphs and a bullet list).
    """
    events = article_events(events)
    counts = status_counts(claims)
    event_counts = status_counts(events)
    n_claims, n_events = len(claims), len(events)
    usable = sum(counts[s] for s in _NUMBER_FOUND)
    out = [
        f"Of the {_plural(n_claims, 'figure')} the article cites: "
        f"{_status_sentence(counts)}. "
        f"{_plural(usable, 'figure')} can be traced to a primary source with the article's "
        f"number. Of the {_plural(n_events, 'workforce event')} it cites: "
        f"{_status_sentence(event_counts)}."
    ]
    items: list[str] = []
    doubtful = claims[claims["status"].isin(["unverified", "number differs"])]
    for row in doubtful.to_dict("records"):
        figure = format_value(row["article_value"], row["article_value_high"], unit=row["unit"])
        note = "" if _missing(row["note"]) else f" {_md(row['note'])}"
        items.append(
            f"- {_md(row['article_claim'])} ({_md(figure)}, credited to "
            f"{_md(row['article_source'])}): *{_md(row['status'])}*.{note}"
        )
    doubtful_events = events[events["status"] != "verified"]
    for row in doubtful_events.to_dict("records"):
        figure = format_value(row["claim_value"], unit=row["unit"])
        note = "" if _missing(row["note"]) else f" {_md(row['note'])}"
        items.append(
            f"- {_md(row['company'])}: {_md(row['claim'])} ({_md(figure)}): "
            f"*{_md(row['status'])}*.{note}"
        )
    if items:
        out += ["", "**Not confirmed as the article states them:**", "", *items]
    out += ["", "**Why it matters.** " + _why_it_matters(claims)]
    return "\n".join(out)


def _why_it_matters(claims: pd.DataFrame) -> str:
    by_id = claims.set_index("id")
    sentences: list[str] = []
    if "consider_switch_gartner" in by_id.index:
        row = by_id.loc["consider_switch_gartner"]
        figure = format_value(row["source_value"], unit="share")
        if row["status"] in _NUMBER_FOUND:
            sentences.append(
                f"The model's loyalty risk starts from the share of customers who would "
                f"consider switching ({figure}, {source_label(row.to_dict())}, "
                f"status: {row['status']}), which rests on a primary source."
            )
        else:
            sentences.append(
                f"The share of customers who would consider switching (status: "
                f"{row['status']}) is itself in doubt, so every loyalty cost inherits that doubt."
            )
    sentences.append(
        "But considering a switch is not switching: no published study converts one into the "
        "other, so the conversion rate is a prior, and the reports show how much the answer "
        "hangs on it."
    )
    if "savings_mckinsey" in by_id.index:
        row = by_id.loc["savings_mckinsey"]
        if row["status"] not in _NUMBER_FOUND:
            sentences.append(
                f"The savings figure ({format_value(row['article_value'], unit='share')}, "
                f"credited to {row['article_source']}) is {row['status']}, so the model "
                "computes savings from contact volumes and costs per contact instead."
            )
    if "acquisition_vs_retention" in by_id.index:
        row = by_id.loc["acquisition_vs_retention"]
        span = format_value(row["article_value"], row["article_value_high"], unit=row["unit"])
        sentences.append(
            f"The acquisition-to-retention cost ratio ({span}) is a range across studies, not a "
            "measurement, so the model draws it from the whole range."
        )
    return " ".join(sentences)


# --------------------------------------------------------------------------- since the article


def _list(items: list[str]) -> str:
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def since_article_summary(
    events: pd.DataFrame,
    forecasts: pd.DataFrame,
    surveys: pd.DataFrame,
    experiments: pd.DataFrame,
) -> str:
    """Markdown: what happened since the article, as one text.

    The paragraphs of :func:`since_article_paragraphs`, joined by blank lines.
    """
    return "\n\n".join(since_article_paragraphs(events, forecasts, surveys, experiments))


def since_article_paragraphs(
    events: pd.DataFrame,
    forecasts: pd.DataFrame,
    surveys: pd.DataFrame,
    experiments: pd.DataFrame,
) -> list[str]:
    """Markdown paragraphs: what happened since the article, and what it changes for the model.

    Every company, figure and count is taken from the data. A notebook shows each
    paragraph as its own output, so that a printed page can break between them.

    Parameters
    ----------
    events
        Validated workforce events (those found since the article are used).
    forecasts
        Validated forecasts.
    surveys
        Validated customer surveys.
    experiments
        Validated field experiments.

    Returns
    -------
    list of str
        One Markdown paragraph per kind of evidence found, then the intention-behaviour gap.
    """
    out: list[str] = []
    later = events[events["cited_by"] == "review"]
    reversals = later[later["event_kind"] == "reversal"]
    if len(reversals):
        names = _list(sorted({_md(c) for c in reversals["company"]}))
        out.append(
            f"**Reversals.** {_plural(len(reversals), 'reversal')} the article did not report, at "
            f"{names}. "
            + " ".join(
                f"{_md(row['company'])} ({_md(_date_text(row['event_date']))}): "
                f"{_md(row['claim'])}."
                for row in reversals.to_dict("records")
            )
            + " These are what the reversal scenario models: automate fully, then pay to bring "
            "people back."
        )
    staffing = forecasts[forecasts["kind"] == "forecast"]
    if len(staffing):
        items = [
            f"- {_md(row['statement'])} ({_md(row['forecaster'])}, "
            f"{_md(_date_text(row['source_date']))}; {_md(row['status'])})."
            for row in staffing.sort_values("source_date").to_dict("records")
        ]
        out.append(
            "**Forecasts.** Analysts' forecasts, by date of publication; they are opinions "
            "about the future, not measurements, and they point away from agentless "
            "service:\n\n" + "\n".join(items)
        )
    if len(surveys):
        vendors = int(surveys["vendor_survey"].sum())
        who = _list(sorted({_md(w) for w in surveys["surveyed_by"]}))
        share = "all" if vendors == len(surveys) else f"{vendors} of them"
        secondary = int((surveys["status"] == "secondary only").sum())
        out.append(
            f"**Newer surveys.** {_plural(len(surveys), 'figure')} from surveys by {who}, "
            f"{share} run by companies that sell service technology or services (marked as "
            "vendor surveys). Like the article's, they measure what people say, not what "
            f"they do; {secondary} of the {len(surveys)} were read only in press coverage "
            "of the survey."
        )
    if len(experiments):
        authors = _list(
            [
                f"{_md(str(row['authors']).split(',')[0].split('. ')[-1])}"
                f"{' et al.' if ',' in str(row['authors']) else ''} "
                f"({_md(_year(row['source_date']))})"
                for row in experiments.to_dict("records")
            ]
        )
        out.append(
            f"**Field experiments.** {_plural(len(experiments), 'study', 'studies')} observe "
            f"what people do rather than what they say: {authors}. The table below says what "
            "each does and does not show; none measures how many service customers leave "
            "because of AI."
        )
    out.append(
        "**The intention-behaviour gap.** Studies that follow the same customers from what "
        "they say to what they do find a gap: intentions to switch have different drivers "
        "from actual switching, and explain little of who leaves. None gives a usable ratio "
        "of leavers to those who said they might leave, least of all for AI in service. The "
        'model\'s conversion from "would consider switching" to leaving therefore stays a '
        "stated prior, and a company's own pilot is the way to measure it."
    )
    return out


def _lower_article(name: str) -> str:
    """``"The EU AI Act"`` gives ``"the EU AI Act"``, for use inside a sentence."""
    return "the " + name[4:] if name.startswith("The ") else name


def law_summary(rules: Iterable[Rule]) -> str:
    """Markdown: which rules bind service AI where, and how the reports apply them.

    Parameters
    ----------
    rules
        From :func:`cxtradeoff.rules.load_rules`.

    Returns
    -------
    str
        Markdown text; each rule named from the data.
    """
    rules = list(rules)
    human = [r for r in rules if "human_on_request" in r.requirements]
    disclose = [r for r in rules if "ai_disclosure" in r.requirements]
    pending = [r for r in rules if r.kind == "proposal"]
    out: list[str] = []
    if human:
        first = min(human, key=lambda r: r.binds_from or r.in_force or date.max)
        places = _list(sorted({_md(_where(r.jurisdiction)) for r in human}))
        adapting = ""
        if first.in_force and first.applies_from and first.applies_from != first.in_force:
            adapting = (
                f": in force since {_md(_date_text(str(first.in_force)))}, and firms have "
                f"until {_md(_date_text(str(first.applies_from)))} to adapt"
            )
        out.append(
            f"**A person on request** is compulsory in {places} for the firms the table "
            f"lists, under {_md(first.name.split(' (')[0])}{adapting}. "
            "A scenario that leaves humans hard to reach breaks it: the reports treat a "
            "scenario phase as keeping humans reachable when it uses no AI, or when its "
            "escalation mitigation (the share of the loyalty risk removed by an easy path "
            "to a person) is at least one half. Hybrid passes; full automation, and the "
            "first year of the reversal scenario, do not."
        )
    if disclose:
        rule = disclose[0]
        where = _md(_where(rule.jurisdiction))
        out.append(
            f"**Disclosure.** Under {_md(_lower_article(rule.name.split(':')[0]))}, from "
            f"{_md(_date_text(str(rule.binds_from)))} in the {where}, every chatbot must "
            "tell people it is an AI. Every exposed "
            "customer then knows, so the surveys' condition \"if they found out a company "
            'was using AI" holds by law, and the experiment that found disclosure cuts '
            "purchases describes the new normal rather than a choice."
        )
    if pending:
        out.append(
            "**Not yet law.** "
            + " ".join(f"{_md(r.name)}: {_md(r.requirement_text)}" for r in pending)
        )
    return "\n\n".join(out)
