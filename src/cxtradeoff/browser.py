"""Find, or install, the Chromium that prints PDF reports.

Search order: the ``CXTRADEOFF_CHROMIUM`` environment variable; ``chromium``,
``chromium-browser`` or ``google-chrome`` on ``PATH``; Playwright's own download.
``python -m cxtradeoff.browser ensure`` installs one when none is found: Debian's
``chromium`` package when running as root on Debian or Ubuntu, otherwise
``python -m playwright install chromium``. If both fail it says what to install and
exits 0, because HTML reports can still be built.

This module imports nothing heavy so that ``make`` stays fast. It finds the browser; the
pipeline is handed its path by the command line and prints with it
(:mod:`cxtradeoff.pipeline.export`, which also holds the flags Chromium is launched with).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cxtradeoff.errors import BrowserNotFoundError

ENV_VAR = "CXTRADEOFF_CHROMIUM"
PATH_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome")


def _playwright_download() -> str | None:
    base = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache/ms-playwright")
    patterns = ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/chrome-*/chrome*")
    for pattern in patterns:
        found = sorted(glob.glob(str(Path(base) / pattern)))
        if found:
            return found[-1]
    return None


def find_chromium() -> str | None:
    """Return the path of a Chromium executable, or ``None`` when there is none.

    Returns
    -------
    str or None
        The first executable found in the documented search order.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        path = shutil.which(env) or env
        if Path(path).is_file() and os.access(path, os.X_OK):
            return str(path)
        return None
    for name in PATH_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return _playwright_download()


def require_chromium() -> str:
    """Return a Chromium executable or raise :class:`BrowserNotFoundError`."""
    path = find_chromium()
    if path is None:
        env = os.environ.get(ENV_VAR)
        where = f"{ENV_VAR}={env!r} is not an executable file" if env else "none was found"
        raise BrowserNotFoundError(
            f"PDF reports need Chromium and {where}. Install Debian's 'chromium' package "
            f"(apt-get install chromium), run 'python -m playwright install chromium', or set "
            f"{ENV_VAR} to a Chromium or Chrome executable."
        )
    return path


def _is_debian_like() -> bool:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8").lower()
    except OSError:
        return False
    return any(f"id={d}" in text or f"id_like={d}" in text for d in ("debian", "ubuntu")) or (
        "debian" in text
    )


def _run(cmd: list[str]) -> bool:
    print("+ " + " ".join(cmd), file=sys.stderr)
    try:
        return subprocess.run(cmd, check=False).returncode == 0
    except OSError:
        return False


def ensure_chromium() -> str | None:
    """Find a Chromium, installing one if needed; ``None`` if that failed too."""
    found = find_chromium()
    if found or os.environ.get(ENV_VAR):
        return found
    if (
        hasattr(os, "geteuid")
        and os.geteuid() == 0
        and _is_debian_like()
        and shutil.which("apt-get")
    ):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        ok = subprocess.run(["apt-get", "update", "-qq"], env=env, check=False).returncode == 0
        ok = (
            ok
            and subprocess.run(
                [
                    "apt-get",
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    "chromium",
                    "fonts-dejavu-core",
                ],
                env=env,
                check=False,
            ).returncode
            == 0
        )
        found = find_chromium()
        if found:
            return found
    if _run([sys.executable, "-m", "playwright", "install", "chromium"]):
        found = find_chromium()
    return found


def main(argv: list[str] | None = None) -> int:
    """``python -m cxtradeoff.browser [find|ensure]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    action = argv[0] if argv else "find"
    if action == "find":
        path = find_chromium()
        if path is None:
            print("no Chromium found", file=sys.stderr)
            return 1
        print(path)
        return 0
    if action == "ensure":
        path = ensure_chromium()
        if path is None:
            print(
                "WARNING: no Chromium could be found or installed, so PDF reports will be skipped "
                "and HTML reports still built. Install Debian's 'chromium' package, or run "
                f"'python -m playwright install chromium', or set {ENV_VAR}.",
                file=sys.stderr,
            )
        return 0
    print(f"usage: python -m cxtradeoff.browser [find|ensure], not {action!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
