"""The exploration panel: the pure state function and the widgets wired to it.

ipywidgets objects work without a browser or a kernel: setting a control's ``.value``
runs the same observers a slider drag runs in JupyterLab, so these tests drive the
panel exactly as the analyst does and read what the headline and chart widgets hold.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cxtradeoff import explore
from cxtradeoff.errors import ParameterError
from cxtradeoff.explore import (
    HEADLINE_NUMBERS,
    control_panel,
    explore_state,
    headline_html,
)
from cxtradeoff.formatting import break_even_sentence, break_even_words, customers, money
from cxtradeoff.model import WORKED_CHECK, parameters_from_mapping, scenario_phases
from cxtradeoff.profiles import Profile, load_profiles
from cxtradeoff.results import DEFAULT_SEED, build_results
from cxtradeoff.uncertainty import conversion_curve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return load_profiles()


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def worked_profile(display_name: str = "Worked check") -> Profile:
    return Profile(
        id="worked",
        display_name=display_name,
        currency="EUR",
        parameters=parameters_from_mapping(WORKED_CHECK),
        basis={},
    )


def curve_lines(figure):
    """The solid and dashed NPV curves of a break-even chart, by legend label."""
    ax = figure.axes[0]
    return {line.get_label(): line for line in ax.get_lines() if len(line.get_xdata()) > 2}


# --------------------------------------------------------------------------- explore_state


@pytest.mark.parametrize("scenario", ["hybrid", "full_automation", "reversal"])
def test_base_case_headline_is_the_reports(profiles, scenario):
    company = profiles["telecom"]
    headline, figure = explore_state(company, {}, scenario=scenario)
    report = build_results(company, [scenario], draws=20000, seed=DEFAULT_SEED)
    expected = report.scenarios[scenario]
    for key in HEADLINE_NUMBERS:
        assert headline[key] == getattr(expected, key), key
    assert report.scenarios[scenario].npv == headline["npv"]
    assert headline["display_name"] == company.display_name
    assert headline["currency"] == "EUR"
    assert headline["horizon_years"] == company.parameters.horizon_years
    assert headline["verdict"] == ("pays" if headline["npv"] > 0 else "does not pay")
    # the sentence is on the break-even over the horizon; telecom has a one-off cost
    assert company.parameters.implementation_cost > 0
    assert headline["break_even_sentence"] == break_even_sentence(
        headline["break_even_conversion_npv"], one_off_costs=True
    )
    assert headline["break_even_conversion_npv"] != headline["break_even_conversion"]
    assert headline["p_loss"] is not None and 0.0 <= headline["p_loss"] <= 1.0
    assert figure.axes, "no chart drawn"


def test_overrides_give_the_reports_numbers_with_the_same_overrides(profiles):
    company = profiles["retail_bank"]
    overrides = {
        "ai_resolution_share": 0.75,
        "switch_conversion": 0.12,
        "escalation_mitigation": 0.4,
        "cost_human_contact": 9.5,
    }
    headline, _ = explore_state(company, overrides, scenario="full_automation", draws=500, seed=3)
    report = build_results(
        company, ["full_automation"], draws=500, seed=3, overrides=overrides
    ).scenarios["full_automation"]
    for key in HEADLINE_NUMBERS:
        assert headline[key] == getattr(report, key), key
    assert headline["overrides"] == overrides
    assert headline["switch_conversion"] == 0.12


def test_worked_check_of_the_model_contract():
    headline, _ = explore_state(
        worked_profile(),
        {"escalation_mitigation": 0.0, "switch_conversion": 0.05},
        scenario="full_automation",
        draws=0,
    )
    assert headline["npv"] == pytest.approx(-8_785_643.84, abs=0.01)
    assert headline["annual_savings"] == pytest.approx(5_580_000.0)
    assert headline["annual_loyalty_cost"] == pytest.approx(8_389_030.8)
    assert headline["break_even_conversion"] == pytest.approx(0.0332577155, abs=1e-10)
    assert headline["break_even_conversion_npv"] == pytest.approx(0.0289437092, abs=1e-10)
    assert "one-off" in headline["break_even_sentence"]  # severance is a one-off cost
    assert headline["p_loss"] is None  # no draws, no chance figure
    assert headline["verdict"] == "does not pay"


def test_each_control_moves_the_answer_the_right_way(profiles):
    company = profiles["ecommerce"]
    base, _ = explore_state(company, {}, draws=0)
    more_leave, _ = explore_state(company, {"switch_conversion": 0.2}, draws=0)
    assert more_leave["npv"] < base["npv"]
    assert more_leave["annual_loyalty_cost"] > base["annual_loyalty_cost"]
    assert more_leave["annual_savings"] == base["annual_savings"]
    dearer_humans, _ = explore_state(company, {"cost_human_contact": 12.0}, draws=0)
    assert dearer_humans["annual_savings"] > base["annual_savings"]
    mitigated, _ = explore_state(company, {"escalation_mitigation": 0.9}, draws=0)
    assert mitigated["annual_loyalty_cost"] < base["annual_loyalty_cost"]
    assert mitigated["break_even_conversion_npv"] > base["break_even_conversion_npv"]
    less_ai, _ = explore_state(company, {"ai_resolution_share": 0.2}, draws=0)
    assert less_ai["annual_savings"] < base["annual_savings"]
    assert less_ai["customers_lost_per_year"] < base["customers_lost_per_year"]


@pytest.mark.parametrize("scenario", ["hybrid", "full_automation"])
def test_the_chart_is_the_reports_curve_with_the_break_even_marked(profiles, scenario):
    company = profiles["telecom"]
    headline, figure = explore_state(company, {}, scenario=scenario, draws=0)
    lines = curve_lines(figure)
    title = {"hybrid": "Hybrid", "full_automation": "Full automation"}[scenario]
    assert list(lines) == [title]  # no reference curve without overrides
    x = np.asarray(lines[title].get_xdata(), dtype=float)
    y = np.asarray(lines[title].get_ydata(), dtype=float)
    np.testing.assert_array_equal(y, conversion_curve(company.parameters, scenario, conversion=x))
    k_star = headline["break_even_conversion_npv"]  # where the curve crosses zero
    dots = [ln for ln in figure.axes[0].get_lines() if list(ln.get_xdata()) == [k_star]]
    # model v2: both scenarios break even inside the axis (telecom's one-off costs counted)
    assert x.min() <= k_star <= x.max()
    assert len(dots) == 1, "break-even point not drawn"
    assert list(dots[0].get_ydata()) == [0.0]
    assert np.interp(k_star, x, y) == pytest.approx(0.0, abs=1e-6 * np.ptp(y))
    annual = headline["break_even_conversion"]
    assert not [ln for ln in figure.axes[0].get_lines() if list(ln.get_xdata()) == [annual]]
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "Conversion set" in labels


def test_with_overrides_the_reports_curve_is_drawn_dashed_for_comparison(profiles):
    company = profiles["telecom"]
    _, figure = explore_state(company, {"switch_conversion": 0.3}, draws=0)
    lines = curve_lines(figure)
    explored = lines["Full automation, explored values"]
    reference = lines["Full automation, report's values"]
    assert reference.get_linestyle() == "--"
    x = np.asarray(explored.get_xdata(), dtype=float)
    assert x.max() >= 0.3 * 1.15 - 1e-9  # the axis reaches past the value set
    np.testing.assert_array_equal(
        np.asarray(reference.get_ydata(), dtype=float),
        conversion_curve(company.parameters, "full_automation", conversion=x),
    )
    # only switch_conversion moved, and the curve is NPV over switch_conversion
    np.testing.assert_allclose(explored.get_ydata(), reference.get_ydata())
    vertical = [ln for ln in figure.axes[0].get_lines() if ln.get_label() == "Conversion set"]
    assert list(vertical[0].get_xdata()) == [0.3, 0.3]


def test_state_is_reproducible_bit_for_bit(profiles):
    first, _ = explore_state(profiles["fintech"], {"switch_conversion": 0.08})
    second, _ = explore_state(profiles["fintech"], {"switch_conversion": 0.08})
    assert first == second


def test_bad_input_is_named(profiles):
    company = profiles["telecom"]
    with pytest.raises(ParameterError, match=r"ai_resolution_share \+ ai_escalation_share"):
        explore_state(company, {"ai_resolution_share": 0.95}, scenario="full_automation")
    with pytest.raises(ParameterError, match="did you mean 'switch_conversion'"):
        explore_state(company, {"switch_convertion": 0.1})
    with pytest.raises(ParameterError, match=r"switch_conversion = 1\.5"):
        explore_state(company, {"switch_conversion": 1.5})
    with pytest.raises(ParameterError, match="unknown scenario 'hybird'"):
        explore_state(company, {}, scenario="hybird")


def test_headline_html_shows_the_numbers_and_escapes_free_text():
    hostile = "<script>alert(1)</script> & Sons"
    headline, _ = explore_state(worked_profile(hostile), {}, draws=200, seed=1)
    text = headline_html(headline)
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in text
    assert money(headline["npv"], "EUR") in text
    assert break_even_words(headline["break_even_conversion_npv"]) in text
    assert "Break-even conversion (NPV = 0 over 3 years)" in text
    assert customers(headline["customers_lost_per_year"]) in text
    assert "Net present value (3 years)" in text


# --------------------------------------------------------------------------- the panel


def test_panel_starts_on_the_reports_base_case(profiles):
    panel = control_panel(profiles, profile="telecom", scenario="full_automation", draws=1000)
    expected, _ = explore_state(profiles["telecom"], {}, draws=1000)
    assert panel.state == expected
    assert panel.overrides() == {}
    assert panel.headline.value == headline_html(expected)
    assert bytes(panel.chart.value).startswith(PNG_MAGIC)
    used = scenario_phases(profiles["telecom"].parameters, "full_automation")[0][1]
    for name, slider in panel.controls.items():
        assert slider.value == getattr(used, name), name
    # a + q <= 1: the automation slider stops where the escalation share leaves room
    assert panel.controls["ai_resolution_share"].max == pytest.approx(1 - used.ai_escalation_share)
    assert panel.message.value == ""


def test_moving_a_slider_redraws_headline_and_chart(profiles):
    panel = control_panel(profiles, profile="telecom", draws=1000)
    before_html, before_png = panel.headline.value, bytes(panel.chart.value)
    panel.controls["switch_conversion"].value = 0.2
    expected, _ = explore_state(profiles["telecom"], {"switch_conversion": 0.2}, draws=1000)
    assert panel.overrides() == {"switch_conversion": 0.2}
    assert panel.state == expected
    assert panel.headline.value == headline_html(expected)
    assert panel.headline.value != before_html
    assert money(expected["npv"], "EUR") in panel.headline.value
    assert bytes(panel.chart.value).startswith(PNG_MAGIC)
    assert bytes(panel.chart.value) != bytes(before_png)

    panel.controls["cost_human_contact"].value = 11.0
    both, _ = explore_state(
        profiles["telecom"], {"switch_conversion": 0.2, "cost_human_contact": 11.0}, draws=1000
    )
    assert panel.state == both
    assert both["annual_savings"] > expected["annual_savings"]


def test_every_slider_is_wired(profiles):
    panel = control_panel(profiles, profile="retail_bank", scenario="hybrid", draws=0)
    new_values = {
        "ai_resolution_share": 0.55,
        "switch_conversion": 0.09,
        "escalation_mitigation": 0.3,
        "cost_human_contact": 4.5,
    }
    for name, value in new_values.items():
        npv_before = panel.state["npv"]
        panel.controls[name].value = value
        assert panel.state["overrides"][name] == value
        assert panel.state["npv"] != npv_before, name
    expected, _ = explore_state(profiles["retail_bank"], new_values, scenario="hybrid", draws=0)
    assert panel.state == expected


def test_profile_dropdown_resets_the_sliders_to_that_profile(profiles):
    panel = control_panel(profiles, profile="telecom", draws=0)
    panel.controls["switch_conversion"].value = 0.3
    panel.profile.value = "b2b_software"
    company = profiles["b2b_software"]
    assert panel.overrides() == {}
    assert panel.controls["cost_human_contact"].value == company.parameters.cost_human_contact
    assert panel.controls["cost_human_contact"].max >= company.parameters.cost_human_contact
    expected, _ = explore_state(company, {}, draws=0)
    assert panel.state == expected
    assert company.display_name in panel.headline.value
    assert panel.controls["cost_human_contact"].description == "Cost per human contact (USD)"
    assert money(expected["npv"], "USD") in panel.headline.value


def test_scenario_dropdown_and_reset_button(profiles):
    panel = control_panel(profiles, profile="ecommerce", scenario="full_automation", draws=0)
    panel.scenario.value = "hybrid"
    hybrid = scenario_phases(profiles["ecommerce"].parameters, "hybrid")[0][1]
    assert panel.controls["ai_resolution_share"].value == hybrid.ai_resolution_share
    assert panel.controls["escalation_mitigation"].value == hybrid.escalation_mitigation
    assert panel.state["scenario"] == "hybrid"
    panel.controls["escalation_mitigation"].value = 0.1
    assert panel.overrides() == {"escalation_mitigation": 0.1}
    panel.reset_button.click()
    assert panel.overrides() == {}
    expected, _ = explore_state(profiles["ecommerce"], {}, scenario="hybrid", draws=0)
    assert panel.state == expected


def test_an_impossible_setting_shows_the_error_and_keeps_working(profiles):
    panel = control_panel(profiles, profile="telecom", draws=0)
    slider = panel.controls["ai_resolution_share"]
    slider.max = 1.0  # past the a + q <= 1 limit the panel sets itself
    slider.value = 0.95
    assert panel.state is None
    assert panel.headline.value == ""
    assert "ai_resolution_share + ai_escalation_share" in panel.message.value
    slider.value = 0.5
    assert panel.message.value == ""
    assert panel.state is not None and panel.state["overrides"] == {"ai_resolution_share": 0.5}


def test_panel_refuses_what_it_cannot_show(profiles):
    with pytest.raises(ParameterError, match="not offered"):
        control_panel(profiles, profile="telecom", scenario="status_quo")
    with pytest.raises(ParameterError, match="unknown profile 'telcom'; did you mean 'telecom'"):
        control_panel(profiles, profile="telcom")


def test_slider_bounds_cover_every_profile(profiles):
    for company in profiles.values():
        for scenario in explore.PANEL_SCENARIOS:
            used = scenario_phases(company.parameters, scenario)[0][1]
            for name in explore.SLIDER_PARAMETERS:
                base = float(getattr(used, name))
                low, high, step = explore._slider_bounds(name, base, used.ai_escalation_share)
                assert low <= base <= high, (company.id, scenario, name)
                assert step > 0 and math.isfinite(high)


def test_the_panel_draws_the_reports_own_break_even_chart(profiles, monkeypatch):
    """One break-even chart in the package: the panel calls the function the report calls."""
    from cxtradeoff import plots

    calls = []
    original = plots.break_even_figure

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(plots, "break_even_figure", spy)
    company = profiles["telecom"]
    _, figure = explore_state(company, {"switch_conversion": 0.2}, scenario="hybrid", draws=0)
    ((args, kwargs),) = calls
    assert args == (company.parameters, ["hybrid"])
    assert kwargs["overrides"] == {"switch_conversion": 0.2}
    report = original(company.parameters, ["hybrid"], currency="EUR")
    # the report's curve is the panel's dashed reference, point for point
    ours = curve_lines(figure)["Hybrid, report's values"]
    theirs = curve_lines(report)["Hybrid"]
    expected = np.interp(ours.get_xdata(), theirs.get_xdata(), theirs.get_ydata())
    np.testing.assert_allclose(ours.get_ydata(), expected, rtol=1e-9)  # NPV is linear in k
