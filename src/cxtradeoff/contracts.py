"""The files the package writes and reads back, as typed models: results and manifest.

Each file carries a ``schema_version``. Writers build the model and dump it; readers
load it with :func:`load_results` or :func:`load_manifest` and trust what they get:
no reader re-parses dicts or falls back on missing keys. A file of an older or an
unknown version is refused with a message that says to rebuild. The JSON Schemas in
``docs/schemas/`` are generated from these models (``make schemas``); a test fails when
the committed ones differ.

- ``<report>.results.json`` (:class:`ResultsFile`): written by an analysis notebook,
  read by the build (for the manifest's headline), the comparison and the exploration
  panel.
- ``manifest.json`` (:class:`Manifest`): written by the build, read by the next build
  (incremental), the landing page and the email.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cxtradeoff.errors import DataValidationError
from cxtradeoff.files import atomic_write_json

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "RESULTS_SCHEMA_VERSION",
    "ConversionInterval",
    "ConversionPosterior",
    "Driver",
    "ExtraChurnPosterior",
    "FlipPoint",
    "Headline",
    "Manifest",
    "ManifestHeadline",
    "PilotDecision",
    "PilotResult",
    "PilotScenario",
    "ReportEntry",
    "ResultsFile",
    "ScenarioResult",
    "load_manifest",
    "load_results",
    "write_model",
]

#: version of the results file's layout; bump it when a field changes meaning or is removed
RESULTS_SCHEMA_VERSION: int = 2
#: version of the manifest's layout
MANIFEST_SCHEMA_VERSION: int = 2

#: a number that may be undefined (a break-even with a zero divisor, no Monte Carlo run)
Number = float | None


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- results


Share = Annotated[float, Field(ge=0, le=1)]


class ScenarioResult(_Contract):
    """One scenario: its distribution over the Monte Carlo draws and its base case.

    The distribution (``npv_mean`` .. ``p_best``) is what scenarios are ranked on; the
    base case (every input at its base value) is reported as such, never used to rank.
    ``break_even_conversion`` is the model contract's annual break-even;
    ``break_even_conversion_npv`` is where NPV over the horizon is 0, one-off costs
    counted: the one every sentence, table and chart shows. The ``_clv`` and
    ``_replacement`` pairs value a lost customer at its lifetime value and at
    min(CLV, acquisition cost). ``permitted`` is false when a rule binding the company
    forbids the scenario (``blocked_by`` names it); such a scenario is shown, never
    recommended.
    """

    npv_mean: Number = None
    npv_p10: Number = None
    npv_p50: Number = None
    npv_p90: Number = None
    p_loss: Share | None = None
    p_best: Share | None = None
    margin_per_customer: float
    clv: float
    value_per_lost_customer: float
    exposure: float
    failed_ai_exposure: float
    extra_churn: float
    customers_lost_per_year: float
    annual_savings: float
    annual_loyalty_cost: float
    severance_cost: float
    npv: float
    break_even_churn: Number
    break_even_conversion: Number
    break_even_churn_npv: Number
    break_even_conversion_npv: Number
    rehiring_cost: float
    p_conversion_below_break_even: Share | None
    npv_clv: Number
    npv_replacement: Number
    break_even_conversion_npv_clv: Number
    break_even_conversion_npv_replacement: Number
    permitted: bool = True
    blocked_by: str | None = None


class Driver(_Contract):
    """An input the answer hangs on: the NPV with the input at its P10 and at its P90."""

    parameter: str
    low: float
    high: float
    npv_low: float
    npv_high: float
    swing: float = Field(ge=0)


class FlipPoint(_Contract):
    """Where the recommendation changes as the switching conversion moves.

    ``assumed`` is the prior's mean of the conversion; at ``conversion`` (each year)
    the call flips to the scenario ``to``, when the true value is ``direction``
    (``above`` or ``below``) it. None when no conversion in 0..1 changes the call.
    """

    assumed: Share
    conversion: Share | None
    to: str | None
    direction: Literal["above", "below"] | None


class Headline(_Contract):
    """The figures a report leads with: those of the recommended scenario.

    ``npv_mean``, ``npv_p10``, ``npv_p90``, ``p_loss`` and ``p_best`` are over the
    Monte Carlo draws; ``npv``, ``annual_savings`` and the break-evens are the base
    case; ``switch_conversion`` is the assumed conversion (the prior's median) to set
    against the break-even; ``evppi_switch_conversion`` what measuring it is worth.
    """

    scenario: str
    npv_mean: float
    npv_p10: float
    npv_p90: float
    p_loss: Share
    p_best: Share
    npv: float
    annual_savings: float
    customers_lost_per_year: float
    break_even_conversion: Number
    break_even_conversion_npv: Number
    switch_conversion: Share
    evppi_switch_conversion: float = Field(ge=0)
    flip: FlipPoint


class ExtraChurnPosterior(_Contract):
    """The pilot's extra annual churn in the AI arm (AI-arm minus control-arm churn, a year).

    May be below 0: the AI arm lost fewer customers than the control arm.
    """

    mean: float
    p10: float
    p90: float


class ConversionInterval(_Contract):
    """The switching conversion (each year) over the Monte Carlo draws: mean, P10, P50, P90."""

    mean: Share
    p10: Share
    p50: Share
    p90: Share


class ConversionPosterior(ConversionInterval):
    """The switching conversion after a pilot, each year: P10, P50, P90 over the draws.

    ``share_clipped`` is the share of draws set to 0 because the pilot saw no extra churn
    there; ``share_clipped_at_one`` those set to 1 (more extra churn than the model
    allows, even if every would-be leaver left).
    """

    share_clipped: Share
    share_clipped_at_one: Share = 0.0


class PilotScenario(_Contract):
    """One scenario before or after a pilot: mean NPV, chance of loss, chance of being best."""

    npv_mean: float
    p_loss: Share
    p_best: Share


class PilotDecision(_Contract):
    """The decision before (the prior) or after (the posterior) a pilot."""

    recommended: str
    scenarios: dict[str, PilotScenario] = Field(min_length=1)
    evppi_switch_conversion: float = Field(ge=0)


class PilotResult(_Contract):
    """A pilot's counts and what they changed (``cxtradeoff.pilot``).

    ``scenario`` is the piloted scenario, run for ``months`` months in the AI arm;
    ``prior_switch_conversion`` is the conversion assumed before the pilot (the prior's
    P10, P50, P90 over the draws; its median is the profile's value);
    ``assumption`` states, in words, that the conversion measured in the piloted
    scenario is applied to every scenario. ``break_even_conversion_npv`` is the piloted
    scenario's break-even over the horizon (base case; None where undefined) and
    ``prior_p_below_break_even`` / ``posterior_p_below_break_even`` the share of draws of
    the conversion below it, before and after the pilot. ``prior`` and ``posterior`` are
    the decision before and after the pilot on the same draws of every other input.
    ``source`` is where the counts come from, as the pilot file says; a source that starts
    with "illustrative" marks invented counts, and every output says so.
    """

    scenario: str
    months: int = Field(ge=1, le=24)
    ai_customers: int = Field(gt=0)
    ai_churned: int = Field(ge=0)
    control_customers: int = Field(gt=0)
    control_churned: int = Field(ge=0)
    source: str | None = None
    assumption: str
    prior_switch_conversion: ConversionInterval
    extra_annual_churn: ExtraChurnPosterior
    switch_conversion: ConversionPosterior
    break_even_conversion_npv: Number
    prior_p_below_break_even: Share | None
    posterior_p_below_break_even: Share | None
    prior: PilotDecision
    posterior: PilotDecision

    @model_validator(mode="after")
    def _churned_within_customers(self) -> PilotResult:
        for arm in ("ai", "control"):
            churned, customers = getattr(self, f"{arm}_churned"), getattr(self, f"{arm}_customers")
            if churned > customers:
                raise ValueError(
                    f"{arm}_churned = {churned} is above {arm}_customers = {customers}"
                )
        return self


class ResultsFile(_Contract):
    """``<report>.results.json``: the results and the decision of one company's analysis.

    With ``pilot`` set, the distribution of every scenario, the recommendation, the EVPPI
    and the headline are those after the pilot (the switching conversion's posterior);
    ``pilot`` keeps the counts and the decision before the pilot. Without it (``None``),
    they rest on the prior.
    """

    schema_version: Literal[2] = 2
    profile: str
    display_name: str
    currency: str
    jurisdiction: str | None
    as_of: str
    horizon_years: int = Field(ge=1)
    draws: int = Field(ge=1)
    seed: int = Field(ge=0)
    overrides: dict[str, Any]
    scenarios: dict[str, ScenarioResult] = Field(min_length=1)
    recommended: str
    evppi_switch_conversion: float = Field(ge=0)
    drivers_scenario: str
    drivers: list[Driver]
    headline: Headline
    pilot: PilotResult | None = None

    @model_validator(mode="after")
    def _recommended_is_a_permitted_scenario(self) -> ResultsFile:
        chosen = self.scenarios.get(self.recommended)
        if chosen is None:
            raise ValueError(f"recommended scenario {self.recommended!r} is not in scenarios")
        if not chosen.permitted:
            raise ValueError(f"recommended scenario {self.recommended!r} is not permitted")
        if self.headline.scenario != self.recommended:
            raise ValueError("the headline is not the recommended scenario's")
        return self


# --------------------------------------------------------------------------- manifest


class ManifestHeadline(Headline):
    """A report's headline as the manifest keeps it, with the currency of its amounts."""

    currency: str


ReportStatus = Literal["ok", "failed", "skipped"]


class ReportEntry(_Contract):
    """One report in the manifest: what it was built from, what it made, how it went."""

    title: str
    profile: str | None = None
    display_name: str | None = None
    notebook: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    #: for a unit of a portfolio, the name of the portfolio's roll-up report; written only
    #: when set, so that a build without portfolios writes the manifest it always wrote
    unit_of: str | None = Field(default=None, exclude_if=lambda value: value is None)
    inputs: dict[str, str] = Field(default_factory=dict)
    input_hash: str | None = None
    git_commit: str | None = None
    build_id: str | None = None
    started: str | None = None
    formats: list[str] = Field(default_factory=list)
    outputs: dict[str, str | None] = Field(default_factory=dict)
    headline: ManifestHeadline | None = None
    status: ReportStatus
    error: str | None = None
    duration_s: float | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    failed_notebook: str | None = None


class Manifest(_Contract):
    """``manifest.json``: the last build of a reports folder."""

    schema_version: Literal[2] = 2
    build_id: str
    built_at: str
    git_commit: str | None = None
    config: str
    packages: dict[str, str] = Field(default_factory=dict)
    reports: dict[str, ReportEntry] = Field(default_factory=dict)

    def units_of(self, rollup: str) -> list[ReportEntry]:
        """The entries of the portfolio units ``rollup`` rolls up (none: it is no roll-up)."""
        return [entry for entry in self.reports.values() if entry.unit_of == rollup]

    def rollups(self) -> set[str]:
        """The reports of this manifest that are a portfolio's roll-up."""
        return {e.unit_of for e in self.reports.values() if e.unit_of in self.reports}


# --------------------------------------------------------------------------- reading


def _problems(error: ValidationError) -> list[str]:
    out = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        out.append(f"{where}: {item['msg']}")
    return out


_M = TypeVar("_M", bound=_Contract)


def _load(path: Path, model: type[_M], *, what: str, rebuild: str) -> _M:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataValidationError(path, [f"the {what} does not exist; {rebuild}"]) from None
    except OSError as exc:
        raise DataValidationError(path, [f"the {what} cannot be read ({exc.strerror})"]) from None
    except ValueError as exc:
        raise DataValidationError(
            path, [f"the {what} is not valid JSON ({exc}); {rebuild}"]
        ) from None
    expected = model.model_fields["schema_version"].default
    found = data.get("schema_version") if isinstance(data, dict) else None
    if found != expected:
        age = (
            "older" if found is None or (isinstance(found, int) and found < expected) else "unknown"
        )
        raise DataValidationError(
            path,
            [
                f"the {what} has schema_version {found!r}, an {age} layout than this version "
                f"of cxtradeoff reads ({expected}); {rebuild}"
            ],
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DataValidationError(path, [*_problems(exc), rebuild]) from None


def load_results(path: str | Path) -> ResultsFile:
    """Read a results file, refusing one of another version or a malformed one.

    Raises
    ------
    DataValidationError
        Naming the file, each field at fault, and saying to rebuild the report.
    """
    return _load(
        Path(path),
        ResultsFile,
        what="results file",
        rebuild="rebuild the report (cxtradeoff build --force --only NAME)",
    )


def load_manifest(path: str | Path) -> Manifest:
    """Read a build's manifest, refusing one of another version or a malformed one.

    Raises
    ------
    DataValidationError
        Naming the file, each field at fault, and saying to rebuild.
    """
    return _load(
        Path(path),
        Manifest,
        what="build manifest",
        rebuild="rebuild the reports (cxtradeoff build --force)",
    )


def write_model(model: BaseModel, path: str | Path) -> Path:
    """Write a contract model as JSON, atomically (mode 0644), fields in declared order."""
    return atomic_write_json(path, model.model_dump(mode="json"))


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each file the package writes, by file name in ``docs/schemas/``."""
    return {
        f"results.v{RESULTS_SCHEMA_VERSION}.schema.json": ResultsFile.model_json_schema(),
        f"manifest.v{MANIFEST_SCHEMA_VERSION}.schema.json": Manifest.model_json_schema(),
    }


def write_json_schemas(folder: str | Path) -> list[Path]:
    """Write :func:`json_schemas` into ``folder`` (what ``make schemas`` runs)."""
    return [
        atomic_write_json(Path(folder) / name, schema) for name, schema in json_schemas().items()
    ]


if __name__ == "__main__":  # pragma: no cover - exercised by `make schemas`
    import sys

    for written in write_json_schemas(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas"):
        print(written)
