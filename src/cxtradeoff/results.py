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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cxtradeoff.compliance import scenario_permissions
from cxtradeoff.contracts import (
    Driver,
    FlipPoint,
    Headline,
    ResultsFile,
    ScenarioResult,
    write_model,
)
from cxtradeoff.decision import (
    DEFAULT_DRAWS,
    STATUS_QUO,
    Decision,
    base_case,
    compared_scenarios,
    decide,
    flip_point,
)
from cxtradeoff.errors import ParameterError
from cxtradeoff.model import RESULT_FIELDS, get_scenario
from cxtradeoff.profiles import Profile
from cxtradeoff.uncertainty import monte_carlo, tornado

if TYPE_CHECKING:
    from cxtradeoff.pilot import PilotCounts, PilotUpdate

#: seed used when none is given (the article's publication date)
DEFAULT_SEED: int = 20251114
#: keys every scenario result carries (the model's outputs)
ANALYSE_KEYS: tuple[str, ...] = RESULT_FIELDS
#: keys added by a Monte Carlo run
MONTE_CARLO_KEYS: tuple[str, ...] = ("npv_mean", "npv_p10", "npv_p50", "npv_p90", "p_loss")
#: the recommended scenario's figures a headline carries
HEADLINE_KEYS: tuple[str, ...] = (
    "npv_mean",
    "npv_p10",
    "npv_p90",
    "p_loss",
    "p_best",
    "npv",
    "annual_savings",
    "customers_lost_per_year",
    "break_even_conversion",
    "break_even_conversion_npv",
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
    out: dict[str, Any] = {
        key: _clean(value)
        for key, value in base_case(profile.parameters, scenario, overrides=overrides).items()
    }
    if draws > 0:
        mc = monte_carlo(profile.parameters, scenario, draws=draws, seed=seed, overrides=overrides)
        out.update({k: _clean(v) for k, v in mc.summary().items()})
    return out


@dataclass(frozen=True)
class Analysis:
    """A company's analysis: the results file's contract and the decision behind it.

    ``decision.simulation`` holds the NPV draws (one Monte Carlo run for every
    scenario), so a report draws its distribution chart from the same draws it ranks on.
    With a pilot, ``decision`` is the decision after it and ``pilot`` holds the update
    (prior and posterior draws of the switching conversion, for
    :func:`cxtradeoff.pilot.prior_posterior_chart`); otherwise ``pilot`` is None.
    """

    results: ResultsFile
    decision: Decision
    pilot: PilotUpdate | None = None


def analyse_profile(
    profile: Profile,
    scenarios: Sequence[str],
    *,
    horizon_years: int | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    currency: str = "",
    overrides: Mapping[str, Any] | None = None,
    drivers: int = 3,
    as_of: date | None = None,
    pilot: PilotCounts | None = None,
) -> Analysis:
    """Decide for one company on the distribution: every scenario, the recommendation.

    Runs one Monte Carlo for every scenario (the status quo always among them), ranks
    them on mean NPV and keeps the ``drivers`` inputs the recommended scenario's NPV
    hangs on most (the tornado's longest bars).

    Parameters
    ----------
    horizon_years
        Overrides the profile's horizon when given.
    draws
        Monte Carlo draws (at least 1: the recommendation rests on them).
    currency
        Label for money amounts; ``""`` means the profile's currency (no conversion).
    as_of
        The date the plan starts (default: today): the rules that bind the company over
        the horizon from then decide which scenarios are permitted
        (:func:`cxtradeoff.compliance.scenario_permissions`).
    pilot
        A pilot's counts (:class:`cxtradeoff.pilot.PilotCounts`, e.g. from
        :func:`cxtradeoff.pilot.read_pilot_file`). When given, the switching conversion's
        prior is replaced by the pilot's posterior in every scenario, paired draw by
        draw (:func:`cxtradeoff.pilot.update_with_pilot`): the distributions, the
        recommendation, the EVPPI and the headline are those after the pilot, and the
        results file's ``pilot`` keeps the counts and the decision before it. The base
        cases and the tornado stay at the profile's base values.

    Raises
    ------
    ParameterError
        If no scenario is given, or a scenario, an override, draws or the pilot are
        invalid (or the pilot is of another profile).
    """
    if not scenarios:
        raise ParameterError("scenarios is empty; give at least one scenario name")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ParameterError(
            f"draws = {draws!r} is not allowed: the recommendation is taken on the Monte "
            "Carlo distribution, so at least 1 draw is needed (the reports use 20,000)"
        )
    merged = dict(overrides or {})
    if horizon_years is not None:
        merged["horizon_years"] = horizon_years
    used = profile.parameters.updated(merged)
    start = as_of or date.today()
    permissions = scenario_permissions(
        profile, compared_scenarios(scenarios), as_of=start, overrides=merged
    )
    permitted = {name: p.permitted for name, p in permissions.items()}
    update = None
    if pilot is None:
        decision = decide(
            profile.parameters,
            scenarios=scenarios,
            draws=draws,
            seed=seed,
            overrides=merged,
            permitted=permitted,
        )
    else:
        update = _update_with_pilot(profile, scenarios, pilot, draws, seed, merged, permitted)
        decision = update.posterior
    per_scenario = {
        outcome.name: ScenarioResult(
            **{k: _clean(v) for k, v in outcome.to_dict().items()},
            permitted=permissions[outcome.name].permitted,
            blocked_by=permissions[outcome.name].rule,
        )
        for outcome in decision.scenarios
    }
    chosen = decision.recommended
    best = per_scenario[chosen]
    # the inputs the call hangs on: those of the recommended scenario, or when that is the
    # status quo (no AI, nothing varies), of the AI scenario that comes closest
    contender = max(
        (n for n in per_scenario if n != STATUS_QUO and per_scenario[n].permitted),
        key=lambda n: per_scenario[n].npv_mean or -math.inf,
        default=chosen,
    )
    driven = chosen if chosen != STATUS_QUO else contender
    swings = tornado(profile.parameters, driven, overrides=merged).head(drivers)
    sim = decision.simulation
    flip = flip_point(
        sim.scenarios,
        sim.npv,
        sim.conversion,
        chosen,
        allowed=[per_scenario[n].permitted for n in sim.scenarios],
    )
    results = ResultsFile(
        profile=profile.id,
        display_name=profile.display_name,
        currency=currency or profile.currency,
        jurisdiction=profile.jurisdiction,
        as_of=start.isoformat(),
        horizon_years=used.horizon_years,
        draws=decision.draws,
        seed=decision.seed,
        overrides=merged,
        scenarios=per_scenario,
        recommended=chosen,
        evppi_switch_conversion=decision.evppi_switch_conversion,
        drivers_scenario=driven,
        drivers=[
            Driver(
                **{k: row[k] for k in ("parameter", "low", "high", "npv_low", "npv_high", "swing")}
            )
            for row in swings.to_dict("records")
        ],
        headline=Headline(
            scenario=chosen,
            **{key: getattr(best, key) for key in HEADLINE_KEYS},
            switch_conversion=flip.assumed,
            evppi_switch_conversion=decision.evppi_switch_conversion,
            flip=FlipPoint(
                assumed=flip.assumed,
                conversion=flip.conversion,
                to=flip.to,
                direction=flip.direction,
            ),
        ),
        pilot=None if update is None else update.to_contract(),
    )
    return Analysis(results=results, decision=decision, pilot=update)


def _update_with_pilot(
    profile: Profile,
    scenarios: Sequence[str],
    pilot: PilotCounts,
    draws: int,
    seed: int,
    overrides: Mapping[str, Any],
    permitted: Mapping[str, bool],
) -> PilotUpdate:
    """The pilot's update for :func:`analyse_profile`, after checking it fits the analysis."""
    from cxtradeoff.pilot import update_with_pilot

    if pilot.profile is not None and pilot.profile != profile.id:
        raise ParameterError(
            f"the pilot is of profile {pilot.profile!r}, not of {profile.id!r}; give the "
            "pilot file of this profile"
        )
    return update_with_pilot(
        profile.parameters,
        pilot,
        scenarios=scenarios,
        draws=draws,
        seed=seed,
        overrides=overrides,
        permitted=permitted,
    )


def build_results(profile: Profile, scenarios: Sequence[str], **options: Any) -> ResultsFile:
    """The results file of :func:`analyse_profile` alone (same options)."""
    return analyse_profile(profile, scenarios, **options).results


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
        name: {c: getattr(result, c) for c in columns} for name, result in results.scenarios.items()
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(columns), dtype=float)
    frame.index.name = "scenario"
    return frame
