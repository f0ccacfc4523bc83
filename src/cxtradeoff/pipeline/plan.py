"""Decide what a build does: which reports, which are up to date, in which order.

Everything here is pure: it takes the validated configuration, the hashes of the inputs
(:mod:`cxtradeoff.pipeline.inputs`), what the last build recorded and which files exist,
and returns decisions; it reads no file and starts no kernel.

Example
-------
>>> from pathlib import Path
>>> from cxtradeoff.pipeline.config import ReportSpec
>>> a = ReportSpec("a", Path("a.ipynb"), "A")
>>> b = ReportSpec("b", Path("b.ipynb"), "B", depends_on=["a"])
>>> plan = make_plan([a, b], inputs={"a": {"a.ipynb": "1"}, "b": {"b.ipynb": "2"}},
...                  previous={}, existing=frozenset(), formats=("html",))
>>> [s.name for s in plan.todo], plan.up_to_date
(['a', 'b'], [])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cxtradeoff.errors import ConfigError
from cxtradeoff.pipeline.config import DEFAULT_TEMPLATE, BuildConfig, ReportSpec


@dataclass(frozen=True)
class Previous:
    """What the last build recorded about one report (from its manifest)."""

    status: str
    input_hash: str | None
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What to build: every selected report's key, those to build in the order to start
    them, and those already up to date."""

    keys: dict[str, str]
    todo: list[ReportSpec]
    up_to_date: list[str] = field(default_factory=list)


def select(config: BuildConfig, only: Sequence[str]) -> list[ReportSpec]:
    """The reports named in ``only`` and every report they depend on (all when empty).

    Raises
    ------
    ConfigError
        A name in ``only`` is no report of the configuration.
    """
    by_name = config.by_name()
    unknown = [n for n in only if n not in by_name]
    if unknown:
        raise ConfigError(f"--only: no report named {', '.join(map(repr, unknown))} "
                          f"(reports: {', '.join(by_name)})")  # fmt: skip
    if not only:
        return list(config.reports)
    wanted: set[str] = set()
    todo = list(only)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(by_name[name].depends_on)
    return [r for r in config.reports if r.name in wanted]


def report_key(
    spec: ReportSpec,
    inputs: Mapping[str, str],
    *,
    formats: Sequence[str],
    dep_keys: Mapping[str, str],
) -> str:
    """The hash that decides whether a report must be rebuilt."""
    payload = {
        "inputs": dict(inputs),
        "parameters": spec.parameters,
        "title": spec.title,
        "formats": sorted(formats),
        "depends_on": dict(dep_keys),
    }
    if spec.template != DEFAULT_TEMPLATE:  # the keys of reports on the default stay as they were
        payload["template"] = spec.template
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def make_plan(
    selected: Sequence[ReportSpec],
    *,
    inputs: Mapping[str, Mapping[str, str]],
    previous: Mapping[str, Previous],
    existing: Collection[str],
    formats: Sequence[str],
    force: bool = False,
) -> Plan:
    """Decide which of ``selected`` (in dependency order) to build.

    A report is up to date when the last build made it successfully from the same key,
    its outputs are all in ``existing`` (file names in the output folder), no report it
    reads is rebuilt, and ``force`` is off.
    """
    keys: dict[str, str] = {}
    todo: list[ReportSpec] = []
    up_to_date: list[str] = []
    for spec in selected:
        dep_keys = {
            d: keys.get(d) or (previous[d].input_hash if d in previous else None) or ""
            for d in spec.depends_on
        }
        keys[spec.name] = report_key(spec, inputs[spec.name], formats=formats, dep_keys=dep_keys)
        old = previous.get(spec.name)
        fresh = (
            not force
            and old is not None
            and old.status == "ok"
            and old.input_hash == keys[spec.name]
            and bool(old.outputs)
            and all(name in existing for name in old.outputs)
            and not any(d in {s.name for s in todo} for d in spec.depends_on)
        )
        if fresh:
            up_to_date.append(spec.name)
        else:
            todo.append(spec)
    return Plan(keys=keys, todo=start_order(todo), up_to_date=up_to_date)


def dependents(specs: Iterable[ReportSpec]) -> dict[str, set[str]]:
    """For each report, the reports that read it, directly or not."""
    specs = list(specs)
    direct: dict[str, set[str]] = {s.name: set() for s in specs}
    for spec in specs:
        for dep in spec.depends_on:
            direct.setdefault(dep, set()).add(spec.name)
    closure: dict[str, set[str]] = {}

    def visit(name: str) -> set[str]:
        if name not in closure:
            closure[name] = set()
            for child in direct.get(name, ()):
                closure[name] |= {child, *visit(child)}
        return closure[name]

    return {name: visit(name) for name in direct}


def start_order(todo: Sequence[ReportSpec]) -> list[ReportSpec]:
    """Reports that others wait for first, so that independent ones fill the idle slots
    at the end (the comparison runs alongside the evidence report, not alone)."""
    waiting = dependents(todo)
    return sorted(todo, key=lambda s: -len(waiting[s.name]))


def ready(pending: Iterable[ReportSpec], done: Mapping[str, str]) -> list[ReportSpec]:
    """The pending reports whose dependencies are all finished (in ``pending`` order)."""
    return [s for s in pending if all(d in done for d in s.depends_on)]


def failed_dependencies(spec: ReportSpec, done: Mapping[str, str]) -> list[str]:
    """The reports ``spec`` reads that did not end ``ok`` (it cannot be built)."""
    return [d for d in spec.depends_on if done.get(d) != "ok"]
