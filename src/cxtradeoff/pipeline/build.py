"""Build every report of the configuration: incremental, parallel, and failure-safe.

A build is a short sequence of steps, each in a module of its own:

1. **plan** (:mod:`~cxtradeoff.pipeline.plan`, pure): select the reports, hash their
   inputs, and decide which are up to date and in which order the others start;
2. **check**: the caller's domain checks of the parameters (:func:`config.validate`),
   before any kernel starts;
3. **run** (:mod:`~cxtradeoff.pipeline.run`): notebooks in warm kernels, HTML, PDFs, each
   report staged aside;
4. **finish** (:mod:`~cxtradeoff.pipeline.finish`): each report committed as it ends
   (its files with a manifest and a landing page that describe them), then a dated
   archive.

A report is rebuilt only when the hash of its inputs changed (notebook, declared data
files, package source, lock file, parameters, formats) or a report it reads was rebuilt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cxtradeoff.contracts import Manifest
from cxtradeoff.errors import BrowserNotFoundError, BuildLockedError, OutputError
from cxtradeoff.pipeline import finish, plan
from cxtradeoff.pipeline.config import (
    BuildConfig,
    InputProblem,
    ParameterCheck,
    ReportSpec,
    validate,
)
from cxtradeoff.pipeline.events import BuildOutcome, Event, ReportOutcome
from cxtradeoff.pipeline.inputs import (
    git_commit,
    package_versions,
    relative_name,
    report_inputs,
    shared_inputs,
)
from cxtradeoff.pipeline.kernels import clean_stale_sockets
from cxtradeoff.pipeline.run import ExecutorFactory, Job, Runner, Staged

LOCK_NAME = ".build.lock"


def build(
    config: BuildConfig,
    *,
    out_dir: Path,
    only: Iterable[str] = (),
    jobs: int | None = None,
    force: bool = False,
    formats: tuple[str, ...] = ("html", "pdf"),
    chromium: str | None = None,
    wait_s: float = 0.0,
    keep: int = 10,
    verbose: bool = False,
    parameter_checks: Sequence[ParameterCheck] = (),
    progress: Callable[[Event], None] = lambda event: None,
    executor: ExecutorFactory | None = None,
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
        ``html`` and/or ``pdf``. Outputs of a format not asked for are left as they are.
    chromium
        The Chromium executable that prints PDFs (the caller finds it, see
        :mod:`cxtradeoff.browser`); needed when ``formats`` has ``pdf``.
    wait_s
        How long to wait for another build holding the lock on ``out_dir``.
    keep
        Dated archives of past builds kept under ``out_dir/archive`` (0: none).
    parameter_checks
        Domain checks of the reports' parameters (see :func:`config.validate`), run on
        the reports to build before any kernel starts.
    progress
        Called with an :class:`Event` at each step; the command line displays them.
    executor
        Where the reports run (:mod:`cxtradeoff.pipeline.run`); warm kernels in this
        process when None (:class:`~cxtradeoff.pipeline.executors.LocalExecutor`).

    Raises
    ------
    ConfigError
        An unknown name in ``only``, or a problem found by ``parameter_checks``.
    BrowserNotFoundError
        PDFs were asked for and ``chromium`` is None.
    BuildLockedError
        Another build still held the lock after ``wait_s`` seconds.
    OutputError
        ``out_dir`` cannot be written (a file, read-only, full); what was committed
        before stays consistent, nothing half-written is left.
    """
    selected = plan.select(config, list(only))  # unknown names fail before anything is written
    if "pdf" in formats and chromium is None:
        raise BrowserNotFoundError("PDFs were asked for and no Chromium was given to print them")
    out_dir = _output_folder(out_dir)
    options = _Options(jobs=jobs or os.cpu_count() or 1, force=force, formats=formats,
                       chromium=chromium, keep=keep, verbose=verbose,
                       parameter_checks=parameter_checks, progress=progress,
                       executor=executor)  # fmt: skip
    with _locked(out_dir, wait_s):
        result = BuildOutcome(build_id=_new_build_id(), out_dir=out_dir)
        result.warnings += finish.recover(out_dir)
        clean_stale_sockets()
        return _build_locked(config, result, selected=selected, options=options)


@dataclass(frozen=True)
class _Options:
    """How :func:`build` was asked to build."""

    jobs: int
    force: bool
    formats: tuple[str, ...]
    chromium: str | None
    keep: int
    verbose: bool
    parameter_checks: Sequence[ParameterCheck]
    progress: Callable[[Event], None]
    executor: ExecutorFactory | None = None


def _output_folder(out_dir: Path) -> Path:
    out_dir = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(out_dir, "it is a file, not a folder (--out names the output folder)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError.from_os_error(out_dir, exc) from None
    return out_dir


@contextmanager
def _locked(out_dir: Path, wait_s: float) -> Iterator[None]:
    """Hold the build lock of ``out_dir`` (one build at a time per output folder)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(out_dir / LOCK_NAME))
    try:
        lock.acquire(timeout=wait_s)
    except Timeout:
        raise BuildLockedError(
            f"another build is running in {out_dir} (lock {out_dir / LOCK_NAME}); "
            f"waited {wait_s:g} s. Try again later or pass --wait SECONDS."
        ) from None
    except OSError as exc:
        raise OutputError.from_os_error(out_dir / LOCK_NAME, exc) from None
    try:
        yield
    finally:
        lock.release()


def _new_build_id() -> str:
    """When the build started, to the microsecond, and four random bytes.

    Ids sort as the builds started: archives are pruned by name, and builds of a small
    report set can start several times within one second.

    >>> build_id = _new_build_id()  # 20261127T170232.002018Z-391a12c5
    >>> len(build_id), build_id[8], build_id[15], build_id[22:24]
    (32, 'T', '.', 'Z-')
    """
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + os.urandom(4).hex()


def _build_locked(
    config: BuildConfig, result: BuildOutcome, *, selected: list[ReportSpec], options: _Options
) -> BuildOutcome:
    """The build's steps, under its lock: plan, check, run and commit each report, archive."""
    previous, warning = finish.read_previous(result.out_dir)
    result.warnings += [warning] if warning else []
    the_plan, inputs = _plan(config, result, selected, previous, options)
    result.input_problems = validate(
        config, the_plan.todo, parameter_checks=options.parameter_checks
    )
    options.progress(Event("plan", "", total=len(the_plan.todo)))
    if not the_plan.todo:
        for outcome in result.outcomes:
            options.progress(Event("skip", outcome.name, status="up-to-date"))
        return result
    finisher = _finisher(config, result, previous, options)
    try:
        _run(result, the_plan, inputs, finisher, options)
    finally:
        result.wrote = finisher.wrote
    order = finisher.order
    result.outcomes.sort(key=lambda o: order.index(o.name))
    _archive(result, finisher, keep=options.keep)
    return result


def _plan(
    config: BuildConfig,
    result: BuildOutcome,
    selected: list[ReportSpec],
    previous: Manifest | None,
    options: _Options,
) -> tuple[plan.Plan, dict[str, dict[str, str]]]:
    """Hash the inputs and decide (:func:`plan.make_plan`); the up-to-date are outcomes."""
    shared = shared_inputs()
    inputs = {s.name: report_inputs(s, root=config.root, shared=shared) for s in selected}
    existing = frozenset(p.name for p in result.out_dir.iterdir() if p.is_file())
    the_plan = plan.make_plan(selected, inputs=inputs, previous=finish.previous_reports(previous),
                              existing=existing, formats=options.formats, force=options.force)  # fmt: skip
    result.outcomes += [ReportOutcome(n, "up-to-date") for n in the_plan.up_to_date]
    return the_plan, inputs


def _finisher(
    config: BuildConfig, result: BuildOutcome, previous: Manifest | None, options: _Options
) -> finish.Finisher:
    """What commits each report: this build's provenance and the entries it starts from."""
    kept = previous.reports if previous else {}
    return finish.Finisher(
        out_dir=result.out_dir, root=config.root, build_id=result.build_id,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        config=relative_name(config.path, config.root), order=[r.name for r in config.reports],
        formats=options.formats, commit=git_commit(config.root), versions=package_versions(),
        entries={k: v for k, v in kept.items() if k in config.by_name()},
    )  # fmt: skip


def _run(
    result: BuildOutcome,
    the_plan: plan.Plan,
    inputs: dict[str, dict[str, str]],
    finisher: finish.Finisher,
    options: _Options,
) -> None:
    """Run the reports to build, committing each as it ends; those an unusable input stops
    are recorded without running."""
    report = _Reporter(finisher, result, options.progress)
    done = dict.fromkeys(the_plan.up_to_date, "ok")
    todo = report.blocked(the_plan.todo, result.input_problems, done)
    runner = Runner(
        todo, keys=the_plan.keys, inputs=inputs, out_dir=result.out_dir, jobs=options.jobs,
        formats=options.formats, verbose=options.verbose, done=done, chromium=options.chromium,
        progress=options.progress, skip=report.skipped,
        finish=lambda job, staged, error: report.ended(job, staged, error, runner.browser_version()),
        executor=options.executor,
    )  # fmt: skip
    try:
        runner.run()
    finally:
        result.warnings += runner.notes


def _archive(result: BuildOutcome, finisher: finish.Finisher, *, keep: int) -> None:
    """A dated copy of what this build left; a failure to write it is a warning."""
    if keep > 0 and finisher.wrote:
        try:
            finish.archive_build(result.out_dir, build_id=result.build_id,
                                 manifest=finisher.manifest(), keep=keep)  # fmt: skip
        except OutputError as exc:
            result.warnings.append(f"no archive of this build: {exc}")


class _Reporter:
    """Turns each report's end into its commit, its outcome and a progress event."""

    def __init__(
        self, finisher: finish.Finisher, result: BuildOutcome, progress: Callable[[Event], None]
    ) -> None:
        self.finisher, self.result, self.progress = finisher, result, progress

    def _record(self, outcome: ReportOutcome) -> str:
        self.result.outcomes.append(outcome)
        self.progress(Event("done", outcome.name, status=outcome.status,
                            duration_s=outcome.duration_s, message=outcome.error or ""))  # fmt: skip
        return outcome.status

    def ended(
        self, job: Job, staged: Staged | None, error: BaseException | None, browser: str | None
    ) -> str:
        if browser:
            self.finisher.versions["chromium"] = browser
        if error is None and staged is not None:
            return self._record(self.finisher.succeeded(job, staged))
        return self._record(self.finisher.failed(job, error))  # the others go on

    def skipped(self, spec: ReportSpec, failed: list[str]) -> None:
        message = f"not built: it reads {', '.join(failed)}, which failed"
        self._record(self.finisher.skipped(spec, message))

    def blocked(
        self, todo: list[ReportSpec], problems: list[InputProblem], done: dict[str, str]
    ) -> list[ReportSpec]:
        """Record the reports an unusable input stops; the others, to run."""
        stopped = {name: p for p in problems for name in p.reports}
        for problem in problems:
            self.finisher.log(problem.source, problem.message)
        for spec in todo:
            if spec.name in stopped:
                done[spec.name] = self._record(self.finisher.blocked(spec, stopped[spec.name]))
        return [s for s in todo if s.name not in stopped]
