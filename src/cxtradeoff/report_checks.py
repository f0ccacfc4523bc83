"""Domain checks of report parameters, run by the build before any kernel starts.

The pipeline (:mod:`cxtradeoff.pipeline`) knows the shape of ``reports.yaml`` and the
types each notebook declares, not what a profile, a scenario or an override means. This
module, on the analysis side, does: the command line passes
:func:`model_parameter_problems` to the build, which calls it through
:func:`cxtradeoff.pipeline.config.validate`, so that an unknown profile or scenario, an
override or a number of draws out of range, is named as a configuration problem rather
than as a failing cell later. A profiles file that cannot be read is named once, against
the file, and stops only the reports that read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cxtradeoff.errors import CxTradeoffError
from cxtradeoff.limits import draws_problem
from cxtradeoff.paths import COMPANY_PROFILES
from cxtradeoff.pipeline.config import InputProblem, ParameterProblem, ReportSpec

#: parameters whose notebooks get their values checked against the model
MODEL_PARAMETERS = frozenset({"profile", "scenarios", "overrides", "horizon_years"})


def model_parameter_problems(
    specs: Sequence[ReportSpec],
) -> list[ParameterProblem | InputProblem]:
    """Check the model parameters of reports before their kernels start.

    A report whose notebook declares ``draws`` gets it checked against
    :mod:`cxtradeoff.limits`; one that declares ``profile``, ``scenarios``, ``overrides``
    or ``horizon_years`` gets them checked against the company profiles and the model.
    """
    problems: list[ParameterProblem | InputProblem] = []
    for spec in specs:
        if "draws" in spec.declared:
            # a report decides on the Monte Carlo distribution: it needs draws
            message = draws_problem(spec.effective_parameters()["draws"], allow_none=False)
            if message:
                problems.append(ParameterProblem(spec.name, "parameters.draws", message))
    relevant = [s for s in specs if MODEL_PARAMETERS & set(s.declared)]
    if not relevant:
        return problems
    profiles_by_source, unusable = _profiles(relevant, problems)
    problems += unusable
    blocked = {name for problem in unusable for name in problem.reports}
    for spec in relevant:
        if spec.name not in blocked and spec.name in profiles_by_source:
            problems += _model_problems(spec, profiles_by_source[spec.name])
    return problems


def _profiles(
    specs: Sequence[ReportSpec], problems: list[ParameterProblem | InputProblem]
) -> tuple[dict[str, Any], list[InputProblem]]:
    """Each report's profiles, loaded once per file; a file that cannot be used is one
    problem, against the file, stopping the reports that read it."""
    from cxtradeoff.profiles import load_profiles

    by_source: dict[Path, list[ReportSpec]] = {}
    for spec in specs:
        given = spec.effective_parameters().get("profiles_path")
        # the notebook reads a relative path from its own folder (its kernel's)
        source = spec.notebook.parent / given if given else COMPANY_PROFILES
        if given and not source.is_file():  # a parameter someone set, naming no file
            problems.append(ParameterProblem(
                spec.name, "parameters.profiles_path", f"{given}: no such file"))  # fmt: skip
            continue
        by_source.setdefault(source, []).append(spec)
    loaded: dict[str, Any] = {}
    unusable: list[InputProblem] = []
    for source, readers in by_source.items():
        try:
            profiles = load_profiles(source)
        except CxTradeoffError as exc:
            names = tuple(s.name for s in readers)
            unusable.append(InputProblem(str(source), str(exc), names, exc.exit_code))
            continue
        loaded.update(dict.fromkeys((s.name for s in readers), profiles))
    return loaded, unusable


def _model_problems(spec: ReportSpec, profiles: Any) -> list[ParameterProblem]:
    """The profile, overrides, scenarios and horizon of one report, against the model."""
    from cxtradeoff.model import get_scenario, scenario_phases, validate_value

    problems: list[ParameterProblem] = []
    params = spec.effective_parameters()

    def problem(field: str, message: object) -> None:
        problems.append(ParameterProblem(spec.name, field, str(message)))

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
