"""Finishing a build: reports moved into place, the manifest, the landing page, archives.

Each report is staged aside (:mod:`cxtradeoff.pipeline.run`). When it ends, one
**commit** puts it in place: its files, then a manifest (``manifest.json``) and a landing
page (``index.html``) that describe them, all prepared first and then renamed into place
in an order written down beforehand (a journal). A build killed in the middle of a
commit leaves the journal; the next build replays it before anything else. So after any
kill, every report's files, its manifest entry and its landing-page row describe the
same build of that report: a report is either wholly the new one or wholly the last good
one. A failed report keeps its last good files and entry, gains the error, and leaves
its executed notebook in ``failed/``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cxtradeoff.contracts import (
    Manifest,
    ManifestHeadline,
    ReportEntry,
    ResultsFile,
    load_manifest,
    load_results,
    write_model,
)
from cxtradeoff.errors import (
    CxTradeoffError,
    DataValidationError,
    OutputError,
    PrintError,
    RenderError,
)
from cxtradeoff.files import atomic_write_json, atomic_write_text, move_into_place
from cxtradeoff.formatting import (
    after_pilot,
    break_even_words,
    chance,
    decision_break_even,
    decision_lines,
    decision_title,
    forbidden_lines,
    money,
    portfolio_units_line,
    scenario_title,
    share,
)
from cxtradeoff.paths import PACKAGE_DIR
from cxtradeoff.pipeline.config import BRIEF_SUFFIX, InputProblem, ReportSpec
from cxtradeoff.pipeline.events import ReportOutcome
from cxtradeoff.pipeline.inputs import relative_name
from cxtradeoff.pipeline.plan import Previous
from cxtradeoff.pipeline.run import STAGING_PREFIX, Job, Staged

MANIFEST = "manifest.json"
INDEX = "index.html"
ARCHIVE_DIR = "archive"
FAILED_DIR = "failed"
#: full error messages (a browser's log, a kernel's) of the latest build
LOG_NAME = "build.log"
LANDING_TEMPLATES = PACKAGE_DIR / "templates" / "landing"
#: what the landing page shows for a number a report does not have
NOTHING = "–"
#: every output a report may have, by kind, and its file name suffix
OUTPUT_SUFFIXES = {"html": ".html", "pdf": ".pdf", "notebook": ".ipynb", "results": ".results.json"}
#: a commit's folder, its journal, and the manifest and landing page it prepares
COMMIT_PREFIX = f"{STAGING_PREFIX}commit-"
JOURNAL = "journal.json"
_PREPARED = {MANIFEST: "_manifest.json", INDEX: "_index.html"}
#: error messages longer than this go to the log; the terminal and manifest get the start
MESSAGE_LINES = 6


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


def read_results(out_dir: Path, entry: ReportEntry) -> ResultsFile | None:
    """The results file an entry lists, read through the contract; None when it has none
    or it cannot be read (the landing page then shows the manifest's headline alone)."""
    name = entry.outputs.get("results")
    if not name:
        return None
    try:
        return load_results(out_dir / name)
    except DataValidationError:
        return None


def _headline(results: ResultsFile | None) -> ManifestHeadline | None:
    if results is None:
        return None
    return ManifestHeadline(currency=results.currency, **results.headline.model_dump())


# --------------------------------------------------------------------------- commits


def commit(
    out_dir: Path,
    manifest: Manifest,
    *,
    moves: Sequence[tuple[Path, str]] = (),
    removals: Sequence[str] = (),
    results: Mapping[str, ResultsFile] | None = None,
) -> None:
    """Put files in place with the manifest and landing page that describe them.

    The files are first gathered into a commit folder beside their destinations, with
    the manifest and landing page rendered there; then a journal lists every step (the
    files, the manifest, the landing page, removals), and the steps are done in that
    order, with Ctrl-C and SIGTERM held until they are done. Renames within one file
    system cannot tear; a kill between them leaves the journal for :func:`recover`.

    Parameters
    ----------
    moves
        ``(finished file, name relative to out_dir)``; the files must be in ``out_dir``.
    results
        The results file of each analysis report, as the manifest's entry describes it
        (the landing page's decision, forbidden scenarios and pilot come from there).

    Raises
    ------
    OutputError
        Something could not be written. Before the journal nothing is in place and the
        commit folder is removed; after it, :func:`recover` finishes the commit.
    """
    folder = out_dir / f"{COMMIT_PREFIX}{os.urandom(4).hex()}"
    try:
        folder.mkdir()
        steps = []
        for number, (src, dest) in enumerate(moves):
            gathered = folder / f"{number}-{Path(dest).name}"
            os.replace(src, gathered)
            steps.append(["move", gathered.name, dest])
        write_model(manifest, folder / _PREPARED[MANIFEST])
        atomic_write_text(folder / _PREPARED[INDEX], render_index(manifest, results=results))
        steps += [["move", prepared, name] for name, prepared in _PREPARED.items()]
        steps += [["remove", name] for name in removals]
        atomic_write_json(folder / JOURNAL, {"steps": steps})
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputError.from_os_error(folder, exc) from None
        raise
    try:
        with _signals_held():
            _replay(folder, out_dir)
            shutil.rmtree(folder, ignore_errors=True)
    except OSError as exc:
        raise OutputError.from_os_error(out_dir, exc) from None


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done (main thread only: where Python
    runs signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in held}
    try:
        yield
    finally:
        for held_signal, handler in previous.items():
            signal.signal(held_signal, handler)
        for number in received:
            signal.raise_signal(number)


def _replay(folder: Path, out_dir: Path) -> None:
    """Do the steps of a commit's journal that are not done yet (it is idempotent)."""
    steps = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))["steps"]
    for op, *args in steps:
        if op == "move" and (folder / args[0]).exists():
            move_into_place(folder / args[0], out_dir / args[1])
        elif op == "remove":
            (out_dir / args[0]).unlink(missing_ok=True)


def recover(out_dir: Path) -> list[str]:
    """Finish the commits a killed build left half done, then remove what it staged.

    Returns
    -------
    list of str
        A warning for each commit finished here.

    Raises
    ------
    OutputError
        The output folder cannot be written.
    """
    warnings = []
    try:
        for folder in sorted(out_dir.glob(f"{COMMIT_PREFIX}*")):
            if (folder / JOURNAL).is_file():
                _replay(folder, out_dir)
                warnings.append(
                    f"finished putting in place what a killed build had committed ({folder.name})"
                )
        for path in out_dir.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in [*out_dir.glob(".*.tmp"), *out_dir.glob(f"{FAILED_DIR}/.*.tmp")]:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError.from_os_error(out_dir, exc) from None
    return warnings


def _notebook_is_whole(path: Path) -> bool:
    """Whether an executed notebook is whole JSON (not cut short by a full disk)."""
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- recording


@dataclass
class Finisher:
    """Records each report of one build as it ends and commits it (files, manifest and
    landing page together)."""

    out_dir: Path
    root: Path
    build_id: str
    built_at: str
    config: str
    order: list[str]
    formats: tuple[str, ...]
    commit: str | None
    versions: dict[str, str]
    entries: dict[str, ReportEntry]
    wrote: bool = False
    _logged: bool = field(default=False, repr=False)
    #: each analysis report's results, as its entry describes them (the landing page's)
    results: dict[str, ResultsFile] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.results.update(
            (name, found)
            for name, entry in self.entries.items()
            if (found := read_results(self.out_dir, entry)) is not None
        )

    def _entry(self, spec: ReportSpec, **fields: Any) -> ReportEntry:
        return ReportEntry(
            title=spec.title,
            profile=spec.profile,
            notebook=relative_name(spec.notebook, self.root),
            parameters=spec.parameters,
            depends_on=spec.depends_on,
            unit_of=spec.unit_of,
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
            update = {"title": spec.title, "profile": spec.profile, "unit_of": spec.unit_of,
                      **failure}  # fmt: skip
            self.entries[spec.name] = old.model_copy(update=update)

    def _commit(self, moves: Sequence[tuple[Path, str]] = (), removals: Sequence[str] = ()) -> None:
        commit(self.out_dir, self.manifest(), moves=moves, removals=removals, results=self.results)
        self.wrote = True

    def succeeded(self, job: Job, staged: Staged) -> ReportOutcome:
        """Commit the report's staged files with its new entry.

        Outputs not made this time (``--formats html`` makes no PDF) are left as they
        are, and not listed in the entry: the entry lists what this build made.
        """
        name = job.spec.name
        files = dict(staged.files)
        if "html" not in self.formats:
            files.pop("html", None)
        outputs: dict[str, str | None] = dict.fromkeys(OUTPUT_SUFFIXES)
        for kind, path in files.items():
            outputs[kind] = path.name
        removals = [f"{FAILED_DIR}/{name}.ipynb"]
        if outputs["results"] is None:  # the notebook writes none (any more): none is current
            removals.append(f"{name}{OUTPUT_SUFFIXES['results']}")
        if staged.results is not None:
            self.results[name] = staged.results
        else:
            self.results.pop(name, None)
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
        self._commit([(path, path.name) for path in files.values()], removals)
        return ReportOutcome(name, "ok", duration)

    def failed(self, job: Job, error: BaseException | None) -> ReportOutcome:
        """Record the error (and keep the executed notebook in ``failed/``, unless the
        failure was the PDF print: the notebook ran).

        The report's last good files stay, and so does what its entry says about them
        (outputs, headline, the build that made them); the entry gains the failure.
        """
        name = job.spec.name
        duration = time.perf_counter() - job.started
        exc = error or RenderError("no output")
        message = str(exc) if isinstance(exc, CxTradeoffError) else f"{type(exc).__name__}: {exc}"
        executed = job.stage / f"{name}.ipynb"
        failed_nb = None
        moves = []
        if not isinstance(exc, PrintError) and executed.is_file() and _notebook_is_whole(executed):
            failed_nb = self.out_dir / FAILED_DIR / f"{name}.ipynb"
            moves.append((executed, f"{FAILED_DIR}/{name}.ipynb"))
            message = message.replace(str(executed), str(failed_nb))
        else:
            message = message.replace(f" (executed copy: {executed})", "")
        message = self._shorten(name, message, getattr(exc, "detail", ""))
        failure = {
            "status": "failed",
            "error": message,
            "duration_s": round(duration, 3),
            "failed_notebook": relative_name(failed_nb, self.out_dir) if failed_nb else None,
            "input_hash": None,
        }
        self._attempt(job.spec, failure, inputs=job.inputs, started=job.started_at)
        self._commit(moves)
        return ReportOutcome(name, "failed", duration, message, failed_nb)

    def skipped(self, spec: ReportSpec, message: str) -> ReportOutcome:
        """A report not built because a report it reads failed; its last good files stay."""
        self._attempt(spec, {"status": "skipped", "error": message, "input_hash": None})
        self._commit()
        return ReportOutcome(spec.name, "skipped", error=message)

    def blocked(self, spec: ReportSpec, problem: InputProblem) -> ReportOutcome:
        """A report not run because an input it reads is unusable; its last good files stay."""
        message = f"not built: its input {problem.source} cannot be used"
        self._attempt(spec, {"status": "failed", "error": message, "input_hash": None})
        self._commit()
        return ReportOutcome(spec.name, "failed", error=message)

    def log(self, title: str, text: str) -> Path | None:
        """Append ``text`` to this build's log (``build.log``, started afresh per build)."""
        path = self.out_dir / LOG_NAME
        try:
            with path.open("a" if self._logged else "w", encoding="utf-8") as fh:
                if not self._logged:
                    fh.write(f"cxtradeoff build {self.build_id}\n")
                fh.write(f"\n--- {title}\n{text.rstrip()}\n")
            self._logged = True
        except OSError:
            return None
        return path

    def _shorten(self, name: str, message: str, detail: str) -> str:
        """A message short enough for a terminal and a landing page; the whole of it, and
        any detail (a browser's log), goes to the build's log."""
        lines = message.strip().splitlines()
        if len(lines) <= MESSAGE_LINES and not detail:
            return message
        where = self.log(name, f"{message}\n\n{detail}".strip())
        kept = "\n".join(lines[:MESSAGE_LINES]) + ("\n..." if len(lines) > MESSAGE_LINES else "")
        return f"{kept} (full message in {where})" if where else kept

    def manifest(self) -> Manifest:
        """The manifest as it stands: provenance and every report's entry, in order."""
        return Manifest(
            build_id=self.build_id,
            built_at=self.built_at,
            git_commit=self.commit,
            config=self.config,
            packages=self.versions,
            reports={n: self.entries[n] for n in self.order if n in self.entries},
        )


# --------------------------------------------------------------------------- archive


def archive_build(out_dir: Path, *, build_id: str, manifest: Manifest, keep: int) -> Path:
    """Keep a dated copy of the current reports in ``out_dir/archive/<build_id>``.

    Files are hard-linked where possible (no extra space); only the ``keep`` newest
    archives are kept. ``out_dir`` itself always holds the latest reports.

    Raises
    ------
    OutputError
        The archive could not be written; nothing of it is left.
    """
    archive_root = out_dir / ARCHIVE_DIR
    target = archive_root / build_id
    partial = archive_root / f".{build_id}.partial"
    names = {MANIFEST, INDEX}
    for entry in manifest.reports.values():
        names.update(v for v in entry.outputs.values() if v)
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for name in sorted(names):
            src = out_dir / name
            if src.is_file():
                try:
                    os.link(src, partial / name)
                except OSError:
                    shutil.copy2(src, partial / name)
        os.replace(partial, target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise OutputError.from_os_error(partial, exc) from None
    archives = sorted(
        p for p in archive_root.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    for old in archives[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- landing page


def _links(entry: ReportEntry, kinds: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {"href": str(entry.outputs[kind]), "label": label}
        for kind, label in kinds
        if entry.outputs.get(kind)
    ]


def _state(entry: ReportEntry) -> dict[str, str]:
    """How a report's last build went, in words, and its error (plain text)."""
    words = {"ok": "built", "failed": "failed", "skipped": "not built"}[entry.status]
    return {"status": entry.status, "status_words": words, "error": entry.error or "",
            "started": (entry.started or "").replace("T", " ")[:16]}  # fmt: skip


def _decision(entry: ReportEntry, results: ResultsFile | None) -> dict[str, Any]:
    """The decision figures of a company report (plain text), worded as in the brief.

    The numbers are the manifest's headline (the results file's, copied at the build);
    the results file adds what the headline does not hold: the decision's title, the
    scenarios a rule forbids, the AI option a status quo turned down, and the pilot.
    """
    head = entry.headline
    figures: dict[str, Any] = {
        "decision": entry.display_name or entry.profile or entry.title, "sentence": "",
        "recommended": NOTHING, "npv_mean": NOTHING, "npv_range": [], "p_loss": NOTHING,
        "break_even": NOTHING, "break_even_note": "", "assumed": "",
        "forbidden": forbidden_lines(results) if results is not None else [], "pilot": results is not None and results.pilot is not None,
    }  # fmt: skip
    if head is None:
        return figures
    currency = head.currency
    if results is not None:
        break_even, note = decision_break_even(results)
    else:
        break_even, note = break_even_words(head.break_even_conversion_npv), ""
    measured = after_pilot(results.pilot) if results is not None and results.pilot else "assumed"
    figures.update(
        decision=(
            decision_lines(results).title
            if results is not None
            else decision_title(entry.display_name or entry.title, head.scenario)
        ),
        sentence=decision_lines(results).decision if results is not None else "",
        recommended=scenario_title(head.scenario),
        npv_mean=money(head.npv_mean, currency),
        npv_range=[
            money(head.npv_p10, currency, compact=True),
            money(head.npv_p90, currency, compact=True),
        ],
        p_loss=chance(head.p_loss),
        break_even=break_even,
        break_even_note=note,
        assumed=f"{share(head.switch_conversion)} {measured}",
    )
    return figures


def _company_row(
    name: str, entry: ReportEntry, brief: ReportEntry | None, results: ResultsFile | None
) -> dict[str, Any]:
    """What the landing page shows of a company: the decision, the figures behind it, the
    brief, the full report and its notebook (plain text: the template escapes it)."""
    return {
        "name": name,
        "company": entry.display_name or entry.profile or "",
        **_decision(entry, results),
        "report": {
            "title": entry.title,
            "href": entry.outputs.get("html") or entry.outputs.get("pdf"),
            "links": _links(entry, (("pdf", "PDF"), ("notebook", "notebook"))),
            **_state(entry),
        },
        "brief": None
        if brief is None
        else {
            "title": brief.title,
            "href": brief.outputs.get("pdf") or brief.outputs.get("html"),
            "links": _links(brief, (("html", "HTML"),)),
            **_state(brief),
        },
    }


def _other_row(name: str, entry: ReportEntry) -> dict[str, Any]:
    """A report that is not a company's decision (the evidence, the comparison)."""
    return {
        "name": name,
        "title": entry.title,
        "href": entry.outputs.get("html") or entry.outputs.get("pdf"),
        "links": _links(entry, (("pdf", "PDF"), ("notebook", "notebook"))),
        **_state(entry),
    }


def portfolio_rows(manifest: Manifest) -> list[dict[str, Any]]:
    """The landing page's portfolio roll-ups, first on the page: each with its units
    counted by decision (the units' own rows follow among the companies)."""
    return [
        {**_other_row(name, entry), "units": units}
        for name, entry in manifest.reports.items()
        if (units := portfolio_units_line(manifest, name)) is not None
    ]


def landing_rows(
    manifest: Manifest, results: Mapping[str, ResultsFile] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The landing page's company rows (each with its brief) and its other reports.

    A report with a profile or a headline is a company's; ``NAME.brief`` is shown on the
    row of ``NAME`` (alone among the other reports when ``NAME`` is not in the manifest).
    A portfolio's roll-up is neither: :func:`portfolio_rows` shows it.
    """
    results = results or {}
    reports = manifest.reports
    rollups = manifest.rollups()
    companies: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for name, entry in reports.items():
        if name.endswith(BRIEF_SUFFIX) and name.removesuffix(BRIEF_SUFFIX) in reports:
            continue
        if name in rollups:
            continue
        if entry.profile is not None or entry.headline is not None:
            brief = reports.get(f"{name}{BRIEF_SUFFIX}")
            companies.append(_company_row(name, entry, brief, results.get(name)))
        else:
            others.append(_other_row(name, entry))
    return companies, others


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


def render_index(manifest: Manifest, *, results: Mapping[str, ResultsFile] | None = None) -> str:
    """The landing page, a decision dashboard: per company the recommendation, its
    expected value, chance of loss and break-even against the switching conversion
    assumed, any scenario a rule forbids, and links to its brief, report and notebook;
    then the other reports, and the build's provenance.

    Numbers and sentences read as in the brief and the e-mail
    (:mod:`cxtradeoff.formatting`); every value taken from the manifest or a results
    file is HTML-escaped (the template autoescapes).
    """
    companies, others = landing_rows(manifest, results)
    return str(
        _landing_template().render(
            portfolios=portfolio_rows(manifest),
            companies=companies,
            others=others,
            build_id=manifest.build_id,
            built_at=manifest.built_at,
            commit=manifest.git_commit or "not in git",
            config=manifest.config,
            packages=", ".join(f"{k} {v}" for k, v in manifest.packages.items()),
        )
    )
