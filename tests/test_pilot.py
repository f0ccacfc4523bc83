"""The pilot: plan (size, value, cost) and update (posterior of k, the decision again)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import special, stats
from statsmodels.stats.power import NormalIndPower

from cxtradeoff import paths
from cxtradeoff.cli import main
from cxtradeoff.commands import pilot as pilot_command
from cxtradeoff.contracts import PilotResult, ResultsFile, load_results
from cxtradeoff.decision import DEFAULT_DRAWS, decide
from cxtradeoff.errors import DataValidationError, ParameterError
from cxtradeoff.model import SCENARIO_NAMES, evaluate, scenario_phases
from cxtradeoff.pilot import (
    ASSUMPTION,
    PilotCounts,
    annualise,
    cohens_h,
    conversion_from_extra_churn,
    expected_value_of_sample_information,
    n_per_arm,
    parse_arm,
    pilot_churn,
    pilot_draws,
    pilot_summary,
    piloted_scenarios,
    plan_pilot,
    posterior_churn,
    prior_posterior_chart,
    read_pilot_file,
    update_with_pilot,
)
from cxtradeoff.profiles import load_profiles
from cxtradeoff.results import analyse_profile, write_results
from cxtradeoff.uncertainty import DEFAULT_SEED, simulate

ILLUSTRATIVE = paths.DATA_DIR / "pilots" / "telecom-illustrative-pilot.csv"
PLAN_KEYS = (
    "months",
    "theta_control",
    "theta_ai_at_break_even",
    "n_per_arm",
    "evsi",
    "evppi_switch_conversion",
    "expected_pilot_cost",
)
HEADER = "profile,scenario,arm,months,customers,churned,started,source\n"


@pytest.fixture(scope="module")
def profiles():
    return load_profiles()


@pytest.fixture(scope="module")
def telecom(profiles):
    return profiles["telecom"].parameters


def counts(ai=(30_000, 1_600), control=(30_000, 1_450), *, scenario="full_automation", months=3):
    return PilotCounts(
        scenario=scenario,
        months=months,
        ai_customers=ai[0],
        ai_churned=ai[1],
        control_customers=control[0],
        control_churned=control[1],
    )


# --- the counts ------------------------------------------------------------------------


def test_counts_name_every_field_at_fault_at_once():
    with pytest.raises(ParameterError) as caught:
        PilotCounts(
            scenario="status_quo",
            months=30,
            ai_customers=0,
            ai_churned=-1,
            control_customers=100,
            control_churned=101,
        )
    message = str(caught.value)
    for text in (
        "scenario = 'status_quo' has no AI to pilot",
        "months = 30",
        "ai_customers = 0",
        "ai_churned = -1",
        "control_churned = 101 is above control_customers = 100",
    ):
        assert text in message


@pytest.mark.parametrize("bad", [2.5, True, "3", None])
def test_counts_must_be_whole_numbers(bad):
    with pytest.raises(ParameterError, match="ai_customers"):
        counts(ai=(bad, 0))


def test_the_piloted_scenarios_are_those_with_ai():
    assert piloted_scenarios() == ("hybrid", "full_automation", "reversal")
    assert pilot_command.PILOTED == piloted_scenarios()
    assert pilot_command.DEFAULT_SEED == DEFAULT_SEED
    assert pilot_command.DEFAULT_DRAWS == DEFAULT_DRAWS


def test_parse_arm():
    assert parse_arm("20000:1150", arm="ai") == (20_000, 1_150)
    assert parse_arm(" 20_000 : 1,150 ", arm="control") == (20_000, 1_150)
    assert parse_arm("-5:1", arm="ai") == (-5, 1)  # the range is PilotCounts' to check
    for text in ("20000", "20000:", "a:b", "1.5:1", "1:2:3", ""):
        with pytest.raises(ParameterError, match=r"--ai .*CUSTOMERS:CHURNED"):
            parse_arm(text, arm="ai")


# --- the pilot file --------------------------------------------------------------------


def test_the_illustrative_pilot_file_reads_and_says_it_is_illustrative():
    assert "illustrative" in ILLUSTRATIVE.name
    pilot = read_pilot_file(ILLUSTRATIVE)
    assert pilot.profile == "telecom"
    assert pilot.scenario in piloted_scenarios()
    assert 1 <= pilot.months <= 24
    assert 0 <= pilot.ai_churned <= pilot.ai_customers
    assert 0 <= pilot.control_churned <= pilot.control_customers
    assert all("illustrative" in line for line in ILLUSTRATIVE.read_text().splitlines()[1:])
    readme = (paths.DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "## pilots/" in readme and ILLUSTRATIVE.name in readme


def test_a_bad_pilot_file_names_file_line_and_column(tmp_path):
    path = tmp_path / "pilot.csv"
    path.write_text(
        HEADER
        + "telecom,full_automation,ai,30,25000,26000,2025-09-01,crm\n"
        + "telecom,status_quo,control,3,0,-1,2025-9-1,\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as caught:
        read_pilot_file(path)
    message = str(caught.value)
    for text in (
        "pilot.csv, line 2, column 'months': 30",
        "pilot.csv, line 2, column 'churned': 26000 is not at most the arm's customers",
        "pilot.csv, line 3, column 'scenario': 'status_quo'",
        "pilot.csv, line 3, column 'customers': 0",
        "pilot.csv, line 3, column 'churned': -1",
        "pilot.csv, line 3, column 'started'",
        "pilot.csv, line 3, column 'source'",
    ):
        assert text in message


def test_a_pilot_file_has_one_row_per_arm_and_the_arms_agree(tmp_path):
    path = tmp_path / "pilot.csv"
    path.write_text(
        HEADER
        + "telecom,full_automation,ai,3,25000,10,,crm\n"
        + "telecom,hybrid,ai,4,25000,10,,crm\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as caught:
        read_pilot_file(path)
    message = str(caught.value)
    assert "lines 2, 3, column 'arm': the ai arm appears more than once" in message
    assert "no row for the control arm" in message
    assert "line 3, column 'scenario': 'hybrid' differs from 'full_automation' on line 2" in message
    assert "line 3, column 'months': 4 differs from 3 on line 2" in message


# --- churn over a pilot and the power calculation ---------------------------------------


def test_annualise_and_pilot_churn_invert_each_other():
    assert float(annualise(0.05, 12)) == pytest.approx(0.05)
    assert float(annualise(1 - 0.9**0.5, 6)) == pytest.approx(0.1)
    r, delta = 0.85, 0.02
    theta = float(pilot_churn(r, delta, 3))
    assert theta == pytest.approx(1 - (1 - (1 - r) - delta) ** 0.25)
    assert float(annualise(theta, 3)) == pytest.approx((1 - r) + delta)
    assert float(pilot_churn(0.3, 0.5, 6)) == 1.0  # more extra churn than retention: all leave


@pytest.mark.parametrize(
    ("theta_c", "theta_ai"),
    [(0.10, 0.12), (0.0484, 0.0540), (0.02, 0.025), (0.3, 0.2), (0.5, 0.52), (0.001, 0.004)],
)
def test_customers_per_arm_is_statsmodels_power_calculation(theta_c, theta_ai):
    h = cohens_h(theta_c, theta_ai)
    assert h == pytest.approx(
        abs(2 * math.asin(math.sqrt(theta_ai)) - 2 * math.asin(math.sqrt(theta_c)))
    )
    expected = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1)
    assert n_per_arm(theta_c, theta_ai) == math.ceil(expected)
    # PILOT.md's ((1.959964 + 0.841621) / h)^2 leaves out the second arm's variance
    one_arm = ((1.959964 + 0.841621) / h) ** 2
    assert n_per_arm(theta_c, theta_ai) == pytest.approx(2 * one_arm, rel=1e-3, abs=1)


def test_equal_churn_cannot_be_told_apart():
    assert n_per_arm(0.1, 0.1) is None


def test_plan_follows_the_contract_on_the_base_case(telecom):
    plan = plan_pilot(telecom, "full_automation", months=3, draws=4000, seed=3)
    r = telecom.retention_rate
    assert plan.theta_control == pytest.approx(1 - r ** (3 / 12), rel=1e-12)
    base = evaluate(telecom, "full_automation")
    k_star = base.break_even_conversion_npv
    z = float(base.extra_churn) / telecom.switch_conversion  # e * k <= 1 in the base case
    assert plan.break_even_conversion_npv == pytest.approx(k_star)
    assert plan.theta_ai_at_break_even == pytest.approx(
        1 - (1 - (1 - r) - z * k_star) ** (3 / 12), rel=1e-9
    )
    h = cohens_h(plan.theta_control, plan.theta_ai_at_break_even)
    expected = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1)
    assert plan.n_per_arm == math.ceil(expected)
    assert plan.customers_per_arm == plan.n_per_arm
    assert plan.evsi is not None and plan.expected_pilot_cost is not None
    assert plan.expected_pilot_cost > 0
    assert list(plan.to_dict())[: len(PLAN_KEYS)] == list(PLAN_KEYS)


def test_plan_expected_cost_is_the_ai_arms_extra_customers_lost_times_v(telecom):
    plan = plan_pilot(telecom, "hybrid", months=6, customers_per_arm=10_000, draws=3000, seed=2)
    drawn = pilot_draws(telecom, "hybrid", months=6, draws=3000, seed=2)
    theta = pilot_churn(telecom.retention_rate, drawn.extra_churn, 6)
    extra = theta - plan.theta_control
    assert plan.expected_extra_customers_lost == pytest.approx(10_000 * extra.mean())
    assert plan.expected_pilot_cost == pytest.approx(
        10_000 * np.mean(extra * drawn.value_per_lost_customer)
    )
    v = float(evaluate(telecom, "hybrid").value_per_lost_customer)  # V is fixed (CLV)
    assert plan.expected_pilot_cost == pytest.approx(plan.expected_extra_customers_lost * v)


def test_no_pilot_size_where_the_break_even_is_outside_zero_to_one(telecom):
    costly = {"implementation_cost": 1e10}  # never pays: k*_npv < 0
    plan = plan_pilot(telecom, "full_automation", months=3, draws=2000, seed=1, overrides=costly)
    assert plan.break_even_conversion_npv < 0
    assert (plan.theta_ai_at_break_even, plan.n_per_arm) == (None, None)
    assert (plan.evsi, plan.expected_pilot_cost) == (None, None)
    sized = plan_pilot(
        telecom,
        "full_automation",
        months=3,
        customers_per_arm=5000,
        draws=2000,
        seed=1,
        overrides=costly,
    )
    assert sized.evsi is not None and sized.evsi >= 0


# --- EVSI -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["telecom", "retail_bank", "fintech"])
@pytest.mark.parametrize("scenario", ["full_automation", "hybrid"])
def test_evsi_is_positive_and_not_above_evppi_beyond_monte_carlo_error(profiles, name, scenario):
    params = profiles[name].parameters
    plans = [plan_pilot(params, scenario, months=3, draws=8000, seed=seed) for seed in range(4)]
    for plan in plans:
        assert plan.evsi >= 0
        # exact bound: the value of knowing what the pilot measures (with the same bins)
        assert plan.evsi <= plan.evppi_extra_churn * 1.01 + 1.0
    evsi = np.array([p.evsi for p in plans])
    value_k = np.array([p.evppi_switch_conversion for p in plans])
    # the EVPPI of k, up to its Monte Carlo error (its spread over seeds)
    error = 3 * value_k.std(ddof=1) + 0.01 * value_k.mean()
    assert evsi.mean() <= value_k.mean() + error


def test_evsi_grows_with_the_pilot_and_is_zero_when_nothing_can_change(telecom):
    small, large = (
        plan_pilot(telecom, "full_automation", months=3, customers_per_arm=n, draws=6000, seed=5)
        for n in (200, 200_000)
    )
    assert 0 <= small.evsi < large.evsi <= large.evppi_extra_churn * 1.01
    npv = np.vstack([np.zeros(500), np.linspace(1.0, 2.0, 500)])  # the AI always pays
    theta = np.linspace(0.01, 0.2, 500)
    assert expected_value_of_sample_information(npv, theta, customers_per_arm=1000, seed=1) == 0


def test_evsi_agrees_with_reweighting_every_draw_on_every_simulated_pilot(telecom):
    """The fast EVSI against the plain definition (full likelihood weights on raw NPVs)."""
    draws, n, seed = 3000, 25_000, 9
    sim = simulate(telecom, SCENARIO_NAMES, draws=draws, seed=seed)
    drawn = pilot_draws(telecom, "full_automation", months=3, draws=draws, seed=seed)
    theta = np.clip(pilot_churn(telecom.retention_rate, drawn.extra_churn, 3), 1e-12, 1 - 1e-12)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1_002,)))
    y = rng.binomial(n, theta)
    best = int(np.argmax(sim.npv.mean(axis=1)))
    gains = []
    for count in y:
        log_like = count * np.log(theta) + (n - count) * np.log1p(-theta)
        weight = np.exp(log_like - log_like.max())
        posterior = sim.npv @ weight / weight.sum()
        gains.append(posterior.max() - posterior[best])
    plain = float(np.mean(gains))
    fast = expected_value_of_sample_information(sim.npv, theta, customers_per_arm=n, seed=seed)
    assert fast == pytest.approx(plain, rel=0.03)


# --- update: the posterior --------------------------------------------------------------


@pytest.mark.parametrize("months", [12, 3])
def test_posterior_churn_is_the_conjugate_beta(months):
    pilot = counts(ai=(2_000, 150), control=(1_500, 60), months=months)
    draws = 200_000
    theta_ai, theta_c = posterior_churn(pilot, draws=draws, seed=11)
    power = 12 / months
    for drawn, (n, c) in ((theta_ai, (2_000, 150)), (theta_c, (1_500, 60))):
        a, b = 1 + c, 1 + n - c
        # quantiles: the annualised churn is a monotone map of the Beta
        for q in (0.1, 0.5, 0.9):
            expected = 1 - (1 - stats.beta.ppf(q, a, b)) ** power
            # a quantile's Monte Carlo error: sqrt(q (1 - q) / draws) / density
            density = stats.beta.pdf(stats.beta.ppf(q, a, b), a, b)
            slope = power * (1 - stats.beta.ppf(q, a, b)) ** (power - 1)
            error = math.sqrt(q * (1 - q) / draws) / density * slope
            assert np.quantile(drawn, q) == pytest.approx(expected, abs=4 * error)
        # mean: E[(1 - theta)^m] = B(a, b + m) / B(a, b)
        mean = 1 - math.exp(special.betaln(a, b + power) - special.betaln(a, b))
        assert drawn.mean() == pytest.approx(mean, abs=4 * drawn.std() / math.sqrt(draws))
    u = theta_ai - theta_c
    expected_u = math.exp(special.betaln(1 + 60, 1 + 1_440 + power) - special.betaln(61, 1441))
    expected_u -= math.exp(special.betaln(151, 1851 + power) - special.betaln(151, 1851))
    assert u.mean() == pytest.approx(expected_u, abs=4 * u.std() / math.sqrt(draws))


def test_update_sets_k_to_u_over_z_on_the_same_draws(telecom):
    pilot = counts()
    update = update_with_pilot(telecom, pilot, draws=5000, seed=4)
    drawn = pilot_draws(telecom, "full_automation", months=3, draws=5000, seed=4)
    theta_ai, theta_c = posterior_churn(pilot, draws=5000, seed=4)
    u = theta_ai - theta_c
    np.testing.assert_array_equal(update.extra_annual_churn, u)
    np.testing.assert_array_equal(update.conversion, np.clip(u / drawn.risk_factor, 0, 1))
    assert update.share_clipped == pytest.approx(np.mean(u < 0))
    # z is the piloted scenario's on the prior's own draws: z * k is its extra churn
    prior = simulate(telecom, SCENARIO_NAMES, draws=5000, seed=4)
    np.testing.assert_array_equal(drawn.conversion, prior.conversion)
    uncapped = drawn.conversion * 3 <= 1  # e <= 3: e * k is capped only above k = 1/3
    np.testing.assert_allclose(
        (drawn.risk_factor * drawn.conversion)[uncapped], drawn.extra_churn[uncapped], rtol=1e-12
    )
    # the posterior's k replaces the prior's in every scenario, every other input unchanged
    after = simulate(telecom, SCENARIO_NAMES, draws=5000, seed=4, conversion=update.conversion)
    assert update.posterior.simulation.npv.tobytes() == after.npv.tobytes()
    assert update.prior.simulation.npv.tobytes() == prior.npv.tobytes()


def test_a_reversal_pilot_weighs_its_phases_by_the_months_in_each(telecom):
    six = pilot_draws(telecom, "reversal", months=6, draws=2000, seed=1)
    full = pilot_draws(telecom, "full_automation", months=6, draws=2000, seed=1)
    hybrid = pilot_draws(telecom, "hybrid", months=6, draws=2000, seed=1)
    np.testing.assert_allclose(six.risk_factor, full.risk_factor, rtol=1e-12)
    eighteen = pilot_draws(telecom, "reversal", months=18, draws=2000, seed=1)
    np.testing.assert_allclose(
        eighteen.risk_factor, (2 * full.risk_factor + hybrid.risk_factor) / 3, rtol=1e-12
    )
    assert len(scenario_phases(telecom, "reversal")) == 2


def test_equal_churn_in_both_arms_lowers_the_chance_of_loss_of_the_automated_scenarios(telecom):
    pilot = counts(ai=(100_000, 4_840), control=(100_000, 4_840))
    update = update_with_pilot(telecom, pilot, draws=10_000, seed=2)
    assert 0.3 < update.share_clipped < 0.7  # no extra churn seen: half the draws below 0
    for name in ("hybrid", "full_automation", "reversal"):
        before, after = update.prior.scenario(name), update.posterior.scenario(name)
        assert after.p_loss < before.p_loss, name
        assert after.npv_mean > before.npv_mean, name


def test_large_excess_churn_moves_the_recommendation_away_from_full_automation(profiles):
    params = profiles["ecommerce"].parameters
    cheap = {"switch_conversion": 0.005}  # a prior under which full automation wins
    prior = decide(params, draws=10_000, seed=3, overrides=cheap)
    assert prior.recommended == "full_automation"
    r = params.retention_rate
    control = round(20_000 * (1 - r**0.25))
    pilot = counts(ai=(20_000, control + 1_000), control=(20_000, control))
    update = update_with_pilot(params, pilot, draws=10_000, seed=3, overrides=cheap)
    assert update.prior.recommended == "full_automation"
    assert update.posterior.recommended != "full_automation"
    assert np.median(update.conversion) > 0.1
    assert update.posterior.scenario("full_automation").p_loss > 0.5


def test_conversion_from_extra_churn_clips_and_refuses_no_exposure():
    k, low, high = conversion_from_extra_churn(np.array([-0.2, 0.0, 0.1, 0.4]), np.full(4, 0.2))
    assert k.tolist() == [0.0, 0.0, 0.5, 1.0]
    assert (low, high) == (0.25, 0.25)
    with pytest.raises(ParameterError, match="z = 0"):
        conversion_from_extra_churn(np.array([0.1]), np.array([0.0]))


# --- reproducible ---------------------------------------------------------------------


def test_plan_and_update_are_reproducible_bit_for_bit(telecom):
    one = plan_pilot(telecom, "hybrid", months=4, draws=3000, seed=8).to_dict()
    two = plan_pilot(telecom, "hybrid", months=4, draws=3000, seed=8).to_dict()
    assert json.dumps(one) == json.dumps(two)
    assert one != plan_pilot(telecom, "hybrid", months=4, draws=3000, seed=9).to_dict()
    first = update_with_pilot(telecom, counts(), draws=3000, seed=8)
    second = update_with_pilot(telecom, counts(), draws=3000, seed=8)
    assert json.dumps(first.to_dict()) == json.dumps(second.to_dict())
    assert first.conversion.tobytes() == second.conversion.tobytes()
    other = update_with_pilot(telecom, counts(), draws=3000, seed=9)
    assert first.conversion.tobytes() != other.conversion.tobytes()


# --- what a report shows --------------------------------------------------------------


def test_the_results_file_keeps_the_pilot_and_uses_the_posterior(profiles, tmp_path):
    profile = profiles["telecom"]
    pilot = read_pilot_file(ILLUSTRATIVE)
    analysis = analyse_profile(profile, list(SCENARIO_NAMES), draws=3000, seed=5, pilot=pilot)
    results = analysis.results
    assert results.pilot is not None and analysis.pilot is not None
    assert results.pilot.prior.recommended == analysis.pilot.prior.recommended
    assert results.recommended == analysis.pilot.posterior.recommended
    assert results.evppi_switch_conversion == analysis.pilot.posterior.evppi_switch_conversion
    for name, scenario in results.scenarios.items():
        assert scenario.npv_mean == results.pilot.posterior.scenarios[name].npv_mean
    assert results.headline.switch_conversion == pytest.approx(analysis.pilot.conversion.mean())
    assert results.pilot.assumption == ASSUMPTION
    written = write_results(results, tmp_path / "r.json")
    assert load_results(written) == results
    plain = analyse_profile(profile, list(SCENARIO_NAMES), draws=3000, seed=5)
    assert plain.results.pilot is None and plain.pilot is None
    assert (
        results.pilot.prior.scenarios["hybrid"].npv_mean
        == plain.results.scenarios["hybrid"].npv_mean
    )
    with pytest.raises(ParameterError, match="profile 'telecom', not of 'fintech'"):
        analyse_profile(profiles["fintech"], ["hybrid"], draws=100, pilot=pilot)


def test_the_contract_refuses_more_churned_than_customers(telecom):
    good = update_with_pilot(telecom, counts(), draws=500, seed=1).to_contract()
    data = good.model_dump()
    data["ai_churned"] = data["ai_customers"] + 1
    with pytest.raises(ValueError, match="ai_churned"):
        PilotResult.model_validate(data)
    assert "pilot" in ResultsFile.model_fields


def test_summary_sentences_say_what_the_pilot_changed(telecom):
    update = update_with_pilot(telecom, counts(), draws=3000, seed=1)
    text = " ".join(pilot_summary(update.to_contract(), currency="EUR", years=3))
    assert "1,600 of 30,000" in text and "1,450 of 30,000" in text
    assert "full automation (AI first, humans hard to reach)" in text
    assert "more customers lost with the AI" in text
    result = update.to_contract()
    assert f"against {round(100 * result.prior_switch_conversion.mean, 1)}% assumed" in text
    assert "pays over the horizon only if fewer than" in text
    assert result.prior_p_below_break_even == pytest.approx(
        np.mean(update.prior.simulation.conversion < update.break_even_conversion_npv)
    )
    assert result.posterior_p_below_break_even == pytest.approx(
        np.mean(update.conversion < update.break_even_conversion_npv)
    )
    assert ASSUMPTION in text
    assert "EUR " in text and "_" not in text  # words, not code names


def test_the_chart_marks_the_break_even_in_words(telecom):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.lines import Line2D

    update = update_with_pilot(telecom, counts(), draws=3000, seed=1)
    fig = prior_posterior_chart(update)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts] + [ax.get_xlabel(), ax.get_title()]
    texts += [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any("_" in t for t in texts)
    assert any("pays below" in t for t in texts)
    vertical = [
        line
        for line in ax.get_lines()
        if isinstance(line, Line2D) and len(set(np.asarray(line.get_xdata()))) == 1
    ]
    assert vertical and float(vertical[0].get_xdata()[0]) == pytest.approx(
        update.break_even_conversion_npv
    )
    import matplotlib.pyplot as plt

    plt.close(fig)


# --- the command line ------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``cxtradeoff pilot ARGS`` in this process: what the user sees and the exit status.

    In process rather than in a subprocess, so that the many bad-input cases stay fast;
    :func:`real_cli` runs the installed command once for the plan.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["pilot", *args])
        except SystemExit as exc:  # argparse's own usage errors
            status = int(exc.code or 0)
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def real_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cxtradeoff.cli", "pilot", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_plan_through_the_command_line():
    proc = real_cli(
        "plan", "--profile", "telecom", "--scenario", "full_automation", "--months", "3",
        "--draws", "3000", "--seed", "4",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out)[: len(PLAN_KEYS)] == list(PLAN_KEYS)
    telecom = load_profiles()["telecom"].parameters
    assert out == json.loads(
        json.dumps(
            {
                **plan_pilot(telecom, "full_automation", months=3, draws=3000, seed=4).to_dict(),
                "profile": "telecom",
                "display_name": out["display_name"],
                "currency": "EUR",
                "overrides": {},
            }
        )
    )
    table = cli(
        "plan", "--profile", "telecom", "--scenario", "hybrid", "--months", "6",
        "--customers-per-arm", "20000", "--draws", "2000", "--format", "table",
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "Customers per arm for 80% power" in table.stdout
    assert "20,000" in table.stdout and "EUR" in table.stdout


def test_update_through_the_command_line_with_counts_or_a_file():
    args = ("--draws", "3000", "--seed", "6")
    given = cli(
        "update", "--profile", "telecom", "--scenario", "full_automation", "--months", "3",
        "--ai", "25000:1335", "--control", "25000:1205", *args,
    )  # fmt: skip
    assert given.returncode == 0, given.stderr
    out = json.loads(given.stdout)
    for key in ("extra_annual_churn", "switch_conversion", "prior", "posterior"):
        assert key in out
    assert set(out["extra_annual_churn"]) == {"mean", "p10", "p90"}
    assert {"p10", "p50", "p90", "share_clipped"} <= set(out["switch_conversion"])
    for side in ("prior", "posterior"):
        assert out[side]["recommended"] in out[side]["scenarios"]
        for scenario in out[side]["scenarios"].values():
            assert set(scenario) == {"npv_mean", "p_loss", "p_best"}
    assert out["assumption"] == ASSUMPTION
    from_file = cli("update", "--profile", "telecom", "--pilot-file", str(ILLUSTRATIVE), *args)
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout) == out  # the file holds the same counts
    table = cli(
        "update", "--profile", "telecom", "--pilot-file", str(ILLUSTRATIVE), "--format", "table",
        *args,
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "property of the customers, not of the service" in table.stdout
    assert "Before the pilot" in table.stdout and "After the pilot" in table.stdout


UPDATE = ("update", "--profile", "telecom", "--draws", "200")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--scenario", "hybrid", "--months", "3", "--ai", "100:120", "--control", "100:5"),
         ("ai_churned = 120", "ai_customers = 100")),
        (("--scenario", "hybrid", "--months", "3", "--ai=-5:1", "--control", "100:5"),
         ("ai_customers = -5",)),
        (("--scenario", "hybrid", "--months", "3", "--ai", "100:5", "--control=100:-1"),
         ("control_churned = -1",)),
        (("--scenario", "hybrid", "--months", "3", "--ai", "0:0", "--control", "100:5"),
         ("ai_customers = 0",)),
        (("--scenario", "hybrid", "--months", "3", "--ai", "100:5", "--control", "0:0"),
         ("control_customers = 0",)),
        (("--scenario", "hybrid", "--months", "0", "--ai", "100:5", "--control", "100:5"),
         ("months = 0",)),
        (("--scenario", "hybrid", "--months", "25", "--ai", "100:5", "--control", "100:5"),
         ("months = 25",)),
        (("--scenario", "hybird", "--months", "3", "--ai", "100:5", "--control", "100:5"),
         ("unknown scenario 'hybird'", "did you mean 'hybrid'")),
        (("--scenario", "status_quo", "--months", "3", "--ai", "100:5", "--control", "100:5"),
         ("scenario = 'status_quo' has no AI to pilot",)),
        (("--scenario", "hybrid", "--months", "3", "--ai", "100-5", "--control", "100:5"),
         ("--ai '100-5'", "CUSTOMERS:CHURNED")),
        (("--scenario", "hybrid", "--months", "3", "--ai", "100:5", "--control", "lots"),
         ("--control 'lots'", "CUSTOMERS:CHURNED")),
        (("--scenario", "hybrid", "--months", "3", "--ai", "100:5"), ("missing --control",)),
        (("--scenario", "hybrid", "--months", "3", "--ai", "-5:1", "--control", "100:5"),
         ("argument --ai",)),
        (("--scenario", "hybrid", "--months", "three", "--ai", "1:0", "--control", "1:0"),
         ("argument --months",)),
    ],
)  # fmt: skip
def test_bad_update_input_exits_2_naming_the_field(args, names):
    proc = cli(*UPDATE, *args)
    assert proc.returncode == 2, proc.stdout
    for name in names:
        assert name in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--scenario", "full_automation", "--months", "30"), ("months = 30",)),
        (("--scenario", "nope", "--months", "3"), ("unknown scenario 'nope'",)),
        (("--scenario", "hybrid", "--months", "3", "--customers-per-arm", "0"),
         ("customers_per_arm = 0",)),
        (("--scenario", "hybrid", "--months", "3", "--draws", "0"), ("draws = 0",)),
        (("--scenario", "hybrid", "--months", "3", "--set", "switch_conversion=2"),
         ("switch_conversion",)),
    ],
)  # fmt: skip
def test_bad_plan_input_exits_2_naming_the_field(args, names):
    proc = cli("plan", "--profile", "telecom", "--draws", "200", *args)
    assert proc.returncode == 2, proc.stdout
    for name in names:
        assert name in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_bad_or_mismatched_pilot_file_exits_2(tmp_path):
    bad = tmp_path / "pilot.csv"
    bad.write_text(HEADER + "telecom,full_automation,ai,3,10,20,,crm\n", encoding="utf-8")
    proc = cli(*UPDATE, "--pilot-file", str(bad))
    assert proc.returncode == 2
    assert "pilot.csv, line 2, column 'churned'" in proc.stderr
    assert "Traceback" not in proc.stderr
    other = cli("update", "--profile", "fintech", "--pilot-file", str(ILLUSTRATIVE))
    assert other.returncode == 2
    assert "profile 'telecom', not --profile 'fintech'" in other.stderr
    both = cli(*UPDATE, "--pilot-file", str(ILLUSTRATIVE), "--ai", "1:0")
    assert both.returncode == 2 and "--pilot-file and --ai" in both.stderr
    months = cli(*UPDATE, "--pilot-file", str(ILLUSTRATIVE), "--months", "6")
    assert months.returncode == 2 and "--months 6 differs" in months.stderr
