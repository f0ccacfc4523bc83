"""The report configuration (``reports.yaml``): which reports exist, from which notebook,
with which parameters and inputs, and in which order.

The whole file is validated before any kernel starts; every problem is reported at once,
each naming the report and the field.
"""

from __future__ import annotations

import ast
import glob
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cxtradeoff.errors import ConfigError
from cxtradeoff.paths import ROOT

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
REPORT_FIELDS = {"name", "notebook", "title", "profile", "parameters", "inputs", "depends_on"}
TOP_FIELDS = {"defaults", "reports", "smtp"}
#: parameters the build itself fills in; a report must not set them
RESERVED_PARAMETERS = {"results_path", "results_files"}

_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter declared in a notebook's ``parameters`` cell."""

    name: str
    type_name: str | None
    default: Any
    help: str


@dataclass
class ReportSpec:
    """One report of the configuration, validated."""

    name: str
    notebook: Path
    title: str
    profile: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    declared: dict[str, NotebookParameter] = field(default_factory=dict)

    @property
    def writes_results(self) -> bool:
        return "results_path" in self.declared

    @property
    def reads_results(self) -> bool:
        return "results_files" in self.declared


@dataclass
class BuildConfig:
    """The validated configuration: reports in dependency order."""

    path: Path
    root: Path
    reports: list[ReportSpec]
    smtp: dict[str, Any] = field(default_factory=dict)

    def by_name(self) -> dict[str, ReportSpec]:
        return {r.name: r for r in self.reports}


def notebook_parameters(notebook: Path) -> dict[str, NotebookParameter]:
    """Read the literals of a notebook's cell tagged ``parameters``.

    Each ``name: type = literal  # help`` line gives one parameter; no kernel is started.

    Raises
    ------
    ConfigError
        The notebook is missing, is not JSON, has no ``parameters`` cell, or that cell
        holds something other than literal assignments.
    """
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{notebook}: notebook not found") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{notebook}: not a readable notebook ({exc})") from None
    for cell in nb.get("cells", []):
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        lines = source.splitlines()
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise ConfigError(f"{notebook}: parameters cell is not valid Python ({exc})") from None
        found: dict[str, NotebookParameter] = {}
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                target, annotation, value = node.target.id, ast.unparse(node.annotation), node.value
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                target, annotation, value = node.targets[0].id, None, node.value
            else:
                continue
            try:
                default = ast.literal_eval(value) if value is not None else None
            except ValueError:
                raise ConfigError(
                    f"{notebook}: parameter {target!r} must be a literal, not "
                    f"{ast.unparse(value) if value is not None else '?'}"
                ) from None
            line = lines[node.lineno - 1]
            help_text = line.split("#", 1)[1].strip() if "#" in line else ""
            type_name = annotation.split("[", 1)[0] if annotation else None
            found[target] = NotebookParameter(target, type_name, default, help_text)
        return found
    raise ConfigError(f"{notebook}: no cell tagged 'parameters'")


def _type_ok(value: Any, type_name: str | None) -> bool:
    if type_name is None or type_name not in _TYPES:
        return True
    if type_name in {"int", "float"} and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[type_name])


def _order(reports: list[ReportSpec], problems: list[str]) -> list[ReportSpec]:
    """Topological order of the reports; dependency cycles are reported as problems."""
    by_name = {r.name: r for r in reports}
    ordered: list[ReportSpec] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = [*trail[trail.index(name) :], name]
            problems.append(
                f"report {name!r}, field 'depends_on': dependency cycle {' -> '.join(cycle)}"
            )
            return
        state[name] = "active"
        for dep in by_name[name].depends_on:
            if dep in by_name and dep != name:  # a self-dependency is reported on its own
                visit(dep, [*trail, name])
        state[name] = "done"
        ordered.append(by_name[name])

    for report in reports:
        visit(report.name, [])
    return ordered


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return None


def parse_config(
    raw: Any, *, path: Path, root: Path = ROOT, overrides: Mapping[str, Any] | None = None
) -> BuildConfig:
    """Validate a loaded configuration document and return the reports in build order.

    Parameters
    ----------
    raw
        The YAML document as loaded.
    path
        The file it came from, for messages.
    root
        Folder that relative notebook and input paths are resolved against.
    overrides
        Parameters applied to every report whose notebook declares them (e.g. ``draws``
        for a quick build); names a notebook does not declare are ignored for it.

    Raises
    ------
    ConfigError
        Listing every problem found.
    """
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: expected a mapping with a 'reports' list, got {type(raw).__name__}"
        )
    for key in sorted(set(raw) - TOP_FIELDS):
        problems.append(f"unknown top-level field {key!r} (expected one of {sorted(TOP_FIELDS)})")
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append("field 'defaults': expected a mapping of parameter names to values")
        defaults = {}
    entries = raw.get("reports")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: field 'reports': expected a non-empty list of reports")

    reports: list[ReportSpec] = []
    seen: set[str] = set()
    cache: dict[Path, dict[str, NotebookParameter]] = {}
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(f"report #{index}: expected a mapping, got {type(entry).__name__}")
            continue
        name = entry.get("name")
        label = f"report {name!r}" if isinstance(name, str) else f"report #{index}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append(
                f"{label}, field 'name': expected lower-case letters, digits, '-' or '_', got {name!r}"
            )
            continue
        if name in seen:
            problems.append(f"{label}, field 'name': duplicate report name")
            continue
        seen.add(name)
        for key in sorted(set(entry) - REPORT_FIELDS):
            problems.append(
                f"{label}: unknown field {key!r} (expected one of {sorted(REPORT_FIELDS)})"
            )

        nb_value = entry.get("notebook")
        declared: dict[str, NotebookParameter] = {}
        notebook = root / str(nb_value)
        if not isinstance(nb_value, str) or not nb_value:
            problems.append(
                f"{label}, field 'notebook': expected a notebook path, got {nb_value!r}"
            )
        elif not notebook.is_file():
            problems.append(f"{label}, field 'notebook': {nb_value} does not exist")
        else:
            try:
                declared = cache.setdefault(notebook, notebook_parameters(notebook))
            except ConfigError as exc:
                problems.append(f"{label}, field 'notebook': {exc}")

        params = entry.get("parameters") or {}
        if not isinstance(params, dict):
            problems.append(
                f"{label}, field 'parameters': expected a mapping, got {type(params).__name__}"
            )
            params = {}
        merged: dict[str, Any] = {}
        if declared:
            merged.update({k: v for k, v in defaults.items() if k in declared})
            merged.update({k: v for k, v in (overrides or {}).items() if k in declared})
        for key, value in params.items():
            if key in RESERVED_PARAMETERS:
                problems.append(
                    f"{label}, field 'parameters.{key}': set by the build, not the configuration"
                )
            elif declared and key not in declared:
                problems.append(
                    f"{label}, field 'parameters.{key}': {nb_value} declares no such parameter "
                    f"(it declares: {', '.join(sorted(declared))})"
                )
            else:
                merged[key] = value
        for key, value in merged.items():
            spec = declared.get(key)
            if spec is not None and not _type_ok(value, spec.type_name):
                problems.append(
                    f"{label}, field 'parameters.{key}': expected {spec.type_name}, "
                    f"got {type(value).__name__} {value!r}"
                )

        title = entry.get("title", name)
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{label}, field 'title': expected text, got {title!r}")
            title = name
        profile = entry.get("profile")
        if profile is not None and not isinstance(profile, str):
            problems.append(f"{label}, field 'profile': expected text, got {profile!r}")
            profile = None

        inputs: list[Path] = []
        raw_inputs = _as_list(entry.get("inputs"))
        if raw_inputs is None:
            problems.append(f"{label}, field 'inputs': expected a list of paths")
        else:
            for item in raw_inputs:
                matches = (
                    sorted(Path(m) for m in glob.glob(str(root / item), recursive=True))
                    if isinstance(item, str)
                    else []
                )
                if not matches:
                    problems.append(f"{label}, field 'inputs': {item!r} matches no file")
                inputs.extend(m for m in matches if m.is_file())
        deps = _as_list(entry.get("depends_on"))
        if deps is None or not all(isinstance(d, str) for d in deps):
            problems.append(f"{label}, field 'depends_on': expected a list of report names")
            deps = []
        reports.append(
            ReportSpec(
                name=name,
                notebook=notebook,
                title=title,
                profile=profile,
                parameters=merged,
                inputs=inputs,
                depends_on=list(deps),
                declared=declared,
            )
        )

    names = {r.name for r in reports}
    for report in reports:
        for dep in report.depends_on:
            if dep not in names:
                problems.append(
                    f"report {report.name!r}, field 'depends_on': no report named {dep!r}"
                )
            elif dep == report.name:
                problems.append(f"report {report.name!r}, field 'depends_on': depends on itself")
        if report.depends_on and report.declared and not report.reads_results:
            problems.append(
                f"report {report.name!r}, field 'depends_on': its notebook declares no "
                "'results_files' parameter to read them"
            )
    ordered = _order(reports, problems)
    smtp = raw.get("smtp") or {}
    if not isinstance(smtp, dict):
        problems.append("field 'smtp': expected a mapping")
        smtp = {}
    if problems:
        raise ConfigError(
            f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return BuildConfig(path=path, root=root, reports=ordered, smtp=smtp)


def load_config(
    path: Path, *, root: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> BuildConfig:
    """Read and validate a report configuration file (see :func:`parse_config`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(raw, path=path, root=root or path.resolve().parent, overrides=overrides)


def model_parameter_problems(specs: list[ReportSpec]) -> list[str]:
    """Check the model parameters of reports before their kernels start.

    A report whose notebook declares ``profile``, ``scenarios``, ``overrides`` or
    ``horizon_years`` gets them checked against the company profiles and the model:
    an unknown profile or scenario, or an override out of range, is named here rather
    than as a failing cell later.
    """
    relevant = [
        s for s in specs if {"profile", "scenarios", "overrides", "horizon_years"} & set(s.declared)
    ]
    if not relevant:
        return []
    from cxtradeoff.errors import CxTradeoffError
    from cxtradeoff.model import get_scenario, scenario_phases, validate_value
    from cxtradeoff.profiles import load_profiles

    problems: list[str] = []
    cache: dict[str, Any] = {}
    for spec in relevant:
        label = f"report {spec.name!r}"
        params = {**{k: v.default for k, v in spec.declared.items()}, **spec.parameters}
        source = str(params.get("profiles_path") or "")
        try:
            if source not in cache:
                cache[source] = load_profiles(source or None)
            profiles = cache[source]
        except CxTradeoffError as exc:
            problems.append(f"{label}, field 'parameters.profiles_path': {exc}")
            continue
        profile = None
        if "profile" in spec.declared:
            profile = profiles.get(params.get("profile"))
            if profile is None:
                problems.append(
                    f"{label}, field 'parameters.profile': no profile {params.get('profile')!r} "
                    f"(profiles: {', '.join(profiles)})"
                )
        overrides = params.get("overrides") or {}
        overrides = overrides if isinstance(overrides, dict) else {}
        if profile is not None and overrides:
            try:
                profile.parameters.updated(dict(overrides))
            except CxTradeoffError as exc:
                problems.append(f"{label}, field 'parameters.overrides': {exc}")
                overrides = {}
        for scenario in params.get("scenarios") or []:
            try:
                get_scenario(scenario)
            except CxTradeoffError as exc:
                problems.append(f"{label}, field 'parameters.scenarios': {exc}")
                continue
            if profile is not None and overrides:
                try:  # the scenario's own settings with the overrides (e.g. a + q <= 1)
                    scenario_phases(profile.parameters, scenario, overrides=overrides)
                except CxTradeoffError as exc:
                    problems.append(
                        f"{label}, field 'parameters.overrides': with scenario {scenario!r}: {exc}"
                    )
        if "horizon_years" in spec.declared and params.get("horizon_years") is not None:
            try:
                validate_value("horizon_years", params["horizon_years"])
            except CxTradeoffError as exc:
                problems.append(f"{label}, field 'parameters.horizon_years': {exc}")
    return problems
