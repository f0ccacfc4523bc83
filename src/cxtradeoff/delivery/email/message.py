"""The message: the decision first, then the figures behind it, the briefs (or reports) attached.

The subject names the company and the recommendation (or, for several, each decision in
a few words); the body's first lines are the decision lines of each brief, the same
sentences with the same numbers (:func:`cxtradeoff.formatting.decision_lines`); build
ids and the commit go to a footer. Every figure is worded by :mod:`cxtradeoff.formatting`,
so it reads in the e-mail as it does in the brief, the report and on the landing page.

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

from cxtradeoff.contracts import Manifest, ManifestHeadline, ReportEntry, ResultsFile
from cxtradeoff.delivery.email.selection import Attachment, Unavailable
from cxtradeoff.errors import RecipientError
from cxtradeoff.formatting import (
    after_pilot,
    break_even_words,
    chance,
    decision_break_even,
    decision_lines,
    decision_short,
    decision_title,
    forbidden_lines,
    money,
    portfolio_units_line,
    scenario_title,
    share,
)


def headline_rows(
    headline: ManifestHeadline, results: ResultsFile | None = None
) -> list[tuple[str, str]]:
    """Labelled figures of the recommended scenario, in reading order, worded as everywhere else.

    Expected NPV and the chances are over the Monte Carlo draws; the break-even is the
    one over the horizon, one-off costs counted (as in the report), set against the
    assumed switching conversion. With the results file, the break-even is the landing
    page's (for a status quo, that of the AI option that came closest) and the
    conversion is said to be measured when a pilot replaced the assumption.
    """
    break_even = break_even_words(headline.break_even_conversion_npv)
    assumed = ("Assumed switching conversion", share(headline.switch_conversion))
    if results is not None:
        value, note = decision_break_even(results)
        break_even = f"{value} ({note})" if note else value
        if results.pilot is not None:
            assumed = (
                f"Switching conversion {after_pilot(results.pilot)}",
                share(headline.switch_conversion),
            )
    return [
        ("Recommended", scenario_title(headline.scenario)),
        ("Expected net present value", money(headline.npv_mean, headline.currency)),
        (
            "Range (P10 to P90)",
            f"{money(headline.npv_p10, headline.currency)} to "
            f"{money(headline.npv_p90, headline.currency)}",
        ),
        ("Chance of losing money", chance(headline.p_loss)),
        ("Break-even switching conversion", break_even),
        assumed,
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


def _left_out_lines(left_out: Sequence[tuple[str, ReportEntry]]) -> list[str]:
    """What was left for ``--full``, one line each; a portfolio's units in one line."""
    lines: list[str] = []
    units: dict[str, int] = {}
    for name, entry in left_out:
        if entry.unit_of is not None:
            units[entry.unit_of] = units.get(entry.unit_of, 0) + 1
        else:
            lines.append(f"{_one_line(entry.title)} ({name})")
    lines += [
        f"the reports of the {n} unit{'s' if n != 1 else ''} of portfolio {rollup} (or name "
        "one with --report)"
        for rollup, n in units.items()
    ]
    return lines


def _short_company(name: str) -> str:
    """A company's name for a subject listing several: without a trailing remark in
    parentheses ("Telecom operator (illustrative)" -> "Telecom operator")."""
    text = _one_line(name)
    if text.endswith(")") and " (" in text:
        text = text[: text.rindex(" (")]
    return text


@dataclass(frozen=True)
class _Company:
    """A report with a decision (a company) as the message shows it (plain text)."""

    name: str
    title: str  # the full report's title
    company: str | None
    scenario: str | None
    decision_title: str | None  # the decision, as the brief's title says it
    decision: list[str]  # the brief's decision lines: the recommendation (and the pilot)
    rows: list[tuple[str, str]] | None  # None: no model figures
    attachments: list[tuple[str, str]]  # (what it is, file name)
    forbidden: list[str]  # scenarios a binding rule forbids, with the rule
    rollup: bool = False  # a portfolio's roll-up: its decision line counts its units


def _companies(manifest: Manifest, reports: Sequence[Attachment]) -> list[_Company]:
    """The attachments grouped by the report they belong to, in the order attached."""
    owners = list(dict.fromkeys(r.of or r.name for r in reports))
    out = []
    for owner in owners:
        mine = [r for r in reports if (r.of or r.name) == owner]
        entry = manifest.reports.get(owner, mine[0].entry)
        results = next((r.results for r in mine if r.results is not None), None)
        lines = decision_lines(results) if results is not None else None
        head = entry.headline
        company = _one_line(entry.display_name or entry.profile or "") or None
        if lines is not None:
            title: str | None = _one_line(lines.title)
            decision = [lines.decision, *[x for x in (lines.odds, lines.pilot) if x]]
        elif head is not None:
            title = _one_line(decision_title(company or entry.title, head.scenario))
            decision = []
        elif (units := portfolio_units_line(manifest, owner)) is not None:
            title, decision = _one_line(entry.title), [units]
        else:
            title, decision = None, []
        rollup = head is None and lines is None and bool(decision)
        out.append(
            _Company(
                name=owner,
                title=_one_line(entry.title),
                company=company,
                scenario=head.scenario if head is not None else None,
                decision_title=title,
                decision=[_one_line(d) for d in decision],
                rows=None if head is None else headline_rows(head, results),
                attachments=[
                    (
                        "One-page brief"
                        if r.is_brief
                        else "Portfolio roll-up"
                        if rollup
                        else "Full report",
                        attachment_filename(r.name),
                    )
                    for r in mine
                ],
                forbidden=forbidden_lines(results) if results is not None else [],
                rollup=rollup,
            )
        )
    return out


#: companies named in a subject for one decision, at most; past that they are counted
SUBJECT_NAMES = 4


def default_subject(manifest: Manifest, reports: Sequence[Attachment]) -> str:
    """The decision: for one company its decision title (the company and what to do);
    for several, how many and each decision in a few words; without any decision, the
    report's title or the number of reports."""
    companies = _companies(manifest, reports)
    decided = [c for c in companies if c.decision_title and c.scenario]
    rollups = [c for c in companies if c.rollup]
    if len(decided) == 1 and not rollups:
        return str(decided[0].decision_title)
    if len(rollups) == 1 and not decided:
        return f"{rollups[0].decision_title}: {rollups[0].decision[0]}"
    if decided:
        by_decision: dict[str, list[str]] = {}
        for c in decided:
            by_decision.setdefault(decision_short(str(c.scenario)), []).append(
                _short_company(c.company or c.title)
            )
        if max(len(names) for names in by_decision.values()) > SUBJECT_NAMES:
            each = "; ".join(f"{words} for {len(names)}" for words, names in by_decision.items())
        else:
            each = "; ".join(
                f"{words} ({', '.join(names)})" for words, names in by_decision.items()
            )
        more = f", and {len(rollups)} portfolio roll-up{'s' if len(rollups) > 1 else ''}"
        return f"AI in customer service, {len(decided)} companies: {each}" + (
            more if rollups else ""
        )
    date = manifest.built_at[:10]
    if len(reports) == 1:
        return f"cxtradeoff report: {_one_line(reports[0].entry.title)} (built {date})"
    return f"cxtradeoff reports: {len(reports)} reports (built {date})"


_TITLE = "Customer-service AI: savings versus loyalty"
_NO_FIGURES = "No model figures in this report; see the PDF."
_FOOTNOTE = (
    "Figures are taken from the build's results files; the briefs and reports show their "
    "sources and uncertainty."
)
_BREAK_EVEN_NOTE = (
    "Break-even switch conversion: the share of customers who consider leaving over AI "
    "service and must actually leave before the automation stops paying."
)


def _attached_line(reports: Sequence[Attachment], rollups: int = 0) -> str:
    briefs = sum(r.is_brief for r in reports)
    full = len(reports) - briefs - rollups
    parts = []
    if briefs:
        parts.append(f"{briefs} one-page decision brief{'s' if briefs != 1 else ''}")
    if rollups:
        parts.append(f"{rollups} portfolio roll-up{'s' if rollups != 1 else ''}")
    if full:
        parts.append(f"{full} full report{'s' if full != 1 else ''}")
    return f"Attached: {' and '.join(parts)} (PDF)."


def _builds(manifest: Manifest, reports: Sequence[Attachment]) -> list[str]:
    """The footer's provenance: the manifest's build and the build of each attachment."""
    commit = manifest.git_commit[:12] if manifest.git_commit else None
    lines = [
        f"Build {manifest.build_id}, built {manifest.built_at}"
        + (f", commit {commit}" if commit else "")
        + "."
    ]
    older = [r for r in reports if r.build_id != manifest.build_id]
    if older:
        lines.append(
            "Made by an earlier build (up to date since): "
            + "; ".join(f"{r.name} {r.build_id}" for r in older)
            + "."
        )
    return lines


def render_text(
    manifest: Manifest,
    reports: Sequence[Attachment],
    unavailable: Sequence[Unavailable] = (),
    left_out: Sequence[tuple[str, ReportEntry]] = (),
) -> str:
    """Plain-text body: the decision lines of each brief first, then the figures of each
    company and what is attached; build ids and the commit in a footer."""
    companies = _companies(manifest, reports)
    lines: list[str] = []
    for c in companies:
        if c.decision_title:
            lines += [c.decision_title, *c.decision, ""]
    lines += [_attached_line(reports, sum(c.rollup for c in companies)), ""]
    for c in companies:
        lines += [c.title, "-" * min(len(c.title), 72)]
        if c.company:
            lines.append(f"  Company: {c.company}")
        if c.rows is not None:
            lines.extend(f"  {label}: {value}" for label, value in c.rows)
        elif not c.rollup:
            lines.append(f"  {_NO_FIGURES}")
        lines.extend(f"  {rule}" for rule in c.forbidden)
        lines.extend(f"  {what}: {file}" for what, file in c.attachments)
        lines.append("")
    if unavailable:
        lines.append("Not attached (unavailable in this build):")
        lines.extend(f"  - {_one_line(u.entry.title)} ({u.name}): {u.reason}" for u in unavailable)
        lines.append("")
    if left_out:
        lines.append("Also built, not attached (the full reports go with --full):")
        lines.extend(f"  - {line}" for line in _left_out_lines(left_out))
        lines.append("")
    if any(c.rows is not None for c in companies):
        lines.append(_BREAK_EVEN_NOTE)
    lines += [_FOOTNOTE, "", "-- ", *_builds(manifest, reports)]
    return "\n".join(lines) + "\n"


def render_html(
    manifest: Manifest,
    reports: Sequence[Attachment],
    unavailable: Sequence[Unavailable] = (),
    left_out: Sequence[tuple[str, ReportEntry]] = (),
) -> str:
    """HTML body: the same content as :func:`render_text`; every data string is escaped."""

    def e(text: object) -> str:
        return html.escape(str(text), quote=True)

    companies = _companies(manifest, reports)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(_TITLE)}</title></head>",
        '<body style="font-family: sans-serif; color: #222;">',
    ]
    for c in companies:
        if c.decision_title:
            parts.append(
                f'<h2 style="font-size: 1.15em; margin-bottom: .2em;">{e(c.decision_title)}</h2>'
            )
            parts.extend(f'<p style="margin-top: 0;">{e(d)}</p>' for d in c.decision)
    parts.append(f"<p>{e(_attached_line(reports, sum(c.rollup for c in companies)))}</p>")
    for c in companies:
        parts.append(f'<h3 style="font-size: 1em;">{e(c.title)}</h3>')
        if c.company:
            parts.append(f"<p>Company: {e(c.company)}</p>")
        if c.rows is None:
            if not c.rollup:
                parts.append(f"<p>{e(_NO_FIGURES)}</p>")
        else:
            parts.append('<table style="border-collapse: collapse;">')
            parts.extend(
                f'<tr><th style="text-align: left; padding: 2px 12px 2px 0;">{e(label)}</th>'
                f'<td style="text-align: right;">{e(value)}</td></tr>'
                for label, value in c.rows
            )
            parts.append("</table>")
        parts.extend(f'<p style="color: #b2182b;">{e(rule)}</p>' for rule in c.forbidden)
        parts.extend(f"<p>{e(what)}: <code>{e(file)}</code></p>" for what, file in c.attachments)
    if unavailable:
        parts.append('<h3 style="font-size: 1em;">Not attached (unavailable)</h3><ul>')
        parts.extend(
            f"<li>{e(_one_line(u.entry.title))} (<code>{e(u.name)}</code>): {e(u.reason)}</li>"
            for u in unavailable
        )
        parts.append("</ul>")
    if left_out:
        parts.append(
            '<h3 style="font-size: 1em;">Also built, not attached (the full reports go with --full)</h3><ul>'
        )
        parts.extend(f"<li>{e(line)}</li>" for line in _left_out_lines(left_out))
        parts.append("</ul>")
    if any(c.rows is not None for c in companies):
        parts.append(f"<p><small>{e(_BREAK_EVEN_NOTE)}</small></p>")
    parts.append(f"<p><small>{e(_FOOTNOTE)}</small></p>")
    parts.append(
        '<hr><p style="color: #666;"><small>'
        + "<br>".join(e(line) for line in _builds(manifest, reports))
        + "</small></p></body></html>"
    )
    return "\n".join(parts) + "\n"


def build_message(
    manifest: Manifest,
    reports: Sequence[Attachment],
    *,
    sender: str,
    recipients: Sequence[str],
    unavailable: Sequence[Unavailable] = (),
    left_out: Sequence[tuple[str, ReportEntry]] = (),
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
    msg.set_content(render_text(manifest, reports, unavailable, left_out))
    msg.add_alternative(render_html(manifest, reports, unavailable, left_out), subtype="html")
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
