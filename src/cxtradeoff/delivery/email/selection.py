"""Which reports of the last build can be attached, and why the others cannot.

The build's ``manifest.json`` is read through its typed model
(:func:`cxtradeoff.contracts.load_manifest`); this module only adds what an e-mail
needs on top of it: the PDF on disk, inside the reports directory, and a reason for
each report that cannot be sent. A report's build is the one that made its files: a
report left up to date by a later build keeps its older id. A report asked for by name
is never silently left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cxtradeoff import contracts
from cxtradeoff.contracts import Manifest, ReportEntry
from cxtradeoff.errors import DataValidationError, ManifestError, ReportUnavailableError

#: name of the build's manifest inside the reports directory
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Attachment:
    """A report that can be sent: its manifest entry, its build and its PDF."""

    name: str
    entry: ReportEntry
    build_id: str  # the build that made this report's files (older when up to date)
    pdf: Path  # absolute, inside the reports directory, starts like a PDF


@dataclass(frozen=True)
class Unavailable:
    """A report that cannot be sent, and why."""

    name: str
    entry: ReportEntry
    reason: str


def load_manifest(reports_dir: Path) -> Manifest:
    """Read ``manifest.json`` of a reports directory through its typed model.

    Every ``outputs.pdf`` must lie inside the reports directory: a manifest must not make
    the e-mail attach a file from elsewhere on the disk.

    Raises
    ------
    ManifestError
        The file is missing, of another version, breaks the contract, or points outside
        the reports directory; every problem is listed with its key path.
    """
    path = Path(reports_dir) / MANIFEST_NAME
    try:
        manifest = contracts.load_manifest(path)
    except DataValidationError as exc:
        raise ManifestError(exc.path, exc.problems) from None
    outside = [
        f"reports.{name}.outputs.pdf: {pdf!r} points outside the reports directory"
        for name, entry in manifest.reports.items()
        if (pdf := entry.outputs.get("pdf")) is not None and _inside(reports_dir, pdf) is None
    ]
    if outside:
        raise ManifestError(path, outside)
    return manifest


def _inside(reports_dir: Path, relative: str) -> Path | None:
    """The absolute path of ``relative`` when it lies inside ``reports_dir``, else None."""
    root = Path(reports_dir).resolve()
    candidate = (root / relative).resolve()
    if not relative or Path(relative).is_absolute() or not candidate.is_relative_to(root):
        return None
    return candidate


def classify(name: str, entry: ReportEntry, reports_dir: Path) -> Attachment | Unavailable:
    """A report of the manifest as attachable, or unavailable with the reason."""
    if entry.status != "ok":
        first = (entry.error or "").strip().splitlines()
        reason = f"status {entry.status!r}" + (f": {first[0][:200]}" if first else "")
        return Unavailable(name, entry, reason)
    if entry.build_id is None:
        return Unavailable(name, entry, "the manifest does not name the build that made it")
    relative = entry.outputs.get("pdf")
    if relative is None:
        return Unavailable(name, entry, "no PDF was produced")
    pdf = _inside(reports_dir, relative)
    if pdf is None:
        return Unavailable(name, entry, f"PDF {relative!r} is outside the reports directory")
    if not pdf.is_file():
        return Unavailable(name, entry, f"PDF {pdf.name} is missing from the reports directory")
    with pdf.open("rb") as fh:
        if fh.read(5) != b"%PDF-":
            return Unavailable(name, entry, f"{pdf.name} is not a PDF file")
    return Attachment(name, entry, entry.build_id, pdf)


def select_reports(
    manifest: Manifest, reports_dir: Path, *, names: Sequence[str] | None
) -> tuple[list[Attachment], list[Unavailable]]:
    """Choose the reports to attach.

    Parameters
    ----------
    manifest
        The build (:func:`load_manifest`).
    reports_dir
        The folder holding the manifest and the PDFs.
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
    where = Path(reports_dir) / MANIFEST_NAME
    classified = [classify(n, e, reports_dir) for n, e in manifest.reports.items()]
    attach = [c for c in classified if isinstance(c, Attachment)]
    unavailable = [c for c in classified if isinstance(c, Unavailable)]
    if names is not None:
        unknown = [n for n in names if n not in manifest.reports]
        if unknown:
            raise ReportUnavailableError(
                f"unknown report(s) {', '.join(map(repr, unknown))} in {where}; "
                f"known: {', '.join(manifest.reports) or 'none'}"
            )
        wanted = list(dict.fromkeys(names))
        refused = [u for u in unavailable if u.name in wanted]
        if refused:
            details = "; ".join(f"{u.name}: {u.reason}" for u in refused)
            raise ReportUnavailableError(
                f"cannot send report(s) of build {manifest.build_id} ({details}); "
                "rebuild them, or leave them out"
            )
        by_name = {a.name: a for a in attach}
        return [by_name[n] for n in wanted], []
    if not attach:
        details = "; ".join(f"{u.name}: {u.reason}" for u in unavailable) or "it lists none"
        raise ReportUnavailableError(
            f"no report of build {manifest.build_id} can be sent ({details})"
        )
    return attach, unavailable
