"""``cxtradeoff build``: rebuild every report that needs it (what ``make report`` runs).

Exit status: 0 all reports built or up to date; 1 a report failed (the others are
built and the last good copy of the failed one stays); 2 the configuration, a data file
or the command line is wrong (reports that do not read a broken data file are still
built); 3 PDFs were asked for and no Chromium exists; 73 the output folder cannot be
written (read-only, a file, disk full: named in the message); 75 another build held the
lock for longer than ``--wait``; 130 interrupted; 143 terminated (SIGTERM). Whatever the
status, every report's files, its manifest entry and its landing-page row describe the
same build, and nothing half-written is left.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from cxtradeoff.errors import ConfigError, Terminated
from cxtradeoff.paths import REPORTS_CONFIG, REPORTS_DIR


def register(sub: Any) -> None:
    p = sub.add_parser(
        "build",
        help="build the reports (HTML, PDF, landing page), only those whose inputs changed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config", type=Path, default=REPORTS_CONFIG, help="report configuration (YAML)"
    )
    p.add_argument("--only", nargs="+", default=[], metavar="NAME", help="build only these reports")
    p.add_argument(
        "--jobs", "-j", type=int, default=None, help="notebooks run at once (default: cores)"
    )
    p.add_argument("--force", action="store_true", help="rebuild every report whatever its inputs")
    p.add_argument(
        "--formats",
        default=None,
        help="comma-separated: html,pdf (default both); files of a format not asked for are kept",
    )
    p.add_argument("--out", type=Path, default=REPORTS_DIR, help="output folder (default reports/)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter on every report whose notebook declares it, read as the type "
        "the notebook declares (e.g. draws=2000; draws: 1,000 to 1,000,000)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another build to finish (default: do not wait)",
    )
    p.add_argument(
        "--keep",
        type=int,
        default=10,
        metavar="N",
        help="dated archives of past builds to keep under OUT/archive (0: none)",
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help="where reports run: local (warm kernels in this process, the default), dask (a "
        "running Dask cluster, --scheduler) or dask-local (a Dask cluster of --workers "
        "processes started for this build); see docs/scaling.md",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="the Dask scheduler of --executor dask: its address (tcp://10.0.0.5:8786) or "
        "the file 'dask scheduler --scheduler-file FILE' wrote",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes of --executor dask-local (default: --jobs, else cores)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="show per-cell progress and each report's "
        "seconds by phase (kernel, cells, figures, html, pdf)",
    )  # fmt: skip
    p.set_defaults(func=run)


#: the values of --executor
EXECUTORS = ("local", "dask", "dask-local")


def _executor(args: argparse.Namespace, root: Path) -> Any:
    """The executor factory the options ask for: None for the local one (nothing of Dask
    is imported then)."""
    if args.scheduler is not None and args.executor != "dask":
        raise ConfigError("--scheduler: only with --executor dask")
    if args.workers is not None and args.executor != "dask-local":
        raise ConfigError(
            "--workers: only with --executor dask-local (the local executor has --jobs)"
        )
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: expected a number of processes >= 1")
    if args.executor == "local":
        return None
    if args.executor == "dask" and not args.scheduler:
        raise ConfigError(
            "--executor dask: give the scheduler's address with --scheduler ADDRESS "
            "(or use --executor dask-local for a cluster on this machine)"
        )
    missing = [name for name in ("dask", "distributed") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"--executor {args.executor}: needs the packages dask and distributed (pinned in "
            f"requirements.lock; run make setup); missing: {', '.join(missing)}"
        )
    from cxtradeoff.browser import find_chromium

    workers = args.workers or args.jobs or os.cpu_count() or 1

    def make(settings: Any) -> Any:  # Dask is imported only when there is work to do
        from cxtradeoff.pipeline.dask_executor import DaskExecutor

        return DaskExecutor(settings, root=root, scheduler=args.scheduler, workers=workers,
                            locate_chromium=find_chromium)  # fmt: skip

    return make


def _parse_params(items: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs; each value is read later as the type its notebook declares."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--param {item!r}: expected NAME=VALUE")
        params[name.strip()] = value
    return params


def _parse_formats(value: str | None) -> tuple[tuple[str, ...], bool]:
    if value is None:
        return ("html", "pdf"), False
    formats = tuple(f.strip().lower() for f in value.split(",") if f.strip())
    bad = [f for f in formats if f not in {"html", "pdf"}]
    if bad or not formats:
        raise ConfigError(f"--formats {value!r}: expected html, pdf or html,pdf")
    return formats, True


class Display:
    """Progress on a terminal (a bar), plain time-stamped lines otherwise (cron, CI)."""

    def __init__(self, stream: TextIO, *, verbose: bool = False) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.verbose = verbose
        self.bar: Any = None

    def __call__(self, event: Any) -> None:
        if event.kind == "plan":
            if self.tty and event.total:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=event.total,
                    unit="report",
                    file=self.stream,
                    leave=True,
                    disable=False,
                    ncols=self._size()[0],
                    nrows=self._size()[1],
                )
            else:
                self.line(f"{event.total} report(s) to build")
            return
        if event.kind == "phases" and not self.verbose:
            return
        text = {
            "start": f"{event.report}: started",
            "done": f"{event.report}: {event.status} in {event.duration_s:.1f} s"
            + (f" - {event.message}" if event.message else ""),
            "skip": f"{event.report}: up to date",
            "cell": f"{event.report}: {event.message}",
            "note": f"{event.report}: {event.message}",
            "phases": f"{event.report}: {phases_text(event.phases)}",
        }.get(event.kind)
        if text is None:
            return
        if self.bar is not None:
            if event.kind == "done":
                self.bar.update(1)
            self.bar.set_postfix_str(text[:60])
            if event.kind in {"cell", "note", "phases"} or (
                event.kind == "done" and event.status != "ok"
            ):
                self.bar.write(text, file=self.stream)
        else:
            self.line(text)

    def _size(self) -> tuple[int, int]:
        """The terminal's columns and lines; 100 x 24 when it reports none (a bare pty)."""
        try:
            size = os.get_terminal_size(self.stream.fileno())
            columns, lines = size.columns, size.lines
        except (OSError, ValueError, AttributeError):
            columns, lines = 0, 0
        return (columns if columns > 20 else 100, lines if lines > 2 else 24)

    def line(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def phases_text(phases: dict[str, float]) -> str:
    """Where a report's seconds went, e.g. ``kernel 0.4 s, cells 1.2 s, figures 1.0 s,
    html 0.2 s, pdf 0.7 s``."""
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())


def summary_table(outcome: Any) -> str:
    """A plain-text table: report, status, duration, and where to look when it failed."""
    rows = [("report", "status", "duration")]
    rows += [
        (o.name, o.status, f"{o.duration_s:.1f} s" if o.duration_s else "-")
        for o in outcome.outcomes
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for o in outcome.failed:
        lines.append(f"{o.name}: {o.error}")
        if o.failed_notebook:
            lines.append(f"{o.name}: executed notebook with the error kept at {o.failed_notebook}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from cxtradeoff.browser import find_chromium
    from cxtradeoff.pipeline.build import build
    from cxtradeoff.pipeline.config import load_config
    from cxtradeoff.report_checks import model_parameter_problems

    formats, explicit = _parse_formats(args.formats)
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: expected a number of notebooks >= 1")
    if args.keep < 0:
        raise ConfigError(f"--keep {args.keep}: expected 0 or more")
    if args.wait < 0:
        raise ConfigError(f"--wait {args.wait:g}: expected 0 or more seconds")
    config = load_config(args.config, overrides=_parse_params(args.param))
    executor = _executor(args, config.root)
    chromium = find_chromium() if "pdf" in formats else None
    if "pdf" in formats and chromium is None:
        if explicit:
            from cxtradeoff.browser import require_chromium

            require_chromium()  # raises with what to install
        print(
            "cxtradeoff build: warning: no Chromium found, so PDFs are skipped and HTML built. "
            "Install Debian's 'chromium' package, run 'python -m playwright install chromium', "
            "or set CXTRADEOFF_CHROMIUM.",
            file=sys.stderr,
        )
        formats = tuple(f for f in formats if f != "pdf") or ("html",)
    display = Display(sys.stderr, verbose=args.verbose)
    try:
        with _terminate_as_interrupt():
            outcome = build(
                config,
                out_dir=args.out,
                only=args.only,
                jobs=args.jobs,
                force=args.force,
                formats=formats,
                chromium=chromium,
                wait_s=args.wait,
                keep=args.keep,
                verbose=args.verbose,
                parameter_checks=[model_parameter_problems],
                progress=display,
                executor=executor,
            )
    finally:
        display.close()
    for warning in outcome.warnings:
        print(f"cxtradeoff build: warning: {warning}", file=sys.stderr)
    for problem in outcome.input_problems:  # once each, however many reports read the file
        print(f"cxtradeoff build: error: {problem}", file=sys.stderr)
    if not outcome.wrote:
        print(f"Nothing to do: every report in {outcome.out_dir} is up to date.")
        return 0
    print(summary_table(outcome))
    print(f"Reports in {outcome.out_dir}; landing page {outcome.out_dir / 'index.html'}")
    return outcome.exit_code


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the build) stops it as Ctrl-C does: by an exception,
    so that kernels are shut down and staged files removed on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
