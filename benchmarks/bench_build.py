"""Benchmark: building the default report set by hand versus ``cxtradeoff build``.

(a) by hand, report after report, the way a user would without the pipeline: the papermill
    command line, then ``jupyter nbconvert --to html --no-input``, then a headless Chromium
    print (``chromium --headless --print-to-pdf``);
(b) ``cxtradeoff build --force`` (parallel kernels, one browser kept open);
(c) ``cxtradeoff build`` again with nothing to do.

All three run in this one command on the same machine, into temporary folders, with the
same parameters (``reports.yaml``), and the ratios are printed. Run:

    .venv/bin/python benchmarks/bench_build.py [--draws N] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cxtradeoff.browser import require_chromium
from cxtradeoff.paths import REPORTS_CONFIG
from cxtradeoff.pipeline.config import load_config
from cxtradeoff.pipeline.export import CHROMIUM_ARGS

BIN = Path(sys.executable).parent


def by_hand(out: Path, *, draws: int | None) -> float:
    """Papermill CLI, nbconvert CLI and a Chromium print, one report after the other."""
    config = load_config(REPORTS_CONFIG, overrides={"draws": draws} if draws else None)
    chromium = require_chromium()
    start = time.perf_counter()
    for spec in config.reports:
        params = dict(spec.parameters)
        if spec.writes_results:
            params["results_path"] = str(out / f"{spec.name}.results.json")
        if spec.reads_results:
            params["results_files"] = [str(out / f"{d}.results.json") for d in spec.depends_on]
        executed = out / f"{spec.name}.ipynb"
        subprocess.run(
            [str(BIN / "papermill"), str(spec.notebook), str(executed), "-k", "cxtradeoff",
             "--cwd", str(spec.notebook.parent), "-y", json.dumps(params), "--no-progress-bar"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
            check=True, capture_output=True,
        )  # fmt: skip
        html = executed.with_suffix(".html")
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [chromium, "--headless", *CHROMIUM_ARGS, f"--user-data-dir={profile}",
                 "--no-pdf-header-footer", f"--print-to-pdf={executed.with_suffix('.pdf')}",
                 html.as_uri()],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
    return time.perf_counter() - start


def pipeline(out: Path, *args: str, draws: int | None, jobs: int | None) -> float:
    cmd = [str(BIN / "cxtradeoff"), "build", "--out", str(out), "--keep", "0", *args]
    if draws:
        cmd += ["--param", f"draws={draws}"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--draws", type=int, default=None, help="Monte Carlo draws (default: reports.yaml)"
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="--jobs for the pipeline (default: cores)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of (a) and (b), alternating; best kept"
    )
    args = parser.parse_args()
    n_reports = len(load_config(REPORTS_CONFIG).reports)
    root = Path(tempfile.mkdtemp(prefix="cx-bench-"))
    times_a, times_b = [], []
    try:
        for i in range(max(1, args.repeat)):
            (root / f"a{i}").mkdir()
            times_a.append(by_hand(root / f"a{i}", draws=args.draws))
            times_b.append(pipeline(root / "b", "--force", draws=args.draws, jobs=args.jobs))
        t_c = pipeline(root / "b", draws=args.draws, jobs=args.jobs)
        t_a, t_b = min(times_a), min(times_b)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"default report set: {n_reports} reports, {os.cpu_count()} cores, "
          f"draws={args.draws or 'reports.yaml'}")  # fmt: skip
    if len(times_a) > 1:
        print(
            "runs (a): "
            + ", ".join(f"{t:.2f}" for t in times_a)
            + " s; runs (b): "
            + ", ".join(f"{t:.2f}" for t in times_b)
            + " s; best of each below"
        )
    print(f"(a) by hand (papermill CLI + nbconvert CLI + chromium print): {t_a:8.2f} s")
    print(f"(b) cxtradeoff build --force:                                {t_b:8.2f} s")
    print(f"(c) cxtradeoff build, nothing to do:                         {t_c:8.2f} s")
    print(f"ratio (a)/(b): {t_a / t_b:6.2f}x   (goal: at least 3x)")
    print(f"ratio (a)/(c): {t_a / t_c:6.0f}x   no-op under 1 s: {'yes' if t_c < 1 else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
