"""Sentences built from results, so no number in the prose is typed by hand.

Everything here returns Markdown. Data-derived free text (a profile's display name)
is escaped with :func:`escape_text` first, so it shows as typed and is never markup.
"""

from __future__ import annotations

import html
import math
import re

from cxtradeoff.contracts import Headline, ResultsFile, ScenarioResult
from cxtradeoff.formatting import (
    break_even_sentence,
    break_even_words,
    chance,
    customers,
    decision_lines,
    money,
    pilot_is_illustrative,
    scenario_label,
    scenario_title,
)

#: Markdown punctuation that could start emphasis, links, code or headings
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~-])")


def escape_text(text: str) -> str:
    """Escape Markdown punctuation, then HTML-special characters (``&``, ``<``, ``>``).

    Examples
    --------
    >>> escape_text("<script>alert(1)</script>")
    '&lt;script&gt;alert\\\\(1\\\\)&lt;/script&gt;'
    """
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", str(text)), quote=False)


def counts_one_off_costs(result: ScenarioResult | Headline) -> bool:
    """Whether one-off costs move the break-even: the NPV version differs from the annual one.

    True with an implementation cost F > 0, or a rehiring cost in the reversal; the
    annual (contract) break-even ignores them, the NPV one spreads them over the horizon.
    """
    if getattr(result, "rehiring_cost", 0.0):
        return True
    annual = result.break_even_conversion
    npv = result.break_even_conversion_npv
    if annual is None or npv is None or not (math.isfinite(annual) and math.isfinite(npv)):
        return False
    return not math.isclose(annual, npv, rel_tol=1e-9, abs_tol=1e-15)


def _break_even_words(result: ScenarioResult | Headline) -> str:
    return break_even_sentence(
        result.break_even_conversion_npv, one_off_costs=counts_one_off_costs(result)
    )


def scenario_paragraph(name: str, result: ScenarioResult, *, currency: str, years: int) -> str:
    """One scenario: its distribution first, then its base case, break-even and valuation."""
    label = scenario_label(name)
    parts = []
    if result.npv_mean is not None:
        parts.append(
            f"With {label}, the expected net present value over {years} years is "
            f"{money(result.npv_mean, currency)} (P10 {money(result.npv_p10, currency)}, "
            f"P90 {money(result.npv_p90, currency)}); the chance of losing money is "
            f"{chance(result.p_loss)} and the chance that it is the best choice "
            f"{chance(result.p_best)}."
        )
    parts.append(
        f"In the base case (every input at its central value) it saves "
        f"{money(result.annual_savings, currency)} a year on service before counting lost "
        f"customers; {customers(result.customers_lost_per_year)} extra customers leave each "
        f"year, costing {money(result.annual_loyalty_cost, currency)} a year, and the net "
        f"present value is {money(result.npv, currency)}."
    )
    one_off = [
        f"{money(cost, currency)} {what}"
        for cost, what in (
            (result.severance_cost, "of severance"),
            (result.rehiring_cost, "to rehire agents at the start of year 2"),
        )
        if cost
    ]
    if one_off:
        parts.append(f"One-off costs include {' and '.join(one_off)}.")
    parts.append(_break_even_words(result))
    clv, replacement = (
        result.break_even_conversion_npv_clv,
        result.break_even_conversion_npv_replacement,
    )
    if clv is not None and replacement is not None:
        if math.isclose(clv, replacement, rel_tol=1e-9):
            parts.append(
                "The break-even is the same whether a lost customer is valued at its lifetime "
                "value or at the cost of winning a replacement (the replacement costs more)."
            )
        else:
            parts.append(
                f"Valuing a lost customer at its lifetime value, the break-even is "
                f"{break_even_words(clv)}; at the cost of winning a replacement, "
                f"{break_even_words(replacement)}."
            )
    return " ".join(parts)


def headline_paragraph(results: ResultsFile) -> str:
    """The decision, as Markdown: what to do, the risk, the assumption it hangs on, and
    what measuring that assumption would be worth. The same sentences as the brief."""
    lines = decision_lines(results)
    odds = f" {lines.odds}" if lines.odds else ""
    return (
        f"**{escape_text(results.display_name)}. {lines.decision}**{odds} {lines.flip} "
        f"{lines.evppi}"
    )


def _scenario_paragraphs(results: ResultsFile) -> list[str]:
    """A paragraph for each scenario but the status quo, each followed by a blank line."""
    lines: list[str] = []
    for scenario, result in results.scenarios.items():
        if scenario != "status_quo":
            years = results.horizon_years
            paragraph = scenario_paragraph(scenario, result, currency=results.currency, years=years)
            lines += [paragraph, ""]
    return lines


def executive_summary(results: ResultsFile) -> str:
    """The executive summary of a company's results, as Markdown.

    Returns
    -------
    str
        The decision paragraph (:func:`headline_paragraph`), then one paragraph per
        scenario other than the status quo, then where the chances come from.
    """
    lines = [headline_paragraph(results), "", *_scenario_paragraphs(results)]
    lines.append(
        f"Scenarios are ranked on their expected net present value over {results.draws:,} "
        f"Monte Carlo draws (seed {results.seed}) in which every uncertain input varies at "
        "once, the same draws for every scenario; the base case is shown, never used to rank."
    )
    return "\n".join(lines).strip() + "\n"


# --------------------------------------------------------------------------- the report


def title_block(title: str, results: ResultsFile) -> str:
    """The report's title and what it is about, as Markdown: company, currency, horizon,
    the date the plan starts and the draws behind the chances."""
    pilot = " after a pilot" if results.pilot is not None else ""
    return (
        f"# {escape_text(title)}\n\n"
        f"**{escape_text(results.display_name)}**: amounts in {escape_text(results.currency)}, "
        f"net present value over {results.horizon_years} years from {results.as_of}, chances "
        f"over {results.draws:,} Monte Carlo draws{pilot}."
    )


def pilot_note(results: ResultsFile) -> str:
    """With a pilot, the sentence that says the figures rest on what it measured, and the
    assumption that carries it to every scenario; otherwise an empty string."""
    from cxtradeoff.pilot import ASSUMPTION

    pilot = results.pilot
    if pilot is None:
        return ""
    return (
        f"*These figures use what {'an illustrative' if pilot_is_illustrative(pilot) else 'a'} "
        f"pilot measured*: {pilot.ai_customers + pilot.control_customers:,} "
        f"customers over {pilot.months} month{'s' if pilot.months != 1 else ''} "
        f"({scenario_title(pilot.scenario).lower()} against today's service). The share of "
        "would-be leavers who actually leave is no longer the prior but its posterior "
        f"after the pilot. {escape_text(ASSUMPTION)}"
        + (
            f" The pilot's counts are illustrative, not measured: {escape_text(pilot.source or '')}."
            if pilot_is_illustrative(pilot)
            else ""
        )
    )


def decision_section(results: ResultsFile) -> str:
    """The section a report leads with, as Markdown: the decision (:func:`headline_paragraph`)
    and, after a pilot, :func:`pilot_note`."""
    parts = ["## The decision", headline_paragraph(results), pilot_note(results)]
    return "\n\n".join(p for p in parts if p) + "\n"


def scenarios_section(results: ResultsFile) -> str:
    """Each scenario other than the status quo in a paragraph, then how scenarios are
    ranked, as Markdown under the heading "Scenario by scenario"."""
    lines = ["## Scenario by scenario", "", *_scenario_paragraphs(results)]
    lines.append(
        f"Scenarios are ranked on their expected net present value over {results.draws:,} "
        "Monte Carlo draws in which every uncertain input varies at once, the same draws for "
        "every scenario; the base case (every input at its central value) is shown, never "
        "used to rank."
    )
    return "\n".join(lines) + "\n"


def pilot_section(results: ResultsFile) -> str:
    """With a pilot, the section "What the pilot measured": its counts and what they
    changed (:func:`cxtradeoff.pilot.pilot_summary`), as Markdown; otherwise empty."""
    from cxtradeoff.pilot import pilot_summary

    if results.pilot is None:
        return ""
    sentences = pilot_summary(results.pilot, currency=results.currency, years=results.horizon_years)
    return (
        "## What the pilot measured\n\n"
        + "\n".join(f"- {escape_text(s)}" for s in sentences)
        + "\n"
    )


def pilot_caption(results: ResultsFile) -> str:
    """With a pilot, the caption of its chart (prior against posterior); otherwise empty."""
    pilot = results.pilot
    if pilot is None:
        return ""
    k_star = pilot.break_even_conversion_npv
    line = (
        f" The dashed line is the break-even of {scenario_title(pilot.scenario).lower()}, "
        f"{break_even_words(k_star)}: it pays when the share stays below it."
        if k_star is not None and 0 < k_star < 1
        else ""
    )
    return (
        "**The share of would-be leavers who actually leave, before and after the pilot.** "
        "Grey: what was assumed before it (a prior, no study measures it); in colour: what "
        f"the pilot's counts say.{line}"
    )
