"""Benchmark: ``cxtradeoff build`` against the hand-typed chain, its memory, and portfolios.

Three measurements, each run by this one command on the same machine, into temporary
folders, with the ratios printed (``--what`` picks some):

``speed``
    The default report set (``reports.yaml``) built cold:
    (a) by hand, report after report, the way a user would without the pipeline: the
        papermill command line, then ``jupyter nbconvert --to html --no-input``, then a
        headless Chromium print (``chromium --headless --print-to-pdf``);
    (b) ``cxtradeoff build --force`` into a new folder (parallel warm kernels, one browser);
    (c) ``cxtradeoff build`` again with nothing to do.
    Where the seconds go, per report: for (a) each command; for (b) the phases the build
    reports with ``-v`` (``kernel``: starting or resetting the kernel and papermill's own
    work; ``cells`` and ``figures``: the notebook's cells, those that draw a figure apart;
    ``html``: the export; ``pdf``: the print).
``memory``
    Peak memory of one report built with its PDF (``--only telecom --force``), summed over
    the build's whole process tree (proportional set size, ``Pss`` of
    ``/proc/PID/smaps_rollup``, sampled every 20 ms), and what each kind of process held at
    that peak. PSS splits a page shared by several processes among them: pages the build
    shares with processes outside its tree (another Chromium on the machine) count in part.
``portfolio``
    A synthetic portfolio of ``--units`` units (``benchmarks/make_portfolio.py``) built cold
    with the local executor (``--jobs 2``) and with ``--executor dask-local --workers 2``:
    reports per minute of each and their ratio; then the no-op rebuild of the portfolio.

Run::

    .venv/bin/python benchmarks/bench_build.py                    # all three
    .venv/bin/python benchmarks/bench_build.py --what speed --draws 2000
    .venv/bin/python benchmarks/bench_build.py --what portfolio --units 100 --draws 1000
    .venv/bin/python benchmarks/bench_build.py --what speed,memory --baseline main

``--baseline REV`` also builds with the project at a git revision (extracted from git into
the temporary folder, run with this environment's packages), in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from cxtradeoff.browser import require_chromium
from cxtradeoff.paths import REPORTS_CONFIG, ROOT
from cxtradeoff.pipeline.config import load_config
from cxtradeoff.pipeline.export import CHROMIUM_ARGS

BIN = Path(sys.executable).parent
PHASES = ("kernel", "cells", "figures", "html", "pdf")
_PHASES_RE = re.compile(r"\] ([\w.-]+): (kernel [\d.]+ s.*)$")


# --------------------------------------------------------------------------- speed


def by_hand(out: Path, *, draws: int | None) -> tuple[float, dict[str, dict[str, float]]]:
    """Papermill CLI, nbconvert CLI and a Chromium print, one report after the other;
    the total and each report's seconds by command."""
    config = load_config(REPORTS_CONFIG, overrides={"draws": draws} if draws else None)
    chromium = require_chromium()
    steps: dict[str, dict[str, float]] = {}
    start = time.perf_counter()
    for spec in config.reports:
        params = dict(spec.parameters)
        if spec.writes_results:
            params["results_path"] = str(out / f"{spec.name}.results.json")
        if spec.reads_results:
            params["results_files"] = [str(out / f"{d}.results.json") for d in spec.depends_on]
        executed = out / f"{spec.name}.ipynb"
        html = executed.with_suffix(".html")
        t0 = time.perf_counter()
        subprocess.run(
            [str(BIN / "papermill"), str(spec.notebook), str(executed), "-k", "cxtradeoff",
             "--cwd", str(spec.notebook.parent), "-y", json.dumps(params), "--no-progress-bar"],
            check=True, capture_output=True,
        )  # fmt: skip
        t1 = time.perf_counter()
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
            check=True, capture_output=True,
        )  # fmt: skip
        t2 = time.perf_counter()
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [chromium, "--headless", *CHROMIUM_ARGS, f"--user-data-dir={profile}",
                 "--no-pdf-header-footer", f"--print-to-pdf={executed.with_suffix('.pdf')}",
                 html.as_uri()],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        steps[spec.name] = {"papermill": t1 - t0, "nbconvert": t2 - t1,
                            "chromium": time.perf_counter() - t2}  # fmt: skip
    return time.perf_counter() - start, steps


#: the CPU seconds of the process tree of the last :func:`cxtradeoff` run
LAST_CPU = [0.0]
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def run_measured(
    command: Sequence[str], env: dict[str, str], *, every_s: float = 0.1
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``command``; what it did and the CPU seconds of its whole process tree, each
    process's own time as last seen while it ran (polled: what a process spends in its
    last tenth of a second is missed). Counting what parents reap would miss the browser's
    processes, which Chromium and its drivers do not all wait for."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)  # fmt: skip
    seen: dict[int, float] = {}
    out: list[str] = []

    def drain() -> None:
        out.extend(proc.communicate())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    while reader.is_alive():
        for pid in _tree(proc.pid):
            cpu = _cpu_of(pid)
            if cpu is not None:
                seen[pid] = max(cpu, seen.get(pid, 0.0))
        time.sleep(every_s)
    reader.join()
    done = subprocess.CompletedProcess(command, proc.returncode or 0, out[0], out[1])
    return done, sum(seen.values())


def build_command(checkout: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """How to run ``cxtradeoff build``: this project's, or that of another ``checkout``
    (its ``src`` first on the path; same packages), and the environment to run it in."""
    if checkout is None:
        return [str(BIN / "cxtradeoff"), "build"], dict(os.environ)
    env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "CXTRADEOFF_ROOT": str(checkout)}
    return [sys.executable, "-m", "cxtradeoff.cli", "build"], env


def baseline_checkout(revision: str, root: Path) -> Path:
    """The project at a git ``revision`` (e.g. ``main``), extracted under ``root``."""
    target = root / f"baseline-{revision.replace('/', '-')}"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def cxtradeoff(
    out: Path, *args: str, config: Path = REPORTS_CONFIG, checkout: Path | None = None
) -> tuple[float, str]:
    """``cxtradeoff build`` in a process of its own: seconds and what it wrote on stderr."""
    program, env = build_command(checkout)
    if checkout is not None and config == REPORTS_CONFIG:
        config = checkout / "reports.yaml"
    command = [*program, "--config", str(config), "--out", str(out), "--keep", "0", *args]
    start = time.perf_counter()
    run, LAST_CPU[0] = run_measured(command, env)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({run.returncode}):\n{run.stdout}{run.stderr}"
        )
    return seconds, run.stderr


def phases_of(stderr: str) -> dict[str, dict[str, float]]:
    """Each report's phases from the lines ``-v`` prints (``name: kernel 0.4 s, ...``)."""
    found: dict[str, dict[str, float]] = {}
    for line in stderr.splitlines():
        match = _PHASES_RE.search(line)
        if match:
            found[match.group(1)] = {
                part.split()[0]: float(part.split()[1]) for part in match.group(2).split(", ")
            }
    return found


def _table(title: str, rows: dict[str, dict[str, float]], columns: Sequence[str]) -> str:
    width = max(len(n) for n in [*rows, "report"])
    lines = [title, f"  {'report':<{width}}  " + "".join(f"{c:>10}" for c in [*columns, "total"])]
    totals = dict.fromkeys(columns, 0.0)
    for name, values in rows.items():
        cells = [values.get(c, 0.0) for c in columns]
        for c, v in zip(columns, cells, strict=True):
            totals[c] += v
        lines.append(f"  {name:<{width}}  " + "".join(f"{v:10.2f}" for v in [*cells, sum(cells)]))
    sums = [totals[c] for c in columns]
    lines.append(f"  {'sum':<{width}}  " + "".join(f"{v:10.2f}" for v in [*sums, sum(sums)]))
    return "\n".join(lines)


def bench_speed(
    root: Path, *, draws: int | None, jobs: int | None, repeat: int, baseline: Path | None
) -> None:
    extra = [*(["--param", f"draws={draws}"] if draws else []),
             *(["--jobs", str(jobs)] if jobs else [])]  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    n_reports = len(load_config(REPORTS_CONFIG).reports)
    times_a: list[float] = []
    times_b: list[float] = []
    cpu_b = 0.0
    steps_a: dict[str, dict[str, float]] = {}
    phases_b: dict[str, dict[str, float]] = {}
    for i in range(max(1, repeat)):
        (root / f"a{i}").mkdir()
        seconds, steps = by_hand(root / f"a{i}", draws=draws)
        times_a.append(seconds)
        steps_a = steps if seconds == min(times_a) else steps_a
        seconds, stderr = cxtradeoff(root / f"b{i}", "--force", "-v", *extra)
        cpu_b = LAST_CPU[0] if not times_b or seconds < min(times_b) else cpu_b
        times_b.append(seconds)
        phases_b = phases_of(stderr) if seconds == min(times_b) else phases_b
    t_c, _ = cxtradeoff(root / f"b{len(times_b) - 1}", *extra)
    t_0 = cxtradeoff(root / "base", "--force", *extra, checkout=baseline)[0] if baseline else None
    cpu_0 = LAST_CPU[0]
    t_a, t_b = min(times_a), min(times_b)
    print(f"== speed: the default report set, {n_reports} reports, {os.cpu_count()} cores, "
          f"draws={draws or 'reports.yaml'}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    if repeat > 1:
        print("runs (a): " + ", ".join(f"{t:.2f}" for t in times_a) + " s; runs (b): "
              + ", ".join(f"{t:.2f}" for t in times_b) + " s; best of each below")  # fmt: skip
    print(
        _table("(a) by hand, seconds per command:", steps_a, ("papermill", "nbconvert", "chromium"))
    )
    print(_table("(b) cxtradeoff build, seconds per phase (several reports at once: the sum "
                 "exceeds the wall time):", phases_b, PHASES))  # fmt: skip
    print(f"(a) by hand (papermill CLI + nbconvert CLI + chromium print): {t_a:8.2f} s")
    print(f"(b) cxtradeoff build --force, cold:                           {t_b:8.2f} s"
          f"   CPU of its process tree {cpu_b:6.1f} s")  # fmt: skip
    print(f"(c) cxtradeoff build, nothing to do:                          {t_c:8.2f} s")
    if t_0 is not None and baseline is not None:
        print(f"(b0) cxtradeoff build --force at {baseline.name}: {t_0:8.2f} s   "
              f"CPU {cpu_0:6.1f} s   ratio (a)/(b0): {t_a / t_0:6.2f}x")  # fmt: skip
    print(f"ratio (a)/(b): {t_a / t_b:6.2f}x   (goal: at least 5x)")
    print(f"ratio (a)/(c): {t_a / t_c:6.0f}x   no-op under 1 s: {'yes' if t_c < 1 else 'NO'}")


# --------------------------------------------------------------------------- memory


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, i = [root], 0
    while i < len(found):
        found += children.get(found[i], [])
        i += 1
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _kind(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    if "ipykernel" in command:
        return "kernel"
    if "chrom" in command:
        kind = next((a.split("=", 1)[1] for a in command.split() if a.startswith("--type=")), "")
        return f"chromium {kind or 'browser'}"
    if "playwright" in command or "/node " in command:
        return "playwright driver"
    return "cxtradeoff build"


def peak_pss(
    command: Sequence[str], *, every_s: float = 0.02, env: dict[str, str] | None = None
) -> tuple[float, dict[str, float], float]:
    """Run ``command``; the peak PSS (MB) of its process tree, by kind, and the seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak, parts = 0.0, {}
    while proc.poll() is None:
        sample: dict[str, float] = {}
        for pid in _tree(proc.pid):
            kind = _kind(pid)
            sample[kind] = sample.get(kind, 0.0) + _pss_kb(pid) / 1024
        total = sum(sample.values())
        if total > peak:
            peak, parts = total, sample
        time.sleep(every_s)
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return peak, parts, time.perf_counter() - start


def bench_memory(
    root: Path, *, draws: int | None, baseline: Path | None, repeat: int, report: str = "telecom"
) -> None:
    runs: list[tuple[str, Path | None]] = [("this checkout", None)]
    if baseline is not None:
        runs.append((f"baseline {baseline.name}", baseline))
    for label, checkout in runs:
        program, env = build_command(checkout)
        config = (checkout or ROOT) / "reports.yaml"
        command = [*program, "--config", str(config), "--out", str(root / "m"), "--keep", "0",
                   "--force", "--only", report, *(["--param", f"draws={draws}"] if draws else [])]  # fmt: skip
        peaks = [peak_pss(command, env=env) for _ in range(max(1, repeat))]
        peak, parts, seconds = max(peaks, key=lambda p: p[0])
        print(f"== memory ({label}): one report ({report}) with its PDF, {seconds:.1f} s, "
              f"draws={draws or 'reports.yaml'}")  # fmt: skip
        runs_text = f"; runs: {', '.join(f'{p[0]:.0f}' for p in peaks)} MB, highest shown"
        print(f"peak PSS of the whole process tree: {peak:6.0f} MB   (goal: under 600 MB)"
              + (runs_text if len(peaks) > 1 else ""))  # fmt: skip
        for kind, mb in sorted(parts.items(), key=lambda item: -item[1]):
            if mb >= 0.5:  # not a process that ended while it was sampled
                print(f"  {kind:<28} {mb:6.0f} MB")


# --------------------------------------------------------------------------- portfolio


def bench_portfolio(root: Path, *, units: int, draws: int | None, formats: str | None) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import make_portfolio

    profiles = make_portfolio.write_portfolio(units, seed=1, out=ROOT / "data" / "portfolios" /
                                              f"synthetic-{units}.csv")  # fmt: skip
    config = ROOT / f"reports-synthetic-{units}.yaml"
    config.write_text(make_portfolio.config_text(profiles, name="synthetic"), encoding="utf-8")
    extra = [*(["--param", f"draws={draws}"] if draws else []),
             *(["--formats", formats] if formats else [])]  # fmt: skip
    n = units + 1
    local_s, _ = cxtradeoff(root / "local", "--force", "--jobs", "2", *extra, config=config)
    dask_s, dask_err = cxtradeoff(root / "dask", "--force", "--executor", "dask-local",
                                  "--workers", "2", *extra, config=config)  # fmt: skip
    noop_local, _ = cxtradeoff(root / "local", "--jobs", "2", *extra, config=config)
    noop_dask, _ = cxtradeoff(root / "dask", "--executor", "dask-local", "--workers", "2", *extra,
                              config=config)  # fmt: skip
    rate_local, rate_dask = 60 * n / local_s, 60 * n / dask_s
    print(f"== portfolio: {units} synthetic units and the roll-up ({n} reports), "
          f"{os.cpu_count()} cores, draws={draws or 'the configuration'}, "
          f"formats={formats or 'html,pdf'}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(
        f"local executor, --jobs 2:                {local_s:8.1f} s  {rate_local:6.1f} reports/min"
    )
    print(f"--executor dask-local --workers 2:       {dask_s:8.1f} s  {rate_dask:6.1f} reports/min")
    print(
        f"throughput dask-local / local:           {rate_dask / rate_local:8.2f}x   (goal: at least 0.8x)"
    )
    print(f"no-op rebuild, local executor:           {noop_local:8.2f} s   (goal: under 2 s)")
    print(f"no-op rebuild, --executor dask-local:    {noop_dask:8.2f} s")
    if "lost" in dask_err:
        print("note: a worker was lost during the Dask build (see its log)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--what",
        default="speed,memory,portfolio",
        help="speed, memory, portfolio (comma-separated)",
    )
    parser.add_argument(
        "--draws", type=int, default=None, help="Monte Carlo draws (default: the configuration's)"
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="--jobs of the speed run (default: cores)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="speed: runs of (a) and (b), alternating; best kept"
    )
    parser.add_argument("--units", type=int, default=100, help="portfolio: number of units")
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="REV",
        help="speed and memory: also build with the project at this git revision (e.g. main)",
    )
    parser.add_argument(
        "--formats", default=None, help="portfolio: --formats of its builds (default html,pdf)"
    )
    args = parser.parse_args()
    what = {w.strip() for w in args.what.split(",")}
    root = Path(tempfile.mkdtemp(prefix="cx-bench-"))
    try:
        baseline = baseline_checkout(args.baseline, root) if args.baseline else None
        if "speed" in what:
            bench_speed(root / "speed", draws=args.draws, jobs=args.jobs, repeat=args.repeat,
                        baseline=baseline)  # fmt: skip
        if "memory" in what:
            (root / "memory").mkdir()
            bench_memory(root / "memory", draws=args.draws, baseline=baseline,
                         repeat=args.repeat)  # fmt: skip
        if "portfolio" in what:
            (root / "portfolio").mkdir()
            bench_portfolio(root / "portfolio", units=args.units, draws=args.draws,
                            formats=args.formats)  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
