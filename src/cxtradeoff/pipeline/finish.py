"""Finishing a build: reports moved into place, the manifest, the landing page, archives.

Each report is staged aside (:mod:`cxtradeoff.pipeline.run`) and moved into place only
when complete; a failed report leaves its last good files and its executed notebook in
``failed/``. The manifest (``manifest.json``) records, per report, its parameters, the
hashes of its inputs, provenance, timings and status; the landing page (``index.html``)
is rendered from it through a Jinja template with autoescaping.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cxtradeoff.errors import CxTradeoffError, RenderError
from cxtradeoff.files import atomic_write_text, move_into_place
from cxtradeoff.paths import PACKAGE_DIR
from cxtradeoff.pipeline.events import ReportOutcome
from cxtradeoff.pipeline.inputs import relative_name
from cxtradeoff.pipeline.plan import Previous
from cxtradeoff.pipeline.run import Job

MANIFEST = "manifest.json"
INDEX = "index.html"
ARCHIVE_DIR = "archive"
FAILED_DIR = "failed"
LANDING_TEMPLATES = PACKAGE_DIR / "templates" / "landing"
#: every output a report may have, by kind, and its file name suffix
OUTPUT_SUFFIXES = {"html": ".html", "pdf": ".pdf", "notebook": ".ipynb", "results": ".results.json"}


# --------------------------------------------------------------------------- reading


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest of the last build in ``out_dir`` (empty when there is none or it is torn)."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"reports": {}}
    if not isinstance(data, dict) or not isinstance(data.get("reports"), dict):
        return {"reports": {}}
    return data


def previous_reports(manifest: dict[str, Any]) -> dict[str, Previous]:
    """What the last build recorded about each report, as the planner needs it."""
    return {
        name: Previous(
            status=str(entry.get("status", "")),
            input_hash=entry.get("input_hash"),
            outputs=tuple(v for v in (entry.get("outputs") or {}).values() if v),
        )
        for name, entry in manifest.get("reports", {}).items()
        if isinstance(entry, dict)
    }


def clean_stale(out_dir: Path) -> None:
    """Remove what a killed build left behind: staging folders and temporary files."""
    for path in out_dir.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in out_dir.glob(".*.tmp"):
        path.unlink(missing_ok=True)


def _headline(results_file: Path | None) -> tuple[dict[str, Any] | None, str | None]:
    if results_file is None or not results_file.is_file():
        return None, None
    try:
        data = json.loads(results_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    headline = data.get("headline")
    if isinstance(headline, dict):
        headline = {"currency": data.get("currency"), **headline}
    return headline, data.get("display_name")


# --------------------------------------------------------------------------- recording


@dataclass
class Finisher:
    """Records each report of one build as it ends, and writes what the build leaves."""

    out_dir: Path
    root: Path
    build_id: str
    formats: tuple[str, ...]
    commit: str | None
    versions: dict[str, str]
    entries: dict[str, Any]

    def _entry(self, job: Job) -> dict[str, Any]:
        spec = job.spec
        return {
            "title": spec.title,
            "profile": spec.profile,
            "display_name": self.entries.get(spec.name, {}).get("display_name"),
            "notebook": relative_name(spec.notebook, self.root),
            "parameters": spec.parameters,
            "depends_on": spec.depends_on,
            "inputs": job.inputs,
            "input_hash": job.key,
            "git_commit": self.commit,
            "build_id": self.build_id,
            "started": job.started_at,
            "formats": list(self.formats),
        }

    def succeeded(self, job: Job, staged: dict[str, Path]) -> ReportOutcome:
        """Move the staged files into place and record the report's entry."""
        name = job.spec.name
        staged = dict(staged)
        if "html" not in self.formats:
            staged.pop("html", None)
        headline, display_name = _headline(staged.get("results"))
        outputs: dict[str, str | None] = dict.fromkeys(OUTPUT_SUFFIXES)
        for kind, path in staged.items():
            move_into_place(path, self.out_dir / path.name)
            outputs[kind] = path.name
        (self.out_dir / FAILED_DIR / f"{name}.ipynb").unlink(missing_ok=True)
        for kind in ("html", "pdf", "results"):
            if outputs[kind] is None:  # not made this time (e.g. --formats html): no stale copy
                (self.out_dir / f"{name}{OUTPUT_SUFFIXES[kind]}").unlink(missing_ok=True)
        duration = time.perf_counter() - job.started
        self.entries[name] = {
            **self._entry(job),
            "outputs": outputs,
            "headline": headline,
            "display_name": display_name,
            "status": "ok",
            "error": None,
            "duration_s": round(duration, 3),
            "packages": self.versions,
        }
        return ReportOutcome(name, "ok", duration)

    def failed(self, job: Job, error: BaseException | None) -> ReportOutcome:
        """Keep the executed notebook in ``failed/`` and record the error; the last good
        files of the report stay."""
        name = job.spec.name
        duration = time.perf_counter() - job.started
        exc = error or RenderError("no output")
        message = str(exc) if isinstance(exc, CxTradeoffError) else f"{type(exc).__name__}: {exc}"
        failed_nb = None
        executed = job.stage / f"{name}.ipynb"
        if executed.is_file():
            failed_nb = self.out_dir / FAILED_DIR / f"{name}.ipynb"
            move_into_place(executed, failed_nb)
            message = message.replace(str(executed), str(failed_nb))
        entry = self._entry(job)
        self.entries[name] = {
            **self.entries.get(name, {}),
            **{k: entry[k] for k in ("title", "profile", "notebook", "parameters", "started")},
            "build_id": self.build_id,
            "status": "failed",
            "error": message,
            "duration_s": round(duration, 3),
            "failed_notebook": relative_name(failed_nb, self.out_dir) if failed_nb else None,
            "input_hash": None,
        }
        return ReportOutcome(name, "failed", duration, message, failed_nb)

    def skipped(self, name: str, message: str) -> ReportOutcome:
        """A report not built because a report it reads failed; its last good files stay."""
        self.entries[name] = {**self.entries.get(name, {}), "status": "skipped", "error": message}
        return ReportOutcome(name, "skipped", error=message)

    def manifest(self, *, built_at: str, config: str, order: list[str]) -> dict[str, Any]:
        """The manifest of this build: provenance and every report's entry, in ``order``."""
        return {
            "build_id": self.build_id,
            "built_at": built_at,
            "git_commit": self.commit,
            "config": config,
            "packages": self.versions,
            "reports": {n: self.entries[n] for n in order if n in self.entries},
        }


def write_manifest_and_index(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Replace the landing page and the manifest, each atomically."""
    atomic_write_text(out_dir / INDEX, render_index(manifest))
    atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=False) + "\n")


# --------------------------------------------------------------------------- archive


def archive_build(out_dir: Path, *, build_id: str, manifest: dict[str, Any], keep: int) -> Path:
    """Keep a dated copy of the current reports in ``out_dir/archive/<build_id>``.

    Files are hard-linked where possible (no extra space); only the ``keep`` newest
    archives are kept. ``out_dir`` itself always holds the latest reports.
    """
    archive_root = out_dir / ARCHIVE_DIR
    target = archive_root / build_id
    partial = archive_root / f".{build_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    names = {MANIFEST, INDEX}
    for entry in manifest["reports"].values():
        names.update(v for v in (entry.get("outputs") or {}).values() if v)
    for name in sorted(names):
        src = out_dir / name
        if src.is_file():
            try:
                os.link(src, partial / name)
            except OSError:
                shutil.copy2(src, partial / name)
    os.replace(partial, target)
    archives = sorted(
        p for p in archive_root.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    for old in archives[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- landing page


def _fmt_money(value: Any, currency: str | None) -> str:
    if not isinstance(value, int | float):
        return "–"
    sign = "−" if value < 0 else ""
    value = abs(float(value))
    for div, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if value >= div:
            return f"{sign}{value / div:,.1f}{suffix} {currency or ''}".strip()
    return f"{sign}{value:,.0f} {currency or ''}".strip()


def _fmt_pct(value: Any) -> str:
    if not isinstance(value, int | float):
        return "–"
    return f"{100 * float(value):.1f}%"


def _fmt_break_even(value: Any) -> str:
    """A break-even conversion for the landing page, worded at its ends."""
    if not isinstance(value, int | float):
        return "–"
    if value >= 1:
        return "always pays"
    if value <= 0:
        return "never pays"
    return _fmt_pct(value)


def _index_row(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """What the landing page shows of one report (plain text: the template escapes it)."""
    outputs = entry.get("outputs") or {}
    head = entry.get("headline") or {}
    return {
        "title": str(entry.get("title") or name),
        "html": outputs.get("html"),
        "links": [
            {"href": outputs[k], "label": label}
            for k, label in (("html", "HTML"), ("pdf", "PDF"), ("notebook", "notebook"))
            if outputs.get(k)
        ],
        "status": str(entry.get("status", "")),
        "error": str(entry.get("error") or ""),
        "company": str(entry.get("display_name") or entry.get("profile") or ""),
        "annual_savings": _fmt_money(head.get("annual_savings"), head.get("currency")),
        "break_even": _fmt_break_even(
            head.get("break_even_conversion_npv", head.get("break_even_conversion"))
        ),
        "p_loss": _fmt_pct(head.get("p_loss")),
        "started": str(entry.get("started") or ""),
        "notebook": str(entry.get("notebook") or ""),
    }


@cache
def _landing_template() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(LANDING_TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("index.html.j2")


def render_index(manifest: dict[str, Any]) -> str:
    """The landing page: every report with its headline numbers, links and provenance.

    Every value taken from the manifest is HTML-escaped (the template autoescapes).
    """
    return str(
        _landing_template().render(
            rows=[_index_row(n, e) for n, e in manifest.get("reports", {}).items()],
            build_id=str(manifest.get("build_id")),
            built_at=str(manifest.get("built_at")),
            commit=str(manifest.get("git_commit") or "not in git"),
            config=str(manifest.get("config")),
            packages=", ".join(f"{k} {v}" for k, v in (manifest.get("packages") or {}).items()),
        )
    )
