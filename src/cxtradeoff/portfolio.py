"""Roll up a portfolio: many units' results files, ranked, totalled, and the doubtful ones.

A portfolio (a group's country operations, an outsourcer's client accounts) is built as
one savings-versus-loyalty report per unit (``portfolio:`` in ``reports.yaml``) and a
roll-up report, ``notebooks/07-portfolio.ipynb``, that reads every unit's results file
through the contract (:func:`cxtradeoff.contracts.load_results`) and calls this module:

- :func:`portfolio_frame`: one row per unit, the recommended scenario's figures;
- :func:`ranked`: units by expected NPV (highest first), then by chance of loss;
- :func:`totals`: per currency (amounts are never converted nor added across currencies);
- :func:`least_certain`: the units where the recommendation is least certain: the lowest
  chance that the recommended scenario is the best, then the flip point (the switching
  conversion at which the call changes) closest to the assumed conversion;
- :func:`portfolio_summary`: all of it in a few sentences.

Every number is worded by :mod:`cxtradeoff.formatting`, as in the units' own reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cxtradeoff.contracts import ResultsFile, load_results
from cxtradeoff.errors import DataValidationError
from cxtradeoff.formatting import (
    break_even_words,
    chance,
    customers,
    money,
    scenario_colour,
    scenario_title,
    share,
)
from cxtradeoff.narrative import escape_text
from cxtradeoff.theme import PAGE_WIDTH_IN

#: the columns of :func:`portfolio_frame`, in order
COLUMNS = (
    "profile",
    "unit",
    "currency",
    "recommended",
    "npv_mean",
    "npv_p10",
    "npv_p90",
    "p_loss",
    "p_best",
    "annual_savings",
    "customers_lost_per_year",
    "break_even",
    "assumed",
    "flip",
    "flip_to",
    "flip_direction",
    "flip_gap",
    "evppi",
)


def load_units(paths: Sequence[str | Path]) -> list[ResultsFile]:
    """Read the units' results files (each checked against the contract).

    Raises
    ------
    DataValidationError
        Naming the file and every field at fault, or when no file is given.
    """
    loaded = [load_results(path) for path in paths]
    if not loaded:
        raise DataValidationError("results_files", ["no results file given"])
    return loaded


def portfolio_frame(results: Sequence[ResultsFile]) -> pd.DataFrame:
    """One row per unit with its recommended scenario's figures (unrounded).

    ``flip`` is the switching conversion at which the recommendation changes (NaN when
    none in 0..1 does), ``flip_gap`` its distance from the assumed conversion in
    shares (infinite when there is no flip: nothing would change the call).
    """
    rows = []
    for data in results:
        head = data.headline
        flip = head.flip.conversion
        rows.append(
            {
                "profile": data.profile,
                "unit": data.display_name,
                "currency": data.currency,
                "recommended": data.recommended,
                "npv_mean": head.npv_mean,
                "npv_p10": head.npv_p10,
                "npv_p90": head.npv_p90,
                "p_loss": head.p_loss,
                "p_best": head.p_best,
                "annual_savings": head.annual_savings,
                "customers_lost_per_year": head.customers_lost_per_year,
                "break_even": _number(head.break_even_conversion_npv),
                "assumed": head.flip.assumed,
                "flip": _number(flip),
                "flip_to": head.flip.to or "",
                "flip_direction": head.flip.direction or "",
                "flip_gap": math.inf if flip is None else abs(flip - head.flip.assumed),
                "evppi": data.evppi_switch_conversion,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """Units by expected NPV, highest first, then by chance of loss, lowest first.

    NPVs in different currencies are ranked by their amounts as they stand (no
    conversion): a portfolio in one currency ranks exactly; across currencies the table
    shows each amount in its own.
    """
    order = frame.sort_values(
        ["npv_mean", "p_loss", "profile"], ascending=[False, True, True], kind="stable"
    )
    return order.reset_index(drop=True)


def least_certain(frame: pd.DataFrame, count: int = 10) -> pd.DataFrame:
    """The ``count`` units whose recommendation is least certain.

    Lowest chance that the recommended scenario is the best first; among equals, the
    flip point closest to the assumed conversion (a small error in that prior would
    change the call).
    """
    order = frame.sort_values(["p_best", "flip_gap", "profile"], kind="stable")
    return order.head(max(0, count)).reset_index(drop=True)


def totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Per currency: units, expected NPV summed, its sum at P10 and P90 taken unit by
    unit (not a portfolio's P10/P90: units are not independent), annual savings,
    customers lost a year, units recommended an AI scenario, units expected to lose money
    (the sum of their chances of loss)."""
    groups = []
    for currency, group in frame.groupby("currency", sort=True):
        groups.append(
            {
                "currency": currency,
                "units": len(group),
                "npv_mean": group["npv_mean"].sum(),
                "npv_p10_sum": group["npv_p10"].sum(),
                "npv_p90_sum": group["npv_p90"].sum(),
                "annual_savings": group["annual_savings"].sum(),
                "customers_lost_per_year": group["customers_lost_per_year"].sum(),
                "ai_recommended": int((group["recommended"] != "status_quo").sum()),
                "expected_losses": float(group["p_loss"].sum()),
            }
        )
    return pd.DataFrame(groups)


def _flip_words(row: pd.Series) -> str:
    if math.isnan(row["flip"]) or not row["flip_to"]:
        return "nowhere from 0 to 100%"
    side = "above" if row["flip_direction"] == "above" else "below"
    return f"{side} {share(float(row['flip']))}: {scenario_title(str(row['flip_to'])).lower()}"


def ranking_table_html(frame: pd.DataFrame, *, limit: int = 0) -> str:
    """The ranking as an escaped HTML table, money in each unit's own currency
    (``limit`` rows, all when 0)."""
    rows = ranked(frame)
    if limit > 0:
        rows = rows.head(limit)
    shown = pd.DataFrame(
        {
            "#": range(1, len(rows) + 1),
            "Unit": rows["unit"],  # to_html escapes it
            "Recommended": rows["recommended"].map(scenario_title),
            "Expected NPV": [
                money(v, c) for v, c in zip(rows["npv_mean"], rows["currency"], strict=True)
            ],
            "P10 / P90": [
                f"{money(lo, c, compact=True)} / {money(hi, c, compact=True)}"
                for lo, hi, c in zip(
                    rows["npv_p10"], rows["npv_p90"], rows["currency"], strict=True
                )
            ],
            "Chance of loss": rows["p_loss"].map(chance),
            "Chance it is best": rows["p_best"].map(chance),
            "Break-even": rows["break_even"].map(
                lambda v: break_even_words(None if math.isnan(v) else float(v))
            ),
        }
    )
    return str(shown.to_html(index=False, escape=True, border=0, classes="cx-portfolio"))


def least_certain_table_html(frame: pd.DataFrame, count: int = 10) -> str:
    """The least certain units as an escaped HTML table."""
    rows = least_certain(frame, count)
    shown = pd.DataFrame(
        {
            "#": range(1, len(rows) + 1),  # the numbers on the certainty chart
            "Unit": rows["unit"],
            "Recommended": rows["recommended"].map(scenario_title),
            "Chance it is best": rows["p_best"].map(chance),
            "Assumed conversion": rows["assumed"].map(share),
            "Call flips at": [_flip_words(row) for _, row in rows.iterrows()],
            "Worth measuring (EVPPI)": [
                money(v, c) for v, c in zip(rows["evppi"], rows["currency"], strict=True)
            ],
        }
    )
    return str(shown.to_html(index=False, escape=True, border=0, classes="cx-portfolio"))


def totals_table_html(frame: pd.DataFrame) -> str:
    """:func:`totals` as an escaped HTML table, one row per currency."""
    rows = totals(frame)
    shown = pd.DataFrame(
        {
            "Currency": rows["currency"],
            "Units": rows["units"],
            "AI recommended": rows["ai_recommended"],
            "Expected NPV, summed": [
                money(v, c) for v, c in zip(rows["npv_mean"], rows["currency"], strict=True)
            ],
            "Annual savings, summed": [
                money(v, c) for v, c in zip(rows["annual_savings"], rows["currency"], strict=True)
            ],
            "Customers lost a year": rows["customers_lost_per_year"].map(customers),
            "Units expected to lose money": rows["expected_losses"].map(lambda v: f"{v:.1f}"),
        }
    )
    return str(shown.to_html(index=False, escape=True, border=0, classes="cx-portfolio"))


def portfolio_summary(frame: pd.DataFrame, *, least: int = 3) -> str:
    """A Markdown paragraph, generated from the figures: what is recommended across the
    portfolio, what it adds up to in each currency, and where the call is least sure."""
    count = len(frame)
    if count == 0:
        return "The portfolio has no unit."
    by_scenario = frame["recommended"].value_counts()
    recommended = "; ".join(
        f"{scenario_title(str(s)).lower()} for {n}" for s, n in by_scenario.items()
    )
    lines = [f"Of {count} units, the analysis recommends {recommended}."]
    for _, row in totals(frame).iterrows():
        currency = str(row["currency"])
        lines.append(
            f"In {escape_text(currency)} ({row['units']} unit{'s' if row['units'] != 1 else ''}), "
            "the recommended scenarios add up to an "
            f"expected net present value of {money(float(row['npv_mean']), currency)}; on "
            f"average {row['expected_losses']:.1f} of these units would lose money."
        )
    doubtful = least_certain(frame, least)
    if len(doubtful):
        names = ", ".join(
            f"**{escape_text(str(r['unit']))}** ({chance(float(r['p_best']))} that "
            f"{scenario_title(str(r['recommended'])).lower()} is best)"
            for _, r in doubtful.iterrows()
        )
        lines.append(f"The call is least certain for {names}.")
    return " ".join(lines)


def certainty_chart(frame: pd.DataFrame, *, label: int = 5) -> Figure:
    """Each unit's chance of losing money against the chance that its recommended
    scenario is the best, coloured by that scenario. The ``label`` least certain units
    carry their number in the least-certain table (1 the least certain); labels of points
    that lie together are stacked, never drawn over each other. Chances have no currency,
    so units of any currency share the chart."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 4.2))
    for scenario, group in frame.groupby("recommended", sort=True):
        ax.scatter(
            group["p_best"],
            group["p_loss"],
            s=28,
            alpha=0.8,
            color=scenario_colour(str(scenario)),
            label=scenario_title(str(scenario)),
            edgecolor="white",
            linewidth=0.5,
        )
    top = max(0.1, float(np.nanmax(frame["p_loss"])) * 1.15) if len(frame) else 1.0
    placed: list[tuple[float, float]] = []  # label positions, in axes fractions
    for number, (_, row) in enumerate(least_certain(frame, label).iterrows(), start=1):
        x, y = float(row["p_best"]), float(row["p_loss"])
        at = ((x + 0.02) / 1.04, (y + 0.02 * top) / (1.02 * top))
        lift = 0
        while any(abs(at[0] - px) < 0.035 and abs(at[1] + lift * 0.055 - py) < 0.05
                  for px, py in placed):  # fmt: skip
            lift += 1
        placed.append((at[0], at[1] + lift * 0.055))
        ax.annotate(
            str(number),
            (x, y),
            xytext=(5, 3 + lift * 11),
            textcoords="offset points",
            fontsize=8.5,
            fontweight="bold",
            arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.6} if lift else None,
        )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02 * top, top)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    ax.set_xlabel("Chance that the recommended scenario is the best")
    ax.set_ylabel("Chance of losing money")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="Recommended")
    fig.tight_layout()
    return fig
