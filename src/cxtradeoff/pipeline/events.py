"""What a build tells its caller: progress events and the outcome of every report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cxtradeoff.errors import EXIT_FAILED, EXIT_OK
from cxtradeoff.pipeline.config import InputProblem


@dataclass
class Event:
    """A progress event: ``kind`` is plan, start, cell, phases, note, done or skip.

    ``phases`` (kind ``phases``, just before a report's ``done``): the seconds each phase
    of the report took (``kernel``, ``cells``, ``figures``, ``html``, ``pdf``); a
    ``note`` is something the operator should hear of (a report retried on another
    worker after its worker died).
    """

    kind: str
    report: str
    status: str = ""
    duration_s: float = 0.0
    message: str = ""
    total: int = 0
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class ReportOutcome:
    """The result of one report in one build."""

    name: str
    status: str  # ok, up-to-date, failed, skipped
    duration_s: float = 0.0
    error: str | None = None
    failed_notebook: Path | None = None


@dataclass
class BuildOutcome:
    """The result of a whole build."""

    build_id: str
    out_dir: Path
    outcomes: list[ReportOutcome] = field(default_factory=list)
    wrote: bool = False
    warnings: list[str] = field(default_factory=list)
    #: unusable input files, each named once (the reports reading them were not built)
    input_problems: list[InputProblem] = field(default_factory=list)

    @property
    def failed(self) -> list[ReportOutcome]:
        return [o for o in self.outcomes if o.status in {"failed", "skipped"}]

    @property
    def exit_code(self) -> int:
        """A bad input first (what to fix), then a failed report, else 0."""
        if self.input_problems:
            return max(p.exit_code for p in self.input_problems)
        return EXIT_FAILED if self.failed else EXIT_OK
