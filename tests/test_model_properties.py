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
    parameters_from_mapping,
    scenario_phases,
)

share = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False)
positive = st.floats(min_value=0.01, max_value=1e4, allow_nan=False)


@st.composite
def profiles(draw):
    values = dict(WORKED_CHECK)
    values.update(
        customers=draw(st.integers(min_value=1, max_value=10_000_000)),
        revenue_per_customer=draw(positive),
        margin=draw(share),
        retention_rate=draw(st.floats(min_value=0.0, max_value=0.99, allow_subnormal=False)),
        discount_rate=draw(share),
        horizon_years=draw(st.integers(min_value=1, max_value=30)),
        contacts_per_customer=draw(st.floats(min_value=0.0, max_value=20.0, allow_subnormal=False)),
        contact_reach=draw(share),
        cost_human_contact=draw(st.floats(min_value=0.0, max_value=50.0)),
        cost_ai_contact=draw(st.floats(min_value=0.0, max_value=5.0)),
        ai_fixed_cost_per_year=draw(st.floats(min_value=0.0, max_value=1e7)),
        implementation_cost=draw(st.floats(min_value=0.0, max_value=1e7)),
        consider_switch_share=draw(share),
        switch_conversion=draw(share),
        retention_spend_per_customer=draw(st.floats(min_value=0.0, max_value=1e3)),
        acquisition_multiplier=draw(st.floats(min_value=1.0, max_value=30.0)),
        replace_lost_customers=draw(st.booleans()),
    )
    return parameters_from_mapping(values)


SCENARIOS = st.sampled_from(["hybrid", "full_automation", "reversal"])


@settings(max_examples=150, deadline=None)
@given(params=profiles(), scenario=SCENARIOS, low=st.floats(0, 40), extra=st.floats(0.01, 40))
def test_savings_rise_with_cost_of_a_human_contact(params, scenario, low, extra):
    assume(params.contacts_per_customer >= 0.1)
    cheap = evaluate(params, scenario, overrides={"cost_human_contact": low})
    dear = evaluate(params, scenario, overrides={"cost_human_contact": low + extra})
    assert float(dear.annual_savings) > float(cheap.annual_savings)


@settings(max_examples=150, deadline=None)
@given(params=profiles(), scenario=SCENARIOS, k1=share, k2=share)
def test_npv_falls_as_switch_conversion_rises(params, scenario, k1, k2):
    lo, hi = sorted((k1, k2))
    npv_lo = float(evaluate(params, scenario, overrides={"switch_conversion": lo}).npv)
    npv_hi = float(evaluate(params, scenario, overrides={"switch_conversion": hi}).npv)
    assert npv_hi <= npv_lo + 1e-9 * max(1.0, abs(npv_lo))


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
        abs(npv_at(0.0)),
    )
    assert npv_at(k_star) == pytest.approx(0.0, abs=1e-9 * scale)
    step = max(abs(k_star), 1e-3) * 0.1
    assert npv_at(k_star - step) >= npv_at(k_star + step)


@settings(max_examples=150, deadline=None)
@given(params=profiles(), scenario=SCENARIOS)
def test_npv_crosses_zero_at_the_break_even_conversion(params, scenario):
    r = evaluate(params, scenario)
    k_star = float(r.break_even_conversion_npv)
    assume(math.isfinite(k_star) and abs(k_star) < 1e6)  # k* beyond 1e6 overflows NPV(k*)
    _assert_npv_crosses_zero_at(params, scenario, r, k_star)


@settings(max_examples=100, deadline=None)
@given(params=profiles(), scenario=st.sampled_from(["hybrid", "full_automation"]))
def test_without_a_one_off_cost_the_contract_break_even_is_where_npv_crosses_zero(params, scenario):
    params = params.updated({"implementation_cost": 0.0})
    r = evaluate(params, scenario)
    k_star = float(r.break_even_conversion)
    assume(math.isfinite(k_star) and abs(k_star) < 1e6)
    assert k_star == pytest.approx(float(r.break_even_conversion_npv), rel=1e-12, abs=1e-300)
    assert float(r.break_even_churn) == float(r.break_even_churn_npv)
    _assert_npv_crosses_zero_at(params, scenario, r, k_star)


@settings(max_examples=100, deadline=None)
@given(params=profiles())
def test_status_quo_gives_zero(params):
    r = evaluate(params, "status_quo")
    assert float(r.npv) == 0.0
    assert float(r.annual_savings) == 0.0
    assert float(r.annual_loyalty_cost) == 0.0
    assert float(r.customers_lost_per_year) == 0.0
