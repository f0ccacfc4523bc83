"""The message: subject, plain-text and HTML bodies with the headline figures, PDFs attached.

Examples
--------
>>> format_money(1234567.4, "EUR")
'EUR 1,234,567'
>>> format_share(0.059)
'5.9%'
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from cxtradeoff.delivery.email.selection import Headline, Manifest, ReportEntry
from cxtradeoff.errors import RecipientError


def format_money(value: float, currency: str) -> str:
    """Amount with its currency code and thousands separators, rounded to a unit.

    >>> format_money(-3400000.0, "EUR")
    'EUR -3,400,000'
    """
    if not math.isfinite(value):
        return "not available"
    rounded = round(value)
    return f"{currency} {rounded + 0:,}"  # + 0 turns -0 into 0


def format_share(value: float | None, *, missing: str = "not computed") -> str:
    """A share 0..1 as a percentage with one decimal.

    >>> format_share(0.31)
    '31.0%'
    """
    if value is None or not math.isfinite(value):
        return missing
    return f"{value:.1%}"


def format_break_even(value: float | None) -> str:
    """Break-even switch conversion as a percentage, with the model's special cases.

    None means nobody is exposed to AI, a negative value that automation does not pay
    even when no customer leaves, a value above 1 that it pays even if all leave who
    consider it (see the model reference).
    """
    if value is None or not math.isfinite(value):
        return "none (no customer is exposed to AI service)"
    if value < 0:
        return "none (the savings do not pay even with no customer lost)"
    if value > 1:
        return "above 100% (pays even if every customer considering switching leaves)"
    return format_share(value)


def headline_rows(headline: Headline) -> list[tuple[str, str]]:
    """Labelled, formatted headline figures, in reading order."""
    return [
        ("Scenario", headline.scenario.replace("_", " ")),
        ("Annual savings", format_money(headline.annual_savings, headline.currency)),
        ("Net present value", format_money(headline.npv, headline.currency)),
        ("Break-even switch conversion", format_break_even(headline.break_even_shown)),
        ("Probability of a loss (NPV < 0)", format_share(headline.p_loss)),
    ]


def attachment_filename(name: str) -> str:
    """Readable, safe file name of a report's PDF attachment.

    >>> attachment_filename("telecom")
    'cxtradeoff-telecom.pdf'
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "report"
    return f"cxtradeoff-{slug}.pdf"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def default_subject(manifest: Manifest, reports: Sequence[ReportEntry]) -> str:
    """Subject naming the single report's title, or the number of reports."""
    date = manifest.built_at[:10]
    if len(reports) == 1:
        return f"cxtradeoff report: {_one_line(reports[0].title)} (built {date})"
    return f"cxtradeoff reports: {len(reports)} reports (built {date})"


_FOOTNOTE = "Figures are taken from the build's results; the PDFs show sources and uncertainty."
_BREAK_EVEN_NOTE = (
    "Break-even switch conversion: the share of customers who consider leaving over AI "
    "service and must actually leave before the automation stops paying."
)


def render_text(
    manifest: Manifest,
    reports: Sequence[ReportEntry],
    unavailable: Sequence[tuple[ReportEntry, str]] = (),
) -> str:
    """Plain-text body: one block of headline figures per report."""
    lines = [
        "Customer-service AI: savings versus loyalty",
        "",
        f"Build {manifest.build_id}, built {manifest.built_at}"
        + (f", commit {manifest.git_commit[:12]}" if manifest.git_commit else "")
        + ".",
        f"Attached: {len(reports)} PDF report(s).",
        "",
    ]
    for report in reports:
        title = _one_line(report.title)
        lines.append(title)
        lines.append("-" * min(len(title), 72))
        if report.display_name or report.profile:
            lines.append(f"  Company: {_one_line(report.display_name or report.profile or '')}")
        if report.headline is None:
            lines.append("  No model figures in this report; see the PDF.")
        else:
            lines.extend(f"  {label}: {value}" for label, value in headline_rows(report.headline))
        lines.append(f"  Attachment: {attachment_filename(report.name)}")
        lines.append("")
    if unavailable:
        lines.append("Not attached (unavailable in this build):")
        lines.extend(f"  - {_one_line(r.title)} ({r.name}): {why}" for r, why in unavailable)
        lines.append("")
    if any(r.headline is not None for r in reports):
        lines.append(_BREAK_EVEN_NOTE)
    lines.append(_FOOTNOTE)
    return "\n".join(lines) + "\n"


def render_html(
    manifest: Manifest,
    reports: Sequence[ReportEntry],
    unavailable: Sequence[tuple[ReportEntry, str]] = (),
) -> str:
    """HTML body: the same content as :func:`render_text`; every data string is escaped."""

    def e(text: object) -> str:
        return html.escape(str(text), quote=True)

    commit = f", commit <code>{e(manifest.git_commit[:12])}</code>" if manifest.git_commit else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>cxtradeoff reports</title></head>",
        '<body style="font-family: sans-serif; color: #222;">',
        '<h1 style="font-size: 1.3em;">Customer-service AI: savings versus loyalty</h1>',
        f"<p>Build <code>{e(manifest.build_id)}</code>, built {e(manifest.built_at)}{commit}. "
        f"Attached: {len(reports)} PDF report(s).</p>",
    ]
    for report in reports:
        parts.append(f'<h2 style="font-size: 1.1em;">{e(_one_line(report.title))}</h2>')
        if report.display_name or report.profile:
            parts.append(
                f"<p>Company: {e(_one_line(report.display_name or report.profile or ''))}</p>"
            )
        if report.headline is None:
            parts.append("<p>No model figures in this report; see the PDF.</p>")
        else:
            parts.append('<table style="border-collapse: collapse;">')
            for label, value in headline_rows(report.headline):
                parts.append(
                    f'<tr><th style="text-align: left; padding: 2px 12px 2px 0;">{e(label)}</th>'
                    f'<td style="text-align: right;">{e(value)}</td></tr>'
                )
            parts.append("</table>")
        parts.append(f"<p>Attachment: <code>{e(attachment_filename(report.name))}</code></p>")
    if unavailable:
        parts.append('<h2 style="font-size: 1.1em;">Not attached (unavailable)</h2><ul>')
        parts.extend(
            f"<li>{e(_one_line(r.title))} (<code>{e(r.name)}</code>): {e(why)}</li>"
            for r, why in unavailable
        )
        parts.append("</ul>")
    if any(r.headline is not None for r in reports):
        parts.append(f"<p><small>{e(_BREAK_EVEN_NOTE)}</small></p>")
    parts.append(f"<p><small>{e(_FOOTNOTE)}</small></p></body></html>")
    return "\n".join(parts) + "\n"


# -------------------------------------------------------------------------- message


def build_message(
    manifest: Manifest,
    reports: Sequence[ReportEntry],
    *,
    sender: str,
    recipients: Sequence[str],
    unavailable: Sequence[tuple[ReportEntry, str]] = (),
    subject: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The MIME message: text and HTML alternatives, then one PDF attachment per report.

    Raises
    ------
    RecipientError
        The subject contains a line break.
    """
    if subject is not None and any(ch in subject for ch in "\r\n"):
        raise RecipientError(f"--subject: {subject!r} contains a line break")
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = subject if subject is not None else default_subject(manifest, reports)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    msg["X-Cxtradeoff-Build"] = manifest.build_id
    msg.set_content(render_text(manifest, reports, unavailable))
    msg.add_alternative(render_html(manifest, reports, unavailable), subtype="html")
    for report in reports:
        assert report.pdf is not None  # select_reports only passes attachable reports
        msg.add_attachment(
            report.pdf.read_bytes(),
            maintype="application",
            subtype="pdf",
            filename=attachment_filename(report.name),
        )
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    """The bytes sent over SMTP (CRLF line ends); a dry run writes the same bytes."""
    return msg.as_bytes(policy=policy.SMTP)
