"""Domain checks of report parameters, run by the build before any kernel starts.

The pipeline (:mod:`cxtradeoff.pipeline`) knows the shape of ``reports.yaml`` and the
types each notebook declares, not what a profile, a scenario or an override means. This
module, on the analysis side, does: the command line passes
:func:`model_parameter_problems` to :func:`cxtradeoff.pipeline.config.validate`, so that an
unknown profile or scenario, or an override out of range, is named as a configuration
problem rather than as a failing cell later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cxtradeoff.errors import CxTradeoffError
from cxtradeoff.pipeline.config import ParameterProblem, ReportSpec

#: parameters whose notebooks get their values checked against the model
MODEL_PARAMETERS = frozenset({"profile", "scenarios", "overrides", "horizon_years"})


def model_parameter_problems(specs: Sequence[ReportSpec]) -> list[ParameterProblem]:
    """Check the model parameters of reports before their kernels start.

    A report whose notebook declares ``profile``, ``scenarios``, ``overrides`` or
    ``horizon_years`` gets them checked against the company profiles and the model.
    """
    relevant = [s for s in specs if MODEL_PARAMETERS & set(s.declared)]
    if not relevant:
        return []
    from cxtradeoff.model import get_scenario, scenario_phases, validate_value
    from cxtradeoff.profiles import load_profiles

    problems: list[ParameterProblem] = []
    cache: dict[str, Any] = {}
    for spec in relevant:

        def problem(field: str, message: object, spec: ReportSpec = spec) -> None:
            problems.append(ParameterProblem(spec.name, field, str(message)))

        params = spec.effective_parameters()
        source = str(params.get("profiles_path") or "")
        try:
            if source not in cache:
                cache[source] = load_profiles(source or None)
            profiles = cache[source]
        except CxTradeoffError as exc:
            problem("parameters.profiles_path", exc)
            continue
        profile = None
        if "profile" in spec.declared:
            profile = profiles.get(params.get("profile"))
            if profile is None:
                problem(
                    "parameters.profile",
                    f"no profile {params.get('profile')!r} (profiles: {', '.join(profiles)})",
                )
        overrides = params.get("overrides") or {}
        overrides = overrides if isinstance(overrides, dict) else {}
        if profile is not None and overrides:
            try:
                profile.parameters.updated(dict(overrides))
            except CxTradeoffError as exc:
                problem("parameters.overrides", exc)
                overrides = {}
        for scenario in params.get("scenarios") or []:
            try:
                get_scenario(scenario)
            except CxTradeoffError as exc:
                problem("parameters.scenarios", exc)
                continue
            if profile is not None and overrides:
                try:  # the scenario's own settings with the overrides (e.g. a + q <= 1)
                    scenario_phases(profile.parameters, scenario, overrides=overrides)
                except CxTradeoffError as exc:
                    problem("parameters.overrides", f"with scenario {scenario!r}: {exc}")
        if "horizon_years" in spec.declared and params.get("horizon_years") is not None:
            try:
                validate_value("horizon_years", params["horizon_years"])
            except CxTradeoffError as exc:
                problem("parameters.horizon_years", exc)
    return problems
