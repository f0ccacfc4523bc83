"""``cxtradeoff analyse`` and ``cxtradeoff profiles``, run as a user runs them."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import pytest

from cxtradeoff import paths
from cxtradeoff.cli import main

KEYS = (
    "margin_per_customer",
    "clv",
    "value_per_lost_customer",
    "exposure",
    "failed_ai_exposure",
    "extra_churn",
    "customers_lost_per_year",
    "annual_savings",
    "annual_loyalty_cost",
    "severance_cost",
    "npv",
    "break_even_churn",
    "break_even_conversion",
    "break_even_churn_npv",
    "break_even_conversion_npv",
    "rehiring_cost",
    "p_conversion_below_break_even",
    "npv_clv",
    "npv_replacement",
    "break_even_conversion_npv_clv",
    "break_even_conversion_npv_replacement",
)
MONTE_CARLO = ("npv_mean", "npv_p10", "npv_p50", "npv_p90", "p_loss")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cxtradeoff.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def analyse_json(capsys, *args: str) -> dict:
    assert main(["analyse", *args]) == 0
    return json.loads(capsys.readouterr().out)


WORKED_PROFILE = {
    "customers": "1000000",
    "revenue_per_customer": "600",
    "margin": "0.3",
    "retention_rate": "0.85",
    "discount_rate": "0.1",
    "horizon_years": "3",
    "contacts_per_customer": "2",
    "contact_reach": "0.5",
    "cost_human_contact": "6",
    "cost_ai_contact": "0.8",
    "ai_resolution_share": "0",
    "ai_escalation_share": "0",
    "assist_productivity": "0",
    "ai_fixed_cost_per_year": "500000",
    "implementation_cost": "0",
    "consider_switch_share": "0.53",
    "switch_conversion": "0.05",
    "escalation_mitigation": "0",
    "retention_spend_per_customer": "20",
    "acquisition_multiplier": "5",
    "replace_lost_customers": "false",
}


def _worked_profile_file(tmp_path, **extra: str):
    rows = ["profile,display_name,currency,parameter,value,basis"]
    values = {**WORKED_PROFILE, **extra}
    rows += [f"check,Worked check,EUR,{k},{v},model contract" for k, v in values.items()]
    path = tmp_path / "check.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _assert_worked_check(out: dict) -> None:
    for key in KEYS:
        assert key in out
    expected = {
        "margin_per_customer": 180.0,
        "clv": 544.0,
        "value_per_lost_customer": 544.0,
        "exposure": 0.49595,
        "failed_ai_exposure": 0.17195,
        "extra_churn": 0.0154210125,
        "customers_lost_per_year": 15_421.0125,
        "annual_savings": 5_580_000.0,
        "annual_loyalty_cost": 8_389_030.8,
        "severance_cost": 1_800_000.0,
        "npv": -8_785_643.837715995,
        "break_even_churn": 0.010257352941176470,
        "break_even_conversion": 0.0332577155396783,
        "break_even_conversion_npv": 0.0289437091676569,
        "rehiring_cost": 0.0,
    }
    for key, value in expected.items():
        assert out[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert round(out["npv"], 2) == -8_785_643.84
    assert round(out["break_even_conversion"], 10) == 0.0332577155
    assert round(out["break_even_conversion_npv"], 10) == 0.0289437092
    assert out["npv_clv"] == out["npv"]
    assert "npv_p10" not in out
    # unrounded: many more digits than a formatter would keep
    assert len(repr(out["npv"])) > 12


def test_worked_check_through_the_command_line(tmp_path):
    """The contract's worked check, the new inputs given with --set, through a subprocess."""
    path = _worked_profile_file(tmp_path)
    proc = cli(
        "analyse",
        "--profile",
        "check",
        "--scenario",
        "full_automation",
        "--set",
        "escalation_mitigation=0",
        "--set",
        "escalation_penalty=1.5",
        "--set",
        "severance_months=3",
        "--profiles-file",
        str(path),
    )
    assert proc.returncode == 0, proc.stderr
    _assert_worked_check(json.loads(proc.stdout))


def test_worked_check_with_the_new_inputs_in_the_profile(tmp_path, capsys):
    path = _worked_profile_file(tmp_path, severance_months="3", escalation_penalty="1.5")
    out = analyse_json(
        capsys,
        "--profile",
        "check",
        "--scenario",
        "full_automation",
        "--set",
        "escalation_mitigation=0",
        "--profiles-file",
        str(path),
    )
    _assert_worked_check(out)
    # without the new rows the defaults keep the profile's meaning: no severance, e = 1
    plain = analyse_json(
        capsys,
        "--profile",
        "check",
        "--scenario",
        "full_automation",
        "--profiles-file",
        str(_worked_profile_file(tmp_path)),
    )
    assert plain["severance_cost"] == 0.0


def test_installed_console_script_runs():
    script = shutil.which("cxtradeoff", path=str(paths.ROOT / ".venv" / "bin"))
    if script is None:
        pytest.skip("the console script is installed by 'make setup'")
    proc = subprocess.run(
        [script, "analyse", "--profile", "telecom", "--scenario", "hybrid"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scenario"] == "hybrid"


def test_draws_add_monte_carlo_keys_reproducibly(capsys):
    args = ("--profile", "fintech", "--scenario", "full_automation", "--draws", "3000")
    one = analyse_json(capsys, *args, "--seed", "11")
    two = analyse_json(capsys, *args, "--seed", "11")
    other = analyse_json(capsys, *args, "--seed", "12")
    for key in MONTE_CARLO:
        assert key in one
        assert one[key] == two[key]
    assert one["npv_p50"] != other["npv_p50"]
    assert one["npv_p10"] <= one["npv_p50"] <= one["npv_p90"]
    assert 0.0 <= one["p_loss"] <= 1.0


def test_status_quo_gives_null_break_even_conversion(capsys):
    out = analyse_json(capsys, "--profile", "telecom", "--scenario", "status_quo")
    assert out["npv"] == 0.0
    for key in KEYS:
        assert key in out
    assert out["break_even_conversion"] is None
    assert out["break_even_conversion_npv"] is None
    assert out["p_conversion_below_break_even"] is None


@pytest.mark.parametrize("scenario", ["hybrid", "full_automation"])
def test_break_even_keys_with_a_one_off_cost(capsys, scenario):
    from cxtradeoff.model import compute_phases, scenario_phases
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.uncertainty import probability_conversion_below

    telecom = load_profiles()["telecom"]
    [(_, used)] = scenario_phases(telecom.parameters, scenario)
    assert used.implementation_cost > 0  # the profile pays one-off costs
    assert used.severance_months > 0
    out = analyse_json(capsys, "--profile", "telecom", "--scenario", scenario)
    for key in KEYS:
        assert key in out
    n, v = used.customers, out["value_per_lost_customer"]
    divisor = (
        used.consider_switch_share
        * (1 - used.escalation_mitigation)
        * (out["exposure"] + (used.escalation_penalty - 1) * out["failed_ai_exposure"])
    )
    # the contract's literal equations, unrounded
    assert out["break_even_churn"] == pytest.approx(out["annual_savings"] / (n * v), rel=1e-12)
    assert out["break_even_conversion"] == pytest.approx(
        out["break_even_churn"] / divisor, rel=1e-12
    )
    # the NPV version: NPV is 0 there, and it is lower (the one-off cost is counted)
    assert out["break_even_conversion_npv"] < out["break_even_conversion"]
    k_npv = out["break_even_conversion_npv"]
    at = compute_phases([{**used.as_inputs(), "switch_conversion": k_npv}])  # k may exceed 1
    assert float(at.npv) == pytest.approx(0.0, abs=1e-6)
    if k_npv <= 1:  # and through the command line, where --set allows it
        again = analyse_json(
            capsys, "--profile", "telecom", "--scenario", scenario,
            "--set", f"switch_conversion={k_npv!r}",
        )  # fmt: skip
        assert again["npv"] == pytest.approx(0.0, abs=1e-6)
    # the chance that it pays over the horizon: the prior below the NPV version
    assert out["p_conversion_below_break_even"] == probability_conversion_below(
        out["break_even_conversion_npv"], median=used.switch_conversion
    )
    if out["break_even_conversion"] < 1:  # below 1 the two versions give different chances
        assert out["p_conversion_below_break_even"] < probability_conversion_below(
            out["break_even_conversion"], median=used.switch_conversion
        )


def test_set_is_parsed_by_type(capsys):
    base = analyse_json(capsys, "--profile", "telecom", "--scenario", "hybrid")
    out = analyse_json(
        capsys,
        "--profile",
        "telecom",
        "--scenario",
        "hybrid",
        "--set",
        "replace_lost_customers=true",
        "--set",
        "acquisition_multiplier=5",
        "--set",
        "horizon_years=5",
        "--set",
        "customers=1_000_000",
    )
    assert out["overrides"] == {
        "replace_lost_customers": True,
        "acquisition_multiplier": 5.0,
        "horizon_years": 5,
        "customers": 1_000_000,
    }
    assert out["value_per_lost_customer"] == pytest.approx(5 * 20)  # min(CLV, M s_r)
    assert out["value_per_lost_customer"] < out["clv"]
    assert base["value_per_lost_customer"] == base["clv"]  # telecom counts CLV
    assert out["customers_lost_per_year"] == pytest.approx(
        base["customers_lost_per_year"] / 8, rel=1e-12
    )


def test_table_format(capsys):
    assert (
        main(["analyse", "--profile", "telecom", "--scenario", "hybrid", "--format", "table"]) == 0
    )
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()}
    for key in KEYS:
        assert key in lines
    assert "Telecom operator (illustrative)" in lines["display_name"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--profile", "telcom", "--scenario", "hybrid"], "unknown profile 'telcom'"),
        (["--profile", "telecom", "--scenario", "hybird"], "unknown scenario 'hybird'"),
        (["--profile", "telecom", "--scenario", "hybrid", "--set", "margn=0.3"], "'margin'"),
        (["--profile", "telecom", "--scenario", "hybrid", "--set", "margin=1.5"], "margin = 1.5"),
        (["--profile", "telecom", "--scenario", "hybrid", "--set", "margin"], "name=value"),
        (
            ["--profile", "telecom", "--scenario", "hybrid", "--set", "replace_lost_customers=1"],
            "true or false",
        ),
        (
            ["--profile", "telecom", "--scenario", "hybrid", "--set", "ai_resolution_share=0.95"],
            "ai_resolution_share + ai_escalation_share",
        ),
        (
            ["--profile", "telecom", "--scenario", "hybrid", "--set", "severance_months=37"],
            "severance_months = 37.0",
        ),
        (
            ["--profile", "telecom", "--scenario", "hybrid", "--set", "escalation_penalty=6"],
            "escalation_penalty = 6.0",
        ),
        (
            ["--profile", "telecom", "--scenario", "hybrid", "--set", "escalaton_penalty=2"],
            "did you mean 'escalation_penalty'",
        ),
        (
            ["--profile", "telecom", "--scenario", "hybrid", "--set", "switch_conversion=0.6"],
            "escalation_penalty * switch_conversion = 2.0 * 0.6",
        ),
        (
            ["--profile", "telecom", "--scenario", "hybrid", "--set", "contacts_per_customer=0.3"],
            "contacts_per_customer = 0.3 is below contact_reach = 0.4",
        ),
        (
            [
                "--profile",
                "telecom",
                "--scenario",
                "hybrid",
                "--set",
                "retention_spend_per_customer=84",
            ],
            "retention_spend_per_customer = 84.0 is not below margin * revenue_per_customer",
        ),
        (["--profile", "telecom", "--scenario", "all", "--draws", "0"], "draws = 0"),
        (["--profile", "telecom", "--scenario", "al"], "unknown scenario 'al'"),
        (
            ["--profile", "telecom", "--scenario", "all", "--set", "switch_conversion=0.9"],
            "escalation_penalty * switch_conversion",
        ),
    ],
)
def test_bad_input_exits_2_naming_it(capsys, args, fragment):
    assert main(["analyse", *args]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_bad_profiles_file_exits_2_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "p.csv"
    text = paths.COMPANY_PROFILES.read_text(encoding="utf-8").replace(
        "telecom,Telecom operator (illustrative),EUR,margin,0.35",
        "telecom,Telecom operator (illustrative),EUR,margin,3.5",
    )
    path.write_text(text, encoding="utf-8")
    code = main(
        ["analyse", "--profile", "telecom", "--scenario", "hybrid", "--profiles-file", str(path)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "line 4, column 'value': margin = 3.5" in err


def test_negative_draws_is_a_usage_error():
    proc = cli("analyse", "--profile", "telecom", "--scenario", "hybrid", "--draws", "-1")
    assert proc.returncode == 2
    assert "--draws" in proc.stderr


def test_profiles_lists_names_first(capsys):
    assert main(["profiles"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first_words = [line.split()[0] for line in lines]
    for name in ("telecom", "retail_bank", "ecommerce", "b2b_software", "fintech"):
        assert name in first_words
    for name in ("status_quo", "hybrid", "full_automation", "reversal"):
        assert name in first_words


def test_help_constants_match_the_model() -> None:
    """The command line lists scenarios without importing the model; the lists agree."""
    from cxtradeoff import decision, uncertainty
    from cxtradeoff.commands import analyse
    from cxtradeoff.model import SCENARIOS
    from cxtradeoff.results import DEFAULT_SEED

    assert analyse.SCENARIO_NAMES == tuple(SCENARIOS)
    assert analyse.DEFAULT_SEED == DEFAULT_SEED == uncertainty.DEFAULT_SEED
    assert analyse.DEFAULT_DRAWS_ALL == decision.DEFAULT_DRAWS


# --- --scenario all -----------------------------------------------------------------------


def test_all_scenarios_print_the_decision(capsys):
    out = analyse_json(capsys, "--profile", "telecom", "--scenario", "all", "--draws", "4000")
    assert {"scenarios", "recommended", "evppi_switch_conversion"} <= set(out)
    assert list(out["scenarios"]) == ["status_quo", "hybrid", "full_automation", "reversal"]
    single = analyse_json(capsys, "--profile", "telecom", "--scenario", "hybrid")
    for name, values in out["scenarios"].items():
        for key in (*KEYS, *MONTE_CARLO, "p_best"):
            assert key in values, (name, key)
    # the base case of a scenario is the single-scenario output, key for key
    for key in KEYS:
        assert out["scenarios"]["hybrid"][key] == single[key], key
    assert sum(v["p_best"] for v in out["scenarios"].values()) == pytest.approx(1.0, abs=1e-12)
    means = {name: v["npv_mean"] for name, v in out["scenarios"].items()}
    assert out["recommended"] == max(means, key=means.get)
    assert out["evppi_switch_conversion"] >= 0
    assert out["draws"] == 4000
    # the distribution's figures agree with a single-scenario run on the same seed
    one = analyse_json(
        capsys, "--profile", "telecom", "--scenario", "full_automation", "--draws", "4000"
    )
    for key in MONTE_CARLO:
        assert one[key] == out["scenarios"]["full_automation"][key], key


@pytest.mark.slow
def test_all_scenarios_default_draws_and_reproducible_output():
    args = ("analyse", "--profile", "fintech", "--scenario", "all")
    one, two = cli(*args), cli(*args)
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout  # bit for bit
    out = json.loads(one.stdout)
    assert out["draws"] == 20_000
    other = json.loads(cli(*args, "--seed", "1").stdout)
    assert other["evppi_switch_conversion"] != out["evppi_switch_conversion"]


@pytest.mark.parametrize(
    "profile", ["telecom", "retail_bank", "ecommerce", "b2b_software", "fintech"]
)
def test_all_scenarios_on_every_profile_are_consistent(capsys, profile):
    out = analyse_json(capsys, "--profile", profile, "--scenario", "all", "--draws", "3000")
    values = out["scenarios"]
    assert sum(v["p_best"] for v in values.values()) == pytest.approx(1.0, abs=1e-12)
    best_mean = max(v["npv_mean"] for v in values.values())
    assert values[out["recommended"]]["npv_mean"] == best_mean
    assert out["evppi_switch_conversion"] >= 0
    for v in values.values():
        assert v["npv_p10"] <= v["npv_p50"] <= v["npv_p90"]
        assert 0 <= v["p_loss"] <= 1


def test_all_scenarios_table_format(capsys):
    args = ["analyse", "--profile", "telecom", "--scenario", "all", "--draws", "2000"]
    assert main([*args, "--format", "table"]) == 0
    text = capsys.readouterr().out
    assert "status_quo" in text and "reversal" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert lines["recommended"].split()[1] in (
        "status_quo",
        "hybrid",
        "full_automation",
        "reversal",
    )
    assert "evppi_switch_conversion" in lines
    assert "p_best" in lines


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        (
            "cost_human_contact=1e308",
            "cost_human_contact = 1e+308 is not allowed; expected a number from 0 to 1e+06",
        ),
        ("customers=100000000000", "customers = 100000000000 is not allowed"),
        ("ai_fixed_cost_per_year=inf", "ai_fixed_cost_per_year = 'inf' is not a finite number"),
    ],
)
def test_values_that_would_overflow_are_refused_by_name(capsys, assignment, expected):
    assert (
        main(["analyse", "--profile", "telecom", "--scenario", "hybrid", "--set", assignment]) == 2
    )
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err


def test_the_largest_allowed_values_give_finite_figures():
    from cxtradeoff.decision import decide
    from cxtradeoff.profiles import load_profiles

    params = load_profiles()["telecom"].parameters.updated(
        {"customers": 10_000_000_000, "revenue_per_customer": 1e9, "cost_human_contact": 1e6,
         "ai_fixed_cost_per_year": 1e13, "implementation_cost": 1e13}
    )  # fmt: skip
    decision = decide(params, draws=1000, seed=1)
    assert all(math.isfinite(s.npv_mean) for s in decision.scenarios)
