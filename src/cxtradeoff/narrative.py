"""Sentences built from results, so no number in the prose is typed by hand.

Everything here returns Markdown. Data-derived free text (a profile's display name)
is escaped with :func:`escape_text` first, so it shows as typed and is never markup.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any

#: Markdown punctuation that could start emphasis, links, code or headings
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~-])")

SCENARIO_LABELS: Mapping[str, str] = {
    "status_quo": "the status quo (no AI)",
    "hybrid": "the hybrid set-up (AI assists, a human one step away)",
    "full_automation": "full automation (AI first, humans hard to reach)",
    "reversal": "the reversal (full automation for a year, then hybrid)",
}


def escape_text(text: str) -> str:
    """Escape Markdown punctuation, then HTML-special characters (``&``, ``<``, ``>``).

    Examples
    --------
    >>> escape_text("<script>alert(1)</script>")
    '&lt;script&gt;alert\\\\(1\\\\)&lt;/script&gt;'
    """
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", str(text)), quote=False)


def format_money(value: float | None, currency: str) -> str:
    """``EUR 5.74 million``, ``USD 870,000``, ``-EUR 1.2 billion``; ``n/a`` for None."""
    if value is None or not math.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    size = abs(value)
    cur = escape_text(currency)
    if size >= 1e9:
        return f"{sign}{cur} {size / 1e9:.3g} billion"
    if size >= 1e6:
        return f"{sign}{cur} {size / 1e6:.3g} million"
    return f"{sign}{cur} {size:,.0f}"


def format_share(value: float | None, *, digits: int = 1) -> str:
    """``0.0589`` -> ``5.9%``; small shares keep two significant digits; ``n/a`` for None."""
    if value is None or not math.isfinite(value):
        return "n/a"
    pct = 100.0 * value
    if 0 < abs(pct) < 1:
        return f"{pct:.2g}%"
    return f"{pct:.{digits}f}%"


def format_chance(value: float | None) -> str:
    """A probability in words: ``37%``, but ``less than 1%`` and ``more than 99%`` at the ends."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0%"
    if value < 0.005:
        return "less than 1%"
    if value == 1:
        return "100%"
    if value > 0.995:
        return "more than 99%"
    return f"{100 * value:.0f}%"


def break_even_sentence(k_star: float | None, *, one_off_costs: bool = False) -> str:
    """The break-even in words: 'pays only if fewer than X% ... actually leave'.

    Parameters
    ----------
    k_star
        The break-even conversion at which NPV over the horizon is 0
        (``break_even_conversion_npv``): the one that makes the sentence true.
    one_off_costs
        True when one-off costs (implementation, rehiring) weigh on the break-even;
        the sentence then says they are counted (see :func:`counts_one_off_costs`).

    Examples
    --------
    >>> break_even_sentence(0.062, one_off_costs=True)[-46:]
    'leave, with the one-off costs counted as well.'
    """
    if k_star is None or not math.isfinite(k_star):
        return (
            "No customer meets the AI in this scenario, so there is no break-even "
            "conversion to speak of."
        )
    if k_star <= 0:
        return (
            "It does not pay even if no customer leaves: the savings do not cover the "
            "AI's running and one-off costs."
        )
    counted = ", with the one-off costs counted as well" if one_off_costs else ""
    if k_star >= 1:
        return (
            f"It pays even if every customer who would consider leaving actually leaves{counted}."
        )
    return (
        f"It pays only if fewer than {format_share(k_star)} of the customers who would "
        f"consider leaving actually leave{counted}."
    )


def horizon_break_even(result: Mapping[str, Any]) -> float | None:
    """The break-even conversion at which NPV is 0 (``break_even_conversion_npv``).

    Results written before that key existed fall back to ``break_even_conversion``.
    """
    if "break_even_conversion_npv" in result:
        return result["break_even_conversion_npv"]
    return result.get("break_even_conversion")


def counts_one_off_costs(result: Mapping[str, Any]) -> bool:
    """Whether one-off costs move the break-even: the NPV version differs from the annual one.

    True with an implementation cost F > 0, or a rehiring cost in the reversal; the
    annual (contract) break-even ignores them, the NPV one spreads them over the horizon.
    """
    if result.get("rehiring_cost"):
        return True
    annual = result.get("break_even_conversion")
    npv = result.get("break_even_conversion_npv")
    if annual is None or npv is None or not (math.isfinite(annual) and math.isfinite(npv)):
        return False
    return not math.isclose(annual, npv, rel_tol=1e-9, abs_tol=1e-15)


def _break_even_words(result: Mapping[str, Any]) -> str:
    return break_even_sentence(
        horizon_break_even(result), one_off_costs=counts_one_off_costs(result)
    )


def scenario_paragraph(name: str, result: Mapping[str, Any], *, currency: str, years: int) -> str:
    """One scenario in three sentences: savings, loyalty cost and NPV, break-even, risk."""
    label = SCENARIO_LABELS.get(name, escape_text(name))
    savings = result.get("annual_savings")
    loyalty = result.get("annual_loyalty_cost")
    lost = result.get("customers_lost_per_year")
    npv = result.get("npv")
    parts = [
        f"With {label}, the company saves {format_money(savings, currency)} a year on "
        f"service before counting lost customers; about {lost:,.0f} extra customers leave "
        f"each year, costing {format_money(loyalty, currency)} a year. Over {years} "
        f"years the net present value is {format_money(npv, currency)}."
        if lost is not None
        else f"With {label}, the net present value is {format_money(npv, currency)}.",
        _break_even_words(result),
    ]
    if result.get("rehiring_cost"):
        parts.append(
            "Rehiring agents at the start of year 2 costs "
            f"{format_money(result['rehiring_cost'], currency)} once."
        )
    p_below = result.get("p_conversion_below_break_even")
    if p_below is not None and horizon_break_even(result) is not None:
        parts.append(
            f"The prior for that conversion (no study measures it) gives "
            f"{format_chance(p_below)} chance that fewer leave than that."
        )
    p_loss = result.get("p_loss")
    if p_loss is not None:
        parts.append(
            f"Across the evidence's ranges, the chance of losing money is "
            f"{format_chance(p_loss)} (NPV from "
            f"{format_money(result.get('npv_p10'), currency)} at P10 to "
            f"{format_money(result.get('npv_p90'), currency)} at P90)."
        )
    return " ".join(parts)


def executive_summary(results: Mapping[str, Any]) -> str:
    """The executive summary of a notebook's results, as Markdown.

    Parameters
    ----------
    results
        A dict shaped like :func:`cxtradeoff.results.build_results` returns.

    Returns
    -------
    str
        A bold headline sentence on the headline scenario, then one paragraph per
        scenario other than the status quo, then which scenario has the highest NPV.
    """
    name = escape_text(results["display_name"])
    currency = str(results["currency"])
    years = int(results["horizon_years"])
    head = results["headline"]
    main = results["scenarios"][head["scenario"]]
    label = SCENARIO_LABELS.get(head["scenario"], escape_text(head["scenario"]))
    verdict = "pays" if (main.get("npv") or 0) > 0 else "does not pay"
    lines = [
        f"**{name}: {label} {verdict} on the base case, with a net present value of "
        f"{format_money(main.get('npv'), currency)} over {years} years.** "
        + _break_even_words(main),
        "",
    ]
    for scenario, result in results["scenarios"].items():
        if scenario == "status_quo":
            continue
        lines += [scenario_paragraph(scenario, result, currency=currency, years=years), ""]
    ranked = sorted(
        results["scenarios"].items(), key=lambda item: item[1].get("npv") or 0.0, reverse=True
    )
    if len(ranked) > 1:
        best, best_result = ranked[0]
        lines.append(
            f"Of the scenarios compared, {SCENARIO_LABELS.get(best, escape_text(best))} has "
            f"the highest net present value ({format_money(best_result.get('npv'), currency)})."
        )
    if results.get("draws"):
        lines.append(
            f"The chances come from {int(results['draws']):,} Monte Carlo draws "
            f"(seed {int(results['seed'])})."
        )
    return "\n".join(lines).strip() + "\n"


def headline_sentence(results: Mapping[str, Any]) -> str:
    """One plain sentence for a landing page (Markdown, display name escaped)."""
    head = results["headline"]
    currency = str(results["currency"])
    k = _break_even_words(head)
    risk = (
        f" Chance of losing money: {format_chance(head['p_loss'])}."
        if head.get("p_loss") is not None
        else ""
    )
    return (
        f"{escape_text(results['display_name'])}, {escape_text(head['scenario'])}: saves "
        f"{format_money(head.get('annual_savings'), currency)} a year; NPV "
        f"{format_money(head.get('npv'), currency)}. {k}{risk}"
    )
