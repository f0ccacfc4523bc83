"""Company profiles: the shipped file, and every kind of bad file reported at once."""

from __future__ import annotations

import csv
import re

import pytest

from cxtradeoff import paths
from cxtradeoff.errors import DataValidationError, ParameterError
from cxtradeoff.model import MODEL_INPUTS, SCENARIO_NAMES, break_even_both_valuations, evaluate
from cxtradeoff.profiles import (
    assumptions_table,
    get_profile,
    load_profiles,
    profiles_table,
)

REQUIRED_KINDS = ("telecom", "retail_bank", "ecommerce", "b2b_software", "fintech")


def _rows(path=paths.COMPANY_PROFILES):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def test_shipped_profiles_load_and_cover_the_required_companies():
    profiles = load_profiles()
    assert len(profiles) >= 5
    for pid in REQUIRED_KINDS:
        assert pid in profiles
    assert "Klarna" in profiles["fintech"].display_name
    for p in profiles.values():
        assert set(MODEL_INPUTS) <= set(p.basis)
        for name in MODEL_INPUTS:
            basis = p.basis[name]
            assert basis.strip()
            assert "\n" not in basis
            assert basis.startswith(("assumption", "derived")) or any(
                ch.isdigit() for ch in basis
            ), (p.id, name, basis)
        assert len(p.currency) == 3


def test_fintech_is_shaped_on_klarnas_published_figures():
    fintech = load_profiles()["fintech"]
    assert "Klarna" in fintech.basis["cost_human_contact"]
    # Klarna's "work of 700 agents" (2.3M chats a month) would be 39,400 chats an agent a
    # year: 3.8 chats at once all day at 11 minutes a chat. The profile checks it against
    # what a human chat agent handles and states the arithmetic.
    per_agent = fintech.parameters.contacts_per_agent_per_year
    assert per_agent == pytest.approx(7 * 60 / 11 * 2.5 * 220, rel=0.01)
    assert per_agent < 2.3e6 * 12 / 700
    basis = fintech.basis["contacts_per_agent_per_year"]
    for fragment in ("11 minutes", "2.5 chats at once", "220 days", "21,000"):
        assert fragment in basis


def test_profiles_value_lost_customers_at_lifetime_value_unless_argued():
    for p in load_profiles().values():
        if p.parameters.replace_lost_customers:
            assert "replace" in p.basis["replace_lost_customers"], p.id
        else:
            assert "both valuations" in p.basis["replace_lost_customers"], p.id
    assert not any(p.parameters.replace_lost_customers for p in load_profiles().values())


def test_profiles_state_severance_and_escalation_penalty_with_their_basis():
    profiles = load_profiles()
    for p in profiles.values():
        assert 0 < p.parameters.severance_months <= 36, p.id
        assert 1 < p.parameters.escalation_penalty <= 5, p.id
        assert "83%" in p.basis["escalation_penalty"], p.id  # Five9's hand-off figure
        assert "severance" not in p.basis["implementation_cost"].split("(")[0], p.id
    # the labour law behind severance is named
    assert "KSchG" in profiles["telecom"].basis["severance_months"]
    assert "at-will" in profiles["b2b_software"].basis["severance_months"]
    assert "LAS" in profiles["fintech"].basis["severance_months"]
    # European profiles pay more severance than the US one
    assert (
        profiles["telecom"].parameters.severance_months
        > profiles["b2b_software"].parameters.severance_months
    )


def test_acquisition_multiplier_sits_inside_its_range():
    for p in load_profiles().values():
        assert 5 < p.parameters.acquisition_multiplier < 25, p.id


def test_b2b_switching_share_says_it_comes_from_a_consumer_survey():
    basis = load_profiles()["b2b_software"].basis["consider_switch_share"]
    assert "consumer survey" in basis


def test_break_even_under_both_valuations_for_every_profile():
    for p in load_profiles().values():
        for scenario in ("hybrid", "full_automation", "reversal"):
            both = break_even_both_valuations(p.parameters, scenario)
            assert both["break_even_conversion_npv_clv"] is not None
            assert both["break_even_conversion_npv_replacement"] is not None
            # min(CLV, CAC) <= CLV: a lost customer never costs more when replaced
            assert both["npv_replacement"] >= both["npv_clv"] - 1e-6 * abs(both["npv_clv"])


def test_shipped_profiles_meet_the_contracts_checks():
    for p in load_profiles().values():
        params = p.parameters
        assert params.contacts_per_customer >= params.contact_reach
        assert params.retention_spend_per_customer < params.margin * params.revenue_per_customer
        assert params.escalation_penalty * params.switch_conversion <= 1


def test_every_shipped_profile_evaluates_in_every_scenario():
    for p in load_profiles().values():
        for scenario in SCENARIO_NAMES:
            assert evaluate(p.parameters, scenario).to_dict()["npv"] is not None


def test_load_profiles_takes_a_path(tmp_path):
    rows = _rows()
    header, body = rows[0], rows[1:]
    only = [r for r in body if r[0] == "telecom"]
    renamed = [["acme", "Acme <script>alert(1)</script>", *r[2:]] for r in only]
    path = _write(tmp_path / "p.csv", [header, *renamed])
    profiles = load_profiles(path)
    assert list(profiles) == ["acme"]
    assert profiles["acme"].display_name == "Acme <script>alert(1)</script>"
    assert profiles["acme"].parameters == load_profiles()["telecom"].parameters


def test_every_problem_is_reported_with_file_line_and_column(tmp_path):
    rows = _rows()
    header, body = rows[0], [list(r) for r in rows[1:] if r[0] == "telecom"]
    index = {r[3]: i for i, r in enumerate(body)}
    body[index["margin"]][4] = "1.7"  # out of range
    body[index["customers"]][4] = "many"  # not a number
    body[index["retention_rate"]][3] = "retension_rate"  # misspelt (and so missing)
    body[index["discount_rate"]][2] = "eur"  # bad currency code
    body[index["horizon_years"]][5] = ""  # no basis
    body[index["replace_lost_customers"]][4] = "yes"  # not a bool
    path = _write(tmp_path / "bad.csv", [header, *body])
    with pytest.raises(DataValidationError) as info:
        load_profiles(path)
    err = info.value
    text = str(err)
    line = {name: i + 2 for name, i in index.items()}
    expected = [
        f"line {line['margin']}, column 'value': margin = 1.7",
        f"line {line['customers']}, column 'value': customers = 'many' is not a number",
        f"line {line['retention_rate']}, column 'parameter': unknown parameter "
        "'retension_rate'; did you mean 'retention_rate'",
        f"line {line['discount_rate']}, column 'currency'",
        f"line {line['horizon_years']}, column 'basis'",
        f"line {line['replace_lost_customers']}, column 'value'",
        "lacks retention_rate",
    ]
    for fragment in expected:
        assert fragment in text, fragment
    assert str(path) in text
    assert len(err.problems) >= len(expected)


def test_missing_and_extra_columns_are_named(tmp_path):
    rows = _rows()
    cut = [[*r[:5], "x"] for r in rows]
    cut[0][5] = "notes"
    path = _write(tmp_path / "cols.csv", cut)
    with pytest.raises(DataValidationError) as info:
        load_profiles(path)
    text = str(info.value)
    assert "column 'basis' is missing" in text
    assert "unexpected column 'notes'" in text


def test_inconsistent_display_name_duplicate_and_shares_over_one(tmp_path):
    rows = _rows()
    header, body = rows[0], [list(r) for r in rows[1:] if r[0] == "telecom"]
    index = {r[3]: i for i, r in enumerate(body)}
    body[index["margin"]][1] = "Another name"
    body.append(list(body[index["margin"]]))
    body[-1][1] = body[0][1]
    body[index["ai_resolution_share"]][4] = "0.7"
    body[index["ai_escalation_share"]][4] = "0.5"
    path = _write(tmp_path / "dup.csv", [header, *body])
    with pytest.raises(DataValidationError) as info:
        load_profiles(path)
    text = str(info.value)
    assert f"line {index['margin'] + 2}, column 'display_name'" in text
    assert f"line {len(body) + 1}, column 'parameter': margin appears again" in text
    assert "ai_resolution_share + ai_escalation_share" in text
    assert f"line {index['ai_resolution_share'] + 2}" in text


def test_ragged_and_empty_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataValidationError, match="empty"):
        load_profiles(empty)
    header_only = _write(tmp_path / "header.csv", [_rows()[0]])
    with pytest.raises(DataValidationError, match="0 data row"):
        load_profiles(header_only)
    with pytest.raises(DataValidationError, match="does not exist"):
        load_profiles(tmp_path / "missing.csv")
    rows = _rows()
    rows[3] = rows[3][:4]
    with pytest.raises(DataValidationError, match=r"line 4: 4 field\(s\), but the header has 6"):
        load_profiles(_write(tmp_path / "ragged.csv", rows))


def test_unknown_profile_suggests_the_closest():
    with pytest.raises(ParameterError, match="did you mean 'telecom'"):
        get_profile(load_profiles(), "telcom")


def test_tables_for_display():
    profiles = load_profiles()
    table = profiles_table(profiles)
    assert list(table["profile"]) == list(profiles)
    telecom = profiles["telecom"]
    used = telecom.parameters.updated({"margin": 0.5})
    a = assumptions_table(telecom, used)
    assert len(a) == len(telecom.parameters.model_dump())
    row = a.set_index("parameter").loc["margin"]
    assert row["value"] == 0.5
    assert row["status"] == "override"
    assert a.set_index("parameter").loc["consider_switch_share", "status"] == "public figure"
    assert a.set_index("parameter").loc["customers", "status"] == "assumption"


def test_profile_may_omit_the_inputs_with_defaults(tmp_path):
    rows = _rows()
    header = rows[0]
    kept = [
        r
        for r in rows[1:]
        if r[0] == "telecom" and r[3] not in ("severance_months", "escalation_penalty")
    ]
    profile = load_profiles(_write(tmp_path / "p.csv", [header, *kept]))["telecom"]
    assert profile.parameters.severance_months == 0.0
    assert profile.parameters.escalation_penalty == 1.0
    assert profile.basis_of("severance_months").startswith("default")


def test_cross_check_failures_name_the_lines_of_the_parameters(tmp_path):
    rows = _rows()
    header, body = rows[0], [list(r) for r in rows[1:] if r[0] == "telecom"]
    index = {r[3]: i for i, r in enumerate(body)}
    body[index["contacts_per_customer"]][4] = "0.1"  # below contact_reach 0.4
    body[index["switch_conversion"]][4] = "0.9"  # e k = 1.8
    path = _write(tmp_path / "cross.csv", [header, *body])
    with pytest.raises(DataValidationError) as info:
        load_profiles(path)
    text = str(info.value)
    line = {name: i + 2 for name, i in index.items()}
    assert "contacts_per_customer = 0.1 is below contact_reach = 0.4" in text
    assert "escalation_penalty * switch_conversion" in text
    match = re.search(r"line ([\d, ]+), column 'value': profile 'telecom'", text)
    assert match is not None
    named = {int(n) for n in match.group(1).split(",")}
    for name in ("contacts_per_customer", "contact_reach", "switch_conversion"):
        assert line[name] in named, name
