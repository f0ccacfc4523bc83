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
import glob
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    depends_on: list[str] = field(default_factory=list)
    declared: dict[str, NotebookParameter] = field(default_factory=dict)
    #: the export template (a folder of ``templates/``): ``cxtradeoff`` for a full report,
    #: ``brief`` for a one-page brief
    template: str = DEFAULT_TEMPLATE

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
        for index, entry in enumerate(entries, start=1)
        if (spec := _parse_report(entry, index, context)) is not None
    ]
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
