"""The sent log: which report of which build went to whom, and in what state.

``.sent-log.jsonl`` lives beside the reports: one JSON object per line, one line per
(build, report, recipient) and state change; the last line of a key is its state.
A run holds ``.sent-log.jsonl.lock`` from reading the log to recording its last answer,
so two runs never send the same thing. The states, in the order a message goes through
them (:mod:`cxtradeoff.delivery.email.send` drives them):

``sending``
    Reserved: written, and on disk, before the message goes. A ``sending`` line found
    by a later run means the run that wrote it never recorded the server's answer.
``sent``
    The server accepted the message for that recipient.
``possibly sent``
    The message may have been delivered: the server's answer to its end never came, or
    a run found a ``sending`` left by an earlier one. Not sent again without ``--resend``.
``failed``
    Not delivered (refused, or the server could not be reached): the next run sends it.

Lines written before these states existed have no ``state``; they were written after
the server accepted the message, and read as ``sent``.

Every change rewrites the log through the package's one atomic write
(:func:`cxtradeoff.files.atomic_write_bytes`) and then syncs its folder, so a change is
on disk when it returns, and a failed one (full disk, read-only file system) leaves the
log as it was and raises :class:`~cxtradeoff.errors.SentLogWriteError` naming the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, ValidationError

from cxtradeoff.errors import SentLogError, SentLogWriteError
from cxtradeoff.files import atomic_write_bytes

#: name of the sent log inside the reports directory (JSON lines)
SENT_LOG_NAME = ".sent-log.jsonl"

State = Literal["sending", "sent", "possibly sent", "failed"]
SENDING: State = "sending"
SENT: State = "sent"
POSSIBLY_SENT: State = "possibly sent"
FAILED: State = "failed"
#: states that keep a report from being sent again to the same person without --resend
HOLDING_STATES: frozenset[State] = frozenset({SENDING, SENT, POSSIBLY_SENT})

#: (build id, report, recipient lower-cased)
Key = tuple[str, str, str]


class SentRecord(BaseModel):
    """One line of the sent log."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    build_id: str
    report: str
    recipient: str  # lower-cased
    #: lines from before the states existed were written once the server had accepted
    state: State = "sent"
    at: str | None = None
    message_id: str | None = None
    pdf: str | None = None
    reason: str | None = None  # why a message is possibly sent, or failed

    @property
    def key(self) -> Key:
        return (self.build_id, self.report, self.recipient.lower())


def sent_log_path(reports_dir: Path) -> Path:
    """The sent log of a reports directory."""
    return Path(reports_dir) / SENT_LOG_NAME


def sent_log_lock(log_path: Path, timeout: float) -> FileLock:
    """The lock a run holds on the sent log from reading it to recording its last answer."""
    return FileLock(str(log_path) + ".lock", timeout=timeout)


def read_sent_log(log_path: Path) -> dict[Key, SentRecord]:
    """The current state of every key in the log (its last line); empty if there is no log.

    Raises
    ------
    SentLogError
        The log cannot be read, or a line is not a record (names the line).
    """
    if not log_path.exists():
        return {}
    try:
        text = log_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SentLogError(f"cannot read the sent log {log_path} ({why})") from None
    current: dict[Key, SentRecord] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = SentRecord.model_validate_json(line)
        except ValidationError:
            raise SentLogError(
                f"{log_path} line {number}: expected a JSON object with build_id, report "
                "and recipient; fix or delete the line"
            ) from None
        current[record.key] = record
    return current


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (the new name on disk, not only in memory)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_sent_log(log_path: Path, records: Sequence[SentRecord]) -> None:
    """Add records to the log; on disk when this returns. Hold the lock around it.

    Raises
    ------
    SentLogWriteError
        The log could not be written; it is left as it was.
    """
    if not records:
        return
    lines = "".join(
        json.dumps(r.model_dump(exclude_none=True), sort_keys=True) + "\n" for r in records
    )
    try:
        old = log_path.read_bytes() if log_path.exists() else b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        atomic_write_bytes(log_path, old + lines.encode("utf-8"))
        _sync_folder(log_path.parent)
    except OSError as exc:
        raise SentLogWriteError(
            f"cannot write the sent log {log_path} ({exc.strerror or exc})",
            path=log_path,
            delivered=False,
        ) from None
