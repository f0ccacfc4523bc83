"""``cxtradeoff email``: send each company's one-page brief (``--full``: the reports too),
the decisions first.

Exit status: 0 sent (or everything already sent); 1 the sent log cannot be read, locked
or written; 2 usage or configuration error; 4 delivery failure (including recipients
the server refused) or an unknown outcome (a message possibly sent, not retried).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from cxtradeoff import paths
from cxtradeoff.delivery.email import (
    ENV_PREFIX,
    SETTING_KEYS,
    dry_run_sender,
    env_var,
    load_smtp_settings,
    send_reports,
    write_dry_run,
)
from cxtradeoff.errors import EXIT_DELIVERY

_SETTINGS_HELP = ", ".join(env_var(k) for k in SETTING_KEYS)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``email`` subcommand."""
    parser = subparsers.add_parser(
        "email",
        help="e-mail each company's one-page decision brief (--full: the reports too)",
        description=(
            "E-mail the one-page decision briefs of the last build (manifest.json in the "
            "reports directory), and with --full the full reports; the subject and the first "
            "lines of the message are the decisions, the build ids and commit a footer. A "
            "build is sent to a "
            "recipient once: a message is reserved in the sent log before it goes and "
            "confirmed after, and one whose outcome is unknown (no answer after its end) "
            "is recorded as possibly sent and not retried; --resend sends it again."
        ),
        epilog=(
            f"SMTP settings come from the environment ({_SETTINGS_HELP}) or from the "
            "'smtp:' section of the config file with the same names in lower case "
            "(host, port, ...); the environment wins. SECURITY is starttls (default), ssl "
            "or none. CAFILE is a PEM file of extra certificate authorities to trust. "
            "DATA_TIMEOUT (default 600, RFC 5321) is how long to wait for the answer to the "
            "end of a message; TIMEOUT (default 30) applies to every other step. "
            "Exit status: 0 sent or already sent, 1 the sent log cannot be read, locked or "
            f"written, 2 usage or configuration error, {EXIT_DELIVERY} delivery failure or "
            "unknown outcome (possibly sent; not retried)."
        ),
    )
    parser.add_argument(
        "--to",
        dest="to",
        action="append",
        required=True,
        metavar="ADDRESS",
        help="recipient; repeat for several",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--report",
        dest="reports",
        action="append",
        metavar="NAME",
        help="report to send (repeatable): its one-page brief, and with --full the report "
        "itself; refused if it failed or has no PDF",
    )
    which.add_argument(
        "--all",
        action="store_true",
        help="send the brief of every report that has one (and with --full every report "
        "with a PDF); list those that cannot be sent as unavailable (default)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="attach the full reports as well as the one-page briefs (by default a report "
        "with a brief is sent as its brief, and reports without one only when named)",
    )
    parser.add_argument(
        "--subject",
        help="subject line (default: the company and its decision, or each company's decision)",
    )
    parser.add_argument(
        "--dry-run",
        type=Path,
        metavar="FILE.eml",
        help="write the message to FILE.eml instead of sending; needs no SMTP settings "
        "and ignores the sent log",
    )
    parser.add_argument(
        "--resend",
        action="store_true",
        help="send even to recipients who already received this build, or may have (possibly sent)",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=paths.REPORTS_DIR,
        metavar="DIR",
        help="directory holding manifest.json and the PDFs (default: %(default)s)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=paths.REPORTS_CONFIG,
        metavar="FILE",
        help="YAML file whose 'smtp:' section holds settings (default: %(default)s; may be absent)",
    )
    parser.set_defaults(func=run)


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when the record arrives (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def _notice_handler() -> logging.Handler | None:
    """Show the library's retry notices on standard error unless logging is configured."""
    log = logging.getLogger("cxtradeoff.email")
    if log.handlers or logging.getLogger().handlers:
        return None
    handler = _StderrHandler()
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("cxtradeoff email: %(message)s"))
    log.addHandler(handler)
    return handler


def run(args: argparse.Namespace) -> int:
    """Send (or write) the message and print a summary; return the exit status."""
    report_names = args.reports  # None means all
    environ = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}

    if args.dry_run is not None:
        path, msg = write_dry_run(
            args.dry_run,
            reports_dir=args.reports_dir,
            recipients=args.to,
            report_names=report_names,
            sender=dry_run_sender(environ=environ, config_path=args.config),
            subject=args.subject,
            full=args.full,
        )
        attachments = [p.get_filename() or "?" for p in msg.iter_attachments()]
        print(f"Dry run: wrote {path} (not sent).")
        print(f"  To: {msg['To']}")
        print(f"  Subject: {msg['Subject']}")
        print(f"  Attached: {', '.join(attachments)}")
        return 0

    settings = load_smtp_settings(environ=environ, config_path=args.config)
    handler = _notice_handler()
    try:
        summary = send_reports(
            reports_dir=args.reports_dir,
            recipients=args.to,
            report_names=report_names,
            settings=settings,
            subject=args.subject,
            resend=args.resend,
            full=args.full,
        )
    finally:
        if handler is not None:
            logging.getLogger("cxtradeoff.email").removeHandler(handler)

    for name, why in summary.unavailable:
        print(f"Not attached: {name} ({why}).")
    for rcpt, names, message_id in summary.sent:
        print(f"Sent build {summary.build_id} to {rcpt}: {', '.join(names)} {message_id}")
    for rcpt, names in summary.skipped:
        print(
            f"Skipped {rcpt}: already received {', '.join(names)} from this build; "
            "use --resend to send again."
        )
    for held in summary.possibly_sent:
        line = (
            f"{', '.join(held.reports)} of build {summary.build_id} to {held.recipient} "
            f"(Message-ID {held.message_id}): {held.reason}"
        )
        if held.new:
            print(f"Possibly sent, not retried: {line}.", file=sys.stderr)
        else:
            print(
                f"Not sent again, possibly sent by an earlier run: {line}. Check the "
                "mailbox; use --resend only if it did not arrive."
            )
    for rcpt, code, reply in summary.refused:
        print(f"Refused by the server: {rcpt} ({code} {reply}); not sent.", file=sys.stderr)
    if summary.failure is not None:
        raise summary.failure
    if summary.refused:
        return EXIT_DELIVERY
    if not summary.sent:
        print(
            f"Nothing to send: every recipient already has these reports of build "
            f"{summary.build_id}" + (", or may have them." if summary.possibly_sent else ".")
        )
    return 0
