"""The package and tests pass the project's linters (the `make lint` target)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cxtradeoff.paths import ROOT

BIN = Path(sys.executable).parent


def test_ruff() -> None:
    run = subprocess.run([str(BIN / "ruff"), "check", "src", "tests", "benchmarks"], cwd=ROOT,
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy() -> None:
    run = subprocess.run([str(BIN / "mypy"), "src"], cwd=ROOT, capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_format() -> None:
    run = subprocess.run([str(BIN / "ruff"), "format", "--check", "src", "tests", "benchmarks"],
                         cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
