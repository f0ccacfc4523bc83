"""``cxtradeoff email`` against a real SMTP server (aiosmtpd) on 127.0.0.1.

Every test builds a reports directory with a manifest and real PDF files; the numbers
expected in the message are the manifest's numbers, formatted as a reader sees them.
"""

from __future__ import annotations

import errno
import html
import io
import json
import logging
import os
import re
import resource
import signal
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from filelock import FileLock
from pypdf import PdfReader, PdfWriter

from cxtradeoff import cli, formatting
from cxtradeoff.contracts import Manifest, write_model
from cxtradeoff.delivery.email.message import attachment_filename, render_text
from cxtradeoff.delivery.email.selection import load_manifest, select_reports
from cxtradeoff.delivery.email.send import prepare, send_reports
from cxtradeoff.delivery.email.sentlog import SENT_LOG_NAME, read_sent_log
from cxtradeoff.delivery.email.settings import (
    DRY_RUN_SENDER,
    ENV_PREFIX,
    SmtpSettings,
    load_smtp_settings,
)
from cxtradeoff.delivery.email.transport import deliver
from cxtradeoff.errors import (
    EXIT_DELIVERY,
    DeliveryError,
    ManifestError,
    ReportUnavailableError,
    SentLogError,
    SmtpAuthenticationError,
    SmtpConfigError,
)

USER = "mailer"
PASSWORD = "pw-Zq7!x9-unique-secret"  # searched for in every output
SENDER = "reports@cxtradeoff.test"
BUILD_ID = "20261126T101500Z-1a2b3c4d"

# The manifest's figures; the message must show them worded as below (as the report and
# the landing page word them: cxtradeoff.formatting). The break-even shown is the one
# over the horizon (break_even_conversion_npv, 6.2%), not the contract's annual one
# (break_even_conversion, 5.9%).
TELECOM_HEADLINE = {
    "scenario": "full_automation",
    "currency": "EUR",
    "npv_mean": -2345678.9,
    "npv_p10": -9.1e6,
    "npv_p90": 4.2e6,
    "p_loss": 0.3137,
    "p_best": 0.41,
    "npv": 1.5e6,
    "annual_savings": 1234567.4,
    "customers_lost_per_year": 12_345.0,
    "break_even_conversion": 0.0591,
    "break_even_conversion_npv": 0.0622,
    "switch_conversion": 0.08,
    "evppi_switch_conversion": 250_000.0,
    "flip": {"assumed": 0.08, "conversion": 0.0622, "to": "status_quo", "direction": "above"},
}
TELECOM_SHOWN = ["-EUR 2.35 million", "-EUR 9.1 million", "6.2%", "31%", "Full automation"]
# A title with markup in it: the HTML body must escape it.
TELECOM_TITLE = 'Telecom <b>"savings"</b> & loyalty'


# ---------------------------------------------------------------------------- data


def make_pdf(path: Path, title: str) -> bytes:
    """Write a small real PDF and return its bytes."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def report_entry(name: str, **changes: Any) -> dict[str, Any]:
    """A manifest entry as the build writes it (status ok, made by ``BUILD_ID``)."""
    entry: dict[str, Any] = {
        "build_id": BUILD_ID,
        "title": name.title(),
        "profile": name,
        "notebook": f"notebooks/02-{name}.ipynb",
        "parameters": {},
        "status": "ok",
        "outputs": {
            "html": f"{name}.html",
            "pdf": f"{name}.pdf",
            "notebook": f"{name}.ipynb",
            "results": f"{name}.results.json",
        },
        "headline": None,
        "inputs": {},
        "started": "2026-11-26T10:15:01+00:00",
        "duration_s": 1.5,
        "error": None,
    }
    entry.update(changes)
    return entry


def manifest_data(reports: dict[str, Any], build_id: str = BUILD_ID) -> dict[str, Any]:
    return {
        "schema_version": 2,
        "build_id": build_id,
        "built_at": "2026-11-26T10:15:00+00:00",
        "git_commit": "abc123def4567890",
        "config": "reports.yaml",
        "reports": reports,
    }


def write_manifest(reports_dir: Path, reports: dict[str, Any], build_id: str = BUILD_ID) -> None:
    """Write a manifest through its typed model, as the build does."""
    write_model(
        Manifest.model_validate(manifest_data(reports, build_id)), reports_dir / "manifest.json"
    )


def write_raw_manifest(reports_dir: Path, data: dict[str, Any]) -> None:
    """Write a manifest as given, valid or not."""
    (reports_dir / "manifest.json").write_text(json.dumps(data), encoding="utf-8")


@dataclass
class Reports:
    dir: Path
    pdfs: dict[str, bytes]


@pytest.fixture
def reports(tmp_path: Path) -> Reports:
    """telecom (ok, headline), evidence (ok, no headline), retail (failed, stale PDF)."""
    return make_reports(tmp_path / "reports")


def make_reports(directory: Path) -> Reports:
    """The reports of :func:`reports`, in ``directory``."""
    directory.mkdir()
    pdfs = {name: make_pdf(directory / f"{name}.pdf", name) for name in ("telecom", "evidence")}
    make_pdf(directory / "retail.pdf", "retail from an older build")
    write_manifest(
        directory,
        {
            "evidence": report_entry("evidence", title="What the evidence says"),
            "telecom": report_entry("telecom", title=TELECOM_TITLE, headline=TELECOM_HEADLINE),
            "retail": report_entry(
                "retail", status="failed", error="NameError: name '<x>' is not defined"
            ),
        },
    )
    return Reports(directory, pdfs)


@pytest.fixture(autouse=True)
def _no_ambient_smtp_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)


# -------------------------------------------------------------------------- server


def check_login(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: let aiosmtpd answer a failure with its standard 535.
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl; ``cryptography`` is not installed)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def server_tls_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path], start_smtp_server: Any) -> Any:
    """STARTTLS required, login required and only allowed over TLS."""
    return start_smtp_server(
        tls_context=server_tls_context(certificate),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=check_login,
    )


@pytest.fixture
def ssl_server(certificate: tuple[Path, Path], start_smtp_server: Any) -> Any:
    """TLS from the first byte (port 465 style), login required."""
    return start_smtp_server(
        ssl_context=server_tls_context(certificate),
        auth_required=True,
        auth_require_tls=False,  # aiosmtpd does not count implicit TLS as TLS for AUTH
        authenticator=check_login,
    )


def use_server(
    monkeypatch: pytest.MonkeyPatch,
    port: int,
    *,
    security: str = "none",
    login: bool = False,
    password: str = PASSWORD,
    cafile: Path | None = None,
    attempts: int = 3,
    timeout: float = 10,
    data_timeout: float | None = None,
) -> None:
    settings = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SECURITY": security,
        "FROM": SENDER,
        "ATTEMPTS": str(attempts),
        "RETRY_DELAY": "0.01",
        "TIMEOUT": str(timeout),
    }
    if data_timeout is not None:
        settings["DATA_TIMEOUT"] = str(data_timeout)
    if login:
        settings |= {"USER": USER, "PASSWORD": password}
    if cafile is not None:
        settings["CAFILE"] = str(cafile)
    for key, value in settings.items():
        monkeypatch.setenv(ENV_PREFIX + key, value)


def run_cli(reports: Reports, *args: str) -> int:
    """``cxtradeoff email`` in-process, with a config file that does not exist."""
    no_config = reports.dir.parent / "no-reports.yaml"
    return cli.main(["email", "--reports-dir", str(reports.dir), "--config", str(no_config), *args])


def retry_notices(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "cxtradeoff.email" and "retrying" in r.getMessage()
    ]


def sent_log(reports: Reports) -> list[dict[str, Any]]:
    """The sent log's lines, parsed."""
    path = reports.dir / SENT_LOG_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def log_states(reports: Reports) -> list[tuple[str, str, str]]:
    """(state, report, recipient) of every line of the sent log, in order."""
    return [(e["state"], e["report"], e["recipient"]) for e in sent_log(reports)]


def body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    return part.get_content()


def attachments(msg: EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in msg.iter_attachments():
        assert part.get_content_type() == "application/pdf"
        found[part.get_filename()] = part.get_payload(decode=True)
    return found


# ------------------------------------------------------------------------ sending


def test_sends_message_with_figures_and_pdfs(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_server(monkeypatch, smtp_server.port)
    code = run_cli(
        reports, "--to", "Ana Lead <ana@example.com>", "--to", "bo@example.org",
        "--report", "telecom", "--report", "evidence",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert len(smtp_server.handler.envelopes) == 1
    envelope = smtp_server.handler.envelopes[0]
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["ana@example.com", "bo@example.org"]

    msg = smtp_server.handler.message()
    assert msg["To"] == "ana@example.com, bo@example.org"
    assert msg["From"] == SENDER
    # the one company's decision: its name and what to do (no results file here: the
    # company is the profile, the decision the headline's)
    assert msg["Subject"] == formatting.decision_title("telecom", "full_automation")
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@cxtradeoff.test>")
    assert parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert msg.get_content_type() == "multipart/mixed"

    text, html = body(msg, "plain"), body(msg, "html")
    for shown in TELECOM_SHOWN:
        assert shown in text
        assert shown in html
    assert "Recommended: Full automation" in text
    assert "Expected net present value: -EUR 2.35 million" in text
    assert "Range (P10 to P90): -EUR 9.1 million to EUR 4.2 million" in text
    assert "Break-even switching conversion: 6.2%" in text
    assert "5.9%" not in text and "5.9%" not in html
    assert "Chance of losing money: 31%" in text
    assert "Assumed switching conversion: 8.0%" in text
    assert TELECOM_TITLE in text  # plain text is not HTML: shown as it is
    assert "&lt;b&gt;&quot;savings&quot;&lt;/b&gt; &amp; loyalty" in html
    assert "<b>" not in html
    assert "What the evidence says" in text and "No model figures" in text
    assert BUILD_ID in text and BUILD_ID in html

    got = attachments(msg)
    assert got == {
        "cxtradeoff-telecom.pdf": reports.pdfs["telecom"],
        "cxtradeoff-evidence.pdf": reports.pdfs["evidence"],
    }
    assert PdfReader(io.BytesIO(got["cxtradeoff-telecom.pdf"])).metadata.title == "telecom"
    assert "Sent build" in out and "ana@example.com" in out and "bo@example.org" in out


def test_all_lists_failed_report_as_unavailable(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(reports, "--to", "ana@example.com", "--all", "--subject", "Q4 numbers") == 0
    msg = smtp_server.handler.message()
    assert msg["Subject"] == "Q4 numbers"
    assert set(attachments(msg)) == {"cxtradeoff-telecom.pdf", "cxtradeoff-evidence.pdf"}
    text = body(msg, "plain")
    assert "Not attached" in text
    assert "(retail): status 'failed': NameError: name '<x>' is not defined" in text
    assert "NameError: name &#x27;&lt;x&gt;&#x27; is not defined" in body(msg, "html")
    assert "Not attached: retail" in capsys.readouterr().out


def test_named_failed_report_is_refused(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(reports, "--to", "ana@example.com", "--report", "retail") == 2
    err = capsys.readouterr().err
    assert "retail: status 'failed'" in err and BUILD_ID in err
    assert run_cli(reports, "--to", "ana@example.com", "--report", "nosuch") == 2
    assert "unknown report(s) 'nosuch'" in capsys.readouterr().err
    assert smtp_server.handler.data_calls == 0


@pytest.mark.parametrize(
    ("changes", "on_disk", "reason"),
    [
        ({"status": "failed", "error": "boom\nmore"}, None, "status 'failed': boom"),
        ({"status": "skipped", "error": None}, None, "status 'skipped'"),
        ({"build_id": None}, None, "the manifest does not name the build that made it"),
        ({"outputs": {"html": "telecom.html", "pdf": None}}, None, "no PDF was produced"),
        ({}, "missing", "PDF telecom.pdf is missing from the reports directory"),
        ({}, b"<html>not a pdf</html>", "telecom.pdf is not a PDF file"),
    ],
)
def test_why_a_report_cannot_be_attached(
    changes: dict[str, Any], on_disk: bytes | str | None, reason: str, reports: Reports
) -> None:
    write_manifest(reports.dir, {"telecom": report_entry("telecom", **changes)})
    pdf = reports.dir / "telecom.pdf"
    if on_disk == "missing":
        pdf.unlink()
    elif isinstance(on_disk, bytes):
        pdf.write_bytes(on_disk)
    with pytest.raises(ReportUnavailableError, match=f"telecom: {re.escape(reason)}"):
        prepare(reports.dir, report_names=["telecom"])
    with pytest.raises(ReportUnavailableError, match=r"no report of build .* can be sent"):
        prepare(reports.dir, report_names=None)


def test_sent_log_stops_second_send_and_resend_sends_again(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_server(monkeypatch, smtp_server.port)
    args = ("--to", "ana@example.com", "--report", "telecom")
    assert run_cli(reports, *args) == 0
    log = sent_log(reports)
    assert log_states(reports) == [
        ("sending", "telecom", "ana@example.com"),  # reserved before the message went
        ("sent", "telecom", "ana@example.com"),  # confirmed once the server took it
    ]
    assert {e["build_id"] for e in log} == {BUILD_ID}
    assert {e["message_id"] for e in log} == {smtp_server.handler.message()["Message-ID"]}
    capsys.readouterr()

    # Same build, same person (address case differs): skipped, nothing sent.
    assert run_cli(reports, "--to", "ANA@example.com", "--report", "telecom") == 0
    out = capsys.readouterr().out
    assert "Skipped ANA@example.com" in out and "--resend" in out
    assert "Nothing to send" in out
    assert len(smtp_server.handler.envelopes) == 1

    # A new recipient gets it; the old one is still skipped.
    assert run_cli(reports, *args, "--to", "cy@example.com") == 0
    assert smtp_server.handler.envelopes[-1].rcpt_tos == ["cy@example.com"]
    assert len(smtp_server.handler.envelopes) == 2

    assert run_cli(reports, *args, "--resend") == 0
    assert len(smtp_server.handler.envelopes) == 3
    assert smtp_server.handler.envelopes[-1].rcpt_tos == ["ana@example.com"]
    assert [s for s, _, _ in log_states(reports)] == ["sending", "sent"] * 3


def test_only_reports_not_yet_sent_are_mailed(
    reports: Reports, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(reports, "--to", "ana@example.com", "--report", "telecom") == 0
    # A new build rebuilt evidence only; telecom is up to date: its entry keeps the build
    # that made its files.
    newer = "20261127T080000Z-99999999"
    manifest = json.loads((reports.dir / "manifest.json").read_text(encoding="utf-8"))
    reports_data = manifest["reports"]
    reports_data["evidence"] |= {"build_id": newer}
    write_manifest(reports.dir, reports_data, build_id=newer)
    assert run_cli(reports, "--to", "ana@example.com", "--to", "bo@example.org") == 0
    # ana needs evidence only, bo needs both: two messages.
    by_rcpt = {
        tuple(env.rcpt_tos): set(attachments(smtp_server.handler.message(i)))
        for i, env in enumerate(smtp_server.handler.envelopes)
    }
    assert by_rcpt[("ana@example.com",)] == {"cxtradeoff-evidence.pdf"}
    assert by_rcpt[("bo@example.org",)] == {"cxtradeoff-telecom.pdf", "cxtradeoff-evidence.pdf"}


def test_refused_recipient_is_reported_and_not_logged(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.handler.refuse_rcpt["gone@example.com"] = "550 5.1.1 no such mailbox"
    use_server(monkeypatch, smtp_server.port)
    code = run_cli(
        reports, "--to", "ana@example.com", "--to", "gone@example.com", "--report", "telecom"
    )
    captured = capsys.readouterr()
    assert code == EXIT_DELIVERY == 4
    assert "gone@example.com (550 5.1.1 no such mailbox); not sent" in captured.err
    assert "Sent build" in captured.out and "ana@example.com" in captured.out
    assert log_states(reports) == [
        ("sending", "telecom", "ana@example.com"),
        ("sending", "telecom", "gone@example.com"),
        ("sent", "telecom", "ana@example.com"),
        ("failed", "telecom", "gone@example.com"),
    ]
    assert sent_log(reports)[-1]["reason"] == "refused: 550 5.1.1 no such mailbox"
    assert smtp_server.handler.envelopes[0].rcpt_tos == ["ana@example.com"]
    assert retry_notices(caplog) == []  # a 5xx refusal is not retried


def test_all_recipients_refused(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    smtp_server.handler.refuse_rcpt["gone@example.com"] = "550 5.1.1 no such mailbox"
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(reports, "--to", "gone@example.com", "--report", "telecom") == 4
    assert "gone@example.com (550" in capsys.readouterr().err
    assert log_states(reports) == [
        ("sending", "telecom", "gone@example.com"),
        ("failed", "telecom", "gone@example.com"),
    ]
    assert smtp_server.handler.envelopes == []


def test_recipient_temporarily_refused_is_retried(
    reports: Reports, smtp_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A 450 for one recipient: the others are sent at once, that one on the next attempt."""
    handler = smtp_server.handler
    handler.refuse_rcpt["busy@example.com"] = "450 4.2.1 mailbox busy"

    def clear_refusal(delay: float) -> None:
        handler.refuse_rcpt.clear()

    settings = SmtpSettings(
        host="127.0.0.1", port=smtp_server.port, security="none", sender=SENDER,
        attempts=3, retry_delay=0.01,
    )  # fmt: skip
    result = deliver(
        b"Subject: t\r\n\r\nbody\r\n",
        sender=SENDER,
        recipients=["ana@example.com", "busy@example.com"],
        settings=settings,
        sleep=clear_refusal,
    )
    assert result.accepted == ("ana@example.com", "busy@example.com")
    assert result.refused == {}
    assert result.attempts == 2
    assert [e.rcpt_tos for e in handler.envelopes] == [["ana@example.com"], ["busy@example.com"]]
    assert len(retry_notices(caplog)) == 1


# ----------------------------------------------------------------------- failures


def test_server_down_bounded_retries_then_clear_error(
    reports: Reports,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    free_port: Callable[[], int],
) -> None:
    port = free_port()  # nothing listens there
    use_server(monkeypatch, port, attempts=3)
    assert run_cli(reports, "--to", "ana@example.com", "--report", "telecom") == 4
    err = capsys.readouterr().err
    assert "gave up after 3 attempt(s)" in err
    assert f"connection to 127.0.0.1:{port} refused" in err
    notices = retry_notices(caplog)
    assert [r.getMessage().split(":")[0] for r in notices] == [
        "attempt 1 of 3 failed",
        "attempt 2 of 3 failed",
    ]
    assert all(r.levelno == logging.WARNING for r in notices)
    # Nothing was delivered: the reservation is released, and the next run sends it.
    assert log_states(reports) == [
        ("sending", "telecom", "ana@example.com"),
        ("failed", "telecom", "ana@example.com"),
    ]
    assert "gave up after 3 attempt(s)" in sent_log(reports)[-1]["reason"]


def test_backoff_doubles_and_is_bounded(free_port: Callable[[], int]) -> None:
    delays: list[float] = []
    settings = SmtpSettings(
        host="127.0.0.1", port=free_port(), security="none", sender=SENDER,
        attempts=4, retry_delay=0.5,
    )  # fmt: skip
    result = deliver(b"x", sender=SENDER, recipients=["a@b.test"], settings=settings,
                     sleep=delays.append)  # fmt: skip
    assert delays == [0.5, 1.0, 2.0]
    assert result.accepted == () and result.unknown == ()
    assert isinstance(result.failure, DeliveryError)
    assert result.failure.attempts == 4 and result.failure.transient
    assert result.failure.exit_code == 4


def test_permanent_550_is_not_retried(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.handler.data_replies = ["550 5.7.1 message refused by policy"]
    use_server(monkeypatch, smtp_server.port, attempts=3)
    assert run_cli(reports, "--to", "ana@example.com", "--report", "telecom") == 4
    err = capsys.readouterr().err
    assert "550 5.7.1 message refused by policy" in err and "not retried" in err
    assert smtp_server.handler.data_calls == 1
    assert smtp_server.handler.envelopes == []
    assert retry_notices(caplog) == []
    assert [s for s, _, _ in log_states(reports)] == ["sending", "failed"]


@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("MAIL", "451 4.3.0 try again later"),
        ("end of DATA", "421 4.3.2 service shutting down"),
        ("end of DATA", "451 4.3.0 try again later"),
    ],
)
def test_a_transient_answer_before_acceptance_is_retried_and_sent(
    stage: str,
    reply: str,
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 4xx answer is the server saying it did not take the message: retrying is safe."""
    handler = smtp_server.handler
    if stage == "MAIL":
        handler.mail_replies = [reply]
    else:
        handler.data_replies = [reply]
    use_server(monkeypatch, smtp_server.port, attempts=3)
    assert run_cli(reports, "--to", "ana@example.com", "--report", "telecom") == 0
    assert "Sent build" in capsys.readouterr().out
    assert len(handler.envelopes) == 1
    assert handler.data_calls == (1 if stage == "MAIL" else 2)
    notices = retry_notices(caplog)
    assert len(notices) == 1 and reply.split()[0] in notices[0].getMessage()
    assert [s for s, _, _ in log_states(reports)] == ["sending", "sent"]


def test_transient_answers_exhaust_the_attempts(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    smtp_server.handler.data_replies = ["451 4.3.0 try again later"] * 5
    use_server(monkeypatch, smtp_server.port, attempts=2)
    assert run_cli(reports, "--to", "ana@example.com", "--report", "telecom") == 4
    assert "gave up after 2 attempt(s); last error: server 127.0.0.1" in capsys.readouterr().err
    assert smtp_server.handler.data_calls == 2
    assert smtp_server.handler.envelopes == []
    assert [s for s, _, _ in log_states(reports)] == ["sending", "failed"]


# --------------------------------------------------------------------- TLS, login


def test_starttls_login_sends(
    reports: Reports,
    starttls_server: Any,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    use_server(monkeypatch, starttls_server.port, security="starttls", login=True,
               cafile=certificate[0])  # fmt: skip
    assert run_cli(reports, "--to", "ana@example.com", "--report", "telecom") == 0
    assert starttls_server.handler.sessions == [{"tls": True, "auth": True}]
    assert attachments(starttls_server.handler.message()) == {
        "cxtradeoff-telecom.pdf": reports.pdfs["telecom"]
    }
    captured = capsys.readouterr()
    assert_no_password(captured.out, captured.err, caplog.text,
                       (reports.dir / SENT_LOG_NAME).read_text(encoding="utf-8"))  # fmt: skip


# aiosmtpd 1.4 offers AUTH on an implicit-TLS listener only with auth_require_tls=False,
# and then warns that AUTH without TLS is unsafe. Here the whole connection is TLS, so
# the warning does not apply; it is allowed for this test only.
@pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS can lead to security vulnerabilities"
)
def test_implicit_tls_login_sends(
    reports: Reports,
    ssl_server: Any,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_server(monkeypatch, ssl_server.port, security="ssl", login=True, cafile=certificate[0])
    assert run_cli(reports, "--to", "ana@example.com", "--report", "evidence") == 0
    assert ssl_server.handler.sessions == [{"tls": True, "auth": True}]


def test_wrong_password_stops_at_once(
    reports: Reports,
    starttls_server: Any,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    use_server(monkeypatch, starttls_server.port, security="starttls", login=True,
               password=PASSWORD + "-wrong", cafile=certificate[0], attempts=3)  # fmt: skip
    assert run_cli(reports, "--to", "ana@example.com", "--report", "telecom") == 4
    captured = capsys.readouterr()
    assert "login as 'mailer' refused: 535" in captured.err
    assert "not retried" in captured.err
    assert retry_notices(caplog) == []
    assert starttls_server.handler.data_calls == 0
    assert [s for s, _, _ in log_states(reports)] == ["sending", "failed"]
    log_text = (reports.dir / SENT_LOG_NAME).read_text(encoding="utf-8")
    assert_no_password(captured.out, captured.err, caplog.text, log_text)

    settings = load_smtp_settings(environ=dict(os.environ))
    result = deliver(b"x", sender=SENDER, recipients=["a@b.test"], settings=settings)
    assert isinstance(result.failure, SmtpAuthenticationError)
    assert result.failure.attempts == 1 and not result.failure.transient


def test_untrusted_certificate_is_refused_not_ignored(
    reports: Reports,
    starttls_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_server(monkeypatch, starttls_server.port, security="starttls", login=True)  # no CAFILE
    assert run_cli(reports, "--to", "ana@example.com", "--report", "telecom") == 4
    err = capsys.readouterr().err
    assert "TLS certificate of 127.0.0.1" in err and "not trusted" in err
    assert "CXTRADEOFF_SMTP_CAFILE" in err
    assert retry_notices(caplog) == []
    assert starttls_server.handler.data_calls == 0


def test_settings_repr_hides_password() -> None:
    settings = SmtpSettings(host="h", port=1, security="ssl", sender=SENDER, user=USER,
                            password=PASSWORD)  # fmt: skip
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)


def assert_no_password(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text


# ------------------------------------------------------------------------ dry run


def test_dry_run_writes_the_message_without_smtp_settings(
    reports: Reports, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eml = tmp_path / "out" / "message.eml"
    code = run_cli(reports, "--to", "ana@example.com", "--report", "telecom", "--dry-run", str(eml))
    assert code == 0
    out = capsys.readouterr().out
    assert f"wrote {eml}" in out and "not sent" in out
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert msg["To"] == "ana@example.com"
    assert msg["From"] == DRY_RUN_SENDER
    assert msg["Subject"].strip() == "telecom: automate service fully with AI"
    assert msg["Message-ID"] and msg["Date"]
    for shown in TELECOM_SHOWN:
        assert shown in body(msg, "plain") and shown in body(msg, "html")
    assert attachments(msg) == {"cxtradeoff-telecom.pdf": reports.pdfs["telecom"]}
    assert sent_log(reports) == []
    assert [p.name for p in eml.parent.iterdir()] == ["message.eml"]  # no temporary left


def test_dry_run_bytes_are_what_is_sent(
    reports: Reports, smtp_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Same headers and parts as the sent message; only Date and Message-ID differ."""
    use_server(monkeypatch, smtp_server.port, login=False)
    monkeypatch.setenv("CXTRADEOFF_SMTP_PASSWORD", PASSWORD)  # set but never needed
    monkeypatch.setenv("CXTRADEOFF_SMTP_USER", USER)
    monkeypatch.setenv("CXTRADEOFF_SMTP_SECURITY", "starttls")
    eml = tmp_path / "m.eml"
    assert run_cli(reports, "--to", "ana@example.com", "--dry-run", str(eml)) == 0
    data = eml.read_bytes()
    assert PASSWORD.encode() not in data
    assert b"\r\n" in data  # the SMTP wire form, CRLF line ends
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert msg["From"] == SENDER


# ------------------------------------------------------------------------ settings


def test_settings_from_config_file_and_environment_overrides(tmp_path: Path) -> None:
    config = tmp_path / "reports.yaml"
    config.write_text(
        "reports: [ignored]\n"
        "smtp:\n  host: mail.example.com\n  port: 2525\n  security: ssl\n"
        "  from: Reports <reports@example.com>\n  user: bot\n  password: from-file\n",
        encoding="utf-8",
    )
    settings = load_smtp_settings(environ={}, config_path=config)
    assert (settings.host, settings.port, settings.security) == ("mail.example.com", 2525, "ssl")
    assert (settings.sender, settings.user, settings.password) == (
        "reports@example.com",
        "bot",
        "from-file",
    )
    settings = load_smtp_settings(
        environ={"CXTRADEOFF_SMTP_PORT": "465", "CXTRADEOFF_SMTP_PASSWORD": "from-env"},
        config_path=config,
    )
    assert (settings.port, settings.password) == (465, "from-env")


def test_missing_config_file_is_fine_and_defaults_apply(tmp_path: Path) -> None:
    settings = load_smtp_settings(
        environ={"CXTRADEOFF_SMTP_HOST": "mx.test", "CXTRADEOFF_SMTP_FROM": SENDER},
        config_path=tmp_path / "absent.yaml",
    )
    assert (settings.port, settings.security, settings.user) == (587, "starttls", None)
    assert (settings.attempts, settings.retry_delay) == (4, 2.0)
    # RFC 5321, 4.5.3.2: 10 minutes for the answer to the end of the message; 30 s otherwise.
    assert (settings.timeout, settings.data_timeout) == (30.0, 600.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "smtp"}, "CXTRADEOFF_SMTP_PORT='smtp': expected a TCP port"),
        ({"PORT": "70000"}, "CXTRADEOFF_SMTP_PORT='70000': expected a TCP port"),
        ({"SECURITY": "tls"}, "CXTRADEOFF_SMTP_SECURITY='tls': unknown security"),
        ({"HOST": ""}, "CXTRADEOFF_SMTP_HOST is not set"),
        ({"FROM": "not-an-address"}, "CXTRADEOFF_SMTP_FROM: 'not-an-address' is not an e-mail"),
        ({"USER": "bot"}, "CXTRADEOFF_SMTP_PASSWORD is not set but CXTRADEOFF_SMTP_USER is"),
        ({"SECURITY": "none", "USER": "bot", "PASSWORD": PASSWORD}, "unencrypted"),
        ({"CAFILE": "/nonexistent/ca.pem"}, "CXTRADEOFF_SMTP_CAFILE='/nonexistent/ca.pem'"),
        ({"ATTEMPTS": "0"}, "CXTRADEOFF_SMTP_ATTEMPTS='0': expected the number of attempts"),
        ({"RETRY_DELAY": "-1"}, "CXTRADEOFF_SMTP_RETRY_DELAY='-1'"),
        ({"TIMEOUT": "nan"}, "CXTRADEOFF_SMTP_TIMEOUT='nan'"),
        ({"DATA_TIMEOUT": "0"}, "CXTRADEOFF_SMTP_DATA_TIMEOUT='0': expected seconds"),
    ],
)
def test_bad_settings_name_the_variable(
    env: dict[str, str],
    message: str,
    reports: Reports,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = {"HOST": "127.0.0.1", "FROM": SENDER}
    for key, value in (base | env).items():
        monkeypatch.setenv(ENV_PREFIX + key, value)
    assert run_cli(reports, "--to", "ana@example.com") == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert PASSWORD not in captured.err + captured.out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("smtp:\n  host: mx.test\n  port: 99999\n  from: a@b.test\n",
         r"smtp\.port in .*reports\.yaml='99999'"),
        ("smtp:\n  hots: mx.test\n", r"unknown key\(s\) smtp\.hots"),
        ("smtp: [1, 2]\n", "'smtp' must be a mapping"),
        ("smtp: {host: mx.test, from: a@b.test, data_timeout: 7200}\n",
         r"smtp\.data_timeout in .*='7200': expected seconds, a number from 0\.1 to 3600"),
    ],
)  # fmt: skip
def test_config_file_errors_name_the_key(text: str, message: str, tmp_path: Path) -> None:
    config = tmp_path / "reports.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SmtpConfigError, match=message):
        load_smtp_settings(environ={}, config_path=config)


@pytest.mark.parametrize(
    "address", ["ana", "ana@", "a@b.test, c@d.test", "ana@example.com\r\nBcc: x@y.test", ""]
)
def test_bad_recipient_is_a_usage_error(
    address: str, reports: Reports, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(reports, "--to", address, "--dry-run", str(tmp_path / "m.eml"))
    assert code == 2
    assert "--to" in capsys.readouterr().err
    assert not (tmp_path / "m.eml").exists()


# ------------------------------------------------------------------------ manifest


def test_manifest_problems_are_all_listed(reports: Reports) -> None:
    data = manifest_data(
        {
            "telecom": report_entry(
                "telecom",
                headline=TELECOM_HEADLINE | {"npv": "lots", "p_loss": 1.5,
                                             "break_even_conversion_npv": "six"},
            ),
            "evidence": report_entry("evidence", status="done"),
        }
    )  # fmt: skip
    write_raw_manifest(reports.dir, data)
    with pytest.raises(ManifestError) as info:
        load_manifest(reports.dir)
    message = str(info.value)
    assert "manifest.json: " in message and "problem(s)" in message
    for where in ("telecom.headline.npv", "telecom.headline.p_loss",
                  "telecom.headline.break_even_conversion_npv", "evidence.status"):  # fmt: skip
        assert f"reports.{where}: " in message
    assert "rebuild" in message
    assert info.value.exit_code == 2


def test_manifest_pdf_outside_the_reports_directory_is_refused(reports: Reports) -> None:
    write_manifest(
        reports.dir,
        {
            "evil": report_entry("evil", outputs={"pdf": "../../etc/passwd"}),
            "abs": report_entry("abs", outputs={"pdf": "/etc/passwd"}),
        },
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(reports.dir)
    assert "reports.evil.outputs.pdf: '../../etc/passwd' points outside" in str(info.value)
    assert "reports.abs.outputs.pdf: '/etc/passwd' points outside" in str(info.value)


@pytest.mark.parametrize(
    ("version", "age"),
    [
        (None, "an older layout"),
        (0, "an older layout"),
        (1, "an older layout"),
        (3, "an unknown layout"),
    ],
)
def test_manifest_of_another_version_says_to_rebuild(
    version: int | None, age: str, reports: Reports, capsys: pytest.CaptureFixture[str]
) -> None:
    data = manifest_data({"telecom": report_entry("telecom", headline=TELECOM_HEADLINE)})
    if version is None:
        del data["schema_version"]
    else:
        data["schema_version"] = version
    write_raw_manifest(reports.dir, data)
    assert run_cli(reports, "--to", "a@b.test", "--dry-run", str(reports.dir / "m.eml")) == 2
    err = capsys.readouterr().err
    assert f"schema_version {version!r}, {age}" in err
    assert "rebuild the reports (cxtradeoff build --force)" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"break_even_conversion_npv": None, "break_even_conversion": None},  # no exposure
        {"break_even_conversion_npv": 1.4, "npv_mean": 5e6},  # always pays
        {"break_even_conversion_npv": -0.2, "annual_savings": -1e5},  # never pays
        {"p_loss": 0.0, "currency": "USD", "scenario": "hybrid"},
        {"p_loss": 0.001, "npv_mean": 870_000.0},
    ],
)
def test_the_email_words_each_figure_as_the_formatting_module_does(
    changes: dict[str, Any], reports: Reports
) -> None:
    """The same number reads the same in the e-mail as in the report and on the landing page."""
    headline = TELECOM_HEADLINE | changes
    write_manifest(reports.dir, {"telecom": report_entry("telecom", headline=headline)})
    manifest = load_manifest(reports.dir)
    attach, _ = select_reports(manifest, reports.dir, names=["telecom"])
    text = render_text(manifest, attach)
    currency = headline["currency"]
    for line in (
        f"Recommended: {formatting.scenario_title(headline['scenario'])}",
        f"Expected net present value: {formatting.money(headline['npv_mean'], currency)}",
        f"Chance of losing money: {formatting.chance(headline['p_loss'])}",
        "Break-even switching conversion: "
        + formatting.break_even_words(headline["break_even_conversion_npv"]),
        f"Assumed switching conversion: {formatting.share(headline['switch_conversion'])}",
    ):
        assert f"  {line}\n" in text


def test_missing_manifest_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = Reports(tmp_path, {})
    assert run_cli(empty, "--to", "a@b.test", "--dry-run", str(tmp_path / "m.eml")) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_corrupt_sent_log_names_the_line(reports: Reports) -> None:
    log = reports.dir / SENT_LOG_NAME
    log.write_text('{"build_id": "b", "report": "r", "recipient": "a@b.test"}\nnot json\n',
                   encoding="utf-8")  # fmt: skip
    with pytest.raises(SentLogError, match="line 2"):
        read_sent_log(log)


def test_attachment_filename_is_safe() -> None:
    assert attachment_filename("telecom") == "cxtradeoff-telecom.pdf"
    assert attachment_filename("../a b/c") == "cxtradeoff-a-b-c.pdf"


def test_a_held_sent_log_lock_is_a_clear_error(reports: Reports, smtp_server: Any) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=smtp_server.port, security="none",
                            sender=SENDER)  # fmt: skip
    lock = FileLock(str(reports.dir / SENT_LOG_NAME) + ".lock")
    with lock, pytest.raises(SentLogError, match="held by another 'cxtradeoff email'"):
        send_reports(reports_dir=reports.dir, recipients=["ana@example.com"],
                             report_names=None, settings=settings, lock_timeout=0.1)  # fmt: skip
    assert smtp_server.handler.data_calls == 0


# ------------------------------------------------- exactly once: fault injection
# Each case is made real: a server that stalls or hangs up after the final dot, a full
# tmpfs, a file-size limit the kernel enforces, a kill -9. Each asserts what the server
# received, the exit status, what was said on standard error, and the sent log.

ARGS = ("--to", "ana@example.com", "--report", "telecom")
CXTRADEOFF = Path(sys.executable).with_name("cxtradeoff")


def assert_clean_error(err: str) -> None:
    """One ``cxtradeoff email: error:`` line, no traceback."""
    assert "Traceback" not in err
    assert err.count("cxtradeoff email: error: ") == 1


def no_temporaries(folder: Path) -> bool:
    return not any(p.name.endswith(".tmp") for p in folder.iterdir())


@pytest.mark.parametrize(
    ("after_data", "said"),
    [
        ("stall", "no answer from 127.0.0.1:{port} within 0.5 s after the end of the message"),
        ("drop", "127.0.0.1:{port} closed the connection before answering the end of the message"),
    ],
)
def test_no_answer_after_the_final_dot_is_possibly_sent_and_never_resent_blindly(
    after_data: str,
    said: str,
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = smtp_server.handler
    handler.after_data = after_data  # the server has the whole message, then says nothing
    said = said.format(port=smtp_server.port)
    use_server(monkeypatch, smtp_server.port, attempts=3, data_timeout=0.5)

    assert run_cli(reports, *ARGS) == 4
    err = capsys.readouterr().err
    message_id = handler.message()["Message-ID"]
    assert len(handler.envelopes) == 1 and handler.data_calls == 1  # received once, no retry
    assert retry_notices(caplog) == []
    assert (
        f"Possibly sent, not retried: telecom of build {BUILD_ID} to ana@example.com "
        f"(Message-ID {message_id}): {said}." in err
    )
    assert f"error: delivery outcome unknown for build {BUILD_ID}" in err
    assert "recorded as 'possibly sent'" in err and "--resend only if it did not arrive" in err
    assert_clean_error(err)
    assert log_states(reports) == [
        ("sending", "telecom", "ana@example.com"),
        ("possibly sent", "telecom", "ana@example.com"),
    ]
    assert {e["message_id"] for e in sent_log(reports)} == {message_id}
    assert sent_log(reports)[-1]["reason"] == said

    # The next run, with a server that answers at once: nothing sent again, and why.
    handler.after_data = None
    assert run_cli(reports, *ARGS) == 0
    out = capsys.readouterr().out
    assert (
        f"Not sent again, possibly sent by an earlier run: telecom of build {BUILD_ID} to "
        f"ana@example.com (Message-ID {message_id}): {said}. Check the mailbox; use --resend"
    ) in out
    assert len(handler.envelopes) == 1
    assert len(sent_log(reports)) == 2

    # --resend sends it, once more.
    assert run_cli(reports, *ARGS, "--resend") == 0
    assert len(handler.envelopes) == 2
    assert log_states(reports)[2:] == [
        ("sending", "telecom", "ana@example.com"),
        ("sent", "telecom", "ana@example.com"),
    ]


def test_a_slow_answer_to_the_final_dot_is_awaited_for_the_data_timeout(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The answer after the final dot has its own (RFC 5321) time-out, not the commands' one."""
    handler = smtp_server.handler
    handler.after_data, handler.stall_seconds = "stall", 1.0  # longer than TIMEOUT
    use_server(monkeypatch, smtp_server.port, timeout=0.3, data_timeout=20)
    assert run_cli(reports, *ARGS) == 0
    assert len(handler.envelopes) == 1 and handler.data_calls == 1
    assert retry_notices(caplog) == []
    assert [s for s, _, _ in log_states(reports)] == ["sending", "sent"]


@dataclass
class Tmpfs:
    """A small tmpfs mounted for one test, that can be filled up and emptied again."""

    path: Path

    def fill(self) -> None:
        """Write a filler file until the file system says it is full (ENOSPC)."""
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for chunk in (65536, 4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)

    def free(self) -> None:
        (self.path / "filler").unlink()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Tmpfs]:
    """A 512 KiB tmpfs (mounting needs root, or CAP_SYS_ADMIN)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()}): needs root")
    try:
        yield Tmpfs(mount_point)
    finally:
        subprocess.run(["umount", str(mount_point)], check=True, timeout=30)


def test_a_full_disk_before_the_reservation_sends_nothing(
    tmpfs: Tmpfs,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports = make_reports(tmpfs.path / "reports")
    log = reports.dir / SENT_LOG_NAME
    use_server(monkeypatch, smtp_server.port)
    tmpfs.fill()

    assert run_cli(reports, *ARGS) == 1
    err = capsys.readouterr().err
    assert (
        f"error: cannot write the sent log {log} (No space left on device); nothing was "
        f"sent (build {BUILD_ID} (telecom) to ana@example.com)" in err
    )
    assert_clean_error(err)
    assert smtp_server.handler.data_calls == 0 and smtp_server.handler.envelopes == []
    assert not log.exists() and no_temporaries(reports.dir)

    # Space again: the next run sends it, once.
    tmpfs.free()
    assert run_cli(reports, *ARGS) == 0
    assert len(smtp_server.handler.envelopes) == 1
    assert [s for s, _, _ in log_states(reports)] == ["sending", "sent"]


def test_a_full_disk_after_the_server_took_the_message_never_sends_it_again(
    tmpfs: Tmpfs,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports = make_reports(tmpfs.path / "reports")
    log = reports.dir / SENT_LOG_NAME
    handler = smtp_server.handler
    handler.on_data = tmpfs.fill  # the disk fills up while the server takes the message
    use_server(monkeypatch, smtp_server.port)

    assert run_cli(reports, *ARGS) == 1
    captured = capsys.readouterr()
    message_id = handler.message()["Message-ID"]
    assert len(handler.envelopes) == 1
    assert (
        f"error: cannot write the sent log {log} (No space left on device): build {BUILD_ID} "
        f"(telecom) to ana@example.com, Message-ID {message_id}: the server accepted it for "
        "ana@example.com, but this could not be recorded. Its reservation ('sending') stays "
        "in the log, so no later run sends it again without --resend" in captured.err
    )
    assert_clean_error(captured.err)
    assert log_states(reports) == [("sending", "telecom", "ana@example.com")]
    assert no_temporaries(reports.dir)

    # The next run, the disk still full: it cannot record what it found, so sends nothing.
    handler.on_data = None
    assert run_cli(reports, *ARGS) == 1
    err = capsys.readouterr().err
    assert f"cannot write the sent log {log} (No space left on device); nothing was sent" in err
    assert "reservations an earlier run left" in err
    assert_clean_error(err)
    assert len(handler.envelopes) == 1
    assert log_states(reports) == [("sending", "telecom", "ana@example.com")]

    # Space again: the message is reported as possibly sent (exit 4), not sent again ...
    tmpfs.free()
    assert run_cli(reports, *ARGS) == 4
    err = capsys.readouterr().err
    assert f"Possibly sent, not retried: telecom of build {BUILD_ID} to ana@example.com" in err
    assert f"(Message-ID {message_id}): an earlier run reserved it and never recorded" in err
    assert f"error: delivery outcome unknown for build {BUILD_ID}" in err
    assert_clean_error(err)
    assert len(handler.envelopes) == 1
    assert log_states(reports) == [
        ("sending", "telecom", "ana@example.com"),
        ("possibly sent", "telecom", "ana@example.com"),
    ]
    # ... and the run after that just says so.
    assert run_cli(reports, *ARGS) == 0
    assert "Not sent again, possibly sent by an earlier run" in capsys.readouterr().out
    assert len(handler.envelopes) == 1 and len(sent_log(reports)) == 2


def test_a_read_only_reports_folder_sends_nothing(
    tmpfs: Tmpfs,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports = make_reports(tmpfs.path / "reports")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs.path)], check=True, timeout=30)
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(reports, *ARGS) == 1
    err = capsys.readouterr().err
    log = reports.dir / SENT_LOG_NAME
    assert (
        f"error: cannot lock the sent log: {log}.lock (Read-only file system); nothing was sent"
        in err
    )
    assert_clean_error(err)
    assert smtp_server.handler.data_calls == 0 and smtp_server.handler.envelopes == []
    assert not log.exists()


def cli_process(reports: Reports, *args: str, **popen: Any) -> subprocess.Popen[str]:
    """``cxtradeoff email`` as its own process, with the test's SMTP settings."""
    no_config = reports.dir.parent / "no-reports.yaml"
    return subprocess.Popen(
        [str(CXTRADEOFF), "email", "--reports-dir", str(reports.dir), "--config",
         str(no_config), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )  # fmt: skip


def _file_size_limit_zero() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("a directory where the log should be", "cannot read the sent log {log} (Is a directory)"),
        ("a file-size limit of 0 (EFBIG)", "cannot write the sent log {log} (File too large)"),
    ],
)
def test_a_sent_log_that_cannot_be_used_sends_nothing(
    fault: str,
    said: str,
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = reports.dir / SENT_LOG_NAME
    use_server(monkeypatch, smtp_server.port)
    if fault.startswith("a directory"):
        log.mkdir()
        proc = cli_process(reports, *ARGS)
    else:
        # The kernel refuses to write past the limit; CPython ignores SIGXFSZ, so the
        # write raises OSError(EFBIG) as on a full quota. Pipes are not files: output works.
        proc = cli_process(reports, *ARGS, preexec_fn=_file_size_limit_zero)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    assert said.format(log=log) in err
    assert_clean_error(err)
    assert smtp_server.handler.data_calls == 0 and smtp_server.handler.envelopes == []
    assert log.is_dir() if fault.startswith("a directory") else not log.exists()
    assert no_temporaries(reports.dir)


def test_a_run_killed_while_the_server_holds_the_message_is_not_sent_again(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = smtp_server.handler
    handler.after_data = "stall"  # the answer to the final dot is slow in coming
    use_server(monkeypatch, smtp_server.port, data_timeout=60)
    proc = cli_process(reports, *ARGS)
    try:
        assert handler.received.wait(60), "the message never reached the server"
        # The reservation was on disk before the message went.
        assert log_states(reports) == [("sending", "telecom", "ana@example.com")]
        os.kill(proc.pid, signal.SIGKILL)  # killed between the send and its confirmation
    finally:
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    handler.after_data = None
    message_id = handler.message()["Message-ID"]
    assert len(handler.envelopes) == 1

    # The next run finds the reservation: reports it as possibly sent, sends nothing.
    assert run_cli(reports, *ARGS) == 4
    err = capsys.readouterr().err
    assert (
        f"Possibly sent, not retried: telecom of build {BUILD_ID} to ana@example.com "
        f"(Message-ID {message_id}): an earlier run reserved it and never recorded the "
        "server's answer (it was interrupted, or could not write the sent log)." in err
    )
    assert "error: delivery outcome unknown" in err
    assert_clean_error(err)
    assert len(handler.envelopes) == 1
    assert log_states(reports) == [
        ("sending", "telecom", "ana@example.com"),
        ("possibly sent", "telecom", "ana@example.com"),
    ]

    # Only --resend sends it again.
    assert run_cli(reports, *ARGS) == 0
    assert len(handler.envelopes) == 1
    assert run_cli(reports, *ARGS, "--resend") == 0
    assert len(handler.envelopes) == 2
    assert log_states(reports)[-1] == ("sent", "telecom", "ana@example.com")


def test_log_lines_from_before_the_states_read_as_sent(
    reports: Reports,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A log written before reservations existed (no ``state``) still stops a resend."""
    old = {"build_id": BUILD_ID, "report": "telecom", "recipient": "ana@example.com",
           "sent_at": "2026-11-26T10:20:00+00:00", "message_id": "<1@x>",
           "pdf": "cxtradeoff-telecom.pdf"}  # fmt: skip
    (reports.dir / SENT_LOG_NAME).write_text(json.dumps(old) + "\n", encoding="utf-8")
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(reports, *ARGS) == 0
    assert "Skipped ana@example.com: already received telecom" in capsys.readouterr().out
    assert smtp_server.handler.envelopes == []
    assert sent_log(reports) == [old]


# ------------------------------------------------------------------------ briefs


@pytest.fixture(scope="module")
def company_results() -> dict[str, str]:
    """Results files of two companies as the analysis writes them (few draws): telecom
    (an AI option recommended) and a retail bank (the status quo)."""
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.results import build_results

    scenarios = ["status_quo", "hybrid", "full_automation", "reversal"]
    return {
        name: build_results(
            load_profiles()[profile], scenarios, draws=300, seed=3
        ).model_dump_json()
        for name, profile in (("telecom", "telecom"), ("retail", "retail_bank"))
    }


@pytest.fixture
def briefs(tmp_path: Path, company_results: dict[str, str]) -> Reports:
    """A build with briefs: telecom and retail, each with its brief and results file, and
    the evidence report (no brief)."""
    from cxtradeoff.contracts import ResultsFile

    directory = tmp_path / "reports"
    directory.mkdir()
    names = ["telecom", "telecom.brief", "retail", "retail.brief", "evidence"]
    pdfs = {name: make_pdf(directory / f"{name}.pdf", name) for name in names}
    entries: dict[str, Any] = {}
    for name in ("telecom", "retail"):
        results = ResultsFile.model_validate_json(company_results[name])
        (directory / f"{name}.results.json").write_text(company_results[name])
        headline = {"currency": results.currency, **results.headline.model_dump()}
        entries[name] = report_entry(name, headline=headline, display_name=results.display_name)
        entries[f"{name}.brief"] = report_entry(
            f"{name}.brief", title=f"Decision brief: {name}", profile=None, depends_on=[name],
            outputs={"html": f"{name}.brief.html", "pdf": f"{name}.brief.pdf",
                     "notebook": f"{name}.brief.ipynb", "results": None},
        )  # fmt: skip
    entries["evidence"] = report_entry("evidence", title="What the evidence says", profile=None)
    write_manifest(directory, entries)
    return Reports(directory, pdfs)


def _decision(reports: Reports, name: str) -> formatting.DecisionLines:
    from cxtradeoff.contracts import load_results

    return formatting.decision_lines(load_results(reports.dir / f"{name}.results.json"))


def test_the_briefs_go_by_default_and_the_decisions_lead(
    briefs: Reports, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(briefs, "--to", "ana@example.com") == 0
    msg = smtp_server.handler.message()
    assert attachments(msg) == {
        "cxtradeoff-telecom.brief.pdf": briefs.pdfs["telecom.brief"],
        "cxtradeoff-retail.brief.pdf": briefs.pdfs["retail.brief"],
    }
    telecom, retail = _decision(briefs, "telecom"), _decision(briefs, "retail")
    # the subject: how many companies and each decision in a few words
    subject = " ".join(msg["Subject"].split())
    assert subject.startswith("AI in customer service, 2 companies: ")
    assert "AI assisting agents (Telecom operator)" in subject
    assert "no AI for now (Retail bank)" in subject
    # the first lines: each brief's decision lines, the same sentences (and, for the retail
    # bank, why hybrid is not recommended though more often best)
    text = body(msg, "plain").replace("\r\n", "\n")
    assert telecom.odds is None and retail.odds is not None
    assert text.startswith(
        f"{telecom.title}\n{telecom.decision}\n\n"
        f"{retail.title}\n{retail.decision}\n{retail.odds}\n\n"
    )
    html_body = body(msg, "html")
    for line in (telecom.title, telecom.decision, retail.decision, retail.odds):
        assert html.escape(line, quote=True) in html_body
    # the evidence has no brief: named as left for --full, not attached
    assert "Also built, not attached (the full reports go with --full):" in text
    assert "What the evidence says (evidence)" in text
    assert "Also built, not attached (the full reports go with --full)" in html_body
    # build ids and the commit in the footer only
    head, footer = text.split("\n-- \n", 1)
    assert BUILD_ID in footer and "abc123def456" in footer and BUILD_ID not in head
    # the status quo's break-even is that of the AI option it turned down
    value, note = formatting.decision_break_even(load_results_file(briefs, "retail"))
    assert f"Break-even switching conversion: {value} ({note})" in text


def load_results_file(reports: Reports, name: str) -> Any:
    from cxtradeoff.contracts import load_results

    return load_results(reports.dir / f"{name}.results.json")


def test_full_adds_the_reports_and_each_pdf_still_goes_once(
    briefs: Reports, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(briefs, "--to", "ana@example.com") == 0
    assert run_cli(briefs, "--to", "ana@example.com", "--full") == 0
    assert len(smtp_server.handler.envelopes) == 2
    second = smtp_server.handler.message()
    # the briefs went already: the second message carries the full reports alone
    assert set(attachments(second)) == {
        "cxtradeoff-telecom.pdf",
        "cxtradeoff-retail.pdf",
        "cxtradeoff-evidence.pdf",
    }
    assert "3 full reports" in body(second, "plain")
    sent = [(r, n) for s, n, r in log_states(briefs) if s == "sent"]
    assert sorted(n for _, n in sent) == sorted(
        ["telecom.brief", "retail.brief", "telecom", "retail", "evidence"]
    )
    assert run_cli(briefs, "--to", "ana@example.com", "--full") == 0
    assert len(smtp_server.handler.envelopes) == 2  # nothing left to send


def test_one_company_named_gets_its_decision_as_the_subject(
    briefs: Reports, tmp_path: Path
) -> None:
    eml = tmp_path / "one.eml"
    assert (
        run_cli(briefs, "--to", "ana@example.com", "--report", "retail", "--dry-run", str(eml)) == 0
    )
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert " ".join(msg["Subject"].split()) == _decision(briefs, "retail").title
    assert list(attachments(msg)) == ["cxtradeoff-retail.brief.pdf"]
    assert run_cli(briefs, "--to", "ana@example.com", "--report", "retail.brief", "--full",
                   "--dry-run", str(eml)) == 0  # fmt: skip
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert list(attachments(msg)) == ["cxtradeoff-retail.brief.pdf", "cxtradeoff-retail.pdf"]
    # a report without a brief, asked for by name, goes as it is
    assert (
        run_cli(briefs, "--to", "ana@example.com", "--report", "evidence", "--dry-run", str(eml))
        == 0
    )
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert list(attachments(msg)) == ["cxtradeoff-evidence.pdf"]


def test_a_failed_brief_is_never_silently_replaced(briefs: Reports) -> None:
    manifest = json.loads((briefs.dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["reports"]["retail.brief"] |= {"status": "failed", "error": "PDF not printed"}
    write_manifest(briefs.dir, manifest["reports"])
    with pytest.raises(ReportUnavailableError, match=r"retail\.brief: status 'failed'"):
        prepare(briefs.dir, report_names=["retail"])
    _, chosen = prepare(briefs.dir, report_names=None)
    assert [a.name for a in chosen.attach] == ["telecom.brief"]
    assert [u.name for u in chosen.unavailable] == ["retail.brief"]


# -------------------------------------------------------------------------- portfolios


@pytest.fixture
def portfolio(tmp_path: Path) -> Reports:
    """A portfolio's build: 12 units (8 recommended hybrid, 4 the status quo), each with
    its full report, and the roll-up that reads them; plus the evidence report."""
    directory = tmp_path / "reports"
    directory.mkdir()
    entries: dict[str, Any] = {}
    pdfs = {}
    for i in range(1, 13):
        name = f"group-unit-{i:03d}"
        scenario = "hybrid" if i <= 8 else "status_quo"
        pdfs[name] = make_pdf(directory / f"{name}.pdf", name)
        entries[name] = report_entry(
            name, title=f"Unit {i:03d}", unit_of="group",
            headline={**TELECOM_HEADLINE, "scenario": scenario},
        )  # fmt: skip
    pdfs["group"] = make_pdf(directory / "group.pdf", "group")
    entries["group"] = report_entry(
        "group", title="Group: the decision, unit by unit", profile=None,
        depends_on=[n for n in entries], outputs={"pdf": "group.pdf", "html": "group.html"},
    )  # fmt: skip
    pdfs["evidence"] = make_pdf(directory / "evidence.pdf", "evidence")
    entries["evidence"] = report_entry("evidence", title="What the evidence says", profile=None)
    write_manifest(directory, entries)
    return Reports(directory, pdfs)


def test_a_portfolio_goes_as_its_roll_up_with_its_units_counted_in_one_line(
    portfolio: Reports, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One PDF for a portfolio of any size, not one per unit: the roll-up leads, the subject
    counts the units by decision, the units are left for --full in one line."""
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(portfolio, "--to", "ana@example.com") == 0
    msg = smtp_server.handler.message()
    assert attachments(msg) == {
        "cxtradeoff-group.pdf": portfolio.pdfs["group"],
        "cxtradeoff-evidence.pdf": portfolio.pdfs["evidence"],
    }
    units = "12 units: AI assisting agents for 8, no AI for now for 4"
    assert " ".join(msg["Subject"].split()) == f"Group: the decision, unit by unit: {units}"
    text = body(msg, "plain").replace("\r\n", "\n")
    assert text.startswith(f"Group: the decision, unit by unit\n{units}\n\n")
    assert "Attached: 1 portfolio roll-up and 1 full report (PDF)." in text
    assert "  - the reports of the 12 units of portfolio group (or name one with --report)" in text
    assert "group-unit-001" not in text  # no unit listed one by one
    assert "No model figures" not in text.split("What the evidence says")[0]  # not the roll-up
    assert html.escape(units) in body(msg, "html")
    # the roll-up alone
    assert run_cli(portfolio, "--to", "bo@example.com", "--report", "group") == 0
    assert list(attachments(smtp_server.handler.message())) == ["cxtradeoff-group.pdf"]
    # --full sends every unit's report too; a unit asked for by name goes alone
    assert run_cli(portfolio, "--to", "cy@example.com", "--full") == 0
    assert len(attachments(smtp_server.handler.message())) == 14
    subject = " ".join(smtp_server.handler.message()["Subject"].split())
    assert subject.startswith("AI in customer service, 12 companies: AI assisting agents for 8;")
    assert run_cli(portfolio, "--to", "di@example.com", "--report", "group-unit-003") == 0
    assert list(attachments(smtp_server.handler.message())) == ["cxtradeoff-group-unit-003.pdf"]


def test_beside_briefs_a_portfolio_still_goes_as_its_roll_up(
    portfolio: Reports, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build of company reports with briefs and a portfolio: the briefs and the roll-up
    go, the evidence and the units are left for --full."""
    from cxtradeoff.contracts import load_manifest

    manifest = load_manifest(portfolio.dir / "manifest.json")
    entries = {n: e.model_dump() for n, e in manifest.reports.items()}
    entries["telecom"] = report_entry("telecom", title=TELECOM_TITLE, headline=TELECOM_HEADLINE)
    entries["telecom.brief"] = report_entry(
        "telecom.brief", title="Decision brief: telecom", profile=None, depends_on=["telecom"],
        outputs={"pdf": "telecom.brief.pdf"},
    )  # fmt: skip
    brief = make_pdf(portfolio.dir / "telecom.brief.pdf", "telecom brief")
    make_pdf(portfolio.dir / "telecom.pdf", "telecom")
    write_manifest(portfolio.dir, entries)
    use_server(monkeypatch, smtp_server.port)
    assert run_cli(portfolio, "--to", "ana@example.com") == 0
    msg = smtp_server.handler.message()
    assert attachments(msg) == {
        "cxtradeoff-telecom.brief.pdf": brief,
        "cxtradeoff-group.pdf": portfolio.pdfs["group"],
    }
    text = body(msg, "plain")
    assert "Attached: 1 one-page decision brief and 1 portfolio roll-up (PDF)." in text
    assert "What the evidence says (evidence)" in text and "12 units of portfolio group" in text


def test_a_message_too_large_for_the_server_says_its_size_and_what_to_send_instead(
    portfolio: Reports, start_smtp_server: Any, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A server with a size limit (SIZE, RFC 1870) refuses the whole portfolio with --full:
    nothing is sent, the message's size is given with what to send instead, and the roll-up
    alone, sent next, fits."""
    sizes = {}
    for name, args in (("full", ["--all", "--full"]), ("roll-up", ["--report", "group"])):
        eml = portfolio.dir.parent / f"{name}.eml"
        assert run_cli(portfolio, "--to", "ana@example.com", *args, "--dry-run", str(eml)) == 0
        sizes[name] = eml.stat().st_size
    assert sizes["full"] > 2 * sizes["roll-up"]
    small = start_smtp_server(data_size_limit=(sizes["full"] + sizes["roll-up"]) // 2)
    use_server(monkeypatch, small.port)
    capsys.readouterr()
    assert run_cli(portfolio, "--to", "ana@example.com", "--full") == 4
    err = capsys.readouterr().err
    assert "552" in err and "MB: send fewer PDFs" in err and "--report NAME" in err
    assert "Traceback" not in err and small.handler.envelopes == []
    assert run_cli(portfolio, "--to", "ana@example.com", "--report", "group") == 0
    assert list(attachments(small.handler.message())) == ["cxtradeoff-group.pdf"]
