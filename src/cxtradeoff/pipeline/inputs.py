"""What a report is made from: hashes of its input files, and the build's provenance.

Reading files and asking git are I/O; deciding from these hashes what to rebuild is
:mod:`cxtradeoff.pipeline.plan`'s, which does none.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from cxtradeoff.paths import LOCK_FILE, PACKAGE_DIR, ROOT
from cxtradeoff.pipeline.config import ReportSpec

#: packages whose versions every manifest records
VERSIONED_PACKAGES = (
    "cxtradeoff", "papermill", "nbconvert", "nbclient", "ipykernel", "pandas", "numpy",
    "seaborn", "matplotlib", "pandera", "pydantic", "playwright",
)  # fmt: skip


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(folder: Path, *, patterns: Iterable[str] = ("*.py", "*.j2", "*.json")) -> str:
    """One SHA-256 over the files of ``folder`` matching ``patterns`` (names and bytes)."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in patterns for p in folder.rglob(pattern) if p.is_file()})
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it (as a manifest shows it), else as is."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def shared_inputs() -> dict[str, str]:
    """Hashes of what every report is made from: the package source and the lock file."""
    hashes = {"package:cxtradeoff": tree_sha256(PACKAGE_DIR)}
    if LOCK_FILE.is_file():
        hashes["requirements.lock"] = file_sha256(LOCK_FILE)
    return hashes


def report_inputs(spec: ReportSpec, *, root: Path, shared: dict[str, str]) -> dict[str, str]:
    """Hashes of everything a report is made from, keyed by a readable name."""
    hashes = {relative_name(spec.notebook, root): file_sha256(spec.notebook)}
    for path in spec.inputs:
        name = relative_name(path, root)
        # the part of the file the report reads, when that is all it depends on
        hashes[name] = spec.input_digests.get(name) or file_sha256(path)
    return {**hashes, **shared}


def git_commit(root: Path = ROOT) -> str | None:
    """The checked-out commit, with ``-dirty`` when tracked files changed; None outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if dirty else head


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`VERSIONED_PACKAGES`."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions
