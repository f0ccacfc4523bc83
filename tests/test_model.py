"""The model (contract version 2): the worked check, validation, scenarios, reversal."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from cxtradeoff.errors import ParameterError
from cxtradeoff.model import (
    CONTRACT_OUTPUTS,
    RESULT_FIELDS,
    SCENARIO_NAMES,
    WORKED_CHECK,
    WORKED_CHECK_OVERRIDES,
    break_even_both_valuations,
    compute,
    compute_reversal,
    cross_check_problems,
    evaluate,
    exposure,
    extra_churn,
    failed_ai_exposure,
    parameters_from_mapping,
    parse_assignments,
    parse_value,
    scenario_phases,
)


@pytest.fixture
def worked():
    return parameters_from_mapping(WORKED_CHECK)


def _worked_npv_exact() -> Fraction:
    """The worked check's NPV in exact arithmetic, from the contract's figures."""
    annuity = sum(Fraction(10, 11) ** t for t in range(1, 4))
    savings = Fraction(5_580_000)
    loss = Fraction(15_421_0125, 10_000) * 544  # N * delta * V
    return -Fraction(1_800_000) + (savings - loss) * annuity


def test_worked_check_matches_the_contract_to_1e_9(worked):
    r = evaluate(worked, "full_automation", overrides=WORKED_CHECK_OVERRIDES)
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
        "npv": float(_worked_npv_exact()),
        "rehiring_cost": 0.0,
    }
    got = r.to_dict()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert round(got["npv"], 2) == -8_785_643.84
    # the contract's rounded break-evens, to the digits it prints
    assert round(got["break_even_churn"], 10) == 0.0102573529
    assert round(got["break_even_conversion"], 10) == 0.0332577155
    assert round(got["break_even_conversion_npv"], 10) == 0.0289437092
    # and their exact definitions
    annuity = float(sum(Fraction(10, 11) ** t for t in range(1, 4)))
    z = 0.30842025
    assert got["break_even_churn"] == pytest.approx(5_580_000 / (1e6 * 544), rel=1e-9)
    assert got["break_even_conversion"] == pytest.approx(5_580_000 / (1e6 * 544 * z), rel=1e-9)
    assert got["break_even_conversion_npv"] == pytest.approx(
        (5_580_000 - 1_800_000 / annuity) / (1e6 * 544 * z), rel=1e-9
    )
    assert got["break_even_churn_npv"] == pytest.approx(
        (5_580_000 - 1_800_000 / annuity) / (1e6 * 544), rel=1e-9
    )


def test_worked_check_risk_factor_and_human_cost(worked):
    r = evaluate(worked, "full_automation", overrides=WORKED_CHECK_OVERRIDES)
    # z = delta / k; H = severance * 12 / sigma
    assert float(r.extra_churn) / 0.05 == pytest.approx(0.30842025, rel=1e-12)
    assert float(r.severance_cost) * 12 / 3 == pytest.approx(7_200_000, rel=1e-12)


def test_version_1_figure_is_gone(worked):
    """Version 1 showed +2,175,000.75 for this company; version 2 turns it into a loss."""
    r = evaluate(worked, "full_automation", overrides=WORKED_CHECK_OVERRIDES)
    assert float(r.npv) < 0


def test_result_fields_hold_the_contract_outputs_and_the_projects_extras():
    for name in CONTRACT_OUTPUTS:
        assert name in RESULT_FIELDS
    assert {"break_even_churn_npv", "rehiring_cost"} <= set(RESULT_FIELDS)


def test_status_quo_is_exactly_zero_even_with_ai_costs_and_severance(worked):
    costly = worked.updated({"implementation_cost": 1e6, "severance_months": 12.0})
    r = evaluate(costly, "status_quo").to_dict()
    for key in ("annual_savings", "annual_loyalty_cost", "severance_cost", "npv", "exposure"):
        assert r[key] == 0.0, key
    assert r["break_even_conversion"] is None  # z is 0
    assert r["break_even_conversion_npv"] is None


def test_scenarios_set_the_contract_defaults(worked):
    expected = {
        "status_quo": (0, 0, 0, 0),
        "hybrid": (0.40, 0.10, 0.14, 0.70),
        "full_automation": (0.60, 0.10, 0, 0.15),
    }
    for name, values in expected.items():
        [(kind, p)] = scenario_phases(worked, name)
        assert kind == name
        got = (
            p.ai_resolution_share,
            p.ai_escalation_share,
            p.assist_productivity,
            p.escalation_mitigation,
        )
        assert got == values
    phases = scenario_phases(worked, "reversal")
    assert [k for k, _ in phases] == ["full_automation", "hybrid"]


def test_overrides_win_over_the_scenario(worked):
    [(_, p)] = scenario_phases(worked, "hybrid", overrides={"ai_resolution_share": 0.2})
    assert p.ai_resolution_share == 0.2
    assert p.escalation_mitigation == 0.70


def test_defaults_of_the_new_inputs_keep_a_profiles_meaning():
    values = {
        k: v
        for k, v in WORKED_CHECK.items()
        if k not in ("severance_months", "escalation_penalty", "replace_lost_customers")
    }
    p = parameters_from_mapping(values)
    assert (p.severance_months, p.escalation_penalty, p.replace_lost_customers) == (
        0.0,
        1.0,
        False,
    )
    r = evaluate(p, "full_automation")
    assert float(r.severance_cost) == 0.0
    # with e = 1 a failed hand-off weighs as much as a resolved contact: z = w (1 - h) x
    assert float(r.extra_churn) == pytest.approx(
        float(r.exposure) * 0.53 * 0.05 * (1 - 0.15), rel=1e-12
    )


# --- exposure -----------------------------------------------------------------------


def test_exposure_counts_customers_not_contacts():
    # one contact per contacting customer (c = p): version 1's x = p (a + q)
    assert float(exposure(0.5, 0.5, 0.6, 0.1)) == pytest.approx(0.5 * 0.7, rel=1e-12)
    # more contacts, more chances to meet the AI: 1 - 0.3^4 of contacting customers
    assert float(exposure(0.5, 2.0, 0.6, 0.1)) == pytest.approx(0.5 * (1 - 0.3**4), rel=1e-12)
    assert float(failed_ai_exposure(0.5, 2.0, 0.1)) == pytest.approx(0.5 * (1 - 0.9**4))
    # nobody contacts service: nobody is exposed, and no division by zero
    assert float(exposure(0.0, 0.0, 0.6, 0.1)) == 0.0
    assert float(failed_ai_exposure(0.0, 0.0, 0.1)) == 0.0
    reach = np.array([0.0, 0.5])
    assert exposure(reach, 2.0, 0.6, 0.1).tolist() == pytest.approx([0.0, 0.5 * (1 - 0.3**4)])
    # a + q = 1 with float rounding: no NaN from a tiny negative base
    assert float(exposure(0.5, 2.0, 0.9, 0.1)) == pytest.approx(0.5)


def test_e_times_k_is_capped_at_one_in_a_draw():
    x, x_f, w, h = 0.5, 0.2, 0.5, 0.0
    k = np.array([0.1, 0.5])
    e = np.array([2.0, 4.0])  # e k = 0.2, then 2.0 (capped at 1)
    delta = extra_churn(x, x_f, w, k, h, e)
    assert delta[0] == pytest.approx(w * (x + (2.0 - 1) * x_f) * 0.1, rel=1e-12)
    assert delta[1] == pytest.approx(w * (0.5 * (x - x_f) + 1.0 * x_f), rel=1e-12)


# --- break-even -----------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["hybrid", "full_automation"])
def test_break_even_with_one_off_costs_contract_and_npv_versions(worked, scenario):
    f = 3_000_000.0
    p = worked.updated({"implementation_cost": f})
    r = evaluate(p, scenario)
    s, v, n = float(r.annual_savings), float(r.value_per_lost_customer), p.customers
    one_off = f + float(r.severance_cost)
    [(_, used)] = scenario_phases(p, scenario)
    z = (
        used.consider_switch_share
        * (1 - used.escalation_mitigation)
        * (float(r.exposure) + (used.escalation_penalty - 1) * float(r.failed_ai_exposure))
    )
    assert float(r.break_even_churn) == pytest.approx(s / (n * v), rel=1e-12)
    assert float(r.break_even_conversion) == pytest.approx(s / (n * v) / z, rel=1e-12)
    annuity = sum(1.1**-t for t in range(1, 4))
    assert float(r.break_even_conversion_npv) == pytest.approx(
        (s - one_off / annuity) / (n * v * z), rel=1e-12
    )
    at_npv = evaluate(
        p, scenario, overrides={"switch_conversion": float(r.break_even_conversion_npv)}
    )
    assert float(at_npv.npv) == pytest.approx(0.0, abs=1e-6)
    assert float(at_npv.extra_churn) == pytest.approx(float(r.break_even_churn_npv), rel=1e-12)
    # at the contract's annual break-even a year's savings equal a year's loyalty cost
    at_annual = evaluate(
        p, scenario, overrides={"switch_conversion": float(r.break_even_conversion)}
    )
    assert float(at_annual.annual_loyalty_cost) == pytest.approx(s, rel=1e-12)
    assert float(at_annual.npv) == pytest.approx(-one_off, rel=1e-9)


def test_without_one_off_costs_the_horizon_does_not_change_the_sign(worked):
    """No F, no severance: NPV = (S - L) A, so its sign is that of S - L for any T."""
    p = worked.updated({"severance_months": 0.0})
    signs = {
        np.sign(float(evaluate(p, "full_automation", overrides={"horizon_years": t}).npv))
        for t in (1, 3, 10, 30)
    }
    assert len(signs) == 1


def test_break_even_is_negative_when_savings_never_cover_costs(worked):
    p = worked.updated({"ai_fixed_cost_per_year": 50_000_000.0})
    r = evaluate(p, "hybrid")
    assert float(r.break_even_churn) < 0
    assert float(r.break_even_conversion) < 0
    assert float(r.break_even_conversion_npv) < 0
    assert float(r.npv) < 0


def test_undefined_break_even_is_nan_in_arrays_and_none_in_dicts(worked):
    inputs = worked.as_inputs()
    inputs["ai_resolution_share"] = np.array([0.0, 0.6])
    inputs["ai_escalation_share"] = 0.0
    r = compute(inputs)
    for name in ("break_even_conversion", "break_even_conversion_npv"):
        assert math.isnan(getattr(r, name)[0])
        assert np.isfinite(getattr(r, name)[1])
    p = worked.updated({"retention_spend_per_customer": 0.0, "replace_lost_customers": True})
    # V = min(CLV, CAC = 0) = 0: divisor N * V of the break-even churn is 0
    d = evaluate(p, "hybrid").to_dict()
    assert d["value_per_lost_customer"] == 0.0
    for name in (
        "break_even_churn",
        "break_even_conversion",
        "break_even_churn_npv",
        "break_even_conversion_npv",
    ):
        assert d[name] is None


def test_lifetime_value_is_net_of_retention_spend(worked):
    r = evaluate(worked, "hybrid")
    assert float(r.clv) == pytest.approx((180 - 20) * 0.85 / (1.1 - 0.85), rel=1e-12)


def test_replacing_lost_customers_caps_the_loss_at_acquisition_cost(worked):
    p = worked.updated({"replace_lost_customers": True})
    r = evaluate(p, "full_automation", overrides=WORKED_CHECK_OVERRIDES)
    assert float(r.value_per_lost_customer) == pytest.approx(100.0)  # min(544, 5 * 20)


@pytest.mark.parametrize("replace", [False, True])
def test_break_even_under_both_valuations(worked, replace):
    p = worked.updated({"replace_lost_customers": replace})
    both = break_even_both_valuations(p, "full_automation", overrides=WORKED_CHECK_OVERRIDES)
    for suffix, flag in (("clv", False), ("replacement", True)):
        r = evaluate(
            p,
            "full_automation",
            overrides={**WORKED_CHECK_OVERRIDES, "replace_lost_customers": flag},
        )
        assert both[f"npv_{suffix}"] == float(r.npv)
        assert both[f"break_even_conversion_npv_{suffix}"] == float(r.break_even_conversion_npv)
    assert round(both["break_even_conversion_npv_clv"], 10) == 0.0289437092
    # a cheaper lost customer: automation pays up to a higher conversion
    assert both["break_even_conversion_npv_replacement"] > both["break_even_conversion_npv_clv"]
    assert both["npv_replacement"] > both["npv_clv"]


def test_vectorised_path_equals_scalar_path(worked):
    rng = np.random.default_rng(3)
    n = 50
    draws = {
        "switch_conversion": rng.uniform(0, 0.3, n),
        "escalation_penalty": rng.uniform(1, 3, n),
        "cost_ai_contact": rng.uniform(0.1, 2, n),
        "escalation_mitigation": rng.uniform(0, 1, n),
        "acquisition_multiplier": rng.uniform(5, 25, n),
        "contacts_per_customer": rng.uniform(0.5, 4, n),
        "severance_months": rng.uniform(0, 12, n),
        "implementation_cost": rng.uniform(0, 1e6, n),
    }
    for scenario in SCENARIO_NAMES:
        phases = [p.as_inputs() for _, p in scenario_phases(worked, scenario)]
        vector_inputs = [{**ph, **draws} for ph in phases]
        if len(phases) == 1:
            vec = compute(vector_inputs[0])
        else:
            vec = compute_reversal(*vector_inputs)
        for i in range(n):
            scalar_inputs = [{**ph, **{k: float(v[i]) for k, v in draws.items()}} for ph in phases]
            one = (
                compute(scalar_inputs[0]) if len(phases) == 1 else compute_reversal(*scalar_inputs)
            )
            for name in RESULT_FIELDS:
                got = np.broadcast_to(np.asarray(getattr(vec, name), dtype=float), (n,))[i]
                want = float(getattr(one, name))
                if math.isnan(want):
                    assert math.isnan(got), (scenario, name)
                else:
                    assert got == pytest.approx(want, rel=1e-12, abs=1e-9), (scenario, name)


# --- reversal -------------------------------------------------------------------------


def test_reversal_costs_rehiring_and_severance_for_the_year_1_cut(worked):
    rev = evaluate(worked, "reversal")
    full = evaluate(worked, "full_automation")
    hybrid = evaluate(worked, "hybrid")
    # (1 - 0.4)(1 - 0.14) - (1 - 0.6)(1 - 0) = 0.116 of 2M contacts = 232,000 contacts
    agents = 1e6 * 2 * 0.116 / 6000
    assert float(rev.rehiring_cost) == pytest.approx(agents * 6000 * 6.0 / 4)
    # severance is that of the year-1 cut (full automation removes more than hybrid)
    assert float(rev.severance_cost) == pytest.approx(float(full.severance_cost))
    assert float(rev.annual_savings) == pytest.approx(
        (float(full.annual_savings) + 2 * float(hybrid.annual_savings)) / 3
    )
    f = [1.1**-t for t in (1, 2, 3)]
    expected = (
        -float(full.severance_cost)
        + (float(full.annual_savings) - float(full.annual_loyalty_cost)) * f[0]
        - float(rev.rehiring_cost) * f[0]
        + (float(hybrid.annual_savings) - float(hybrid.annual_loyalty_cost)) * (f[1] + f[2])
    )
    assert float(rev.npv) == pytest.approx(expected, rel=1e-12)
    explicit = evaluate(worked, "reversal", overrides={"rehiring_cost_per_agent": 1000.0})
    assert float(explicit.rehiring_cost) == pytest.approx(agents * 1000.0)
    one_year = evaluate(worked, "reversal", overrides={"horizon_years": 1})
    assert float(one_year.rehiring_cost) == 0.0
    assert float(one_year.npv) == pytest.approx(
        float(evaluate(worked, "full_automation", overrides={"horizon_years": 1}).npv)
    )


def test_reversal_pays_severance_again_when_year_2_cuts_more(worked):
    first = {**worked.as_inputs(), "ai_resolution_share": 0.3, "ai_escalation_share": 0.1}
    later = {**worked.as_inputs(), "ai_resolution_share": 0.6, "ai_escalation_share": 0.1}
    r = compute_reversal(first, later)
    # H = N c C_h a (pi = 0): the second cut removes 2M * 6 * 0.3 more, 3 months of it
    year_2_severance = 2e6 * 6 * 0.3 * 3 / 12
    year_0_severance = 2e6 * 6 * 0.3 * 3 / 12
    assert float(r.severance_cost) == pytest.approx(year_0_severance + year_2_severance)
    assert float(r.rehiring_cost) == 0.0
    one, two = compute(first), compute(later)
    f = [1.1**-t for t in (1, 2, 3)]
    expected = (
        -year_0_severance
        - year_2_severance * f[0]
        + (float(one.annual_savings) - float(one.annual_loyalty_cost)) * f[0]
        + (float(two.annual_savings) - float(two.annual_loyalty_cost)) * (f[1] + f[2])
    )
    assert float(r.npv) == pytest.approx(expected, rel=1e-12)


def test_reversal_break_even_is_where_npv_crosses_zero(worked):
    for p in (worked, worked.updated({"implementation_cost": 2_000_000.0})):
        rev = evaluate(p, "reversal")
        k_star = float(rev.break_even_conversion_npv)
        assert p.escalation_penalty * k_star <= 1  # the line is straight up to there
        at = evaluate(p, "reversal", overrides={"switch_conversion": k_star})
        assert float(at.npv) == pytest.approx(0.0, abs=1e-6)
        assert float(at.extra_churn) == pytest.approx(float(rev.break_even_churn_npv), rel=1e-12)


def test_reversal_contract_break_even_is_the_equation_on_horizon_averages(worked):
    p = worked.updated({"implementation_cost": 2_000_000.0})
    rev = evaluate(p, "reversal")
    s, v = float(rev.annual_savings), float(rev.value_per_lost_customer)
    assert float(rev.break_even_churn) == pytest.approx(s / (1e6 * v), rel=1e-12)
    per_unit = float(rev.extra_churn) / p.switch_conversion  # the horizon-average z
    assert float(rev.break_even_conversion) == pytest.approx(
        float(rev.break_even_churn) / per_unit, rel=1e-12
    )
    at = evaluate(p, "reversal", overrides={"switch_conversion": float(rev.break_even_conversion)})
    assert float(at.annual_loyalty_cost) == pytest.approx(s, rel=1e-12)


def test_extensions_are_off_in_base_scenarios(worked):
    cheap = worked.updated({"contacts_per_agent_per_year": 10.0, "rehiring_cost_per_agent": 1e9})
    for name in ("status_quo", "hybrid", "full_automation"):
        assert evaluate(cheap, name).to_dict() == evaluate(worked, name).to_dict()


# --- bad parameters -------------------------------------------------------------------

BAD_CASES = [
    ({"custmers": 5}, ["unknown parameter 'custmers'", "did you mean 'customers'"]),
    (
        {"escalaton_penalty": 2.0},
        ["unknown parameter 'escalaton_penalty'", "did you mean 'escalation_penalty'"],
    ),
    (
        {"severence_months": 2.0},
        ["unknown parameter 'severence_months'", "did you mean 'severance_months'"],
    ),
    ({"margin": 1.5}, ["margin = 1.5", "from 0 to 1"]),
    ({"margin": -0.1}, ["margin = -0.1", "from 0 to 1"]),
    ({"retention_rate": 1.0}, ["retention_rate = 1.0", "below 1"]),
    ({"customers": 0}, ["customers = 0", "integer > 0"]),
    ({"customers": 2.5}, ["customers = 2.5", "integer > 0"]),
    ({"horizon_years": 31}, ["horizon_years = 31", "from 1 to 30"]),
    ({"acquisition_multiplier": 0.5}, ["acquisition_multiplier = 0.5", "from 1 to 1000"]),
    ({"replace_lost_customers": 1}, ["replace_lost_customers = 1", "true or false"]),
    ({"cost_human_contact": "6"}, ["cost_human_contact = '6'", "from 0 to 1e+06"]),
    ({"switch_conversion": float("nan")}, ["switch_conversion = nan", "from 0 to 1"]),
    ({"severance_months": 37.0}, ["severance_months = 37.0", "from 0 to 36"]),
    ({"severance_months": -1.0}, ["severance_months = -1.0", "from 0 to 36"]),
    ({"escalation_penalty": 0.5}, ["escalation_penalty = 0.5", "from 1 to 5"]),
    ({"escalation_penalty": 5.5}, ["escalation_penalty = 5.5", "from 1 to 5"]),
    (
        {"ai_resolution_share": 0.7, "ai_escalation_share": 0.4},
        ["ai_resolution_share + ai_escalation_share", "at most 1"],
    ),
    (
        {"contacts_per_customer": 0.4, "contact_reach": 0.5},
        ["contacts_per_customer = 0.4 is below contact_reach = 0.5"],
    ),
    (
        {"retention_spend_per_customer": 180.0},
        ["retention_spend_per_customer = 180.0 is not below margin * revenue_per_customer"],
    ),
    (
        {"escalation_penalty": 4.0, "switch_conversion": 0.3},
        ["escalation_penalty * switch_conversion = 4.0 * 0.3", "at most 1"],
    ),
]


@pytest.mark.parametrize(("changes", "fragments"), BAD_CASES)
def test_bad_parameters_raise_a_readable_error(changes, fragments):
    with pytest.raises(ParameterError) as info:
        parameters_from_mapping({**WORKED_CHECK, **changes})
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


def test_boundaries_of_the_new_checks_are_allowed():
    p = parameters_from_mapping(
        {
            **WORKED_CHECK,
            "escalation_penalty": 5.0,
            "switch_conversion": 0.2,  # e k = 1 exactly
            "contacts_per_customer": 0.5,  # c = p
            "retention_spend_per_customer": 179.99,
            "severance_months": 36.0,
        }
    )
    assert p.escalation_penalty * p.switch_conversion == 1.0


def test_missing_parameter_is_named():
    values = dict(WORKED_CHECK)
    del values["margin"]
    with pytest.raises(ParameterError, match="margin: missing"):
        parameters_from_mapping(values)


def test_every_problem_is_reported_at_once_field_errors_and_cross_checks():
    with pytest.raises(ParameterError) as info:
        parameters_from_mapping(
            {
                **WORKED_CHECK,
                "margin": -0.5,
                "discount_rate": -1.0,
                "zz": 1,
                "contacts_per_customer": 0.1,
                "escalation_penalty": 5.0,
                "switch_conversion": 0.5,
            }
        )
    message = str(info.value)
    assert "margin = -0.5" in message
    assert "discount_rate = -1.0" in message
    assert "unknown parameter 'zz'" in message
    assert "contacts_per_customer = 0.1 is below contact_reach" in message
    assert "escalation_penalty * switch_conversion" in message
    # the margin is out of range: the check that uses it is skipped, not misreported
    assert "is not below margin" not in message


def test_all_cross_checks_at_once():
    values = {
        **WORKED_CHECK,
        "ai_resolution_share": 0.95,
        "contacts_per_customer": 0.1,
        "retention_spend_per_customer": 500.0,
        "escalation_penalty": 3.0,
        "switch_conversion": 0.5,
    }
    problems = cross_check_problems(values)
    assert len(problems) == 4
    with pytest.raises(ParameterError) as info:
        parameters_from_mapping(values)
    for problem in problems:
        assert problem in str(info.value)


def test_numpy_scalars_are_accepted():
    p = parameters_from_mapping(
        {**WORKED_CHECK, "customers": np.int64(10), "margin": np.float64(0.2)}
    )
    assert p.customers == 10
    assert p.margin == 0.2


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("replace_lost_customers", "TRUE", True),
        ("replace_lost_customers", "false", False),
        ("customers", "1_000_000", 1_000_000),
        ("customers", "1e6", 1_000_000),
        ("margin", "0.25", 0.25),
        ("severance_months", "6", 6.0),
        ("escalation_penalty", "1.5", 1.5),
        ("rehiring_cost_per_agent", "", None),
    ],
)
def test_parse_value_by_type(name, text, expected):
    value = parse_value(name, text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (["margin"], "expected name=value"),
        (["replace_lost_customers=yes"], "true or false"),
        (["customers=1.5"], "not an integer"),
        (["margin=abc"], "not a number"),
        (["margin=inf"], "not a finite number"),
        (["margin=2"], "margin = 2.0 is not allowed"),
        (["marign=0.2"], "did you mean 'margin'"),
        (["severance_months=48"], "severance_months = 48.0 is not allowed"),
        (["escalation_penalty=0"], "escalation_penalty = 0.0 is not allowed"),
    ],
)
def test_parse_assignments_rejects_bad_items(items, fragment):
    with pytest.raises(ParameterError, match=fragment):
        parse_assignments(items)


def test_parse_assignments_with_a_base_names_range_and_cross_check_problems_together(worked):
    with pytest.raises(ParameterError) as info:
        parse_assignments(
            ["severance_months=40", "switch_conversion=0.9", "contacts_per_customer=0.2"],
            base=worked,
        )
    message = str(info.value)
    assert "severance_months = 40.0 is not allowed" in message
    assert "escalation_penalty * switch_conversion = 1.5 * 0.9" in message
    assert "contacts_per_customer = 0.2 is below contact_reach = 0.5" in message
    assert parse_assignments(["switch_conversion=0.5"], base=worked) == {"switch_conversion": 0.5}


def test_unknown_scenario_suggests_the_closest(worked):
    with pytest.raises(ParameterError, match="did you mean 'hybrid'"):
        evaluate(worked, "hybird")
