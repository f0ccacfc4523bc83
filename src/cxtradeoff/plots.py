"""Charts of the savings-versus-loyalty analysis (matplotlib figures, project theme).

Each chart function takes plain results (dicts, arrays, DataFrames) and returns a
``Figure``; :func:`break_even_figure` alone evaluates the model, for the NPV curve it
draws (the one chart the reports and the exploration panel share). Colours come from
:data:`cxtradeoff.formatting.COLOURS`, inputs are named by
:func:`cxtradeoff.formatting.parameter_label` (never by their code names), and sizes fit
the printed page (:mod:`cxtradeoff.theme`). Call :func:`cxtradeoff.theme.set_theme`
first; show a figure in a report with :func:`as_svg`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from cxtradeoff.contracts import ScenarioResult
from cxtradeoff.formatting import (
    COLOURS,
    chance,
    money,
    parameter_label,
    scenario_colour,
    scenario_title,
    share,
)
from cxtradeoff.theme import CHART_HEIGHT_IN, PAGE_WIDTH_IN, SMALLEST_TYPE_PT

if TYPE_CHECKING:
    from IPython.display import HTML, SVG

    from cxtradeoff.model import Parameters
    from cxtradeoff.pilot import PilotUpdate
    from cxtradeoff.uncertainty import Simulation

#: the x axis of the break-even chart, in words
CONVERSION_AXIS_LABEL = (
    "Of the customers who would consider leaving over AI, share who leave each year"
)


def money_formatter(currency: str) -> FuncFormatter:
    """Axis labels like ``EUR 12M`` or ``-USD 3.5M`` (:func:`cxtradeoff.formatting.money`)."""
    return FuncFormatter(lambda value, _pos=None: money(value, currency, compact=True))


def _legend_outside(ax: Any, **options: Any) -> None:
    """The legend to the right of the axes, where it can cover no data and no label."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **options)


def conversion_axis(break_even: Sequence[float | None], *, minimum: float = 0.4) -> np.ndarray:
    """x values for :func:`break_even_chart`: 0 to past the largest break-even below 1."""
    finite = [k for k in break_even if k is not None and np.isfinite(k) and 0 < k <= 1]
    top = min(1.0, max([minimum, *(1.15 * k for k in finite)]))
    return np.linspace(0.0, top, 101)


def savings_vs_loyalty(scenarios: Mapping[str, ScenarioResult], *, currency: str) -> Figure:
    """Annual savings, annual loyalty cost and their difference, per scenario (bars)."""
    names = list(scenarios)
    x = np.arange(len(names))
    width = 0.27
    series = [
        ("annual_savings", "Savings a year", COLOURS["savings"]),
        ("annual_loyalty_cost", "Loyalty cost a year", COLOURS["loyalty_cost"]),
    ]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, CHART_HEIGHT_IN))
    for i, (key, label, colour) in enumerate(series):
        values = [float(getattr(scenarios[n], key)) for n in names]
        ax.bar(x + (i - 1) * width, values, width, label=label, color=colour)
    net = [
        float(scenarios[n].annual_savings) - float(scenarios[n].annual_loyalty_cost) for n in names
    ]
    ax.bar(x + width, net, width, label="Net a year", color=COLOURS["net"])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, [scenario_title(n) for n in names])
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_ylabel("A year, base case")
    _legend_outside(ax)
    fig.tight_layout()
    return fig


def break_even_chart(
    conversion: np.ndarray,
    curves: Mapping[str, np.ndarray],
    break_even: Mapping[str, float | None],
    *,
    currency: str,
    prior_interval: tuple[float, float] | None = None,
    base_conversion: float | None = None,
    base_label: str = "Assumed",
) -> Figure:
    """NPV against the switching conversion per scenario, with each break-even marked.

    Parameters
    ----------
    conversion
        The x values (the switching conversion).
    curves
        ``scenario -> NPV`` at each x.
    break_even
        ``scenario -> k*`` (None where undefined); drawn where it falls in the x range.
    prior_interval
        The prior's P10 and P90 of the switching conversion, shaded.
    base_conversion
        The value assumed, drawn as a dotted line labelled ``base_label``.
    """
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, CHART_HEIGHT_IN))
    if prior_interval is not None:
        ax.axvspan(*prior_interval, color="#cccccc", alpha=0.45, label="Prior, P10 to P90")
    for name, npv in curves.items():
        ax.plot(
            conversion, npv, color=scenario_colour(name), linewidth=2.0, label=scenario_title(name)
        )
    marked = sorted(
        (float(k), name)
        for name, k in break_even.items()
        if name in curves
        and k is not None
        and np.isfinite(k)
        and conversion.min() <= k <= conversion.max()
    )
    span = float(conversion.max() - conversion.min()) or 1.0
    level, last = 0, -np.inf
    for k, name in marked:
        # labels of break-evens close together are stacked, never drawn over each other
        level = level + 1 if (k - last) < 0.12 * span else 0
        last = k
        ax.plot([k], [0.0], "o", color=scenario_colour(name), markersize=6)
        ax.annotate(
            share(k),
            (k, 0.0),
            textcoords="offset points",
            xytext=(4, 5 + 11 * level),
            color=scenario_colour(name),
            fontsize=8.5,
        )
    if base_conversion is not None:
        ax.axvline(base_conversion, color="black", linestyle=":", linewidth=1, label=base_label)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel(CONVERSION_AXIS_LABEL)
    ax.set_ylabel("Net present value")
    _legend_outside(ax)
    fig.tight_layout()
    return fig


def break_even_figure(
    parameters: Parameters,
    scenarios: Sequence[str],
    *,
    currency: str,
    overrides: Mapping[str, Any] | None = None,
    compare_without_overrides: bool = False,
    base_label: str = "Assumed",
    minimum: float = 0.4,
) -> Figure:
    """The break-even chart of a company: NPV over the switching conversion, per scenario.

    The one chart the reports and the exploration panel share
    (:func:`cxtradeoff.explore.explore_state`). Each curve is
    :func:`cxtradeoff.uncertainty.conversion_curve`; each dot, where it crosses zero, is the
    scenario's break-even over the horizon with the one-off costs counted (its base
    case's ``break_even_conversion_npv``); the grey band is the prior's P10 to P90 and the
    dotted line the value assumed (both for the first scenario, with the overrides).

    Parameters
    ----------
    parameters
        The company's parameters (before any scenario).
    scenarios
        The scenarios to draw (the status quo, which has no AI, is left out).
    currency
        Label for money amounts.
    overrides
        Parameter values that win over the profile and the scenario.
    compare_without_overrides
        With overrides, also draw each scenario's curve without them (dashed), labelled
        "report's values"; the curves with them are then labelled "explored values".
    base_label
        The legend of the dotted line at the value assumed.
    minimum
        The x axis reaches at least this far (and 15% past every break-even and the
        value assumed).

    Returns
    -------
    Figure
        The caller closes it (:func:`close`).
    """
    from cxtradeoff.decision import base_case
    from cxtradeoff.uncertainty import conversion_curve, distribution_table

    used = dict(overrides or {})
    shown = [s for s in scenarios if s != "status_quo"]
    if not shown:
        raise ValueError("break_even_figure needs at least one scenario other than the status quo")
    k_star = {
        s: base_case(parameters, s, overrides=used)["break_even_conversion_npv"] for s in shown
    }
    reference = (
        {s: base_case(parameters, s)["break_even_conversion_npv"] for s in shown}
        if compare_without_overrides and used
        else {}
    )
    prior = distribution_table(parameters, shown[0], overrides=used)
    row = prior[prior["parameter"] == "switch_conversion"].iloc[0]
    assumed = float(row["base"])
    axis = conversion_axis(
        [*k_star.values(), *reference.values()], minimum=max(minimum, 1.15 * assumed)
    )
    curves = {s: conversion_curve(parameters, s, conversion=axis, overrides=used) for s in shown}
    figure = break_even_chart(
        axis,
        curves,
        {s: float(k) if k is not None else None for s, k in k_star.items()},
        currency=currency,
        prior_interval=(float(row["p10"]), float(row["p90"])),
        base_conversion=assumed,
        base_label=base_label,
    )
    if reference:
        ax = figure.axes[0]
        titles = {scenario_title(s): s for s in shown}
        for line in ax.get_lines():
            if line.get_label() in titles:
                line.set_label(f"{line.get_label()}, explored values")
        for s in shown:
            ax.plot(
                axis,
                conversion_curve(parameters, s, conversion=axis),
                color=scenario_colour(s),
                linestyle="--",
                linewidth=1.4,
                alpha=0.7,
                label=f"{scenario_title(s)}, report's values",
            )
        _legend_outside(ax)
        figure.tight_layout()
    return figure


def npv_heatmap(
    automation: np.ndarray,
    conversion: np.ndarray,
    npv: np.ndarray,
    break_even: np.ndarray,
    *,
    currency: str,
    scenario: str,
    base_point: tuple[float, float] | None = None,
) -> Figure:
    """NPV over automation share x switch conversion, with the break-even contour."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, CHART_HEIGHT_IN))
    limit = float(np.nanmax(np.abs(npv))) or 1.0
    mesh = ax.pcolormesh(
        automation,
        conversion,
        npv,
        cmap="RdBu",
        vmin=-limit,
        vmax=limit,
        shading="nearest",
        rasterized=True,  # one image, not thousands of cells with hairline seams between
    )
    bar = fig.colorbar(mesh, ax=ax, format=money_formatter(currency), pad=0.02)
    bar.set_label("Net present value")
    bar.ax.yaxis.set_major_locator(MaxNLocator(5))
    inside = (
        np.isfinite(break_even)
        & (break_even >= conversion.min())
        & (break_even <= conversion.max())
    )
    ax.plot(
        automation[inside],
        break_even[inside],
        color="black",
        linewidth=2,
        label="Break-even (NPV = 0)",
    )
    if base_point is not None:
        ax.plot(
            *base_point,
            marker="*",
            color="gold",
            markeredgecolor="black",
            markersize=12,
            linestyle="none",
            label=f"{scenario_title(scenario)}, base case",
        )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(parameter_label("ai_resolution_share"))
    ax.set_ylabel("Would-be leavers who leave")
    ax.legend(loc="upper right", framealpha=0.9)
    fig.tight_layout()
    return fig


def automation_heatmap(
    parameters: Parameters,
    scenario: str,
    *,
    currency: str,
    overrides: Mapping[str, Any] | None = None,
) -> Figure:
    """:func:`npv_heatmap` of a company's scenario: the grid
    (:func:`cxtradeoff.uncertainty.npv_grid`) with the scenario's base case starred."""
    from cxtradeoff.model import scenario_phases
    from cxtradeoff.uncertainty import npv_grid

    grid = npv_grid(parameters, scenario, overrides=overrides)
    base = scenario_phases(parameters, scenario, overrides=overrides)[0][1]
    return npv_heatmap(
        grid.automation,
        grid.conversion,
        grid.npv,
        grid.break_even_conversion_npv,
        currency=currency,
        scenario=scenario,
        base_point=(base.ai_resolution_share, base.switch_conversion),
    )


def tornado_figure(
    parameters: Parameters,
    scenario: str,
    *,
    currency: str,
    overrides: Mapping[str, Any] | None = None,
    inputs: int = 8,
) -> Figure:
    """:func:`tornado_chart` of a company's scenario (:func:`cxtradeoff.uncertainty.tornado`)."""
    from cxtradeoff.uncertainty import tornado

    swings = tornado(parameters, scenario, overrides=overrides)
    return tornado_chart(swings, currency=currency, scenario=scenario, inputs=inputs)


def tornado_chart(frame: pd.DataFrame, *, currency: str, scenario: str, inputs: int = 8) -> Figure:
    """Horizontal bars: NPV with each input at its P10 and its P90, around the base NPV.

    Only the ``inputs`` longest bars are drawn (the table beside the chart lists all).
    """
    rows = frame.head(inputs).iloc[::-1]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, CHART_HEIGHT_IN))
    if rows.empty:
        ax.text(
            0.5,
            0.5,
            "No uncertain input matters in this scenario",
            ha="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    base = float(rows["npv_base"].iloc[0])
    y = np.arange(len(rows))
    ax.barh(y, rows["npv_low"] - base, left=base, color=COLOURS["savings"], label="Input at P10")
    ax.barh(
        y,
        rows["npv_high"] - base,
        left=base,
        color=COLOURS["loyalty_cost"],
        label="Input at P90",
        alpha=0.85,
    )
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(y, [parameter_label(p) for p in rows["parameter"]])
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel(f"Net present value, {scenario_title(scenario).lower()}")
    ax.grid(axis="y", visible=False)
    # above the bars, so that the axis keeps the width its money labels need
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False)
    fig.tight_layout()
    return fig


def npv_distribution(draws: Mapping[str, np.ndarray] | Simulation, *, currency: str) -> Figure:
    """Histogram of Monte Carlo NPV per scenario, side by side, with P10, P50, P90 and zero.

    ``draws`` is ``scenario -> NPV draws``, or the simulation the decision was taken on
    (``Analysis.decision.simulation``).
    """
    if not isinstance(draws, Mapping):
        draws = {name: draws.npv_of(name) for name in draws.scenarios}
    names = [n for n in draws if np.ptp(draws[n]) > 0]
    fig, axes = plt.subplots(
        1, max(len(names), 1), figsize=(PAGE_WIDTH_IN, CHART_HEIGHT_IN), squeeze=False
    )
    for ax, name in zip(axes[0, :], names, strict=False):
        values = draws[name]
        lo, mid, hi = np.percentile(values, [10, 50, 90])
        ax.hist(values, bins=60, color=scenario_colour(name), alpha=0.8)
        for q, style in ((lo, "--"), (mid, "-"), (hi, "--")):
            ax.axvline(q, color="black", linestyle=style, linewidth=1)
        ax.axvline(0, color=COLOURS["loyalty_cost"], linewidth=1.5)
        loss = chance(float(np.mean(values < 0)))
        ax.set_title(f"{scenario_title(name)}\n{loss} chance of loss", fontsize=9)
        left, right = np.percentile(values, [0.5, 99.5])
        span = max(right, 0.0) - min(left, 0.0)
        ax.set_xlim(min(left, 0.0) - 0.03 * span, max(right, 0.0) + 0.03 * span)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.xaxis.set_major_formatter(money_formatter(currency))
        ax.set_yticks([])
        ax.grid(axis="y", visible=False)
    if not names:
        axes[0, 0].text(0.5, 0.5, "No scenario has uncertain NPV", ha="center")
        axes[0, 0].set_axis_off()
    fig.supxlabel("Net present value over the draws", fontsize=9)
    fig.tight_layout()
    return fig


def fit(figure: Figure, *, height_in: float = CHART_HEIGHT_IN) -> Figure:
    """Resize a figure made elsewhere to the page's width and ``height_in``, laid out again.

    For a chart drawn at another size (the pilot's prior-and-posterior chart), so that it
    prints at the report's size; type smaller than :data:`cxtradeoff.theme.SMALLEST_TYPE_PT`
    is raised to it.
    """
    from matplotlib.text import Text

    for text in figure.findobj(Text):
        if isinstance(text, Text) and float(text.get_fontsize()) < SMALLEST_TYPE_PT:
            text.set_fontsize(SMALLEST_TYPE_PT)
    figure.set_size_inches(PAGE_WIDTH_IN, height_in)
    figure.tight_layout()
    return figure


def figure_svg(fig: Figure, *, close: bool = True) -> str:
    """Render a figure as SVG text, with text kept as text (searchable in HTML and PDF).

    The SVG scales down to the width of the page or column instead of overflowing it,
    and never up (its type would grow past the size it was drawn at).

    Parameters
    ----------
    fig
        The figure.
    close
        Close the figure afterwards (so a notebook does not show it twice).

    Returns
    -------
    str
        The SVG document.
    """
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "cxtradeoff"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    if close:
        plt.close(fig)
    svg = buffer.getvalue()
    return re.sub(
        r'<svg ([^>]*?)width="([\d.]+)pt" height="[\d.]+pt"',
        r'<svg \1width="100%" style="max-width: \2pt; height: auto"',
        svg,
        count=1,
    )


def as_svg(fig: Figure) -> SVG:
    """The figure for a notebook to show, as SVG with its text kept as text; closes it."""
    from IPython.display import SVG

    return SVG(figure_svg(fig))


def pilot_chart(update: PilotUpdate | None) -> SVG | HTML:
    """The pilot's chart (:func:`cxtradeoff.pilot.prior_posterior_chart`) at the report's
    size, for a notebook to show; nothing (an empty HTML) without a pilot."""
    from IPython.display import HTML

    from cxtradeoff.pilot import prior_posterior_chart

    if update is None:
        return HTML("")
    return as_svg(fit(prior_posterior_chart(update)))


def close(figures: Sequence[Figure]) -> None:
    """Close figures (frees memory in long notebook runs)."""
    for fig in figures:
        plt.close(fig)
