"""Finding the Chromium that prints PDFs, and building without one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cxtradeoff import browser
from cxtradeoff.errors import BrowserNotFoundError


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_search_order_env_then_path_then_playwright(tmp_path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    pw_dir = tmp_path / "ms-playwright"
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(pw_dir))
    monkeypatch.delenv(browser.ENV_VAR, raising=False)
    assert browser.find_chromium() is None
    with pytest.raises(BrowserNotFoundError, match="apt-get install chromium"):
        browser.require_chromium()

    downloaded = _exe(pw_dir / "chromium-1234" / "chrome-linux" / "chrome")
    assert browser.find_chromium() == str(downloaded)
    chrome = _exe(bin_dir / "google-chrome")
    assert browser.find_chromium() == str(chrome)
    chromium = _exe(bin_dir / "chromium")
    assert browser.find_chromium() == str(chromium)  # chromium before google-chrome
    mine = _exe(tmp_path / "my" / "chrome")
    monkeypatch.setenv(browser.ENV_VAR, str(mine))
    assert browser.find_chromium() == str(mine)  # the variable wins
    monkeypatch.setenv(browser.ENV_VAR, str(tmp_path / "missing"))
    assert browser.find_chromium() is None  # a wrong variable is not silently ignored
    with pytest.raises(BrowserNotFoundError, match="is not an executable file"):
        browser.require_chromium()


def test_ensure_says_what_to_install_and_exits_0(tmp_path) -> None:
    env = {**os.environ, browser.ENV_VAR: str(tmp_path / "missing")}
    run = subprocess.run([sys.executable, "-m", "cxtradeoff.browser", "ensure"], env=env,
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0
    assert "PDF reports will be skipped and HTML reports still built" in run.stderr
    assert "apt-get" not in run.stdout
    found = subprocess.run([sys.executable, "-m", "cxtradeoff.browser", "find"], env=env,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert found.returncode == 1


@pytest.mark.slow
def test_without_chromium_html_is_built_and_asking_for_pdf_fails(
    tiny_project, tmp_path, build_command
) -> None:
    env = {**os.environ, browser.ENV_VAR: str(tmp_path / "missing")}
    cmd = build_command(tiny_project, "--only", "rep-a")
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "no Chromium found, so PDFs are skipped and HTML built" in run.stderr
    assert (tiny_project / "out" / "rep-a.html").is_file()
    assert not (tiny_project / "out" / "rep-a.pdf").exists()
    run = subprocess.run(
        [*cmd, "--formats", "pdf"], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 3
    assert "is not an executable file" in run.stderr
