"""Charts of the savings-versus-loyalty analysis (matplotlib figures, project theme).

Each function takes plain results (dicts, arrays, DataFrames) and returns a
``Figure``; nothing here computes the model. Colours come from
:data:`cxtradeoff.formatting.COLOURS`; widths fit an A4 page (``theme.PAGE_WIDTH_IN``).
Call :func:`cxtradeoff.theme.set_theme` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from cxtradeoff.contracts import ScenarioResult
from cxtradeoff.formatting import COLOURS, money, scenario_colour, scenario_title
from cxtradeoff.theme import PAGE_WIDTH_IN


def money_formatter(currency: str) -> FuncFormatter:
    """Axis labels like ``EUR 12M`` or ``-USD 3.5M`` (:func:`cxtradeoff.formatting.money`)."""
    return FuncFormatter(lambda value, _pos=None: money(value, currency, compact=True))


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
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 4.0))
    for i, (key, label, colour) in enumerate(series):
        values = [float(getattr(scenarios[n], key)) for n in names]
        ax.bar(x + (i - 1) * width, values, width, label=label, color=colour)
    net = [
        float(scenarios[n].annual_savings) - float(scenarios[n].annual_loyalty_cost)
        for n in names
    ]
    ax.bar(x + width, net, width, label="Net a year", color=COLOURS["net"])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, [scenario_title(n) for n in names])
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_title("What AI saves against what lost customers cost")
    ax.legend(loc="best")
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
) -> Figure:
    """NPV against switch conversion per scenario, with each break-even marked.

    Parameters
    ----------
    conversion
        The x values (switch_conversion).
    curves
        ``scenario -> NPV`` at each x.
    break_even
        ``scenario -> k*`` (None where undefined); drawn where it falls in the x range.
    prior_interval
        The prior's P10 and P90 of switch_conversion, shaded.
    base_conversion
        The base value, drawn as a dotted line.
    """
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 4.2))
    if prior_interval is not None:
        ax.axvspan(*prior_interval, color="#cccccc", alpha=0.45, label="Prior P10 to P90")
    for name, npv in curves.items():
        ax.plot(conversion, npv, color=scenario_colour(name), linewidth=2.2, label=scenario_title(name))
        k = break_even.get(name)
        if k is not None and np.isfinite(k) and conversion.min() <= k <= conversion.max():
            ax.plot([k], [0.0], "o", color=scenario_colour(name), markersize=7)
            ax.annotate(
                f"{100 * k:.1f}%",
                (k, 0.0),
                textcoords="offset points",
                xytext=(4, 8),
                color=scenario_colour(name),
                fontsize=9.5,
            )
    if base_conversion is not None:
        ax.axvline(base_conversion, color="black", linestyle=":", linewidth=1, label="Base value")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel("Share of would-be switchers who actually leave (switch_conversion)")
    ax.set_ylabel("Net present value")
    ax.set_title("Break-even: where lost customers eat the savings")
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


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
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 4.8))
    limit = float(np.nanmax(np.abs(npv))) or 1.0
    mesh = ax.pcolormesh(
        automation, conversion, npv, cmap="RdBu", vmin=-limit, vmax=limit, shading="nearest"
    )
    bar = fig.colorbar(mesh, ax=ax, format=money_formatter(currency))
    bar.set_label("Net present value")
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
            markersize=14,
            linestyle="none",
            label="Base case",
        )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Contacts fully resolved by AI (ai_resolution_share)")
    ax.set_ylabel("Would-be switchers who leave")
    ax.set_title(f"{scenario_title(scenario)}: NPV by automation and conversion")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def tornado_chart(frame: pd.DataFrame, *, currency: str, scenario: str) -> Figure:
    """Horizontal bars: NPV with each input at its P10 and its P90, around the base NPV."""
    rows = frame.iloc[::-1]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 0.55 * max(len(rows), 2) + 1.6))
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
    labels = [f"{p} ({s})" for p, s in zip(rows["parameter"], rows["symbol"], strict=True)]
    ax.set_yticks(y, labels)
    ax.xaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel("Net present value")
    ax.set_title(f"{scenario_title(scenario)}: what moves the answer most")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def npv_distribution(draws: Mapping[str, np.ndarray], *, currency: str) -> Figure:
    """Histogram of Monte Carlo NPV per scenario, with P10, P50, P90 and zero marked."""
    names = [n for n in draws if np.ptp(draws[n]) > 0]
    fig, axes = plt.subplots(
        len(names) or 1, 1, figsize=(PAGE_WIDTH_IN, 2.2 * max(len(names), 1) + 0.6), squeeze=False
    )
    for ax, name in zip(axes[:, 0], names, strict=False):
        values = draws[name]
        lo, mid, hi = np.percentile(values, [10, 50, 90])
        ax.hist(values, bins=80, color=scenario_colour(name), alpha=0.8)
        for q, style in ((lo, "--"), (mid, "-"), (hi, "--")):
            ax.axvline(q, color="black", linestyle=style, linewidth=1)
        ax.axvline(0, color=COLOURS["loyalty_cost"], linewidth=1.5)
        share = float(np.mean(values < 0))
        ax.set_title(f"{scenario_title(name)}: P(NPV < 0) = {100 * share:.0f}%", fontsize=11)
        left, right = np.percentile(values, [0.5, 99.5])
        span = max(right, 0.0) - min(left, 0.0)
        ax.set_xlim(min(left, 0.0) - 0.03 * span, max(right, 0.0) + 0.03 * span)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.xaxis.set_major_formatter(money_formatter(currency))
        ax.set_yticks([])
    if not names:
        axes[0, 0].text(0.5, 0.5, "No scenario has uncertain NPV", ha="center")
        axes[0, 0].set_axis_off()
    axes[-1, 0].set_xlabel(
        "Net present value (dashed: P10 and P90; solid: P50; red: zero; axis cut at P0.5 and P99.5)"
    )
    fig.tight_layout()
    return fig


def close(figures: Sequence[Figure]) -> None:
    """Close figures (frees memory in long notebook runs)."""
    for fig in figures:
        plt.close(fig)
