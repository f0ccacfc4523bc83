"""Running the reports of a plan: notebooks in warm kernels, PDFs in one browser.

Notebooks run concurrently, one per worker thread, each worker on a kernel it keeps
(:class:`~cxtradeoff.pipeline.kernels.KernelWorker`). One headless Chromium, in a thread
of its own, prints every PDF while the kernels go on. Each report is executed and exported
into a staging folder of its own inside the output folder; what happens to it then (moved
into place, or kept as a failure) is the caller's ``finish`` callback, called in the main
thread as each report ends.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from cxtradeoff.contracts import ResultsFile, load_results
from cxtradeoff.errors import BrowserNotFoundError, DataValidationError, OutputError, RenderError
from cxtradeoff.pipeline import plan
from cxtradeoff.pipeline.config import ReportSpec
from cxtradeoff.pipeline.events import Event
from cxtradeoff.pipeline.export import PrinterThread, notebook_to_html
from cxtradeoff.pipeline.kernels import KernelWorker, WarmKernel, execute_notebook

#: every folder a build stages into, inside the output folder, starts with this
STAGING_PREFIX = ".staging-"

#: called in the main thread when a report ends: its job, what it staged (None when it
#: failed) and the error; returns the report's final status (ok or failed)
Finish = Callable[["Job", "Staged | None", "BaseException | None"], str]
#: called when a report cannot be built because reports it reads failed
Skip = Callable[[ReportSpec, list[str]], None]


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
    ``pdf``, ``results``) and, for an analysis, its results as read back."""

    files: dict[str, Path]
    results: ResultsFile | None = None


def stage_report(job: Job, kernel: WarmKernel | None, *, out_dir: Path, log_output: bool) -> Staged:
    """Worker thread: execute the notebook and export HTML into the job's staging folder.

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
    execute_notebook(spec.notebook, executed, parameters=params, log_output=log_output, warm=kernel)
    files["notebook"] = executed
    html_path = job.stage / f"{spec.name}.html"
    page = notebook_to_html(executed, title=spec.title, template=spec.template)
    try:
        html_path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise OutputError.from_os_error(html_path, exc) from None
    files["html"] = html_path
    return Staged(files, _read_results(spec, files.get("results")))


def _read_results(spec: ReportSpec, path: Path | None) -> ResultsFile | None:
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
    """Runs a plan's reports on ``jobs`` warm kernels and one printer.

    Parameters
    ----------
    todo
        Reports to build, in the order to start them (see :func:`plan.start_order`).
    chromium
        The Chromium executable that prints PDFs (needed when ``formats`` has ``pdf``).
    done
        Status of every report already settled (``ok`` for those up to date); updated as
        reports end.
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
    ) -> None:
        self.pending = list(todo)
        self.keys, self.inputs, self.out_dir = keys, inputs, out_dir
        self.jobs, self.formats, self.verbose = max(1, jobs), tuple(formats), verbose
        self.done, self.finish, self.skip, self.progress = done, finish, skip, progress
        self.chromium = chromium
        self.running: dict[Future[Staged], tuple[Job, KernelWorker]] = {}
        self.printing: dict[Future[None], tuple[Job, Staged]] = {}
        self.printer: PrinterThread | None = None

    def run(self) -> None:
        """Build every report; returns when all have ended.

        Raises
        ------
        OutputError
            The output folder cannot be written (disk full...): the build stops.
        KeyboardInterrupt
            Also on SIGTERM (:class:`~cxtradeoff.errors.Terminated`). Either way, running
            kernels are killed, the browser closed and every staging folder removed.
        """
        if "pdf" in self.formats and self.chromium is None:
            raise BrowserNotFoundError(
                "PDFs were asked for and no Chromium was given to print them"
            )
        self.printer = (
            PrinterThread(self.chromium) if self.chromium and "pdf" in self.formats else None
        )
        handler = _attach_cell_logger(self.progress) if self.verbose else None
        workers: list[KernelWorker] = []
        try:
            if self.printer is not None:
                self.printer.start()
            workers = [KernelWorker(i) for i in range(min(self.jobs, len(self.pending)))]
            idle = list(reversed(workers))
            while self.pending or self.running or self.printing:
                self._start_ready(idle)
                if self.running or self.printing:
                    self._collect(idle)
        except BaseException:
            for worker in workers:  # a notebook still running would hold its worker
                worker.interrupt()
            raise
        finally:
            for worker in workers:
                worker.close()
            if self.printer is not None:
                self.printer.close()
            if handler is not None:
                logging.getLogger("papermill").removeHandler(handler)
            for job, _ in [*self.running.values(), *self.printing.values()]:
                shutil.rmtree(job.stage, ignore_errors=True)

    def browser_version(self) -> str | None:
        """The version of the Chromium printing PDFs (None when none runs)."""
        return self.printer.version() if self.printer is not None else None

    def _start_ready(self, idle: list[KernelWorker]) -> None:
        """Start every report whose dependencies are done, while workers are idle."""
        for spec in plan.ready(self.pending, self.done):
            failed = plan.failed_dependencies(spec, self.done)
            if not failed and not idle:
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
            worker = idle.pop()
            self.running[worker.submit(partial(self._stage, job))] = (job, worker)

    def _stage(self, job: Job, kernel: WarmKernel) -> Staged:
        return stage_report(job, kernel, out_dir=self.out_dir, log_output=self.verbose)

    def _collect(self, idle: list[KernelWorker]) -> None:
        """Wait for a notebook or a print to end, and hand it on."""
        futures: list[Future[Any]] = [*self.running, *self.printing]
        finished, _ = wait(futures, return_when=FIRST_COMPLETED)
        for future in finished:
            error = future.exception()
            if isinstance(error, OutputError):  # the disk, not the report: stop here
                raise error
            if future in self.printing:
                job, staged = self.printing.pop(future)
                self._end(job, staged, error)
                continue
            job, worker = self.running.pop(future)
            idle.append(worker)
            if error is None and self.printer is not None:
                staged = future.result()
                pdf = job.stage / f"{job.spec.name}.pdf"
                printed = self.printer.submit(staged.files["html"], pdf, title=job.spec.title,
                                              subtitle=job.subtitle, template=job.spec.template)  # fmt: skip
                staged.files["pdf"] = pdf
                self.printing[printed] = (job, staged)
            else:
                self._end(job, None if error else future.result(), error)

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
