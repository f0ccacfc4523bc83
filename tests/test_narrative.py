"""Narrative: sentences from results, with free text escaped."""

from __future__ import annotations

import pytest

from cxtradeoff.contracts import Headline
from cxtradeoff.formatting import chance, money, share
from cxtradeoff.narrative import counts_one_off_costs, escape_text, executive_summary
from cxtradeoff.profiles import load_profiles
from cxtradeoff.results import build_results


@pytest.fixture(scope="module")
def results():
    telecom = load_profiles()["telecom"]
    return build_results(
        telecom,
        ["status_quo", "full_automation", "hybrid"],
        draws=2000,
        seed=3,
        overrides={"replace_lost_customers": False, "switch_conversion": 0.1},
    )


def _headline(annual, npv, **extra):
    return Headline(
        scenario="full_automation", annual_savings=1.0, npv=1.0,
        break_even_conversion=annual, break_even_conversion_npv=npv, p_loss=None, **extra,
    )  # fmt: skip


def test_one_off_costs_show_as_a_difference_between_the_two_break_evens():
    assert counts_one_off_costs(_headline(0.0591, 0.0566))
    assert not counts_one_off_costs(_headline(0.0591, 0.0591))
    assert not counts_one_off_costs(_headline(None, None))


def test_escape_text_neutralises_html_and_markdown():
    escaped = escape_text("<script>alert(1)</script> *bold* [x](y) & co")
    assert "<" not in escaped
    assert ">" not in escaped
    assert "&lt;script&gt;" in escaped
    assert "\\*bold\\*" in escaped
    assert "&amp; co" in escaped


def test_executive_summary_states_savings_break_even_and_risk(results):
    text = executive_summary(results)
    full = results.scenarios["full_automation"]
    assert text.startswith("**Telecom operator \\(illustrative\\): full automation")
    assert money(full.annual_savings, "EUR") in text
    assert money(full.npv, "EUR") in text
    # the profile has a one-off cost: the sentence is on the break-even over the horizon
    assert full.break_even_conversion_npv < full.break_even_conversion
    k = share(full.break_even_conversion_npv)
    assert share(full.break_even_conversion) != k
    assert (
        f"It pays only if fewer than {k} of the customers who would consider leaving "
        "actually leave each year, with the one-off costs counted as well."
    ) in text
    assert f"fewer than {share(full.break_even_conversion)} of" not in text
    assert f"the chance of losing money is {chance(full.p_loss)}" in text
    assert "2,000 Monte Carlo draws (seed 3)" in text
    assert "status quo (no AI)" not in text.split("\n")[2]  # no paragraph for the status quo
    best = max(results.scenarios.items(), key=lambda kv: kv[1].npv)[0]
    assert "has the highest net present value" in text
    assert {"hybrid": "hybrid set-up", "full_automation": "full automation"}[best] in text.split(
        "Of the scenarios compared,"
    )[1]


def test_summary_escapes_a_hostile_display_name(results):
    hostile = results.model_copy(update={"display_name": "<script>alert(1)</script>"})
    text = executive_summary(hostile)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text


def test_without_a_one_off_cost_the_sentence_has_no_clause():
    telecom = load_profiles()["telecom"]
    res = build_results(
        telecom,
        ["full_automation"],
        overrides={"implementation_cost": 0.0, "replace_lost_customers": False},
    )
    full = res.scenarios["full_automation"]
    assert full.break_even_conversion_npv == full.break_even_conversion
    assert 0 < full.break_even_conversion < 1
    text = executive_summary(res)
    k = share(full.break_even_conversion)
    assert f"fewer than {k} of the customers who would consider leaving actually leave each year." in text
    assert "one-off costs counted" not in text


def test_summary_without_draws_does_not_claim_a_chance():
    telecom = load_profiles()["telecom"]
    res = build_results(telecom, ["hybrid"], draws=0)
    text = executive_summary(res)
    assert "chance of losing money" not in text
    assert "Monte Carlo" not in text
    assert res.headline.p_loss is None
