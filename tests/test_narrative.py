"""Narrative: the decision and the scenarios in words, from the results, free text escaped."""

from __future__ import annotations

import pytest

from cxtradeoff.contracts import ResultsFile
from cxtradeoff.errors import ParameterError
from cxtradeoff.formatting import break_even_words, chance, customers, money, share
from cxtradeoff.narrative import (
    counts_one_off_costs,
    decision_section,
    escape_text,
    executive_summary,
    headline_paragraph,
    pilot_caption,
    pilot_note,
    pilot_section,
    scenarios_section,
    title_block,
)
from cxtradeoff.pilot import pilot_summary
from cxtradeoff.profiles import load_profiles
from cxtradeoff.results import analyse_profile, build_results

SCENARIOS = ["status_quo", "hybrid", "full_automation", "reversal"]


@pytest.fixture(scope="module")
def telecom() -> ResultsFile:
    return build_results(load_profiles()["telecom"], SCENARIOS, draws=4000, seed=3)


@pytest.fixture(scope="module")
def bank() -> ResultsFile:
    return build_results(load_profiles()["retail_bank"], SCENARIOS, draws=4000, seed=3)


def test_the_headline_names_the_recommendation_its_expected_npv_and_risk(telecom):
    text = headline_paragraph(telecom)
    head = telecom.headline
    assert telecom.recommended == max(
        telecom.scenarios, key=lambda s: telecom.scenarios[s].npv_mean
    )
    assert text.startswith("**Telecom operator \\(illustrative\\). Recommended: the hybrid set-up")
    assert money(head.npv_mean, "EUR") in text
    assert f"a {chance(head.p_loss)} chance of losing money" in text
    # the assumption, the value at which the call flips (each year), and what measuring is worth
    assert f"It assumes that {share(head.flip.assumed)} of the customers" in text
    assert f"if more than {share(head.flip.conversion)} leave each year" in text
    assert money(telecom.evppi_switch_conversion, "EUR") in text
    assert "expected value of perfect information" in text
    # the base case is never the headline
    assert money(head.npv, "EUR") not in text.split("**")[1]


def test_when_no_ai_pays_on_average_the_closest_contender_is_named(bank):
    assert bank.recommended == "status_quo"
    text = headline_paragraph(bank)
    contender = max(
        (s for s in bank.scenarios if s != "status_quo"), key=lambda s: bank.scenarios[s].npv_mean
    )
    assert "Recommended: the status quo (no AI)" in text
    assert f"the closest, {contender.replace('_', ' ')}" in text
    assert money(bank.scenarios[contender].npv_mean, "EUR") in text


def test_each_scenario_paragraph_gives_distribution_then_base_case(telecom):
    text = executive_summary(telecom)
    full = telecom.scenarios["full_automation"]
    assert f"expected net present value over 3 years is {money(full.npv_mean, 'EUR')}" in text
    assert f"chance that it is the best choice {chance(full.p_best)}" in text
    assert "In the base case (every input at its central value)" in text
    assert f"{customers(full.customers_lost_per_year)} extra customers leave each year" in text
    assert money(full.severance_cost, "EUR") + " of severance" in text
    assert "actually leave each year, with the one-off costs counted as well." in text
    assert "4,000 Monte Carlo draws (seed 3)" in text
    assert "never used to rank" in text
    assert "With the status quo" not in text  # no paragraph for the status quo


def test_the_break_even_is_given_under_both_valuations(telecom, bank):
    # Telecom's lifetime value is below the cost of a replacement: one break-even, said once.
    same = executive_summary(telecom.model_copy())
    assert (
        "The break-even is the same whether a lost customer is valued at its lifetime value "
        "or at the cost of winning a replacement (the replacement costs more)."
    ) in same
    # The retail bank's replacement costs less than its lifetime value, so the two valuations
    # give two break-evens and the summary must give each figure under its own valuation
    # (telecom alone only ever reached the sentence above, which names both words).
    text = executive_summary(bank.model_copy())
    for name in ("hybrid", "full_automation", "reversal"):
        result = bank.scenarios[name]
        clv = break_even_words(result.break_even_conversion_npv_clv)
        replacement = break_even_words(result.break_even_conversion_npv_replacement)
        assert clv != replacement, name
        assert (
            f"Valuing a lost customer at its lifetime value, the break-even is {clv}; "
            f"at the cost of winning a replacement, {replacement}."
        ) in text, name


def test_one_off_costs_show_as_a_difference_between_the_two_break_evens(telecom):
    full = telecom.scenarios["full_automation"]
    assert full.severance_cost > 0
    assert counts_one_off_costs(full)
    assert not counts_one_off_costs(
        full.model_copy(
            update={"break_even_conversion_npv": full.break_even_conversion, "rehiring_cost": 0.0}
        )
    )


def test_escape_text_neutralises_html_and_markdown():
    escaped = escape_text("<script>alert(1)</script> *bold* [x](y) & co")
    assert "<" not in escaped
    assert ">" not in escaped
    assert "&lt;script&gt;" in escaped
    assert "\\*bold\\*" in escaped
    assert "&amp; co" in escaped


def test_summary_escapes_a_hostile_display_name(telecom):
    hostile = telecom.model_copy(update={"display_name": "<script>alert(1)</script>"})
    text = executive_summary(hostile)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text


def test_no_draws_no_recommendation():
    # a ParameterError (exit status 2, no traceback), not any exception with these words
    with pytest.raises(ParameterError, match="at least 1 draw"):
        build_results(load_profiles()["telecom"], ["hybrid"], draws=0)


# --------------------------------------------------------------------------- the report's sections


@pytest.fixture(scope="module")
def piloted() -> ResultsFile:
    from cxtradeoff.pilot import pilot_file_path, read_pilot_file

    counts = read_pilot_file(pilot_file_path("telecom-illustrative-pilot.csv"))
    profile = load_profiles()["telecom"]
    return analyse_profile(profile, SCENARIOS, draws=2000, seed=3, pilot=counts).results


def test_title_block_says_what_the_figures_are(telecom) -> None:
    block = title_block("Savings <b>versus</b> loyalty", telecom)
    assert block.startswith("# Savings &lt;b&gt;versus&lt;/b&gt; loyalty\n")
    assert f"over {telecom.horizon_years} years from {telecom.as_of}" in block
    assert f"{telecom.draws:,} Monte Carlo draws." in block
    assert "after a pilot" not in block


def test_the_decision_section_leads_with_the_headline(telecom) -> None:
    section = decision_section(telecom)
    assert section.startswith("## The decision\n\n" + headline_paragraph(telecom))
    assert pilot_note(telecom) == "" and "pilot measured" not in section


def test_after_a_pilot_the_decision_says_so_and_states_the_assumption(piloted) -> None:
    from cxtradeoff.pilot import ASSUMPTION

    section = decision_section(piloted)
    assert "These figures use what an illustrative pilot measured" in section
    assert "50,000 customers over 3 months" in section  # 25,000 in each arm
    assert escape_text(ASSUMPTION) in section
    assert "after a pilot" in title_block("t", piloted)
    # the share the call hangs on is the pilot's now, no longer a prior no study measures
    assert "the pilot's measurement" in section and "no study measures it" not in section


def test_the_pilot_section_and_caption_only_after_a_pilot(telecom, piloted) -> None:
    assert pilot_section(telecom) == "" and pilot_caption(telecom) == ""
    section = pilot_section(piloted)
    assert section.startswith("## What the pilot measured\n\n- ")
    assert section.count("\n- ") == len(
        pilot_summary(piloted.pilot, currency=piloted.currency, years=piloted.horizon_years)
    )
    k_star = piloted.pilot.break_even_conversion_npv
    assert f"full automation, {share(k_star)}" in pilot_caption(piloted)


def test_scenario_by_scenario_gives_every_ai_scenario(telecom) -> None:
    section = scenarios_section(telecom)
    assert section.startswith("## Scenario by scenario\n")
    for name, result in telecom.scenarios.items():
        if name != "status_quo":
            assert money(result.npv_mean, telecom.currency) in section
    assert "the status quo" not in section.split("\n")[2]
