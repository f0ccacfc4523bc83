"""Interactive exploration: sliders that redraw the break-even chart and the headline.

The analyst's notebook ``04-explore.ipynb`` calls two things from here:

- :func:`explore_state`, a pure function: one profile, one scenario and a few
  overrides in, the headline figures and the break-even chart out. It calls the same
  functions as the reports (:func:`cxtradeoff.results.analyse_scenario` and the
  reports' own break-even chart, :func:`cxtradeoff.plots.break_even_figure`), so a
  slider position gives exactly the numbers and the chart a report built with the
  same overrides would print.
- :func:`control_panel`, which builds the ipywidgets controls (profile, scenario,
  automation share, switch conversion, escalation mitigation, cost per human contact)
  and wires every change to :func:`explore_state`. The chart is shown in an
  ``Image`` widget and the headline in an ``HTML`` widget, so the panel also works,
  and can be tested, without a browser: set a control's ``.value`` and read
  ``panel.headline.value``.

Example
-------
>>> from cxtradeoff.profiles import load_profiles
>>> head, fig = explore_state(load_profiles()["telecom"], {"switch_conversion": 0.1})
>>> head["scenario"], head["overrides"]
('full_automation', {'switch_conversion': 0.1})
>>> plots.close([fig])
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from cxtradeoff import plots
from cxtradeoff.contracts import ScenarioResult
from cxtradeoff.errors import CxTradeoffError, ParameterError
from cxtradeoff.formatting import (
    break_even_sentence,
    break_even_words,
    chance,
    customers,
    money,
    scenario_label,
    scenario_title,
    verdict,
)
from cxtradeoff.model import get_scenario, scenario_phases
from cxtradeoff.narrative import counts_one_off_costs
from cxtradeoff.profiles import Profile, get_profile
from cxtradeoff.results import DEFAULT_SEED, analyse_scenario

#: the parameters the sliders move, in the order they are shown
SLIDER_PARAMETERS: tuple[str, ...] = (
    "ai_resolution_share",
    "switch_conversion",
    "escalation_mitigation",
    "cost_human_contact",
)
#: slider labels, in words
SLIDER_LABELS: Mapping[str, str] = {
    "ai_resolution_share": "Automation share",
    "switch_conversion": "Switch conversion",
    "escalation_mitigation": "Escalation mitigation",
    "cost_human_contact": "Cost per human contact",
}
#: scenarios the panel offers (the status quo has no AI to tune; the reversal's two
#: phases would both take a slider's value, which would hide what it is about)
PANEL_SCENARIOS: tuple[str, ...] = ("hybrid", "full_automation")
#: Monte Carlo draws behind the chance of losing money (the report's default)
DEFAULT_DRAWS: int = 20000
#: keys of the headline dict that hold numbers
HEADLINE_NUMBERS: tuple[str, ...] = (
    "annual_savings",
    "annual_loyalty_cost",
    "customers_lost_per_year",
    "npv",
    "break_even_conversion",
    "break_even_conversion_npv",
    "p_conversion_below_break_even",
    "p_loss",
)


def explore_state(
    profile: Profile,
    overrides: Mapping[str, Any],
    *,
    scenario: str = "full_automation",
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
) -> tuple[dict[str, Any], Figure]:
    """The headline figures and the break-even chart for one setting of the controls.

    Parameters
    ----------
    profile
        The company profile.
    overrides
        ``parameter name -> value``, applied after the scenario (as ``--set`` does);
        ``{}`` gives the report's base case.
    scenario
        The scenario whose overrides come first (any of the model's scenarios).
    draws
        Monte Carlo draws behind ``p_loss`` (0: none, ``p_loss`` is None).
    seed
        Seed of the Monte Carlo generator.

    Returns
    -------
    headline : dict
        ``profile``, ``display_name``, ``currency``, ``scenario``, ``horizon_years``,
        ``overrides`` (a plain copy), ``switch_conversion`` (the value used), every key
        of :data:`HEADLINE_NUMBERS` (None where undefined), ``verdict`` (``"pays"`` or
        ``"does not pay"``) and ``break_even_sentence`` (on
        ``break_even_conversion_npv``, where NPV over the horizon is 0, as the reports).
    figure : Figure
        NPV against switch conversion for the scenario with the overrides (solid) and,
        when overrides are given, without them (dashed): the report's curve. The
        caller closes it (:func:`cxtradeoff.plots.close`).

    Raises
    ------
    ParameterError
        If the scenario, an override's name or value, or draws are not allowed
        (for instance ``ai_resolution_share + ai_escalation_share > 1``).
    """
    get_scenario(scenario)
    chosen = dict(overrides)
    result = ScenarioResult(
        **analyse_scenario(profile, scenario, overrides=chosen, draws=draws, seed=seed)
    )
    phases = scenario_phases(profile.parameters, scenario, overrides=chosen)
    used = phases[0][1]
    headline: dict[str, Any] = {
        "profile": profile.id,
        "display_name": profile.display_name,
        "currency": profile.currency,
        "scenario": scenario,
        "horizon_years": used.horizon_years,
        "overrides": chosen,
        "switch_conversion": used.switch_conversion,
        **{key: getattr(result, key) for key in HEADLINE_NUMBERS},
        "verdict": verdict(result.npv),
        "break_even_sentence": break_even_sentence(
            result.break_even_conversion_npv, one_off_costs=counts_one_off_costs(result)
        ),
    }
    figure = _chart(profile, scenario, chosen, headline)
    return headline, figure


def _chart(
    profile: Profile, scenario: str, overrides: Mapping[str, Any], headline: Mapping[str, Any]
) -> Figure:
    """The report's break-even chart for the explored setting, plus the report's curve."""
    return plots.break_even_figure(
        profile.parameters,
        [scenario],
        currency=profile.currency,
        overrides=overrides,
        compare_without_overrides=True,
        base_label="Conversion set",
    )


def headline_html(headline: Mapping[str, Any]) -> str:
    """The headline dict of :func:`explore_state` as a short HTML block.

    Free text (the profile's display name) is escaped, so it shows as typed.

    Examples
    --------
    >>> head = {"display_name": "A & B", "currency": "EUR", "scenario": "hybrid",
    ...         "horizon_years": 3, "annual_savings": 2e6, "annual_loyalty_cost": 5e5,
    ...         "customers_lost_per_year": 800.0, "npv": 3.7e6, "verdict": "pays",
    ...         "break_even_conversion_npv": 0.2, "p_loss": None,
    ...         "break_even_sentence": "It pays only if fewer than 20.0% ... leave."}
    >>> "A &amp; B" in headline_html(head)
    True
    """
    currency = str(headline["currency"])
    label = scenario_label(str(headline["scenario"]))
    rows = [
        ("Savings a year", money(headline.get("annual_savings"), currency)),
        ("Loyalty cost a year", money(headline.get("annual_loyalty_cost"), currency)),
        ("Customers lost a year", customers(headline.get("customers_lost_per_year"))),
        (
            f"Net present value ({int(headline['horizon_years'])} years)",
            money(headline.get("npv"), currency),
        ),
        (
            f"Break-even conversion (NPV = 0 over {int(headline['horizon_years'])} years)",
            break_even_words(headline.get("break_even_conversion_npv")),
        ),
        ("Chance of losing money", chance(headline.get("p_loss"))),
    ]
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(name)}</th>"
        f"<td style='text-align:right'>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return (
        f"<div class='cxtradeoff-headline'><p><b>{html.escape(str(headline['display_name']))}"
        f"</b>: {html.escape(label)} <b>{html.escape(str(headline['verdict']))}</b> on these "
        f"values. {html.escape(str(headline['break_even_sentence']))}</p>"
        f"<table>{cells}</table></div>"
    )


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (then closed)."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _slider_bounds(name: str, base: float, q: float) -> tuple[float, float, float]:
    """(min, max, step) of a slider around a base value."""
    if name == "cost_human_contact":
        top = max(10.0, math.ceil(3.0 * base))
        return 0.0, top, 0.05 if top <= 20 else 0.5
    if name == "ai_resolution_share":
        # a + q <= 1: the slider stops where the scenario's escalation share leaves room
        return 0.0, round(1.0 - q, 10), 0.01
    if name == "switch_conversion":
        return 0.0, 1.0, 0.005
    return 0.0, 1.0, 0.01


@dataclass
class ExplorePanel:
    """The controls, the headline and the chart, wired together.

    Attributes
    ----------
    widget
        The whole panel (display it in a notebook).
    profile, scenario
        The dropdowns.
    controls
        ``parameter name -> slider`` for :data:`SLIDER_PARAMETERS`.
    reset_button
        Puts every slider back to the report's values.
    headline
        HTML widget with :func:`headline_html` of the current state ("" on an error).
    chart
        Image widget with the break-even chart as PNG.
    message
        HTML widget with the last error (empty when the state is valid).
    state
        The last headline dict (None after an error).
    """

    profiles: Mapping[str, Profile]
    profile: widgets.Dropdown
    scenario: widgets.Dropdown
    controls: dict[str, widgets.FloatSlider]
    reset_button: widgets.Button
    headline: widgets.HTML
    chart: widgets.Image
    message: widgets.HTML
    widget: widgets.Box
    draws: int
    seed: int
    state: dict[str, Any] | None = None
    _holding: bool = field(default=False, repr=False)

    def base_values(self) -> dict[str, float]:
        """The slider parameters' values in the selected profile and scenario."""
        company = self.profiles[self.profile.value]
        used = scenario_phases(company.parameters, self.scenario.value)[0][1]
        return {name: float(getattr(used, name)) for name in SLIDER_PARAMETERS}

    def overrides(self) -> dict[str, float]:
        """The sliders that differ from the base values, as overrides."""
        base = self.base_values()
        return {
            name: float(slider.value)
            for name, slider in self.controls.items()
            if not math.isclose(float(slider.value), base[name], rel_tol=1e-12, abs_tol=1e-12)
        }

    def reset(self) -> None:
        """Move every slider to the selected profile's and scenario's values, then redraw."""
        company = self.profiles[self.profile.value]
        used = scenario_phases(company.parameters, self.scenario.value)[0][1]
        self._holding = True
        try:
            for name, slider in self.controls.items():
                base = float(getattr(used, name))
                low, high, step = _slider_bounds(name, base, used.ai_escalation_share)
                # widen first so that neither the old value nor the new one is clipped
                slider.min, slider.max = min(slider.min, low), max(slider.max, high)
                slider.value = base
                slider.min, slider.max, slider.step = low, high, step
            money = self.controls["cost_human_contact"]
            money.description = f"{SLIDER_LABELS['cost_human_contact']} ({company.currency})"
        finally:
            self._holding = False
        self.refresh()

    def refresh(self) -> None:
        """Recompute the state from the controls and redraw the headline and the chart."""
        if self._holding:
            return
        company = self.profiles[self.profile.value]
        try:
            head, figure = explore_state(
                company,
                self.overrides(),
                scenario=self.scenario.value,
                draws=self.draws,
                seed=self.seed,
            )
        except CxTradeoffError as exc:
            self.state = None
            self.headline.value = ""
            self.message.value = f"<p style='color:#b2182b'>{html.escape(str(exc))}</p>"
            return
        self.state = head
        self.message.value = ""
        self.headline.value = headline_html(head)
        self.chart.value = figure_png(figure)

    def _on_value(self, _change: Mapping[str, Any]) -> None:
        self.refresh()

    def _on_selection(self, _change: Mapping[str, Any]) -> None:
        self.reset()


def control_panel(
    profiles: Mapping[str, Profile],
    *,
    profile: str,
    scenario: str = "full_automation",
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    scenarios: Sequence[str] = PANEL_SCENARIOS,
) -> ExplorePanel:
    """Build the control panel, draw its first state and wire every control.

    Parameters
    ----------
    profiles
        ``profile id -> Profile`` (from :func:`cxtradeoff.profiles.load_profiles`).
    profile
        The profile selected at first.
    scenario
        The scenario selected at first; one of ``scenarios``.
    draws, seed
        Monte Carlo settings behind the chance of losing money.
    scenarios
        The scenarios the dropdown offers.

    Returns
    -------
    ExplorePanel
        Display ``panel.widget``.

    Raises
    ------
    ParameterError
        If the profile or the scenario is unknown, or the scenario is not offered.
    """
    get_profile(profiles, profile)
    for name in scenarios:
        get_scenario(name)
    if scenario not in scenarios:
        raise ParameterError(
            f"scenario {scenario!r} is not offered by the control panel "
            f"(choose one of: {', '.join(scenarios)})"
        )
    layout = widgets.Layout(width="34em")
    style = {"description_width": "13em"}
    profile_box = widgets.Dropdown(
        options=[(p.display_name, p.id) for p in profiles.values()],
        value=profile,
        description="Company profile",
        layout=layout,
        style=style,
    )
    scenario_box = widgets.Dropdown(
        options=[(scenario_title(s), s) for s in scenarios],
        value=scenario,
        description="Scenario",
        layout=layout,
        style=style,
    )
    controls = {
        name: widgets.FloatSlider(
            value=0.0,
            min=0.0,
            max=1.0,
            step=0.01,
            description=SLIDER_LABELS[name],
            continuous_update=False,
            readout_format=".2f" if name == "cost_human_contact" else ".1%",
            layout=layout,
            style=style,
        )
        for name in SLIDER_PARAMETERS
    }
    reset_button = widgets.Button(description="Reset to the report's values", layout=layout)
    headline = widgets.HTML()
    message = widgets.HTML()
    chart = widgets.Image(
        format="png", layout=widgets.Layout(width="100%", max_width="900px", height="auto")
    )
    box = widgets.VBox(
        [
            widgets.HBox(
                [
                    widgets.VBox(
                        [profile_box, scenario_box, *controls.values(), reset_button],
                        layout=widgets.Layout(flex="0 0 auto", width="36em"),
                    ),
                    widgets.VBox(
                        [headline, message],
                        layout=widgets.Layout(flex="1 1 auto", min_width="22em", padding="0 1em"),
                    ),
                ]
            ),
            chart,
        ]
    )
    panel = ExplorePanel(
        profiles=profiles,
        profile=profile_box,
        scenario=scenario_box,
        controls=controls,
        reset_button=reset_button,
        headline=headline,
        chart=chart,
        message=message,
        widget=box,
        draws=draws,
        seed=seed,
    )
    profile_box.observe(panel._on_selection, names="value")
    scenario_box.observe(panel._on_selection, names="value")
    for slider in controls.values():
        slider.observe(panel._on_value, names="value")
    reset_button.on_click(lambda _button: panel.reset())
    panel.reset()
    return panel
