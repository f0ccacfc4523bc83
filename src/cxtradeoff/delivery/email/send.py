"""Sending the briefs (and reports) of the last build, each to each recipient exactly once.

:func:`send_reports` is the task, in named steps: choose the reports (:func:`prepare`);
lock and read the sent log; settle what an interrupted run left there
(:func:`settle_interrupted`); plan one message per group of recipients who need the
same reports (:func:`plan_groups`); then, for each message, reserve it in the log,
deliver it and record the server's answer (:func:`send_one`). :func:`write_dry_run`
writes the message to an ``.eml`` file instead and reads or writes no sent log.

Exactly once
------------
A message is reserved in the sent log (``sending``, with its Message-ID) before it goes,
and confirmed (``sent``) once the server has accepted it:

- the reservation cannot be written: nothing is sent (:class:`SentLogWriteError`);
- the server refuses, or cannot be reached before the end of the message: ``failed``,
  and the next run sends it (transient failures are first retried with back-off);
- the message reached the server in full but its answer never came (time-out after the
  final dot, connection lost): ``possibly sent``, never retried, reported
  (:class:`DeliveryOutcomeUnknownError`, exit status 4);
- the confirmation cannot be written, or the run is killed before it: the reservation
  stays; the next run finds it, records ``possibly sent``, reports it (exit 4) and sends
  nothing for it.

Only ``--resend`` sends a report again to someone whose state is ``sent``, ``sending``
or ``possibly sent``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
    Selection,
    choose,
    load_manifest,
)
from cxtradeoff.delivery.email.sentlog import (
    FAILED,
    HOLDING_STATES,
    POSSIBLY_SENT,
    SENDING,
    SENT,
    Key,
    SentRecord,
    State,
    append_sent_log,
    read_sent_log,
    sent_log_lock,
    sent_log_path,
)
from cxtradeoff.delivery.email.settings import SmtpSettings
from cxtradeoff.delivery.email.transport import DeliveryResult, deliver
from cxtradeoff.errors import (
    DeliveryOutcomeUnknownError,
    EmailError,
    SentLogError,
    SentLogWriteError,
)
from cxtradeoff.files import atomic_write_bytes

#: why a reservation found by a later run is a possible delivery
INTERRUPTED = (
    "an earlier run reserved it and never recorded the server's answer "
    "(it was interrupted, or could not write the sent log)"
)


@dataclass(frozen=True)
class PossiblySent:
    """Reports that may have reached a recipient: not sent again without ``--resend``.

    ``new`` is True when this run found out (its own delivery had an unknown outcome,
    or it found an interrupted run's reservation); False when an earlier run did and
    reported it.
    """

    recipient: str
    reports: list[str]
    message_id: str | None
    reason: str
    new: bool


@dataclass
class SendSummary:
    """What :func:`send_reports` did, for the command line to present.

    Attributes
    ----------
    build_id : str
    reports : list of str
        Reports considered for sending (a company's brief, ``NAME.brief``, by default).
    unavailable : list of (str, str)
        Reports not attached (name, reason); only when all were asked for.
    sent : list of (str, list of str, str)
        (recipient, reports sent, Message-ID) for every recipient the server accepted.
    skipped : list of (str, list of str)
        (recipient, reports already sent to them for this build).
    possibly_sent : list of PossiblySent
        Reports that may have reached a recipient, not sent again.
    refused : list of (str, int, str)
        (recipient, SMTP code, reply) for recipients the server refused.
    failure : EmailError or None
        The error that stopped the run (a delivery failure, an unknown outcome, a sent
        log that cannot be written); what was sent before it is recorded.
    log_path : Path or None
        The sent log.
    """

    build_id: str
    reports: list[str]
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    sent: list[tuple[str, list[str], str]] = field(default_factory=list)
    skipped: list[tuple[str, list[str]]] = field(default_factory=list)
    possibly_sent: list[PossiblySent] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    failure: EmailError | None = None
    log_path: Path | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def prepare(
    reports_dir: Path, *, report_names: Sequence[str] | None, full: bool = False
) -> tuple[Manifest, Selection]:
    """Load the manifest and choose what to attach: the briefs, and with ``full`` the
    full reports (see :func:`~cxtradeoff.delivery.email.selection.choose`)."""
    manifest = load_manifest(reports_dir)
    return manifest, choose(manifest, reports_dir, names=report_names, full=full)


def settle_interrupted(
    log_path: Path,
    log: dict[Key, SentRecord],
    keys: Sequence[Key],
) -> list[SentRecord]:
    """Record as ``possibly sent`` the reservations an earlier run left among ``keys``.

    Call with the lock held: a ``sending`` line is then never a live run's. Returns the
    records written (and updates ``log``).

    Raises
    ------
    SentLogWriteError
        They could not be recorded; nothing has been sent.
    """
    stale = [log[k] for k in keys if k in log and log[k].state == SENDING]
    settled = [
        r.model_copy(update={"state": POSSIBLY_SENT, "at": _now(), "reason": INTERRUPTED})
        for r in stale
    ]
    try:
        append_sent_log(log_path, settled)
    except SentLogWriteError as exc:
        raise SentLogWriteError(
            f"{exc}; nothing was sent. It holds reservations an earlier run left "
            "(possibly delivered) that this run must record before sending anything",
            path=exc.path,
            delivered=False,
        ) from None
    log.update((r.key, r) for r in settled)
    return settled


def plan_groups(
    reports: Sequence[tuple[str, str]],
    recipients: Sequence[str],
    *,
    states: dict[Key, State],
    resend: bool,
) -> tuple[dict[tuple[str, ...], list[str]], dict[str, dict[State, list[str]]]]:
    """Group recipients by the reports they still need; list what each is not sent.

    Parameters
    ----------
    reports
        (report name, build id of its files) pairs.
    recipients
        Addresses.
    states
        ``(build_id, report, recipient lower-cased)`` -> state, from the sent log.
    resend
        Send whatever the log says.

    Returns
    -------
    groups
        Tuple of report names -> recipients who need exactly those (one message each).
    held
        Recipient -> state (``sent``, ``sending``, ``possibly sent``) -> reports not
        sent to them again, for recipients with any.

    Examples
    --------
    >>> groups, held = plan_groups([("a", "b1"), ("c", "b1")], ["x@t.test", "y@t.test"],
    ...                            states={("b1", "a", "x@t.test"): "sent"}, resend=False)
    >>> groups
    {('c',): ['x@t.test'], ('a', 'c'): ['y@t.test']}
    >>> held
    {'x@t.test': {'sent': ['a']}}
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    held: dict[str, dict[State, list[str]]] = {}
    for rcpt in recipients:
        todo: list[str] = []
        for name, build_id in reports:
            state = states.get((build_id, name, rcpt.lower()))
            if not resend and state in HOLDING_STATES:
                assert state is not None
                held.setdefault(rcpt, {}).setdefault(state, []).append(name)
            else:
                todo.append(name)
        if todo:
            groups.setdefault(tuple(todo), []).append(rcpt)
    return groups, held


def write_dry_run(
    path: Path,
    *,
    reports_dir: Path,
    recipients: Sequence[str],
    report_names: Sequence[str] | None,
    sender: str,
    subject: str | None = None,
    full: bool = False,
) -> tuple[Path, EmailMessage]:
    """Write the message for every chosen report and recipient to an ``.eml`` file.

    The sent log is neither read nor written: this is the message ``--resend`` sends.
    """
    manifest, chosen = prepare(reports_dir, report_names=report_names, full=full)
    msg = build_message(
        manifest,
        chosen.attach,
        sender=sender,
        recipients=parse_recipients(recipients),
        unavailable=chosen.unavailable,
        left_out=chosen.left_out,
        subject=subject,
    )
    return atomic_write_bytes(Path(path), message_bytes(msg)), msg


def _what(chosen: Sequence[Attachment], recipients: Sequence[str]) -> str:
    builds = ", ".join(dict.fromkeys(a.build_id for a in chosen))
    reports = ", ".join(a.name for a in chosen)
    return f"build {builds} ({reports}) to {', '.join(recipients)}"


def send_one(
    log_path: Path,
    msg: EmailMessage,
    chosen: Sequence[Attachment],
    recipients: Sequence[str],
    *,
    settings: SmtpSettings,
    sleep: Callable[[float], None],
) -> DeliveryResult:
    """Reserve one message in the sent log, deliver it, record the server's answer.

    Raises
    ------
    SentLogWriteError
        The reservation could not be written (nothing was sent), or the answer could
        not be recorded (the reservation stays, so nothing is sent again).
    """
    message_id = str(msg["Message-ID"])
    what = _what(chosen, recipients)

    def records(state: State, rcpts: Sequence[str], reason: str | None = None) -> list[SentRecord]:
        at = _now()
        return [
            SentRecord(
                build_id=a.build_id, report=a.name, recipient=r.lower(), state=state, at=at,
                message_id=message_id, pdf=attachment_filename(a.name), reason=reason,
            )
            for r in rcpts
            for a in chosen
        ]  # fmt: skip

    try:
        append_sent_log(log_path, records(SENDING, recipients))
    except SentLogWriteError as exc:
        raise SentLogWriteError(
            f"{exc}; nothing was sent ({what}): a message goes only once its reservation "
            "is on disk. Free space or fix the file, then run again",
            path=exc.path,
            delivered=False,
        ) from None

    result = deliver(
        message_bytes(msg),
        sender=settings.sender,
        recipients=recipients,
        settings=settings,
        sleep=sleep,
    )

    answered = {*result.accepted, *result.unknown, *result.refused}
    answer = records(SENT, result.accepted) + records(
        POSSIBLY_SENT, result.unknown, result.unknown_reason
    )
    for rcpt, (code, reply) in result.refused.items():
        answer += records(FAILED, [rcpt], f"refused: {code} {reply}")
    if result.failure is not None:
        answer += records(FAILED, [r for r in recipients if r not in answered], str(result.failure))
    try:
        append_sent_log(log_path, answer)
    except SentLogWriteError as exc:
        if result.accepted:
            happened = f"the server accepted it for {', '.join(result.accepted)}"
        elif result.unknown:
            happened = f"its outcome is unknown ({result.unknown_reason})"
        else:
            happened = "the server did not take it"
        raise SentLogWriteError(
            f"{exc}: {what}, Message-ID {message_id}: {happened}, but this could not be "
            "recorded. Its reservation ('sending') stays in the log, so no later run sends "
            "it again without --resend; the next run reports it as possibly sent",
            path=exc.path,
            delivered=bool(result.accepted or result.unknown),
        ) from None
    return result


def _unknown_outcome(summary: SendSummary) -> DeliveryOutcomeUnknownError:
    new = [p for p in summary.possibly_sent if p.new]
    details = "; ".join(
        f"{', '.join(p.reports)} to {p.recipient} (Message-ID {p.message_id}): {p.reason}"
        for p in new
    )
    return DeliveryOutcomeUnknownError(
        f"delivery outcome unknown for build {summary.build_id}: {details}. It may have been "
        f"delivered, so it is recorded as 'possibly sent' in {summary.log_path} and not "
        "retried; check the mailbox, and run again with --resend only if it did not arrive",
        recipients=tuple(dict.fromkeys(p.recipient for p in new)),
        message_ids=tuple(dict.fromkeys(p.message_id or "" for p in new)),
    )


def send_reports(
    *,
    reports_dir: Path,
    recipients: Sequence[str],
    report_names: Sequence[str] | None,
    settings: SmtpSettings,
    subject: str | None = None,
    resend: bool = False,
    full: bool = False,
    lock_timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> SendSummary:
    """E-mail the chosen reports of the last build, each to each recipient once.

    The sent log is locked for the whole run; see the module's "Exactly once" for what
    is written to it when, and what each failure does.

    Returns
    -------
    SendSummary
        With ``failure`` set when the run stopped on an error or an outcome is unknown.

    Raises
    ------
    ManifestError, ReportUnavailableError, RecipientError, SentLogError
        Before anything is sent.
    """
    addresses = parse_recipients(recipients)
    manifest, chosen = prepare(reports_dir, report_names=report_names, full=full)
    attach, unavailable = chosen.attach, chosen.unavailable
    by_name = {a.name: a for a in attach}
    log_path = sent_log_path(reports_dir)
    summary = SendSummary(
        build_id=manifest.build_id,
        reports=list(by_name),
        unavailable=[(u.name, u.reason) for u in unavailable],
        log_path=log_path,
    )
    keys = [(a.build_id, a.name, r.lower()) for r in addresses for a in attach]
    with _locked(log_path, lock_timeout):
        log = read_sent_log(log_path)
        settled = [] if resend else settle_interrupted(log_path, log, keys)
        groups, held = plan_groups(
            [(a.name, a.build_id) for a in attach],
            addresses,
            states={k: r.state for k, r in log.items()},
            resend=resend,
        )
        _report_held(summary, held, log, settled, attach)
        _send_groups(
            summary, groups, manifest, by_name, chosen, log_path,
            settings=settings, subject=subject, sleep=sleep,
        )  # fmt: skip
    if summary.failure is None and any(p.new for p in summary.possibly_sent):
        summary.failure = _unknown_outcome(summary)
    return summary


def _send_groups(
    summary: SendSummary,
    groups: dict[tuple[str, ...], list[str]],
    manifest: Manifest,
    by_name: dict[str, Attachment],
    selection: Selection,
    log_path: Path,
    *,
    settings: SmtpSettings,
    subject: str | None,
    sleep: Callable[[float], None],
) -> None:
    """One message per group (:func:`send_one`), until the first that does not end well."""
    for group_reports, group_rcpts in groups.items():
        chosen = [by_name[n] for n in group_reports]
        msg = build_message(
            manifest,
            chosen,
            sender=settings.sender,
            recipients=group_rcpts,
            unavailable=selection.unavailable,
            left_out=selection.left_out,
            subject=subject,
        )
        try:
            result = send_one(log_path, msg, chosen, group_rcpts, settings=settings, sleep=sleep)
        except SentLogWriteError as exc:
            summary.failure = exc
            return
        message_id = str(msg["Message-ID"])
        names = list(group_reports)
        summary.sent.extend((r, names, message_id) for r in result.accepted)
        summary.refused.extend((r, c, reply) for r, (c, reply) in result.refused.items())
        summary.possibly_sent.extend(
            PossiblySent(r, names, message_id, result.unknown_reason, new=True)
            for r in result.unknown
        )
        if result.failure is not None or result.unknown:
            summary.failure = result.failure  # an unknown outcome is raised by the caller
            return


@contextmanager
def _locked(log_path: Path, timeout: float) -> Iterator[None]:
    """Hold the sent log's lock, or say clearly why it cannot be had (nothing sent yet)."""
    lock = sent_log_lock(log_path, timeout)
    try:
        lock.acquire()
    except Timeout:
        raise SentLogError(
            f"{log_path}.lock is held by another 'cxtradeoff email' run "
            f"(waited {timeout:g} s); try again when it has finished"
        ) from None
    except OSError as exc:
        raise SentLogError(
            f"cannot lock the sent log: {log_path}.lock ({exc.strerror or exc}); nothing was sent"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _report_held(
    summary: SendSummary,
    held: dict[str, dict[State, list[str]]],
    log: dict[Key, SentRecord],
    settled: Sequence[SentRecord],
    attach: Sequence[Attachment],
) -> None:
    """Fill the summary with what the plan holds back, and why."""
    build_of = {a.name: a.build_id for a in attach}
    settled_keys = {r.key for r in settled}
    for rcpt, by_state in held.items():
        if SENT in by_state:
            summary.skipped.append((rcpt, by_state[SENT]))
        # Reports possibly sent to this recipient, grouped by the message that carried them.
        by_message: dict[tuple[str | None, str, bool], list[str]] = {}
        for name in by_state.get(POSSIBLY_SENT, []):
            record = log[(build_of[name], name, rcpt.lower())]
            new = record.key in settled_keys
            by_message.setdefault((record.message_id, record.reason or "", new), []).append(name)
        summary.possibly_sent.extend(
            PossiblySent(rcpt, names, message_id, reason, new)
            for (message_id, reason, new), names in by_message.items()
        )
