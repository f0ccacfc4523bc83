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
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # the contracts are core too; only their shape is needed here
    from cxtradeoff.contracts import Manifest, PilotResult, ResultsFile

__all__ = [
    "COLOURS",
    "MISSING",
    "PARAMETER_LABELS",
    "PARAMETER_UNITS",
    "SCENARIO_LABELS",
    "SCENARIO_TITLES",
    "DecisionLines",
    "break_even_sentence",
    "break_even_words",
    "chance",
    "customers",
    "decision_break_even",
    "decision_contender",
    "decision_lines",
    "decision_sentence",
    "decision_short",
    "decision_title",
    "evppi_sentence",
    "flip_sentence",
    "forbidden_lines",
    "forbidden_words",
    "money",
    "number",
    "odds_sentence",
    "parameter_label",
    "parameter_value",
    "pilot_sentence",
    "plain_words",
    "portfolio_units_line",
    "reversibility",
    "scenario_colour",
    "scenario_label",
    "scenario_title",
    "share",
    "units_by_decision",
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


#: the recommendation in a few words, for a subject line listing several companies
DECISION_SHORT: Mapping[str, str] = MappingProxyType(
    {
        "status_quo": "no AI for now",
        "hybrid": "AI assisting agents",
        "full_automation": "full automation",
        "reversal": "automate, then bring people back",
    }
)


def decision_short(recommended: str) -> str:
    """The recommendation in a few words (an e-mail subject naming several companies).

    >>> decision_short("hybrid"), decision_short("status_quo")
    ('AI assisting agents', 'no AI for now')
    """
    return DECISION_SHORT.get(recommended, scenario_title(recommended).lower())


def units_by_decision(scenarios: Sequence[str | None]) -> str:
    """A portfolio's units counted by what each is recommended, in one line (None: a
    unit not built).

    >>> units_by_decision(["hybrid", "status_quo", "hybrid", None])
    '4 units: AI assisting agents for 2, no AI for now for 1, not built for 1'
    """
    counts: dict[str, int] = {}
    for scenario in scenarios:
        words = decision_short(scenario) if scenario else "not built"
        counts[words] = counts.get(words, 0) + 1
    each = ", ".join(f"{words} for {n}" for words, n in counts.items())
    return f"{len(scenarios)} unit{'s' if len(scenarios) != 1 else ''}: {each}"


def portfolio_units_line(manifest: Manifest, rollup: str) -> str | None:
    """A roll-up's units by decision (:func:`units_by_decision`), as the manifest records
    them; None when ``rollup`` rolls up no unit."""
    units = manifest.units_of(rollup)
    if not units:
        return None
    return units_by_decision([e.headline.scenario if e.headline else None for e in units])


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

    ``measured`` is True when a pilot's counts replaced the prior: the share is then the
    pilot's measurement, not an assumption.

    >>> flip_sentence(assumed=0.08, conversion=0.207, to="status_quo", direction="above")
    'It assumes that 8.0% of the customers who would consider leaving over AI actually leave each year (a prior: no study measures it); if more than 20.7% leave each year, the status quo (no AI) becomes the better choice.'
    >>> flip_sentence(assumed=0.076, conversion=None, to=None, direction=None, measured=True)[:66]
    'After the pilot, 7.6% of the customers who would consider leaving '
    """
    if measured:
        head = (
            f"After the pilot, {share(assumed)} of the customers who would consider leaving "
            "over AI are expected to actually leave each year (the pilot's measurement)"
        )
    else:
        head = (
            f"It assumes that {share(assumed)} of the customers who would consider leaving "
            "over AI actually leave each year (a prior: no study measures it)"
        )
    if conversion is None or to is None:
        return f"{head}; no value of that share between 0 and 100% changes the call."
    side = "more" if direction == "above" else "fewer"
    return (
        f"{head}; if {side} than {share(conversion)} leave each year, {scenario_label(to)} "
        "becomes the better choice."
    )


def odds_sentence(
    recommended: str,
    *,
    recommended_p_best: float,
    recommended_npv_mean: float,
    ahead: str,
    ahead_p_best: float,
    ahead_npv_mean: float,
    currency: str,
) -> str:
    """Why the option most often best is not the one recommended.

    The recommendation goes by the expected net present value; an option can come out
    ahead in most draws and still be worth less on average, when it falls further behind
    in the other draws than it gets ahead in these. A reader who sees its larger chance of
    being best is told so.

    >>> odds_sentence("status_quo", recommended_p_best=0.41, recommended_npv_mean=0.0,
    ...               ahead="hybrid", ahead_p_best=0.58, ahead_npv_mean=-17.1e6,
    ...               currency="EUR")
    'The hybrid set-up comes out ahead in more of the draws (58% against 41% for the status quo), but when it falls behind, it falls further: on average it is worth -EUR 17.1 million, against EUR 0 for the status quo.'
    """
    return (
        f"{_short_label(ahead).capitalize()} comes out ahead in more of the draws "
        f"({chance(ahead_p_best)} against {chance(recommended_p_best)} for "
        f"{_short_label(recommended)}), but when it falls behind, it falls further: on "
        f"average it is worth {money(ahead_npv_mean, currency)}, against "
        f"{money(recommended_npv_mean, currency)} for {_short_label(recommended)}."
    )


def _short_label(name: str) -> str:
    """A scenario in a sentence, without its explanation: "the hybrid set-up"."""
    return scenario_label(name).split(" (")[0]


def evppi_sentence(value: float, currency: str, *, measured: bool = False) -> str:
    """What measuring the switching conversion exactly would be worth (EVPPI).

    ``measured``: the conversion already comes from a pilot, so what is left to weigh is
    measuring it more precisely.

    >>> evppi_sentence(3.33e6, "EUR")
    'Measuring that share exactly, for instance with a pilot, would be worth up to EUR 3.33 million (the expected value of perfect information).'
    >>> evppi_sentence(0.0, "EUR")
    'Measuring that share would not change the call: knowing it exactly is worth EUR 0 (the expected value of perfect information).'
    >>> evppi_sentence(0.0, "EUR", measured=True)
    'Measuring that share further would not change the call: knowing it exactly is worth EUR 0 (the expected value of perfect information).'
    >>> evppi_sentence(1.2e6, "EUR", measured=True)[:72]
    'Measuring that share more precisely, with a larger or longer pilot, woul'
    """
    if value <= 0:
        further = " further" if measured else ""
        return (
            f"Measuring that share{further} would not change the call: knowing it exactly is "
            f"worth {money(0.0, currency)} (the expected value of perfect information)."
        )
    how = (
        "more precisely, with a larger or longer pilot,"
        if measured
        else "exactly, for instance with a pilot,"
    )
    return (
        f"Measuring that share {how} would be worth up to {money(value, currency)} "
        "(the expected value of perfect information)."
    )


def reversibility(
    scenario: str, *, severance_cost: float, rehiring_cost: float | None, currency: str
) -> str:
    """How far a scenario can be undone, for a table cell: what is cut, what going back costs.

    Parameters
    ----------
    severance_cost
        The scenario's one-off severance (agents it no longer needs).
    rehiring_cost
        What rehiring agents to go back from full automation to the hybrid set-up costs
        (the reversal scenario's rehiring cost); None when that scenario was not compared.

    Examples
    --------
    >>> reversibility("status_quo", severance_cost=0, rehiring_cost=None, currency="EUR")
    'Nothing to undo'
    >>> reversibility("full_automation", severance_cost=25.2e6, rehiring_cost=2.44e6,
    ...               currency="EUR")
    'Costly to undo: agents cut (EUR 25.2M severance); back to hybrid: about EUR 2.44M to rehire'
    """
    severance = money(severance_cost, currency, compact=True)
    if scenario == "status_quo":
        return "Nothing to undo"
    if scenario == "hybrid":
        words = "Easy to undo: people stay in the loop"
        if severance_cost > 0:
            words += f"; fewer agents ({severance} severance)"
        return words
    if scenario == "full_automation":
        words = "Costly to undo: agents cut"
        if severance_cost > 0:
            words += f" ({severance} severance)"
        if rehiring_cost:
            rehire = money(rehiring_cost, currency, compact=True)
            words += f"; back to hybrid: about {rehire} to rehire"
        return words
    if scenario == "reversal":
        if rehiring_cost:
            rehire = money(rehiring_cost, currency, compact=True)
            return f"Undone in year 2: {rehire} to rehire, counted in its figures"
        return "Undone in year 2"
    return ""


def forbidden_words(rule: str | None, *, scenarios: Sequence[str] = ()) -> str:
    """Scenarios a binding rule forbids, with the rule's name (a table cell, a list).

    >>> forbidden_words("Spain's Law 10/2025 on customer service (large firms)")
    "Not allowed: Spain's Law 10/2025 on customer service (large firms)"
    >>> forbidden_words("Rule X", scenarios=["full_automation", "reversal"])
    'Full automation and reversal not allowed: Rule X'
    """
    named = rule or "a rule that binds the company"
    if not scenarios:
        return f"Not allowed: {rule}" if rule else "Not allowed by a rule that binds the company"
    titles = [scenario_title(s).lower() for s in scenarios]
    listed = ", ".join(titles[:-1]) + (" and " if len(titles) > 1 else "") + titles[-1]
    return f"{listed[0].upper()}{listed[1:]} not allowed: {named}"


def pilot_is_illustrative(pilot: PilotResult) -> bool:
    """Whether a pilot's counts are invented for illustration (its source says so)."""
    return (pilot.source or "").strip().lower().startswith("illustrative")


def after_pilot(pilot: PilotResult) -> str:
    """``after the pilot``, or ``after an illustrative pilot`` when its counts are invented.

    Every output that shows figures updated by a pilot says which it was, so invented
    counts are never read as a measurement.
    """
    return "after an illustrative pilot" if pilot_is_illustrative(pilot) else "after the pilot"


def pilot_sentence(pilot: PilotResult) -> str:
    """A pilot and what it changed, in one sentence (the brief, the e-mail).

    The switching conversion it measured (mean, each year) against the one assumed
    before, and whether the recommendation stayed.
    """
    piloted = scenario_title(pilot.scenario).lower()
    months = f"{pilot.months}-month"
    before, after = pilot.prior.recommended, pilot.posterior.recommended
    outcome = (
        "the recommendation stays"
        if before == after
        else f"the recommendation moves from {scenario_title(before).lower()} to "
        f"{scenario_title(after).lower()}"
    )
    kind = "an illustrative" if pilot_is_illustrative(pilot) else "a"
    return (
        f"After {kind} {months} pilot of {piloted} ({pilot.ai_churned:,} of "
        f"{pilot.ai_customers:,} customers left, against {pilot.control_churned:,} of "
        f"{pilot.control_customers:,} on today's service), "
        f"{share(pilot.switch_conversion.mean)} of the customers who would consider leaving "
        f"over AI are expected to leave each year, against "
        f"{share(pilot.prior_switch_conversion.mean)} assumed before; {outcome}."
    )


class DecisionLines(NamedTuple):
    """A company's decision as the brief, the landing page and the e-mail word it.

    ``title`` states the decision (with "after the pilot" when a pilot's counts replaced
    the prior); ``decision`` is the recommendation with its expected net present value
    and chance of loss; ``odds``, when a permitted option is more often best than the one
    recommended, why it is not recommended (else None); ``flip`` the assumption the call
    hangs on; ``evppi`` what measuring it is worth; ``pilot`` the pilot in one sentence,
    or None.
    """

    title: str
    decision: str
    flip: str
    evppi: str
    pilot: str | None
    odds: str | None = None


def decision_contender(results: ResultsFile) -> str | None:
    """The permitted AI scenario with the highest expected net present value (None if none).

    What a status-quo recommendation turned down, as the results file's drivers choose it.
    """
    candidates = [
        name
        for name, scenario in results.scenarios.items()
        if name != "status_quo" and scenario.permitted
    ]

    def expected(name: str) -> float:
        value = results.scenarios[name].npv_mean
        return value if value is not None and _defined(value) else -math.inf

    return max(candidates, key=expected, default=None)


def decision_lines(results: ResultsFile) -> DecisionLines:
    """The decision of a results file in words: the same sentences wherever it is shown."""
    head = results.headline
    contender = decision_contender(results)
    other = results.scenarios[contender] if contender else None
    title = decision_title(results.display_name, results.recommended)
    if results.pilot is not None:
        title += f" ({after_pilot(results.pilot)})"
    return DecisionLines(
        title=title,
        decision=decision_sentence(
            results.recommended,
            npv_mean=head.npv_mean,
            p_loss=head.p_loss,
            currency=results.currency,
            years=results.horizon_years,
            contender=contender,
            contender_npv_mean=other.npv_mean if other else None,
            contender_p_loss=other.p_loss if other else None,
        ),
        flip=flip_sentence(
            assumed=head.flip.assumed,
            conversion=head.flip.conversion,
            to=head.flip.to,
            direction=head.flip.direction,
            measured=results.pilot is not None,
        ),
        evppi=evppi_sentence(
            results.evppi_switch_conversion, results.currency, measured=results.pilot is not None
        ),
        pilot=pilot_sentence(results.pilot) if results.pilot is not None else None,
        odds=_odds(results),
    )


def _odds(results: ResultsFile) -> str | None:
    """The odds sentence when a permitted option is more often best than the recommended."""
    chosen = results.scenarios[results.recommended]
    others = [
        (scenario.p_best, name)
        for name, scenario in results.scenarios.items()
        if name != results.recommended and scenario.permitted and scenario.p_best is not None
    ]
    if chosen.p_best is None or not others:
        return None
    p_best, ahead = max(others)
    npv, chosen_npv = results.scenarios[ahead].npv_mean, chosen.npv_mean
    if p_best <= chosen.p_best or npv is None or chosen_npv is None:
        return None
    if not (_defined(npv) and _defined(chosen_npv)):
        return None
    return odds_sentence(
        results.recommended,
        recommended_p_best=chosen.p_best,
        recommended_npv_mean=chosen_npv,
        ahead=ahead,
        ahead_p_best=p_best,
        ahead_npv_mean=npv,
        currency=results.currency,
    )


def decision_break_even(results: ResultsFile) -> tuple[str, str]:
    """The break-even to set against the assumed conversion, and what it is of.

    The recommended scenario's, as the headline holds it (over the horizon, one-off costs
    counted); when the status quo is recommended, that of the AI option that came
    closest, named in the second part ("" otherwise).

    Returns
    -------
    value, note
        ``("19.3%", "")``, or ``("5.7%", "for hybrid, the closest AI option")``.
    """
    chosen = results.recommended
    if chosen == "status_quo":
        contender = decision_contender(results)
        if contender is None:
            return MISSING, ""
        k_star = results.scenarios[contender].break_even_conversion_npv
        return break_even_words(
            k_star
        ), f"for {scenario_title(contender).lower()}, the closest AI option"
    return break_even_words(results.headline.break_even_conversion_npv), ""


def forbidden_lines(results: ResultsFile) -> list[str]:
    """The scenarios a binding rule forbids, one line per rule (landing page, e-mail).

    Empty when every scenario is permitted.
    """
    by_rule: dict[str | None, list[str]] = {}
    for name, scenario in results.scenarios.items():
        if not scenario.permitted:
            by_rule.setdefault(scenario.blocked_by, []).append(name)
    return [forbidden_words(rule, scenarios=names) for rule, names in by_rule.items()]
