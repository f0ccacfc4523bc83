"""The model: the contract's worked check, parameter validation, scenarios, reversal."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from cxtradeoff.errors import ParameterError
from cxtradeoff.model import (
    RESULT_FIELDS,
    SCENARIO_NAMES,
    WORKED_CHECK,
    compute,
    compute_reversal,
    evaluate,
    parameters_from_mapping,
    parse_assignments,
    parse_value,
    scenario_phases,
)

WORKED_OVERRIDES = {"ai_escalation_share": 0.0, "escalation_mitigation": 0.0}


@pytest.fixture
def worked():
    return parameters_from_mapping(WORKED_CHECK)


def test_worked_check_matches_the_contract_to_1e_9(worked):
    r = evaluate(worked, "full_automation", overrides=WORKED_OVERRIDES)
    # exact arithmetic for the reference values
    npv_exact = Fraction(5_740_000 - 4_865_400) * sum(Fraction(10, 11) ** t for t in range(1, 4))
    assert float(npv_exact) == pytest.approx(2_175_000.75, abs=0.005)
    assert float(r.margin_per_customer) == pytest.approx(180, rel=1e-9)
    assert float(r.clv) == pytest.approx(612, rel=1e-9)
    assert float(r.value_per_lost_customer) == pytest.approx(612, rel=1e-9)
    assert float(r.exposure) == pytest.approx(0.30, rel=1e-9)
    assert float(r.extra_churn) == pytest.approx(0.00795, rel=1e-9)
    assert float(r.customers_lost_per_year) == pytest.approx(7950, rel=1e-9)
    assert float(r.annual_savings) == pytest.approx(5_740_000, rel=1e-9)
    assert float(r.annual_loyalty_cost) == pytest.approx(4_865_400, rel=1e-9)
    assert float(r.npv) == pytest.approx(float(npv_exact), rel=1e-9)
    # F = 0: the contract's break-even and the NPV = 0 one are the same figures
    for churn, conversion in (
        (r.break_even_churn, r.break_even_conversion),
        (r.break_even_churn_npv, r.break_even_conversion_npv),
    ):
        assert float(churn) == pytest.approx(5.74 / 612, rel=1e-9)
        assert round(float(churn), 5) == 0.00938
        assert float(conversion) == pytest.approx(5.74 / 612 / (0.30 * 0.53), rel=1e-9)
        assert round(float(conversion), 3) == 0.059


def test_result_fields_are_the_contract_outputs():
    for name in (
        "margin_per_customer",
        "clv",
        "value_per_lost_customer",
        "exposure",
        "extra_churn",
        "customers_lost_per_year",
        "annual_savings",
        "annual_loyalty_cost",
        "npv",
        "break_even_churn",
        "break_even_conversion",
        "break_even_churn_npv",
        "break_even_conversion_npv",
    ):
        assert name in RESULT_FIELDS


def test_status_quo_is_exactly_zero_even_with_ai_costs_in_the_profile(worked):
    r = evaluate(worked, "status_quo").to_dict()
    assert r["annual_savings"] == 0.0
    assert r["annual_loyalty_cost"] == 0.0
    assert r["npv"] == 0.0
    assert r["break_even_conversion"] is None  # divisor x * w * (1 - h) is 0
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


@pytest.mark.parametrize("scenario", ["hybrid", "full_automation"])
def test_break_even_with_a_one_off_cost_contract_and_npv_versions(worked, scenario):
    f = 3_000_000.0
    p = worked.updated({"implementation_cost": f})
    r = evaluate(p, scenario)
    s, v, n = float(r.annual_savings), float(r.value_per_lost_customer), p.customers
    [(_, used)] = scenario_phases(p, scenario)
    divisor = float(r.exposure) * used.consider_switch_share * (1 - used.escalation_mitigation)
    # the contract's literal equations
    assert float(r.break_even_churn) == pytest.approx(s / (n * v), rel=1e-12)
    assert float(r.break_even_conversion) == pytest.approx(s / (n * v) / divisor, rel=1e-12)
    # the NPV version spreads F over the horizon: NPV is 0 there
    annuity = sum(1.1**-t for t in range(1, 4))
    assert float(r.break_even_churn_npv) == pytest.approx((s - f / annuity) / (n * v), rel=1e-12)
    assert float(r.break_even_conversion_npv) == pytest.approx(
        float(r.break_even_churn_npv) / divisor, rel=1e-12
    )
    at_npv = evaluate(
        p, scenario, overrides={"switch_conversion": float(r.break_even_conversion_npv)}
    )
    assert float(at_npv.npv) == pytest.approx(0.0, abs=1e-6)
    assert float(at_npv.extra_churn) == pytest.approx(float(r.break_even_churn_npv), rel=1e-12)
    # at the contract's break-even a year's savings equal a year's loyalty cost: NPV = -F
    at_annual = evaluate(
        p, scenario, overrides={"switch_conversion": float(r.break_even_conversion)}
    )
    assert float(at_annual.annual_loyalty_cost) == pytest.approx(s, rel=1e-12)
    assert float(at_annual.npv) == pytest.approx(-f, rel=1e-9)
    assert float(r.break_even_churn_npv) < float(r.break_even_churn)


def test_break_even_is_negative_when_savings_never_cover_costs(worked):
    p = worked.updated({"ai_fixed_cost_per_year": 50_000_000.0})
    r = evaluate(p, "hybrid")
    assert float(r.break_even_churn) < 0
    assert float(r.break_even_conversion) < 0
    assert float(r.break_even_churn_npv) < 0
    assert float(r.break_even_conversion_npv) < 0
    assert float(r.npv) < 0


def test_undefined_break_even_is_nan_in_arrays_and_none_in_dicts(worked):
    inputs = worked.as_inputs()
    inputs["ai_resolution_share"] = np.array([0.0, 0.6])
    r = compute(inputs)
    for name in ("break_even_conversion", "break_even_conversion_npv"):
        assert math.isnan(getattr(r, name)[0])
        assert np.isfinite(getattr(r, name)[1])
    p = worked.updated({"retention_spend_per_customer": 0.0, "replace_lost_customers": True})
    # V = min(CLV, 0) = 0: divisor N * V of the break-even churn is 0
    d = evaluate(p, "hybrid").to_dict()
    assert d["value_per_lost_customer"] == 0.0
    for name in (
        "break_even_churn",
        "break_even_conversion",
        "break_even_churn_npv",
        "break_even_conversion_npv",
    ):
        assert d[name] is None


def test_replacing_lost_customers_caps_the_loss_at_acquisition_cost(worked):
    p = worked.updated({"replace_lost_customers": True})
    r = evaluate(p, "full_automation", overrides=WORKED_OVERRIDES)
    assert float(r.value_per_lost_customer) == pytest.approx(100.0)  # min(612, 5 * 20)


def test_vectorised_path_equals_scalar_path(worked):
    rng = np.random.default_rng(3)
    n = 50
    draws = {
        "switch_conversion": rng.uniform(0, 0.3, n),
        "cost_ai_contact": rng.uniform(0.1, 2, n),
        "escalation_mitigation": rng.uniform(0, 1, n),
        "acquisition_multiplier": rng.uniform(5, 25, n),
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


def test_reversal_costs_rehiring_and_sits_between_its_phases(worked):
    rev = evaluate(worked, "reversal")
    full = evaluate(worked, "full_automation")
    # (1 - 0.4)(1 - 0.14) - (1 - 0.6)(1 - 0) = 0.116 of 2M contacts = 232,000 contacts
    agents = 1e6 * 2 * 0.116 / 6000
    assert float(rev.rehiring_cost) == pytest.approx(agents * 6000 * 6.0 / 4)
    assert float(rev.annual_savings) == pytest.approx(
        (float(full.annual_savings) + 2 * float(evaluate(worked, "hybrid").annual_savings)) / 3
    )
    explicit = evaluate(worked, "reversal", overrides={"rehiring_cost_per_agent": 1000.0})
    assert float(explicit.rehiring_cost) == pytest.approx(agents * 1000.0)
    one_year = evaluate(worked, "reversal", overrides={"horizon_years": 1})
    assert float(one_year.rehiring_cost) == 0.0
    assert float(one_year.npv) == pytest.approx(
        float(evaluate(worked, "full_automation", overrides={"horizon_years": 1}).npv)
    )


def test_reversal_break_even_is_where_npv_crosses_zero(worked):
    for p in (worked, worked.updated({"implementation_cost": 2_000_000.0})):
        rev = evaluate(p, "reversal")
        k_star = float(rev.break_even_conversion_npv)
        at = evaluate(p, "reversal", overrides={"switch_conversion": k_star})
        assert float(at.npv) == pytest.approx(0.0, abs=1e-6)
        assert float(at.extra_churn) == pytest.approx(float(rev.break_even_churn_npv), rel=1e-12)


def test_reversal_contract_break_even_is_the_equation_on_horizon_averages(worked):
    p = worked.updated({"implementation_cost": 2_000_000.0})
    rev = evaluate(p, "reversal")
    s, v = float(rev.annual_savings), float(rev.value_per_lost_customer)
    assert float(rev.break_even_churn) == pytest.approx(s / (1e6 * v), rel=1e-12)
    # k* = delta* / (average extra churn per unit of conversion)
    per_unit = float(rev.extra_churn) / p.switch_conversion
    assert float(rev.break_even_conversion) == pytest.approx(
        float(rev.break_even_churn) / per_unit, rel=1e-12
    )
    # at k*, the horizon-average loyalty cost equals the horizon-average savings
    at = evaluate(p, "reversal", overrides={"switch_conversion": float(rev.break_even_conversion)})
    assert float(at.annual_loyalty_cost) == pytest.approx(s, rel=1e-12)


def test_extensions_are_off_in_base_scenarios(worked):
    cheap = worked.updated({"contacts_per_agent_per_year": 10.0, "rehiring_cost_per_agent": 1e9})
    for name in ("status_quo", "hybrid", "full_automation"):
        assert evaluate(cheap, name).to_dict() == evaluate(worked, name).to_dict()


# --- bad parameters -----------------------------------------------------------------

BAD_CASES = [
    ({"custmers": 5}, ["unknown parameter 'custmers'", "did you mean 'customers'"]),
    ({"margin": 1.5}, ["margin = 1.5", "from 0 to 1"]),
    ({"margin": -0.1}, ["margin = -0.1", "from 0 to 1"]),
    ({"retention_rate": 1.0}, ["retention_rate = 1.0", "below 1"]),
    ({"customers": 0}, ["customers = 0", "integer > 0"]),
    ({"customers": 2.5}, ["customers = 2.5", "integer > 0"]),
    ({"horizon_years": 31}, ["horizon_years = 31", "from 1 to 30"]),
    ({"acquisition_multiplier": 0.5}, ["acquisition_multiplier = 0.5", ">= 1"]),
    ({"replace_lost_customers": 1}, ["replace_lost_customers = 1", "true or false"]),
    ({"cost_human_contact": "6"}, ["cost_human_contact = '6'", ">= 0"]),
    ({"switch_conversion": float("nan")}, ["switch_conversion = nan", "from 0 to 1"]),
    (
        {"ai_resolution_share": 0.7, "ai_escalation_share": 0.4},
        ["ai_resolution_share + ai_escalation_share", "at most 1"],
    ),
]


@pytest.mark.parametrize(("changes", "fragments"), BAD_CASES)
def test_bad_parameters_raise_a_readable_error(changes, fragments):
    with pytest.raises(ParameterError) as info:
        parameters_from_mapping({**WORKED_CHECK, **changes})
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


def test_missing_parameter_is_named():
    values = dict(WORKED_CHECK)
    del values["margin"]
    with pytest.raises(ParameterError, match="margin: missing"):
        parameters_from_mapping(values)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ParameterError) as info:
        parameters_from_mapping({**WORKED_CHECK, "margin": 2.0, "discount_rate": -1.0, "zz": 1})
    message = str(info.value)
    assert "margin = 2.0" in message
    assert "discount_rate = -1.0" in message
    assert "unknown parameter 'zz'" in message


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
    ],
)
def test_parse_assignments_rejects_bad_items(items, fragment):
    with pytest.raises(ParameterError, match=fragment):
        parse_assignments(items)


def test_unknown_scenario_suggests_the_closest(worked):
    with pytest.raises(ParameterError, match="did you mean 'hybrid'"):
        evaluate(worked, "hybird")
