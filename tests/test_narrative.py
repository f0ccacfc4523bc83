"""Narrative: sentences from results, with free text escaped."""

from __future__ import annotations

import pytest

from cxtradeoff.narrative import (
    break_even_sentence,
    counts_one_off_costs,
    escape_text,
    executive_summary,
    format_chance,
    format_money,
    format_share,
    headline_sentence,
    horizon_break_even,
)
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


def test_formatting():
    assert format_money(5_740_000, "EUR") == "EUR 5.74 million"
    assert format_money(-2_175_000.75, "USD") == "-USD 2.18 million"
    assert format_money(870_000, "EUR") == "EUR 870,000"
    assert format_money(3.2e9, "EUR") == "EUR 3.2 billion"
    assert format_money(None, "EUR") == "n/a"
    assert format_share(0.05899) == "5.9%"
    assert format_share(0.0042) == "0.42%"
    assert format_share(None) == "n/a"
    assert format_chance(0.0) == "0%"
    assert format_chance(0.003) == "less than 1%"
    assert format_chance(0.374) == "37%"
    assert format_chance(0.9999) == "more than 99%"
    assert format_chance(1.0) == "100%"


def test_break_even_sentence_cases():
    assert break_even_sentence(0.05899) == (
        "It pays only if fewer than 5.9% of the customers who would consider leaving "
        "actually leave."
    )
    assert "does not pay even if no customer leaves" in break_even_sentence(-0.2)
    assert "pays even if every customer" in break_even_sentence(1.4)
    assert "no break-even" in break_even_sentence(None)
    assert break_even_sentence(0.05899, one_off_costs=True) == (
        "It pays only if fewer than 5.9% of the customers who would consider leaving "
        "actually leave, with the one-off costs counted as well."
    )
    assert break_even_sentence(1.4, one_off_costs=True).endswith(
        "leaves, with the one-off costs counted as well."
    )


def test_the_sentence_uses_the_break_even_over_the_horizon():
    with_cost = {"break_even_conversion": 0.0591, "break_even_conversion_npv": 0.0566}
    assert horizon_break_even(with_cost) == 0.0566
    assert counts_one_off_costs(with_cost)
    older = {"break_even_conversion": 0.0591}  # results written before the _npv key
    assert horizon_break_even(older) == 0.0591
    assert not counts_one_off_costs(older)
    no_cost = {"break_even_conversion": 0.0591, "break_even_conversion_npv": 0.0591}
    assert not counts_one_off_costs(no_cost)
    assert counts_one_off_costs({**no_cost, "rehiring_cost": 1.5e6})
    assert not counts_one_off_costs(
        {"break_even_conversion": None, "break_even_conversion_npv": None}
    )


def test_escape_text_neutralises_html_and_markdown():
    escaped = escape_text("<script>alert(1)</script> *bold* [x](y) & co")
    assert "<" not in escaped
    assert ">" not in escaped
    assert "&lt;script&gt;" in escaped
    assert "\\*bold\\*" in escaped
    assert "&amp; co" in escaped


def test_executive_summary_states_savings_break_even_and_risk(results):
    text = executive_summary(results)
    full = results["scenarios"]["full_automation"]
    assert text.startswith("**Telecom operator \\(illustrative\\): full automation")
    assert format_money(full["annual_savings"], "EUR") in text
    assert format_money(full["npv"], "EUR") in text
    # the profile has a one-off cost: the sentence is on the break-even over the horizon
    assert full["break_even_conversion_npv"] < full["break_even_conversion"]
    k = format_share(full["break_even_conversion_npv"])
    assert format_share(full["break_even_conversion"]) != k
    assert (
        f"It pays only if fewer than {k} of the customers who would consider leaving "
        "actually leave, with the one-off costs counted as well."
    ) in text
    assert f"fewer than {format_share(full['break_even_conversion'])} of" not in text
    assert f"the chance of losing money is {format_chance(full['p_loss'])}" in text
    assert "2,000 Monte Carlo draws (seed 3)" in text
    assert "status quo (no AI)" not in text.split("\n")[2]  # no paragraph for the status quo
    best = max(results["scenarios"].items(), key=lambda kv: kv[1]["npv"])[0]
    assert "has the highest net present value" in text
    assert {"hybrid": "hybrid set-up", "full_automation": "full automation"}[best] in text.split(
        "Of the scenarios compared,"
    )[1]


def test_summary_escapes_a_hostile_display_name(results):
    hostile = {**results, "display_name": "<script>alert(1)</script>"}
    text = executive_summary(hostile)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "<script>" not in headline_sentence(hostile)


def test_without_a_one_off_cost_the_sentence_has_no_clause():
    telecom = load_profiles()["telecom"]
    res = build_results(
        telecom,
        ["full_automation"],
        overrides={
            "implementation_cost": 0.0,
            "severance_months": 0.0,
            "replace_lost_customers": False,
        },
    )
    full = res["scenarios"]["full_automation"]
    assert full["break_even_conversion_npv"] == full["break_even_conversion"]
    assert 0 < full["break_even_conversion"] < 1
    text = executive_summary(res)
    k = format_share(full["break_even_conversion"])
    assert f"fewer than {k} of the customers who would consider leaving actually leave." in text
    assert "one-off costs counted" not in text
    assert "one-off costs counted" not in headline_sentence(res)


def test_summary_without_draws_does_not_claim_a_chance():
    telecom = load_profiles()["telecom"]
    res = build_results(telecom, ["hybrid"], draws=0)
    text = executive_summary(res)
    assert "chance of losing money" not in text
    assert "Monte Carlo" not in text
    assert res["headline"]["p_loss"] is None
