"""Print-grade tables of a company's report, made with great_tables.

Every table here takes what the analysis returns (the results file's contract,
:class:`cxtradeoff.contracts.ResultsFile`, or the frames of :mod:`cxtradeoff.uncertainty`
and :mod:`cxtradeoff.profiles`) and returns :class:`Html`: a self-contained HTML fragment
(the table and its own ``<style>``, scoped to the table's id) that a notebook shows as it
is. Numbers are worded by :mod:`cxtradeoff.formatting` (money with its currency, shares as
percentages, chances in words, never ``2e+06``); inputs are named in words
(:func:`cxtradeoff.formatting.parameter_label`). Code names appear in one table only,
:func:`code_names_table`, for the analysts' appendix.

Examples
--------
>>> from cxtradeoff.profiles import load_profiles
>>> from cxtradeoff.results import build_results
>>> results = build_results(load_profiles()["telecom"], ["status_quo", "hybrid"], draws=500)
>>> html = options_table(results)
>>> "Hybrid (recommended)" in html or "Status quo (recommended)" in html
True
>>> "break_even" in html
False
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from cxtradeoff.contracts import PilotResult, ResultsFile

if TYPE_CHECKING:
    from cxtradeoff.model import Parameters
    from cxtradeoff.profiles import Profile
from cxtradeoff.formatting import (
    MISSING,
    break_even_words,
    chance,
    customers,
    money,
    number,
    parameter_label,
    parameter_value,
    plain_words,
    scenario_title,
)

__all__ = [
    "Html",
    "base_case_table",
    "code_names_table",
    "drivers_table",
    "inputs_table",
    "options_table",
    "pilot_table",
    "render",
    "uncertain_inputs_table",
]

#: the type of every table: its font is the report's, its size readable in print
FONT = ["DejaVu Sans", "Verdana", "sans-serif"]
FONT_SIZE = "9pt"


class Html(str):
    """An HTML fragment that a notebook shows as HTML (a ``str`` with ``_repr_html_``)."""

    def _repr_html_(self) -> str:
        return str(self)


def _scoped(html: str, table_id: str) -> str:
    """great_tables leaves two rules unscoped (``tbody, tr, td, th`` and ``tr``): scope them
    to the table, so that one table never restyles another on the page."""
    html = html.replace(
        f"#{table_id} thead, tbody, tfoot, tr, td, th",
        ", ".join(f"#{table_id} {tag}" for tag in ("thead", "tbody", "tfoot", "tr", "td", "th")),
    )
    return re.sub(r"(?m)^\s*tr \{", f" #{table_id} tr {{", html)


def render(table: Any, *, table_id: str) -> Html:
    """A great_tables ``GT`` in the house style, as a self-contained HTML fragment.

    The house style: the report's type at 9 pt, the full width of the page, columns laid
    out at the widths given (``cols_width``), nothing that scrolls (a table that cannot
    scroll on paper must not need to), light rules between rows.
    """
    styled = table.tab_options(
        table_width="100%",
        table_layout="fixed",
        table_font_names=FONT,
        table_font_size=FONT_SIZE,
        table_font_color="#1a1a1a",
        heading_align="left",
        heading_title_font_size="10pt",
        heading_title_font_weight="bold",
        column_labels_font_weight="bold",
        column_labels_font_size=FONT_SIZE,
        column_labels_padding="3px",
        column_labels_padding_horizontal="4px",
        data_row_padding="3px",
        data_row_padding_horizontal="4px",
        source_notes_font_size="8.5pt",
        container_overflow_x="visible",
        container_overflow_y="visible",
        container_padding_y="4px",
        table_border_top_color="#1a1a1a",
        table_border_bottom_color="#1a1a1a",
        column_labels_border_bottom_color="#1a1a1a",
        table_body_hlines_color="#dddddd",
    )
    return Html(_scoped(styled.as_raw_html(), table_id))


def _gt(frame: pd.DataFrame, *, table_id: str, **options: Any) -> Any:
    from great_tables import GT

    return GT(frame, id=table_id, auto_align=False, **options)


# --------------------------------------------------------------------------- the decision


def _is_status_quo(name: str) -> bool:
    return name == "status_quo"


def _money(value: float | None, currency: str) -> str:
    """An amount in a table cell: ``EUR 40.3M`` (the prose says ``EUR 40.3 million``)."""
    return money(value, currency, compact=True)


def _range(low: float | None, high: float | None, currency: str) -> str:
    if low is None or high is None:
        return MISSING
    return f"{_money(low, currency)} to {_money(high, currency)}"


def _break_even(name: str, value: float | None) -> str:
    return "no AI" if _is_status_quo(name) else break_even_words(value)


def _row_title(name: str, results: ResultsFile) -> str:
    title = scenario_title(name)
    return f"{title} (recommended)" if name == results.recommended else title


def options_table(results: ResultsFile) -> Html:
    """The options a director chooses between: one row per scenario.

    Columns: expected net present value over the horizon and its P10 to P90, the chance
    of losing money and of being the best choice (over the Monte Carlo draws), the
    break-even switching conversion with a lost customer valued at its lifetime value and
    at the cost of winning a replacement (base case, one-off costs counted), and whether
    the law permits it (else the rule that forbids it). The recommended scenario's row
    is marked and set in bold.
    """
    from great_tables import loc, style

    currency, years = results.currency, results.horizon_years
    rows = []
    for name, result in results.scenarios.items():
        rows.append(
            {
                "Scenario": _row_title(name, results),
                "Net present value|Expected": _money(result.npv_mean, currency),
                "Net present value|P10 to P90": _range(result.npv_p10, result.npv_p90, currency),
                "Chance|of a loss": chance(result.p_loss),
                "Chance|of being best": chance(result.p_best),
                "Break-even conversion|at its lifetime value": _break_even(
                    name, result.break_even_conversion_npv_clv
                ),
                "Break-even conversion|at the cost to replace it": _break_even(
                    name, result.break_even_conversion_npv_replacement
                ),
                "Permitted": "yes" if result.permitted else "no (see below)",
            }
        )
    frame = pd.DataFrame(rows)
    chosen = list(results.scenarios).index(results.recommended)
    forbidden = [
        f"{scenario_title(name)} is not permitted: {result.blocked_by} forbids it."
        for name, result in results.scenarios.items()
        if not result.permitted
    ]
    table = (
        _gt(frame, table_id="cx-options", rowname_col="Scenario")
        .tab_spanner_delim("|")
        .cols_width(
            {
                "Scenario": "18%",
                "Net present value|Expected": "12%",
                "Net present value|P10 to P90": "21%",
                "Chance|of a loss": "8%",
                "Chance|of being best": "8%",
                "Break-even conversion|at its lifetime value": "10%",
                "Break-even conversion|at the cost to replace it": "10%",
                "Permitted": "13%",
            }
        )
        .cols_align("right", columns=[c for c in frame.columns if "|" in c])
        .cols_align("left", columns=["Scenario", "Permitted"])
        .tab_style(style.text(weight="bold"), loc.body(rows=[chosen]))
        .tab_style(style.text(weight="bold"), loc.stub(rows=[chosen]))
        .tab_source_note(
            f"Net present value over {years} years in {currency}. Expected value, P10 to P90 "
            f"and chances over {results.draws:,} Monte Carlo draws in which every uncertain "
            "input varies at once. Break-even: the share of the customers who would consider "
            "leaving over AI who may actually leave each year before the scenario stops "
            "paying over the horizon, one-off costs counted (base case)."
            + "".join(f" {sentence}" for sentence in forbidden)
        )
    )
    return render(table, table_id="cx-options")


def base_case_table(results: ResultsFile) -> Html:
    """Each scenario's base case (every input at its central value): a year's savings,
    loyalty cost and customers lost, one-off costs, the net present value and the
    break-even over the horizon."""
    currency, years = results.currency, results.horizon_years
    rows = []
    for name, r in results.scenarios.items():
        one_off = r.severance_cost + r.rehiring_cost
        rows.append(
            {
                "Scenario": scenario_title(name),
                "A year|Savings": _money(r.annual_savings, currency),
                "A year|Loyalty cost": _money(r.annual_loyalty_cost, currency),
                "A year|Customers lost": customers(r.customers_lost_per_year),
                "Severance and rehiring": _money(one_off, currency) if one_off else "none",
                f"Over {years} years|Net present value": _money(r.npv, currency),
                f"Over {years} years|Break-even conversion": _break_even(
                    name, r.break_even_conversion_npv
                ),
            }
        )
    frame = pd.DataFrame(rows)
    table = (
        _gt(frame, table_id="cx-base-case", rowname_col="Scenario")
        .tab_spanner_delim("|")
        .cols_width({"Scenario": "16%"})
        .cols_align("right", columns=list(frame.columns[1:]))
        .cols_align("left", columns=["Scenario"])
        .tab_source_note(
            f"Base case, in {currency}: every input at its central value. Savings are the "
            "service costs AI removes less its running cost; the loyalty cost is the value "
            "of the extra customers who leave. The net present value counts the one-off "
            "costs (build and integration, severance, rehiring)."
        )
    )
    return render(table, table_id="cx-base-case")


# --------------------------------------------------------------------------- inputs


def drivers_table(
    parameters: Parameters,
    scenario: str,
    *,
    currency: str,
    overrides: Mapping[str, Any] | None = None,
) -> Html:
    """The tornado as a table: each uncertain input at its P10 and its P90, and the NPV then.

    The rows of :func:`cxtradeoff.uncertainty.tornado` (largest swing first), the same
    numbers :func:`cxtradeoff.plots.tornado_figure` draws.

    Parameters
    ----------
    parameters
        The company's parameters.
    scenario
        The scenario swung.
    currency
        Label for money amounts.
    overrides
        Parameter values that win over the profile and the scenario.
    """
    from cxtradeoff.uncertainty import tornado

    swings = tornado(parameters, scenario, overrides=overrides)
    frame = pd.DataFrame(
        {
            "Input": [parameter_label(p) for p in swings["parameter"]],
            "Input at|P10": [
                parameter_value(p, v, currency, compact=True)
                for p, v in zip(swings["parameter"], swings["low"], strict=True)
            ],
            "Input at|P90": [
                parameter_value(p, v, currency, compact=True)
                for p, v in zip(swings["parameter"], swings["high"], strict=True)
            ],
            "Net present value|input at P10": [_money(v, currency) for v in swings["npv_low"]],
            "Net present value|input at P90": [_money(v, currency) for v in swings["npv_high"]],
            "Net present value|swing": [_money(v, currency) for v in swings["swing"]],
        }
    )
    table = (
        _gt(frame, table_id="cx-drivers")
        .tab_spanner_delim("|")
        .cols_width({"Input": "34%"})
        .cols_align("right", columns=list(frame.columns[1:]))
        .cols_align("left", columns=["Input"])
        .tab_source_note(
            f"{scenario_title(scenario)}: each input set to its P10, then its P90, every "
            "other input at its base value."
        )
    )
    return render(table, table_id="cx-drivers")


def inputs_table(
    profile: Profile, *, currency: str, overrides: Mapping[str, Any] | None = None
) -> Html:
    """Every input of the company in words: its value in its unit and where it comes from.

    Parameters
    ----------
    profile
        The company (its parameters and the basis of each value; code names in a basis
        are put in words).
    currency
        Label for money amounts.
    overrides
        Parameter values that win over the profile's (a value that differs from the
        profile's is then said to be set for this report).
    """
    values = profile.parameters.updated(dict(overrides or {})).model_dump()
    own = profile.parameters.model_dump()
    basis = {
        name: "set for this report"
        if values[name] != own[name]
        else profile.basis.get(name, "the model's default")
        for name in values
    }
    frame = pd.DataFrame(
        {
            "Input": [parameter_label(name) for name in values],
            "Value": [parameter_value(name, v, currency) for name, v in values.items()],
            "Basis": [plain_words(basis[name]) for name in values],
        }
    )
    table = (
        _gt(frame, table_id="cx-inputs")
        .cols_width({"Input": "30%", "Value": "15%", "Basis": "55%"})
        .cols_align("right", columns=["Value"])
        .cols_align("left", columns=["Input", "Basis"])
    )
    return render(table, table_id="cx-inputs")


def uncertain_inputs_table(
    parameters: Parameters,
    scenario: str,
    *,
    currency: str,
    overrides: Mapping[str, Any] | None = None,
) -> Html:
    """The uncertain inputs: base value, P10, P50 and P90 in their units, and the evidence.

    The rows of :func:`cxtradeoff.uncertainty.distribution_table` for the scenario (one
    per input and phase; a second phase's rows are labelled with it).

    Parameters
    ----------
    parameters
        The company's parameters.
    scenario
        The scenario whose distributions are shown.
    currency
        Label for money amounts.
    overrides
        Parameter values that win over the profile and the scenario.
    """
    from cxtradeoff.uncertainty import distribution_table

    distributions = distribution_table(parameters, scenario, overrides=overrides)
    phases = list(dict.fromkeys(distributions["phase"]))
    rows = []
    for row in distributions.to_dict("records"):
        name = row["parameter"]
        label = parameter_label(name)
        if len(phases) > 1:
            label = f"{label} ({row['phase'].replace('_', ' ')} phase)"
        rows.append(
            {
                "Input": label,
                "Base": parameter_value(name, row["base"], currency, compact=True),
                "P10": parameter_value(name, row["p10"], currency, compact=True),
                "P50": parameter_value(name, row["p50"], currency, compact=True),
                "P90": parameter_value(name, row["p90"], currency, compact=True),
                "Evidence": plain_words(str(row["basis"])),
            }
        )
    frame = pd.DataFrame(rows)
    table = (
        _gt(frame, table_id="cx-uncertain")
        .cols_width(
            {
                "Input": "24%",
                "Base": "10%",
                "P10": "10%",
                "P50": "10%",
                "P90": "10%",
                "Evidence": "36%",
            }
        )
        .cols_align("right", columns=["Base", "P10", "P50", "P90"])
        .cols_align("left", columns=["Input", "Evidence"])
    )
    return render(table, table_id="cx-uncertain")


_SCIENTIFIC = re.compile(r"-?\d+(?:\.\d+)?e[+-]?\d+")


def code_names_table(
    parameters: Parameters,
    scenario: str,
    *,
    currency: str,
    overrides: Mapping[str, Any] | None = None,
) -> Html:
    """The analysts' appendix: every input by its code name, its symbol in the model,
    its label in the report, its value and, for an uncertain input, its distribution.

    Parameters
    ----------
    parameters
        The company's parameters.
    scenario
        The scenario whose distributions are shown (its first phase).
    currency
        Label for money amounts.
    overrides
        Parameter values that win over the profile (and, for the distributions, the
        scenario).
    """
    from cxtradeoff.uncertainty import distribution_table

    values = parameters.updated(dict(overrides or {})).model_dump()
    distributions = distribution_table(parameters, scenario, overrides=overrides)
    first = distributions.drop_duplicates("parameter").set_index("parameter")
    rows = []
    for name, value in values.items():
        spec = first.loc[name] if name in first.index else None
        rows.append(
            {
                "Code name": name,
                "Symbol": _symbol(name),
                "In the report": parameter_label(name),
                "Value": parameter_value(name, value, currency),
                "Distribution": ""
                if spec is None
                else _SCIENTIFIC.sub(
                    lambda m: number(float(m.group(0))), str(spec["distribution"])
                ),
            }
        )
    frame = pd.DataFrame(rows)
    table = (
        _gt(frame, table_id="cx-code-names")
        .cols_width(
            {
                "Code name": "31%",
                "Symbol": "9%",
                "In the report": "24%",
                "Value": "12%",
                "Distribution": "24%",
            }
        )
        .cols_align("right", columns=["Value"])
        .cols_align("left", columns=["Code name", "Symbol", "In the report", "Distribution"])
        .tab_style(_code_style(), _body_loc(["Code name"]))
    )
    return render(table, table_id="cx-code-names")


def _symbol(name: str) -> str:
    """An input's symbol in ``docs/model.md`` (the start of its description: "N: active
    customers"), or "" for an input that has none."""
    from cxtradeoff.model import Parameters

    field = Parameters.model_fields.get(name)
    head = (field.description or "").split(":", 1)[0] if field is not None else ""
    # some descriptions start with a word, not a symbol ("true: ...", "reversal: ...")
    return head if head.isidentifier() and len(head) <= 5 and head not in ("true",) else ""


def _code_style() -> Any:
    from great_tables import style

    return style.text(font="DejaVu Sans Mono, monospace", size="8.5pt")


def _body_loc(columns: Sequence[str]) -> Any:
    from great_tables import loc

    return loc.body(columns=list(columns))


# --------------------------------------------------------------------------- pilot


def pilot_table(pilot: PilotResult | None, *, currency: str) -> Html:
    """Each scenario before and after the pilot: expected NPV, chance of loss, chance of
    being best, and which is recommended (:func:`cxtradeoff.pilot.prior_posterior_table`).

    Empty without a pilot (``None``), so that a report shows it only after one.
    """
    from cxtradeoff.pilot import prior_posterior_table

    if pilot is None:
        return Html("")
    frame = prior_posterior_table(pilot, currency=currency).reset_index()
    frame.columns = [c.replace(", ", "|") for c in frame.columns]
    table = (
        _gt(frame, table_id="cx-pilot", rowname_col="Scenario")
        .tab_spanner_delim("|")
        .cols_width({"Scenario": "16%"})
        .cols_align("right", columns=[c for c in frame.columns if "|" in c])
        .cols_align("left", columns=["Scenario"])
    )
    return render(table, table_id="cx-pilot")
