"""E-mail the built PDF reports, with their headline numbers, to the people who asked.

The build writes ``manifest.json`` into the reports directory; this subpackage reads it,
builds one MIME message (plain-text and HTML bodies, the PDFs attached), and hands it to
an SMTP server. A sent log beside the reports (``.sent-log.jsonl``) remembers which report
of which build went to whom, so it is not mailed twice to the same person unless asked:
each message is reserved there before it goes and confirmed after, and one whose outcome
is unknown is recorded as possibly sent and never retried blindly (see
:mod:`cxtradeoff.delivery.email.send`).

Modules, one concern each:

``settings``
    SMTP settings from ``CXTRADEOFF_SMTP_*`` variables or the ``smtp:`` section of
    ``reports.yaml`` (the environment wins).
``addresses``
    The sender and ``--to`` addresses, checked the same way.
``selection``
    Which reports of the last build (``contracts.Manifest``) can be attached, and why
    the others cannot.
``message``
    The MIME message: subject, plain and HTML bodies (figures worded by
    ``cxtradeoff.formatting``), attachments.
``transport``
    The SMTP conversation: connection, STARTTLS or TLS, login, retries with back-off,
    and the unknown outcome after the final dot.
``sentlog``
    The sent log (``sending``, ``sent``, ``possibly sent``, ``failed``) and its lock.
``send``
    The task: choose the reports, settle what a crashed run left, plan one message per
    group of recipients, and reserve, deliver and record each.

Nothing here prints; retry notices go to the ``cxtradeoff.email`` logger, and the SMTP
password never appears in a message, a log record, the ``.eml`` file or the sent log.
"""

from cxtradeoff.delivery.email.addresses import parse_recipients
from cxtradeoff.delivery.email.send import SendSummary, send_reports, write_dry_run
from cxtradeoff.delivery.email.settings import (
    ENV_PREFIX,
    SETTING_KEYS,
    SmtpSettings,
    dry_run_sender,
    env_var,
    load_smtp_settings,
)

__all__ = [
    "ENV_PREFIX",
    "SETTING_KEYS",
    "SendSummary",
    "SmtpSettings",
    "dry_run_sender",
    "env_var",
    "load_smtp_settings",
    "parse_recipients",
    "send_reports",
    "write_dry_run",
]
