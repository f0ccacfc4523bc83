"""Uncertainty: the registry, reproducible Monte Carlo on common draws, tornado, grid."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxtradeoff.errors import ParameterError
from cxtradeoff.model import (
    PARAMETER_NAMES,
    SCENARIO_NAMES,
    WORKED_CHECK,
    evaluate,
    parameters_from_mapping,
    scenario_phases,
)
from cxtradeoff.uncertainty import (
    DISTRIBUTIONS,
    FIXED_INPUTS,
    Shape,
    distribution_table,
    distributions_frame,
    draw_random,
    fixed_inputs_frame,
    monte_carlo,
    npv_grid,
    probability_conversion_below,
    random_numbers,
    sample_phases,
    simulate,
    tornado,
)


@pytest.fixture
def base():
    return parameters_from_mapping(WORKED_CHECK)


# --- the registry -----------------------------------------------------------------------


def test_the_registry_covers_both_sides_and_every_input_is_uncertain_or_fixed():
    frame = distributions_frame()
    assert list(frame["parameter"]) == [d.parameter for d in DISTRIBUTIONS]
    uncertain = set(frame["parameter"])
    assert uncertain == {
        # loyalty side
        "consider_switch_share",
        "switch_conversion",
        "escalation_penalty",
        "escalation_mitigation",
        "acquisition_multiplier",
        # savings side
        "cost_ai_contact",
        "assist_productivity",
        "ai_resolution_share",
        "contacts_per_customer",
        "cost_human_contact",
        "ai_fixed_cost_per_year",
        "implementation_cost",
        "severance_months",
    }
    fixed = fixed_inputs_frame()
    assert set(fixed["parameter"]) == set(FIXED_INPUTS)
    assert uncertain.isdisjoint(FIXED_INPUTS)
    assert uncertain | set(FIXED_INPUTS) == set(PARAMETER_NAMES)
    assert frame["basis"].str.len().min() > 40
    assert fixed["reason"].str.len().min() > 10


def test_the_bases_cite_the_evidence():
    basis = distributions_frame().set_index("parameter")["basis"]
    assert "14%" in basis["ai_resolution_share"]
    assert "Gartner 2024" in basis["ai_resolution_share"]
    assert "14%" in basis["assist_productivity"]
    assert "Quarterly Journal of Economics 2025" in basis["assist_productivity"]
    assert "25" in basis["acquisition_multiplier"]
    assert "53%" in basis["consider_switch_share"]
    assert "83%" in basis["escalation_penalty"]


def test_distributions_at_the_worked_checks_base_values(base):
    table = distribution_table(base, "hybrid").set_index("parameter")
    described = table["distribution"]
    assert described["consider_switch_share"] == "triangular(0.45, 0.53, 0.64)"
    assert described["acquisition_multiplier"] == "triangular(5, 5, 25)"
    assert described["cost_ai_contact"] == "triangular(0.1, 0.8, 2)"
    assert described["assist_productivity"] == "triangular(0.05, 0.14, 0.35)"
    assert described["escalation_penalty"] == "triangular(1, 1.5, 3)"
    assert described["ai_resolution_share"] == "PERT beta on [0.14, 0.8], mode 0.4"
    assert described["contacts_per_customer"] == "triangular(1.5, 2, 2.5)"
    assert described["cost_human_contact"] == "triangular(4.5, 6, 7.5)"
    assert described["ai_fixed_cost_per_year"] == "triangular(4e+05, 5e+05, 7.5e+05)"
    assert described["implementation_cost"] == "fixed at 0"  # F = 0: nothing to overrun
    assert described["severance_months"] == "triangular(1.5, 3, 4.5)"
    assert "[0.5, 0.9], mode 0.7" in described["escalation_mitigation"]
    k = table.loc["switch_conversion"]
    assert k["p50"] == pytest.approx(0.05)
    assert "0.01 to 0.25" in k["distribution"]
    full = distribution_table(base, "full_automation").set_index("parameter")
    assert "[0, 0.3], mode 0.15" in full.loc["escalation_mitigation", "distribution"]
    assert full.loc["assist_productivity", "distribution"] == "fixed at 0"
    assert full.loc["ai_resolution_share", "distribution"] == "PERT beta on [0.14, 0.8], mode 0.6"
    sq = distribution_table(base, "status_quo")
    assert set(sq["distribution"].str.startswith("fixed")) == {True}


def test_bounds_keep_the_contracts_checks_in_every_draw(base):
    tight = base.updated(
        {"ai_escalation_share": 0.3, "contact_reach": 1.0, "contacts_per_customer": 1.1}
    )
    [(kind, p)] = scenario_phases(tight, "full_automation", overrides={"ai_escalation_share": 0.3})
    [drawn] = sample_phases([(kind, p)], draw_random(20_000, 3))
    assert np.all(drawn["ai_resolution_share"] + p.ai_escalation_share <= 1 + 1e-12)
    assert np.all(drawn["contacts_per_customer"] >= p.contact_reach)
    assert drawn["ai_resolution_share"].max() <= 0.7 + 1e-12


def test_lognormal_prior_has_the_stated_90_percent_interval():
    shape = Shape("lognormal", 0.0, 0.05, 1.0, math.log(5) / 1.6448536269514722)
    assert shape.quantile(0.05) == pytest.approx(0.01, rel=1e-6)
    assert shape.quantile(0.95) == pytest.approx(0.25, rel=1e-6)
    z = np.random.default_rng(0).standard_normal(200_000)
    draws = shape.sample(z)
    assert np.quantile(draws, 0.5) == pytest.approx(0.05, rel=0.02)
    assert draws.max() <= 1.0
    capped = Shape("lognormal", 0.0, 0.5, 1.0, 2.0).sample(z)
    assert capped.max() == 1.0


@pytest.mark.parametrize(
    "shape",
    [
        Shape("triangular", 0.45, 0.53, 0.64),
        Shape("uniform", 5.0, 5.0, 25.0),
        Shape("beta", 0.5, 0.7, 0.9),
        Shape("beta", 0.0, 0.05, 0.3),
        Shape("beta", 0.14, 0.6, 0.8),
    ],
)
def test_sampled_quantiles_agree_with_the_quantile_function(shape):
    u = np.random.default_rng(1).random(200_000)
    draws = shape.sample(u)
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(draws, q) == pytest.approx(shape.quantile(q), abs=0.01 * shape.high)
    assert draws.min() >= shape.low - 1e-12
    assert draws.max() <= shape.high + 1e-12


def test_pert_beta_mean_is_the_pert_mean():
    for lo, mode, hi in ((0.0, 0.05, 0.3), (0.14, 0.6, 0.8)):
        shape = Shape("beta", lo, mode, hi)
        u = np.random.default_rng(2).random(400_000)
        assert shape.sample(u).mean() == pytest.approx((lo + 4 * mode + hi) / 6, abs=1e-3)


def test_pert_quantile_function_is_monotone_and_hits_its_ends():
    shape = Shape("beta", 0.14, 0.6, 0.8)
    u = np.linspace(0.0, 1.0, 100_001)
    values = shape.ppf(u)
    assert np.all(np.diff(values) >= 0)
    assert values[0] == pytest.approx(0.14, abs=1e-12)
    assert values[-1] == pytest.approx(0.8, abs=1e-12)


# --- Monte Carlo ------------------------------------------------------------------------


def test_same_seed_gives_identical_bits_and_another_seed_differs(base):
    one = simulate(base, SCENARIO_NAMES, draws=5000, seed=42)
    two = simulate(base, SCENARIO_NAMES, draws=5000, seed=42)
    other = simulate(base, SCENARIO_NAMES, draws=5000, seed=43)
    assert one.npv.tobytes() == two.npv.tobytes()
    assert one.conversion.tobytes() == two.conversion.tobytes()
    assert one.npv.tobytes() != other.npv.tobytes()


def test_figures_do_not_depend_on_the_chunk_size(base):
    whole = simulate(base, SCENARIO_NAMES, draws=3001, seed=7, chunk_size=10_000)
    for chunk in (1, 777, 3000):
        parts = simulate(base, SCENARIO_NAMES, draws=3001, seed=7, chunk_size=chunk)
        assert parts.npv.tobytes() == whole.npv.tobytes()
        assert parts.conversion.tobytes() == whole.conversion.tobytes()
    # and a longer run starts with the same draws
    longer = simulate(base, SCENARIO_NAMES, draws=5000, seed=7)
    assert longer.npv[:, :3001].tobytes() == whole.npv.tobytes()
    chunks = list(random_numbers(10, 7, chunk_size=4))
    assert [c.shape[1] for c in chunks] == [4, 4, 2]
    assert np.concatenate(chunks, axis=1).tobytes() == draw_random(10, 7).tobytes()


def test_monte_carlo_of_one_scenario_is_the_simulations_row(base):
    sim = simulate(base, SCENARIO_NAMES, draws=4000, seed=5)
    for name in SCENARIO_NAMES:
        mc = monte_carlo(base, name, draws=4000, seed=5)
        assert mc.npv.tobytes() == sim.npv_of(name).tobytes(), name


def test_monte_carlo_summary(base):
    mc = monte_carlo(base, "full_automation", draws=20_000, seed=5)
    assert mc.npv.shape == (20_000,)
    assert mc.npv_p10 < mc.npv_p50 < mc.npv_p90
    assert mc.npv_mean == pytest.approx(float(np.mean(mc.npv)))
    assert mc.p_loss == pytest.approx(float(np.mean(mc.npv < 0)))
    assert 0.0 < mc.p_loss < 1.0
    assert mc.npv_p10 == pytest.approx(np.percentile(mc.npv, 10))
    sq = monte_carlo(base, "status_quo", draws=100, seed=5)
    assert sq.summary() == {
        "npv_mean": 0.0,
        "npv_p10": 0.0,
        "npv_p50": 0.0,
        "npv_p90": 0.0,
        "p_loss": 0.0,
    }


def test_scenarios_share_their_draws(base):
    """Common random numbers: an input with the same distribution gets the same draws."""
    random = draw_random(2000, 9)
    hybrid = sample_phases(scenario_phases(base, "hybrid"), random)[0]
    full = sample_phases(scenario_phases(base, "full_automation"), random)[0]
    rev_full, rev_hybrid = sample_phases(scenario_phases(base, "reversal"), random)
    for name in (
        "switch_conversion",
        "consider_switch_share",
        "escalation_penalty",
        "cost_human_contact",
        "contacts_per_customer",
        "severance_months",
    ):
        assert hybrid[name].tobytes() == full[name].tobytes(), name
    # a has a different distribution per scenario, driven by the same uniforms: the
    # draws rank the same way (comonotone)
    np.testing.assert_array_equal(
        np.argsort(hybrid["ai_resolution_share"]), np.argsort(full["ai_resolution_share"])
    )
    # the reversal's phases are the two scenarios, draw for draw
    assert rev_full["ai_resolution_share"].tobytes() == full["ai_resolution_share"].tobytes()
    assert rev_hybrid["assist_productivity"].tobytes() == hybrid["assist_productivity"].tobytes()
    sim = simulate(base, SCENARIO_NAMES, draws=2000, seed=9)
    np.testing.assert_array_equal(sim.conversion, hybrid["switch_conversion"])


def test_savings_side_varies_in_the_draws(base):
    mc = monte_carlo(base, "hybrid", draws=5000, seed=1)
    savings = np.asarray(mc.result.annual_savings)
    assert savings.std() > 0.05 * abs(savings.mean())
    assert np.asarray(mc.result.severance_cost).std() > 0


def test_e_times_k_above_one_is_capped_in_a_draw(base):
    risky = base.updated({"switch_conversion": 0.3, "escalation_penalty": 3.0})
    mc = monte_carlo(risky, "full_automation", draws=20_000, seed=3)
    r = mc.result
    random = draw_random(20_000, 3)
    [drawn] = sample_phases(scenario_phases(risky, "full_automation"), random)
    product = drawn["escalation_penalty"] * drawn["switch_conversion"]
    assert np.any(product > 1)
    w, h = drawn["consider_switch_share"], drawn["escalation_mitigation"]
    # no more than every exposed customer who would consider switching leaves
    assert np.all(np.asarray(r.extra_churn) <= w * (1 - h) * np.asarray(r.exposure) + 1e-15)
    assert np.all(np.isfinite(mc.npv))


def test_status_quo_is_zero_in_every_draw(base):
    sim = simulate(base, SCENARIO_NAMES, draws=1000, seed=2)
    assert not np.any(sim.npv_of("status_quo"))


@pytest.mark.parametrize(("draws", "seed"), [(0, 1), (-5, 1), (10, -1), (2.5, 1), (True, 1)])
def test_bad_draws_or_seed(draws, seed):
    with pytest.raises(ParameterError):
        draw_random(draws, seed)


def test_simulate_names_bad_scenarios(base):
    with pytest.raises(ParameterError, match="did you mean 'hybrid'"):
        simulate(base, ["hybird"], draws=10, seed=1)
    with pytest.raises(ParameterError, match="twice"):
        simulate(base, ["hybrid", "hybrid"], draws=10, seed=1)
    with pytest.raises(ParameterError, match="empty"):
        simulate(base, [], draws=10, seed=1)


# --- tornado, grid, prior --------------------------------------------------------------


def test_tornado_swings_each_input_between_p10_and_p90(base):
    frame = tornado(base, "hybrid")
    assert list(frame["swing"]) == sorted(frame["swing"], reverse=True)
    row = frame.set_index("parameter").loc["switch_conversion"]
    k10 = 0.05 * math.exp(-1.2815515655446004 * math.log(5) / 1.6448536269514722)
    assert row["low"] == pytest.approx(k10)
    expected = float(evaluate(base, "hybrid", overrides={"switch_conversion": k10}).npv)
    assert row["npv_low"] == pytest.approx(expected, rel=1e-12)
    assert row["npv_base"] == pytest.approx(float(evaluate(base, "hybrid").npv))
    # the savings side is in the tornado too
    assert {"ai_resolution_share", "cost_human_contact", "contacts_per_customer"} <= set(
        frame["parameter"]
    )
    a = frame.set_index("parameter").loc["ai_resolution_share"]
    assert a["npv_high"] > a["npv_low"]  # AI resolving more saves more
    # fixed inputs are left out: pi in full automation, F = 0 here
    full = set(tornado(base, "full_automation")["parameter"])
    assert "assist_productivity" not in full
    assert "implementation_cost" not in full
    assert tornado(base, "status_quo").empty
    assert not tornado(base, "reversal").empty


def test_grid_and_its_break_even_contour(base):
    plain = base.updated({"severance_months": 0.0})  # no one-off cost: the lines coincide
    grid = npv_grid(plain, "full_automation")
    assert grid.npv.shape == (41, 41)
    assert grid.automation[-1] == pytest.approx(0.9)  # 1 - q
    j = 24
    a = float(grid.automation[j])
    k_star = grid.break_even_conversion_npv[j]
    at = evaluate(
        plain, "full_automation", overrides={"ai_resolution_share": a, "switch_conversion": k_star}
    )
    assert float(at.npv) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(grid.break_even_conversion, grid.break_even_conversion_npv)
    i = 5
    direct = evaluate(
        plain,
        "full_automation",
        overrides={"ai_resolution_share": a, "switch_conversion": float(grid.conversion[i])},
    )
    assert grid.npv[i, j] == pytest.approx(float(direct.npv), rel=1e-12)
    assert grid.to_frame().shape == (41, 41)
    with pytest.raises(ParameterError):
        npv_grid(plain, "full_automation", automation=[0.95])


def test_with_one_off_costs_the_contour_is_where_npv_is_zero(base):
    f = 2_000_000.0
    costly = base.updated({"implementation_cost": f})
    grid = npv_grid(costly, "full_automation")
    for j in (12, 24, 36):
        a = float(grid.automation[j])
        one_off = f + float(
            evaluate(costly, "full_automation", overrides={"ai_resolution_share": a}).severance_cost
        )
        for k, npv in (
            (grid.break_even_conversion_npv[j], 0.0),
            (grid.break_even_conversion[j], -one_off),  # a year's savings = a year's loss
        ):
            at = evaluate(
                costly,
                "full_automation",
                overrides={"ai_resolution_share": a, "switch_conversion": k},
            )
            assert float(at.npv) == pytest.approx(npv, abs=1e-6)


def test_probability_conversion_below_the_break_even():
    assert probability_conversion_below(0.05, median=0.05) == pytest.approx(0.5)
    assert probability_conversion_below(0.25, median=0.05) == pytest.approx(0.95)
    assert probability_conversion_below(0.01, median=0.05) == pytest.approx(0.05)
    assert probability_conversion_below(-0.1, median=0.05) == 0.0
    assert probability_conversion_below(1.3, median=0.05) == 1.0
    assert probability_conversion_below(None, median=0.05) is None
    assert probability_conversion_below(float("nan"), median=0.05) is None


def test_simulate_replaces_the_conversion_draws_paired_draw_by_draw(base):
    names = ("status_quo", "hybrid", "full_automation", "reversal")
    prior = simulate(base, names, draws=3000, seed=5, chunk_size=1000)
    k = np.linspace(0.0, 0.2, 3000)
    replaced = simulate(base, names, draws=3000, seed=5, chunk_size=1000, conversion=k)
    np.testing.assert_array_equal(replaced.conversion, k)
    # with the prior's own draws passed back, every NPV is the same, bit for bit
    same = simulate(base, names, draws=3000, seed=5, conversion=prior.conversion)
    assert same.npv.tobytes() == prior.npv.tobytes()
    # NPV falls with k in every AI scenario, draw by draw (the other inputs are unchanged)
    higher = simulate(base, names, draws=3000, seed=5, conversion=np.minimum(k + 0.05, 1.0))
    assert np.all(higher.npv[1:] < replaced.npv[1:])
    np.testing.assert_array_equal(higher.npv[0], 0.0)


@pytest.mark.parametrize(
    "conversion", [np.zeros(10), np.full(20, 1.5), np.full(20, np.nan), -np.ones(20)]
)
def test_simulate_refuses_bad_replacement_conversions(base, conversion):
    with pytest.raises(ParameterError, match="conversion"):
        simulate(base, ("hybrid",), draws=20, seed=1, conversion=conversion)
