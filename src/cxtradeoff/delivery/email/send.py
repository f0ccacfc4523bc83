"""Sending the reports of the last build: choose, plan, build each message, deliver, log.

:func:`send_reports` is the whole task; :func:`write_dry_run` writes the message it would
send to an ``.eml`` file instead, reading and writing no sent log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from filelock import Timeout

from cxtradeoff.contracts import Manifest
from cxtradeoff.delivery.email.addresses import parse_recipients
from cxtradeoff.delivery.email.message import attachment_filename, build_message, message_bytes
from cxtradeoff.delivery.email.selection import (
    Attachment,
    Unavailable,
    load_manifest,
    select_reports,
)
from cxtradeoff.delivery.email.sentlog import (
    append_sent_log,
    read_sent_log,
    sent_log_lock,
    sent_log_path,
)
from cxtradeoff.delivery.email.settings import SmtpSettings
from cxtradeoff.delivery.email.transport import deliver
from cxtradeoff.errors import DeliveryError, SentLogError
from cxtradeoff.files import atomic_write_bytes


@dataclass
class SendSummary:
    """What :func:`send_reports` did, for the command line to present.

    Attributes
    ----------
    build_id : str
    reports : list of str
        Reports considered for sending.
    unavailable : list of (str, str)
        Reports not attached (name, reason); only when all were asked for.
    sent : list of (str, list of str, str)
        (recipient, reports sent, Message-ID) for every recipient the server accepted.
    skipped : list of (str, list of str)
        (recipient, reports already sent to them for this build).
    refused : list of (str, int, str)
        (recipient, SMTP code, reply) for recipients the server refused.
    failure : DeliveryError or None
        The error that stopped delivery; messages before it were sent and logged.
    """

    build_id: str
    reports: list[str]
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    sent: list[tuple[str, list[str], str]] = field(default_factory=list)
    skipped: list[tuple[str, list[str]]] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    failure: DeliveryError | None = None


def plan_groups(
    reports: Sequence[tuple[str, str]],
    recipients: Sequence[str],
    *,
    already_sent: set[tuple[str, str, str]],
    resend: bool,
) -> tuple[dict[tuple[str, ...], list[str]], list[tuple[str, list[str]]]]:
    """Group recipients by the reports they still need; list what each already has.

    Parameters
    ----------
    reports
        (report name, build id of its files) pairs.
    recipients
        Addresses.
    already_sent
        Keys ``(build_id, report, recipient lower-cased)`` from the sent log.
    resend
        Ignore ``already_sent``.

    Returns
    -------
    groups
        Tuple of report names -> recipients who need exactly those (one message each).
    skipped
        (recipient, reports already sent) for recipients with something skipped.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    skipped: list[tuple[str, list[str]]] = []
    for rcpt in recipients:
        done = [
            name
            for name, build_id in reports
            if not resend and (build_id, name, rcpt.lower()) in already_sent
        ]
        todo = tuple(name for name, _ in reports if name not in done)
        if done:
            skipped.append((rcpt, done))
        if todo:
            groups.setdefault(todo, []).append(rcpt)
    return groups, skipped


def prepare(
    reports_dir: Path, *, report_names: Sequence[str] | None
) -> tuple[Manifest, list[Attachment], list[Unavailable]]:
    """Load the manifest and choose the reports (see :func:`select_reports`)."""
    manifest = load_manifest(reports_dir)
    attach, unavailable = select_reports(manifest, reports_dir, names=report_names)
    return manifest, attach, unavailable


def write_dry_run(
    path: Path,
    *,
    reports_dir: Path,
    recipients: Sequence[str],
    report_names: Sequence[str] | None,
    sender: str,
    subject: str | None = None,
) -> tuple[Path, EmailMessage]:
    """Write the message for every chosen report and recipient to an ``.eml`` file.

    The sent log is neither read nor written: this is the message ``--resend`` sends.
    """
    manifest, attach, unavailable = prepare(reports_dir, report_names=report_names)
    msg = build_message(
        manifest,
        attach,
        sender=sender,
        recipients=parse_recipients(recipients),
        unavailable=unavailable,
        subject=subject,
    )
    return atomic_write_bytes(Path(path), message_bytes(msg)), msg


def send_reports(
    *,
    reports_dir: Path,
    recipients: Sequence[str],
    report_names: Sequence[str] | None,
    settings: SmtpSettings,
    subject: str | None = None,
    resend: bool = False,
    lock_timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> SendSummary:
    """E-mail the chosen reports of the last build, skipping what was already sent.

    The sent log is locked for the whole run so that two runs do not mail the same
    build twice; accepted recipients are logged right after each message.

    Returns
    -------
    SendSummary
        With ``failure`` set when delivery stopped on an error.

    Raises
    ------
    ManifestError, ReportUnavailableError, RecipientError, SentLogError
        Before anything is sent.
    """
    addresses = parse_recipients(recipients)
    manifest, attach, unavailable = prepare(reports_dir, report_names=report_names)
    names = [r.name for r in attach]
    by_name = {r.name: r for r in attach}
    summary = SendSummary(
        build_id=manifest.build_id,
        reports=names,
        unavailable=[(u.name, u.reason) for u in unavailable],
    )
    log_path = sent_log_path(reports_dir)
    try:
        with sent_log_lock(log_path, lock_timeout):
            groups, summary.skipped = plan_groups(
                [(r.name, r.build_id) for r in attach],
                addresses,
                already_sent=read_sent_log(log_path),
                resend=resend,
            )
            for group_reports, group_rcpts in groups.items():
                chosen = [by_name[n] for n in group_reports]
                msg = build_message(
                    manifest,
                    chosen,
                    sender=settings.sender,
                    recipients=group_rcpts,
                    unavailable=unavailable,
                    subject=subject,
                )
                try:
                    result = deliver(
                        message_bytes(msg),
                        sender=settings.sender,
                        recipients=group_rcpts,
                        settings=settings,
                        sleep=sleep,
                    )
                except DeliveryError as exc:
                    summary.failure = exc
                    break
                now = datetime.now(UTC).isoformat(timespec="seconds")
                append_sent_log(
                    log_path,
                    [
                        {
                            "build_id": by_name[name].build_id,
                            "report": name,
                            "recipient": rcpt.lower(),
                            "sent_at": now,
                            "message_id": msg["Message-ID"],
                            "pdf": attachment_filename(name),
                        }
                        for rcpt in result.accepted
                        for name in group_reports
                    ],
                )
                summary.sent.extend(
                    (rcpt, list(group_reports), str(msg["Message-ID"])) for rcpt in result.accepted
                )
                summary.refused.extend(
                    (rcpt, code, reply) for rcpt, (code, reply) in result.refused.items()
                )
    except Timeout:
        raise SentLogError(
            f"{log_path}.lock is held by another 'cxtradeoff email' run "
            f"(waited {lock_timeout:g} s); try again when it has finished"
        ) from None
    return summary
