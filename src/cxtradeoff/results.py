"""Results of an analysis as plain data, and their JSON file (written atomically).

The same functions feed the command line (``cxtradeoff analyse``) and the notebook
``02-savings-vs-loyalty.ipynb``, so both give the same numbers for the same inputs.

The notebook's JSON (read by the report pipeline) is::

    {"profile", "display_name", "currency", "horizon_years", "draws", "seed",
     "scenarios": {name: {every analyse key, npv_p10, npv_p50, npv_p90, p_loss}},
     "headline": {"scenario", "annual_savings", "npv", "break_even_conversion",
                  "break_even_conversion_npv", "p_loss"}}

``break_even_conversion`` is the contract's annual break-even (a year's savings equal a
year's loyalty cost); ``break_even_conversion_npv`` is where NPV over the horizon is 0,
the one-off costs counted: the one the reports' sentences and charts use.

Numbers are unrounded; undefined values (a break-even with a zero divisor, Monte
Carlo figures when no draws were run) are ``null``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cxtradeoff.errors import ParameterError
from cxtradeoff.files import atomic_write_json
from cxtradeoff.model import RESULT_FIELDS, evaluate, get_scenario
from cxtradeoff.profiles import Profile
from cxtradeoff.uncertainty import monte_carlo, probability_conversion_below

#: seed used when none is given (the article's publication date)
DEFAULT_SEED: int = 20251114
#: keys every scenario result carries (the model's outputs)
ANALYSE_KEYS: tuple[str, ...] = RESULT_FIELDS
#: keys added by a Monte Carlo run
MONTE_CARLO_KEYS: tuple[str, ...] = ("npv_p10", "npv_p50", "npv_p90", "p_loss")
HEADLINE_KEYS: tuple[str, ...] = (
    "annual_savings",
    "npv",
    "break_even_conversion",
    "break_even_conversion_npv",
    "p_loss",
)


def _clean(value: Any) -> Any:
    """NaN or infinity -> None; numpy scalars -> float."""
    if value is None or isinstance(value, bool | str):
        return value
    number = float(value)
    return None if not math.isfinite(number) else number


def analyse_scenario(
    profile: Profile,
    scenario: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    draws: int = 0,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Base case (and Monte Carlo when ``draws`` > 0) of one scenario for one profile.

    Parameters
    ----------
    profile
        The company profile.
    scenario
        A scenario name.
    overrides
        Parameter values that win over the profile and the scenario.
    draws
        Monte Carlo draws; 0 runs none.
    seed
        Seed of the Monte Carlo generator.

    Returns
    -------
    dict
        Every key of :data:`ANALYSE_KEYS`; ``p_conversion_below_break_even`` (the
        chance, under the prior of switch_conversion, that conversion stays below
        ``break_even_conversion_npv``: that automation pays over the horizon, one-off
        costs included); with draws, also :data:`MONTE_CARLO_KEYS`.
    """
    get_scenario(scenario)
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 0:
        raise ParameterError(f"draws = {draws!r} is not allowed; expected an integer >= 0")
    params = profile.parameters
    base = evaluate(params, scenario, overrides=overrides).to_dict()
    out: dict[str, Any] = {key: _clean(base[key]) for key in ANALYSE_KEYS}
    median = float(params.updated(dict(overrides or {})).switch_conversion)
    out["p_conversion_below_break_even"] = probability_conversion_below(
        out["break_even_conversion_npv"], median=median
    )
    if draws > 0:
        mc = monte_carlo(params, scenario, draws=draws, seed=seed, overrides=overrides)
        out.update({k: _clean(v) for k, v in mc.summary().items()})
    return out


def build_results(
    profile: Profile,
    scenarios: Sequence[str],
    *,
    horizon_years: int | None = None,
    draws: int = 0,
    seed: int = DEFAULT_SEED,
    currency: str = "",
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The results of several scenarios for one profile, in the notebook's JSON shape.

    Parameters
    ----------
    horizon_years
        Overrides the profile's horizon when given.
    currency
        Label for money amounts; ``""`` means the profile's currency (no conversion).

    Raises
    ------
    ParameterError
        If no scenario is given, or a scenario, an override or draws are invalid.
    """
    if not scenarios:
        raise ParameterError("scenarios is empty; give at least one scenario name")
    for name in scenarios:
        get_scenario(name)
    merged = dict(overrides or {})
    if horizon_years is not None:
        merged["horizon_years"] = horizon_years
    used = profile.parameters.updated(merged)
    per_scenario = {
        name: {
            **dict.fromkeys(MONTE_CARLO_KEYS),
            **analyse_scenario(profile, name, overrides=merged, draws=draws, seed=seed),
        }
        for name in dict.fromkeys(scenarios)
    }
    results: dict[str, Any] = {
        "profile": profile.id,
        "display_name": profile.display_name,
        "currency": currency or profile.currency,
        "horizon_years": used.horizon_years,
        "draws": draws,
        "seed": seed,
        "overrides": merged,
        "scenarios": per_scenario,
    }
    results["headline"] = headline(results)
    return results


def headline_scenario(scenarios: Sequence[str]) -> str:
    """The first scenario that is not ``status_quo`` (or ``status_quo`` if it is alone)."""
    for name in scenarios:
        if name != "status_quo":
            return name
    return scenarios[0]


def headline(results: Mapping[str, Any]) -> dict[str, Any]:
    """The headline figures: those of the first non-status-quo scenario."""
    name = headline_scenario(list(results["scenarios"]))
    chosen = results["scenarios"][name]
    return {"scenario": name, **{key: chosen.get(key) for key in HEADLINE_KEYS}}


def write_results(results: Mapping[str, Any], path: str | Path) -> Path:
    """Write results as JSON atomically (mode 0644); NaN or infinity raise ``ValueError``.

    Returns
    -------
    Path
        The file written.
    """
    return atomic_write_json(path, results)


def read_results(path: str | Path) -> dict[str, Any]:
    """Read a results JSON written by :func:`write_results`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def scenario_table(results: Mapping[str, Any]) -> Any:
    """One row per scenario with the figures a reader compares (a pandas DataFrame).

    Columns: annual_savings, annual_loyalty_cost, customers_lost_per_year,
    rehiring_cost, npv, break_even_conversion_npv, break_even_conversion, npv_p10,
    npv_p50, npv_p90, p_loss; ``None`` stays missing.
    """
    import pandas as pd

    columns = (
        "annual_savings",
        "annual_loyalty_cost",
        "customers_lost_per_year",
        "rehiring_cost",
        "npv",
        "break_even_conversion_npv",
        "break_even_conversion",
        *MONTE_CARLO_KEYS,
    )
    rows = {
        name: {c: result.get(c) for c in columns} for name, result in results["scenarios"].items()
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(columns), dtype=float)
    frame.index.name = "scenario"
    return frame
