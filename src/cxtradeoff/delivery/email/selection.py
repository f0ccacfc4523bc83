"""Which reports of the last build can be attached, and why the others cannot.

The build's ``manifest.json`` is read through its typed model
(:func:`cxtradeoff.contracts.load_manifest`); this module only adds what an e-mail
needs on top of it: the PDF on disk, inside the reports directory, a reason for each
report that cannot be sent, and the decision of each company, read from its results
file (:func:`cxtradeoff.contracts.load_results`) and worded by
:func:`cxtradeoff.formatting.decision_lines`, as its brief words it. A report's build is
the one that made its files: a report left up to date by a later build keeps its older
id. A report asked for by name is never silently left out.

Briefs first
------------
A report ``NAME`` whose one-page brief ``NAME.brief`` is in the manifest is sent as its
brief; ``full=True`` (``--full``) attaches the full report beside it. When the reports
chosen have briefs, a report without one (the evidence, the comparison) goes only with
``full`` or when asked for by name, and is listed as left for ``--full``; a build
without any brief sends its reports as before.

Portfolios
----------
A portfolio's roll-up stands for its units as a brief stands for its report: the roll-up
is attached, and its units (``unit_of`` in the manifest) go only with ``full`` or when
asked for by name, counted in one line rather than listed one by one. A message for a
portfolio of two hundred units carries one PDF, not two hundred.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cxtradeoff import contracts
from cxtradeoff.contracts import Manifest, ReportEntry, ResultsFile
from cxtradeoff.errors import DataValidationError, ManifestError, ReportUnavailableError
from cxtradeoff.formatting import DecisionLines, decision_lines

#: name of the build's manifest inside the reports directory
MANIFEST_NAME = "manifest.json"
#: the name of a report's one-page brief is the report's name and this
BRIEF_SUFFIX = ".brief"


@dataclass(frozen=True)
class Attachment:
    """A report that can be sent: its manifest entry, its build and its PDF.

    ``of`` is the report it belongs to (its own name, or for a brief the report it
    summarises); ``decision`` that report's decision in words, when it has a results file.
    """

    name: str
    entry: ReportEntry
    build_id: str  # the build that made this report's files (older when up to date)
    pdf: Path  # absolute, inside the reports directory, starts like a PDF
    of: str = ""
    results: ResultsFile | None = None

    @property
    def is_brief(self) -> bool:
        return self.name != self.of and self.name.endswith(BRIEF_SUFFIX)

    @property
    def decision(self) -> DecisionLines | None:
        """The decision of the report it belongs to, in its brief's words."""
        return decision_lines(self.results) if self.results is not None else None


@dataclass(frozen=True)
class Selection:
    """What a message carries: the attachments (briefs first, in manifest order), the
    reports that cannot be attached and why, and those left for ``--full``."""

    attach: list[Attachment]
    unavailable: list[Unavailable]
    left_out: list[tuple[str, ReportEntry]]


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


def results_of(manifest: Manifest, name: str, reports_dir: Path) -> ResultsFile | None:
    """The results file report ``name``'s entry lists, read through the contract (None
    when it has none, or it cannot be read: the message then shows the headline alone)."""
    entry = manifest.reports.get(name)
    relative = entry.outputs.get("results") if entry is not None else None
    path = _inside(reports_dir, relative) if relative else None
    if path is None:
        return None
    try:
        return contracts.load_results(path)
    except DataValidationError:
        return None


def _owner(manifest: Manifest, name: str) -> str:
    """The report a brief summarises (``telecom`` for ``telecom.brief``), else ``name``."""
    parent = name.removesuffix(BRIEF_SUFFIX)
    return parent if name.endswith(BRIEF_SUFFIX) and parent in manifest.reports else name


def choose(
    manifest: Manifest, reports_dir: Path, *, names: Sequence[str] | None, full: bool = False
) -> Selection:
    """Choose what to attach: each report's brief, and with ``full`` the full reports.

    Parameters
    ----------
    names
        Reports asked for by name (a report or its brief), or None for all of them.
    full
        Attach the full reports beside the briefs (``--full``).

    Raises
    ------
    ReportUnavailableError
        A named report is unknown or cannot be attached (failed, skipped, no PDF), or
        nothing at all can be attached.
    """
    where = Path(reports_dir) / MANIFEST_NAME
    reports = manifest.reports
    if names is not None:
        unknown = [n for n in names if n not in reports]
        if unknown:
            raise ReportUnavailableError(
                f"unknown report(s) {', '.join(map(repr, unknown))} in {where}; "
                f"known: {', '.join(reports) or 'none'}"
            )
    asked = None if names is None else list(dict.fromkeys(_owner(manifest, n) for n in names))
    owners = (
        asked if asked is not None else list(dict.fromkeys(_owner(manifest, n) for n in reports))
    )
    briefs = {o: f"{o}{BRIEF_SUFFIX}" for o in owners if f"{o}{BRIEF_SUFFIX}" in reports}
    rollups = manifest.rollups() & set(owners)
    candidates: list[tuple[str, str]] = []  # (report to attach, the report it belongs to)
    left_out: list[tuple[str, ReportEntry]] = []
    for owner in owners:
        if owner in briefs:
            candidates.append((briefs[owner], owner))
        if owner not in briefs or full:
            covered = reports[owner].unit_of in rollups  # its roll-up goes instead
            if full or asked is not None or owner in rollups or not (briefs or covered):
                candidates.append((owner, owner))
            else:
                left_out.append((owner, reports[owner]))
    # briefs first, then the full reports, each in manifest order
    candidates.sort(key=lambda c: (not c[0].endswith(BRIEF_SUFFIX) or c[0] == c[1],
                                   list(reports).index(c[0])))  # fmt: skip
    results = {owner: results_of(manifest, owner, reports_dir) for _, owner in candidates}
    attach: list[Attachment] = []
    unavailable: list[Unavailable] = []
    for name, owner in candidates:
        found = classify(name, reports[name], reports_dir)
        if isinstance(found, Attachment):
            attach.append(
                Attachment(
                    found.name, found.entry, found.build_id, found.pdf, owner, results[owner]
                )
            )
        else:
            unavailable.append(found)
    if asked is not None and unavailable:
        details = "; ".join(f"{u.name}: {u.reason}" for u in unavailable)
        raise ReportUnavailableError(
            f"cannot send report(s) of build {manifest.build_id} ({details}); "
            "rebuild them, or leave them out"
        )
    if not attach:
        details = "; ".join(f"{u.name}: {u.reason}" for u in unavailable) or "it lists none"
        raise ReportUnavailableError(
            f"no report of build {manifest.build_id} can be sent ({details})"
        )
    return Selection(attach, unavailable, left_out)


def select_reports(
    manifest: Manifest, reports_dir: Path, *, names: Sequence[str] | None, full: bool = False
) -> tuple[list[Attachment], list[Unavailable]]:
    """Choose the reports to attach (see :func:`choose`, which also says what is left
    for ``--full``).

    Returns
    -------
    attach, unavailable
        Reports to attach (briefs first, in manifest order), and for ``names is None``
        the reports that cannot be attached with the reason (the e-mail lists them).

    Raises
    ------
    ReportUnavailableError
        A named report is unknown or cannot be attached (failed, skipped, no PDF): a
        report asked for by name is never silently left out. Also when nothing at all
        can be attached.
    """
    chosen = choose(manifest, reports_dir, names=names, full=full)
    return chosen.attach, chosen.unavailable
