"""The report configuration (``reports.yaml``): which reports exist, from which notebook,
with which parameters and inputs, and in which order.

The whole file is validated before any kernel starts; every problem is reported at once,
each naming the report and the field. The pipeline checks the shape of the file and the
parameters against what each notebook declares; what a parameter *means* (a profile that
exists, an override in range) is checked by functions the caller passes to
:func:`validate` (the analysis side owns them, see :mod:`cxtradeoff.report_checks`).
"""

from __future__ import annotations

import ast
import csv
import fnmatch
import glob
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from cxtradeoff.errors import EXIT_BAD_INPUT, ConfigError
from cxtradeoff.paths import PACKAGE_DIR, ROOT

#: a report's name: its files are ``reports/<name>.html`` etc.; a one-page brief of the
#: report ``X`` is named ``X.brief`` (its files ``X.brief.pdf``...) and reads ``X``
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.brief)?$")
BRIEF_SUFFIX = ".brief"
REPORT_FIELDS = {
    "name", "notebook", "title", "profile", "parameters", "inputs", "depends_on", "template",
}  # fmt: skip
#: the folder of the export templates: each report template is a folder with a conf.json
TEMPLATES_DIR = PACKAGE_DIR / "templates"
#: the template a report is exported with unless it names another
DEFAULT_TEMPLATE = "cxtradeoff"
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
    #: hashes that stand for input files in the report's key, by the file's name relative
    #: to the root: a portfolio unit's own rows of its profiles file, so that editing one
    #: unit rebuilds that unit (and the roll-up) alone
    input_digests: dict[str, str] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    declared: dict[str, NotebookParameter] = field(default_factory=dict)
    #: the export template (a folder of ``templates/``): ``cxtradeoff`` for a full report,
    #: ``brief`` for a one-page brief
    template: str = DEFAULT_TEMPLATE
    #: for a unit of a portfolio, the name of the portfolio's roll-up report
    unit_of: str | None = None

    @property
    def brief_of(self) -> str | None:
        """The report this one is the brief of (``telecom`` for ``telecom.brief``), or None."""
        return self.name.removesuffix(BRIEF_SUFFIX) if self.name.endswith(BRIEF_SUFFIX) else None

    @property
    def writes_results(self) -> bool:
        return "results_path" in self.declared

    @property
    def reads_results(self) -> bool:
        return "results_files" in self.declared

    def effective_parameters(self) -> dict[str, Any]:
        """Every declared parameter with the value the notebook will run with."""
        return {**{k: v.default for k, v in self.declared.items()}, **self.parameters}


@dataclass
class BuildConfig:
    """The validated configuration: reports in dependency order."""

    path: Path
    root: Path
    reports: list[ReportSpec]
    smtp: dict[str, Any] = field(default_factory=dict)

    def by_name(self) -> dict[str, ReportSpec]:
        return {r.name: r for r in self.reports}


# --------------------------------------------------------------------------- notebooks


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
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            return _parse_parameters_cell(
                "".join(source) if isinstance(source, list) else source, notebook
            )
    raise ConfigError(f"{notebook}: no cell tagged 'parameters'")


def _parse_parameters_cell(source: str, notebook: Path) -> dict[str, NotebookParameter]:
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


def _type_ok(value: Any, type_name: str | None) -> bool:
    if type_name is None or type_name not in _TYPES:
        return True
    if type_name in {"int", "float"} and isinstance(value, bool):
        return False
    if type_name == "float" and isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, _TYPES[type_name])


def _type_of(parameter: NotebookParameter) -> str | None:
    """The declared type, else the type of the default value (None when neither says)."""
    if parameter.type_name in _TYPES:
        return parameter.type_name
    default_type = type(parameter.default).__name__
    return default_type if parameter.default is not None and default_type in _TYPES else None


_INT_RE = re.compile(r"^[+-]?\d[\d_]*$")
_BOOLS = {"true": True, "yes": True, "on": True, "1": True,
          "false": False, "no": False, "off": False, "0": False}  # fmt: skip


def parse_value(text: str, parameter: NotebookParameter) -> Any:
    """A parameter given as text (``--param NAME=VALUE``) read as the type its notebook
    declares: ``int`` and ``float`` as numbers (finite), ``bool`` as true/false/yes/no/1/0,
    ``list`` and ``dict`` as JSON (or a YAML flow collection), anything else as the text
    itself, whole: ``a #b`` stays ``a #b``.

    Raises
    ------
    ValueError
        The text cannot be read as that type; the message says what was expected.

    Examples
    --------
    >>> draws = NotebookParameter("draws", "int", 20000, "")
    >>> parse_value("2000", draws), parse_value("1_000_000", draws)
    (2000, 1000000)
    >>> parse_value("a #b", NotebookParameter("title", "str", "", ""))
    'a #b'
    """
    type_name = _type_of(parameter)
    value = text.strip()
    if type_name == "int":
        if not _INT_RE.match(value):
            raise ValueError("expected a whole number, e.g. 2000")
        return int(value)
    if type_name == "float":
        try:
            number = float(value.replace("_", ""))
        except ValueError:
            raise ValueError("expected a number, e.g. 0.25") from None
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        return number
    if type_name == "bool":
        if value.lower() not in _BOOLS:
            raise ValueError("expected true or false")
        return _BOOLS[value.lower()]
    if type_name in {"list", "dict"}:
        return _parse_collection(value, type_name)
    return text


def _parse_collection(value: str, type_name: str) -> Any:
    try:
        parsed = json.loads(value)
    except ValueError:
        try:
            parsed = yaml.safe_load(value) if value.startswith(("[", "{")) else None
        except yaml.YAMLError:
            parsed = None
    if not _type_ok(parsed, type_name):
        example = (
            '["hybrid", "full_automation"]' if type_name == "list" else '{"switch_conversion": 0.1}'
        )
        raise ValueError(f"expected a {type_name} in JSON, e.g. {example}")
    return parsed


# --------------------------------------------------------------------------- parsing


class _Problems(list[str]):
    """Problems found so far; raised all at once."""

    def add(self, problem: str) -> None:
        """Add ``problem`` unless it is already there (two checks may find the same)."""
        if problem not in self:
            self.append(problem)

    def raise_if_any(self, path: Path) -> None:
        if self:
            raise ConfigError(
                f"{path}: {len(self)} problem(s):\n" + "\n".join(f"  - {p}" for p in self)
            )


@dataclass
class _Context:
    """What every report entry is read against."""

    root: Path
    defaults: dict[str, Any]
    overrides: Mapping[str, Any]
    problems: _Problems
    seen: set[str] = field(default_factory=set)
    notebooks: dict[Path, dict[str, NotebookParameter]] = field(default_factory=dict)
    #: (problem, declaration) -> the notebooks declaring it: one problem per --param
    bad_overrides: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: report name -> its input digests (:attr:`ReportSpec.input_digests`), for the units
    #: of portfolios
    unit_digests: dict[str, dict[str, str]] = field(default_factory=dict)
    #: report name -> the roll-up of the portfolio it is a unit of
    unit_of: dict[str, str] = field(default_factory=dict)


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
        for a quick build); names a notebook does not declare are ignored for it, a name
        no notebook declares is a problem. Text values (``--param``) are read as the
        type the notebook declares (:func:`parse_value`).

    Raises
    ------
    ConfigError
        Listing every problem found.
    """
    problems = _Problems()
    entries = _top_level(raw, path=path, problems=problems)
    context = _Context(root, _defaults(raw, problems), overrides or {}, problems)
    reports = [
        spec
        for index, entry in expand_portfolios(entries, context)
        if (spec := _parse_report(entry, index, context)) is not None
    ]
    for spec in reports:  # a portfolio's units are keyed on their own rows of its file
        spec.input_digests = context.unit_digests.get(spec.name, {})
        spec.unit_of = context.unit_of.get(spec.name)
    _check_dependencies(reports, problems)
    _check_overrides(context, problems)
    ordered = _order(reports, problems)
    smtp = _smtp(raw, problems)
    problems.raise_if_any(path)
    return BuildConfig(path=path, root=root, reports=ordered, smtp=smtp)


def _top_level(raw: Any, *, path: Path, problems: _Problems) -> list[Any]:
    """The list of report entries; unknown top-level fields are problems."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: expected a mapping with a 'reports' list, got {type(raw).__name__}"
        )
    for key in sorted(set(raw) - TOP_FIELDS):
        problems.append(f"unknown top-level field {key!r} (expected one of {sorted(TOP_FIELDS)})")
    entries = raw.get("reports")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: field 'reports': expected a non-empty list of reports")
    return entries


def _defaults(raw: dict[str, Any], problems: _Problems) -> dict[str, Any]:
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append("field 'defaults': expected a mapping of parameter names to values")
        return {}
    return defaults


def _smtp(raw: dict[str, Any], problems: _Problems) -> dict[str, Any]:
    smtp = raw.get("smtp") or {}
    if not isinstance(smtp, dict):
        problems.append("field 'smtp': expected a mapping")
        return {}
    return smtp


def _parse_report(entry: Any, index: int, ctx: _Context) -> ReportSpec | None:
    """One report entry; None when it has no usable name (the rest is not checked)."""
    if not isinstance(entry, dict):
        ctx.problems.append(f"report #{index}: expected a mapping, got {type(entry).__name__}")
        return None
    name = _report_name(entry, index, ctx)
    if name is None:
        return None
    label = f"report {name!r}"
    for key in sorted(set(entry) - REPORT_FIELDS):
        ctx.problems.append(
            f"{label}: unknown field {key!r} (expected one of {sorted(REPORT_FIELDS)})"
        )
    notebook, declared = _report_notebook(entry, label, ctx)
    return ReportSpec(
        name=name,
        notebook=notebook,
        title=_report_title(entry, name, label, ctx.problems),
        profile=_report_profile(entry, label, ctx.problems),
        parameters=_report_parameters(entry, label, declared, ctx),
        inputs=_report_inputs(entry, label, ctx),
        depends_on=_report_depends_on(entry, label, ctx.problems),
        declared=declared,
        template=_report_template(entry, label, ctx.problems),
    )


def _report_name(entry: dict[str, Any], index: int, ctx: _Context) -> str | None:
    name = entry.get("name")
    label = f"report {name!r}" if isinstance(name, str) else f"report #{index}"
    if not isinstance(name, str) or not NAME_RE.match(name):
        ctx.problems.append(
            f"{label}, field 'name': expected lower-case letters, digits, '-' or '_' (and "
            f"'{BRIEF_SUFFIX}' at the end for the brief of a report), got {name!r}"
        )
        return None
    if name in ctx.seen:
        ctx.problems.append(f"{label}, field 'name': duplicate report name")
        return None
    ctx.seen.add(name)
    return name


def _report_notebook(
    entry: dict[str, Any], label: str, ctx: _Context
) -> tuple[Path, dict[str, NotebookParameter]]:
    """The notebook's path and the parameters it declares (empty when unreadable)."""
    value = entry.get("notebook")
    notebook = ctx.root / str(value)
    if not isinstance(value, str) or not value:
        ctx.problems.append(f"{label}, field 'notebook': expected a notebook path, got {value!r}")
    elif not notebook.is_file():
        ctx.problems.append(f"{label}, field 'notebook': {value} does not exist")
    else:
        try:
            if notebook not in ctx.notebooks:
                ctx.notebooks[notebook] = notebook_parameters(notebook)
            return notebook, ctx.notebooks[notebook]
        except ConfigError as exc:
            ctx.problems.append(f"{label}, field 'notebook': {exc}")
    return notebook, {}


def _report_parameters(
    entry: dict[str, Any], label: str, declared: dict[str, NotebookParameter], ctx: _Context
) -> dict[str, Any]:
    """Defaults, then overrides, then the report's own parameters; each checked by type."""
    params = entry.get("parameters") or {}
    if not isinstance(params, dict):
        ctx.problems.append(
            f"{label}, field 'parameters': expected a mapping, got {type(params).__name__}"
        )
        params = {}
    merged: dict[str, Any] = {}
    notebook = entry.get("notebook")
    if declared:
        merged.update({k: v for k, v in ctx.defaults.items() if k in declared})
        for key, value in ctx.overrides.items():
            if key in declared:
                merged[key] = _override(key, value, declared[key], str(notebook), ctx)
    for key, value in params.items():
        if key in RESERVED_PARAMETERS:
            ctx.problems.append(
                f"{label}, field 'parameters.{key}': set by the build, not the configuration"
            )
        elif declared and key not in declared:
            ctx.problems.append(
                f"{label}, field 'parameters.{key}': {notebook} declares no such parameter "
                f"(it declares: {', '.join(sorted(declared))})"
            )
        else:
            merged[key] = value
    for key, value in merged.items():
        spec = declared.get(key)
        if spec is not None and not _type_ok(value, spec.type_name):
            ctx.problems.append(
                f"{label}, field 'parameters.{key}': expected {spec.type_name}, "
                f"got {type(value).__name__} {value!r}"
            )
    return merged


def _override(
    key: str, value: Any, parameter: NotebookParameter, notebook: str, ctx: _Context
) -> Any:
    """An override for every report (``--param``): text is read as the declared type."""
    if not isinstance(value, str):
        return value
    try:
        return parse_value(value, parameter)
    except ValueError as exc:
        declared = f"'{key}: {parameter.type_name or _type_of(parameter)}'"
        ctx.bad_overrides.setdefault((f"--param {key}={value!r}: {exc}", declared), set()).add(
            notebook
        )
        return parameter.default


def _report_title(entry: dict[str, Any], name: str, label: str, problems: _Problems) -> str:
    title = entry.get("title", name)
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{label}, field 'title': expected text, got {title!r}")
        return name
    return title


def _report_profile(entry: dict[str, Any], label: str, problems: _Problems) -> str | None:
    profile = entry.get("profile")
    if profile is not None and not isinstance(profile, str):
        problems.append(f"{label}, field 'profile': expected text, got {profile!r}")
        return None
    return profile


def _report_inputs(entry: dict[str, Any], label: str, ctx: _Context) -> list[Path]:
    raw_inputs = _as_list(entry.get("inputs"))
    if raw_inputs is None:
        ctx.problems.append(f"{label}, field 'inputs': expected a list of paths")
        return []
    inputs: list[Path] = []
    for item in raw_inputs:
        matches = (
            sorted(Path(m) for m in glob.glob(str(ctx.root / item), recursive=True))
            if isinstance(item, str)
            else []
        )
        if not matches:
            ctx.problems.append(f"{label}, field 'inputs': {item!r} matches no file")
        inputs.extend(m for m in matches if m.is_file())
    return inputs


def report_templates() -> list[str]:
    """The export templates a report may name: the folders of ``templates/`` with a
    ``conf.json`` (the landing page's is not one)."""
    return sorted(p.parent.name for p in TEMPLATES_DIR.glob("*/conf.json"))


def _report_template(entry: dict[str, Any], label: str, problems: _Problems) -> str:
    template = entry.get("template", DEFAULT_TEMPLATE)
    known = report_templates()
    if not isinstance(template, str) or template not in known:
        problems.append(
            f"{label}, field 'template': expected one of {', '.join(known)}, got {template!r}"
        )
        return DEFAULT_TEMPLATE
    return template


def _report_depends_on(entry: dict[str, Any], label: str, problems: _Problems) -> list[str]:
    deps = _as_list(entry.get("depends_on"))
    if deps is None or not all(isinstance(d, str) for d in deps):
        problems.append(f"{label}, field 'depends_on': expected a list of report names")
        return []
    return list(deps)


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return None


def _check_dependencies(reports: list[ReportSpec], problems: _Problems) -> None:
    names = {r.name for r in reports}
    for report in reports:
        for dep in report.depends_on:
            if dep not in names:
                problems.append(
                    f"report {report.name!r}, field 'depends_on': no report named {dep!r}"
                )
            elif dep == report.name:
                problems.append(f"report {report.name!r}, field 'depends_on': depends on itself")
        summarised = report.brief_of
        if summarised is not None and summarised not in report.depends_on:
            problems.append(
                f"report {report.name!r}, field 'depends_on': a brief reads the report it "
                f"summarises, so it must depend on {summarised!r}"
            )
        if report.depends_on and report.declared and not report.reads_results:
            problems.append(
                f"report {report.name!r}, field 'depends_on': its notebook declares no "
                "'results_files' parameter to read them"
            )


def _check_overrides(ctx: _Context, problems: _Problems) -> None:
    """Each override that cannot be read is one problem; one no notebook declares is a
    typo, not something to ignore silently."""
    for (problem, declared), notebooks in ctx.bad_overrides.items():
        problems.append(
            f"{problem} ({', '.join(sorted(notebooks))} declare{'s' if len(notebooks) == 1 else ''} {declared})"
        )
    declared_names = {n for params in ctx.notebooks.values() for n in params} - RESERVED_PARAMETERS
    for key in ctx.overrides:
        if key in RESERVED_PARAMETERS:
            problems.append(f"--param {key}: set by the build, not on the command line")
        elif ctx.notebooks and key not in declared_names:
            problems.append(f"--param {key}: no notebook of the configuration declares it "
                            f"(they declare: {', '.join(sorted(declared_names))})")  # fmt: skip


def _order(reports: list[ReportSpec], problems: _Problems) -> list[ReportSpec]:
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


def load_config(
    path: Path, *, root: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> BuildConfig:
    """Read and validate a report configuration file (see :func:`parse_config`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(raw, path=path, root=root or path.resolve().parent, overrides=overrides)


# --------------------------------------------------------------------------- domain checks


@dataclass(frozen=True)
class ParameterProblem:
    """A report parameter that a domain check refuses: a configuration problem, which
    stops the build before anything runs."""

    report: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"report {self.report!r}, field {self.field!r}: {self.message}"


@dataclass(frozen=True)
class InputProblem:
    """An input file some reports read is unusable (a broken data file).

    It is named once, against the file; the reports that read it are not built, the
    others are. ``exit_code`` is the status the build then ends with.
    """

    source: str
    message: str
    reports: tuple[str, ...]
    exit_code: int = EXIT_BAD_INPUT

    def __str__(self) -> str:
        return self.message


#: A domain check of report parameters, owned by the side that knows what they mean: given
#: the reports about to be built, every problem it finds. The pipeline calls it through
#: :func:`validate` and never imports the model itself.
ParameterCheck = Callable[[Sequence[ReportSpec]], Iterable[ParameterProblem | InputProblem]]


def validate(
    config: BuildConfig,
    specs: Sequence[ReportSpec],
    *,
    parameter_checks: Sequence[ParameterCheck] = (),
) -> list[InputProblem]:
    """Run the domain checks on ``specs`` (reports of ``config``) before any kernel starts.

    Returns
    -------
    list of InputProblem
        Unusable input files and the reports they stop (the others can be built).

    Raises
    ------
    ConfigError
        Listing every parameter problem the checks found, against the configuration file.
    """
    problems = _Problems()
    inputs: list[InputProblem] = []
    for check in parameter_checks:
        for problem in check(specs):
            if isinstance(problem, InputProblem):
                inputs.append(problem)
            else:
                problems.add(str(problem))
    problems.raise_if_any(config.path)
    return inputs


# --------------------------------------------------------------------------- portfolios
#
# A report entry with a ``portfolio`` block stands for one report per unit (a profile of a
# profiles file, all of them or those a filter keeps) and a roll-up report that reads
# them all. :func:`expand_portfolios` turns it into plain report entries before they are
# parsed, so that every unit is validated like any report; what is shared by the units is
# checked once, against the portfolio. See docs/scaling.md for the syntax.

#: the fields of a ``portfolio`` block
PORTFOLIO_FIELDS = {"name", "profiles", "where", "title", "notebook", "parameters"}
#: the roll-up notebook unless the block names another
ROLLUP_NOTEBOOK = "notebooks/07-portfolio.ipynb"
#: the parameters a portfolio sets on each unit's notebook
UNIT_PARAMETERS = ("profile", "profiles_path")
#: the columns of a profiles file (layout in data/README-profiles.md)
_PROFILE_COLUMNS = ("profile", "display_name", "currency", "parameter", "value")
_PLACEHOLDER_RE = re.compile(r"{([^{}]*)}")


@dataclass(frozen=True)
class Unit:
    """One unit of a portfolio: a profile of the profiles file and what can be said of it
    by name in a name or title template and a ``where`` filter."""

    profile: str
    fields: dict[str, str]
    #: SHA-256 of the unit's rows of the file, as they are written there
    digest: str = ""

    @property
    def slug(self) -> str:
        """The profile id as a report name has it: ``retail_bank`` is ``retail-bank``."""
        return self.profile.replace("_", "-")


def read_units(path: Path) -> list[Unit]:
    """The profiles of a profiles file, in file order, with their fields as text and a
    hash of their rows.

    Only what a portfolio needs to name and filter its units is read here; the file is
    validated as a whole by the domain check the build runs before any kernel starts
    (:func:`cxtradeoff.report_checks.model_parameter_problems`).

    Raises
    ------
    ConfigError
        The file cannot be read, or lacks one of the columns a profiles file has.
    """
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            missing = [c for c in _PROFILE_COLUMNS if c not in header]
            if missing:
                raise ConfigError(
                    f"{path}: not a profiles file (no column {', '.join(map(repr, missing))})"
                )
            units: dict[str, dict[str, str]] = {}
            digests: dict[str, Any] = {}
            for values in reader:
                row = dict(zip(header, values, strict=False))
                name = (row.get("profile") or "").strip()
                if not name:
                    continue
                fields = units.setdefault(name, {"profile": name})
                fields.setdefault("display_name", (row.get("display_name") or "").strip())
                fields.setdefault("currency", (row.get("currency") or "").strip())
                parameter = (row.get("parameter") or "").strip()
                if parameter:
                    fields[parameter] = (row.get("value") or "").strip()
                digest = digests.setdefault(name, hashlib.sha256("\x1f".join(header).encode()))
                digest.update(("\x1e" + "\x1f".join(values)).encode())
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: cannot be read as a profiles file ({exc})") from None
    return [Unit(name, fields, digests[name].hexdigest()) for name, fields in units.items()]


def unit_matches(unit: Unit, where: Mapping[str, Any]) -> bool:
    """Whether ``unit`` passes every condition of a ``where`` filter (checked before).

    A condition is a value (text is a shell-style pattern: ``unit_0*``), a list of values
    (any of them), or ``{min: ..., max: ...}`` on a number (both ends included).

    Examples
    --------
    >>> u = Unit("telecom", {"profile": "telecom", "sector": "telecom", "customers": "8000000"})
    >>> unit_matches(u, {"sector": ["telecom", "retail"], "customers": {"min": 1e6}})
    True
    >>> unit_matches(u, {"profile": "retail_*"})
    False
    """
    return all(_condition_holds(unit.fields.get(key, ""), cond) for key, cond in where.items())


def _condition_holds(text: str, condition: Any) -> bool:
    if isinstance(condition, list):
        return any(_condition_holds(text, item) for item in condition)
    if isinstance(condition, dict):
        number = _number(text)
        if number is None:
            return False
        low, high = condition.get("min"), condition.get("max")
        return (low is None or number >= low) and (high is None or number <= high)
    if isinstance(condition, bool):
        return text.lower() in ({"true", "yes", "1"} if condition else {"false", "no", "0"})
    if isinstance(condition, int | float):
        return _number(text) == condition
    return fnmatch.fnmatchcase(text, str(condition))


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _where_problems(where: Any, units: list[Unit], label: str, source: str) -> list[str]:
    """What is wrong with a ``where`` filter: its shape, fields no unit has, ranges on
    values that are not numbers."""
    field_name = f"{label}, field 'portfolio.where"
    if not isinstance(where, dict):
        return [f"{field_name}': expected a mapping of field to condition, got {where!r}"]
    known = sorted({key for unit in units for key in unit.fields})
    problems = []
    for key, condition in where.items():
        if key not in known:
            problems.append(
                f"{field_name}.{key}': {source} has no column or parameter {key!r} "
                f"(it has: {', '.join(known)})"
            )
            continue
        for item in condition if isinstance(condition, list) else [condition]:
            if isinstance(item, dict):
                bad = sorted(set(item) - {"min", "max"})
                ends = [item.get("min"), item.get("max")]
                if (
                    bad
                    or not item
                    or not all(
                        e is None or (isinstance(e, int | float) and not isinstance(e, bool))
                        for e in ends
                    )
                ):
                    problems.append(
                        f"{field_name}.{key}': a range is {{min: NUMBER, max: NUMBER}}, "
                        f"got {item!r}"
                    )
                    continue
                texts = sorted({u.fields.get(key, "") for u in units if u.fields.get(key)})
                words = [t for t in texts if _number(t) is None]
                if words:
                    problems.append(
                        f"{field_name}.{key}': a range needs numbers, and {key} is "
                        f"{words[0]!r} for some units"
                    )
            elif item is None or not isinstance(item, str | int | float | bool):
                problems.append(
                    f"{field_name}.{key}': expected a value, a list of values or "
                    f"{{min, max}}, got {item!r}"
                )
    return problems


def _fill(template: str, unit: Unit, portfolio: str) -> str:
    """A name or title template with ``{profile}``, ``{slug}``, ``{portfolio}``,
    ``{display_name}``, ``{currency}`` or any parameter of the unit filled in."""
    values = {**unit.fields, "slug": unit.slug, "portfolio": portfolio}
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _unknown_placeholders(template: Any, units: list[Unit]) -> list[str]:
    if not isinstance(template, str) or not units:  # no unit: the file or filter is at fault
        return []
    known = {key for unit in units for key in unit.fields} | {"slug", "portfolio"}
    return sorted({m for m in _PLACEHOLDER_RE.findall(template) if m not in known})


def expand_portfolios(entries: list[Any], ctx: _Context) -> list[tuple[int, Any]]:
    """Every report entry with its position in the file, each portfolio entry replaced
    by one entry per unit and the roll-up's.

    A portfolio's problems are named once, against the portfolio: its block (file,
    filter, roll-up), what its units share (notebook, parameters, inputs), and clashes of
    the report names it makes with each other or with any other report. A portfolio with
    such a problem makes no unit (nothing else would be learnt from a hundred copies of
    the same problem).
    """
    numbered = list(enumerate(entries, start=1))
    if not any(_is_portfolio(entry) for entry in entries):
        return numbered
    taken: dict[str, str] = {
        entry["name"]: f"report {entry['name']!r}"
        for entry in entries
        if isinstance(entry, dict)
        and not _is_portfolio(entry)
        and isinstance(entry.get("name"), str)
    }
    expanded: list[tuple[int, Any]] = []
    for index, entry in numbered:
        if _is_portfolio(entry):
            expanded += [(index, unit) for unit in _expand_portfolio(entry, index, ctx, taken)]
        else:
            expanded.append((index, entry))
    return expanded


def _is_portfolio(entry: Any) -> bool:
    return isinstance(entry, dict) and "portfolio" in entry


def _expand_portfolio(
    entry: dict[str, Any], index: int, ctx: _Context, taken: dict[str, str]
) -> list[dict[str, Any]]:
    """The report entries of one portfolio (units, then the roll-up); none on a problem."""
    block = entry["portfolio"]
    if not isinstance(block, dict) or not isinstance(block.get("name"), str):
        ctx.problems.append(
            f"report #{index}, field 'portfolio': expected a mapping with a 'name' (the "
            f"roll-up report's) and 'profiles' (the profiles file), got {block!r}"
        )
        return []
    name = block["name"]
    label = f"portfolio {name!r}"
    before = len(ctx.problems)
    for key in sorted(set(block) - PORTFOLIO_FIELDS):
        ctx.problems.append(
            f"{label}: unknown field 'portfolio.{key}' (expected one of {sorted(PORTFOLIO_FIELDS)})"
        )
    units, source = _portfolio_units(block, label, ctx)
    template = {k: v for k, v in entry.items() if k != "portfolio"}
    _check_template(template, name, index, label, units, ctx)
    if len(ctx.problems) > before:
        return []
    made = _unit_entries(template, name, units, source, ctx)
    rollup = _rollup_entry(block, name, [e["name"] for e in made], len(units))
    names = _check_unit_names(units, [e["name"] for e in made], label, taken, ctx.problems)
    if name in taken or name in names:
        other = taken.get(name) or f"its unit {names[name]!r}"
        ctx.problems.append(
            f"{label}, field 'portfolio.name': the roll-up report's name {name!r} is taken "
            f"by {other}"
        )
    if not NAME_RE.match(name):
        ctx.problems.append(
            f"{label}, field 'portfolio.name': expected lower-case letters, digits, '-' or "
            f"'_', got {name!r}"
        )
    if len(ctx.problems) > before:
        return []
    taken.update({report: f"a unit of {label}" for report in names})
    taken[name] = f"the roll-up of {label}"
    ctx.unit_of.update({report: str(name) for report in names})
    return [*made, rollup]


def _check_unit_names(
    units: list[Unit], made: list[str], label: str, taken: dict[str, str], problems: _Problems
) -> dict[str, str]:
    """Each report name the units make, and the unit that makes it; a name that is no
    report name, made twice, or taken by another report is a problem, named once with
    the units concerned."""
    by_name: dict[str, list[str]] = {}
    for unit, report in zip(units, made, strict=True):
        by_name.setdefault(report, []).append(unit.profile)
    invalid = {r: us for r, us in by_name.items() if not NAME_RE.match(r)}
    if invalid:
        report, first = next(iter(invalid.items()))
        others = sum(len(us) for us in invalid.values()) - 1
        problems.append(
            f"{label}, field 'name': unit {first[0]!r} makes {report!r}"
            + (f" (and {others} more units likewise)" if others else "")
            + ", not a report name (lower-case letters, digits, '-' or '_'): use {slug} or {profile}"
        )
    for report, profiles in by_name.items():
        if report in invalid:
            continue
        if len(profiles) > 1:
            shown = ", ".join(map(repr, profiles[:3])) + (
                f" and {len(profiles) - 3} more" if len(profiles) > 3 else ""
            )
            problems.append(
                f"{label}, field 'name': units {shown} all make the report name {report!r} "
                "(use {slug} or {profile} in it)"
            )
        if report in taken:
            problems.append(
                f"{label}, field 'name': unit {profiles[0]!r} makes the report name "
                f"{report!r}, which {taken[report]} has already"
            )
    return {report: profiles[0] for report, profiles in by_name.items()}


def _portfolio_units(block: dict[str, Any], label: str, ctx: _Context) -> tuple[list[Unit], Path]:
    """The units the block keeps, and the profiles file they come from."""
    given = block.get("profiles")
    source = ctx.root / str(given)
    if not isinstance(given, str) or not given:
        ctx.problems.append(
            f"{label}, field 'portfolio.profiles': expected the path of a profiles file, "
            f"got {given!r}"
        )
        return [], source
    if not source.is_file():
        ctx.problems.append(f"{label}, field 'portfolio.profiles': {given} does not exist")
        return [], source
    try:
        units = read_units(source)
    except ConfigError as exc:
        ctx.problems.append(f"{label}, field 'portfolio.profiles': {exc}")
        return [], source
    if not units:
        ctx.problems.append(f"{label}, field 'portfolio.profiles': {given} has no profile")
        return [], source
    where = block.get("where")
    if where is None:
        return units, source
    problems = _where_problems(where, units, label, given)
    if problems:
        ctx.problems.extend(problems)
        return [], source
    kept = [unit for unit in units if unit_matches(unit, where)]
    if not kept:
        ctx.problems.append(
            f"{label}, field 'portfolio.where': no profile of {given} matches "
            f"(of {len(units)}; the filter is {where!r})"
        )
    return kept, source


def _check_template(
    template: dict[str, Any], name: str, index: int, label: str, units: list[Unit], ctx: _Context
) -> None:
    """What every unit shares, checked once: as a report named after the portfolio."""
    scratch = replace(ctx, problems=_Problems(), seen=set())
    probe = {**template, "name": name}
    spec = _parse_report(probe, index, scratch)
    for problem in scratch.problems:
        ctx.problems.add(problem.replace(f"report {name!r}", f"{label} (every unit)", 1))
    for key in ("name", "title"):
        for placeholder in _unknown_placeholders(template.get(key), units):
            ctx.problems.append(
                f"{label}, field {key!r}: no {{{placeholder}}} to fill in (a unit has "
                "{profile}, {slug}, {portfolio}, {display_name}, {currency} and its parameters)"
            )
    if "profile" in template:
        ctx.problems.append(f"{label}, field 'profile': set for each unit by the portfolio")
    for key in UNIT_PARAMETERS:
        if key in (template.get("parameters") or {}):
            ctx.problems.append(
                f"{label}, field 'parameters.{key}': set for each unit by the portfolio"
            )
        elif spec is not None and spec.declared and key not in spec.declared:
            ctx.problems.append(
                f"{label}, field 'notebook': {template.get('notebook')} declares no {key!r} "
                "parameter, through which a portfolio sets each unit's profile"
            )


def _unit_entries(
    template: dict[str, Any], name: str, units: list[Unit], source: Path, ctx: _Context
) -> list[dict[str, Any]]:
    """One plain report entry per unit."""
    notebook = ctx.root / str(template["notebook"])
    # the notebook reads a relative path from its own folder (its kernel's)
    profiles_path = os.path.relpath(source, notebook.parent)
    source_name = os.path.relpath(source, ctx.root)
    inputs = [*(template.get("inputs") or []), source_name]
    made = [
        {
            **template,
            "name": _fill(template.get("name", "{portfolio}-{slug}"), unit, name),
            "title": _fill(template.get("title", "{display_name}"), unit, name),
            "profile": unit.profile,
            "parameters": {
                **(template.get("parameters") or {}),
                "profile": unit.profile,
                "profiles_path": profiles_path,
            },
            "inputs": list(dict.fromkeys(inputs)),
        }
        for unit in units
    ]
    try:  # the name the build's hashes give the file (pipeline.inputs.relative_name)
        key = source.resolve().relative_to(ctx.root.resolve()).as_posix()
    except ValueError:
        key = str(source)
    for unit, entry in zip(units, made, strict=True):
        ctx.unit_digests[entry["name"]] = {key: unit.digest}
    return made


def _rollup_entry(block: dict[str, Any], name: str, units: list[str], count: int) -> dict[str, Any]:
    """The roll-up report's entry: it reads every unit's results."""
    rollup: dict[str, Any] = {
        "name": name,
        "notebook": block.get("notebook", ROLLUP_NOTEBOOK),
        "title": block.get("title", f"Portfolio {name}: {count} units"),
        "depends_on": units,
    }
    given = block.get("parameters")
    if "notebook" not in block and (given is None or isinstance(given, dict)):
        given = {"title": rollup["title"], **(given or {})}  # the roll-up shows its title
    if given is not None:
        rollup["parameters"] = given
    return rollup
