"""Talking to the SMTP server: connection, STARTTLS or implicit TLS, login, retries.

Transient failures before the server has the whole message (connection refused,
time-outs, SMTP 4xx answers, including a 4xx answer to the end of the message) are
retried with exponential back-off a bounded number of times; permanent ones (5xx
answers, a refused login, an unverifiable TLS certificate) stop at once. Once the final
dot has gone, the answer is awaited for ``data_timeout`` (RFC 5321, 4.5.3.2.6: 10
minutes); if it never comes, or the connection drops, the outcome is unknown and nothing
is retried: the server may have delivered the message. Retry notices go to the
``cxtradeoff.email`` logger; nothing here prints, and the SMTP password never appears in
a message or a log record.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cxtradeoff.delivery.email.settings import SmtpSettings, env_var
from cxtradeoff.errors import DeliveryError, SmtpAuthenticationError

logger = logging.getLogger("cxtradeoff.email")


@dataclass(frozen=True)
class DeliveryResult:
    """What the server did with one message.

    Attributes
    ----------
    accepted : tuple of str
        Recipients the server accepted.
    refused : dict
        Recipient -> (SMTP code, server's reply) for those it refused.
    attempts : int
        Connections made.
    unknown : tuple of str
        Recipients of a message that reached the server in full but whose answer never
        came: it may have been delivered to them. Never retried.
    unknown_reason : str
        What happened to that answer (time-out, connection lost), when ``unknown``.
    failure : DeliveryError or None
        Why the recipients neither accepted, refused nor unknown were not sent (a
        permanent failure, or the retries ran out).
    """

    accepted: tuple[str, ...]
    refused: dict[str, tuple[int, str]]
    attempts: int
    unknown: tuple[str, ...] = ()
    unknown_reason: str = ""
    failure: DeliveryError | None = None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return text


def _reply(exc: smtplib.SMTPResponseException) -> str:
    raw = exc.smtp_error
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return f"{exc.smtp_code} {_one_line(text)}"


def _classify(exc: BaseException, settings: SmtpSettings) -> tuple[bool, str]:
    """(transient?, description) of an exception raised while talking to the server."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return 400 <= exc.smtp_code < 500, f"login as {settings.user!r} refused: {_reply(exc)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500, f"server {where} answered {_reply(exc)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True, f"server {where} closed the connection ({exc})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False, f"server {where}: {exc}"
    if isinstance(exc, smtplib.SMTPException):
        return False, f"server {where}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False, (
            f"TLS certificate of {where} not trusted ({exc.verify_message}); for a private "
            f"certificate authority set {env_var('cafile')} to its PEM file"
        )
    if isinstance(exc, ssl.SSLError):
        return False, f"TLS with {where} failed ({exc}); check {env_var('security')}"
    if isinstance(exc, ConnectionRefusedError):
        return True, f"connection to {where} refused"
    if isinstance(exc, TimeoutError):
        return True, f"no answer from {where} within {settings.timeout:g} s"
    if isinstance(exc, socket.gaierror):
        return True, f"cannot resolve host {settings.host!r} ({exc.strerror})"
    if isinstance(exc, OSError):
        return True, f"network error talking to {where} ({exc})"
    raise exc


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = (
        ssl.create_default_context(cafile=str(settings.cafile) if settings.cafile else None)
        if settings.security != "none"
        else None
    )
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError(
                    f"does not offer STARTTLS; set {env_var('security')}=ssl or none"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user is not None and settings.password is not None:
            _login(smtp, settings.user, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


#: login mechanisms, most preferred first (as :meth:`smtplib.SMTP.login`)
_AUTH_MECHANISMS = ("CRAM-MD5", "PLAIN", "LOGIN")


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with the first mechanism both sides know, once.

    Unlike :meth:`smtplib.SMTP.login`, a refused password is not tried again with the
    next mechanism: the answer would be the same, and some servers stall on the retry.
    """
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError(
            "does not offer AUTH (login); check the port and "
            f"{env_var('security')}, or unset {env_var('user')}"
        )
    offered = smtp.esmtp_features["auth"].upper().split()
    mechanism = next((m for m in _AUTH_MECHANISMS if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPNotSupportedError(
            f"offers no login mechanism this client knows (offered: {' '.join(offered)})"
        )
    smtp.user, smtp.password = user, password
    method = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
    smtp.auth(mechanism, method, initial_response_ok=True)  # raises when refused


def _close_quietly(smtp: smtplib.SMTP) -> None:
    # The message is already accepted (or not): a failing QUIT changes nothing.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class _OutcomeUnknown(Exception):
    """Internal: the whole message went out but the server's answer to it never came."""

    def __init__(self, *, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "connection lost")
        self.timed_out = timed_out


def _transaction(
    smtp: smtplib.SMTP,
    sender: str,
    recipients: Sequence[str],
    data: bytes,
    *,
    data_timeout: float,
) -> dict[str, tuple[int, bytes]]:
    """MAIL, RCPT and DATA as :meth:`smtplib.SMTP.sendmail` does them, apart from the end.

    Everything up to the final dot is ``sendmail``'s: a failure there means the server
    has not taken the message, and the caller may retry. After the final dot the answer
    is awaited for ``data_timeout`` seconds (RFC 5321: 10 minutes); a time-out or a lost
    connection then raises :class:`_OutcomeUnknown`, never a retryable error, because the
    server may have delivered the message.

    Returns
    -------
    dict
        Recipients the server refused at RCPT (address -> (code, reply)).
    """
    smtp.ehlo_or_helo_if_needed()
    options = [f"size={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
    code, reply = smtp.mail(sender, options)
    if code != 250:
        if code == 421:
            smtp.close()
        else:
            smtp.rset()
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for rcpt in recipients:
        code, reply = smtp.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = (code, reply)
        if code == 421:
            smtp.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    payload = re.sub(rb"(?m)^\.", b"..", data)  # dot-stuffing (RFC 5321, 4.5.2)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    smtp.send(payload + b".\r\n")  # a failure here: the final dot never went out
    assert smtp.sock is not None  # send() would have raised
    smtp.sock.settimeout(data_timeout)
    try:
        code, reply = smtp.getreply()
    except (smtplib.SMTPException, OSError) as exc:
        # getreply() turns a time-out into SMTPServerDisconnected, raised from it.
        timed_out = isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
        raise _OutcomeUnknown(timed_out=timed_out) from None
    smtp.sock.settimeout(smtp.timeout)  # QUIT has the usual time-out again
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return refused


def deliver(
    data: bytes,
    *,
    sender: str,
    recipients: Sequence[str],
    settings: SmtpSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Send message bytes, retrying failures that leave the message surely undelivered.

    Failures before the end of the message (connection refused, time-outs, 4xx answers
    to MAIL, RCPT or DATA, and a 4xx answer to the end of the message) are retried with
    exponential back-off; permanent ones (5xx answers, a refused login, an untrusted
    certificate) stop at once. When the server's answer to the end of the message does
    not come within ``settings.data_timeout`` or the connection is lost while waiting
    for it, the outcome is unknown: nothing more is tried, and the recipients concerned
    are returned as ``unknown``. A recipient refused with 4xx at RCPT is retried in a
    further message; with 5xx, reported.

    Parameters
    ----------
    data
        The message (:func:`message_bytes`).
    sender, recipients
        Envelope addresses.
    settings
        Server, security, login, time-outs, ``attempts`` and ``retry_delay`` (doubled
        before each further attempt).
    sleep
        Called with each back-off delay in seconds.

    Returns
    -------
    DeliveryResult
        What became of each recipient; ``failure`` says what stopped delivery when not
        every recipient was accepted or refused. Never raises for a delivery problem.
    """
    pending = list(recipients)
    accepted: list[str] = []
    refused: dict[str, tuple[int, str]] = {}
    last = "no attempt made"
    for attempt in range(1, settings.attempts + 1):
        try:
            smtp = _connect(settings)
            try:
                try:
                    bad = _transaction(
                        smtp, sender, pending, data, data_timeout=settings.data_timeout
                    )
                except smtplib.SMTPRecipientsRefused as exc:
                    bad = exc.recipients
            finally:
                _close_quietly(smtp)
        except _OutcomeUnknown as exc:
            where = f"{settings.host}:{settings.port}"
            reason = (
                f"no answer from {where} within {settings.data_timeout:g} s after the end of "
                "the message"
                if exc.timed_out
                else f"{where} closed the connection before answering the end of the message"
            )
            return DeliveryResult(tuple(accepted), refused, attempt, tuple(pending), reason)
        except (smtplib.SMTPException, OSError) as exc:
            transient, last = _classify(exc, settings)
            last = _redact(last, settings.password)
            if not transient:
                error = (
                    SmtpAuthenticationError
                    if isinstance(exc, smtplib.SMTPAuthenticationError)
                    else DeliveryError
                )
                if getattr(exc, "smtp_code", None) == 552:  # too large (RFC 1870)
                    last += (
                        f"; the message is {len(data) / 1e6:.1f} MB: send fewer PDFs (the "
                        "briefs and roll-ups alone, without --full, or --report NAME)"
                    )
                failure = error(
                    f"not sent: {last} (permanent failure, not retried)",
                    attempts=attempt,
                    transient=False,
                )
                return DeliveryResult(tuple(accepted), refused, attempt, failure=failure)
        else:
            replies = {
                rcpt: (code, _redact(_one_line(msg.decode("utf-8", "replace")), settings.password))
                for rcpt, (code, msg) in bad.items()
            }
            accepted.extend(r for r in pending if r not in replies)
            retry = {r: v for r, v in replies.items() if 400 <= v[0] < 500}
            refused.update({r: v for r, v in replies.items() if r not in retry})
            if not retry:
                return DeliveryResult(tuple(accepted), refused, attempt)
            pending = list(retry)
            last = "recipient(s) temporarily refused: " + "; ".join(
                f"{r} ({code} {msg})" for r, (code, msg) in retry.items()
            )
            if attempt == settings.attempts:
                refused.update(retry)
                return DeliveryResult(tuple(accepted), refused, attempt)
        if attempt < settings.attempts:
            delay = settings.retry_delay * 2 ** (attempt - 1)
            logger.warning(
                "attempt %d of %d failed: %s; retrying in %.3g s",
                attempt,
                settings.attempts,
                last,
                delay,
            )
            sleep(delay)
    failure = DeliveryError(
        f"not sent: gave up after {settings.attempts} attempt(s); last error: {last}",
        attempts=settings.attempts,
        transient=True,
    )
    return DeliveryResult(tuple(accepted), refused, settings.attempts, failure=failure)
