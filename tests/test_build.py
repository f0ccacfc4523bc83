"""The report pipeline on a small throw-away project: real kernels, real Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import write_config
from cxtradeoff.cli import main

pytestmark = pytest.mark.slow


def _build(root: Path, *args: str) -> int:
    return main(["build", "--config", str(root / "reports.yaml"), "--out", str(root / "out"), *args])


def _manifest(root: Path) -> dict:
    return json.loads((root / "out" / "manifest.json").read_text())


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every file, to prove what a build did not touch."""
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and ".build.lock" not in p.name
    }


def test_build_writes_every_output_manifest_and_index(tiny_project: Path, capsys) -> None:
    assert _build(tiny_project, "--jobs", "2") == 0
    out = tiny_project / "out"
    for name in ("rep-a", "rep-b", "compare"):
        for ext in ("html", "pdf", "ipynb"):
            assert (out / f"{name}.{ext}").stat().st_size > 0, (name, ext)
    manifest = _manifest(tiny_project)
    entry = manifest["reports"]["rep-a"]
    assert entry["status"] == "ok" and entry["error"] is None
    assert entry["parameters"]["label"] == "Alpha"
    assert set(entry["inputs"]) >= {"notebooks/analysis.ipynb", "data/a.csv", "package:cxtradeoff"}
    assert all(len(h) == 64 for h in entry["inputs"].values())
    assert entry["headline"]["annual_savings"] == pytest.approx(3000.0)
    assert entry["outputs"]["results"] == "rep-a.results.json"
    assert entry["duration_s"] > 0 and entry["started"]
    assert "papermill" in manifest["packages"] and "chromium" in manifest["packages"]
    # the comparison ran after, and read, both reports' results
    executed = (out / "compare.ipynb").read_text()
    assert "Alpha 3000.0" in executed and "Beta 30000.0" in executed
    index = (out / "index.html").read_text()
    for text in ("Report A", "Report B", "Comparison", "EUR 3,000", "5.9%", "25%", "rep-a.pdf"):
        assert text in index, text
    summary = capsys.readouterr().out
    assert "rep-a" in summary and "ok" in summary


def test_nothing_to_do_rewrites_nothing(tiny_project: Path, capsys) -> None:
    assert _build(tiny_project) == 0
    before = _snapshot(tiny_project / "out")
    capsys.readouterr()
    assert _build(tiny_project) == 0
    assert "Nothing to do" in capsys.readouterr().out
    assert _snapshot(tiny_project / "out") == before


def test_changing_one_data_file_rebuilds_exactly_its_reports(tiny_project: Path) -> None:
    assert _build(tiny_project) == 0
    first = _manifest(tiny_project)["reports"]
    (tiny_project / "data" / "b.csv").write_text("name,value\nx,10\ny,21\n")
    assert _build(tiny_project) == 0
    second = _manifest(tiny_project)["reports"]
    rebuilt = {n for n in second if second[n]["build_id"] != first[n]["build_id"]}
    assert rebuilt == {"rep-b", "compare"}  # rep-a untouched; compare reads rep-b
    assert second["rep-b"]["headline"]["annual_savings"] == pytest.approx(31000.0)
    # --force rebuilds all
    assert _build(tiny_project, "--force", "--only", "rep-a") == 0
    third = _manifest(tiny_project)["reports"]
    assert third["rep-a"]["build_id"] != second["rep-a"]["build_id"]
    assert third["rep-b"]["build_id"] == second["rep-b"]["build_id"]


def test_a_failing_notebook_keeps_the_last_good_report(tiny_project: Path, capsys) -> None:
    assert _build(tiny_project, "--formats", "html") == 0
    good = (tiny_project / "out" / "rep-b.html").read_bytes()
    write_config(tiny_project, fail_b=True)
    capsys.readouterr()
    assert _build(tiny_project, "--formats", "html") == 1
    out = capsys.readouterr().out
    assert "rep-b" in out and "failed" in out
    assert "ValueError: deliberate failure for the test" in out
    # title, parameters, injected parameters, two cells, then the failing one
    assert "cell 6 of the executed notebook" in out and "'if fail:'" in out
    failed_nb = tiny_project / "out" / "failed" / "rep-b.ipynb"
    assert failed_nb.is_file() and str(failed_nb) in out
    assert "deliberate failure" in failed_nb.read_text()
    assert (tiny_project / "out" / "rep-b.html").read_bytes() == good  # last good report kept
    entries = _manifest(tiny_project)["reports"]
    assert entries["rep-b"]["status"] == "failed"
    assert entries["rep-a"]["status"] == "ok"
    assert entries["compare"]["status"] == "skipped"  # it reads the failed report
    # fixed again: the failed copy goes away and the report is rebuilt
    write_config(tiny_project, fail_b=False)
    assert _build(tiny_project, "--formats", "html") == 0
    assert not failed_nb.exists()


def test_html_loads_nothing_from_any_host_in_a_real_browser(tiny_project: Path) -> None:
    from playwright.sync_api import sync_playwright

    from cxtradeoff.browser import CHROMIUM_ARGS, require_chromium

    assert _build(tiny_project, "--formats", "html", "--only", "rep-a") == 0
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
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")
            if page_name == "rep-a.html":
                assert widths and all(w > 0 for w in widths), widths
                assert "Alpha" in page.inner_text("body")
                assert page.locator("pre:has-text('import matplotlib')").count() == 0  # code hidden
            page.close()
        browser.close()
    assert outside == []
    assert errors == []


def test_pdf_is_a4_with_page_numbers_and_title(tiny_project: Path) -> None:
    assert _build(tiny_project, "--only", "rep-a") == 0
    reader = PdfReader(tiny_project / "out" / "rep-a.pdf")
    box = reader.pages[0].mediabox
    # A4 is 595.3 x 841.9 points; Chromium rounds to whole CSS pixels
    assert float(box.width) == pytest.approx(595.3, abs=1.0)
    assert float(box.height) == pytest.approx(841.9, abs=1.5)
    text = reader.pages[0].extract_text()
    assert "Page 1 of" in text and "Report A" in text and "Alpha" in text


def test_only_unknown_name_and_bad_options_exit_2(tiny_project: Path, capsys) -> None:
    assert _build(tiny_project, "--only", "nope") == 2
    assert "no report named 'nope'" in capsys.readouterr().err
    assert _build(tiny_project, "--formats", "docx") == 2
    assert "--formats" in capsys.readouterr().err
    assert not (tiny_project / "out").exists()


def test_dated_archives_are_pruned_to_keep(tiny_project: Path) -> None:
    for _ in range(3):
        assert _build(tiny_project, "--force", "--only", "rep-a", "--formats", "html", "--keep", "2") == 0
    archives = sorted((tiny_project / "out" / "archive").iterdir())
    assert len(archives) == 2
    latest = json.loads((archives[-1] / "manifest.json").read_text())
    assert latest == _manifest(tiny_project)
    assert (archives[-1] / "rep-a.html").read_bytes() == (tiny_project / "out" / "rep-a.html").read_bytes()


def _cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cxtradeoff.cli", "build", "--config", str(root / "reports.yaml"),
            "--out", str(root / "out"), *args]  # fmt: skip


def test_two_builds_at_once_one_waits_or_exits_cleanly(tiny_project: Path) -> None:
    first = subprocess.Popen(_cli(tiny_project, "--formats", "html"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    lock = tiny_project / "out" / ".build.lock"
    deadline = time.monotonic() + 60
    while not list((tiny_project / "out").glob(".staging-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(_cli(tiny_project, "--formats", "html", "--wait", "0.5"),
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert second.returncode == 75, second.stderr
    assert "another build is running" in second.stderr and str(lock) in second.stderr
    third = subprocess.run(_cli(tiny_project, "--formats", "html", "--wait", "300"),
                           capture_output=True, text=True, check=False)  # fmt: skip
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert third.returncode == 0, third.stderr
    assert "Nothing to do" in third.stdout  # it waited, then found the first build's work
    assert _manifest(tiny_project)["reports"]["compare"]["status"] == "ok"


def test_sigkill_half_way_leaves_no_torn_file(tiny_project: Path) -> None:
    assert _build(tiny_project, "--formats", "html") == 0
    good = {p.name: p.read_bytes() for p in (tiny_project / "out").glob("*.*")}
    (tiny_project / "data" / "a.csv").write_text("name,value\nx,5\ny,5\n")
    (tiny_project / "data" / "b.csv").write_text("name,value\nx,50\ny,50\n")
    proc = subprocess.Popen(_cli(tiny_project, "--formats", "html", "--jobs", "1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    out = tiny_project / "out"
    deadline = time.monotonic() + 120
    # kill once the first report is in place and the second is still running
    while time.monotonic() < deadline:
        if (out / "rep-a.html").read_bytes() != good["rep-a.html"] and list(out.glob(".staging-*")):
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for path in out.glob("*.*"):  # every visible file is whole: the old or the new version
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".html":
            assert path.read_text().rstrip().endswith("</html>"), path
        elif path.suffix == ".ipynb":
            json.loads(path.read_text())
    assert (out / "rep-b.html").read_bytes() == good["rep-b.html"]
    assert (out / "manifest.json").read_bytes() == good["manifest.json"]
    # the next build completes and cleans what the killed one left
    assert _build(tiny_project, "--formats", "html") == 0
    assert not list(out.glob(".staging-*")) and not list(out.glob(".*.tmp"))
    assert _manifest(tiny_project)["reports"]["rep-b"]["headline"]["annual_savings"] == pytest.approx(100000.0)


def test_verbose_shows_cells_and_plain_lines_when_not_a_terminal(tiny_project: Path) -> None:
    run = subprocess.run(_cli(tiny_project, "--formats", "html", "--only", "rep-a", "-v"),
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "rep-a: Executing Cell 3" in run.stderr
    assert "\r" not in run.stderr  # no progress bar when not a terminal
    assert "rep-a: ok in" in run.stderr


def test_progress_bar_on_a_terminal(tiny_project: Path) -> None:
    """On a terminal (a pseudo-terminal here) the build draws a progress bar over reports."""
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(_cli(tiny_project, "--formats", "html", "--jobs", "2"),
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


def test_landing_page_words_the_break_even_ends_and_escapes_everything() -> None:
    from cxtradeoff.contracts import Manifest
    from cxtradeoff.pipeline.finish import render_index

    def entry(k: float | None, name: str) -> dict:
        return {"title": f"<i>{name}</i>", "notebook": "n.ipynb", "status": "ok",
                "outputs": {"html": f"{name}.html"}, "display_name": "<script>alert(1)</script>",
                "headline": {"currency": "EUR", "scenario": "hybrid", "annual_savings": 2.5e6,
                             "npv": 1.0, "break_even_conversion": k,
                             "break_even_conversion_npv": k, "p_loss": 0.004}}  # fmt: skip

    manifest = Manifest(build_id="b", built_at="t", config="reports.yaml", reports={
        "a": entry(1.3, "a"), "b": entry(-0.2, "b"), "c": entry(0.0589, "c"), "d": entry(None, "d")})  # fmt: skip
    page = render_index(manifest)
    assert "always pays" in page and "never pays" in page and "5.9%" in page
    assert "no exposure" in page  # the words formatting.py gives an undefined break-even
    assert "EUR 2.5 million" in page and "less than 1%" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<i>" not in page and "&lt;i&gt;a&lt;/i&gt;" in page


def test_each_kernel_runs_in_its_own_notebooks_folder(tiny_project: Path, run_build, probes) -> None:
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
