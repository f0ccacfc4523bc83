"""Rules in the model: a scenario that breaks a rule binding the company is shown, never
recommended, in the analysis, the results file and the command line."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
from datetime import date
from pathlib import Path

import pytest

from cxtradeoff.cli import main
from cxtradeoff.compliance import phase_end, scenario_permissions
from cxtradeoff.errors import DataValidationError
from cxtradeoff.paths import COMPANY_PROFILES
from cxtradeoff.profiles import load_profiles
from cxtradeoff.results import analyse_profile

ALL = ["status_quo", "hybrid", "full_automation", "reversal"]
LAW = "Spain's Law 10/2025 on customer service (large firms)"
#: settings under which full automation has the highest expected NPV for the Spanish profile
AUTOMATION_PAYS = {
    "consider_switch_share": 0.05,
    "switch_conversion": 0.01,
    "severance_months": 0,
    "cost_human_contact": 15,
}


def _profiles_with(tmp_path: Path, pid: str, changes: dict[str, str]) -> Path:
    """The shipped profiles file with some of one profile's values changed."""
    with COMPANY_PROFILES.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        if row[0] == pid and row[3] in changes:
            row[4] = changes[row[3]]
    path = tmp_path / "profiles.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_large_spanish_firm_may_not_automate_fully_even_where_it_would_pay_most():
    spain = load_profiles()["spanish_telecom"]
    analysis = analyse_profile(
        spain, ALL, draws=4000, seed=1, overrides=AUTOMATION_PAYS, as_of=date(2026, 12, 1)
    )
    results = analysis.results
    means = {name: s.npv_mean for name, s in results.scenarios.items()}
    assert max(means, key=means.get) == "full_automation"  # it would pay most...
    full = results.scenarios["full_automation"]
    assert (full.permitted, full.blocked_by) == (False, LAW)  # ...but the law forbids it
    assert results.scenarios["reversal"].permitted is False  # its first year is automated
    assert results.recommended == "hybrid" == results.headline.scenario
    assert results.jurisdiction == "ES" and results.as_of == "2026-12-01"
    assert results.headline.flip.to != "full_automation"


def test_a_small_spanish_firm_outside_the_basic_services_may_automate(tmp_path):
    path = _profiles_with(
        tmp_path,
        "ecommerce",
        {
            "jurisdiction": "ES",
            "employees": "40",
            "customers": "100000",
            "revenue_per_customer": "150",
        },
    )
    small = load_profiles(path)["ecommerce"]
    assert small.turnover == 15_000_000  # below the law's EUR 50M
    verdicts = scenario_permissions(small, ALL, as_of=date(2026, 12, 1))
    assert all(v.permitted for v in verdicts.values())


def test_before_the_law_binds_every_scenario_is_permitted():
    spain = load_profiles()["spanish_telecom"]
    one_year = {"horizon_years": 1}
    early = scenario_permissions(spain, ALL, as_of=date(2025, 6, 1), overrides=one_year)
    assert phase_end(date(2025, 6, 1), 1) < date(2026, 12, 28)
    assert all(v.permitted for v in early.values())
    later = scenario_permissions(spain, ALL, as_of=date(2026, 1, 1), overrides=one_year)
    assert not later["full_automation"].permitted  # the year runs past 28 Dec 2026


def test_the_shipped_illustrative_profiles_keep_their_own_jurisdictions():
    seen = {p.id: p.jurisdiction for p in load_profiles().values()}
    assert seen["spanish_telecom"] == "ES"
    assert {seen[p] for p in ("telecom", "retail_bank", "ecommerce", "b2b_software", "fintech")} <= {
        "FR", "DE", "US", "SE"
    }  # fmt: skip
    for pid in ("telecom", "fintech"):
        verdicts = scenario_permissions(load_profiles()[pid], ALL, as_of=date(2026, 12, 1))
        assert all(v.permitted for v in verdicts.values()), pid


@pytest.mark.parametrize(
    ("fact", "value", "expected"),
    [
        ("jurisdiction", "XX", "an ISO 3166-1 alpha-2 country code"),
        ("employees", "many", "a whole number of people employed"),
        ("sector", "retail", "one of: utilities"),
        ("sells_to_consumers", "perhaps", "true or false"),
    ],
)
def test_a_bad_company_fact_is_named_by_line_and_column(tmp_path, fact, value, expected):
    path = _profiles_with(tmp_path, "spanish_telecom", {fact: value})
    with pytest.raises(DataValidationError) as info:
        load_profiles(path)
    text = str(info.value)
    with path.open(encoding="utf-8") as handle:
        line = next(
            i for i, row in enumerate(csv.reader(handle), start=1)
            if row[0] == "spanish_telecom" and row[3] == fact
        )  # fmt: skip
    assert f"line {line}, column 'value': {fact} = {value!r} is not {expected}" in text


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line in this process (the installed command is run in test_cli_analyse)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def test_analyse_all_shows_the_forbidden_scenario_and_never_recommends_it():
    sets = [f"--set={k}={v}" for k, v in AUTOMATION_PAYS.items()]
    out = _cli("analyse", "--profile", "spanish_telecom", "--scenario", "all", "--draws", "3000",
               "--as-of", "2026-12-01", *sets)  # fmt: skip
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    full = payload["scenarios"]["full_automation"]
    assert (full["permitted"], full["blocked_by"]) == (False, LAW)
    assert max(payload["scenarios"], key=lambda s: payload["scenarios"][s]["npv_mean"]) == (
        "full_automation"
    )
    assert payload["recommended"] == "hybrid"
    assert round(sum(s["p_best"] for s in payload["scenarios"].values()), 12) == 1.0


def test_profiles_json_lists_id_name_currency_and_jurisdiction():
    out = _cli("profiles", "--format", "json")
    assert out.returncode == 0, out.stderr
    listed = {p["id"]: p for p in json.loads(out.stdout)["profiles"]}
    assert listed["spanish_telecom"] == {
        "id": "spanish_telecom",
        "display_name": "Spanish telecom operator (illustrative)",
        "currency": "EUR",
        "jurisdiction": "ES",
    }


def test_a_bad_as_of_date_exits_2_naming_it():
    out = _cli("analyse", "--profile", "telecom", "--scenario", "hybrid", "--as-of", "01/12/2026")
    assert out.returncode == 2
    assert "as_of = '01/12/2026' is not a date" in out.stderr
    assert "Traceback" not in out.stderr
