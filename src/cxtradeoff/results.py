"""Results of an analysis: the figures of each scenario and the results file's contract.

The same functions feed the command line (``cxtradeoff analyse``) and the notebook
``02-savings-vs-loyalty.ipynb``, so both give the same numbers for the same inputs.
:func:`build_results` returns a :class:`cxtradeoff.contracts.ResultsFile`, the typed
model of ``<report>.results.json`` (its fields are documented there and its JSON Schema
is in ``docs/schemas/``).

Numbers are unrounded; undefined values (a break-even with a zero divisor, Monte
Carlo figures when no draws were run) are ``None`` (``null`` in the file).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cxtradeoff.contracts import Headline, ResultsFile, ScenarioResult, write_model
from cxtradeoff.errors import ParameterError
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
) -> ResultsFile:
    """The results of several scenarios for one profile: the results file's contract.

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
        name: ScenarioResult(
            **analyse_scenario(profile, name, overrides=merged, draws=draws, seed=seed)
        )
        for name in dict.fromkeys(scenarios)
    }
    chosen = headline_scenario(list(per_scenario))
    head = per_scenario[chosen]
    return ResultsFile(
        profile=profile.id,
        display_name=profile.display_name,
        currency=currency or profile.currency,
        horizon_years=used.horizon_years,
        draws=draws,
        seed=seed,
        overrides=merged,
        scenarios=per_scenario,
        headline=Headline(
            scenario=chosen, **{key: getattr(head, key) for key in HEADLINE_KEYS}
        ),
    )


def headline_scenario(scenarios: Sequence[str]) -> str:
    """The first scenario that is not ``status_quo`` (or ``status_quo`` if it is alone)."""
    for name in scenarios:
        if name != "status_quo":
            return name
    return scenarios[0]


def write_results(results: ResultsFile, path: str | Path) -> Path:
    """Write a results file atomically (mode 0644).

    Returns
    -------
    Path
        The file written.
    """
    return write_model(results, path)


def scenario_table(results: ResultsFile) -> pd.DataFrame:
    """One row per scenario with the figures a reader compares.

    Columns: annual_savings, annual_loyalty_cost, customers_lost_per_year,
    rehiring_cost, npv, break_even_conversion_npv, break_even_conversion, npv_p10,
    npv_p50, npv_p90, p_loss; undefined values are missing.
    """
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
        name: {c: getattr(result, c) for c in columns}
        for name, result in results.scenarios.items()
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(columns), dtype=float)
    frame.index.name = "scenario"
    return frame
