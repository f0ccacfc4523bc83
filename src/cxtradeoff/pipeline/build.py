"""Build every report of the configuration: incremental, parallel, and failure-safe.

A build is a short sequence of steps, each in a module of its own:

1. **plan** (:mod:`~cxtradeoff.pipeline.plan`, pure): select the reports, hash their
   inputs, and decide which are up to date and in which order the others start;
2. **check**: the caller's domain checks of the parameters (:func:`config.validate`),
   before any kernel starts;
3. **run** (:mod:`~cxtradeoff.pipeline.run`): notebooks in warm kernels, HTML, PDFs, each
   report staged aside;
4. **finish** (:mod:`~cxtradeoff.pipeline.finish`): each report moved into place as it
   ends, then the manifest, the landing page and a dated archive.

A report is rebuilt only when the hash of its inputs changed (notebook, declared data
files, package source, lock file, parameters, formats) or a report it reads was rebuilt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cxtradeoff.errors import BuildLockedError
from cxtradeoff.pipeline import finish, plan
from cxtradeoff.pipeline.config import BuildConfig, ParameterCheck, ReportSpec, validate
from cxtradeoff.pipeline.events import BuildOutcome, Event, ReportOutcome
from cxtradeoff.pipeline.inputs import (
    git_commit,
    package_versions,
    relative_name,
    report_inputs,
    shared_inputs,
)
from cxtradeoff.pipeline.run import Job, Runner, Staged

LOCK_NAME = ".build.lock"


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
    parameter_checks: Sequence[ParameterCheck] = (),
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
    parameter_checks
        Domain checks of the reports' parameters (see :func:`config.validate`), run on
        the reports to build before any kernel starts.
    progress
        Called with an :class:`Event` at each step; the command line displays them.

    Raises
    ------
    ConfigError
        An unknown name in ``only``, or a problem found by ``parameter_checks``.
    BuildLockedError
        Another build still held the lock after ``wait_s`` seconds.
    """
    from filelock import FileLock, Timeout

    selected = plan.select(config, list(only))  # unknown names fail before anything is written
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
        finish.clean_stale(out_dir)
        return _build_locked(
            config, out_dir=out_dir, selected=selected, jobs=jobs or os.cpu_count() or 1,
            force=force, formats=formats, keep=keep, verbose=verbose,
            parameter_checks=parameter_checks, progress=progress,
        )  # fmt: skip
    finally:
        lock.release()


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
    parameter_checks: Sequence[ParameterCheck],
    progress: Callable[[Event], None],
) -> BuildOutcome:
    now = datetime.now(UTC)
    build_id = now.strftime("%Y%m%dT%H%M%SZ") + "-" + os.urandom(4).hex()
    result = BuildOutcome(build_id=build_id, out_dir=out_dir)
    previous, warning = finish.read_previous(out_dir)
    if warning:
        result.warnings.append(warning)

    # plan
    shared = shared_inputs()
    inputs = {s.name: report_inputs(s, root=config.root, shared=shared) for s in selected}
    existing = frozenset(p.name for p in out_dir.iterdir() if p.is_file())
    the_plan = plan.make_plan(selected, inputs=inputs, previous=finish.previous_reports(previous),
                              existing=existing, formats=formats, force=force)  # fmt: skip
    result.outcomes += [ReportOutcome(n, "up-to-date") for n in the_plan.up_to_date]

    # check
    validate(config, the_plan.todo, parameter_checks=parameter_checks)
    progress(Event("plan", "", total=len(the_plan.todo)))
    if not the_plan.todo:
        for outcome in result.outcomes:
            progress(Event("skip", outcome.name, status="up-to-date"))
        return result

    # run, finishing each report as it ends
    finisher = finish.Finisher(
        out_dir=out_dir, root=config.root, build_id=build_id, formats=formats,
        commit=git_commit(config.root), versions=package_versions(),
        entries={k: v for k, v in (previous.reports if previous else {}).items()
                 if k in config.by_name()},
    )  # fmt: skip
    runner = Runner(
        the_plan.todo, keys=the_plan.keys, inputs=inputs, out_dir=out_dir, jobs=jobs,
        formats=formats, verbose=verbose, done=dict.fromkeys(the_plan.up_to_date, "ok"),
        finish=lambda job, staged, error: _report_ended(finisher, result, progress, job, staged, error),
        skip=lambda spec, failed: _report_skipped(finisher, result, progress, spec, failed),
        progress=progress,
    )  # fmt: skip
    runner.run()
    if runner.browser_version is not None:
        finisher.versions["chromium"] = runner.browser_version

    # finish the build
    order = [r.name for r in config.reports]
    result.outcomes.sort(key=lambda o: order.index(o.name))
    manifest = finisher.manifest(built_at=now.isoformat(timespec="seconds"),
                                 config=relative_name(config.path, config.root), order=order)  # fmt: skip
    finish.write_manifest_and_index(out_dir, manifest)
    result.wrote = True
    if keep > 0:
        finish.archive_build(out_dir, build_id=build_id, manifest=manifest, keep=keep)
    return result


def _report_ended(
    finisher: finish.Finisher,
    result: BuildOutcome,
    progress: Callable[[Event], None],
    job: Job,
    staged: Staged | None,
    error: BaseException | None,
) -> str:
    if error is None and staged is not None:
        outcome = finisher.succeeded(job, staged)
    else:  # the report failed; the others go on
        outcome = finisher.failed(job, error)
    result.outcomes.append(outcome)
    progress(Event("done", outcome.name, status=outcome.status,
                   duration_s=outcome.duration_s, message=outcome.error or ""))  # fmt: skip
    return outcome.status


def _report_skipped(
    finisher: finish.Finisher,
    result: BuildOutcome,
    progress: Callable[[Event], None],
    spec: ReportSpec,
    failed: list[str],
) -> None:
    message = f"not built: it reads {', '.join(failed)}, which failed"
    result.outcomes.append(finisher.skipped(spec, message))
    progress(Event("done", spec.name, status="skipped", message=message))
