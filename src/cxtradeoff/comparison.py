"""Compare the savings-versus-loyalty results of several company profiles.

Reads the results files that ``02-savings-vs-loyalty.ipynb`` writes (one per profile)
and lays them side by side. Money is shown in each profile's own currency and never
added across profiles; the charts compare shares and chances, which have no currency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cxtradeoff.contracts import ResultsFile
from cxtradeoff.contracts import load_results as load_results_file
from cxtradeoff.errors import DataValidationError
from cxtradeoff.formatting import (
    break_even_words,
    chance,
    money,
    scenario_colour,
    scenario_title,
    verdict,
)
from cxtradeoff.narrative import escape_text
from cxtradeoff.theme import PAGE_WIDTH_IN

REQUIRED_KEYS = ("profile", "display_name", "currency", "horizon_years", "scenarios")
SCENARIO_KEYS = (
    "annual_savings",
    "annual_loyalty_cost",
    "npv",
    "break_even_conversion",
    "npv_p10",
    "npv_p50",
    "npv_p90",
    "p_loss",
)


NPV_BREAK_EVEN = "break_even_conversion_npv"


def load_results(paths: Sequence[str | Path]) -> list[ResultsFile]:
    """Read the results files of the reports compared.

    Raises
    ------
    DataValidationError
        Naming the file and every field at fault (:func:`cxtradeoff.contracts.load_results`),
        or when no file is given.
    """
    loaded = [load_results_file(path) for path in paths]
    if not loaded:
        raise DataValidationError("results_files", ["no results file given"])
    return loaded


def comparison_frame(results: Sequence[ResultsFile]) -> pd.DataFrame:
    """One row per profile and scenario with the headline figures (unrounded)."""
    rows = []
    for data in results:
        for scenario, result in data.scenarios.items():
            rows.append(
                {
                    "profile": data.profile,
                    "company": data.display_name,
                    "currency": data.currency,
                    "scenario": scenario,
                    **{k: getattr(result, k) for k in (*SCENARIO_KEYS, NPV_BREAK_EVEN)},
                }
            )
    frame = pd.DataFrame(rows)
    for key in (*SCENARIO_KEYS, NPV_BREAK_EVEN):
        frame[key] = pd.to_numeric(frame[key], errors="coerce")
    return frame


def comparison_table_html(frame: pd.DataFrame) -> str:
    """The comparison as an escaped HTML table, money in each profile's own currency."""
    shown = pd.DataFrame(
        {
            "Company": frame["company"],  # to_html escapes it
            "Scenario": frame["scenario"].map(scenario_title),
            "Annual savings": [
                money(v, c)
                for v, c in zip(frame["annual_savings"], frame["currency"], strict=True)
            ],
            "Annual loyalty cost": [
                money(v, c)
                for v, c in zip(frame["annual_loyalty_cost"], frame["currency"], strict=True)
            ],
            "NPV (P10 / P50 / P90)": [
                " / ".join(money(v, c) for v in (lo, mid, hi))
                if not np.isnan(mid)
                else money(npv, c)
                for lo, mid, hi, npv, c in zip(
                    frame["npv_p10"],
                    frame["npv_p50"],
                    frame["npv_p90"],
                    frame["npv"],
                    frame["currency"],
                    strict=True,
                )
            ],
            "Break-even conversion": frame[NPV_BREAK_EVEN].map(_break_even_cell),
            "P(NPV < 0)": frame["p_loss"].map(_chance_cell),
        }
    )
    return str(shown.to_html(index=False, escape=True, border=0, classes="cx-compare"))


def _break_even_cell(value: float) -> str:
    return break_even_words(None if pd.isna(value) else float(value))


def _chance_cell(value: float) -> str:
    return chance(None if pd.isna(value) else float(value))


def comparison_summary(frame: pd.DataFrame) -> str:
    """A Markdown paragraph, generated from the figures, on which companies it pays for."""
    ai = frame[frame["scenario"] != "status_quo"]
    if ai.empty:
        return "No AI scenario was analysed, so there is nothing to compare."
    lines = []
    for company, group in ai.groupby("company", sort=False):
        best = group.loc[group["npv"].idxmax()]
        risk = (
            f", with a {chance(float(best['p_loss']))} chance of losing money under the evidence"
            if not np.isnan(best["p_loss"])
            else ""
        )
        lines.append(
            f"- **{escape_text(str(company))}**: the best AI scenario, "
            f"{scenario_title(str(best['scenario'])).lower()}, {verdict(float(best['npv']))} "
            f"on the base case (NPV {money(float(best['npv']), str(best['currency']))}){risk}."
        )
    paying = ai.groupby("company", sort=False)["npv"].max()
    head = (
        f"Of {len(paying)} companies, AI in customer service pays for "
        f"{int((paying > 0).sum())} on the base case once lost customers are counted."
    )
    return head + "\n\n" + "\n".join(lines)


def _bar_chart(
    frame: pd.DataFrame,
    column: str,
    *,
    title: str,
    xlabel: str,
    words: Callable[[float | None], str],
    reference: float | None = None,
) -> Figure:
    ai = frame[frame["scenario"] != "status_quo"].copy()
    companies = list(dict.fromkeys(ai["company"]))
    scenarios = list(dict.fromkeys(ai["scenario"]))
    fig, ax = plt.subplots(
        figsize=(PAGE_WIDTH_IN, 0.55 * len(companies) * max(1, len(scenarios)) / 1.6 + 1.4)
    )
    height = 0.8 / max(1, len(scenarios))
    y = np.arange(len(companies))
    for i, scenario in enumerate(scenarios):
        sub = ai[ai["scenario"] == scenario].set_index("company").reindex(companies)
        values = sub[column].to_numpy(dtype=float)
        ax.barh(
            y + i * height - 0.4 + height / 2,
            np.nan_to_num(values, nan=0.0),
            height=height * 0.92,
            color=scenario_colour(scenario),
            label=scenario_title(scenario),
        )
        for yy, v in zip(y + i * height - 0.4 + height / 2, values, strict=True):
            ax.text(
                0 if np.isnan(v) else v,
                yy,
                " " + words(None if np.isnan(v) else float(v)),
                va="center",
                fontsize=8.5,
            )
    if reference is not None:
        ax.axvline(reference, color="#1a1a1a", linestyle="--", linewidth=1)
    ax.set_yticks(y, [str(c) for c in companies])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="lower right", frameon=True)
    fig.tight_layout()
    return fig


def break_even_comparison(frame: pd.DataFrame, *, prior_median: float = 0.05) -> Figure:
    """Break-even conversion over the horizon (one-off costs counted) per company and
    scenario, against the prior's median (dashed)."""
    return _bar_chart(
        frame,
        NPV_BREAK_EVEN,
        title="Break-even switch conversion (dashed: prior median)",
        xlabel="share of would-be switchers who may leave before AI stops paying",
        words=break_even_words,
        reference=prior_median,
    )


def loss_chance_comparison(frame: pd.DataFrame) -> Figure:
    """P(NPV < 0) per company and scenario."""
    return _bar_chart(
        frame,
        "p_loss",
        title="Chance of losing money under the evidence",
        xlabel="P(NPV < 0) over the Monte Carlo draws",
        words=chance,
    )


def results_for_profiles(
    *,
    profiles_path: str | Path | None = None,
    scenarios: Sequence[str] = ("status_quo", "hybrid", "full_automation", "reversal"),
    draws: int = 2000,
    seed: int | None = None,
) -> list[ResultsFile]:
    """Analyse every profile here, when no results files are given (a notebook on its defaults).

    Uses the same :func:`cxtradeoff.results.build_results` as the per-company reports.
    """
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.results import DEFAULT_SEED, build_results

    profiles = load_profiles(profiles_path or None)
    return [
        build_results(
            profile,
            list(scenarios),
            draws=draws,
            seed=DEFAULT_SEED if seed is None else seed,
        )
        for profile in profiles.values()
    ]
