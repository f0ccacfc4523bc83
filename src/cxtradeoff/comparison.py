"""Compare the savings-versus-loyalty results of several company profiles.

Reads the results files that ``02-savings-vs-loyalty.ipynb`` writes (one per profile)
and lays them side by side, each company's recommendation first (as its own report makes
it). Money is shown in each profile's own currency and never added across profiles; the
charts compare shares and chances, which have no currency. Tables are made with
great_tables in the reports' house style (:func:`cxtradeoff.tables.render`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    scenario_label,
    scenario_title,
    share,
)
from cxtradeoff.narrative import escape_text
from cxtradeoff.tables import render
from cxtradeoff.theme import CHART_HEIGHT_IN, PAGE_WIDTH_IN

REQUIRED_KEYS = ("profile", "display_name", "currency", "horizon_years", "scenarios")
SCENARIO_KEYS = (
    "annual_savings",
    "annual_loyalty_cost",
    "npv",
    "break_even_conversion",
    "npv_mean",
    "npv_p10",
    "npv_p50",
    "npv_p90",
    "p_loss",
    "p_best",
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
    """One row per profile and scenario with the figures compared (unrounded).

    Columns: ``profile``, ``company``, ``currency``, ``scenario``, the figures of
    :data:`SCENARIO_KEYS`, ``break_even_conversion_npv``, ``permitted`` and
    ``recommended`` (the scenario each company's report recommends).
    """
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
                    "permitted": result.permitted,
                    "recommended": scenario == data.recommended,
                }
            )
    frame = pd.DataFrame(rows)
    for key in (*SCENARIO_KEYS, NPV_BREAK_EVEN):
        frame[key] = pd.to_numeric(frame[key], errors="coerce")
    return frame


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def comparison_table_html(frame: pd.DataFrame) -> str:
    """Every company's scenarios side by side (great_tables, one group per company): expected
    NPV and its P10 to P90, chances of a loss and of being best, break-even; money in each
    company's own currency; the scenario each report recommends is marked."""
    shown = pd.DataFrame(
        {
            "Company": frame["company"],
            "Scenario": [
                f"{scenario_title(s)} (recommended)" if r else scenario_title(s)
                for s, r in zip(frame["scenario"], frame["recommended"], strict=True)
            ],
            "Net present value|Expected": [
                money(_number(v), c, compact=True)
                for v, c in zip(frame["npv_mean"], frame["currency"], strict=True)
            ],
            "Net present value|P10 to P90": [
                f"{money(_number(lo), c, compact=True)} to {money(_number(hi), c, compact=True)}"
                for lo, hi, c in zip(
                    frame["npv_p10"], frame["npv_p90"], frame["currency"], strict=True
                )
            ],
            "Chance|of a loss": [chance(_number(v)) for v in frame["p_loss"]],
            "Chance|of being best": [chance(_number(v)) for v in frame["p_best"]],
            "Break-even conversion": [
                "no AI" if s == "status_quo" else break_even_words(_number(v))
                for s, v in zip(frame["scenario"], frame[NPV_BREAK_EVEN], strict=True)
            ],
        }
    )
    from great_tables import GT, loc, style

    table = (
        GT(
            shown,
            id="cx-compare",
            rowname_col="Scenario",
            groupname_col="Company",
            auto_align=False,
        )
        .tab_spanner_delim("|")
        .cols_width(
            {
                "Scenario": "24%",
                "Net present value|Expected": "13%",
                "Net present value|P10 to P90": "25%",
                "Chance|of a loss": "12%",
                "Chance|of being best": "12%",
                "Break-even conversion": "14%",
            }
        )
        .cols_align("right", columns=[c for c in shown.columns if c not in ("Company", "Scenario")])
        .tab_style(style.text(weight="bold"), loc.row_groups())
        .tab_source_note(
            "Money in each company's own currency, never added across companies. Expected "
            "value, P10 to P90 and chances over each report's Monte Carlo draws; the "
            "break-even is the base case, one-off costs counted. Every figure comes from the "
            "company reports built alongside this one, whose tables of inputs give each "
            "input and its source."
        )
    )
    return str(render(table, table_id="cx-compare"))


def decisions_table(results: Sequence[ResultsFile]) -> str:
    """What each company's report recommends, with the figures it leads with (great_tables):
    the expected NPV and its P10 to P90, the chance of a loss, the share of would-be
    leavers assumed to leave and the share at which the call flips."""
    rows = []
    for data in results:
        head, currency = data.headline, data.currency
        flip = head.flip
        flips = (
            f"{'above' if flip.direction == 'above' else 'below'} {share(flip.conversion)}: "
            f"{scenario_title(flip.to).lower()}"
            if flip.conversion is not None and flip.to is not None
            else "nowhere between 0 and 100%"
        )
        rows.append(
            {
                "Company": data.display_name,
                "Decision": scenario_title(data.recommended),
                "Net present value|Expected": money(head.npv_mean, currency, compact=True),
                "Net present value|P10 to P90": (
                    f"{money(head.npv_p10, currency, compact=True)} to "
                    f"{money(head.npv_p90, currency, compact=True)}"
                ),
                "Chance of loss": chance(head.p_loss),
                "Would-be leavers who leave|assumed": share(flip.assumed),
                "Would-be leavers who leave|call flips": flips,
            }
        )
    frame = pd.DataFrame(rows)
    from great_tables import GT

    table = (
        GT(frame, id="cx-decisions", rowname_col="Company", auto_align=False)
        .tab_spanner_delim("|")
        .cols_width(
            {
                "Company": "20%",
                "Decision": "13%",
                "Net present value|Expected": "11%",
                "Net present value|P10 to P90": "19%",
                "Chance of loss": "9%",
                "Would-be leavers who leave|assumed": "11%",
                "Would-be leavers who leave|call flips": "17%",
            }
        )
        .cols_align(
            "right",
            columns=[
                "Net present value|Expected",
                "Net present value|P10 to P90",
                "Chance of loss",
                "Would-be leavers who leave|assumed",
            ],
        )
        .tab_source_note(
            "Each company's recommendation, as its own report makes it: the scenario with the "
            "highest expected net present value among those the law permits. Money in each "
            "company's currency."
        )
    )
    return str(render(table, table_id="cx-decisions"))


def comparison_summary(frame: pd.DataFrame) -> str:
    """A Markdown paragraph, generated from the figures, on which companies AI pays for:
    each company's recommendation (as its report makes it) with its expected NPV and
    chance of a loss."""
    chosen = frame[frame["recommended"]]
    if chosen.empty:
        return "No company was analysed, so there is nothing to compare."
    with_ai = chosen[chosen["scenario"] != "status_quo"]
    lines = []
    for row in chosen.to_dict("records"):
        what = (
            "keep service with people: every AI scenario loses money on average"
            if row["scenario"] == "status_quo"
            else scenario_label(str(row["scenario"]))
        )
        risk = (
            f", expected net present value {money(_number(row['npv_mean']), str(row['currency']))}"
            f" and a {chance(_number(row['p_loss']))} chance of losing money"
            if row["scenario"] != "status_quo"
            else ""
        )
        lines.append(f"- **{escape_text(str(row['company']))}**: {what}{risk}.")
    head = (
        f"Of {len(chosen)} companies, AI in customer service is recommended for "
        f"{len(with_ai)} once lost customers are counted."
    )
    return head + "\n\n" + "\n".join(lines)


def _dot_chart(
    frame: pd.DataFrame,
    column: str,
    *,
    xlabel: str,
    reference: tuple[float, str] | None = None,
) -> Figure:
    """One row per company, one dot per AI scenario at its value (0 to 100%); values past
    the axis drawn at its end as a triangle."""
    ai = frame[frame["scenario"] != "status_quo"]
    companies = list(dict.fromkeys(ai["company"]))
    scenarios = list(dict.fromkeys(ai["scenario"]))
    height = max(CHART_HEIGHT_IN, 0.75 + 0.3 * len(companies))
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, height))
    y = np.arange(len(companies))
    ax.hlines(y, 0, 1, color="#e0e0e0", linewidth=0.8, zorder=1)
    for i, scenario in enumerate(scenarios):
        sub = ai[ai["scenario"] == scenario].set_index("company").reindex(companies)
        values = sub[column].to_numpy(dtype=float)
        shown = np.clip(values, 0.0, 1.0)
        offset = (i - (len(scenarios) - 1) / 2) * 0.18
        ax.plot(
            shown,
            y + offset,
            linestyle="none",
            marker="o",
            markersize=6,
            color=scenario_colour(scenario),
            label=scenario_title(scenario),
            zorder=3,
        )
        past = values > 1.0
        if past.any():
            ax.plot(
                np.ones(int(past.sum())),
                (y + offset)[past],
                linestyle="none",
                marker=">",
                markersize=7,
                color=scenario_colour(scenario),
                zorder=3,
            )
    if reference is not None:
        value, label = reference
        ax.axvline(value, color="#1a1a1a", linestyle="--", linewidth=1, label=label)
    ax.set_yticks(y, [str(c) for c in companies])
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.04)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    return fig


def break_even_comparison(frame: pd.DataFrame, *, prior_median: float = 0.05) -> Figure:
    """Break-even conversion over the horizon (one-off costs counted) per company and AI
    scenario, against the prior's median (dashed); a triangle at 100%: it always pays."""
    return _dot_chart(
        frame,
        NPV_BREAK_EVEN,
        xlabel="Share of would-be leavers who may leave before the scenario stops paying",
        reference=(prior_median, "Prior median"),
    )


def loss_chance_comparison(frame: pd.DataFrame) -> Figure:
    """The chance of losing money (over the Monte Carlo draws) per company and AI scenario."""
    return _dot_chart(frame, "p_loss", xlabel="Chance that the scenario loses money")


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
