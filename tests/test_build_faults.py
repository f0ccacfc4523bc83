"""Fault injection: the build under kills, signals, a crashing browser and failing disks.

Each test reproduces a case of issue 11 on the tiny throw-away project and shows what
holds: reports, manifest and landing page agree; nothing half-written or temporary is
left; the operator gets one clear line and a documented exit status.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from cxtradeoff.contracts import Manifest, ManifestHeadline, load_manifest, load_results
from cxtradeoff.formatting import money

pytestmark = pytest.mark.slow

NEW_DATA = {"a": "name,value\nx,5\ny,5\n", "b": "name,value\nx,50\ny,50\n"}


def assert_in_agreement(out: Path) -> Manifest:
    """Every report's files, its manifest entry and its landing-page row describe the
    same build of that report; nothing temporary is visible."""
    manifest = load_manifest(out / "manifest.json")
    index = (out / "index.html").read_text()
    for name, entry in manifest.reports.items():
        for kind, file in entry.outputs.items():
            assert file is None or (out / file).is_file(), (name, kind)
        assert entry.title in index
        if entry.headline is None or not entry.outputs.get("results"):
            continue
        results = load_results(out / str(entry.outputs["results"]))
        assert entry.headline == ManifestHeadline(
            currency=results.currency, **results.headline.model_dump()
        )
        assert money(results.headline.npv_mean, results.currency) in index, name
        total = f"total {results.headline.npv:.2f}"  # what the notebook printed in that build
        assert total in (out / str(entry.outputs["html"])).read_text(), name
        if entry.outputs.get("pdf"):
            text = " ".join(
                p.extract_text() for p in PdfReader(out / str(entry.outputs["pdf"])).pages
            )
            assert total in text, name
    return manifest


def _wait_for(condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the build never got there"
        time.sleep(0.02)


def _committed(out: Path, name: str, build_id: str) -> bool:
    try:
        return load_manifest(out / "manifest.json").reports[name].build_id != build_id
    except Exception:
        return False


def _staged(out: Path, suffix: str) -> bool:
    return any(p.suffix == suffix for p in out.glob(".staging-*/*"))


KILL_POINTS = {
    # a report committed while the next still runs (--jobs 1)
    "after a report is moved into place": lambda out, old: _committed(out, "rep-a", old),
    # a page exported and handed to Chromium
    "mid-print": lambda out, old: _staged(out, ".html"),
    # a notebook running in its kernel
    "mid-notebook": lambda out, old: _staged(out, ".ipynb"),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_9_at_any_point_leaves_reports_manifest_and_landing_page_in_agreement(
    tiny_project: Path, run_build, build_command, read_manifest, point: str
) -> None:
    out = tiny_project / "out"
    assert run_build(tiny_project) == 0
    old = read_manifest(tiny_project).reports["rep-a"].build_id
    for name, text in NEW_DATA.items():
        (tiny_project / "data" / f"{name}.csv").write_text(text)
    proc = subprocess.Popen(build_command(tiny_project, "--jobs", "1"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    _wait_for(lambda: KILL_POINTS[point](out, old))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(0.5)
    assert_in_agreement(out)
    # the next build finishes the work and cleans what the killed one left, /tmp included
    assert run_build(tiny_project) == 0
    manifest = assert_in_agreement(out)
    assert manifest.reports["rep-b"].headline.annual_savings == pytest.approx(100000.0)
    assert not list(out.glob(".staging-*")) and not list(out.glob(".*.tmp"))
    assert not list(Path(tempfile.gettempdir()).glob(f"cxk-{proc.pid}-*"))


def _chromium_wrapper(folder: Path) -> Path:
    """A Chromium that writes its pid to ``folder/pids`` and then is the real one."""
    from cxtradeoff.browser import require_chromium

    wrapper = folder / "chromium"
    wrapper.write_text(f'#!/bin/sh\necho $$ >> "{folder}/pids"\nexec "{require_chromium()}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_a_crashed_chromium_is_relaunched_and_the_pdf_retried(
    tiny_project: Path, build_command, tmp_path: Path
) -> None:
    wrapper = _chromium_wrapper(tmp_path)
    env = {**os.environ, "CXTRADEOFF_CHROMIUM": str(wrapper)}
    proc = subprocess.Popen(build_command(tiny_project, "--jobs", "1"), env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    pids = tmp_path / "pids"
    _wait_for(lambda: pids.is_file() and _staged(tiny_project / "out", ".ipynb"))
    os.kill(int(pids.read_text().split()[0]), signal.SIGKILL)  # the browser dies mid-build
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert len(pids.read_text().split()) == 2  # launched again, once
    for name in ("rep-a", "rep-b", "compare"):
        assert PdfReader(tiny_project / "out" / f"{name}.pdf").pages
    assert len(err.splitlines()) < 15 and "Browser logs" not in err + out


def test_a_print_that_fails_twice_is_a_print_failure_and_the_build_goes_on(
    tiny_project: Path, run_build, read_manifest, monkeypatch, capsys
) -> None:
    from cxtradeoff.pipeline import export

    real_print = export.PdfPrinter.print_pdf

    def crashing_print(self, html_path: Path, pdf_path: Path, **kw: str) -> None:
        if html_path.name == "rep-b.html":  # a browser dying on this page, log and all
            log = "\n".join(f"[pid=4242][err] crash dump line {i}" for i in range(54))
            raise RuntimeError(f"Page.pdf: Target crashed\nBrowser logs:\n{log}")
        real_print(self, html_path, pdf_path, **kw)

    monkeypatch.setattr(export.PdfPrinter, "print_pdf", crashing_print)
    assert run_build(tiny_project, "--jobs", "1") == 1
    captured = capsys.readouterr()
    entries = read_manifest(tiny_project).reports
    assert entries["rep-a"].status == "ok" and (tiny_project / "out" / "rep-a.pdf").is_file()
    assert entries["rep-b"].status == "failed" and entries["compare"].status == "skipped"
    assert entries["rep-b"].error.startswith("PDF not printed: Chromium failed twice")
    assert entries["rep-b"].failed_notebook is None  # the notebook ran: nothing kept as failed
    assert not (tiny_project / "out" / "failed").exists()
    assert (
        "executed notebook" not in captured.out and "crash dump" not in captured.out + captured.err
    )
    assert "crash dump line 53" in (tiny_project / "out" / "build.log").read_text()
    assert_in_agreement(tiny_project / "out")


def test_an_html_only_build_keeps_existing_pdfs(
    tiny_project: Path, run_build, read_manifest
) -> None:
    """The README's quick draft (--formats html) leaves the PDFs the last full build made."""
    out = tiny_project / "out"
    assert run_build(tiny_project) == 0
    pdfs = {p.name: p.read_bytes() for p in out.glob("*.pdf")}
    assert len(pdfs) == 3
    (tiny_project / "data" / "a.csv").write_text(NEW_DATA["a"])
    assert run_build(tiny_project, "--formats", "html") == 0
    assert {p.name: p.read_bytes() for p in out.glob("*.pdf")} == pdfs
    entry = read_manifest(tiny_project).reports["rep-a"]
    assert entry.outputs["pdf"] is None  # the entry lists what this build made
    assert 'href="rep-a.pdf"' not in (out / "index.html").read_text()
    assert_in_agreement(out)


@pytest.mark.parametrize(("sent", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_stop_the_build_and_remove_its_temporary_folders(
    tiny_project: Path, build_command, read_manifest, probes, sent: int, status: int
) -> None:
    out = tiny_project / "out"
    # Besides the tiny reports, one whose cell runs for an hour once it has started: the
    # build can only end in time by killing its kernel, not by waiting for its answer.
    # (The tiny notebooks alone end in a second or two, so a build that waited for them
    # stopped just as well; how fast a build stops is for benchmarks/, not a test.)
    slow = probes.report(tiny_project, "slow",
                         "import time\nfrom pathlib import Path\n"
                         "Path(probe).with_suffix('.started').touch()\ntime.sleep(3600)\nseen = {}")  # fmt: skip
    config = json.loads((tiny_project / "reports.yaml").read_text())
    (tiny_project / "reports.yaml").write_text(json.dumps({"reports": [*config["reports"], slow]}))
    started = tiny_project / "probes" / "slow.started"
    proc = subprocess.Popen(build_command(tiny_project, "--jobs", "2"), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    _wait_for(started.exists)  # the hour-long cell is running in its kernel
    proc.send_signal(sent)
    try:  # the timeout only keeps a build that waits for the cell from hanging the test run
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # it did wait: stop it and its kernels, then fail
            proc.kill()
            for pid in _kernels_of(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert proc.returncode == status, err
    assert "Traceback" not in err and ("interrupted" if status == 130 else "terminated") in err
    assert not list(out.glob(".staging-*"))
    assert not list(Path(tempfile.gettempdir()).glob(f"cxk-{proc.pid}-*"))
    time.sleep(0.5)
    assert _kernels_of(proc.pid) == []  # no kernel left running
    if (out / "manifest.json").exists():
        assert_in_agreement(out)


def _kernels_of(build_pid: int) -> list[int]:
    """The processes still running a kernel the build ``build_pid`` started."""
    marker = f"cxk-{build_pid}-".encode()
    return [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/cmdline") if marker in _read(p)]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_a_failing_build_leaves_no_kernel_folder_and_stale_ones_are_removed(
    tiny_project: Path, build_command, tiny_config
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs: a build killed with SIGKILL
    stale = Path(tempfile.mkdtemp(prefix=f"cxk-{gone.pid}-"))
    tiny_config(tiny_project, fail_b=True)
    proc = subprocess.Popen(build_command(tiny_project, "--formats", "html"), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert not stale.exists()
    assert not list(Path(tempfile.gettempdir()).glob(f"cxk-{proc.pid}-*"))
    assert not list((tiny_project / "out").glob(".staging-*"))


@pytest.mark.parametrize("where", ["read-only", "a file"])
def test_an_output_folder_that_cannot_be_written_exits_73_naming_it(
    tiny_project: Path, build_command, tmpfs, where: str
) -> None:
    out = tmpfs("1m", read_only=True) / "reports" if where == "read-only" else tiny_project / "out"
    if where == "a file":
        out.write_text("not a folder")
    run = subprocess.run(build_command(tiny_project, "--out", str(out)), capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert run.returncode == 73, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert str(out) in run.stderr
    assert ("read-only" if where == "read-only" else "is a file, not a folder") in run.stderr


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until ``leave`` bytes are free."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with (folder / "filler").open("wb") as fh:
        fh.truncate(0)
        try:
            fh.write(b"\0" * max(0, free - leave))
            fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_disk_that_fills_up_mid_build_exits_73_and_leaves_the_last_good_reports(
    tiny_project: Path, run_build, tmpfs, capsys
) -> None:
    disk = tmpfs("6m")
    out = disk / "reports"
    assert run_build(tiny_project, "--out", str(out), "--keep", "0") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    _fill(disk, leave=120_000)  # room for a notebook, not for a whole report
    capsys.readouterr()
    assert run_build(tiny_project, "--out", str(out), "--keep", "0", "--force") == 73
    err = capsys.readouterr().err
    assert "no space left on the device (disk full)" in err and str(out) in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not list(out.glob(".staging-*")) and not list(out.glob(".*.tmp"))
    assert not (out / "failed").exists()  # no truncated failed notebook
    assert_in_agreement(out)


@pytest.mark.parametrize("target", ["index.html", "manifest.json", "rep-a.html", "rep-a.pdf"])
def test_a_write_that_fails_names_the_path_and_leaves_nothing_half_written(
    tiny_project: Path, run_build, monkeypatch, capsys, target: str
) -> None:
    from cxtradeoff import files
    from cxtradeoff.pipeline import export

    out = tiny_project / "out"
    assert run_build(tiny_project, "--formats", "html,pdf") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    real_write = files.atomic_write_bytes

    def failing_write(path: str | Path, data: bytes) -> Path:
        if Path(path).name in {target, "_" + target}:  # the file itself, or prepared for it
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, data)

    monkeypatch.setattr(files, "atomic_write_bytes", failing_write)
    monkeypatch.setattr(export, "atomic_write_bytes", failing_write)
    if target.endswith(".html") and target != "index.html":
        monkeypatch.setattr(Path, "write_text", _failing_write_text(Path.write_text, target))
    capsys.readouterr()
    assert run_build(tiny_project, "--force") == 73
    err = capsys.readouterr().err
    assert "disk full" in err and target.split(".")[0] in err and "Traceback" not in err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for name in ("rep-a.html", "rep-a.pdf", "rep-a.ipynb", "rep-a.results.json"):
        assert after[name] == before[name]  # the report whose write failed: its last good files
    if target in {"index.html", "manifest.json"}:  # the first commit failed: nothing moved
        assert after == before
    assert not list(out.glob(".staging-*")) and not list(out.glob(".*.tmp"))
    assert not (out / "failed").exists()
    assert_in_agreement(out)  # a report committed before the failure is whole, and listed


def _failing_write_text(real: Callable, target: str) -> Callable:
    def write_text(self: Path, data: str, *args: object, **kw: object) -> int:
        if self.name == target:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data, *args, **kw)

    return write_text


def test_a_broken_profiles_file_is_named_once_and_the_evidence_report_still_builds(
    tmp_path: Path, build_command
) -> None:
    """A Latin-1 export of the profiles: reports that read it are not built, the problem
    is named once against the file, the evidence report (which does not read it) builds."""
    import shutil

    from cxtradeoff.paths import ROOT

    root = tmp_path / "project"
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copy(ROOT / "reports.yaml", root / "reports.yaml")
    profiles = root / "data" / "company_profiles.csv"
    profiles.write_bytes(profiles.read_bytes().replace(b"Telecom", "Télécom".encode("latin-1")))
    env = {**os.environ, "CXTRADEOFF_ROOT": str(root)}
    run = subprocess.run(build_command(root, "--formats", "html", "--param", "draws=1000", "--jobs", "2"),
                         env=env, capture_output=True, text=True, check=False)  # fmt: skip
    said = run.stdout + run.stderr
    assert run.returncode == 2, said
    assert "Traceback" not in said and "profiles_path" not in said
    problem = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(problem) == 1 and str(profiles) in problem[0]  # named once, against the file
    assert said.count("invalid continuation byte") == 1
    manifest = load_manifest(root / "out" / "manifest.json")
    assert (
        manifest.reports["evidence"].status == "ok" and (root / "out" / "evidence.html").is_file()
    )
    for name in ("telecom", "retail-bank", "ecommerce", "b2b-software", "fintech"):
        assert manifest.reports[name].status == "failed"
        assert manifest.reports[name].error == f"not built: its input {profiles} cannot be used"
    assert manifest.reports["comparison"].status == "skipped"
    assert not (root / "out" / "failed").exists()  # no kernel ran for them


def _run_to_a_reader_that_left(command: list[str]) -> int:
    """Run ``command`` with standard output and error going to a pipe nobody reads any
    more (``| head`` that has had its line, a log collector that died)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails with EPIPE
    try:
        return subprocess.run(command, stdout=write_end, stderr=write_end, check=False).returncode
    finally:
        os.close(write_end)


def test_a_reader_that_goes_away_does_not_stop_the_build(
    tiny_project: Path, build_command, read_manifest
) -> None:
    """The build finishes its work and exits with its own status, 0 here: not 1 (which
    says a report failed) from a traceback nobody could read."""
    assert _run_to_a_reader_that_left(build_command(tiny_project, "--formats", "html")) == 0
    statuses = {n: e.status for n, e in read_manifest(tiny_project).reports.items()}
    assert statuses and set(statuses.values()) == {"ok"}
    listing = [sys.executable, "-m", "cxtradeoff.cli", "profiles"]
    assert _run_to_a_reader_that_left(listing) == 0


def test_a_log_on_a_full_disk_does_not_stop_the_build(
    tiny_project: Path, build_command, read_manifest
) -> None:
    """``>> build.log`` on a full partition (``/dev/full``: every write fails with ENOSPC):
    the reports, on another disk, are built and the status is the build's."""
    with Path("/dev/full").open("w") as full:
        run = subprocess.run(build_command(tiny_project, "--formats", "html"), stdout=full,
                             stderr=full, check=False)  # fmt: skip
    assert run.returncode == 0
    assert {e.status for e in read_manifest(tiny_project).reports.values()} == {"ok"}
