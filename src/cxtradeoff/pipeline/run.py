"""Running the reports of a plan on an executor: each report staged aside, then finished.

The :class:`Runner` decides when each report may start (its dependencies done, room on
the executor) and hands each one, as it ends, to the caller's ``finish`` callback in the
main thread. *Where* a report runs is the executor's (:class:`Executor`):

- :class:`~cxtradeoff.pipeline.executors.LocalExecutor` (the default): notebooks run
  concurrently in worker threads of this process, each on a Jupyter kernel it keeps warm
  (:class:`~cxtradeoff.pipeline.kernels.KernelWorker`), and one headless Chromium, in a
  thread of its own, prints every PDF while the kernels go on;
- ``cxtradeoff.pipeline.dask_executor.DaskExecutor`` (only imported when asked for): each
  report is a task on a Dask worker that keeps its own kernel and Chromium and sends the
  staged files back.

Either way each report is executed and exported into a staging folder of its own inside
the output folder; what happens to it then (moved into place, or kept as a failure) is
the ``finish`` callback's.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cxtradeoff.contracts import ResultsFile, load_results
from cxtradeoff.errors import BrowserNotFoundError, DataValidationError, OutputError, RenderError
from cxtradeoff.pipeline import plan
from cxtradeoff.pipeline.config import ReportSpec
from cxtradeoff.pipeline.events import Event
from cxtradeoff.pipeline.export import notebook_to_html
from cxtradeoff.pipeline.kernels import WarmKernel, execute_notebook

#: every folder a build stages into, inside the output folder, starts with this
STAGING_PREFIX = ".staging-"

#: called in the main thread when a report ends: its job, what it staged (None when it
#: failed) and the error; returns the report's final status (ok or failed)
Finish = Callable[["Job", "Staged | None", "BaseException | None"], str]
#: called when a report cannot be built because reports it reads failed
Skip = Callable[[ReportSpec, list[str]], None]

#: the phases of a report whose seconds are measured (see :func:`stage_report`)
PHASES = ("kernel", "cells", "figures", "html", "pdf")


@dataclass
class Job:
    """One report being built: its spec, key, input hashes and staging folder."""

    spec: ReportSpec
    key: str
    inputs: dict[str, str]
    stage: Path
    started: float = 0.0
    started_at: str = ""

    @property
    def subtitle(self) -> str:
        """The PDF's running header: the build date (the title beside it names the company;
        a profile's id, a code name, is not for the reader)."""
        return f"built {self.started_at[:10]}"


@dataclass
class Staged:
    """What a report made in its staging folder: files by kind (``notebook``, ``html``,
    ``pdf``, ``results``), for an analysis its results as read back, and the seconds
    each phase took (:data:`PHASES`)."""

    files: dict[str, Path]
    results: ResultsFile | None = None
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSettings:
    """What every executor is told about the build it runs reports for."""

    out_dir: Path
    jobs: int
    formats: tuple[str, ...]
    chromium: str | None
    verbose: bool


class Executor(Protocol):
    """Where reports run. The :class:`Runner` calls it from the main thread only.

    ``submit`` returns a future that ends when the report is wholly staged in
    ``job.stage`` (notebook, HTML, results, and the PDF when asked for), or with the
    error that stopped it (an :class:`OutputError` stops the whole build).
    """

    def open(self) -> None:
        """Get ready to take reports (kernels and browsers may start lazily)."""

    def room(self) -> int:
        """How many more reports may be submitted now."""

    def submit(self, job: Job) -> Future[Staged]:
        """Start building ``job``'s report."""

    def busy(self) -> list[Future[Any]]:
        """Futures whose end may make room: waited on along with the reports."""

    def no_more_work(self) -> None:
        """Every report has been submitted: what will not be needed again may go."""

    def notes(self) -> list[tuple[str, str]]:
        """What happened that the operator should hear of, since last asked: (report,
        message), e.g. a report retried on another worker after its worker died."""

    def browser_version(self) -> str | None:
        """The version of the Chromium that prints PDFs (None while none has)."""

    def interrupt(self) -> None:
        """Stop what runs now, at once (the build was interrupted)."""

    def close(self) -> None:
        """Release every kernel, browser, worker and connection."""


#: makes the executor of a build from its settings
ExecutorFactory = Callable[[RunSettings], Executor]


def import_jsonschema_quickly() -> None:
    """Import jsonschema (papermill and nbconvert need it, through nbformat) without its
    optional IRI format checks.

    When the package ``rfc3987_syntax`` is installed (``jsonschema[format-nongpl]``, which
    Jupyter requires), importing jsonschema imports it, and it compiles 38 Lark grammars
    at import: 2 to 5 s of CPU in every process that imports nbformat, before its first
    notebook runs (the largest single cost found in a build of the default reports).
    Nothing a build does checks the ``iri`` format (nbformat validates notebooks with
    fastjsonschema). Does nothing when jsonschema is already imported; ``rfc3987_syntax``
    itself stays importable.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # an ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        if sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]


def stage_report(job: Job, kernel: WarmKernel | None, *, out_dir: Path, log_output: bool) -> Staged:
    """Execute the notebook and export HTML into the job's staging folder.

    ``out_dir`` is the folder holding the results files of the reports this one reads.
    The phases measured: ``kernel`` (starting or resetting the kernel, papermill's own
    work, saving the notebook), ``cells`` and ``figures`` (the notebook's cells, those
    that display a figure apart), ``html`` (the export).

    Raises
    ------
    RenderError
        The notebook failed, or ran but wrote no results file, or one that does not
        match the results contract.
    """
    threading.current_thread().name = job.spec.name
    spec = job.spec
    params = dict(spec.parameters)
    files: dict[str, Path] = {}
    if spec.writes_results:
        files["results"] = job.stage / f"{spec.name}.results.json"
        params["results_path"] = str(files["results"])
    if spec.reads_results:
        params["results_files"] = [str(out_dir / f"{d}.results.json") for d in spec.depends_on]
    executed = job.stage / f"{spec.name}.ipynb"
    start = time.perf_counter()
    execute_notebook(spec.notebook, executed, parameters=params, log_output=log_output, warm=kernel)
    executed_at = time.perf_counter()
    files["notebook"] = executed
    html_path = job.stage / f"{spec.name}.html"
    page = notebook_to_html(executed, title=spec.title, template=spec.template)
    try:
        html_path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise OutputError.from_os_error(html_path, exc) from None
    files["html"] = html_path
    cells, figures = cell_seconds(executed)
    phases = {
        "kernel": max(0.0, executed_at - start - cells - figures),
        "cells": cells,
        "figures": figures,
        "html": time.perf_counter() - executed_at,
    }
    return Staged(files, read_staged_results(spec, files.get("results")), phases)


def cell_seconds(executed: Path) -> tuple[float, float]:
    """Seconds an executed notebook spent in its cells, as papermill recorded them: those
    that display no figure, and those that display one (an image output)."""
    try:
        nb = json.loads(executed.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0.0, 0.0
    plain = drawn = 0.0
    for cell in nb.get("cells", []):
        seconds = cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
        images = any(
            key.startswith("image/")
            for output in cell.get("outputs", [])
            for key in output.get("data", {})
        )
        if images:
            drawn += seconds
        else:
            plain += seconds
    return plain, drawn


def read_staged_results(spec: ReportSpec, path: Path | None) -> ResultsFile | None:
    """The results file a report staged, checked against the contract (None when the
    report writes none).

    Raises
    ------
    RenderError
        The notebook wrote no results file, or one that does not match the contract.
    """
    if path is None:
        return None
    if not path.is_file():
        raise RenderError(f"{spec.notebook.name}: ran but wrote no results file")
    try:
        return load_results(path)
    except DataValidationError as exc:
        problems = "; ".join(exc.problems)
        raise RenderError(
            f"{spec.notebook.name}: ran but its results file does not match the contract "
            f"({problems})"
        ) from None


class Runner:
    """Runs a plan's reports on an executor, each as soon as what it reads is done.

    Parameters
    ----------
    todo
        Reports to build, in the order to start them (see :func:`plan.start_order`).
    jobs, formats, verbose, chromium
        The build's settings (:class:`RunSettings`); ``chromium`` is the executable that
        prints PDFs (needed when ``formats`` has ``pdf``).
    done
        Status of every report already settled (``ok`` for those up to date); updated as
        reports end.
    executor
        Makes the executor from the settings; :class:`~cxtradeoff.pipeline.executors.
        LocalExecutor` (warm kernels in this process) when None.
    """

    def __init__(
        self,
        todo: Sequence[ReportSpec],
        *,
        keys: dict[str, str],
        inputs: dict[str, dict[str, str]],
        out_dir: Path,
        jobs: int,
        formats: Sequence[str],
        verbose: bool,
        done: dict[str, str],
        chromium: str | None,
        finish: Finish,
        skip: Skip,
        progress: Callable[[Event], None],
        executor: ExecutorFactory | None = None,
    ) -> None:
        self.pending = list(todo)
        self.keys, self.inputs, self.out_dir = keys, inputs, out_dir
        self.done, self.finish, self.skip, self.progress = done, finish, skip, progress
        self.settings = RunSettings(out_dir=out_dir, jobs=max(1, jobs), formats=tuple(formats),
                                    chromium=chromium, verbose=verbose)  # fmt: skip
        self.make_executor = executor
        self.executor: Executor | None = None
        self.running: dict[Future[Staged], Job] = {}
        #: what the executor reported (a worker lost...), for the build's warnings
        self.notes: list[str] = []

    def run(self) -> None:
        """Build every report; returns when all have ended.

        Raises
        ------
        OutputError
            The output folder cannot be written (disk full...): the build stops.
        KeyboardInterrupt
            Also on SIGTERM (:class:`~cxtradeoff.errors.Terminated`). Either way, running
            kernels are killed, browsers and workers closed and every staging folder
            removed.
        """
        if "pdf" in self.settings.formats and self.settings.chromium is None:
            raise BrowserNotFoundError(
                "PDFs were asked for and no Chromium was given to print them"
            )
        handler = _attach_cell_logger(self.progress) if self.settings.verbose else None
        try:
            self.executor = self._make_executor()
            self.executor.open()
            while self.pending or self.running:
                self._start_ready(self.executor)
                if self.running:
                    self._collect(self.executor)
        except BaseException:
            if self.executor is not None:  # a notebook still running would hold its worker
                self.executor.interrupt()
            raise
        finally:
            try:
                if self.executor is not None:
                    self.executor.close()
            finally:
                if handler is not None:
                    logging.getLogger("papermill").removeHandler(handler)
                for job in self.running.values():
                    shutil.rmtree(job.stage, ignore_errors=True)

    def _make_executor(self) -> Executor:
        if self.make_executor is not None:
            return self.make_executor(self.settings)
        from cxtradeoff.pipeline.executors import LocalExecutor

        return LocalExecutor(self.settings)

    def browser_version(self) -> str | None:
        """The version of the Chromium printing PDFs (None when none runs)."""
        return self.executor.browser_version() if self.executor is not None else None

    def _start_ready(self, executor: Executor) -> None:
        """Start every report whose dependencies are done, while the executor has room."""
        for spec in plan.ready(self.pending, self.done):
            failed = plan.failed_dependencies(spec, self.done)
            if not failed and executor.room() <= 0:
                continue
            self.pending.remove(spec)
            if failed:
                self.done[spec.name] = "skipped"
                self.skip(spec, failed)
                continue
            stage = self.out_dir / f"{STAGING_PREFIX}{spec.name}-{os.urandom(4).hex()}"
            try:
                stage.mkdir()
            except OSError as exc:
                raise OutputError.from_os_error(stage, exc) from None
            job = Job(spec, self.keys[spec.name], self.inputs[spec.name], stage,
                      time.perf_counter(), datetime.now(UTC).isoformat(timespec="seconds"))  # fmt: skip
            self.progress(Event("start", spec.name))
            self.running[executor.submit(job)] = job
            if not self.pending:
                executor.no_more_work()

    def _collect(self, executor: Executor) -> None:
        """Wait for a report to end, or for room on the executor, and hand it on."""
        futures: list[Future[Any]] = [*self.running, *executor.busy()]
        finished, _ = wait(futures, return_when=FIRST_COMPLETED)
        self._tell(executor)
        for future in finished:
            if future not in self.running:  # room on the executor
                continue
            error = future.exception()
            if isinstance(error, OutputError):  # the disk, not the report: stop here
                raise error
            job = self.running.pop(future)
            staged = None if error else future.result()
            if staged is not None and staged.phases:
                self.progress(Event("phases", job.spec.name, phases=dict(staged.phases)))
            self._end(job, staged, error)

    def _tell(self, executor: Executor) -> None:
        for report, message in executor.notes():
            self.notes.append(f"{report}: {message}")
            self.progress(Event("note", report, message=message))

    def _end(self, job: Job, staged: Staged | None, error: BaseException | None) -> None:
        try:
            self.done[job.spec.name] = self.finish(job, staged, error)
        finally:
            shutil.rmtree(job.stage, ignore_errors=True)


def _attach_cell_logger(progress: Callable[[Event], None]) -> Any:
    """Forward papermill's per-cell log lines as ``cell`` events (``-v``)."""

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
