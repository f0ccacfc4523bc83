"""E-mail the built PDF reports, with their headline numbers, to the people who asked.

The build writes ``manifest.json`` into the reports directory; this module reads it,
builds one MIME message (plain-text and HTML bodies, the PDFs attached), and hands it to
an SMTP server. Settings come from ``CXTRADEOFF_SMTP_*`` environment variables or the
``smtp:`` section of ``reports.yaml`` (the environment wins). A sent log beside the
reports (``.sent-log.jsonl``) remembers which report of which build went to whom, so
it is not mailed twice to the same person unless asked to. A report's build is the one
that made its files: a report left up to date by a later build keeps its older id.

Transient failures (connection refused, time-outs, SMTP 4xx answers) are retried with
exponential back-off a bounded number of times; permanent ones (5xx answers, a refused
login, an unverifiable TLS certificate) stop at once. Retry notices go to the
``cxtradeoff.email`` logger; nothing here prints, and the SMTP password never appears in
a message, a log record, the ``.eml`` file or the sent log.

Examples
--------
>>> format_money(1234567.4, "EUR")
'EUR 1,234,567'
>>> format_share(0.059)
'5.9%'
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock, Timeout

from cxtradeoff.errors import (
    EXIT_DELIVERY,
    DeliveryError,
    EmailError,
    ManifestError,
    RecipientError,
    ReportUnavailableError,
    SentLogError,
    SmtpAuthenticationError,
    SmtpConfigError,
)
from cxtradeoff.files import atomic_write_bytes

logger = logging.getLogger("cxtradeoff.email")

#: name of the build's manifest inside the reports directory
MANIFEST_NAME = "manifest.json"
#: name of the sent log inside the reports directory (JSON lines)
SENT_LOG_NAME = ".sent-log.jsonl"
#: report statuses whose PDF belongs to the build described by the manifest
DELIVERABLE_STATUSES = frozenset({"ok", "up-to-date"})
#: prefix of every SMTP environment variable
ENV_PREFIX = "CXTRADEOFF_SMTP_"
#: accepted values of the ``security`` setting
SECURITY_MODES = ("starttls", "ssl", "none")
#: default port for each security mode
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
#: setting names; the environment variable is ``CXTRADEOFF_SMTP_<NAME upper-cased>``
SETTING_KEYS = (
    "host",
    "port",
    "user",
    "password",
    "security",
    "from",
    "cafile",
    "timeout",
    "attempts",
    "retry_delay",
)
#: sender used by a dry run when no ``from`` setting is given
DRY_RUN_SENDER = "cxtradeoff@localhost"
#: exit status of a delivery failure
DELIVERY_EXIT_CODE = EXIT_DELIVERY


# ------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SmtpSettings:
    """Validated SMTP settings. The password is kept out of ``repr``.

    Attributes
    ----------
    host, port : str, int
        The SMTP server.
    security : str
        ``starttls`` (upgrade a plain connection), ``ssl`` (TLS from the start) or
        ``none`` (no encryption; refused together with a password).
    sender : str
        Envelope sender and ``From:`` address.
    user, password : str or None
        Login; both or neither.
    cafile : Path or None
        PEM file of certificate authorities to trust in addition to the system ones
        (for a private or self-signed server certificate).
    timeout : float
        Seconds before a silent server counts as a transient failure.
    attempts : int
        Connection attempts in all, at least 1.
    retry_delay : float
        Seconds before the first retry; doubled before each further one.
    """

    host: str
    port: int
    security: str
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None
    timeout: float = 30.0
    attempts: int = 4
    retry_delay: float = 2.0


@dataclass(frozen=True)
class _RawSetting:
    value: str
    source: str  # what a user must change: an environment variable or a file key


def env_var(key: str) -> str:
    """Environment variable that holds setting ``key``.

    >>> env_var("retry_delay")
    'CXTRADEOFF_SMTP_RETRY_DELAY'
    """
    return ENV_PREFIX + key.upper()


def read_smtp_config(
    *, environ: Mapping[str, str], config_path: Path | None
) -> dict[str, _RawSetting]:
    """Collect raw SMTP settings from the ``smtp:`` section of a YAML file and the environment.

    Only the ``smtp`` key of the file is read; a missing file is fine. Environment
    variables override the file. Empty environment variables count as unset.

    Raises
    ------
    SmtpConfigError
        The file is not YAML, ``smtp`` is not a mapping, or it holds an unknown key.
    """
    raw: dict[str, _RawSetting] = {}
    if config_path is not None and config_path.is_file():
        try:
            document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SmtpConfigError(f"{config_path}: not valid YAML ({exc})") from None
        section = document.get("smtp") if isinstance(document, dict) else None
        if section is not None:
            if not isinstance(section, dict):
                raise SmtpConfigError(
                    f"{config_path}: 'smtp' must be a mapping of settings "
                    f"({', '.join(SETTING_KEYS)}), got {type(section).__name__}"
                )
            unknown = sorted(str(k) for k in section if k not in SETTING_KEYS)
            if unknown:
                raise SmtpConfigError(
                    f"{config_path}: unknown key(s) smtp.{', smtp.'.join(unknown)}; "
                    f"expected some of {', '.join(SETTING_KEYS)}"
                )
            for key, value in section.items():
                if value is not None:
                    raw[key] = _RawSetting(str(value), f"smtp.{key} in {config_path}")
    for key in SETTING_KEYS:
        value = environ.get(env_var(key), "")
        if value.strip():
            raw[key] = _RawSetting(value.strip(), env_var(key))
    return raw


def _int_setting(raw: _RawSetting, *, low: int, high: int, what: str) -> int:
    try:
        number = int(raw.value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise SmtpConfigError(
            f"{raw.source}={raw.value!r}: expected {what}, an integer from {low} to {high}"
        )
    return number


def _float_setting(raw: _RawSetting, *, low: float, high: float, what: str) -> float:
    try:
        number = float(raw.value)
    except ValueError:
        number = math.nan
    if not low <= number <= high:  # also rejects NaN
        raise SmtpConfigError(
            f"{raw.source}={raw.value!r}: expected {what}, a number from {low:g} to {high:g}"
        )
    return number


def parse_smtp_settings(raw: Mapping[str, _RawSetting]) -> SmtpSettings:
    """Validate raw settings (from :func:`read_smtp_config`) into :class:`SmtpSettings`.

    Raises
    ------
    SmtpConfigError
        Naming the variable (or file key) at fault and what was expected.
    """
    host = raw.get("host")
    if host is None:
        raise SmtpConfigError(
            f"{env_var('host')} is not set (nor smtp.host in the config file): "
            "name the SMTP server to send through"
        )
    if not re.fullmatch(r"[A-Za-z0-9.:\-\[\]]+", host.value):
        raise SmtpConfigError(f"{host.source}={host.value!r}: expected a host name or IP address")

    security = raw.get("security", _RawSetting("starttls", "default"))
    mode = security.value.lower()
    if mode not in SECURITY_MODES:
        raise SmtpConfigError(
            f"{security.source}={security.value!r}: unknown security; "
            f"expected one of {', '.join(SECURITY_MODES)}"
        )
    port = (
        _int_setting(raw["port"], low=1, high=65535, what="a TCP port")
        if "port" in raw
        else DEFAULT_PORTS[mode]
    )

    user = raw["user"].value if "user" in raw else None
    password = raw["password"].value if "password" in raw else None
    if (user is None) != (password is None):
        missing, given = ("password", "user") if password is None else ("user", "password")
        raise SmtpConfigError(
            f"{env_var(missing)} is not set but {raw[given].source} is: "
            "give both user and password, or neither"
        )
    for key, value in (("user", user), ("password", password)):
        if value is not None and not value.isascii():
            # Name the variable, never the value.
            raise SmtpConfigError(
                f"{raw[key].source} holds non-ASCII characters, which SMTP login cannot send"
            )
    if password is not None and mode == "none":
        raise SmtpConfigError(
            f"{security.source}=none with a password would send the password unencrypted; "
            "use starttls or ssl"
        )

    sender_raw = raw.get("from")
    if sender_raw is None and user is not None and "@" in user:
        sender_raw = _RawSetting(user, raw["user"].source)
    if sender_raw is None:
        raise SmtpConfigError(
            f"{env_var('from')} is not set (nor smtp.from in the config file): "
            "give the sender address"
        )
    sender = _parse_address(sender_raw.value, what=sender_raw.source, error=SmtpConfigError)

    cafile: Path | None = None
    if "cafile" in raw:
        cafile = Path(raw["cafile"].value).expanduser()
        if not cafile.is_file():
            raise SmtpConfigError(
                f"{raw['cafile'].source}={raw['cafile'].value!r}: no such file "
                "(expected a PEM file of certificates to trust)"
            )
        if mode == "none":
            raise SmtpConfigError(
                f"{raw['cafile'].source} is set but {security.source}=none uses no TLS"
            )

    timeout = (
        _float_setting(raw["timeout"], low=0.1, high=600, what="seconds")
        if "timeout" in raw
        else SmtpSettings.timeout
    )
    attempts = (
        _int_setting(raw["attempts"], low=1, high=20, what="the number of attempts")
        if "attempts" in raw
        else SmtpSettings.attempts
    )
    retry_delay = (
        _float_setting(raw["retry_delay"], low=0, high=600, what="seconds")
        if "retry_delay" in raw
        else SmtpSettings.retry_delay
    )
    return SmtpSettings(
        host=host.value,
        port=port,
        security=mode,
        sender=sender,
        user=user,
        password=password,
        cafile=cafile,
        timeout=timeout,
        attempts=attempts,
        retry_delay=retry_delay,
    )


def load_smtp_settings(
    *, environ: Mapping[str, str] | None = None, config_path: Path | None = None
) -> SmtpSettings:
    """Read and validate SMTP settings (environment over the config file's ``smtp:``)."""
    return parse_smtp_settings(
        read_smtp_config(
            environ=os.environ if environ is None else environ, config_path=config_path
        )
    )


def dry_run_sender(
    *, environ: Mapping[str, str] | None = None, config_path: Path | None = None
) -> str:
    """The ``From:`` of a dry run: the ``from`` setting when given, else a placeholder."""
    raw = read_smtp_config(
        environ=os.environ if environ is None else environ, config_path=config_path
    )
    if "from" in raw:
        return _parse_address(raw["from"].value, what=raw["from"].source, error=SmtpConfigError)
    return DRY_RUN_SENDER


# ------------------------------------------------------------------------ addresses

_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?")


def _parse_address(text: str, *, what: str, error: type[EmailError]) -> str:
    if any(ch in text for ch in "\r\n\0"):
        raise error(f"{what}: {text!r} contains a line break")
    found = getaddresses([text])
    if len(found) != 1:
        raise error(f"{what}: {text!r} holds {len(found)} addresses; give one per option")
    addr = found[0][1]
    if not addr or not _ADDR_SPEC.fullmatch(addr) or not addr.isascii():
        raise error(f"{what}: {text!r} is not an e-mail address (expected name@example.com)")
    return addr


def parse_recipients(addresses: Iterable[str]) -> list[str]:
    """Validate ``--to`` addresses; return bare addresses, duplicates removed, in order.

    ``"Ana <ana@example.com>"`` is accepted and becomes ``ana@example.com``.

    Raises
    ------
    RecipientError
        Naming the address that is not an e-mail address, or when there is none.
    """
    result: list[str] = []
    seen: set[str] = set()
    for text in addresses:
        addr = _parse_address(text, what="--to", error=RecipientError)
        if addr.lower() not in seen:
            seen.add(addr.lower())
            result.append(addr)
    if not result:
        raise RecipientError("no recipient: give at least one --to ADDRESS")
    return result


# ------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Headline:
    """A report's headline numbers, as the build wrote them.

    ``break_even_conversion`` is the model contract's annual break-even;
    ``break_even_conversion_npv`` (absent from older manifests) is where NPV over the
    horizon is 0, one-off costs included: the one the message shows when present.
    """

    scenario: str
    currency: str
    annual_savings: float
    npv: float
    break_even_conversion: float | None
    p_loss: float | None
    break_even_conversion_npv: float | None = None
    has_break_even_npv: bool = False

    @property
    def break_even_shown(self) -> float | None:
        """The break-even the message shows: the NPV one when the manifest has it."""
        if self.has_break_even_npv:
            return self.break_even_conversion_npv
        return self.break_even_conversion


@dataclass(frozen=True)
class ReportEntry:
    """One report of the manifest."""

    name: str
    title: str
    profile: str | None
    status: str
    build_id: str  # the build that made this report's files (older when up to date)
    pdf: Path | None  # absolute, inside the reports directory
    headline: Headline | None
    error: str | None
    display_name: str | None = None  # the company profile's readable name

    @property
    def unavailable_reason(self) -> str | None:
        """Why this report cannot be attached, or None when it can."""
        if self.status not in DELIVERABLE_STATUSES:
            reason = f"status {self.status!r}"
            if self.error:
                first = str(self.error).strip().splitlines()
                reason += f": {first[0][:200]}" if first else ""
            return reason
        if self.pdf is None:
            return "no PDF was produced"
        if not self.pdf.is_file():
            return f"PDF {self.pdf.name} is missing from the reports directory"
        with self.pdf.open("rb") as fh:
            if fh.read(5) != b"%PDF-":
                return f"{self.pdf.name} is not a PDF file"
        return None


@dataclass(frozen=True)
class Manifest:
    """The build described by ``manifest.json``."""

    path: Path
    build_id: str
    built_at: str
    git_commit: str | None
    reports: dict[str, ReportEntry]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_headline(where: str, data: object, problems: list[str]) -> Headline | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(f"{where}: expected an object or null, got {type(data).__name__}")
        return None
    before = len(problems)
    for key in ("scenario", "currency"):
        if not isinstance(data.get(key), str) or not data.get(key):
            problems.append(f"{where}.{key}: expected a non-empty string, got {data.get(key)!r}")
    for key in ("annual_savings", "npv"):
        if not _is_number(data.get(key)):
            problems.append(f"{where}.{key}: expected a number, got {data.get(key)!r}")
    for key in ("break_even_conversion", "break_even_conversion_npv", "p_loss"):
        if data.get(key) is not None and not _is_number(data.get(key)):
            problems.append(f"{where}.{key}: expected a number or null, got {data.get(key)!r}")
    if data.get("p_loss") is not None and _is_number(data["p_loss"]):
        if not 0 <= data["p_loss"] <= 1:
            problems.append(f"{where}.p_loss: expected a probability 0..1, got {data['p_loss']!r}")
    if len(problems) > before:
        return None
    return Headline(
        scenario=data["scenario"],
        currency=data["currency"],
        annual_savings=float(data["annual_savings"]),
        npv=float(data["npv"]),
        break_even_conversion=(
            None
            if data.get("break_even_conversion") is None
            else float(data["break_even_conversion"])
        ),
        p_loss=None if data.get("p_loss") is None else float(data["p_loss"]),
        break_even_conversion_npv=(
            None
            if data.get("break_even_conversion_npv") is None
            else float(data["break_even_conversion_npv"])
        ),
        has_break_even_npv="break_even_conversion_npv" in data,
    )


def _parse_report(
    name: str, data: object, reports_dir: Path, build_id: str, problems: list[str]
) -> ReportEntry | None:
    where = f"reports.{name}"
    if not isinstance(data, dict):
        problems.append(f"{where}: expected an object, got {type(data).__name__}")
        return None
    before = len(problems)
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{where}.title: expected a non-empty string, got {title!r}")
    profile = data.get("profile")
    if profile is not None and not isinstance(profile, str):
        problems.append(f"{where}.profile: expected a string or null, got {profile!r}")
    display_name = data.get("display_name")
    if display_name is not None and not isinstance(display_name, str):
        problems.append(f"{where}.display_name: expected a string or null, got {display_name!r}")
    status = data.get("status")
    if not isinstance(status, str):
        problems.append(f"{where}.status: expected a string, got {status!r}")
    own_build = data.get("build_id")
    if own_build is not None and (not isinstance(own_build, str) or not own_build.strip()):
        problems.append(f"{where}.build_id: expected a non-empty string or null, got {own_build!r}")
    outputs = data.get("outputs")
    pdf: Path | None = None
    if not isinstance(outputs, dict):
        problems.append(f"{where}.outputs: expected an object, got {outputs!r}")
    elif outputs.get("pdf") is not None:
        rel = outputs["pdf"]
        if not isinstance(rel, str) or not rel:
            problems.append(f"{where}.outputs.pdf: expected a relative path or null, got {rel!r}")
        else:
            root = reports_dir.resolve()
            candidate = (root / rel).resolve()
            # A manifest must not make us attach a file from elsewhere on the disk.
            if Path(rel).is_absolute() or not candidate.is_relative_to(root):
                problems.append(
                    f"{where}.outputs.pdf: {rel!r} points outside the reports directory"
                )
            else:
                pdf = candidate
    headline = _parse_headline(f"{where}.headline", data.get("headline"), problems)
    error = data.get("error")
    if len(problems) > before:
        return None
    return ReportEntry(
        name=name,
        title=str(title).strip(),
        profile=profile,
        status=str(status),
        build_id=own_build.strip() if own_build else build_id,
        pdf=pdf,
        headline=headline,
        error=None if error is None else str(error),
        display_name=display_name,
    )


def load_manifest(reports_dir: Path) -> Manifest:
    """Read and check ``manifest.json`` of a reports directory.

    Only the fields this module uses are checked; unknown fields are ignored.

    Raises
    ------
    ManifestError
        The file is missing, not JSON, or breaks the contract; every problem is listed
        with its key path (``reports.telecom.headline.npv: expected a number``).
    """
    path = Path(reports_dir) / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(path, ["no manifest: build the reports first (cxtradeoff build)"])
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(path, [f"not valid JSON: {exc}"]) from None
    problems: list[str] = []
    if not isinstance(document, dict):
        raise ManifestError(path, [f"expected a JSON object, got {type(document).__name__}"])
    build_id = document.get("build_id")
    if not isinstance(build_id, str) or not build_id.strip():
        problems.append(f"build_id: expected a non-empty string, got {build_id!r}")
    built_at = document.get("built_at")
    if not isinstance(built_at, str):
        problems.append(f"built_at: expected a date-time string, got {built_at!r}")
    git_commit = document.get("git_commit")
    if git_commit is not None and not isinstance(git_commit, str):
        problems.append(f"git_commit: expected a string or null, got {git_commit!r}")
    reports_data = document.get("reports")
    reports: dict[str, ReportEntry] = {}
    if not isinstance(reports_data, dict):
        problems.append(f"reports: expected an object of reports by name, got {reports_data!r}")
    else:
        for name, data in reports_data.items():
            entry = _parse_report(
                str(name), data, Path(reports_dir), str(build_id).strip(), problems
            )
            if entry is not None:
                reports[entry.name] = entry
    if problems:
        raise ManifestError(path, problems)
    return Manifest(
        path=path,
        build_id=str(build_id).strip(),
        built_at=str(built_at),
        git_commit=git_commit,
        reports=reports,
    )


def select_reports(
    manifest: Manifest, *, names: Sequence[str] | None
) -> tuple[list[ReportEntry], list[tuple[ReportEntry, str]]]:
    """Choose the reports to attach.

    Parameters
    ----------
    manifest
        The build.
    names
        Reports asked for by name, or None for all of them.

    Returns
    -------
    attach, unavailable
        Reports to attach (in manifest order, or in the order asked), and for ``names is
        None`` the reports that cannot be attached with the reason (the e-mail lists them).

    Raises
    ------
    ReportUnavailableError
        A named report is unknown or cannot be attached (failed, skipped, no PDF): a
        report asked for by name is never silently left out. Also when nothing at all
        can be attached.
    """
    if names is not None:
        unknown = [n for n in names if n not in manifest.reports]
        if unknown:
            raise ReportUnavailableError(
                f"unknown report(s) {', '.join(map(repr, unknown))} in {manifest.path}; "
                f"known: {', '.join(manifest.reports) or 'none'}"
            )
        chosen = [manifest.reports[n] for n in dict.fromkeys(names)]
        refused = [(r, r.unavailable_reason) for r in chosen if r.unavailable_reason]
        if refused:
            details = "; ".join(f"{r.name}: {why}" for r, why in refused)
            raise ReportUnavailableError(
                f"cannot send report(s) of build {manifest.build_id} ({details}); "
                "rebuild them, or leave them out"
            )
        return chosen, []
    attach: list[ReportEntry] = []
    unavailable: list[tuple[ReportEntry, str]] = []
    for report in manifest.reports.values():
        reason = report.unavailable_reason
        if reason is None:
            attach.append(report)
        else:
            unavailable.append((report, reason))
    if not attach:
        details = "; ".join(f"{r.name}: {why}" for r, why in unavailable) or "it lists none"
        raise ReportUnavailableError(
            f"no report of build {manifest.build_id} can be sent ({details})"
        )
    return attach, unavailable


# ----------------------------------------------------------------------- formatting


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


# ------------------------------------------------------------------------- sent log


def sent_log_path(reports_dir: Path) -> Path:
    """The sent log of a reports directory."""
    return Path(reports_dir) / SENT_LOG_NAME


def _lock(log_path: Path, timeout: float) -> FileLock:
    return FileLock(str(log_path) + ".lock", timeout=timeout)


def read_sent_log(log_path: Path) -> set[tuple[str, str, str]]:
    """Keys ``(build_id, report, recipient lower-cased)`` already sent; empty if no log.

    Raises
    ------
    SentLogError
        A line is not a JSON object with those keys (names the line).
    """
    keys: set[tuple[str, str, str]] = set()
    if not log_path.is_file():
        return keys
    with log_path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                keys.add((entry["build_id"], entry["report"], entry["recipient"].lower()))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                raise SentLogError(
                    f"{log_path} line {number}: expected a JSON object with build_id, report "
                    "and recipient; fix or delete the line"
                ) from None
    return keys


def append_sent_log(log_path: Path, entries: Sequence[Mapping[str, Any]]) -> None:
    """Append entries as JSON lines in one write, flushed to disk. Hold the lock around it."""
    if not entries:
        return
    data = "".join(json.dumps(dict(e), sort_keys=True) + "\n" for e in entries)
    with log_path.open("a", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


# ------------------------------------------------------------------------- delivery


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
    """

    accepted: tuple[str, ...]
    refused: dict[str, tuple[int, str]]
    attempts: int


class _Permanent(Exception):
    """Internal: a failure that a retry will not cure."""


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


def deliver(
    data: bytes,
    *,
    sender: str,
    recipients: Sequence[str],
    settings: SmtpSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryResult:
    """Send message bytes, retrying transient failures with exponential back-off.

    A recipient counts as accepted only when the server's ``sendmail`` returned without
    refusing it. Recipients refused with a 4xx code are retried; with 5xx, reported.

    Parameters
    ----------
    data
        The message (:func:`message_bytes`).
    sender, recipients
        Envelope addresses.
    settings
        Server, security, login, ``attempts`` and ``retry_delay`` (doubled each retry).
    sleep
        Called with each back-off delay in seconds.

    Returns
    -------
    DeliveryResult

    Raises
    ------
    SmtpAuthenticationError
        The login was refused (no retry).
    DeliveryError
        A permanent failure (5xx, TLS), or transient failures on every attempt.
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
                    bad = smtp.sendmail(sender, pending, data)
                except smtplib.SMTPRecipientsRefused as exc:
                    bad = exc.recipients
            finally:
                _close_quietly(smtp)
        except (smtplib.SMTPException, OSError) as exc:
            transient, last = _classify(exc, settings)
            last = _redact(last, settings.password)
            if not transient:
                error = (
                    SmtpAuthenticationError
                    if isinstance(exc, smtplib.SMTPAuthenticationError)
                    else DeliveryError
                )
                raise error(
                    f"not sent: {last} (permanent failure, not retried)",
                    attempts=attempt,
                    transient=False,
                ) from None
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
    raise DeliveryError(
        f"not sent: gave up after {settings.attempts} attempt(s); last error: {last}",
        attempts=settings.attempts,
        transient=True,
    )


# ---------------------------------------------------------------------- whole task


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
) -> tuple[Manifest, list[ReportEntry], list[tuple[ReportEntry, str]]]:
    """Load the manifest and choose the reports (see :func:`select_reports`)."""
    manifest = load_manifest(reports_dir)
    attach, unavailable = select_reports(manifest, names=report_names)
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
        unavailable=[(r.name, why) for r, why in unavailable],
    )
    log_path = sent_log_path(reports_dir)
    try:
        with _lock(log_path, lock_timeout):
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
