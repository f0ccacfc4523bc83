"""One wording for every number: the same figure reads the same in every output."""

from __future__ import annotations

import pytest

from cxtradeoff.formatting import (
    break_even_sentence,
    break_even_words,
    chance,
    customers,
    money,
    scenario_colour,
    scenario_label,
    scenario_title,
    share,
    verdict,
)


@pytest.mark.parametrize(
    ("value", "currency", "compact", "expected"),
    [
        (5_740_000, "EUR", False, "EUR 5.74 million"),
        (-2_175_000.75, "USD", False, "-USD 2.18 million"),
        (870_000, "EUR", False, "EUR 870,000"),
        (3.2e9, "EUR", False, "EUR 3.2 billion"),
        (-0.4, "EUR", False, "EUR 0"),
        (None, "EUR", False, "n/a"),
        (float("nan"), "EUR", False, "n/a"),
        (12_300_000, "EUR", True, "EUR 12.3M"),
        (-3_500_000, "USD", True, "-USD 3.5M"),
        (45_000, "EUR", True, "EUR 45k"),
        (0, "EUR", True, "EUR 0"),
    ],
)
def test_money(value, currency, compact, expected):
    assert money(value, currency, compact=compact) == expected


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (share, 0.05899, "5.9%"),
        (share, 0.0042, "0.42%"),
        (share, None, "n/a"),
        (chance, 0.0, "0%"),
        (chance, 0.003, "less than 1%"),
        (chance, 0.374, "37%"),
        (chance, 0.9999, "more than 99%"),
        (chance, 1.0, "100%"),
        (customers, 50_456.0, "about 50,000"),
        (customers, 12_720.0, "about 13,000"),
        (customers, 1_234_567.0, "about 1,200,000"),
        (customers, 0.2, "none"),
        (break_even_words, 0.062, "6.2%"),
        (break_even_words, 1.0, "always pays"),
        (break_even_words, 1.33, "always pays"),
        (break_even_words, 0.0, "never pays"),
        (break_even_words, -0.1, "never pays"),
        (break_even_words, None, "no exposure"),
        (verdict, 1.0, "pays"),
        (verdict, 0.0, "does not pay"),
        (verdict, None, "does not pay"),
    ],
)
def test_shares_chances_counts_and_words(function, value, expected):
    assert function(value) == expected


def test_break_even_sentence_cases():
    assert break_even_sentence(0.05899) == (
        "It pays only if fewer than 5.9% of the customers who would consider leaving "
        "actually leave each year."
    )
    assert "does not pay even if no customer leaves" in break_even_sentence(-0.2)
    assert "pays even if every customer" in break_even_sentence(1.4)
    assert "no break-even" in break_even_sentence(None)
    assert break_even_sentence(0.05899, one_off_costs=True) == (
        "It pays only if fewer than 5.9% of the customers who would consider leaving "
        "actually leave each year, with the one-off costs counted as well."
    )


def test_scenarios_have_one_label_title_and_colour():
    assert scenario_label("hybrid").startswith("the hybrid set-up")
    assert scenario_title("full_automation") == "Full automation"
    assert scenario_title("new_idea") == "New idea"
    assert scenario_colour("hybrid") != scenario_colour("full_automation")
    assert scenario_colour("unknown") == scenario_colour("net")
