"""Finishing a build: reports moved into place, the manifest, the landing page, archives.

Each report is staged aside (:mod:`cxtradeoff.pipeline.run`) and moved into place only
when complete; a failed report leaves its last good files and its executed notebook in
``failed/``. The manifest (``manifest.json``) records, per report, its parameters, the
hashes of its inputs, provenance, timings and status; the landing page (``index.html``)
is rendered from it through a Jinja template with autoescaping.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cxtradeoff.contracts import (
    Manifest,
    ManifestHeadline,
    ReportEntry,
    ResultsFile,
    load_manifest,
    write_model,
)
from cxtradeoff.errors import CxTradeoffError, DataValidationError, RenderError
from cxtradeoff.files import atomic_write_text, move_into_place
from cxtradeoff.formatting import break_even_words, chance, money
from cxtradeoff.paths import PACKAGE_DIR
from cxtradeoff.pipeline.config import ReportSpec
from cxtradeoff.pipeline.events import ReportOutcome
from cxtradeoff.pipeline.inputs import relative_name
from cxtradeoff.pipeline.plan import Previous
from cxtradeoff.pipeline.run import Job, Staged

MANIFEST = "manifest.json"
INDEX = "index.html"
ARCHIVE_DIR = "archive"
FAILED_DIR = "failed"
LANDING_TEMPLATES = PACKAGE_DIR / "templates" / "landing"
#: what the landing page shows for a number a report does not have
NOTHING = "–"
#: every output a report may have, by kind, and its file name suffix
OUTPUT_SUFFIXES = {"html": ".html", "pdf": ".pdf", "notebook": ".ipynb", "results": ".results.json"}


# --------------------------------------------------------------------------- reading


def read_previous(out_dir: Path) -> tuple[Manifest | None, str | None]:
    """The manifest of the last build in ``out_dir``, and a warning when it cannot be used.

    None when there is no manifest yet; None with a warning when it is of another
    version or malformed (every report is then rebuilt).
    """
    path = out_dir / MANIFEST
    if not path.exists():
        return None, None
    try:
        return load_manifest(path), None
    except DataValidationError as exc:
        return None, f"{path}: not used, so every report is rebuilt: {'; '.join(exc.problems)}"


def previous_reports(manifest: Manifest | None) -> dict[str, Previous]:
    """What the last build recorded about each report, as the planner needs it."""
    if manifest is None:
        return {}
    return {
        name: Previous(
            status=entry.status,
            input_hash=entry.input_hash,
            outputs=tuple(v for v in entry.outputs.values() if v),
        )
        for name, entry in manifest.reports.items()
    }


def clean_stale(out_dir: Path) -> None:
    """Remove what a killed build left behind: staging folders and temporary files."""
    for path in out_dir.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in out_dir.glob(".*.tmp"):
        path.unlink(missing_ok=True)


def _headline(results: ResultsFile | None) -> ManifestHeadline | None:
    if results is None:
        return None
    return ManifestHeadline(currency=results.currency, **results.headline.model_dump())


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
    entries: dict[str, ReportEntry]

    def _entry(self, spec: ReportSpec, **fields: Any) -> ReportEntry:
        return ReportEntry(
            title=spec.title,
            profile=spec.profile,
            notebook=relative_name(spec.notebook, self.root),
            parameters=spec.parameters,
            depends_on=spec.depends_on,
            git_commit=self.commit,
            build_id=self.build_id,
            formats=list(self.formats),
            **fields,
        )

    def _attempt(self, spec: ReportSpec, failure: dict[str, Any], **fields: Any) -> None:
        """Record a report not built this time: its last good entry (and files) stay,
        with the failure; a report never built gets an entry of its own."""
        old = self.entries.get(spec.name)
        if old is None:
            self.entries[spec.name] = self._entry(spec, **fields, **failure)
        else:
            update = {"title": spec.title, "profile": spec.profile, **failure}
            self.entries[spec.name] = old.model_copy(update=update)

    def succeeded(self, job: Job, staged: Staged) -> ReportOutcome:
        """Move the staged files into place and record the report's entry."""
        name = job.spec.name
        files = dict(staged.files)
        if "html" not in self.formats:
            files.pop("html", None)
        outputs: dict[str, str | None] = dict.fromkeys(OUTPUT_SUFFIXES)
        for kind, path in files.items():
            move_into_place(path, self.out_dir / path.name)
            outputs[kind] = path.name
        (self.out_dir / FAILED_DIR / f"{name}.ipynb").unlink(missing_ok=True)
        for kind in ("html", "pdf", "results"):
            if outputs[kind] is None:  # not made this time (e.g. --formats html): no stale copy
                (self.out_dir / f"{name}{OUTPUT_SUFFIXES[kind]}").unlink(missing_ok=True)
        duration = time.perf_counter() - job.started
        self.entries[name] = self._entry(
            job.spec,
            inputs=job.inputs,
            input_hash=job.key,
            started=job.started_at,
            outputs=outputs,
            headline=_headline(staged.results),
            display_name=staged.results.display_name if staged.results else None,
            status="ok",
            error=None,
            duration_s=round(duration, 3),
            packages=self.versions,
        )
        return ReportOutcome(name, "ok", duration)

    def failed(self, job: Job, error: BaseException | None) -> ReportOutcome:
        """Keep the executed notebook in ``failed/`` and record the error.

        The report's last good files stay, and so does what its entry says about them
        (outputs, headline, the build that made them); the entry gains the failure.
        """
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
        failure = {
            "status": "failed",
            "error": message,
            "duration_s": round(duration, 3),
            "failed_notebook": relative_name(failed_nb, self.out_dir) if failed_nb else None,
            "input_hash": None,
        }
        self._attempt(job.spec, failure, inputs=job.inputs, started=job.started_at)
        return ReportOutcome(name, "failed", duration, message, failed_nb)

    def skipped(self, spec: ReportSpec, message: str) -> ReportOutcome:
        """A report not built because a report it reads failed; its last good files stay."""
        self._attempt(spec, {"status": "skipped", "error": message, "input_hash": None})
        return ReportOutcome(spec.name, "skipped", error=message)

    def manifest(self, *, built_at: str, config: str, order: list[str]) -> Manifest:
        """The manifest of this build: provenance and every report's entry, in ``order``."""
        return Manifest(
            build_id=self.build_id,
            built_at=built_at,
            git_commit=self.commit,
            config=config,
            packages=self.versions,
            reports={n: self.entries[n] for n in order if n in self.entries},
        )


def write_manifest_and_index(out_dir: Path, manifest: Manifest) -> None:
    """Replace the landing page and the manifest, each atomically."""
    atomic_write_text(out_dir / INDEX, render_index(manifest))
    write_model(manifest, out_dir / MANIFEST)


# --------------------------------------------------------------------------- archive


def archive_build(out_dir: Path, *, build_id: str, manifest: Manifest, keep: int) -> Path:
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
    for entry in manifest.reports.values():
        names.update(v for v in entry.outputs.values() if v)
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


def _index_row(name: str, entry: ReportEntry) -> dict[str, Any]:
    """What the landing page shows of one report (plain text: the template escapes it)."""
    head = entry.headline
    return {
        "title": entry.title or name,
        "html": entry.outputs.get("html"),
        "links": [
            {"href": entry.outputs[k], "label": label}
            for k, label in (("html", "HTML"), ("pdf", "PDF"), ("notebook", "notebook"))
            if entry.outputs.get(k)
        ],
        "status": entry.status,
        "error": entry.error or "",
        "company": entry.display_name or entry.profile or "",
        "annual_savings": money(head.annual_savings, head.currency) if head else NOTHING,
        "break_even": break_even_words(head.break_even_conversion_npv) if head else NOTHING,
        "p_loss": chance(head.p_loss) if head else NOTHING,
        "started": entry.started or "",
        "notebook": entry.notebook,
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


def render_index(manifest: Manifest) -> str:
    """The landing page: every report with its headline numbers, links and provenance.

    Numbers read as everywhere else (:mod:`cxtradeoff.formatting`); every value taken
    from the manifest is HTML-escaped (the template autoescapes).
    """
    return str(
        _landing_template().render(
            rows=[_index_row(n, e) for n, e in manifest.reports.items()],
            build_id=manifest.build_id,
            built_at=manifest.built_at,
            commit=manifest.git_commit or "not in git",
            config=manifest.config,
            packages=", ".join(f"{k} {v}" for k, v in manifest.packages.items()),
        )
    )
