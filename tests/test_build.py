"""The report pipeline on a small throw-away project: real kernels, real Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.slow


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every file, to prove what a build did not touch."""
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and ".build.lock" not in p.name
    }


def test_build_writes_every_output_manifest_and_index(
    tiny_project: Path, run_build, read_manifest, capsys
) -> None:
    assert run_build(tiny_project, "--jobs", "2") == 0
    out = tiny_project / "out"
    for name in ("rep-a", "rep-b", "compare"):
        for ext in ("html", "pdf", "ipynb"):
            assert (out / f"{name}.{ext}").stat().st_size > 0, (name, ext)
    manifest = read_manifest(tiny_project)
    entry = manifest.reports["rep-a"]
    assert entry.status == "ok" and entry.error is None
    assert entry.parameters["label"] == "Alpha"
    assert set(entry.inputs) >= {"notebooks/analysis.ipynb", "data/a.csv", "package:cxtradeoff"}
    assert all(len(h) == 64 for h in entry.inputs.values())
    assert entry.headline is not None and entry.headline.annual_savings == pytest.approx(3000.0)
    assert entry.outputs["results"] == "rep-a.results.json"
    assert entry.duration_s and entry.duration_s > 0 and entry.started
    assert "papermill" in manifest.packages and "chromium" in manifest.packages
    assert "chromium" in entry.packages
    # the comparison ran after, and read, both reports' results
    executed = (out / "compare.ipynb").read_text()
    assert "Alpha 3000.0" in executed and "Beta 30000.0" in executed
    index = (out / "index.html").read_text()
    for text in ("Report A", "Report B", "Comparison", "EUR 3,000", "5.9%", "25%", "rep-a.pdf"):
        assert text in index, text
    summary = capsys.readouterr().out
    assert "rep-a" in summary and "ok" in summary
    assert not (out / "build.log").exists()  # nothing went wrong, nothing to log


def test_nothing_to_do_rewrites_nothing(tiny_project: Path, run_build, capsys) -> None:
    assert run_build(tiny_project) == 0
    before = _snapshot(tiny_project / "out")
    capsys.readouterr()
    assert run_build(tiny_project) == 0
    assert "Nothing to do" in capsys.readouterr().out
    assert _snapshot(tiny_project / "out") == before


def test_changing_one_data_file_rebuilds_exactly_its_reports(
    tiny_project: Path, run_build, read_manifest
) -> None:
    assert run_build(tiny_project) == 0
    first = read_manifest(tiny_project).reports
    (tiny_project / "data" / "b.csv").write_text("name,value\nx,10\ny,21\n")
    assert run_build(tiny_project) == 0
    second = read_manifest(tiny_project).reports
    rebuilt = {n for n in second if second[n].build_id != first[n].build_id}
    assert rebuilt == {"rep-b", "compare"}  # rep-a untouched; compare reads rep-b
    assert second["rep-b"].headline.annual_savings == pytest.approx(31000.0)
    # --force rebuilds all that are selected
    assert run_build(tiny_project, "--force", "--only", "rep-a") == 0
    third = read_manifest(tiny_project).reports
    assert third["rep-a"].build_id != second["rep-a"].build_id
    assert third["rep-b"].build_id == second["rep-b"].build_id


def test_a_failing_notebook_keeps_the_last_good_report(
    tiny_project: Path, run_build, read_manifest, tiny_config, capsys
) -> None:
    assert run_build(tiny_project, "--formats", "html") == 0
    good = (tiny_project / "out" / "rep-b.html").read_bytes()
    good_entry = read_manifest(tiny_project).reports["rep-b"]
    tiny_config(tiny_project, fail_b=True)
    capsys.readouterr()
    assert run_build(tiny_project, "--formats", "html") == 1
    out = capsys.readouterr().out
    assert "rep-b" in out and "failed" in out
    assert "ValueError: deliberate failure for the test" in out
    # title, parameters, injected parameters, two cells, then the failing one
    assert "cell 6 of the executed notebook" in out and "'if fail:'" in out
    failed_nb = tiny_project / "out" / "failed" / "rep-b.ipynb"
    assert failed_nb.is_file() and str(failed_nb) in out
    assert "deliberate failure" in failed_nb.read_text()
    assert (tiny_project / "out" / "rep-b.html").read_bytes() == good  # last good report kept
    entries = read_manifest(tiny_project).reports
    assert entries["rep-b"].status == "failed"
    # the entry still describes the files that stay: the last good build of rep-b
    assert entries["rep-b"].build_id == good_entry.build_id
    assert entries["rep-b"].headline == good_entry.headline
    assert entries["rep-a"].status == "ok"
    assert entries["compare"].status == "skipped"  # it reads the failed report
    # fixed again: the failed copy goes away and the report is rebuilt
    tiny_config(tiny_project, fail_b=False)
    assert run_build(tiny_project, "--formats", "html") == 0
    assert not failed_nb.exists()


def test_html_loads_nothing_from_any_host_in_a_real_browser(tiny_project: Path, run_build) -> None:
    from playwright.sync_api import sync_playwright

    from cxtradeoff.browser import require_chromium
    from cxtradeoff.pipeline.export import CHROMIUM_ARGS

    assert run_build(tiny_project, "--formats", "html", "--only", "rep-a") == 0
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=require_chromium(), args=list(CHROMIUM_ARGS))
        for page_name in ("rep-a.html", "index.html"):
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def route(r, outside=outside):
                if r.request.url.startswith(("file:", "data:")):
                    return r.continue_()
                outside.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.goto((tiny_project / "out" / page_name).as_uri(), wait_until="load")
            widths = page.eval_on_selector_all(
                "img", "els => els.map(e => e.complete ? e.naturalWidth : 0)"
            )
            if page_name == "rep-a.html":
                assert widths and all(w > 0 for w in widths), widths
                assert "Alpha" in page.inner_text("body")
                assert page.locator("pre:has-text('import matplotlib')").count() == 0  # code hidden
            page.close()
        browser.close()
    assert outside == []
    assert errors == []


def test_pdf_is_a4_with_page_numbers_and_title(tiny_project: Path, run_build) -> None:
    assert run_build(tiny_project, "--only", "rep-a") == 0
    reader = PdfReader(tiny_project / "out" / "rep-a.pdf")
    box = reader.pages[0].mediabox
    # A4 is 595.3 x 841.9 points; Chromium rounds to whole CSS pixels
    assert float(box.width) == pytest.approx(595.3, abs=1.0)
    assert float(box.height) == pytest.approx(841.9, abs=1.5)
    text = reader.pages[0].extract_text()
    assert "Page 1 of" in text and "Report A" in text and "Alpha" in text


def test_dated_archives_are_pruned_to_keep(tiny_project: Path, run_build, read_manifest) -> None:
    for _ in range(3):
        assert (
            run_build(
                tiny_project, "--force", "--only", "rep-a", "--formats", "html", "--keep", "2"
            )
            == 0
        )
    archives = sorted((tiny_project / "out" / "archive").iterdir())
    assert len(archives) == 2
    assert (archives[-1] / "manifest.json").read_bytes() == (
        tiny_project / "out" / "manifest.json"
    ).read_bytes()
    assert (archives[-1] / "rep-a.html").read_bytes() == (
        tiny_project / "out" / "rep-a.html"
    ).read_bytes()


def test_build_ids_sort_as_the_builds_started_even_within_one_second() -> None:
    """Archives are pruned by name, oldest first: ids of builds a millisecond apart (a small
    report set rebuilt in a loop) must sort in the order the builds started."""
    from cxtradeoff.pipeline.build import _new_build_id

    ids = []
    for _ in range(10):
        ids.append(_new_build_id())
        time.sleep(0.001)
    assert ids == sorted(ids)


def test_two_builds_at_once_one_waits_or_exits_cleanly(
    tiny_project: Path, build_command, read_manifest
) -> None:
    first = subprocess.Popen(build_command(tiny_project, "--formats", "html"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    lock = tiny_project / "out" / ".build.lock"
    deadline = time.monotonic() + 60
    while not list((tiny_project / "out").glob(".staging-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(build_command(tiny_project, "--formats", "html", "--wait", "0.5"),
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert second.returncode == 75, second.stderr
    assert "another build is running" in second.stderr and str(lock) in second.stderr
    third = subprocess.run(build_command(tiny_project, "--formats", "html", "--wait", "300"),
                           capture_output=True, text=True, check=False)  # fmt: skip
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert third.returncode == 0, third.stderr
    assert "Nothing to do" in third.stdout  # it waited, then found the first build's work
    assert read_manifest(tiny_project).reports["compare"].status == "ok"


def test_verbose_shows_cells_and_plain_lines_when_not_a_terminal(
    tiny_project: Path, build_command
) -> None:
    run = subprocess.run(build_command(tiny_project, "--formats", "html", "--only", "rep-a", "-v"),
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "rep-a: Executing Cell 3" in run.stderr
    assert "\r" not in run.stderr  # no progress bar when not a terminal
    assert "rep-a: ok in" in run.stderr


def test_progress_bar_on_a_terminal(tiny_project: Path, build_command) -> None:
    """On a terminal (a pseudo-terminal here) the build draws a progress bar over reports."""
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(build_command(tiny_project, "--formats", "html", "--jobs", "2"),
                                stdin=follower, stdout=follower, stderr=follower)  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal closed: the build is over
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "3/3" in screen and "report" in screen  # tqdm's bar over the three reports
    assert "\r" in screen
    assert "[" not in screen.split("report  ")[0].splitlines()[0]  # no plain time-stamped log lines


def test_each_kernel_runs_in_its_own_notebooks_folder(
    tiny_project: Path, run_build, probes
) -> None:
    """Kernels of notebooks in different folders, run at once, each start in their own."""
    reports = [probes.report(tiny_project, sub, "import os, time\ntime.sleep(1)\nseen = {'cwd': os.getcwd()}")
               for sub in ("one", "two")]  # fmt: skip
    (tiny_project / "reports.yaml").write_text(json.dumps({"reports": reports}))
    assert run_build(tiny_project, "--formats", "html", "--jobs", "2") == 0
    for sub in ("one", "two"):
        assert probes.read(tiny_project, sub)["cwd"] == str((tiny_project / sub).resolve())


def test_a_kept_kernel_starts_each_notebook_clean(tiny_project: Path, run_build, probes) -> None:
    """One worker runs the notebooks on one kernel; a later one sees nothing of an earlier one."""
    reports = [
        probes.report(tiny_project, "dirty",
                      "import matplotlib as mpl\nimport matplotlib.pyplot as plt\nleak = 1\n"
                      "mpl.rcParams['lines.linewidth'] = 9\nfig = plt.figure()\nimport os\n"
                      "seen = {'pid': os.getpid()}\nos.chdir('/')"),
        probes.report(tiny_project, "clean",
                      "import os\nimport matplotlib as mpl\nimport matplotlib.pyplot as plt\n"
                      "seen = {'leak': 'leak' in globals(), 'lw': mpl.rcParams['lines.linewidth'],\n"
                      "        'figures': plt.get_fignums(), 'cwd': os.getcwd(), 'pid': os.getpid()}"),
    ]  # fmt: skip
    (tiny_project / "reports.yaml").write_text(json.dumps({"reports": reports}))
    assert run_build(tiny_project, "--formats", "html", "--jobs", "1") == 0
    seen = probes.read(tiny_project, "clean")
    assert seen["pid"] == probes.read(tiny_project, "dirty")["pid"]  # the same kernel ran both
    assert seen["leak"] is False and seen["figures"] == [] and seen["lw"] != 9
    assert seen["cwd"] == str((tiny_project / "clean").resolve())
    executed = json.loads((tiny_project / "out" / "clean.ipynb").read_text())
    counts = [c["execution_count"] for c in executed["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))
