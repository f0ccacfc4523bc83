"""Uncertainty: the distributions, reproducible Monte Carlo, tornado, grid, prior."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxtradeoff.errors import ParameterError
from cxtradeoff.model import WORKED_CHECK, evaluate, parameters_from_mapping
from cxtradeoff.uncertainty import (
    DISTRIBUTIONS,
    Shape,
    distribution_table,
    distributions_frame,
    draw_random,
    monte_carlo,
    npv_grid,
    probability_conversion_below,
    tornado,
)


@pytest.fixture
def base():
    return parameters_from_mapping(WORKED_CHECK)


def test_distributions_are_stated_once_and_shown_as_a_table():
    frame = distributions_frame()
    assert list(frame["parameter"]) == [d.parameter for d in DISTRIBUTIONS]
    assert set(frame["parameter"]) == {
        "consider_switch_share",
        "switch_conversion",
        "acquisition_multiplier",
        "escalation_mitigation",
        "cost_ai_contact",
        "assist_productivity",
    }
    assert frame["basis"].str.len().min() > 20


def test_distributions_match_the_contract_at_its_base_values(base):
    table = distribution_table(base, "hybrid").set_index("parameter")
    assert table.loc["consider_switch_share", "distribution"] == "triangular(0.45, 0.53, 0.64)"
    assert table.loc["acquisition_multiplier", "distribution"] == "uniform(5, 25)"
    assert table.loc["cost_ai_contact", "distribution"] == "triangular(0.1, 0.8, 2)"
    assert table.loc["assist_productivity", "distribution"] == "triangular(0.05, 0.14, 0.35)"
    assert "[0.5, 0.9], mode 0.7" in table.loc["escalation_mitigation", "distribution"]
    k = table.loc["switch_conversion"]
    assert k["p50"] == pytest.approx(0.05)
    assert "0.01 to 0.25" in k["distribution"]
    full = distribution_table(base, "full_automation").set_index("parameter")
    assert "[0, 0.3], mode 0.15" in full.loc["escalation_mitigation", "distribution"]
    assert full.loc["assist_productivity", "distribution"] == "fixed at 0"


def test_lognormal_prior_has_the_stated_90_percent_interval():
    shape = Shape("lognormal", 0.0, 0.05, 1.0, math.log(5) / 1.6448536269514722)
    assert shape.quantile(0.05) == pytest.approx(0.01, rel=1e-6)
    assert shape.quantile(0.95) == pytest.approx(0.25, rel=1e-6)
    z = np.random.default_rng(0).standard_normal(200_000)
    draws = shape.sample(np.zeros(1), z)
    assert np.quantile(draws, 0.5) == pytest.approx(0.05, rel=0.02)
    assert draws.max() <= 1.0
    capped = Shape("lognormal", 0.0, 0.5, 1.0, 2.0).sample(np.zeros(1), z)
    assert capped.max() == 1.0


@pytest.mark.parametrize(
    "shape",
    [
        Shape("triangular", 0.45, 0.53, 0.64),
        Shape("uniform", 5.0, 5.0, 25.0),
        Shape("beta", 0.5, 0.7, 0.9),
        Shape("beta", 0.0, 0.05, 0.3),
    ],
)
def test_sampled_quantiles_agree_with_the_quantile_function(shape):
    u = np.random.default_rng(1).random(200_000)
    draws = shape.sample(u, np.zeros(1))
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(draws, q) == pytest.approx(shape.quantile(q), abs=0.01 * shape.high)
    assert draws.min() >= shape.low - 1e-12
    assert draws.max() <= shape.high + 1e-12


def test_pert_beta_mean_is_the_pert_mean():
    shape = Shape("beta", 0.0, 0.05, 0.3)
    u = np.random.default_rng(2).random(400_000)
    assert shape.sample(u, np.zeros(1)).mean() == pytest.approx((0 + 4 * 0.05 + 0.3) / 6, abs=1e-3)


def test_same_seed_gives_identical_bits_and_another_seed_differs(base):
    one = monte_carlo(base, "full_automation", draws=5000, seed=42)
    two = monte_carlo(base, "full_automation", draws=5000, seed=42)
    other = monte_carlo(base, "full_automation", draws=5000, seed=43)
    assert one.npv.tobytes() == two.npv.tobytes()
    assert one.summary() == two.summary()
    assert one.npv.tobytes() != other.npv.tobytes()
    assert one.npv_p50 != other.npv_p50


def test_monte_carlo_summary(base):
    mc = monte_carlo(base, "full_automation", draws=20_000, seed=5)
    assert mc.npv.shape == (20_000,)
    assert mc.npv_p10 < mc.npv_p50 < mc.npv_p90
    assert mc.p_loss == pytest.approx(float(np.mean(mc.npv < 0)))
    assert 0.0 < mc.p_loss < 1.0
    assert mc.npv_p10 == pytest.approx(np.percentile(mc.npv, 10))
    sq = monte_carlo(base, "status_quo", draws=100, seed=5)
    assert sq.summary() == {"npv_p10": 0.0, "npv_p50": 0.0, "npv_p90": 0.0, "p_loss": 0.0}


def test_scenarios_share_their_random_numbers(base):
    """Common random numbers: the conversion draws are the same in every scenario."""
    hybrid = monte_carlo(base, "hybrid", draws=1000, seed=9)
    full = monte_carlo(base, "full_automation", draws=1000, seed=9)
    hybrid_churn = np.asarray(hybrid.result.extra_churn)
    full_churn = np.asarray(full.result.extra_churn)
    # delta = x * w * k * (1 - h); w and k are shared: the ratio is set by x and h only
    ratio = hybrid_churn / full_churn
    assert np.corrcoef(np.log(hybrid_churn), np.log(full_churn))[0, 1] > 0.9
    assert np.all(np.isfinite(ratio))


@pytest.mark.parametrize(("draws", "seed"), [(0, 1), (-5, 1), (10, -1), (2.5, 1), (True, 1)])
def test_bad_draws_or_seed(draws, seed):
    with pytest.raises(ParameterError):
        draw_random(draws, seed)


def test_tornado_swings_each_input_between_p10_and_p90(base):
    frame = tornado(base, "hybrid")
    assert list(frame["swing"]) == sorted(frame["swing"], reverse=True)
    row = frame.set_index("parameter").loc["switch_conversion"]
    k10 = 0.05 * math.exp(-1.2815515655446004 * math.log(5) / 1.6448536269514722)
    assert row["low"] == pytest.approx(k10)
    expected = float(evaluate(base, "hybrid", overrides={"switch_conversion": k10}).npv)
    assert row["npv_low"] == pytest.approx(expected, rel=1e-12)
    assert row["npv_base"] == pytest.approx(float(evaluate(base, "hybrid").npv))
    assert frame.iloc[0]["parameter"] == "switch_conversion"
    # pi is fixed at 0 in full automation: not in its tornado
    assert "assist_productivity" not in set(tornado(base, "full_automation")["parameter"])
    assert tornado(base, "status_quo").empty
    assert not tornado(base, "reversal").empty


def test_grid_and_its_break_even_contour(base):
    grid = npv_grid(base, "full_automation")
    assert grid.npv.shape == (41, 41)
    assert grid.automation[-1] == pytest.approx(0.9)  # 1 - q
    j = 24
    a = float(grid.automation[j])
    k_star = grid.break_even_conversion_npv[j]
    at = evaluate(
        base, "full_automation", overrides={"ai_resolution_share": a, "switch_conversion": k_star}
    )
    assert float(at.npv) == pytest.approx(0.0, abs=1e-6)
    # F = 0 in the worked check: the contract's break-even is the same line
    np.testing.assert_allclose(grid.break_even_conversion, grid.break_even_conversion_npv)
    i = 5
    direct = evaluate(
        base,
        "full_automation",
        overrides={"ai_resolution_share": a, "switch_conversion": float(grid.conversion[i])},
    )
    assert grid.npv[i, j] == pytest.approx(float(direct.npv), rel=1e-12)
    frame = grid.to_frame()
    assert frame.shape == (41, 41)
    with pytest.raises(ParameterError):
        npv_grid(base, "full_automation", automation=[0.95])


def test_with_a_one_off_cost_the_contour_is_where_npv_is_zero(base):
    f = 2_000_000.0
    costly = base.updated({"implementation_cost": f})
    grid = npv_grid(costly, "full_automation")
    for j in (12, 24, 36):
        a = float(grid.automation[j])
        for k, npv in (
            (grid.break_even_conversion_npv[j], 0.0),
            (grid.break_even_conversion[j], -f),  # the contract's: a year's savings = its loss
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
