"""Which scenarios the law lets a company run over its plan's horizon.

A scenario is permitted unless, at some point of the horizon, one of its phases leaves
customers without an easy path to a person (:func:`cxtradeoff.rules.is_human_reachable`)
while a rule that requires a person on request binds the company
(:func:`cxtradeoff.rules.scenario_permitted`). Each phase is checked on the last day it
runs: a rule binds from the end of its adaptation period and does not lapse, so a phase
that ends after that date breaks it for part of its run. The reversal's first year and
the whole of full automation are the phases at stake.

A profile without a jurisdiction is checked against no rule: every scenario is
permitted, and the report says that no rule was checked.

Examples
--------
>>> from datetime import date
>>> from cxtradeoff.profiles import load_profiles
>>> spain = load_profiles()["spanish_telecom"]
>>> verdicts = scenario_permissions(spain, ["hybrid", "full_automation"], as_of=date(2026, 12, 1))
>>> verdicts["hybrid"].permitted, verdicts["full_automation"].permitted
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from cxtradeoff.errors import ParameterError
from cxtradeoff.model import get_scenario, scenario_phases
from cxtradeoff.profiles import Profile
from cxtradeoff.rules import Permission, Rule, is_human_reachable, load_rules, scenario_permitted

__all__ = ["parse_as_of", "phase_end", "scenario_permissions"]


def phase_end(as_of: date, years: int) -> date:
    """The last day of ``years`` years counted from ``as_of`` (29 February falls back a day).

    >>> phase_end(date(2026, 12, 1), 1)
    datetime.date(2027, 11, 30)
    """
    try:
        anniversary = as_of.replace(year=as_of.year + years)
    except ValueError:  # 29 February in a year that has none
        anniversary = as_of.replace(year=as_of.year + years, day=28)
    return date.fromordinal(anniversary.toordinal() - 1)


def parse_as_of(text: str) -> date:
    """A decision date from ``YYYY-MM-DD``, or today for ``""``.

    Raises
    ------
    ParameterError
        Naming the value and the expected form.
    """
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParameterError(
            f"as_of = {text!r} is not a date; expected YYYY-MM-DD (or empty for today)"
        ) from None


def scenario_permissions(
    profile: Profile,
    scenarios: Sequence[str],
    *,
    as_of: date,
    overrides: Mapping[str, Any] | None = None,
    rules: Sequence[Rule] | None = None,
) -> dict[str, Permission]:
    """Whether each scenario is lawful for the company over its horizon from ``as_of``.

    Parameters
    ----------
    profile
        The company: its jurisdiction, employees, sector and whether it sells to
        consumers decide which rules bind it; turnover is customers times revenue.
    scenarios
        Scenario names.
    as_of
        The date the plan starts.
    overrides
        Parameter overrides (as for the analysis); they may change a phase's path to a
        person (``escalation_mitigation``) and the horizon.
    rules
        The rules to check (default: ``data/service_rules.csv``).

    Returns
    -------
    dict
        ``scenario -> Permission(permitted, rule name or None)``.

    Raises
    ------
    ParameterError
        When the profile's figures cannot be set against a binding rule's thresholds
        (a currency other than the rule's).
    """
    if profile.jurisdiction is None:
        return {name: Permission(True, None) for name in scenarios}
    checked = tuple(load_rules() if rules is None else rules)
    out: dict[str, Permission] = {}
    for name in scenarios:
        phases = scenario_phases(profile.parameters, name, overrides=overrides)
        starts = [phase.start for phase in get_scenario(name).phases]
        horizon = phases[0][1].horizon_years
        verdict = Permission(True, None)
        for i, (_, params) in enumerate(phases):
            last_year = min(horizon, starts[i + 1] - 1) if i + 1 < len(phases) else horizon
            if last_year < starts[i]:
                continue  # the phase never runs within the horizon
            reachable = is_human_reachable(
                ai_resolution_share=params.ai_resolution_share,
                escalation_mitigation=params.escalation_mitigation,
            )
            try:
                verdict = scenario_permitted(
                    checked,
                    jurisdiction=profile.jurisdiction,
                    staff=profile.employees or 0,
                    turnover=profile.turnover,
                    on=phase_end(as_of, last_year),
                    human_reachable=reachable,
                    sector=profile.sector,
                    sells_to_consumers=profile.sells_to_consumers,
                    currency=profile.currency,
                )
            except ValueError as exc:
                raise ParameterError(f"profile {profile.id!r}: {exc}") from None
            if not verdict.permitted:
                break
        out[name] = verdict
    return out
