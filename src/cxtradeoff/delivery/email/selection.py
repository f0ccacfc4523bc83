"""Which reports of the last build can be attached: ``manifest.json`` read and checked.

A report's build is the one that made its files: a report left up to date by a later
build keeps its older id. A report asked for by name is never silently left out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cxtradeoff.errors import ManifestError, ReportUnavailableError

#: name of the build's manifest inside the reports directory
MANIFEST_NAME = "manifest.json"
#: report statuses whose PDF belongs to the build described by the manifest
DELIVERABLE_STATUSES = frozenset({"ok", "up-to-date"})


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
