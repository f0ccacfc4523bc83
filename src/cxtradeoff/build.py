"""Build every report of the configuration: incremental, parallel, and failure-safe.

A report is rebuilt only when the hash of its inputs changed (notebook, declared data
files, package source, lock file, parameters, formats) or a report it reads was rebuilt.
Notebooks run concurrently, one per worker thread; each worker keeps one kernel, on its own
Unix sockets, and resets it between notebooks rather than starting a new one. One headless
Chromium, in a thread of its own, prints every PDF. Each report is staged and moved into place only when
complete; ``manifest.json`` and ``index.html`` are replaced atomically at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from cxtradeoff.config import BuildConfig, ReportSpec, model_parameter_problems
from cxtradeoff.errors import BuildLockedError, CxTradeoffError, RenderError
from cxtradeoff.paths import LOCK_FILE, PACKAGE_DIR, ROOT

MANIFEST = "manifest.json"
INDEX = "index.html"
LOCK_NAME = ".build.lock"
ARCHIVE_DIR = "archive"
VERSIONED_PACKAGES = (
    "cxtradeoff", "papermill", "nbconvert", "nbclient", "ipykernel", "pandas", "numpy",
    "seaborn", "matplotlib", "pandera", "pydantic", "playwright",
)  # fmt: skip


# --------------------------------------------------------------------------- hashing


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(folder: Path, *, patterns: Iterable[str] = ("*.py", "*.j2", "*.json")) -> str:
    """One SHA-256 over the files of ``folder`` matching ``patterns`` (names and bytes)."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in patterns for p in folder.rglob(pattern) if p.is_file()})
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def shared_inputs() -> dict[str, str]:
    """Hashes of what every report is made from: the package source and the lock file."""
    hashes = {"package:cxtradeoff": tree_sha256(PACKAGE_DIR)}
    if LOCK_FILE.is_file():
        hashes["requirements.lock"] = file_sha256(LOCK_FILE)
    return hashes


def report_inputs(spec: ReportSpec, *, root: Path, shared: dict[str, str]) -> dict[str, str]:
    """Hashes of everything a report is made from, keyed by a readable name."""
    hashes = {_rel(spec.notebook, root): file_sha256(spec.notebook)}
    for path in spec.inputs:
        hashes[_rel(path, root)] = file_sha256(path)
    return {**hashes, **shared}


def report_key(
    spec: ReportSpec, inputs: dict[str, str], *, formats: tuple[str, ...], dep_keys: dict[str, str]
) -> str:
    """The hash that decides whether a report must be rebuilt."""
    payload = {
        "inputs": inputs,
        "parameters": spec.parameters,
        "title": spec.title,
        "formats": sorted(formats),
        "depends_on": dep_keys,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- provenance


def git_commit(root: Path = ROOT) -> str | None:
    """The checked-out commit, with ``-dirty`` when tracked files changed; None outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if dirty else head


def package_versions() -> dict[str, str]:
    versions = {}
    for name in VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest of the last build in ``out_dir`` (empty when there is none or it is torn)."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"reports": {}}
    if not isinstance(data, dict) or not isinstance(data.get("reports"), dict):
        return {"reports": {}}
    return data


# --------------------------------------------------------------------------- events


@dataclass
class Event:
    """A progress event: ``kind`` is plan, start, cell, done or skip."""

    kind: str
    report: str
    status: str = ""
    duration_s: float = 0.0
    message: str = ""
    total: int = 0


@dataclass
class ReportOutcome:
    """The result of one report in one build."""

    name: str
    status: str  # ok, up-to-date, failed, skipped
    duration_s: float = 0.0
    error: str | None = None
    failed_notebook: Path | None = None


@dataclass
class BuildOutcome:
    """The result of a whole build."""

    build_id: str
    out_dir: Path
    outcomes: list[ReportOutcome] = field(default_factory=list)
    wrote: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[ReportOutcome]:
        return [o for o in self.outcomes if o.status in {"failed", "skipped"}]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


# --------------------------------------------------------------------------- work


@dataclass
class _Job:
    spec: ReportSpec
    key: str
    inputs: dict[str, str]
    stage: Path
    started: float = 0.0
    started_at: str = ""


def _stage_report(
    job: _Job, out_dir: Path, *, log_output: bool, warm: Any = None
) -> dict[str, Path]:
    """Worker thread: execute the notebook and export HTML into the job's staging folder."""
    from cxtradeoff.render import execute_notebook, notebook_to_html

    threading.current_thread().name = job.spec.name
    spec = job.spec
    params = dict(spec.parameters)
    staged: dict[str, Path] = {}
    if spec.writes_results:
        staged["results"] = job.stage / f"{spec.name}.results.json"
        params["results_path"] = str(staged["results"])
    if spec.reads_results:
        params["results_files"] = [str(out_dir / f"{d}.results.json") for d in spec.depends_on]
    executed = job.stage / f"{spec.name}.ipynb"
    execute_notebook(spec.notebook, executed, parameters=params, log_output=log_output, warm=warm)
    staged["notebook"] = executed
    html_path = job.stage / f"{spec.name}.html"
    html_path.write_text(notebook_to_html(executed, title=spec.title), encoding="utf-8")
    staged["html"] = html_path
    if "results" in staged and not staged["results"].is_file():
        raise RenderError(f"{spec.notebook.name}: ran but wrote no results file")
    return staged


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


def _clean_stale(out_dir: Path) -> None:
    """Remove what a killed build left behind: staging folders and temporary files."""
    for path in out_dir.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in out_dir.glob(".*.tmp"):
        path.unlink(missing_ok=True)


def build(
    config: BuildConfig,
    *,
    out_dir: Path,
    only: Iterable[str] = (),
    jobs: int | None = None,
    force: bool = False,
    formats: tuple[str, ...] = ("html", "pdf"),
    wait_s: float = 0.0,
    keep: int = 10,
    verbose: bool = False,
    progress: Callable[[Event], None] = lambda event: None,
) -> BuildOutcome:
    """Build the reports of ``config`` into ``out_dir``.

    Parameters
    ----------
    only
        Names of reports to consider (their dependencies are built too when needed).
    jobs
        Notebooks run at once; the number of cores by default.
    force
        Rebuild every selected report whatever its hash.
    formats
        ``html`` and/or ``pdf``.
    wait_s
        How long to wait for another build holding the lock on ``out_dir``.
    keep
        Dated archives of past builds kept under ``out_dir/archive`` (0: none).
    progress
        Called with an :class:`Event` at each step; the command line displays them.

    Raises
    ------
    BuildLockedError
        Another build still held the lock after ``wait_s`` seconds.
    """
    from filelock import FileLock, Timeout

    selected = _select(config, list(only))  # unknown names fail before anything is written
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / LOCK_NAME))
    try:
        lock.acquire(timeout=wait_s)
    except Timeout:
        raise BuildLockedError(
            f"another build is running in {out_dir} (lock {out_dir / LOCK_NAME}); "
            f"waited {wait_s:g} s. Try again later or pass --wait SECONDS."
        ) from None
    try:
        _clean_stale(out_dir)
        return _build_locked(
            config, out_dir=out_dir, selected=selected, jobs=jobs or os.cpu_count() or 1,
            force=force, formats=formats, keep=keep, verbose=verbose, progress=progress,
        )  # fmt: skip
    finally:
        lock.release()


def _select(config: BuildConfig, only: list[str]) -> list[ReportSpec]:
    by_name = config.by_name()
    unknown = [n for n in only if n not in by_name]
    if unknown:
        from cxtradeoff.errors import ConfigError

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


def _build_locked(
    config: BuildConfig,
    *,
    out_dir: Path,
    selected: list[ReportSpec],
    jobs: int,
    force: bool,
    formats: tuple[str, ...],
    keep: int,
    verbose: bool,
    progress: Callable[[Event], None],
) -> BuildOutcome:
    previous = read_manifest(out_dir)
    old_reports: dict[str, Any] = previous.get("reports", {})
    shared = shared_inputs()
    now = datetime.now(UTC)
    build_id = now.strftime("%Y%m%dT%H%M%SZ") + "-" + os.urandom(4).hex()
    result = BuildOutcome(build_id=build_id, out_dir=out_dir)

    # Decide what to rebuild, in dependency order.
    keys: dict[str, str] = {}
    inputs: dict[str, dict[str, str]] = {}
    todo: list[ReportSpec] = []
    rebuilt: set[str] = set()
    for spec in selected:
        inputs[spec.name] = report_inputs(spec, root=config.root, shared=shared)
        dep_keys = {
            d: keys.get(d) or old_reports.get(d, {}).get("input_hash", "") for d in spec.depends_on
        }
        keys[spec.name] = report_key(spec, inputs[spec.name], formats=formats, dep_keys=dep_keys)
        old = old_reports.get(spec.name, {})
        outputs_present = all(
            (out_dir / rel).is_file() for rel in (old.get("outputs") or {}).values() if rel
        ) and bool(old.get("outputs"))
        fresh = (
            not force
            and old.get("status") == "ok"
            and old.get("input_hash") == keys[spec.name]
            and outputs_present
            and not any(d in rebuilt for d in spec.depends_on)
        )
        if fresh:
            result.outcomes.append(ReportOutcome(spec.name, "up-to-date"))
        else:
            todo.append(spec)
            rebuilt.add(spec.name)
    problems = model_parameter_problems(todo)
    if problems:
        from cxtradeoff.errors import ConfigError

        raise ConfigError(
            f"{config.path}: {len(problems)} problem(s):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    progress(Event("plan", "", total=len(todo)))
    if not todo:
        for outcome in result.outcomes:
            progress(Event("skip", outcome.name, status="up-to-date"))
        return result

    # One Chromium, in a thread of its own, prints every PDF while kernels go on running.
    printer = _PrinterThread() if "pdf" in formats else None

    entries: dict[str, Any] = {k: v for k, v in old_reports.items() if k in config.by_name()}
    commit = git_commit(config.root)
    versions = package_versions()
    # Reports that others wait for go first, so that independent ones fill the idle
    # slots at the end (the comparison runs alongside the evidence report, not alone).
    waiting = _dependents(todo)
    pending = {spec.name: spec for spec in sorted(todo, key=lambda s: -len(waiting[s.name]))}
    done: dict[str, str] = {o.name: "ok" for o in result.outcomes}
    running: dict[Future[dict[str, Path]], tuple[_Job, _KernelWorker]] = {}
    printing: dict[Future[None], tuple[_Job, dict[str, Path]]] = {}
    papermill_handler = _attach_cell_logger(progress) if verbose else None

    def finish(job: _Job, staged: dict[str, Path] | None, error: BaseException | None) -> None:
        outcome = _finish(job, staged, error, out_dir=out_dir, formats=formats, entries=entries,
                          build_id=build_id, commit=commit, versions=versions, root=config.root)  # fmt: skip
        done[job.spec.name] = "ok" if outcome.status == "ok" else "failed"
        result.outcomes.append(outcome)
        shutil.rmtree(job.stage, ignore_errors=True)
        progress(Event("done", outcome.name, status=outcome.status,
                       duration_s=outcome.duration_s, message=outcome.error or ""))  # fmt: skip

    try:
        browser_version = printer.start() if printer is not None else None
        workers = [_KernelWorker(i) for i in range(max(1, jobs))]
        idle = list(reversed(workers))
        try:
            while pending or running or printing:
                for name, spec in list(pending.items()):
                    if not idle:
                        break
                    if not all(d in done for d in spec.depends_on):
                        continue
                    del pending[name]
                    failed_deps = [d for d in spec.depends_on if done.get(d) not in {"ok"}]
                    if failed_deps:
                        msg = f"not built: it reads {', '.join(failed_deps)}, which failed"
                        done[name] = "skipped"
                        result.outcomes.append(ReportOutcome(name, "skipped", error=msg))
                        entries[name] = {**entries.get(name, {}), "status": "skipped", "error": msg}
                        progress(Event("done", name, status="skipped", message=msg))
                        continue
                    stage = out_dir / f".staging-{name}-{os.urandom(4).hex()}"
                    stage.mkdir()
                    job = _Job(spec, keys[name], inputs[name], stage, time.perf_counter(),
                               datetime.now(UTC).isoformat(timespec="seconds"))  # fmt: skip
                    progress(Event("start", name))
                    worker = idle.pop()
                    running[worker.submit(job, out_dir, log_output=verbose)] = (job, worker)
                if not running and not printing:
                    continue
                futures: list[Future[Any]] = [*running, *printing]
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in finished:
                    if future in printing:
                        job, staged = printing.pop(future)
                        finish(job, staged, future.exception())
                        continue
                    job, worker = running.pop(future)
                    idle.append(worker)
                    error = future.exception()
                    if error is None and printer is not None:
                        staged = future.result()
                        pdf = job.stage / f"{job.spec.name}.pdf"
                        subtitle = f"{job.spec.profile or ''} · built {job.started_at[:10]}".strip(
                            " ·"
                        )
                        printing[printer.submit(staged["html"], pdf, title=job.spec.title,
                                                subtitle=subtitle)] = (job, {**staged, "pdf": pdf})  # fmt: skip
                    else:
                        finish(job, None if error else future.result(), error)
        finally:
            for worker in workers:
                worker.close()
        if browser_version is not None and browser_version.exception() is None:
            versions["chromium"] = browser_version.result()
    finally:
        if printer is not None:
            printer.close()

    if papermill_handler is not None:
        import logging

        logging.getLogger("papermill").removeHandler(papermill_handler)

    order = [r.name for r in config.reports]
    result.outcomes.sort(key=lambda o: order.index(o.name))
    manifest = {
        "build_id": build_id,
        "built_at": now.isoformat(timespec="seconds"),
        "git_commit": commit,
        "config": _rel(config.path, config.root),
        "packages": versions,
        "reports": {n: entries[n] for n in order if n in entries},
    }
    from cxtradeoff.files import atomic_write_text

    atomic_write_text(out_dir / INDEX, render_index(manifest))
    atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    result.wrote = True
    if keep > 0:
        archive_build(out_dir, build_id=build_id, manifest=manifest, keep=keep)
    return result


def _finish(
    job: _Job,
    staged: dict[str, Path] | None,
    error: BaseException | None,
    *,
    out_dir: Path,
    formats: tuple[str, ...],
    entries: dict[str, Any],
    build_id: str,
    commit: str | None,
    versions: dict[str, str],
    root: Path,
) -> ReportOutcome:
    """Main thread: move the staged files into place and record the report's entry."""
    from cxtradeoff.files import move_into_place

    spec = job.spec
    old = entries.get(spec.name, {})
    entry: dict[str, Any] = {
        "title": spec.title,
        "profile": spec.profile,
        "display_name": old.get("display_name"),
        "notebook": _rel(spec.notebook, root),
        "parameters": spec.parameters,
        "depends_on": spec.depends_on,
        "inputs": job.inputs,
        "input_hash": job.key,
        "git_commit": commit,
        "build_id": build_id,
        "started": job.started_at,
        "formats": list(formats),
    }
    if error is not None or staged is None:  # the report failed; the others go on
        duration = time.perf_counter() - job.started
        exc = error or RenderError("no output")
        message = str(exc) if isinstance(exc, CxTradeoffError) else f"{type(exc).__name__}: {exc}"
        failed_nb = None
        executed = job.stage / f"{spec.name}.ipynb"
        if executed.is_file():
            failed_nb = out_dir / "failed" / f"{spec.name}.ipynb"
            move_into_place(executed, failed_nb)
            message = message.replace(str(executed), str(failed_nb))
        entries[spec.name] = {
            **old,
            **{k: entry[k] for k in ("title", "profile", "notebook", "parameters", "started")},
            "build_id": build_id,
            "status": "failed",
            "error": message,
            "duration_s": round(duration, 3),
            "failed_notebook": _rel(failed_nb, out_dir) if failed_nb else None,
            "input_hash": None,
        }
        return ReportOutcome(spec.name, "failed", duration, message, failed_nb)
    staged = dict(staged)
    if "html" not in formats:
        staged.pop("html", None)

    headline, display_name = _headline(staged.get("results"))
    outputs: dict[str, str | None] = {"html": None, "pdf": None, "notebook": None, "results": None}
    for kind, path in staged.items():
        dest = out_dir / path.name
        move_into_place(path, dest)
        outputs[kind] = dest.name
    (out_dir / "failed" / f"{spec.name}.ipynb").unlink(missing_ok=True)
    for kind, suffix in (("html", ".html"), ("pdf", ".pdf"), ("results", ".results.json")):
        if outputs[kind] is None:  # not made this time (e.g. --formats html): no stale copy
            (out_dir / f"{spec.name}{suffix}").unlink(missing_ok=True)
    duration = time.perf_counter() - job.started
    entry.update(
        outputs=outputs,
        headline=headline,
        display_name=display_name,
        status="ok",
        error=None,
        duration_s=round(duration, 3),
        packages=versions,
    )
    entries[spec.name] = entry
    return ReportOutcome(spec.name, "ok", duration)


def _dependents(specs: list[ReportSpec]) -> dict[str, set[str]]:
    """For each report, the reports that read it, directly or not."""
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


class _KernelWorker:
    """One thread that runs notebooks one after the other on a kernel it keeps warm.

    Starting a kernel and importing the scientific stack costs about as much as a report
    notebook; each worker starts one kernel and resets it between notebooks.
    """

    def __init__(self, index: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"cx-kernel-{index}")
        self._kernel: Any = None

    def _run(self, job: _Job, out_dir: Path, log_output: bool) -> dict[str, Path]:
        from cxtradeoff.render import WarmKernel

        if self._kernel is None:
            self._kernel = WarmKernel()
        return _stage_report(job, out_dir, log_output=log_output, warm=self._kernel)

    def submit(self, job: _Job, out_dir: Path, *, log_output: bool) -> Future[dict[str, Path]]:
        return self._pool.submit(self._run, job, out_dir, log_output)

    def close(self) -> None:
        """Shut the kernel down in the thread that used it, then end the thread."""
        if self._kernel is not None:
            with contextlib.suppress(Exception):
                self._pool.submit(self._kernel.close).result(timeout=60)
        self._pool.shutdown(wait=True)


class _PrinterThread:
    """A :class:`~cxtradeoff.render.PdfPrinter` living in one thread of its own.

    Playwright's synchronous API must be driven from the thread that started it; a
    one-thread executor keeps the browser there while the build goes on elsewhere.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cx-pdf")
        self._printer: Any = None

    def _open(self) -> str:
        from cxtradeoff.render import PdfPrinter

        printer = PdfPrinter()
        printer.__enter__()
        self._printer = printer
        return printer.browser_version

    def start(self) -> Future[str]:
        """Launch Chromium in the background (the first print waits for it); its version."""
        return self._pool.submit(self._open)

    def submit(self, html_path: Path, pdf_path: Path, *, title: str, subtitle: str) -> Future[None]:
        return self._pool.submit(
            self._printer.print_pdf, html_path, pdf_path, title=title, subtitle=subtitle
        )

    def close(self) -> None:
        if self._printer is not None:
            self._pool.submit(self._printer.__exit__, None, None, None).result()
        self._pool.shutdown(wait=True)


def _attach_cell_logger(progress: Callable[[Event], None]) -> Any:
    """Forward papermill's per-cell log lines as ``cell`` events (``-v``)."""
    import logging

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if text.startswith(("Executing Cell", "Ending Cell")):
                progress(Event("cell", threading.current_thread().name, message=text.rstrip("-")))

    handler = _Handler(level=logging.INFO)
    logger = logging.getLogger("papermill")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


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


# --------------------------------------------------------------------------- index


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


def render_index(manifest: dict[str, Any]) -> str:
    """The landing page: every report with its headline numbers, links and provenance.

    Every value taken from the manifest is HTML-escaped.
    """
    e = html.escape
    rows = []
    for name, entry in manifest.get("reports", {}).items():
        outputs = entry.get("outputs") or {}
        links = " · ".join(
            f'<a href="{e(outputs[k])}">{label}</a>'
            for k, label in (("html", "HTML"), ("pdf", "PDF"), ("notebook", "notebook"))
            if outputs.get(k)
        )
        head = entry.get("headline") or {}
        status = entry.get("status", "")
        note = ""
        if status != "ok":
            note = f'<div class="err">{e(status)}: {e(str(entry.get("error") or ""))}</div>'
        title = e(str(entry.get("title") or name))
        if outputs.get("html"):
            title = f'<a href="{e(outputs["html"])}">{title}</a>'
        who = entry.get("display_name") or entry.get("profile") or ""
        rows.append(
            "<tr>"
            f"<td>{title}{note}</td>"
            f"<td>{e(str(who))}</td>"
            f"<td class=num>{e(_fmt_money(head.get('annual_savings'), head.get('currency')))}</td>"
            f"<td class=num>{e(_fmt_break_even(head.get('break_even_conversion_npv', head.get('break_even_conversion'))))}</td>"
            f"<td class=num>{e(_fmt_pct(head.get('p_loss')))}</td>"
            f"<td>{links}</td>"
            f'<td><span class="st {e(status)}">{e(status)}</span><br><small>{e(str(entry.get("started") or ""))}'
            f"<br>{e(str(entry.get('notebook') or ''))}</small></td>"
            "</tr>"
        )
    commit = manifest.get("git_commit") or "not in git"
    packages = ", ".join(f"{k} {v}" for k, v in (manifest.get("packages") or {}).items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cxtradeoff reports</title>
<style>
body {{ font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }}
table {{ border-collapse: collapse; width: 100%; font-size: .92rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .45rem .5rem; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
td.num {{ text-align: right; white-space: nowrap; }}
.err {{ color: #b2182b; font-size: .85rem; white-space: pre-wrap; }}
.st.ok {{ color: #1b7837; }} .st.failed, .st.skipped {{ color: #b2182b; font-weight: bold; }}
footer {{ margin-top: 2rem; color: #555; font-size: .85rem; }}
</style></head>
<body>
<h1>Does AI in customer service pay once lost customers are counted?</h1>
<p>Reports built by <code>cxtradeoff build</code>. Headline numbers are for the first AI scenario of
each report; break-even is the share of customers who would consider leaving that may actually
leave before automation stops paying over the report's horizon, its one-off cost included; P(loss) is the chance that the net present value is negative
under the evidence.</p>
<table>
<thead><tr><th>Report</th><th>Company</th><th>Annual savings</th><th>Break-even conversion</th>
<th>P(loss)</th><th>Files</th><th>Built</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<footer>Build {e(str(manifest.get("build_id")))} at {e(str(manifest.get("built_at")))}
from commit {e(str(commit))}, configuration {e(str(manifest.get("config")))}.<br>
{e(packages)}. Full provenance: <a href="manifest.json">manifest.json</a>.</footer>
</body></html>
"""
