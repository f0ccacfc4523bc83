"""Charts, tables and narrative of the evidence report (notebook ``01-evidence``).

Every function takes the validated frames of :mod:`cxtradeoff.evidence` and returns a
figure, an HTML string or Markdown text; nothing here reads files or displays.
HTML is built by hand with every piece of text escaped, so a stray ``<`` or ``&`` in
the data can never break the page.
"""

from __future__ import annotations

import html
import io
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from cxtradeoff import paths
from cxtradeoff.evidence import CUSTOMER_TOPICS, STATUSES, load_claims, load_events, load_reference
from cxtradeoff.theme import PAGE_WIDTH_IN, PALETTE

__all__ = [
    "Evidence",
    "claims_table_html",
    "customer_shares",
    "customer_shares_chart",
    "events_table_html",
    "figure_svg",
    "format_value",
    "load_evidence",
    "source_label",
    "status_counts",
    "verification_summary",
]

#: the statuses under which the source was found and gives the article's number
_NUMBER_FOUND = ("verified", "wording differs")


@dataclass(frozen=True)
class Evidence:
    """The three validated evidence tables."""

    claims: pd.DataFrame
    events: pd.DataFrame
    reference: pd.DataFrame


def load_evidence(data_dir: str | Path | None = None) -> Evidence:
    """Load the three evidence files from one folder.

    Parameters
    ----------
    data_dir
        Folder holding ``evidence_claims.csv``, ``workforce_events.csv`` and
        ``reference_figures.csv``; ``None`` or ``""`` means the project's ``data/``.

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
    )


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
        with a ``label`` column (who said it and the status).
    """
    chosen = claims[
        (claims["unit"] == "share")
        & claims["topic"].isin(CUSTOMER_TOPICS)
        & claims["article_value"].notna()
    ].copy()
    chosen["topic_order"] = chosen["topic"].map({t: i for i, t in enumerate(CUSTOMER_TOPICS)})
    chosen = chosen.sort_values(["topic_order", "article_value"], ascending=[True, False])
    chosen["label"] = [
        f"{source_label(row)} · {row['status']}" for row in chosen.to_dict("records")
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


def customer_shares_chart(claims: pd.DataFrame, *, title: str) -> Figure:
    """Horizontal bars of what customers say, coloured by verification status.

    Each bar is the article's figure; a black diamond marks the primary source's
    figure where one was found. Each bar is labelled with its source and status.
    Every bar carries the ``gid`` ``bar-<claim id>`` (visible in SVG output).

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
    n = len(data)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 1.2 + 0.62 * max(n, 1)))
    positions = list(range(n))[::-1]
    for y, row in zip(positions, data.to_dict("records"), strict=True):
        colour = PALETTE.get(row["status"], "#7f7f7f")
        (bar,) = ax.barh(y, row["article_value"], color=colour, height=0.62)
        bar.set_gid(f"bar-{row['id']}")
        right = row["article_value"]
        if not _missing(row["source_value"]):
            right = max(right, row["source_value"])
        ax.text(
            right + 0.02,
            y,
            f"{_value_text(row)}  {row['label']}",
            va="center",
            fontsize=8.5,
        )
        if not _missing(row["source_value"]):
            ax.plot(row["source_value"], y, marker="D", color="black", markersize=5, zorder=3)
    ax.set_yticks(positions)
    ax.set_yticklabels([textwrap.fill(text, 38) for text in data["article_claim"]], fontsize=8.5)
    ax.set_xlim(0, 1.3)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel("share of customers, as the article gives it")
    ax.set_title(title, loc="left")
    handles: list[Any] = [
        Patch(color=PALETTE[s], label=s) for s in STATUSES if s in set(data["status"])
    ]
    handles.append(
        Line2D([], [], marker="D", color="black", linestyle="", markersize=5,
               label="primary source's figure")
    )  # fmt: skip
    ax.spines["bottom"].set_bounds(0, 1)
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0, -0.62 / (0.62 * max(n, 1) + 0.2)),
        ncol=len(handles),
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
    )
    ax.grid(axis="y", visible=False)
    return fig


def figure_svg(fig: Figure, *, close: bool = True) -> str:
    """Render a figure as SVG text, with text kept as text (searchable in HTML and PDF).

    Parameters
    ----------
    fig
        The figure.
    close
        Close the figure afterwards (so a notebook does not show it twice).

    Returns
    -------
    str
        The SVG document.
    """
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "cxtradeoff"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    if close:
        plt.close(fig)
    svg = buffer.getvalue()
    # scale to the width of the page or column instead of overflowing it
    return re.sub(
        r'<svg ([^>]*?)width="([\d.]+)pt" height="[\d.]+pt"',
        r'<svg \1width="100%" style="max-width: \2pt; height: auto"',
        svg,
        count=1,
    )


# --------------------------------------------------------------------------- tables

_TABLE_CSS = """<style>
table.cx-evidence {border-collapse: collapse !important; width: 100% !important;
  table-layout: fixed; font-size: 0.86em; line-height: 1.35;}
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
    colour = PALETTE.get(status, "#7f7f7f")
    return (
        f'<td><span class="status" style="border-left-color: {_e(colour)}">{_e(status)}</span></td>'
    )


def _source_cell(row: Mapping[str, Any]) -> str:
    if _missing(row.get("source_publisher")):
        return "<td><em>none found</em></td>"
    parts = [f"<strong>{_e(row['source_publisher'])}</strong>"]
    title = row.get("source_title")
    if not _missing(title):
        if not _missing(row.get("source_link")):
            parts.append(f'<a href="{_e(row["source_link"])}">{_e(title)}</a>')
        else:
            parts.append(_e(title))
    details = []
    if not _missing(row.get("source_date")):
        details.append(_e(row["source_date"]))
    if not _missing(row.get("sample_size")):
        details.append(f"n = {int(row['sample_size']):,}")
    if not _missing(row.get("population")):
        details.append(_e(row["population"]))
    if details:
        parts.append("; ".join(details))
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
    return (
        f'{_TABLE_CSS}\n<table class="cx-evidence" data-table="claims">'
        f"{_colgroup((15, 11, 9, 20, 9, 12, 24))}<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    )


def events_table_html(events: pd.DataFrame) -> str:
    """The workforce events the article cites, as an HTML table (one ``<tr data-id>`` each).

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
        "<tr><th>Company</th><th>When</th><th>Article's claim</th><th>Article</th>"
        "<th>Found</th><th>Status</th><th>What the check found</th></tr>"
    )
    body = []
    for row in events.to_dict("records"):
        body.append(
            f'<tr data-id="{_e(row["id"])}">'
            f"<td><strong>{_e(row['company'])}</strong> ({_e(row['country'])})</td>"
            f'<td class="num">{_e(row["event_date"])}</td>'
            f"<td>{_e(row['article_claim'])}</td>"
            f'<td class="num">{_e(format_value(row["article_value"], unit=row["unit"]))}</td>'
            f'<td class="num">{_e(format_value(row["source_value"], unit=row["unit"]))}</td>'
            f"{_status_cell(row['status'])}"
            f'<td class="note">{_e(row["note"])}</td>'
            "</tr>"
        )
    return (
        f'{_TABLE_CSS}\n<table class="cx-evidence" data-table="events">'
        f"{_colgroup((13, 9, 21, 9, 9, 13, 26))}<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    )


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
        Validated workforce events.

    Returns
    -------
    str
        Markdown text (paragraphs and a bullet list).
    """
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
        figure = format_value(row["article_value"], unit=row["unit"])
        note = "" if _missing(row["note"]) else f" {_md(row['note'])}"
        items.append(
            f"- {_md(row['company'])}: {_md(row['article_claim'])} ({_md(figure)}): "
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
