"""How every number and verdict reads, wherever it is shown: the one owner of wording.

The report's prose, its charts and tables, the landing page, the email and the
exploration panel all call these functions, so the same figure reads the same
everywhere. Everything returns plain text (no markup); callers escape it for the
medium they write (Markdown, HTML).

Examples
--------
>>> money(5_740_000, "EUR")
'EUR 5.74 million'
>>> money(-870_000, "USD")
'-USD 870,000'
>>> money(12_300_000, "EUR", compact=True)
'EUR 12.3M'
>>> share(0.0589)
'5.9%'
>>> chance(0.003)
'less than 1%'
>>> break_even_words(1.3)
'always pays'
>>> customers(50_456)
'about 50,000'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "COLOURS",
    "MISSING",
    "PARAMETER_LABELS",
    "PARAMETER_UNITS",
    "SCENARIO_LABELS",
    "SCENARIO_TITLES",
    "break_even_sentence",
    "break_even_words",
    "chance",
    "customers",
    "money",
    "number",
    "parameter_label",
    "parameter_value",
    "plain_words",
    "scenario_colour",
    "scenario_label",
    "scenario_title",
    "share",
    "verdict",
]

#: what an undefined figure reads as
MISSING: str = "n/a"

#: a scenario in a sentence ("With the hybrid set-up, ...")
SCENARIO_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "status_quo": "the status quo (no AI)",
        "hybrid": "the hybrid set-up (AI assists, a human one step away)",
        "full_automation": "full automation (AI first, humans hard to reach)",
        "reversal": "the reversal (full automation for a year, then hybrid)",
    }
)

#: a scenario as a heading, a legend entry or a table row
SCENARIO_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "status_quo": "Status quo",
        "hybrid": "Hybrid",
        "full_automation": "Full automation",
        "reversal": "Reversal",
    }
)

#: every model input in words, with its unit: what a reader sees instead of a code name
PARAMETER_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "customers": "Active customers",
        "revenue_per_customer": "Revenue per customer a year",
        "margin": "Contribution margin",
        "retention_rate": "Customers kept each year (retention)",
        "discount_rate": "Discount rate",
        "horizon_years": "Years counted",
        "contacts_per_customer": "Service contacts per customer a year",
        "contact_reach": "Customers who contact service in a year",
        "cost_human_contact": "Cost of a contact handled by a person",
        "cost_ai_contact": "Cost of a contact handled by AI",
        "ai_resolution_share": "Contacts AI resolves on its own",
        "ai_escalation_share": "Contacts AI hands on to a person",
        "assist_productivity": "Agent time saved by AI assistance",
        "ai_fixed_cost_per_year": "AI platform running cost a year",
        "implementation_cost": "One-off build and integration cost",
        "severance_months": "Severance per agent cut (months of cost)",
        "consider_switch_share": "Customers who would consider leaving over AI",
        "switch_conversion": "Would-be leavers who actually leave each year",
        "escalation_mitigation": "Risk removed by an easy path to a person",
        "escalation_penalty": "Extra risk after a failed AI contact (times)",
        "retention_spend_per_customer": "Retention spend per customer a year",
        "acquisition_multiplier": "Cost to win a customer / cost to keep one",
        "replace_lost_customers": "Lost customers valued at replacement cost",
        "contacts_per_agent_per_year": "Contacts one agent handles a year",
        "rehiring_cost_per_agent": "Cost to rehire one agent",
    }
)

#: how each model input's value reads: ``money`` (an amount in the company's currency),
#: ``unit_cost`` (a small amount, to the cent), ``share`` (0..1 as a percentage),
#: ``count``, ``years``, ``months``, ``times`` (a multiple), ``contacts`` (a count a
#: year, one decimal) and ``yes_no``
PARAMETER_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "customers": "count",
        "revenue_per_customer": "money",
        "margin": "share",
        "retention_rate": "share",
        "discount_rate": "share",
        "horizon_years": "years",
        "contacts_per_customer": "contacts",
        "contact_reach": "share",
        "cost_human_contact": "unit_cost",
        "cost_ai_contact": "unit_cost",
        "ai_resolution_share": "share",
        "ai_escalation_share": "share",
        "assist_productivity": "share",
        "ai_fixed_cost_per_year": "money",
        "implementation_cost": "money",
        "severance_months": "months",
        "consider_switch_share": "share",
        "switch_conversion": "share",
        "escalation_mitigation": "share",
        "escalation_penalty": "times",
        "retention_spend_per_customer": "money",
        "acquisition_multiplier": "times",
        "replace_lost_customers": "yes_no",
        "contacts_per_agent_per_year": "count",
        "rehiring_cost_per_agent": "money",
    }
)

_CODE_NAME = re.compile(
    r"\b(?:"
    + "|".join(sorted((n for n in PARAMETER_LABELS if "_" in n), key=len, reverse=True))
    + r")\b"
)

#: colours by meaning, so a scenario or a status has the same colour in every chart
COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "status_quo": "#7f7f7f",
        "hybrid": "#1b7837",
        "full_automation": "#b2182b",
        "reversal": "#e08214",
        "savings": "#2166ac",
        "loyalty_cost": "#b2182b",
        "net": "#1a1a1a",
        "verified": "#1b7837",
        "wording differs": "#7fbc41",
        "number differs": "#e08214",
        "secondary only": "#80cdc1",
        "unverified": "#b2182b",
        "qualitative": "#7f7f7f",
    }
)


def _defined(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def money(value: float | None, currency: str, *, compact: bool = False) -> str:
    """An amount with its currency code, rounded for reading.

    Parameters
    ----------
    value
        The amount; ``None``, NaN or infinity read ``n/a``.
    currency
        ISO 4217 code, shown before the amount (amounts are never converted).
    compact
        ``EUR 12.3M`` (axes, narrow tables) instead of ``EUR 12.3 million``.

    Examples
    --------
    >>> money(2_175_000.75, "EUR"), money(1.2e9, "EUR"), money(None, "EUR")
    ('EUR 2.18 million', 'EUR 1.2 billion', 'n/a')
    >>> money(-3_500_000, "USD", compact=True), money(950, "EUR", compact=True)
    ('-USD 3.5M', 'EUR 950')
    >>> money(739_548, "EUR"), money(12_345, "EUR")
    ('EUR 740,000', 'EUR 12,300')
    """
    if value is None or not _defined(value):
        return MISSING
    sign = "-" if value < 0 else ""
    size = abs(float(value))
    scales = (
        ((1e9, "B"), (1e6, "M"), (1e3, "k")) if compact else ((1e9, " billion"), (1e6, " million"))
    )
    for divisor, suffix in scales:
        if size >= divisor:
            return f"{sign}{currency} {size / divisor:.3g}{suffix}"
    if compact:
        return f"{sign}{currency} {size:.3g}"
    rounded = round(size) if size < 1000 else round(size, 2 - math.floor(math.log10(size)))
    return f"{sign if rounded else ''}{currency} {int(rounded):,}"


def number(value: float | None) -> str:
    """A plain number for reading: never in scientific notation, millions in words.

    >>> number(2e6), number(1.6e6), number(12_345.0), number(0.125), number(15.0)
    ('2 million', '1.6 million', '12,345', '0.125', '15')
    """
    if value is None or not _defined(value):
        return MISSING
    size = abs(float(value))
    sign = "-" if value < 0 else ""
    for divisor, suffix in ((1e9, " billion"), (1e6, " million")):
        if size >= divisor:
            return f"{sign}{size / divisor:.3g}{suffix}"
    if size >= 1000 or size == round(size):
        return f"{sign}{size:,.0f}"
    return f"{sign}{size:.3g}"


def share(value: float | None, *, digits: int = 1) -> str:
    """A share 0..1 as a percentage; under 1% keeps two significant digits.

    >>> share(0.31), share(0.00123), share(None)
    ('31.0%', '0.12%', 'n/a')
    """
    if value is None or not _defined(value):
        return MISSING
    pct = 100.0 * value
    if 0 < abs(pct) < 1:
        return f"{pct:.2g}%"
    return f"{pct:.{digits}f}%"


def chance(value: float | None) -> str:
    """A probability in words: ``37%``, but ``less than 1%`` and ``more than 99%`` at the ends.

    >>> chance(0.37), chance(0.0), chance(0.999), chance(0.005), chance(0.004)
    ('37%', '0%', 'more than 99%', '1%', 'less than 1%')
    """
    if value is None or not _defined(value):
        return MISSING
    if value == 0:
        return "0%"
    if value == 1:
        return "100%"
    percent = math.floor(100 * value + 0.5)  # half up: 0.5% reads 1%, never 0%
    if percent < 1:
        return "less than 1%"
    if percent > 99:
        return "more than 99%"
    return f"{percent}%"


def customers(value: float | None) -> str:
    """A count of customers in two significant figures, said to be approximate.

    >>> customers(50_456), customers(1_234_567), customers(37.4), customers(0)
    ('about 50,000', 'about 1,200,000', 'about 37', 'none')
    """
    if value is None or not _defined(value):
        return MISSING
    if round(value) == 0:
        return "none"
    magnitude = math.floor(math.log10(abs(value)))
    rounded = round(value, -(magnitude - 1)) if magnitude >= 1 else round(value)
    return f"about {int(rounded):,}"


def break_even_words(k_star: float | None) -> str:
    """A break-even switching conversion for a table cell, worded at its ends.

    At or above 100% automation pays whatever share of would-be switchers leaves; at or
    below 0 it does not pay even if nobody leaves; undefined when nobody meets the AI.

    >>> break_even_words(0.062), break_even_words(-0.1), break_even_words(None)
    ('6.2%', 'never pays', 'no exposure')
    """
    if k_star is None or not _defined(k_star):
        return "no exposure"
    if k_star >= 1:
        return "always pays"
    if k_star <= 0:
        return "never pays"
    return share(k_star)


def break_even_sentence(k_star: float | None, *, one_off_costs: bool = False) -> str:
    """The break-even in a sentence: 'pays only if fewer than X% ... leave each year'.

    Parameters
    ----------
    k_star
        The break-even conversion at which NPV over the horizon is 0.
    one_off_costs
        True when one-off costs (implementation, severance, rehiring) weigh on the
        break-even; the sentence then says they are counted.

    Examples
    --------
    >>> break_even_sentence(0.062)
    'It pays only if fewer than 6.2% of the customers who would consider leaving actually leave each year.'
    """
    if k_star is None or not _defined(k_star):
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
        f"It pays only if fewer than {share(k_star)} of the customers who would "
        f"consider leaving actually leave each year{counted}."
    )


def verdict(npv: float | None) -> str:
    """``pays`` or ``does not pay``, from a net present value.

    >>> verdict(3.7e6), verdict(-1.0), verdict(None)
    ('pays', 'does not pay', 'does not pay')
    """
    return "pays" if npv is not None and _defined(npv) and npv > 0 else "does not pay"


def parameter_value(name: str, value: object, currency: str, *, compact: bool = False) -> str:
    """A model input's value in its unit (:data:`PARAMETER_UNITS`), for a table a director reads.

    ``None`` reads "the model's default" (an input the model derives when not given);
    ``compact`` words amounts as :func:`money` does for narrow columns (``EUR 1.84M``).

    Examples
    --------
    >>> parameter_value("customers", 8_000_000, "EUR"), parameter_value("margin", 0.35, "EUR")
    ('8,000,000', '35.0%')
    >>> parameter_value("cost_ai_contact", 0.8, "EUR"), parameter_value("implementation_cost", 3e6, "EUR")
    ('EUR 0.80', 'EUR 3 million')
    >>> parameter_value("acquisition_multiplier", 15.0, "EUR"), parameter_value("severance_months", 6.0, "EUR")
    ('15 times', '6 months')
    >>> parameter_value("replace_lost_customers", False, "EUR"), parameter_value("rehiring_cost_per_agent", None, "EUR")
    ('no', "the model's default")
    """
    if value is None:
        return "the model's default"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    number = float(value)
    unit = PARAMETER_UNITS.get(name, "")
    if unit == "share":
        return share(number)
    if unit == "money":
        return money(number, currency, compact=compact)
    if unit == "unit_cost":
        return f"{'-' if number < 0 else ''}{currency} {abs(number):,.2f}"
    if unit == "contacts":
        return f"{number:,.1f}"
    if unit in ("years", "months", "times"):
        amount = f"{number:,.0f}" if number == round(number) else f"{number:,.1f}"
        word = {"years": "year", "months": "month", "times": "times"}[unit]
        return f"{amount} {word}{'' if word == 'times' or amount == '1' else 's'}"
    return f"{number:,.0f}" if number == round(number) else f"{number:,.3g}"


def plain_words(text: str) -> str:
    """``text`` with every model input's code name replaced by its label in quotes.

    For free text written by analysts (the basis of a profile's value) that a director
    reads. Only names with an underscore are code names: ``margin`` or ``customers`` in a
    sentence are words.

    >>> plain_words("contribution margin after costs; 5,728 customers")
    'contribution margin after costs; 5,728 customers'

    >>> plain_words("severance is counted by severance_months")
    'severance is counted by “Severance per agent cut (months of cost)”'
    """
    return _CODE_NAME.sub(lambda m: f"“{PARAMETER_LABELS[m.group(0)]}”", text)


def parameter_label(name: str) -> str:
    """A model input in words (the code name appears only in an analysts' appendix).

    >>> parameter_label("switch_conversion")
    'Would-be leavers who actually leave each year'
    """
    return PARAMETER_LABELS.get(name, name.replace("_", " ").capitalize())


def scenario_label(name: str) -> str:
    """A scenario in a sentence; an unknown name is shown as given."""
    return SCENARIO_LABELS.get(name, name.replace("_", " "))


def scenario_title(name: str) -> str:
    """A scenario as a heading or legend entry; an unknown name is shown as given."""
    return SCENARIO_TITLES.get(name, name.replace("_", " ").capitalize())


def scenario_colour(name: str) -> str:
    """The colour of a scenario (or a meaning such as ``savings``) in every chart."""
    return COLOURS.get(name, COLOURS["net"])


def decision_title(display_name: str, recommended: str) -> str:
    """A title that states the decision, for a brief or an email subject.

    >>> decision_title("Telecom operator", "hybrid")
    'Telecom operator: AI that assists agents, a person one step away'
    >>> decision_title("Retail bank", "status_quo")
    'Retail bank: keep service with people, no AI for now'
    """
    return f"{display_name}: {DECISION_WORDS.get(recommended, scenario_title(recommended))}"


#: the recommendation as a decision, in a title
DECISION_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "status_quo": "keep service with people, no AI for now",
        "hybrid": "AI that assists agents, a person one step away",
        "full_automation": "automate service fully with AI",
        "reversal": "automate for a year, then bring people back",
    }
)


def decision_sentence(
    recommended: str,
    *,
    npv_mean: float,
    p_loss: float,
    currency: str,
    years: int,
    contender: str | None = None,
    contender_npv_mean: float | None = None,
    contender_p_loss: float | None = None,
) -> str:
    """The recommendation in one sentence: what to do, what it is expected to give, the risk.

    With the status quo recommended, ``contender`` (the AI scenario closest to paying)
    says what was turned down and why.

    >>> decision_sentence("hybrid", npv_mean=40.35e6, p_loss=0.098, currency="EUR", years=3)
    'Recommended: the hybrid set-up (AI assists, a human one step away), with an expected net present value of EUR 40.4 million over 3 years and a 10% chance of losing money.'
    """
    if recommended == "status_quo" and contender is not None:
        return (
            f"Recommended: {scenario_label(recommended)}. Every AI scenario loses money on "
            f"average once lost customers are counted; the closest, {scenario_title(contender).lower()}, "
            f"has an expected net present value of {money(contender_npv_mean, currency)} over "
            f"{years} years and a {chance(contender_p_loss)} chance of losing money."
        )
    return (
        f"Recommended: {scenario_label(recommended)}, with an expected net present value of "
        f"{money(npv_mean, currency)} over {years} years and a {chance(p_loss)} chance of "
        "losing money."
    )


def flip_sentence(
    *,
    assumed: float,
    conversion: float | None,
    to: str | None,
    direction: str | None,
    measured: bool = False,
) -> str:
    """The assumption the call hangs on, and the value at which it flips ("each year").

    ``measured``: the share comes from a pilot (its posterior), not from the prior.

    >>> flip_sentence(assumed=0.08, conversion=0.207, to="status_quo", direction="above")
    'It assumes that 8.0% of the customers who would consider leaving over AI actually leave each year (a prior: no study measures it); if more than 20.7% leave each year, the status quo (no AI) becomes the better choice.'
    >>> flip_sentence(assumed=0.076, conversion=None, to=None, direction=None, measured=True)[:118]
    'It assumes that 7.6% of the customers who would consider leaving over AI actually leave each year (as a pilot measured'
    """
    basis = "as a pilot measured it" if measured else "a prior: no study measures it"
    head = (
        f"It assumes that {share(assumed)} of the customers who would consider leaving over "
        f"AI actually leave each year ({basis})"
    )
    if conversion is None or to is None:
        return f"{head}; no value of that share between 0 and 100% changes the call."
    side = "more" if direction == "above" else "fewer"
    return (
        f"{head}; if {side} than {share(conversion)} leave each year, {scenario_label(to)} "
        "becomes the better choice."
    )


def evppi_sentence(value: float, currency: str) -> str:
    """What measuring the switching conversion exactly would be worth (EVPPI).

    >>> evppi_sentence(3.33e6, "EUR")
    'Measuring that share exactly, for instance with a pilot, would be worth up to EUR 3.33 million (the expected value of perfect information).'
    >>> evppi_sentence(0.0, "EUR")[:60]
    'Measuring that share would not change the call: its expected'
    """
    if value <= 0:
        return (
            "Measuring that share would not change the call: its expected value of perfect "
            "information is 0."
        )
    return (
        f"Measuring that share exactly, for instance with a pilot, would be worth up to "
        f"{money(value, currency)} (the expected value of perfect information)."
    )
