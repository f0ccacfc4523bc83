"""Writing files so that a reader never sees half of one: the package's one way to write.

Every output is written to a temporary file in the destination folder, flushed to disk
and renamed over the target, so a crash or a full disk leaves either the old file or the
new one, never a torn one. Every file written here is world-readable (mode 0644), as a
build tool's outputs are: a web server or a colleague may read the reports. Nothing here
changes the process umask.

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> target = atomic_write_json(folder / "a.json", {"npv": 1.5})
>>> target.read_text(encoding="utf-8")
'{\\n  "npv": 1.5\\n}\\n'
>>> oct(target.stat().st_mode & 0o777)
'0o644'
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "OUTPUT_MODE",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "move_into_place",
]

#: permission bits of every file the package writes
OUTPUT_MODE: int = 0o644


def _temporary_beside(path: Path) -> tuple[int, Path]:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    return fd, Path(tmp)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Returns
    -------
    Path
        The file written (mode 0644).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary_beside(target)
    try:
        os.fchmod(fd, OUTPUT_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (no NaN, UTF-8, final newline) atomically.

    Raises
    ------
    ValueError
        If ``data`` holds NaN or infinity: JSON has no spelling for them.
    """
    text = json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False)
    return atomic_write_text(path, text + "\n")


def move_into_place(src: str | Path, dest: str | Path) -> Path:
    """Move a finished file into place atomically (copy first when on another file system).

    The file at ``dest`` ends with mode 0644 whichever way it got there.
    """
    src, dest = Path(src), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        src.chmod(OUTPUT_MODE)
        os.replace(src, dest)
    except OSError:
        fd, tmp = _temporary_beside(dest)
        try:
            os.close(fd)
            shutil.copyfile(src, tmp)
            tmp.chmod(OUTPUT_MODE)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        src.unlink()
    return dest
