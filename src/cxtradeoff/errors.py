"""Every exception the package raises on purpose, and the exit status each one means.

The command line (:func:`cxtradeoff.cli.main`) turns any :class:`CxTradeoffError` into
one message on standard error and exits with its ``exit_code``; it is the only place that
maps errors to statuses. The statuses, for an operator reading a scheduler's log:

====  ===================================================================
0     done: built, up to date, or sent
1     a report failed to build (the others are built), or an unexpected fault
2     bad input: configuration, options, parameters or a data file
3     PDFs were asked for and no Chromium was found
4     the mail server did not take the message
73    the output folder cannot be written (read-only, not a folder, disk full)
75    another build holds the lock on the output folder (try again later)
130   interrupted (Ctrl-C)
143   terminated (SIGTERM); what the build had staged is removed
====  ===================================================================
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Mapping
from typing import ClassVar

#: exit status of each outcome (see the module docstring)
EXIT_OK: int = 0
EXIT_FAILED: int = 1
EXIT_BAD_INPUT: int = 2
EXIT_NO_BROWSER: int = 3
EXIT_DELIVERY: int = 4
EXIT_OUTPUT: int = 73  # EX_CANTCREAT
EXIT_LOCKED: int = 75  # EX_TEMPFAIL
EXIT_INTERRUPTED: int = 130
EXIT_TERMINATED: int = 143  # 128 + SIGTERM


class CxTradeoffError(Exception):
    """Base class of every error this package raises on purpose."""

    #: exit status the command line uses for this error
    exit_code: int = EXIT_FAILED


# --------------------------------------------------------------------------- input


class DataValidationError(CxTradeoffError):
    """A data file does not match its schema; the message lists every problem at once."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s):\n{lines}")


class ParameterError(CxTradeoffError):
    """A model parameter is unknown, of the wrong type or out of range."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(CxTradeoffError):
    """The report configuration is invalid."""

    exit_code = EXIT_BAD_INPUT


# --------------------------------------------------------------------------- build


class RenderError(CxTradeoffError):
    """A notebook failed to execute or a report could not be rendered."""

    exit_code = EXIT_FAILED


class BrowserNotFoundError(CxTradeoffError):
    """No Chromium could be found to print PDFs."""

    exit_code = EXIT_NO_BROWSER


class BuildLockedError(CxTradeoffError):
    """Another build holds the lock on the output folder."""

    exit_code = EXIT_LOCKED


class PrintError(RenderError):
    """A report's notebook ran but its PDF could not be printed (Chromium failed twice).

    Attributes
    ----------
    detail : str
        Everything the browser said (its log can run to dozens of lines): for a log
        file, not for the terminal.
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class OutputError(CxTradeoffError):
    """A file or folder of the build's output cannot be written.

    Attributes
    ----------
    path : str
        The file or folder that could not be written.
    errno : int or None
        The operating system's error number (e.g. ``errno.ENOSPC``), when there is one.
    """

    exit_code = EXIT_OUTPUT

    #: what each error number means to an operator
    REASONS: ClassVar[Mapping[int, str]] = {
        _errno.ENOSPC: "no space left on the device (disk full)",
        _errno.EDQUOT: "disk quota exceeded",
        _errno.EROFS: "the file system is read-only",
        _errno.EACCES: "permission denied",
        _errno.EPERM: "operation not permitted",
        _errno.ENOTDIR: "a path component is a file, not a folder",
        _errno.EEXIST: "a file is in the way",
    }

    def __init__(self, path: object, reason: str, *, errno: int | None = None) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = str(path)
        self.errno = errno

    @classmethod
    def from_os_error(cls, path: object, exc: OSError) -> OutputError:
        """The error for ``exc`` raised while writing ``path``, worded for an operator."""
        reason = cls.REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
        return cls(exc.filename or path, reason, errno=exc.errno)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM) and stops as on Ctrl-C: ``finally`` blocks
    run, so kernels are shut down and staged files removed. A ``KeyboardInterrupt`` so
    that no ``except Exception`` on the way swallows it."""

    exit_code = EXIT_TERMINATED


# --------------------------------------------------------------------------- email


class EmailError(CxTradeoffError):
    """Base class of every error raised while e-mailing reports."""

    exit_code = EXIT_FAILED


class SmtpConfigError(EmailError, ConfigError):
    """An SMTP setting is missing or invalid; the message names the variable."""

    exit_code = EXIT_BAD_INPUT


class RecipientError(EmailError):
    """A ``--to`` address (or the sender) is not a usable e-mail address."""

    exit_code = EXIT_BAD_INPUT


class ManifestError(EmailError, DataValidationError):
    """``manifest.json`` is missing or does not match the build's contract."""

    exit_code = EXIT_BAD_INPUT


class ReportUnavailableError(EmailError):
    """A requested report is unknown, failed, or has no PDF to attach."""

    exit_code = EXIT_BAD_INPUT


class SentLogError(EmailError):
    """The sent log cannot be read or locked."""

    exit_code = EXIT_FAILED


class DeliveryError(EmailError):
    """The SMTP server did not accept the message.

    Attributes
    ----------
    attempts : int
        Connection attempts made before giving up.
    transient : bool
        True when every attempt failed for a reason that might pass (the retries ran
        out); False when the server gave a permanent answer.
    """

    exit_code = EXIT_DELIVERY

    def __init__(self, message: str, *, attempts: int, transient: bool) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.transient = transient


class SmtpAuthenticationError(DeliveryError):
    """The SMTP server refused the user name and password."""


class SentLogWriteError(SentLogError):
    """The sent log could not be written (disk full, read-only, not a file); names the file.

    Written before a message goes (its reservation) and after the server answers (its
    confirmation): when the reservation cannot be written, nothing is sent; when the
    confirmation cannot, the reservation stays and keeps any later run from sending the
    message again.

    Attributes
    ----------
    path : str
        The sent log.
    delivered : bool
        True when the message had already been handed to the server.
    """

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, path: object, delivered: bool) -> None:
        super().__init__(message)
        self.path = str(path)
        self.delivered = delivered


class DeliveryOutcomeUnknownError(DeliveryError):
    """A message reached the server in full but its answer never came: it may be delivered.

    The server's reply to the end of the message timed out or the connection was lost
    (or an earlier run was interrupted while waiting for it). Such a message is recorded
    as ``possibly sent`` in the sent log and never retried blindly; ``--resend`` sends
    it again.

    Attributes
    ----------
    recipients : tuple of str
        Addresses the message may have reached.
    message_ids : tuple of str
        Message-IDs of the messages concerned, to look for in the mailboxes.
    """

    def __init__(
        self,
        message: str,
        *,
        recipients: tuple[str, ...],
        message_ids: tuple[str, ...],
        attempts: int = 1,
    ) -> None:
        super().__init__(message, attempts=attempts, transient=False)
        self.recipients = recipients
        self.message_ids = message_ids
