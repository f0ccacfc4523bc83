"""The local executor: reports run in this process's worker threads, on warm kernels.

This is what ``cxtradeoff build`` uses unless told otherwise (``--executor``). Each of
``jobs`` worker threads keeps one Jupyter kernel warm
(:class:`~cxtradeoff.pipeline.kernels.KernelWorker`) and runs a report's notebook and HTML
export on it; one headless Chromium in a thread of its own
(:class:`~cxtradeoff.pipeline.export.PrinterThread`) prints the PDFs while the kernels go
on to the next reports. Two things keep a build lean:

- the browser is launched when the first PDF is to be printed, not before: a build of
  one report never holds a kernel and a browser at the same time;
- once every report has been handed to a kernel, a kernel with nothing left to run is
  shut down, while the last PDFs print.

The Dask executor (:mod:`cxtradeoff.pipeline.dask_executor`) runs the same
:func:`~cxtradeoff.pipeline.run.stage_report` on remote workers; nothing here imports it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

from cxtradeoff.pipeline.export import PrinterThread
from cxtradeoff.pipeline.kernels import KernelWorker, WarmKernel
from cxtradeoff.pipeline.run import (
    Job,
    RunSettings,
    Staged,
    import_jsonschema_quickly,
    stage_report,
)


class LocalExecutor:
    """Runs reports on ``settings.jobs`` warm kernels in this process and one printer.

    A kernel worker is free again as soon as its notebook has run and its page has been
    exported; the PDF is printed meanwhile by the printer thread, and the report's
    future ends when the PDF is written.
    """

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.printer: PrinterThread | None = None
        #: each worker and the future of what it runs now (None: never used)
        self.workers: list[tuple[KernelWorker, Future[Staged] | None]] = []
        self._winding_down = threading.Event()

    def open(self) -> None:
        import_jsonschema_quickly()
        if self.settings.chromium and "pdf" in self.settings.formats:
            self.printer = PrinterThread(self.settings.chromium)

    def room(self) -> int:
        free = sum(1 for _, task in self.workers if task is None or task.done())
        return free + self.settings.jobs - len(self.workers)

    def busy(self) -> list[Future[Any]]:
        return [task for _, task in self.workers if task is not None and not task.done()]

    def submit(self, job: Job) -> Future[Staged]:
        index = next(
            (i for i, (_, task) in enumerate(self.workers) if task is None or task.done()), None
        )
        if index is None:
            self.workers.append((KernelWorker(len(self.workers)), None))
            index = len(self.workers) - 1
        worker = self.workers[index][0]
        staged: Future[Staged] = Future()
        staged.set_running_or_notify_cancel()
        task = worker.submit(lambda kernel: self._stage(job, kernel))
        self.workers[index] = (worker, task)
        task.add_done_callback(lambda done: self._staged(job, done, staged))
        return staged

    def _stage(self, job: Job, kernel: WarmKernel) -> Staged:
        """In the worker's thread: the notebook and its page; the kernel is shut down
        afterwards when no report is left to run on it."""
        try:
            return stage_report(
                job, kernel, out_dir=self.settings.out_dir, log_output=self.settings.verbose
            )
        finally:
            if self._winding_down.is_set():
                kernel.shutdown()

    def _staged(self, job: Job, task: Future[Staged], staged: Future[Staged]) -> None:
        """The notebook and page are done: print the PDF, or end the report here."""
        error = task.exception()
        if error is not None:
            staged.set_exception(error)
            return
        result = task.result()
        if self.printer is None:
            staged.set_result(result)
            return
        pdf = job.stage / f"{job.spec.name}.pdf"
        queued = time.perf_counter()
        try:
            printed = self.printer.submit(result.files["html"], pdf, title=job.spec.title,
                                          subtitle=job.subtitle, template=job.spec.template)  # fmt: skip
        except BaseException as exc:  # the printer was closed: the build is stopping
            staged.set_exception(exc)
            return

        def done(future: Future[float]) -> None:
            error = future.exception()
            if error is not None:
                staged.set_exception(error)
                return
            result.phases["pdf"] = future.result() or time.perf_counter() - queued
            result.files["pdf"] = pdf
            staged.set_result(result)

        printed.add_done_callback(done)

    def no_more_work(self) -> None:
        """Every report is on a kernel: free kernels shut down now, the others after
        their notebook."""
        self._winding_down.set()
        for worker, task in self.workers:
            if task is None or task.done():
                worker.submit(lambda kernel: kernel.shutdown())

    def notes(self) -> list[tuple[str, str]]:
        return []

    def browser_version(self) -> str | None:
        return self.printer.version() if self.printer is not None else None

    def interrupt(self) -> None:
        for worker, _ in self.workers:
            worker.interrupt()

    def close(self) -> None:
        try:
            for worker, _ in self.workers:
                worker.close()
        finally:
            if self.printer is not None:
                self.printer.close()
