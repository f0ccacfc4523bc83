"""The one-page decision brief of a company: what a director reads, answer first.

Everything here reads a results file (:class:`cxtradeoff.contracts.ResultsFile`) and
words it; nothing is recomputed. The sentences are those of
:func:`cxtradeoff.formatting.decision_lines`, so the brief, the landing page and the
e-mail say the same thing with the same numbers. Each function returns an HTML fragment
for ``notebooks/06-brief.ipynb`` to display (laid out on one A4 page by the ``brief``
export template); every text taken from the data is HTML-escaped.

Examples
--------
>>> from cxtradeoff.brief import build_date_words
>>> build_date_words("2026-11-27")
'27 November 2026'
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from cxtradeoff.contracts import ResultsFile, ScenarioResult, load_results
from cxtradeoff.formatting import (
    COLOURS,
    after_pilot,
    break_even_words,
    chance,
    decision_lines,
    forbidden_words,
    money,
    parameter_label,
    reversibility,
    scenario_colour,
    scenario_title,
    share,
)
from cxtradeoff.paths import REPORTS_DIR

__all__ = [
    "OptionRow",
    "ProfileBasis",
    "build_date_words",
    "header_html",
    "npv_range_chart",
    "option_rows",
    "options_html",
    "other_valuation_note",
    "profile_basis",
    "results_for_brief",
    "sources_html",
    "svg_of",
    "what_moves_html",
]

#: what a cell with no figure shows
NOTHING = "–"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def build_date_words(day: str | date) -> str:
    """A date as a director reads it: ``27 November 2026`` (from ``YYYY-MM-DD`` or a date)."""
    value = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return f"{value.day} {value.strftime('%B')} {value.year}"


# --------------------------------------------------------------------------- reading

#: the company a brief opened on its own (no build) is about
DEFAULT_PROFILE = "telecom"
#: Monte Carlo draws when, with no build to read, that company is analysed on the spot
EXPLORE_DRAWS = 2_000


def results_for_brief(
    results_files: Sequence[str | Path], *, reports_dir: Path | None = None
) -> ResultsFile:
    """The results file a brief reads: the one the build passes (the first given).

    Opened on its own, with none given, the brief reads the last build's telecom results
    (``reports/telecom.results.json``); with no build at all, telecom is analysed on the
    spot with :data:`EXPLORE_DRAWS` draws, so that the notebook runs on its defaults. The
    build always passes a file, and then nothing is computed.
    """
    if results_files:
        return load_results(results_files[0])
    built = (reports_dir or REPORTS_DIR) / f"{DEFAULT_PROFILE}.results.json"
    if built.is_file():
        return load_results(built)
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.results import build_results

    scenarios = ["status_quo", "hybrid", "full_automation", "reversal"]
    return build_results(load_profiles()[DEFAULT_PROFILE], scenarios, draws=EXPLORE_DRAWS)


# --------------------------------------------------------------------------- header


def header_html(results: ResultsFile, *, kicker: str, built: str | date) -> str:
    """The top of the brief: who and when, the decision as a title, then the
    recommendation with its expected value and its chance of loss (and the pilot)."""
    lines = decision_lines(results)
    parts = [
        '<header class="brief-head">',
        f'<p class="kicker">{_e(kicker)} · {_e(results.display_name)} · built '
        f"{_e(build_date_words(built))}</p>",
        f"<h1>{_e(lines.title)}</h1>",
        f'<p class="decision">{_e(lines.decision)}</p>',
    ]
    if lines.odds is not None:
        parts.append(f'<p class="odds">{_e(lines.odds)}</p>')
    if lines.pilot is not None:
        label = after_pilot(results.pilot).capitalize() if results.pilot else "After the pilot"
        parts.append(f'<p class="pilot"><strong>{_e(label)}.</strong> {_e(lines.pilot)}</p>')
    parts.append("</header>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class OptionRow:
    """One scenario as the options table shows it (plain text).

    ``reversible`` says how far it can be undone, or, for a scenario a binding rule
    forbids, that it is not allowed and by which rule (``forbidden`` True).
    """

    scenario: str
    title: str
    npv_mean: str
    npv_range: str
    p_loss: str
    p_best: str
    break_even: str
    reversible: str
    recommended: bool
    forbidden: bool


def _range(result: ScenarioResult, currency: str) -> str:
    low = money(result.npv_p10, currency, compact=True)
    high = money(result.npv_p90, currency, compact=True)
    return low if low == high else f"{low} to {high}"


def option_rows(results: ResultsFile) -> list[OptionRow]:
    """Every scenario of the results, in their order, worded for the options table."""
    currency = results.currency
    reversal = results.scenarios.get("reversal")
    rehiring = reversal.rehiring_cost if reversal is not None else None
    rows = []
    for name, result in results.scenarios.items():
        undo = reversibility(
            name, severance_cost=result.severance_cost, rehiring_cost=rehiring, currency=currency
        )
        rows.append(
            OptionRow(
                scenario=name,
                title=scenario_title(name),
                npv_mean=money(result.npv_mean, currency),
                npv_range=_range(result, currency),
                p_loss=chance(result.p_loss),
                p_best=chance(result.p_best) if result.permitted else NOTHING,
                break_even=(
                    NOTHING
                    if name == "status_quo"
                    else break_even_words(result.break_even_conversion_npv)
                ),
                reversible=undo if result.permitted else forbidden_words(result.blocked_by),
                recommended=name == results.recommended,
                forbidden=not result.permitted,
            )
        )
    return rows


def other_valuation_note(results: ResultsFile) -> str | None:
    """The break-evens with a lost customer valued the other way, when they differ.

    The table values a lost customer as the report does (its lifetime value, or the cost
    of winning a replacement); this sentence gives the other valuation's break-evens.
    """
    others = []
    basis = ""
    for name, result in results.scenarios.items():
        clv = result.break_even_conversion_npv_clv
        replacement = result.break_even_conversion_npv_replacement
        if name == "status_quo" or clv is None or replacement is None:
            continue
        if math.isclose(clv, replacement, rel_tol=1e-9):
            continue
        at_clv = math.isclose(result.value_per_lost_customer, result.clv, rel_tol=1e-9)
        other = replacement if at_clv else clv
        basis = (
            "at the cost of winning a replacement instead of its lifetime value"
            if at_clv
            else "at its lifetime value instead of the cost of winning a replacement"
        )
        others.append(f"{break_even_words(other)} ({scenario_title(name).lower()})")
    if not others:
        return None
    listed = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1]
    return f"Valuing a lost customer {basis}, the break-evens are {listed}."


def _nowrap_parts(text: str, *, between: str = " to ") -> str:
    """Escaped text that may break only at ``between`` (never inside an amount)."""
    return between.join(f'<span class="whole">{_e(part)}</span>' for part in text.split(between))


def options_html(results: ResultsFile) -> str:
    """The options table: each scenario's expected value, range, chances, break-even and
    how far it can be undone; the recommendation marked, a forbidden scenario flagged."""
    years = results.horizon_years
    head = results.headline
    body = []
    for row in option_rows(results):
        classes = " ".join(
            c for c, on in (("chosen", row.recommended), ("forbidden", row.forbidden)) if on
        )
        option = f"<strong>{_e(row.title)}</strong>"
        if row.recommended:
            option += '<span class="tag">recommended</span>'
        if row.forbidden:
            option += '<span class="rule">not allowed</span>'
        undo = (
            f'<span class="rule">{_e(row.reversible)}</span>'
            if row.forbidden
            else _e(row.reversible)
        )
        body.append(
            f'<tr class="{classes}"><th scope="row">{option}</th>'
            f'<td class="num whole">{_e(row.npv_mean)}</td>'
            f'<td class="num">{_nowrap_parts(row.npv_range)}</td>'
            f'<td class="num">{_e(row.p_loss)}</td><td class="num">{_e(row.p_best)}</td>'
            f'<td class="num">{_e(row.break_even)}</td><td>{undo}</td></tr>'
        )
    assumed = (
        f"{after_pilot(results.pilot)}, {share(head.switch_conversion)} are expected to"
        if results.pilot is not None
        else f"{share(head.switch_conversion)} are assumed to"
    )
    note = (
        f"Over {years} years, {results.draws:,} Monte Carlo draws of every uncertain input. "
        "Break-even: the share of the customers who would consider leaving over AI that may "
        "actually leave each year before the option stops paying, one-off costs counted; "
        f"{assumed} leave."
    )
    other = other_valuation_note(results)
    if other:
        note += f" {other}"
    return "\n".join(
        [
            '<section class="options"><h2>The options</h2>',
            "<table><thead><tr><th>Option</th><th>Expected net present value</th>"
            "<th>P10 to P90</th><th>Chance of loss</th><th>Chance of being best</th>"
            "<th>Break-even switching conversion</th><th>How reversible</th></tr></thead>",
            "<tbody>",
            *body,
            "</tbody></table>",
            f'<p class="note">{_e(note)}</p></section>',
        ]
    )


# --------------------------------------------------------------------------- what moves it


def what_moves_html(results: ResultsFile, *, chart_svg: str) -> str:
    """The assumption that flips the call and what measuring it is worth; the three
    inputs the answer hangs on most (from the tornado, in words); the chart beside them."""
    lines = decision_lines(results)
    currency = results.currency
    drivers = "".join(
        f"<li><strong>{_e(parameter_label(d.parameter))}</strong>: from "
        f"{_e(money(min(d.npv_low, d.npv_high), currency))} to "
        f"{_e(money(max(d.npv_low, d.npv_high), currency))}</li>"
        for d in results.drivers[:3]
    )
    subject = scenario_title(results.drivers_scenario).lower()
    return "\n".join(
        [
            '<section class="moves"><div class="words">',
            "<h2>What would change the call</h2>",
            f"<p>{_e(lines.flip)}</p>",
            f"<p>{_e(lines.evppi)}</p>",
            "<h2>What the answer hangs on most</h2>",
            f'<p class="lead">The net present value of {_e(subject)} over '
            f"{results.horizon_years} years as each input goes from its low to its high "
            "plausible value, the others at their central values:</p>",
            f"<ol>{drivers}</ol>",
            "</div>",
            f'<figure class="chart">{chart_svg}</figure>',
            "</section>",
        ]
    )


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class ProfileBasis:
    """Where a company profile's inputs come from: how many rest on a public figure."""

    public: int
    total: int


def profile_basis(statuses: Sequence[str]) -> ProfileBasis:
    """Count the inputs of a profile resting on a public figure (the assumptions table's
    ``status`` column: ``public figure``, ``assumption`` or ``override``)."""
    return ProfileBasis(sum(s == "public figure" for s in statuses), len(statuses))


def sources_html(results: ResultsFile, *, basis: ProfileBasis | None, built: str | date) -> str:
    """Where the figures come from, in one short paragraph, and the build date."""
    if basis is None:
        profile = "the company profile, each input with its basis"
    else:
        profile = (
            f"the company profile, illustrative: {basis.public} of its {basis.total} inputs "
            "rest on a public figure, the others are stated assumptions"
        )
    pilot = " and the pilot's counts" if results.pilot is not None else ""
    text = (
        "Where the figures come from: the evidence report (what customers say, each figure "
        "checked against its primary source); the model and its distributions, documented "
        f"with the project; {profile}{pilot}. The rules that bind the company are read as of "
        f"{build_date_words(results.as_of)}. The full report sets out every input, its "
        f"source and the charts. Built {build_date_words(built)}."
    )
    return f'<footer class="sources"><p>{_e(text)}</p></footer>'


# --------------------------------------------------------------------------- chart


def _compact(currency: str) -> FuncFormatter:
    return FuncFormatter(lambda value, _pos=None: money(value, currency, compact=True))


def npv_range_chart(results: ResultsFile, *, width_in: float = 3.0) -> Figure:
    """Each option's expected net present value (dot) and its P10 to P90 range (bar).

    Each option is named above its bar, so the axis takes the whole width; a scenario a
    rule forbids is drawn in grey and marked as not allowed. The money axis keeps as many
    ticks (four at most) as fit without their labels touching.
    """
    names = list(results.scenarios)
    rc: dict[str, Any] = {
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "xtick.labelsize": 8.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.spines.left": False,
        "svg.fonttype": "none",
    }
    with mpl.rc_context(rc):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=(width_in, 0.52 * len(names) + 0.75))
        values: list[float] = []
        for y, name in enumerate(names):
            result = results.scenarios[name]
            colour = scenario_colour(name) if result.permitted else "#bdbdbd"
            low, high, mean = result.npv_p10, result.npv_p90, result.npv_mean
            if low is not None and high is not None:
                ax.plot([low, high], [y, y], color=colour, linewidth=5, alpha=0.4,
                        solid_capstyle="butt")  # fmt: skip
                values += [low, high]
            if mean is not None:
                ax.plot([mean], [y], "o", color=colour, markersize=6)
                values.append(mean)
        ax.axvline(0, color=COLOURS["net"], linewidth=0.8)
        ax.set_yticks([])
        ax.set_ylim(len(names) - 0.55, -0.95)
        left = min([0.0, *values])
        right = max([0.0, *values])
        pad = 0.04 * ((right - left) or 1.0)
        ax.set_xlim(left - pad, right + pad)
        for y, name in enumerate(names):
            permitted = results.scenarios[name].permitted
            label = scenario_title(name) + ("" if permitted else " (not allowed)")
            ax.text(left - pad, y - 0.3, label, fontsize=8.5, va="bottom", ha="left", zorder=5,
                    color=COLOURS["net"] if permitted else "#666666",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})  # fmt: skip
        ax.xaxis.set_major_formatter(_compact(results.currency))
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        ax.grid(axis="y", visible=False)
        ax.set_axisbelow(True)
        ax.set_title(
            f"Net present value over {results.horizon_years} years:\n"
            "expected (dot), P10 to P90 (bar)",
            loc="left",
            fontsize=9,
            fontweight="bold",
        )
        fig.tight_layout(pad=0.3)
        _fit_ticks(fig, ax)
    return fig


def _fit_ticks(fig: Figure, ax: Any) -> None:
    """Fewer money ticks until no two labels touch (four at most, two at least)."""
    for bins in (4, 3, 2):
        ax.xaxis.set_major_locator(MaxNLocator(nbins=bins))
        fig.canvas.draw()
        boxes = [
            label.get_window_extent()
            for label in ax.get_xticklabels()
            if label.get_text() and label.get_visible()
        ]
        boxes.sort(key=lambda box: box.x0)
        if all(a.x1 + 4 < b.x0 for a, b in pairwise(boxes)):
            return


def svg_of(fig: Figure) -> str:
    """The figure as an inline SVG element (text kept as text, no date, stable ids)."""
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "cxtradeoff-brief"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
