"""The message: subject, plain-text and HTML bodies with the headline figures, PDFs attached.

Every figure is worded by :mod:`cxtradeoff.formatting`, so it reads in the e-mail as it
does in the report and on the landing page.

Examples
--------
>>> attachment_filename("telecom")
'cxtradeoff-telecom.pdf'
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from cxtradeoff.contracts import Manifest, ManifestHeadline
from cxtradeoff.delivery.email.selection import Attachment, Unavailable
from cxtradeoff.errors import RecipientError
from cxtradeoff.formatting import break_even_words, chance, money, scenario_title, share


def headline_rows(headline: ManifestHeadline) -> list[tuple[str, str]]:
    """Labelled figures of the recommended scenario, in reading order, worded as everywhere else.

    Expected NPV and the chances are over the Monte Carlo draws; the break-even is the
    one over the horizon, one-off costs counted (as in the report), set against the
    assumed switching conversion.
    """
    return [
        ("Recommended", scenario_title(headline.scenario)),
        ("Expected net present value", money(headline.npv_mean, headline.currency)),
        (
            "Range (P10 to P90)",
            f"{money(headline.npv_p10, headline.currency)} to "
            f"{money(headline.npv_p90, headline.currency)}",
        ),
        ("Chance of losing money", chance(headline.p_loss)),
        ("Break-even switching conversion", break_even_words(headline.break_even_conversion_npv)),
        ("Assumed switching conversion", share(headline.switch_conversion)),
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


def default_subject(manifest: Manifest, reports: Sequence[Attachment]) -> str:
    """Subject naming the single report's title, or the number of reports."""
    date = manifest.built_at[:10]
    if len(reports) == 1:
        return f"cxtradeoff report: {_one_line(reports[0].entry.title)} (built {date})"
    return f"cxtradeoff reports: {len(reports)} reports (built {date})"


_TITLE = "Customer-service AI: savings versus loyalty"
_NO_FIGURES = "No model figures in this report; see the PDF."
_FOOTNOTE = "Figures are taken from the build's results; the PDFs show sources and uncertainty."
_BREAK_EVEN_NOTE = (
    "Break-even switch conversion: the share of customers who consider leaving over AI "
    "service and must actually leave before the automation stops paying."
)


@dataclass(frozen=True)
class _Block:
    """One attached report as the body shows it (plain text; escaped by the HTML writer)."""

    name: str
    title: str
    company: str | None
    rows: list[tuple[str, str]] | None  # None: no model figures
    attachment: str


def _blocks(reports: Sequence[Attachment]) -> list[_Block]:
    return [
        _Block(
            name=r.name,
            title=_one_line(r.entry.title),
            company=_one_line(r.entry.display_name or r.entry.profile or "") or None,
            rows=None if r.entry.headline is None else headline_rows(r.entry.headline),
            attachment=attachment_filename(r.name),
        )
        for r in reports
    ]


def _build_line(manifest: Manifest) -> tuple[str, str | None]:
    commit = manifest.git_commit[:12] if manifest.git_commit else None
    return f"Build {manifest.build_id}, built {manifest.built_at}", commit


def render_text(
    manifest: Manifest,
    reports: Sequence[Attachment],
    unavailable: Sequence[Unavailable] = (),
) -> str:
    """Plain-text body: one block of headline figures per report."""
    build, commit = _build_line(manifest)
    lines = [
        _TITLE,
        "",
        build + (f", commit {commit}" if commit else "") + ".",
        f"Attached: {len(reports)} PDF report(s).",
        "",
    ]
    blocks = _blocks(reports)
    for block in blocks:
        lines += [block.title, "-" * min(len(block.title), 72)]
        if block.company:
            lines.append(f"  Company: {block.company}")
        if block.rows is None:
            lines.append(f"  {_NO_FIGURES}")
        else:
            lines.extend(f"  {label}: {value}" for label, value in block.rows)
        lines += [f"  Attachment: {block.attachment}", ""]
    if unavailable:
        lines.append("Not attached (unavailable in this build):")
        lines.extend(f"  - {_one_line(u.entry.title)} ({u.name}): {u.reason}" for u in unavailable)
        lines.append("")
    if any(b.rows is not None for b in blocks):
        lines.append(_BREAK_EVEN_NOTE)
    lines.append(_FOOTNOTE)
    return "\n".join(lines) + "\n"


def render_html(
    manifest: Manifest,
    reports: Sequence[Attachment],
    unavailable: Sequence[Unavailable] = (),
) -> str:
    """HTML body: the same content as :func:`render_text`; every data string is escaped."""

    def e(text: object) -> str:
        return html.escape(str(text), quote=True)

    build, commit = _build_line(manifest)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>cxtradeoff reports</title></head>",
        '<body style="font-family: sans-serif; color: #222;">',
        f'<h1 style="font-size: 1.3em;">{e(_TITLE)}</h1>',
        f"<p>{e(build)}" + (f", commit <code>{e(commit)}</code>" if commit else "") + ". "
        f"Attached: {len(reports)} PDF report(s).</p>",
    ]
    blocks = _blocks(reports)
    for block in blocks:
        parts.append(f'<h2 style="font-size: 1.1em;">{e(block.title)}</h2>')
        if block.company:
            parts.append(f"<p>Company: {e(block.company)}</p>")
        if block.rows is None:
            parts.append(f"<p>{e(_NO_FIGURES)}</p>")
        else:
            parts.append('<table style="border-collapse: collapse;">')
            parts.extend(
                f'<tr><th style="text-align: left; padding: 2px 12px 2px 0;">{e(label)}</th>'
                f'<td style="text-align: right;">{e(value)}</td></tr>'
                for label, value in block.rows
            )
            parts.append("</table>")
        parts.append(f"<p>Attachment: <code>{e(block.attachment)}</code></p>")
    if unavailable:
        parts.append('<h2 style="font-size: 1.1em;">Not attached (unavailable)</h2><ul>')
        parts.extend(
            f"<li>{e(_one_line(u.entry.title))} (<code>{e(u.name)}</code>): {e(u.reason)}</li>"
            for u in unavailable
        )
        parts.append("</ul>")
    if any(b.rows is not None for b in blocks):
        parts.append(f"<p><small>{e(_BREAK_EVEN_NOTE)}</small></p>")
    parts.append(f"<p><small>{e(_FOOTNOTE)}</small></p></body></html>")
    return "\n".join(parts) + "\n"


def build_message(
    manifest: Manifest,
    reports: Sequence[Attachment],
    *,
    sender: str,
    recipients: Sequence[str],
    unavailable: Sequence[Unavailable] = (),
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
