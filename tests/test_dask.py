"""The Dask executor: reports as tasks on workers with warm kernels, the same results as the
local executor, a worker lost mid-task retried elsewhere, and no Dask on the default path."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import load_make_portfolio
from cxtradeoff.paths import ROOT

make_portfolio = load_make_portfolio()

DASK_MODULES = "sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))"


def _build(
    config: Path, out: Path, *args: str, timeout: float = 600, tmp: Path | None = None
) -> subprocess.CompletedProcess:
    """Run ``cxtradeoff build``; with ``tmp``, its workers' folders go there (``TMPDIR``)."""
    command = [sys.executable, "-m", "cxtradeoff.cli", "build", "--config", str(config),
               "--out", str(out), "--keep", "0", *args]  # fmt: skip
    env = None if tmp is None else _private_tmp(tmp)
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def _private_tmp(folder: Path) -> dict[str, str]:
    """The environment with ``TMPDIR`` at ``folder``: the workers this build starts keep their
    folders there, apart from other builds on the machine."""
    folder.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "TMPDIR": str(folder)}


# --------------------------------------------------------------------------- fast


def test_the_default_path_imports_nothing_of_dask() -> None:
    code = (
        "import sys\n"
        "import cxtradeoff.cli, cxtradeoff.commands.build, cxtradeoff.pipeline.build\n"
        "import cxtradeoff.pipeline.run, cxtradeoff.pipeline.executors\n"
        "from cxtradeoff.cli import build_parser\n"
        "args = build_parser().parse_args(['build', '--jobs', '2'])\n"
        "from cxtradeoff.commands.build import _executor\n"
        "assert _executor(args, None) is None\n"
        f"print({DASK_MODULES})\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_shipped_files_keep_the_project_layout_and_parameters_follow_them(tmp_path: Path) -> None:
    from cxtradeoff.pipeline.config import ReportSpec
    from cxtradeoff.pipeline.dask_executor import relocate, shipped_name

    root = tmp_path / "proj"
    outside = tmp_path / "elsewhere" / "b.csv"
    spec = ReportSpec(
        "r", root / "notebooks" / "n.ipynb", "R", inputs=[root / "data" / "a.csv", outside],
        parameters={"data_file": str(root / "data" / "a.csv"), "other": [str(outside)],
                    "profiles_path": "../data/a.csv", "n": 3},
    )  # fmt: skip
    assert shipped_name(root / "data" / "a.csv", root) == "data/a.csv"
    assert shipped_name(outside, root).startswith("_outside/")
    worker = tmp_path / "worker"
    local = relocate(spec, root, worker)
    assert local.notebook == worker / "notebooks" / "n.ipynb"
    assert local.inputs[0] == worker / "data" / "a.csv"
    assert local.parameters["data_file"] == str(worker / "data" / "a.csv")
    assert local.parameters["other"] == [str(worker / shipped_name(outside, root))]
    assert local.parameters["profiles_path"] == "../data/a.csv"  # relative: same layout
    assert (
        local.parameters["n"] == 3 and spec.parameters["data_file"] != local.parameters["data_file"]
    )


def test_the_worker_plugin_travels_without_its_state() -> None:
    from cxtradeoff.browser import find_chromium
    from cxtradeoff.pipeline.dask_executor import ReportWorkerPlugin

    plugin = ReportWorkerPlugin(chromium="/usr/bin/chromium", locate_chromium=find_chromium)
    copy = pickle.loads(pickle.dumps(plugin))
    assert copy.chromium == "/usr/bin/chromium" and copy.locate_chromium is find_chromium
    assert copy.slots == [] and copy.printer is None and copy.free.empty()


def test_errors_come_back_as_the_local_executor_raises_them(tmp_path: Path) -> None:
    from cxtradeoff.errors import OutputError, PrintError, RenderError
    from cxtradeoff.pipeline.dask_executor import _client_error, _error_info

    worker_stage = Path("/tmp/cxw-1-x/slot-0/stage")
    failed = _error_info(
        RenderError(f"n.ipynb: cell 3 failed (executed copy: {worker_stage}/r.ipynb)"), worker_stage
    )
    error = _client_error(failed, tmp_path, "tcp://w:1")
    assert type(error) is RenderError and str(error).endswith(
        f"(executed copy: {tmp_path}/r.ipynb)"
    )
    printed = _client_error(_error_info(PrintError("PDF not printed", detail="log"), worker_stage),
                            tmp_path, "tcp://w:1")  # fmt: skip
    assert isinstance(printed, PrintError) and printed.detail == "log"
    disk = _client_error(
        _error_info(OutputError("/x", "disk full"), worker_stage), tmp_path, "tcp://w:1"
    )
    assert type(disk) is RenderError  # the worker's disk: this report fails, the build goes on
    assert str(disk) == "on worker tcp://w:1: cannot write /x: disk full"
    other = _client_error(_error_info(KeyError("k"), worker_stage), tmp_path, "tcp://w:1")
    assert str(other) == "KeyError: 'k'"  # as the finisher words an unexpected error


def test_a_worker_with_another_package_refuses_the_report_by_name(tmp_path: Path) -> None:
    from cxtradeoff.pipeline.config import ReportSpec
    from cxtradeoff.pipeline.dask_executor import ReportTask, ReportWorkerPlugin, _fingerprint

    package_hash, versions = _fingerprint()
    plugin = ReportWorkerPlugin(chromium=None)
    plugin.address = "tcp://10.0.0.7:4000"
    task = ReportTask(spec=ReportSpec("r", tmp_path / "r.ipynb", "R"), key="k", inputs={},
                      started_at="", root=str(tmp_path), formats=("html",), subtitle="",
                      results={}, package_hash=package_hash, versions=versions)  # fmt: skip
    assert plugin._mismatch(task) is None
    older = {**versions, "pandas": "1.0.0"}
    message = plugin._mismatch(replace(task, versions=older))
    assert message is not None and "worker tcp://10.0.0.7:4000 runs another cxtradeoff" in message
    assert "pandas 1.0.0 here" in message and "requirements.lock" in message
    assert "package source differs" in str(plugin._mismatch(replace(task, package_hash="x")))
    result = plugin._run(None, replace(task, package_hash="x"), {})  # type: ignore[arg-type]
    assert result.error is not None and result.error.kind == "render" and result.files == {}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--executor", "dask"], "--executor dask: give the scheduler's address with --scheduler"),
        (["--workers", "2"], "--workers: only with --executor dask-local"),
        (["--scheduler", "tcp://h:8786"], "--scheduler: only with --executor dask"),
        (["--executor", "dask-local", "--workers", "0"], "--workers 0: expected a number"),
    ],
)
def test_executor_options_are_checked_before_anything_runs(
    args: list[str], expected: str, tmp_path: Path, capsys
) -> None:
    from cxtradeoff.cli import main

    assert main(["build", "--out", str(tmp_path / "out"), "--formats", "html", *args]) == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_a_default_build_imports_nothing_of_dask(tiny_project: Path) -> None:
    code = (
        "import sys\n"
        "from cxtradeoff.cli import main\n"
        f"code = main(['build', '--config', {str(tiny_project / 'reports.yaml')!r}, '--out', "
        f"{str(tiny_project / 'out')!r}, '--formats', 'html', '--only', 'rep-a'])\n"
        f"print('DASK', {DASK_MODULES})\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "DASK []" in run.stdout
    assert (tiny_project / "out" / "rep-a.html").is_file()


@pytest.fixture
def portfolio_project(tmp_path: Path) -> Path:
    """A project of two synthetic units and their roll-up (the real notebooks)."""
    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    (root / "data").mkdir()
    for name in ("02-savings-vs-loyalty.ipynb", "07-portfolio.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, root / "notebooks" / name)
    shutil.copy(ROOT / "data" / "service_rules.csv", root / "data")
    profiles = make_portfolio.write_portfolio(2, seed=2, out=root / "data" / "portfolio.csv")
    (root / "reports.yaml").write_text(make_portfolio.config_text(profiles, name="pf", root=root))
    return root


def _worker_folders(tmp: Path) -> list[Path]:
    """The private folders the workers of builds run with ``TMPDIR=tmp`` left behind."""
    return sorted(tmp.glob("cxw-*"))


@pytest.mark.slow
def test_a_portfolio_builds_the_same_results_on_a_local_dask_cluster(
    portfolio_project: Path, read_manifest
) -> None:
    from pypdf import PdfReader

    from cxtradeoff.contracts import load_results

    config = portfolio_project / "reports.yaml"
    local = _build(config, portfolio_project / "local", "--param", "draws=1000", "--formats",
                   "html", "--jobs", "2")  # fmt: skip
    assert local.returncode == 0, local.stdout + local.stderr
    tmp = portfolio_project / "tmp"
    dask = _build(config, portfolio_project / "dask", "--param", "draws=1000", "--executor",
                  "dask-local", "--workers", "2", tmp=tmp)  # fmt: skip
    assert dask.returncode == 0, dask.stdout + dask.stderr
    names = ["pf-unit-001", "pf-unit-002"]
    for name in names:  # the same results, byte for byte
        made_here = (portfolio_project / "local" / f"{name}.results.json").read_bytes()
        assert (portfolio_project / "dask" / f"{name}.results.json").read_bytes() == made_here
    manifest = read_manifest(portfolio_project, "dask")
    assert [e.status for e in manifest.reports.values()] == ["ok", "ok", "ok"]
    assert "chromium" in manifest.packages
    for name in [*names, "pf"]:  # each worker printed its PDFs
        assert len(PdfReader(portfolio_project / "dask" / f"{name}.pdf").pages) >= 1
    rollup = (portfolio_project / "dask" / "pf.html").read_text()
    for name in names:
        unit = load_results(portfolio_project / "dask" / f"{name}.results.json")
        assert unit.display_name in rollup
    assert "Units ranked by expected net present value" in rollup
    # the workers' kernels, browsers and folders are gone with the build
    assert _worker_folders(tmp) == []
    # nothing changed: nothing to do, and the executor is not even started
    again = _build(config, portfolio_project / "dask", "--param", "draws=1000", "--executor",
                   "dask-local", "--workers", "2")  # fmt: skip
    assert again.returncode == 0 and "Nothing to do" in again.stdout


@pytest.mark.slow
def test_a_worker_killed_during_a_task_does_not_fail_the_build(
    tmp_path: Path, read_manifest
) -> None:
    from conftest import make_notebook

    root = tmp_path / "proj"
    make_notebook(root / "notebooks" / "slow.ipynb",
                  'pause: float = 0.0  # seconds to wait\nlabel: str = ""  # shown',
                  "import time\ntime.sleep(pause)\nprint(f'done {label}')")  # fmt: skip
    reports = [{"name": f"r{i}", "notebook": "notebooks/slow.ipynb", "title": f"R{i}",
                "parameters": {"pause": 4.0, "label": f"r{i}"}} for i in (1, 2)]  # fmt: skip
    config = root / "reports.yaml"
    config.write_text(json.dumps({"reports": reports}))
    tmp = tmp_path / "tmp"
    command = [sys.executable, "-m", "cxtradeoff.cli", "build", "--config", str(config), "--out",
               str(root / "out"), "--formats", "html", "--executor", "dask-local", "--workers", "2"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_private_tmp(tmp))  # fmt: skip
    try:
        victim = None
        deadline = time.monotonic() + 180
        while victim is None:  # a worker whose kernel is running a notebook
            assert time.monotonic() < deadline and proc.poll() is None, "no task ever started"
            for folder in _worker_folders(tmp):
                if list(folder.glob("slot-*/stage/*.ipynb")):
                    victim = int(folder.name.split("-")[1])
                    break
            time.sleep(0.05)
        os.kill(victim, signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert "was lost while building it; retried on worker" in err
    assert "warning:" in err and "Traceback" not in err
    manifest = read_manifest(root)
    assert {n: e.status for n, e in manifest.reports.items()} == {"r1": "ok", "r2": "ok"}
    for name in ("r1", "r2"):
        assert f"done {name}" in (root / "out" / f"{name}.html").read_text()


@pytest.fixture
def cluster_apart(tmp_path: Path):
    """A scheduler and two single-thread workers started with Dask's own commands, as an
    operator starts them on other hosts: each in a folder of its own, none in the project's."""
    dask = Path(sys.executable).parent / "dask"
    scheduler_file = tmp_path / "cluster" / "scheduler.json"
    scheduler_file.parent.mkdir()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = [str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--scheduler-file", str(scheduler_file)]  # fmt: skip
    processes = [subprocess.Popen(scheduler, cwd=scheduler_file.parent, **quiet)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() or not scheduler_file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler never wrote its file"
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for n in (1, 2):
            home = tmp_path / f"worker-{n}"
            home.mkdir()
            worker = [str(dask), "worker", address, "--nthreads", "1", "--no-dashboard",
                      "--local-directory", str(home)]  # fmt: skip
            env = _private_tmp(home / "tmp")
            processes.append(subprocess.Popen(worker, cwd=home, env=env, **quiet))
        yield address, scheduler_file
    finally:
        for process in processes[::-1]:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_a_portfolio_builds_on_a_cluster_started_apart_by_address_and_by_scheduler_file(
    portfolio_project: Path, cluster_apart: tuple[str, Path], read_manifest
) -> None:
    address, scheduler_file = cluster_apart
    config = portfolio_project / "reports.yaml"
    few = ("--param", "draws=1000", "--formats", "html")
    local = _build(config, portfolio_project / "local", *few, "--only", "pf-unit-001")
    assert local.returncode == 0, local.stdout + local.stderr
    out = portfolio_project / "cluster"
    run = _build(config, out, *few, "--executor", "dask", "--scheduler", address)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    manifest = read_manifest(portfolio_project, "cluster")
    assert {n: e.status for n, e in manifest.reports.items()} == {
        "pf-unit-001": "ok", "pf-unit-002": "ok", "pf": "ok"}  # fmt: skip
    made_here = (portfolio_project / "local" / "pf-unit-001.results.json").read_bytes()
    assert (out / "pf-unit-001.results.json").read_bytes() == made_here  # byte for byte
    assert "Units ranked by expected net present value" in (out / "pf.html").read_text()
    # the same cluster through the file the scheduler wrote, as on a batch system
    again = _build(config, out, *few, "--executor", "dask", "--scheduler", str(scheduler_file),
                   "--force", "--only", "pf-unit-002")  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert read_manifest(portfolio_project, "cluster").reports["pf-unit-002"].status == "ok"
    # the plugin is removed with each build: no worker keeps a folder, kernel or browser
    workers = cluster_apart[1].parent.parent
    assert [f for n in (1, 2) for f in _worker_folders(workers / f"worker-{n}" / "tmp")] == []
