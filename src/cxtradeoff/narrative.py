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
    chance,
    customers,
    money,
    scenario_label,
    verdict,
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
    """One scenario in three sentences: savings, loyalty cost and NPV, break-even, risk."""
    label = scenario_label(name)
    parts = [
        f"With {label}, the company saves {money(result.annual_savings, currency)} a year on "
        f"service before counting lost customers; {customers(result.customers_lost_per_year)} "
        f"extra customers leave each year, costing {money(result.annual_loyalty_cost, currency)} "
        f"a year. Over {years} years the net present value is {money(result.npv, currency)}.",
        _break_even_words(result),
    ]
    if result.rehiring_cost:
        parts.append(
            "Rehiring agents at the start of year 2 costs "
            f"{money(result.rehiring_cost, currency)} once."
        )
    p_below = result.p_conversion_below_break_even
    if p_below is not None and result.break_even_conversion_npv is not None:
        parts.append(
            f"The prior for that conversion (no study measures it) gives "
            f"{chance(p_below)} chance that fewer leave than that."
        )
    if result.p_loss is not None:
        parts.append(
            f"Across the evidence's ranges, the chance of losing money is "
            f"{chance(result.p_loss)} (NPV from "
            f"{money(result.npv_p10, currency)} at P10 to "
            f"{money(result.npv_p90, currency)} at P90)."
        )
    return " ".join(parts)


def executive_summary(results: ResultsFile) -> str:
    """The executive summary of a notebook's results, as Markdown.

    Returns
    -------
    str
        A bold headline sentence on the headline scenario, then one paragraph per
        scenario other than the status quo, then which scenario has the highest NPV.
    """
    name = escape_text(results.display_name)
    currency = results.currency
    years = results.horizon_years
    head = results.headline
    main = results.scenarios[head.scenario]
    label = scenario_label(head.scenario)
    lines = [
        f"**{name}: {label} {verdict(main.npv)} on the base case, with a net present value of "
        f"{money(main.npv, currency)} over {years} years.** " + _break_even_words(main),
        "",
    ]
    for scenario, result in results.scenarios.items():
        if scenario == "status_quo":
            continue
        lines += [scenario_paragraph(scenario, result, currency=currency, years=years), ""]
    ranked = sorted(results.scenarios.items(), key=lambda item: item[1].npv, reverse=True)
    if len(ranked) > 1:
        best, best_result = ranked[0]
        lines.append(
            f"Of the scenarios compared, {scenario_label(best)} has "
            f"the highest net present value ({money(best_result.npv, currency)})."
        )
    if results.draws:
        lines.append(
            f"The chances come from {results.draws:,} Monte Carlo draws (seed {results.seed})."
        )
    return "\n".join(lines).strip() + "\n"
