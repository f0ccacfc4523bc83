"""Every user or operator error of `cxtradeoff build`: one message, a documented status,
no traceback, nothing written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cxtradeoff import errors
from cxtradeoff.paths import ROOT

CASES = {
    # name: (arguments, configuration: the tiny project's, or these bytes (None: a folder),
    #        status, words said)
    "missing config": (["--config", "{tmp}/nope.yaml"], "project", 2, "configuration file not found"),
    "config is a folder": ([], None, 2, "cannot be read"),
    "config not UTF-8": ([], "reports: [caf\xe9]".encode("latin-1"), 2, "not UTF-8 text"),
    "config not YAML": ([], b"reports: [unclosed\n", 2, "not valid YAML"),
    "jobs 0": (["--jobs", "0"], "project", 2, "--jobs 0: expected a number of notebooks >= 1"),
    "keep -1": (["--keep", "-1"], "project", 2, "--keep -1: expected 0 or more"),
    "wait -1": (["--wait", "-1"], "project", 2, "--wait -1: expected 0 or more seconds"),
    "formats docx": (["--formats", "docx"], "project", 2, "--formats 'docx': expected html, pdf"),
    "unknown report": (["--only", "nope"], "project", 2, "no report named 'nope'"),
    "out is a file": (["--out", "{tmp}/file"], "project", 73, "is a file, not a folder"),
    "out under a file": (["--out", "{tmp}/file/reports"], "project", 73, "cannot write"),
    "no chromium for pdf": (["--formats", "pdf"], "project", 3, "is not an executable file"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_an_operator_error_is_one_message_and_its_status(
    case: str, tiny_project: Path, tmp_path: Path, nothing_written, monkeypatch, capsys
) -> None:
    from cxtradeoff.cli import main

    args, content, status, said = CASES[case]
    if "pdf" in args:
        monkeypatch.setenv("CXTRADEOFF_CHROMIUM", str(tmp_path / "no-chromium"))
    (tmp_path / "file").write_text("a file, not a folder")
    config = tiny_project / "reports.yaml" if content == "project" else tmp_path / "reports.yaml"
    if content is None:
        config.mkdir()
    elif isinstance(content, bytes):
        config.write_bytes(content)
    argv = ["build", "--config", str(config), "--out", str(tmp_path / "out")]
    argv += [a.format(tmp=tmp_path) for a in args]
    assert main(argv) == status
    err = capsys.readouterr().err
    assert said in err and err.startswith("cxtradeoff build: error: "), err
    assert nothing_written(tmp_path / "out")


def test_the_lock_held_by_another_build_is_status_75(tiny_project: Path, run_build, capsys) -> None:
    from filelock import FileLock

    (tiny_project / "out").mkdir()
    with FileLock(str(tiny_project / "out" / ".build.lock")):
        assert run_build(tiny_project, "--wait", "0.1") == 75
    assert "another build is running" in capsys.readouterr().err


def test_no_traceback_from_the_real_command_line(tmp_path: Path) -> None:
    """The same as a user sees it: the command, its status, one line, no traceback."""
    (tmp_path / "file").write_text("x")
    cmd = [sys.executable, "-m", "cxtradeoff.cli", "build", "--out", str(tmp_path / "file")]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == errors.EXIT_OUTPUT
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def _table(text: str) -> set[int]:
    """Statuses stated after 'Exit status:' (a number followed by words)."""
    return {int(c) for c in re.findall(r"\b(\d+) [a-zA-Z(]", text.split("Exit status:", 1)[1])}


def test_the_exit_statuses_in_readme_help_and_errors_agree() -> None:
    from cxtradeoff.commands import build as build_command

    documented = {int(c) for c in re.findall(r"^(\d+)\s{2,}\S", errors.__doc__ or "", re.MULTILINE)}
    constants = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    assert documented == constants  # errors.py: its table lists each constant
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme_build = _table(readme.split("## Exploring in JupyterLab")[0])
    assert readme_build == _table(build_command.__doc__ or "")  # README and `build --help`
    assert readme_build == documented - {errors.EXIT_DELIVERY}  # all but the e-mail's
    raised = {cls.exit_code for cls in vars(errors).values()
              if isinstance(cls, type) and issubclass(cls, errors.CxTradeoffError)}  # fmt: skip
    assert raised <= documented
