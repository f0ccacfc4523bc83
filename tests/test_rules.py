"""The rules that bind service AI: the file as committed, bad rows, and the permitted checks."""

from __future__ import annotations

import csv
import doctest
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from cxtradeoff import paths, rules
from cxtradeoff.errors import DataValidationError
from cxtradeoff.rules import (
    EU_MEMBERS,
    Permission,
    binding_rules,
    describe_firms,
    is_human_reachable,
    load_rules,
    load_rules_table,
    scenario_permitted,
)

SPANISH_LAW = "Spain's Law 10/2025 on customer service (large firms)"
AFTER_ADAPTATION = date(2027, 1, 1)


@pytest.fixture(scope="module")
def all_rules() -> tuple[rules.Rule, ...]:
    return load_rules()


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def set_cell(rows: list[list[str]], row_id: str, column: str, value: str) -> None:
    col = rows[0].index(column)
    (row,) = (r for r in rows[1:] if r[0] == row_id)
    row[col] = value


def line_of(rows: list[list[str]], row_id: str) -> int:
    return 1 + next(i for i, r in enumerate(rows) if r and r[0] == row_id)


def modified(tmp_path: Path, change: Callable[[list[list[str]]], None]) -> tuple[Path, list]:
    rows = read_rows(paths.SERVICE_RULES)
    change(rows)
    return write_rows(tmp_path / "service_rules.csv", rows), rows


def problems(path: Path) -> list[str]:
    with pytest.raises(DataValidationError) as info:
        load_rules(path)
    return info.value.problems


# --------------------------------------------------------------------------- the file


def test_the_rules_file_as_committed(all_rules: tuple[rules.Rule, ...]) -> None:
    by_id = {rule.id: rule for rule in all_rules}
    assert list(by_id) == [
        "es_law_10_2025_large_firms",
        "es_law_10_2025_basic_services",
        "eu_ai_act_art_50_1",
        "ca_moffatt_v_air_canada_2024",
        "eu_digital_fairness_act",
    ]
    spain = by_id["es_law_10_2025_large_firms"]
    # the law's wording: at least 250 staff, or turnover above EUR 50M, or balance sheet
    # above EUR 43M; any one is enough
    assert (spain.staff_at_least, spain.turnover_above, spain.balance_sheet_above) == (
        250,
        50_000_000,
        43_000_000,
    )
    assert (spain.currency, spain.thresholds_combine, spain.jurisdiction) == ("EUR", "any", "ES")
    assert (spain.in_force, spain.applies_from) == (date(2025, 12, 28), date(2026, 12, 28))
    assert "human_on_request" in spain.requirements and spain.consumers_only
    ai_act = by_id["eu_ai_act_art_50_1"]
    assert (ai_act.jurisdiction, ai_act.requirements) == ("EU", ("ai_disclosure",))
    assert ai_act.applies_from == date(2026, 8, 2) and ai_act.staff_at_least is None
    assert by_id["eu_digital_fairness_act"].in_force is None
    for rule in all_rules:
        assert rule.source_link and rule.source_link.startswith("https://")


def test_eu_includes_its_member_states() -> None:
    assert {"ES", "FR", "DE", "GR", "IE"} <= EU_MEMBERS and len(EU_MEMBERS) == 27
    assert not {"GB", "CH", "NO", "EL"} & EU_MEMBERS


def test_the_table_reads_as_a_frame() -> None:
    table = load_rules_table()
    assert table["jurisdiction"].tolist() == ["ES", "ES", "EU", "CA", "EU"]
    assert table["staff_at_least"].dtype.name == "Int64"


# --------------------------------------------------------------------------- bad rows


def test_unknown_jurisdiction_is_named(tmp_path: Path) -> None:
    path, rows = modified(
        tmp_path, lambda r: set_cell(r, "es_law_10_2025_large_firms", "jurisdiction", "Spain")
    )
    assert problems(path) == [
        f"service_rules.csv, line {line_of(rows, 'es_law_10_2025_large_firms')}, column "
        "'jurisdiction': 'Spain' is not an ISO 3166-1 alpha-2 country code (ES, FR, DE...) or EU"
    ]


def test_threshold_text_in_a_numeric_field_is_named(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        set_cell(rows, "es_law_10_2025_large_firms", "staff_at_least", "more than 250")
        set_cell(rows, "es_law_10_2025_large_firms", "turnover_above", "50M")

    path, rows = modified(tmp_path, change)
    line = line_of(rows, "es_law_10_2025_large_firms")
    assert problems(path) == [
        f"service_rules.csv, line {line}, column 'staff_at_least': 'more than 250' is text, but "
        "a whole number is expected",
        f"service_rules.csv, line {line}, column 'turnover_above': '50M' is text, but a number "
        "is expected",
    ]


def test_inconsistent_rule_rows_are_named(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        set_cell(rows, "es_law_10_2025_large_firms", "currency", "")
        set_cell(rows, "es_law_10_2025_large_firms", "requirements", "human_on_request;smile")
        set_cell(rows, "es_law_10_2025_basic_services", "applies_from", "2025-01-01")
        set_cell(rows, "es_law_10_2025_large_firms", "thresholds_combine", "either")
        set_cell(rows, "eu_ai_act_art_50_1", "thresholds_combine", "any")
        set_cell(rows, "ca_moffatt_v_air_canada_2024", "in_force", "")

    path, rows = modified(tmp_path, change)
    large = line_of(rows, "es_law_10_2025_large_firms")
    basic = line_of(rows, "es_law_10_2025_basic_services")
    ai_act = line_of(rows, "eu_ai_act_art_50_1")
    moffatt = line_of(rows, "ca_moffatt_v_air_canada_2024")
    assert problems(path) == [
        f"service_rules.csv, line {large}, column 'currency': an empty cell is not a currency "
        "(a turnover or balance-sheet threshold needs one)",
        f"service_rules.csv, line {large}, column 'thresholds_combine': 'either' is not one of: "
        "any, all",
        f"service_rules.csv, line {large}, column 'requirements': 'human_on_request;smile' is "
        "not a list of requirements separated by ';' (from: human_on_request, ai_disclosure, "
        "call_answer_time, complaint_deadline, chatbot_liability)",
        f"service_rules.csv, line {basic}, column 'applies_from': '2025-01-01' is not on or "
        "after in_force (the end of the adaptation period)",
        f"service_rules.csv, line {ai_act}, column 'thresholds_combine': 'any' is not empty "
        "(the rule has no size threshold)",
        f"service_rules.csv, line {moffatt}, column 'in_force': an empty cell is not a date "
        "(only a proposal may have no date in force)",
    ]


# --------------------------------------------------------------------------- binding rules


def test_a_large_spanish_firms_full_automation_is_not_permitted(
    all_rules: tuple[rules.Rule, ...],
) -> None:
    verdict = scenario_permitted(
        all_rules,
        jurisdiction="ES",
        staff=12_000,
        turnover=3.5e9,
        on=AFTER_ADAPTATION,
        human_reachable=False,
    )
    assert verdict == Permission(False, SPANISH_LAW)
    permitted, rule = verdict
    assert not permitted and rule == SPANISH_LAW
    # the same firm keeping humans reachable is permitted
    assert scenario_permitted(
        all_rules,
        jurisdiction="ES",
        staff=12_000,
        turnover=3.5e9,
        on=AFTER_ADAPTATION,
        human_reachable=True,
    ) == (True, None)


@pytest.mark.parametrize(
    ("staff", "turnover", "balance_sheet", "bound"),
    [
        (40, 5e6, None, False),  # small on every count
        (249, 50e6, 43e6, False),  # just under each threshold ("above" 50M, "at least" 250)
        (250, 1e6, None, True),  # staff alone is enough
        (10, 50.5e6, None, True),  # turnover alone is enough
        (10, 1e6, 44e6, True),  # balance sheet alone is enough
    ],
)
def test_any_one_threshold_binds_a_spanish_firm(
    all_rules: tuple[rules.Rule, ...],
    staff: int,
    turnover: float,
    balance_sheet: float | None,
    bound: bool,
) -> None:
    permitted, rule = scenario_permitted(
        all_rules,
        jurisdiction="ES",
        staff=staff,
        turnover=turnover,
        balance_sheet=balance_sheet,
        on=AFTER_ADAPTATION,
        human_reachable=False,
    )
    assert permitted is not bound
    assert rule == (SPANISH_LAW if bound else None)


def test_a_small_spanish_firm_is_permitted_unless_it_provides_a_basic_service(
    all_rules: tuple[rules.Rule, ...],
) -> None:
    small = {"jurisdiction": "ES", "staff": 40, "turnover": 5e6, "on": AFTER_ADAPTATION}
    assert scenario_permitted(all_rules, **small, human_reachable=False) == (True, None)
    # a small telecom operator is bound whatever its size
    permitted, rule = scenario_permitted(
        all_rules, **small, sector="telecom", human_reachable=False
    )
    assert not permitted and rule is not None and "basic services" in rule


def test_before_the_rule_binds_full_automation_is_permitted(
    all_rules: tuple[rules.Rule, ...],
) -> None:
    large = {"jurisdiction": "ES", "staff": 12_000, "turnover": 3.5e9, "human_reachable": False}
    # before the law was in force
    assert scenario_permitted(all_rules, **large, on=date(2025, 6, 1)) == (True, None)
    # in force, but still within the 12 months to adapt
    assert scenario_permitted(all_rules, **large, on=date(2026, 12, 27)) == (True, None)
    # the first day a breach can be sanctioned
    assert scenario_permitted(all_rules, **large, on=date(2026, 12, 28)) == (False, SPANISH_LAW)


def test_the_eu_ai_act_binds_every_member_state_and_nothing_else(
    all_rules: tuple[rules.Rule, ...],
) -> None:
    def ids(jurisdiction: str, on: date = AFTER_ADAPTATION) -> list[str]:
        found = binding_rules(all_rules, jurisdiction=jurisdiction, staff=5, turnover=1e5, on=on)
        return [rule.id for rule in found]

    for member in ("FR", "DE", "ES", "IE"):
        assert "eu_ai_act_art_50_1" in ids(member)
    assert ids("GB") == [] and ids("US") == []
    assert ids("FR", on=date(2026, 8, 1)) == []  # Article 50 applies from 2 August 2026
    assert ids("CA") == ["ca_moffatt_v_air_canada_2024"]
    # disclosure is an obligation to meet, not a reason to rule a scenario out
    assert scenario_permitted(
        all_rules,
        jurisdiction="FR",
        staff=50_000,
        turnover=4e10,
        on=AFTER_ADAPTATION,
        human_reachable=False,
    ) == (True, None)


def test_a_proposal_never_binds(all_rules: tuple[rules.Rule, ...]) -> None:
    found = binding_rules(
        all_rules, jurisdiction="EU", staff=10**6, turnover=1e12, on=date(2040, 1, 1)
    )
    assert [rule.id for rule in found] == ["eu_ai_act_art_50_1"]


def test_scope_limits_of_the_spanish_law(all_rules: tuple[rules.Rule, ...]) -> None:
    b2b = binding_rules(
        all_rules,
        jurisdiction="ES",
        staff=5_000,
        turnover=1e9,
        on=AFTER_ADAPTATION,
        sells_to_consumers=False,
    )
    assert [rule.id for rule in b2b] == ["eu_ai_act_art_50_1"]


def test_bad_inputs_are_refused(all_rules: tuple[rules.Rule, ...]) -> None:
    with pytest.raises(ValueError, match="unknown jurisdiction 'Spain'"):
        binding_rules(all_rules, jurisdiction="Spain", staff=1, turnover=1, on=AFTER_ADAPTATION)
    with pytest.raises(ValueError, match="in EUR, but the firm's figures are in USD"):
        binding_rules(
            all_rules,
            jurisdiction="ES",
            staff=1,
            turnover=1e9,
            on=AFTER_ADAPTATION,
            currency="USD",
        )


# --------------------------------------------------------------------------- decision rule


@pytest.mark.parametrize(
    ("ai_share", "mitigation", "reachable"),
    [
        (0.0, 0.0, True),  # status quo: every contact handled by a person
        (0.40, 0.70, True),  # hybrid
        (0.60, 0.15, False),  # full automation (and the reversal's first year)
        (0.60, 0.50, True),  # at the threshold
        (0.60, 0.49, False),
    ],
)
def test_human_reachable_decision_rule(ai_share: float, mitigation: float, reachable: bool) -> None:
    assert (
        is_human_reachable(ai_resolution_share=ai_share, escalation_mitigation=mitigation)
        is reachable
    )


def test_firms_in_words(all_rules: tuple[rules.Rule, ...]) -> None:
    texts = [describe_firms(rule) for rule in all_rules]
    assert texts[0] == (
        "Firms selling mainly to consumers with at least 250 staff, or turnover above EUR 50 "
        "million, or balance sheet above EUR 43 million (any one is enough)"
    )
    assert texts[1].startswith("Firms in water, gas and electricity, passenger transport")
    assert texts[1].endswith("whatever their size")
    assert texts[2] == "Every firm, whatever its size"


def test_docstring_examples() -> None:
    result = doctest.testmod(rules)
    assert result.attempted >= 5 and result.failed == 0
