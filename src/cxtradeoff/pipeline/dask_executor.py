"""The Dask executor: each report a task on a Dask worker that keeps a warm kernel.

``cxtradeoff build --executor dask --scheduler ADDRESS`` runs the build's reports on an
existing Dask cluster; ``--executor dask-local --workers N`` starts a ``LocalCluster`` of
``N`` worker processes for the build. Only this module imports Dask, and only
``cxtradeoff build --executor dask...`` imports this module.

What stays on the client (the machine running ``cxtradeoff build``): the plan, hashes
and lock, the manifest, landing page and archive, exactly as with the local executor.
Each report's files come back as bytes and are written into its staging folder there,
then committed by the same :mod:`~cxtradeoff.pipeline.finish`.

What travels to a worker, per report (:class:`ReportTask`): the report's spec, its key
and input hashes, the bytes of its notebook and of every input it declares (scattered
once per distinct content: a 100-unit portfolio sends its profiles file to each worker
once), the results files of the reports it reads, and the fingerprint of the client's
package (its source hash and package versions). A worker whose package differs refuses
the report, by name, rather than build it with other code. What comes back
(:class:`TaskResult`): the executed notebook, HTML, PDF and results file, as bytes; the
seconds of each phase; the worker's address; the error, if any.

On each worker a :class:`ReportWorkerPlugin` keeps, per worker thread, a Jupyter kernel
warm (reset between notebooks) whose ``CXTRADEOFF_ROOT`` is a private folder holding the
files shipped for the report, and one headless Chromium prints that worker's PDFs. The
worker needs the same project installed as the client (same commit, same
``requirements.lock``, the ``cxtradeoff`` kernel registered: ``make setup``) and a
Chromium; it needs no shared file system (docs/scaling.md).

A worker that dies mid-task: Dask's scheduler runs the task again on another worker (up
to ``distributed.scheduler.allowed-failures`` times); the build goes on, and says which
report was retried where (a note, also among the build's warnings).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, get_worker

from cxtradeoff.errors import ConfigError, OutputError, PrintError, RenderError
from cxtradeoff.paths import PACKAGE_DIR
from cxtradeoff.pipeline.config import ReportSpec
from cxtradeoff.pipeline.export import PrinterThread
from cxtradeoff.pipeline.inputs import package_versions, relative_name, tree_sha256
from cxtradeoff.pipeline.kernels import KernelWorker, clean_stale_sockets
from cxtradeoff.pipeline.run import (
    Job,
    RunSettings,
    Staged,
    import_jsonschema_quickly,
    read_staged_results,
    stage_report,
)

#: the name the worker plugin is registered under, and the topic of its events
PLUGIN_NAME = "cxtradeoff-reports"
#: a worker's folders are ``<tmp>/cxw-<pid of the worker>-<random>``
WORKER_PREFIX = "cxw-"
#: stands for the worker's staging folder in error messages sent back
STAGE_MARK = "<staging folder>"
#: how long the client waits for a first worker to join
WORKERS_TIMEOUT_S = 60.0
#: files outside the project root are shipped under this folder of the worker's root
OUTSIDE = "_outside"

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class ReportTask:
    """What a worker is sent to build one report (file contents travel beside it)."""

    spec: ReportSpec
    key: str
    inputs: dict[str, str]
    started_at: str
    #: the client's project root, against which the spec's paths are relative
    root: str
    formats: tuple[str, ...]
    subtitle: str
    #: the results file of each report this one reads, as bytes
    results: dict[str, bytes]
    #: the client's package: its source hash and the versions of its packages
    package_hash: str
    versions: dict[str, str]


@dataclass(frozen=True)
class ErrorInfo:
    """An error on a worker, as sent back: its kind (``render``, ``print``, ``output`` or
    ``other``), type name, message (the worker's staging folder as :data:`STAGE_MARK`)
    and any long detail (a browser's log)."""

    kind: str
    type_name: str
    message: str
    detail: str = ""


@dataclass
class TaskResult:
    """What a worker sends back: files by kind as (file name, bytes), the seconds of
    each phase, the worker's address, and the error that stopped the report."""

    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    worker: str = ""
    error: ErrorInfo | None = None
    #: the version of the Chromium that printed the PDF
    browser: str | None = None


def shipped_name(path: Path, root: Path) -> str:
    """Where a file of the client's is put in a worker's root: its path relative to the
    project root, or under ``_outside/`` for a file outside it.

    >>> shipped_name(Path("/p/data/a.csv"), Path("/p"))
    'data/a.csv'
    >>> shipped_name(Path("/x/b.csv"), Path("/p"))  # doctest: +ELLIPSIS
    '_outside/.../b.csv'
    """
    name = relative_name(path, root)
    if not Path(name).is_absolute():
        return name
    return f"{OUTSIDE}/{hashlib.sha256(name.encode()).hexdigest()[:12]}/{path.name}"


def _remap(value: Any, paths: Mapping[str, str]) -> Any:
    """A parameter value with every text naming a shipped file by its client path
    replaced by the file's path on the worker."""
    if isinstance(value, str):
        return paths.get(value, value)
    if isinstance(value, list):
        return [_remap(v, paths) for v in value]
    if isinstance(value, dict):
        return {k: _remap(v, paths) for k, v in value.items()}
    return value


def relocate(spec: ReportSpec, client_root: Path, worker_root: Path) -> ReportSpec:
    """The spec as the worker runs it: notebook, inputs and parameters naming them by
    their absolute client paths moved into the worker's root (relative paths, read from
    the notebook's folder, need no change: the layout is the same)."""
    moved: dict[str, str] = {}
    for path in (spec.notebook, *spec.inputs):
        local = str(worker_root / shipped_name(path, client_root))
        moved[str(path)] = local
        with contextlib.suppress(OSError):
            moved[str(path.resolve())] = local
    return replace(
        spec,
        notebook=Path(moved[str(spec.notebook)]),
        inputs=[Path(moved[str(p)]) for p in spec.inputs],
        parameters=_remap(spec.parameters, moved),
    )


# --------------------------------------------------------------------------- worker side


def _fingerprint() -> tuple[str, dict[str, str]]:
    return tree_sha256(PACKAGE_DIR), package_versions()


class _Slot:
    """One report at a time on a warm kernel, in a folder of its own on the worker."""

    def __init__(self, index: int, folder: Path) -> None:
        self.folder = folder
        self.root = folder / "root"
        self.stage = folder / "stage"
        self.results = folder / "results"
        self.kernel = KernelWorker(index, env={"CXTRADEOFF_ROOT": str(self.root)})

    def clear(self) -> None:
        for path in (self.root, self.stage, self.results):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)


class ReportWorkerPlugin(WorkerPlugin):
    """Keeps, on each Dask worker, warm kernels (one per worker thread) and a Chromium.

    Registered by the client for one build and removed at its end (its kernels and
    browser closed). ``chromium`` is the client's browser; a worker that has none at
    that path uses ``locate_chromium()`` (the command line passes
    :func:`cxtradeoff.browser.find_chromium`).
    """

    idempotent = False

    def __init__(
        self, *, chromium: str | None, locate_chromium: Callable[[], str | None] | None = None
    ) -> None:
        self.chromium = chromium
        self.locate_chromium = locate_chromium
        self._fresh()

    def _fresh(self) -> None:
        """The worker-side state, made anew wherever the plugin is unpickled."""
        self.address = ""
        self.folder: Path | None = None
        self.slots: list[_Slot] = []
        self.free: queue.Queue[_Slot] = queue.Queue()
        self.printer: PrinterThread | None = None
        self.lock = threading.Lock()
        self.fingerprint: tuple[str, dict[str, str]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"chromium": self.chromium, "locate_chromium": self.locate_chromium}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.chromium = state["chromium"]
        self.locate_chromium = state["locate_chromium"]
        self._fresh()

    def setup(self, worker: Any) -> None:
        import_jsonschema_quickly()
        self.address = str(worker.address)
        clean_stale_sockets()
        _clean_stale_folders()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{WORKER_PREFIX}{os.getpid()}-"))
        self.slots = [
            _Slot(i, self.folder / f"slot-{i}") for i in range(max(1, worker.state.nthreads))
        ]
        for slot in self.slots:
            self.free.put(slot)

    def teardown(self, worker: Any) -> None:
        for slot in self.slots:
            slot.kernel.interrupt()  # a notebook still running ends now
        for slot in self.slots:
            with contextlib.suppress(Exception):
                slot.kernel.close()
        if self.printer is not None:
            with contextlib.suppress(Exception):
                self.printer.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _printer(self) -> PrinterThread:
        with self.lock:
            if self.printer is None:
                chromium = self.chromium
                if not chromium or not os.access(chromium, os.X_OK):
                    chromium = self.locate_chromium() if self.locate_chromium else None
                if not chromium:
                    raise PrintError(
                        f"PDF not printed: worker {self.address} has no Chromium (install "
                        "Debian's 'chromium' or set CXTRADEOFF_CHROMIUM on the worker)"
                    )
                self.printer = PrinterThread(chromium)
            return self.printer

    def _mismatch(self, task: ReportTask) -> str | None:
        if self.fingerprint is None:
            self.fingerprint = _fingerprint()
        package_hash, versions = self.fingerprint
        if package_hash == task.package_hash and versions == task.versions:
            return None
        differ = [f"{k} {task.versions.get(k)} here, {v} there" for k, v in versions.items()
                  if task.versions.get(k) != v]  # fmt: skip
        what = "; ".join(differ) if differ else "the package source differs"
        return (
            f"worker {self.address} runs another cxtradeoff than this checkout ({what}): "
            "install the same commit and requirements.lock on every worker (docs/scaling.md)"
        )

    def run(self, task: ReportTask, files: Mapping[str, bytes]) -> TaskResult:
        """Build one report in a free slot; never raises (the error travels back)."""
        slot = self.free.get()
        try:
            return self._run(slot, task, files)
        finally:
            self.free.put(slot)

    def _run(self, slot: _Slot, task: ReportTask, files: Mapping[str, bytes]) -> TaskResult:
        result = TaskResult(worker=self.address)
        mismatch = self._mismatch(task)
        if mismatch is not None:
            result.error = ErrorInfo("render", "RenderError", mismatch)
            return result
        spec = task.spec
        staged: Staged | None = None
        try:
            slot.clear()
            for name, data in files.items():
                path = slot.root / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            for dep, data in task.results.items():
                (slot.results / f"{dep}.results.json").write_bytes(data)
            local = relocate(spec, Path(task.root), slot.root)
            job = Job(local, task.key, task.inputs, slot.stage, time.perf_counter(),
                      task.started_at)  # fmt: skip
            staged = slot.kernel.submit(
                lambda kernel: stage_report(job, kernel, out_dir=slot.results, log_output=False)
            ).result()
            if "pdf" in task.formats:
                pdf = slot.stage / f"{spec.name}.pdf"
                seconds = (
                    self._printer()
                    .submit(
                        staged.files["html"],
                        pdf,
                        title=spec.title,
                        subtitle=task.subtitle,
                        template=spec.template,
                    )
                    .result()
                )
                staged.files["pdf"] = pdf
                staged.phases["pdf"] = seconds
        except Exception as exc:
            result.error = _error_info(exc, slot.stage)
        made = (
            staged.files if staged is not None else {"notebook": slot.stage / f"{spec.name}.ipynb"}
        )
        for kind, path in made.items():
            with contextlib.suppress(OSError):
                result.files[kind] = (path.name, path.read_bytes())
        result.phases = dict(staged.phases) if staged is not None else {}
        result.browser = self.printer.version() if self.printer is not None else None
        shutil.rmtree(slot.stage, ignore_errors=True)
        return result


def _error_info(exc: BaseException, stage: Path) -> ErrorInfo:
    kind = (
        "print" if isinstance(exc, PrintError)
        else "output" if isinstance(exc, OutputError)
        else "render" if isinstance(exc, RenderError)
        else "other"
    )  # fmt: skip
    message = str(exc).replace(str(stage), STAGE_MARK)
    return ErrorInfo(kind, type(exc).__name__, message, getattr(exc, "detail", ""))


def _clean_stale_folders() -> None:
    """Remove the folders of workers that no longer run (killed with SIGKILL)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{WORKER_PREFIX}*-*"):
        pid = folder.name[len(WORKER_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_report_task(task: ReportTask, files: Mapping[str, bytes]) -> TaskResult:
    """The task a worker runs for one report (on the plugin's warm kernel)."""
    worker = get_worker()
    worker.log_event(PLUGIN_NAME, {"report": task.spec.name, "key": task.key,
                                   "worker": str(worker.address)})  # fmt: skip
    plugin = worker.plugins.get(PLUGIN_NAME)
    if not isinstance(plugin, ReportWorkerPlugin):
        return TaskResult(worker=str(worker.address), error=ErrorInfo(
            "render", "RenderError", f"worker {worker.address} has no cxtradeoff plugin"))  # fmt: skip
    return plugin.run(task, files)


# --------------------------------------------------------------------------- client side


class DaskExecutor:
    """Runs each report as a task on a Dask cluster (see the module's text).

    Parameters
    ----------
    settings
        The build's settings (output folder, formats, Chromium).
    root
        The project root the reports' paths are relative to (what is shipped).
    scheduler
        Address of a running scheduler (``tcp://host:8786``), or the scheduler file it
        wrote (``dask scheduler --scheduler-file FILE``); None starts a ``LocalCluster``
        of ``workers`` worker processes for this build.
    locate_chromium
        How a worker finds a Chromium when the client's path is not one there.
    """

    def __init__(
        self,
        settings: RunSettings,
        *,
        root: Path,
        scheduler: str | None = None,
        workers: int | None = None,
        locate_chromium: Callable[[], str | None] | None = None,
        workers_timeout_s: float = WORKERS_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.root = root
        self.scheduler = scheduler
        self.workers = workers or settings.jobs
        self.locate_chromium = locate_chromium
        self.workers_timeout_s = workers_timeout_s
        self.cluster: Any = None
        self.client: Any = None
        self.package_hash = ""
        self.versions: dict[str, str] = {}
        self.scattered: dict[str, Any] = {}
        self.tasks: dict[Future[Staged], Any] = {}
        self.started: dict[str, list[str]] = {}
        self.reported: set[str] = set()
        self.pending_notes: list[tuple[str, str]] = []
        self.browser: str | None = None
        self.threads, self.threads_at = 1, -1e9
        self.lock = threading.Lock()

    # -- lifecycle

    def open(self) -> None:
        self.package_hash, self.versions = _fingerprint()
        if self.scheduler:
            # an address, or the file `dask scheduler --scheduler-file` wrote (batch systems)
            where = (
                {"scheduler_file": self.scheduler}
                if Path(self.scheduler).is_file()
                else {"address": self.scheduler}
            )
            try:
                self.client = Client(**where, timeout=30, set_as_default=False)
            except OSError as exc:
                raise ConfigError(
                    f"--scheduler {self.scheduler}: no Dask scheduler answers there ({exc})"
                ) from None
        else:
            # The workers are the build's own and write to its terminal: their logs are kept
            # off it (a worker lost, or the scheduler closing while a worker still beats, is
            # logged by Dask with a traceback); what a report's task did comes back with it
            # and is said by the build in its own words.
            self.cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.CRITICAL,
            )  # fmt: skip
            self.client = Client(self.cluster, set_as_default=False)
        try:
            self.client.wait_for_workers(1, timeout=self.workers_timeout_s)
        except TimeoutError:
            raise ConfigError(
                f"--scheduler {self.scheduler}: no Dask worker joined within "
                f"{self.workers_timeout_s:g} s (start some with 'dask worker {self.scheduler}')"
            ) from None
        self.client.register_plugin(
            ReportWorkerPlugin(chromium=self.settings.chromium,
                               locate_chromium=self.locate_chromium),
            name=PLUGIN_NAME,
        )  # fmt: skip
        self.client.subscribe_topic(PLUGIN_NAME, self._on_event)

    def close(self) -> None:
        if self.client is None:
            return
        try:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(PLUGIN_NAME)
            with contextlib.suppress(Exception):  # closes the kernels and browsers
                self.client.unregister_worker_plugin(PLUGIN_NAME)
        finally:
            self.scattered.clear()
            self.tasks.clear()
            with contextlib.suppress(Exception):
                self.client.close()
            if self.cluster is not None:
                with contextlib.suppress(Exception):
                    self.cluster.close()
            self.client = self.cluster = None

    def interrupt(self) -> None:
        if self.client is not None and self.tasks:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.tasks.values()), force=True)

    # -- scheduling

    def room(self) -> int:
        """Twice the cluster's threads, less what runs: workers never wait for the
        client between two reports (the count is asked of the scheduler once a second)."""
        now = time.monotonic()
        if now - self.threads_at > 1.0:
            try:
                self.threads = sum(self.client.nthreads().values())
            except Exception:  # the scheduler is gone: what runs will say so
                self.threads = 1
            self.threads_at = now
        return max(2, 2 * self.threads) - len(self.tasks)

    def busy(self) -> list[Future[Any]]:
        return []

    def no_more_work(self) -> None:
        return None

    def submit(self, job: Job) -> Future[Staged]:
        spec = job.spec
        files = {
            shipped_name(path, self.root): self._scatter(path)
            for path in dict.fromkeys([spec.notebook, *spec.inputs])
        }
        results = {}
        if spec.reads_results:
            for dep in spec.depends_on:
                path = self.settings.out_dir / f"{dep}.results.json"
                with contextlib.suppress(OSError):
                    results[dep] = path.read_bytes()
        task = ReportTask(
            spec=spec, key=job.key, inputs=job.inputs, started_at=job.started_at,
            root=str(self.root), formats=self.settings.formats, subtitle=job.subtitle,
            results=results, package_hash=self.package_hash, versions=self.versions,
        )  # fmt: skip
        staged: Future[Staged] = Future()
        staged.set_running_or_notify_cancel()
        remote = self.client.submit(
            run_report_task, task, files, key=f"cxtradeoff-{spec.name}-{uuid.uuid4().hex[:8]}",
            pure=False,
        )  # fmt: skip
        self.tasks[staged] = remote
        remote.add_done_callback(lambda done: self._received(job, done, staged))
        return staged

    def _scatter(self, path: Path) -> Any:
        """The file's bytes on the cluster, sent once per distinct content."""
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self.scattered:
            self.scattered[digest] = self.client.scatter(data, hash=True)
        return self.scattered[digest]

    def _received(self, job: Job, remote: Any, staged: Future[Staged]) -> None:
        """In the client's callback thread: write what came back into the staging
        folder, or end the report with its error."""
        try:
            outcome = self._write_back(job, remote)
        except BaseException as exc:
            staged.set_exception(exc)
        else:
            staged.set_result(outcome)
        finally:
            with self.lock:
                self.tasks.pop(staged, None)

    def _write_back(self, job: Job, remote: Any) -> Staged:
        name = job.spec.name
        try:
            result: TaskResult = remote.result()
        except Exception as exc:  # the task never ran to its end: workers lost, cancelled
            tried = self.started.get(job.key, [])
            raise RenderError(
                f"not built: its task was lost ({type(exc).__name__}: {exc})"
                + (f"; it was started on {', '.join(tried)}" if tried else "")
            ) from None
        self._note_retry(name, job.key, result.worker)
        files: dict[str, Path] = {}
        for kind, (file_name, data) in result.files.items():
            path = job.stage / file_name
            try:
                path.write_bytes(data)
            except OSError as exc:
                raise OutputError.from_os_error(path, exc) from None
            files[kind] = path
        if result.error is not None:
            raise _client_error(result.error, job.stage, result.worker)
        if result.browser:
            self.browser = result.browser
        return Staged(files, read_staged_results(job.spec, files.get("results")), result.phases)

    # -- what the operator hears

    def _on_event(self, event: Any) -> None:
        """A task started on a worker (``log_event`` from :func:`run_report_task`)."""
        message = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if not isinstance(message, dict):
            return
        with self.lock:
            self.started.setdefault(str(message.get("key")), []).append(str(message.get("worker")))
            tried = self.started[str(message.get("key"))]
            if len(tried) > 1:
                self._note(
                    str(message.get("report")), str(message.get("key")), tried[-2], tried[-1]
                )

    def _note_retry(self, name: str, key: str, worker: str) -> None:
        with self.lock:
            tried = self.started.get(key, [])
            if tried and worker and tried[0] != worker:
                self._note(name, key, tried[0], worker)

    def _note(self, name: str, key: str, lost: str, then: str) -> None:
        if key in self.reported:
            return
        self.reported.add(key)
        self.pending_notes.append(
            (name, f"worker {lost} was lost while building it; retried on worker {then}")
        )

    def notes(self) -> list[tuple[str, str]]:
        with self.lock:
            notes, self.pending_notes = self.pending_notes, []
        return notes

    def browser_version(self) -> str | None:
        return self.browser


def _client_error(info: ErrorInfo, stage: Path, worker: str) -> BaseException:
    """The error of a report as the local executor would have raised it."""
    message = info.message.replace(STAGE_MARK, str(stage))
    if info.kind == "print":
        return PrintError(message, detail=info.detail)
    if info.kind == "render":
        return RenderError(message)
    if info.kind == "output":  # the worker's disk, not this build's output folder
        return RenderError(f"on worker {worker}: {message}")
    return RenderError(f"{info.type_name}: {message}")
