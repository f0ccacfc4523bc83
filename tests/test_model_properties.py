"""Laws of the model, checked with hypothesis over wide parameter ranges."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cxtradeoff.model import (
    WORKED_CHECK,
    compute_phases,
    evaluate,
    exposure,
    failed_ai_exposure,
    parameters_from_mapping,
    scenario_phases,
)

share = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False)
positive = st.floats(min_value=0.01, max_value=1e4, allow_nan=False)


@st.composite
def profiles(draw):
    values = dict(WORKED_CHECK)
    reach = draw(share)
    revenue = draw(positive)
    margin = draw(st.floats(min_value=1e-3, max_value=1.0))  # g = 0 leaves no s_r < g R
    penalty = draw(st.floats(min_value=1.0, max_value=5.0))
    values.update(
        customers=draw(st.integers(min_value=1, max_value=10_000_000)),
        revenue_per_customer=revenue,
        margin=margin,
        retention_rate=draw(st.floats(min_value=0.0, max_value=0.99, allow_subnormal=False)),
        discount_rate=draw(share),
        horizon_years=draw(st.integers(min_value=1, max_value=30)),
        contact_reach=reach,
        # c >= p: at least one contact per contacting customer
        contacts_per_customer=reach + draw(st.floats(min_value=0.0, max_value=20.0)),
        cost_human_contact=draw(st.floats(min_value=0.0, max_value=50.0)),
        cost_ai_contact=draw(st.floats(min_value=0.0, max_value=5.0)),
        ai_fixed_cost_per_year=draw(st.floats(min_value=0.0, max_value=1e7)),
        implementation_cost=draw(st.floats(min_value=0.0, max_value=1e7)),
        severance_months=draw(st.floats(min_value=0.0, max_value=36.0)),
        consider_switch_share=draw(share),
        escalation_penalty=penalty,
        switch_conversion=draw(st.floats(min_value=0.0, max_value=1.0 / penalty)),
        # s_r < g R: a customer is worth something
        retention_spend_per_customer=margin * revenue * draw(st.floats(0.0, 0.99)),
        acquisition_multiplier=draw(st.floats(min_value=1.0, max_value=30.0)),
        replace_lost_customers=draw(st.booleans()),
    )
    return parameters_from_mapping(values)


SCENARIOS = st.sampled_from(["hybrid", "full_automation", "reversal"])


@settings(max_examples=150)
@given(params=profiles(), scenario=SCENARIOS, low=st.floats(0, 40), extra=st.floats(0.01, 40))
def test_savings_rise_with_cost_of_a_human_contact(params, scenario, low, extra):
    assume(params.contacts_per_customer >= 0.1)
    cheap = evaluate(params, scenario, overrides={"cost_human_contact": low})
    dear = evaluate(params, scenario, overrides={"cost_human_contact": low + extra})
    assert float(dear.annual_savings) > float(cheap.annual_savings)


@settings(max_examples=150)
@given(params=profiles(), scenario=SCENARIOS, k1=share, k2=share)
def test_npv_falls_as_switch_conversion_rises(params, scenario, k1, k2):
    lo, hi = sorted((k1 / params.escalation_penalty, k2 / params.escalation_penalty))
    npv_lo = float(evaluate(params, scenario, overrides={"switch_conversion": lo}).npv)
    npv_hi = float(evaluate(params, scenario, overrides={"switch_conversion": hi}).npv)
    assert npv_hi <= npv_lo + 1e-9 * max(1.0, abs(npv_lo))


@settings(max_examples=150)
@given(
    params=profiles(),
    scenario=SCENARIOS,
    e1=st.floats(1.0, 5.0),
    e2=st.floats(1.0, 5.0),
)
def test_npv_falls_as_escalation_penalty_rises(params, scenario, e1, e2):
    lo, hi = sorted((e1, e2))
    k = min(params.switch_conversion, 1.0 / hi)
    npv_lo = float(
        evaluate(params, scenario, overrides={"escalation_penalty": lo, "switch_conversion": k}).npv
    )
    npv_hi = float(
        evaluate(params, scenario, overrides={"escalation_penalty": hi, "switch_conversion": k}).npv
    )
    assert npv_hi <= npv_lo + 1e-9 * max(1.0, abs(npv_lo))


@settings(max_examples=300)
@given(
    reach=share,
    extra_contacts=st.floats(0.0, 50.0),
    a=share,
    q=share,
)
def test_failed_exposure_within_exposure_within_reach(reach, extra_contacts, a, q):
    assume(a + q <= 1)
    c = reach + extra_contacts
    x = float(exposure(reach, c, a, q))
    x_f = float(failed_ai_exposure(reach, c, q))
    assert 0.0 <= x_f <= x + 1e-15
    assert x <= reach + 1e-15


@settings(max_examples=150)
@given(params=profiles(), scenario=SCENARIOS)
def test_failed_exposure_within_exposure_in_every_scenario(params, scenario):
    r = evaluate(params, scenario)
    assert 0.0 <= float(r.failed_ai_exposure) <= float(r.exposure) + 1e-15
    assert float(r.exposure) <= params.contact_reach + 1e-15


def _assert_npv_crosses_zero_at(params, scenario, r, k_star: float) -> None:
    # the equations hold for any k, so evaluate them at k* even outside 0..1
    phases = [p.as_inputs() for _, p in scenario_phases(params, scenario)]

    def npv_at(k: float) -> float:
        return float(compute_phases([{**ph, "switch_conversion": k} for ph in phases]).npv)

    scale = max(
        1.0,
        abs(float(r.annual_savings)) * params.horizon_years,
        abs(float(r.rehiring_cost)),
        params.implementation_cost,
        abs(float(r.severance_cost)),
        abs(npv_at(0.0)),
    )
    if params.escalation_penalty * k_star <= 1:
        assert npv_at(k_star) == pytest.approx(0.0, abs=1e-9 * scale)
    else:  # e * k capped at 1 there: fewer leave than the straight line says
        assert npv_at(k_star) >= -1e-9 * scale
    step = max(abs(k_star), 1e-3) * 0.1
    assert npv_at(k_star - step) >= npv_at(k_star + step) - 1e-12 * scale


@settings(max_examples=150)
@given(params=profiles(), scenario=SCENARIOS)
def test_npv_crosses_zero_at_the_break_even_conversion(params, scenario):
    r = evaluate(params, scenario)
    k_star = float(r.break_even_conversion_npv)
    assume(math.isfinite(k_star) and abs(k_star) < 1e6)  # k* beyond 1e6 overflows NPV(k*)
    _assert_npv_crosses_zero_at(params, scenario, r, k_star)


@settings(max_examples=100)
@given(params=profiles(), scenario=st.sampled_from(["hybrid", "full_automation"]))
def test_without_one_off_costs_the_contract_break_even_is_where_npv_crosses_zero(params, scenario):
    params = params.updated({"implementation_cost": 0.0, "severance_months": 0.0})
    r = evaluate(params, scenario)
    k_star = float(r.break_even_conversion)
    assume(math.isfinite(k_star) and abs(k_star) < 1e6)
    assert k_star == pytest.approx(float(r.break_even_conversion_npv), rel=1e-12, abs=1e-300)
    assert float(r.break_even_churn) == float(r.break_even_churn_npv)
    _assert_npv_crosses_zero_at(params, scenario, r, k_star)


@settings(max_examples=100)
@given(params=profiles(), scenario=st.sampled_from(["hybrid", "full_automation"]))
def test_without_one_off_costs_the_sign_of_npv_does_not_depend_on_the_horizon(params, scenario):
    params = params.updated({"implementation_cost": 0.0, "severance_months": 0.0})
    one = float(evaluate(params, scenario, overrides={"horizon_years": 1}).npv)
    many = float(evaluate(params, scenario, overrides={"horizon_years": 30}).npv)
    assert math.copysign(1.0, one) == math.copysign(1.0, many) or one == many == 0.0


@settings(max_examples=100)
@given(params=profiles())
def test_status_quo_gives_zero(params):
    r = evaluate(params, "status_quo")
    assert float(r.npv) == 0.0
    assert float(r.annual_savings) == 0.0
    assert float(r.annual_loyalty_cost) == 0.0
    assert float(r.severance_cost) == 0.0
    assert float(r.customers_lost_per_year) == 0.0
