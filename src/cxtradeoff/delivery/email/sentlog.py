"""The sent log: which report of which build went to whom (``.sent-log.jsonl``, JSON lines).

It lives beside the reports and is locked (``.sent-log.jsonl.lock``) for a whole run so
that two runs do not mail the same build twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from filelock import FileLock

from cxtradeoff.errors import SentLogError

#: name of the sent log inside the reports directory (JSON lines)
SENT_LOG_NAME = ".sent-log.jsonl"


def sent_log_path(reports_dir: Path) -> Path:
    """The sent log of a reports directory."""
    return Path(reports_dir) / SENT_LOG_NAME


def sent_log_lock(log_path: Path, timeout: float) -> FileLock:
    """The lock a run holds on the sent log while it reads, sends and appends."""
    return FileLock(str(log_path) + ".lock", timeout=timeout)


def read_sent_log(log_path: Path) -> set[tuple[str, str, str]]:
    """Keys ``(build_id, report, recipient lower-cased)`` already sent; empty if no log.

    Raises
    ------
    SentLogError
        A line is not a JSON object with those keys (names the line).
    """
    keys: set[tuple[str, str, str]] = set()
    if not log_path.is_file():
        return keys
    with log_path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                keys.add((entry["build_id"], entry["report"], entry["recipient"].lower()))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                raise SentLogError(
                    f"{log_path} line {number}: expected a JSON object with build_id, report "
                    "and recipient; fix or delete the line"
                ) from None
    return keys


def append_sent_log(log_path: Path, entries: Sequence[Mapping[str, Any]]) -> None:
    """Append entries as JSON lines in one write, flushed to disk. Hold the lock around it."""
    if not entries:
        return
    data = "".join(json.dumps(dict(e), sort_keys=True) + "\n" for e in entries)
    with log_path.open("a", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
