"""The evidence behind the report: schemas and loaders of the evidence files.

``data/evidence_claims.csv``
    Every figure the source article (LeMagIT, 2025-11-14) cites, beside what the
    primary source says and how far it was verified.
``data/workforce_events.csv``
    Staff cuts and reversals: those the article cites, and those found since.
``data/reference_figures.csv``
    Other public figures used as model inputs or sanity checks.
``data/forecasts.csv``
    Analysts' forecasts about service staffing, and the surveys of service leaders
    that come with them.
``data/customer_surveys.csv``
    Consumer surveys published since the article.
``data/field_experiments.csv``
    Field experiments and panels on AI in service and on intentions versus behaviour.

The rules that bind service AI (``data/service_rules.csv``) are in :mod:`cxtradeoff.rules`.

``data/README.md`` documents every column, its unit and its vocabulary. Code reads
these files and never writes them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from cxtradeoff import paths
from cxtradeoff.datafiles import read_csv_validated, row_check

__all__ = [
    "CLAIMS_SCHEMA",
    "CUSTOMER_TOPICS",
    "EVENTS_SCHEMA",
    "EVENT_KINDS",
    "EVENT_UNITS",
    "EXPERIMENTS_SCHEMA",
    "FORECASTS_SCHEMA",
    "FORECAST_KINDS",
    "REFERENCE_SCHEMA",
    "REFERENCE_UNITS",
    "REFERENCE_USES",
    "STATUSES",
    "SURVEYS_SCHEMA",
    "SURVEY_TOPICS",
    "TOPICS",
    "UNITS",
    "identifier_column",
    "iso_date_column",
    "link_column",
    "load_claims",
    "load_events",
    "load_experiments",
    "load_forecasts",
    "load_reference",
    "load_surveys",
    "text_column",
]

#: verification statuses, from best to worst supported, then "qualitative";
#: "secondary only": found only in reporting about the source (press coverage of a
#: survey or press release), not in the source itself
STATUSES: tuple[str, ...] = (
    "verified",
    "wording differs",
    "number differs",
    "secondary only",
    "unverified",
    "qualitative",
)
#: unit of a claim's values: a fraction 0..1, a multiple (x times), or no number
UNITS: tuple[str, ...] = ("share", "multiple", "none")
#: what a claim is about
TOPICS: tuple[str, ...] = (
    "preference_for_humans",
    "attitude_to_ai",
    "switching_risk",
    "self_service",
    "cost_savings",
    "acquisition_cost",
    "sales_priorities",
)
#: topics whose figures are what customers say in surveys
CUSTOMER_TOPICS: tuple[str, ...] = ("preference_for_humans", "attitude_to_ai", "switching_risk")
#: unit of a workforce event's values: jobs (positions or people), or no number
EVENT_UNITS: tuple[str, ...] = ("jobs", "none")
#: who reported an event first: the article, or the review of sources since it
EVENT_CITED_BY: tuple[str, ...] = ("article", "review")
#: what kind of event it is
EVENT_KINDS: tuple[str, ...] = ("cut", "planned cut", "reversal")
#: a forecast, or a survey of service leaders published with one
FORECAST_KINDS: tuple[str, ...] = ("forecast", "leader survey")
#: unit of a forecast's or a field experiment's value
SHARE_OR_NONE: tuple[str, ...] = ("share", "none")
#: what a newer consumer survey figure is about
SURVEY_TOPICS: tuple[str, ...] = (
    "preference_for_humans",
    "attitude_to_ai",
    "switching_risk",
    "spending_after_bad_experience",
    "transparency",
    "handoff",
)
#: unit of a reference figure's values
REFERENCE_UNITS: tuple[str, ...] = ("share", "multiple", "usd_per_contact")
#: how a reference figure is used in the report
REFERENCE_USES: tuple[str, ...] = ("input", "sanity_check", "context")

#: ISO 8601 date at the precision known: YYYY, YYYY-MM or YYYY-MM-DD
_ISO_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
#: a calendar quarter, for survey fieldwork: 2025-Q3
_QUARTER_OR_DATE = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
_ID = r"^[a-z][a-z0-9_]*$"
_LINK = r"^https?://\S+$"
_STATUSES_WITH_SOURCE = ("verified", "wording differs", "number differs", "secondary only")


def text_column(*checks: pa.Check, nullable: bool = False, unique: bool = False) -> pa.Column:
    """A text column of a data file's schema (empty cells allowed only when ``nullable``)."""
    return pa.Column(str, list(checks), nullable=nullable, unique=unique)


def iso_date_column(*, nullable: bool) -> pa.Column:
    """A date at the precision known: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    return text_column(
        pa.Check.str_matches(_ISO_DATE, error="an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)"),
        nullable=nullable,
    )


def identifier_column() -> pa.Column:
    """A row's stable identifier: unique, lower case, digits and underscores."""
    return text_column(
        pa.Check.str_matches(_ID, error="an identifier (lower case, digits, underscores)"),
        unique=True,
    )


def link_column() -> pa.Column:
    """A web address (http or https), or empty."""
    return text_column(
        pa.Check.str_matches(_LINK, error="a web address (http or https)"), nullable=True
    )


def _status_column() -> pa.Column:
    return text_column(pa.Check.isin(STATUSES))


def _share_or_empty(value: str, unit: str = "unit") -> list[pa.Check]:
    """``value`` is a share in 0..1 when ``unit`` is 'share', and empty when it is 'none'."""
    return [
        _share_bounds(value, unit),
        row_check(
            value,
            lambda df: (df[unit] == "none") | df[value].notna(),
            expected=f"a number (the {unit} is not 'none')",
            name=f"{value} required",
            ignore_missing=False,
        ),
        row_check(
            value,
            lambda df: (df[unit] != "none") | df[value].isna(),
            expected=f"empty (the {unit} is 'none')",
            name=f"no {value} without a unit",
        ),
    ]


def _publisher_when_checked() -> pa.Check:
    return _required_when_checked(
        "source_publisher", expected="a publisher (a checked status needs its source)"
    )


def _share_bounds(value: str, unit: str = "unit") -> pa.Check:
    return row_check(
        value,
        lambda df: (df[unit] != "share") | df[value].between(0, 1),
        expected=f"a share between 0 and 1 (the {unit} is 'share')",
        name=f"{value} is a share",
    )


def _multiple_bounds(value: str, unit: str = "unit") -> pa.Check:
    return row_check(
        value,
        lambda df: (df[unit] != "multiple") | (df[value] >= 1),
        expected=f"a multiple of at least 1 (the {unit} is 'multiple')",
        name=f"{value} is a multiple",
    )


def _high_not_below_low(high: str, low: str) -> pa.Check:
    return row_check(
        high,
        lambda df: df[high] >= df[low],
        expected=f"at least {low} (the high end of a range)",
        name=f"{high} >= {low}",
    )


def _required_when_checked(column: str, *, expected: str) -> pa.Check:
    """``column`` must have a value when the status says the source was checked."""
    return row_check(
        column,
        lambda df: ~df["status"].isin(_STATUSES_WITH_SOURCE) | df[column].notna(),
        expected=expected,
        name=f"{column} required",
        ignore_missing=False,
    )


CLAIMS_SCHEMA = pa.DataFrameSchema(
    {
        "id": identifier_column(),
        "topic": text_column(pa.Check.isin(TOPICS)),
        "article_claim": text_column(),
        "article_source": text_column(),
        "article_value": pa.Column(float, nullable=True),
        "article_value_high": pa.Column(float, nullable=True),
        "unit": text_column(pa.Check.isin(UNITS)),
        "source_publisher": text_column(nullable=True),
        "source_title": text_column(nullable=True),
        "source_date": iso_date_column(nullable=True),
        "sample_size": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "population": text_column(nullable=True),
        "vendor_survey": pa.Column("boolean", nullable=True, coerce=True),
        "source_link": link_column(),
        "source_value": pa.Column(float, nullable=True),
        "source_value_high": pa.Column(float, nullable=True),
        "status": _status_column(),
        "note": text_column(nullable=True),
    },
    checks=[
        _share_bounds("article_value"),
        _share_bounds("article_value_high"),
        _share_bounds("source_value"),
        _share_bounds("source_value_high"),
        _multiple_bounds("article_value"),
        _multiple_bounds("source_value"),
        _high_not_below_low("article_value_high", "article_value"),
        _high_not_below_low("source_value_high", "source_value"),
        row_check(
            "article_value",
            lambda df: (df["unit"] == "none") | df["article_value"].notna(),
            expected="a number (the unit is not 'none')",
            name="article_value required",
            ignore_missing=False,
        ),
        row_check(
            "article_value",
            lambda df: (df["unit"] != "none") | df["article_value"].isna(),
            expected="empty (the unit is 'none')",
            name="no value without a unit",
        ),
        row_check(
            "status",
            lambda df: (df["status"] == "qualitative") == (df["unit"] == "none"),
            expected="consistent with the unit ('qualitative' if and only if the unit is 'none')",
            name="qualitative means no number",
        ),
        _required_when_checked(
            "source_value", expected="a number (a checked status needs the source's figure)"
        ),
        _required_when_checked(
            "source_publisher", expected="a publisher (a checked status needs its source)"
        ),
        row_check(
            "source_value",
            lambda df: (df["status"] != "verified") | (df["source_value"] == df["article_value"]),
            expected="equal to article_value (the status is 'verified')",
            name="verified means same number",
        ),
        row_check(
            "source_value",
            lambda df: (
                (df["status"] != "number differs") | (df["source_value"] != df["article_value"])
            ),
            expected="different from article_value (the status is 'number differs')",
            name="number differs means different number",
        ),
    ],
    strict=True,
    name="evidence claims",
)

EVENTS_SCHEMA = pa.DataFrameSchema(
    {
        "id": identifier_column(),
        "company": text_column(),
        "country": text_column(
            pa.Check.str_matches(r"^[A-Z]{2}$", error="a two-letter ISO country code")
        ),
        "cited_by": text_column(pa.Check.isin(EVENT_CITED_BY)),
        "event_kind": text_column(pa.Check.isin(EVENT_KINDS)),
        "claim": text_column(),
        "claim_value": pa.Column(float, pa.Check.ge(0), nullable=True),
        "unit": text_column(pa.Check.isin(EVENT_UNITS)),
        "event_date": iso_date_column(nullable=False),
        "source_publisher": text_column(nullable=True),
        "source_title": text_column(nullable=True),
        "source_date": iso_date_column(nullable=True),
        "source_link": link_column(),
        "source_value": pa.Column(float, pa.Check.ge(0), nullable=True),
        "status": _status_column(),
        "note": text_column(),
    },
    checks=[
        row_check(
            "claim_value",
            lambda df: (df["unit"] == "none") | df["claim_value"].notna(),
            expected="a number (the unit is not 'none')",
            name="claim_value required",
            ignore_missing=False,
        ),
        row_check(
            "claim_value",
            lambda df: (df["unit"] != "none") | df["claim_value"].isna(),
            expected="empty (the unit is 'none')",
            name="no claim_value without a unit",
        ),
        row_check(
            "source_value",
            lambda df: (df["unit"] != "none") | df["source_value"].isna(),
            expected="empty (the unit is 'none')",
            name="no source_value without a unit",
        ),
        row_check(
            "source_value",
            lambda df: (
                (df["status"] != "verified")
                | (df["unit"] == "none")
                | (df["source_value"] == df["claim_value"])
            ),
            expected="equal to claim_value (the status is 'verified')",
            name="verified means same number",
            ignore_missing=False,
        ),
        row_check(
            "source_value",
            lambda df: (
                (df["status"] != "number differs") | (df["source_value"] != df["claim_value"])
            ),
            expected="different from claim_value (the status is 'number differs')",
            name="number differs means different number",
        ),
        row_check(
            "source_publisher",
            lambda df: (df["cited_by"] != "review") | df["source_publisher"].notna(),
            expected="a publisher (an event found since the article needs its source)",
            name="review events need a source",
            ignore_missing=False,
        ),
    ],
    strict=True,
    name="workforce events",
)

REFERENCE_SCHEMA = pa.DataFrameSchema(
    {
        "id": identifier_column(),
        "figure": text_column(),
        "value": pa.Column(float),
        "value_high": pa.Column(float, nullable=True),
        "unit": text_column(pa.Check.isin(REFERENCE_UNITS)),
        "source_publisher": text_column(),
        "source_title": text_column(nullable=True),
        "source_date": iso_date_column(nullable=False),
        "sample_size": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "population": text_column(nullable=True),
        "source_link": link_column(),
        "use": text_column(pa.Check.isin(REFERENCE_USES)),
        "model_parameter": text_column(
            pa.Check.str_matches(_ID, error="a parameter name of the model"), nullable=True
        ),
        "note": text_column(nullable=True),
    },
    checks=[
        _share_bounds("value"),
        _share_bounds("value_high"),
        _multiple_bounds("value"),
        _high_not_below_low("value_high", "value"),
        row_check(
            "value",
            lambda df: (df["unit"] != "usd_per_contact") | (df["value"] >= 0),
            expected="a cost of at least 0 (the unit is 'usd_per_contact')",
            name="cost is not negative",
        ),
    ],
    strict=True,
    name="reference figures",
)

FORECASTS_SCHEMA = pa.DataFrameSchema(
    {
        "id": identifier_column(),
        "forecaster": text_column(),
        "kind": text_column(pa.Check.isin(FORECAST_KINDS)),
        "statement": text_column(),
        "value": pa.Column(float, nullable=True),
        "unit": text_column(pa.Check.isin(SHARE_OR_NONE)),
        "target_year": pa.Column("Int64", pa.Check.in_range(2000, 2100), nullable=True),
        "source_publisher": text_column(),
        "source_title": text_column(),
        "source_date": iso_date_column(nullable=False),
        "sample_size": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "population": text_column(nullable=True),
        "source_link": link_column(),
        "status": _status_column(),
        "note": text_column(nullable=True),
    },
    checks=[
        *_share_or_empty("value"),
        row_check(
            "target_year",
            lambda df: (df["kind"] != "forecast") | df["target_year"].notna(),
            expected="a year (a forecast needs the year it is about)",
            name="forecast needs a target year",
            ignore_missing=False,
        ),
    ],
    strict=True,
    name="forecasts",
)

SURVEYS_SCHEMA = pa.DataFrameSchema(
    {
        "id": identifier_column(),
        "topic": text_column(pa.Check.isin(SURVEY_TOPICS)),
        "figure": text_column(),
        "value": pa.Column(float),
        "unit": text_column(pa.Check.isin(("share",))),
        "surveyed_by": text_column(),
        "vendor_survey": pa.Column(bool, coerce=True),
        "source_publisher": text_column(),
        "source_title": text_column(),
        "source_date": iso_date_column(nullable=False),
        "fieldwork": text_column(
            pa.Check.str_matches(
                _QUARTER_OR_DATE, error="a date or a quarter (YYYY, YYYY-MM or YYYY-Q1..Q4)"
            ),
            nullable=True,
        ),
        "sample_size": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "population": text_column(),
        "source_link": link_column(),
        "status": _status_column(),
        "note": text_column(nullable=True),
    },
    checks=[_share_bounds("value")],
    strict=True,
    name="customer surveys",
)

EXPERIMENTS_SCHEMA = pa.DataFrameSchema(
    {
        "id": identifier_column(),
        "study": text_column(),
        "authors": text_column(),
        "outlet": text_column(),
        "design": text_column(),
        "setting": text_column(),
        "country": text_column(
            pa.Check.str_matches(r"^[A-Z]{2}$", error="a two-letter ISO country code"),
            nullable=True,
        ),
        "sample_size": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "sample_unit": text_column(),
        "finding": text_column(),
        "value": pa.Column(float, nullable=True),
        "unit": text_column(pa.Check.isin(SHARE_OR_NONE)),
        "shows": text_column(),
        "does_not_show": text_column(),
        "source_publisher": text_column(),
        "source_title": text_column(),
        "source_date": iso_date_column(nullable=False),
        "source_link": link_column(),
        "status": _status_column(),
        "note": text_column(nullable=True),
    },
    checks=[*_share_or_empty("value")],
    strict=True,
    name="field experiments",
)


def _path(path: str | Path | None, default: Path) -> Path:
    return default if path is None else Path(path)


def load_claims(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the article's claims against their primary sources.

    Parameters
    ----------
    path
        The CSV file; defaults to ``data/evidence_claims.csv`` of the project.

    Returns
    -------
    pandas.DataFrame
        One row per claim, columns as in ``data/README.md``; shares are fractions.

    Raises
    ------
    DataValidationError
        Listing every problem in the file, by line and column.
    """
    return read_csv_validated(
        _path(path, paths.EVIDENCE_CLAIMS), CLAIMS_SCHEMA, what="evidence claims"
    )


def load_events(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the workforce events: cited by the article, and found since.

    Parameters
    ----------
    path
        The CSV file; defaults to ``data/workforce_events.csv`` of the project.

    Returns
    -------
    pandas.DataFrame
        One row per event.

    Raises
    ------
    DataValidationError
        Listing every problem in the file, by line and column.
    """
    return read_csv_validated(
        _path(path, paths.EVIDENCE_EVENTS), EVENTS_SCHEMA, what="workforce events"
    )


def load_reference(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the other public figures (model inputs and sanity checks).

    Parameters
    ----------
    path
        The CSV file; defaults to ``data/reference_figures.csv`` of the project.

    Returns
    -------
    pandas.DataFrame
        One row per figure.

    Raises
    ------
    DataValidationError
        Listing every problem in the file, by line and column.
    """
    return read_csv_validated(
        _path(path, paths.REFERENCE_FIGURES), REFERENCE_SCHEMA, what="reference figures"
    )


def load_forecasts(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the analysts' forecasts (and the leader surveys that come with them).

    Parameters
    ----------
    path
        The CSV file; defaults to ``data/forecasts.csv`` of the project.

    Returns
    -------
    pandas.DataFrame
        One row per forecast or survey figure; shares are fractions.

    Raises
    ------
    DataValidationError
        Listing every problem in the file, by line and column.
    """
    return read_csv_validated(_path(path, paths.FORECASTS), FORECASTS_SCHEMA, what="forecasts")


def load_surveys(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the consumer surveys published since the article.

    Parameters
    ----------
    path
        The CSV file; defaults to ``data/customer_surveys.csv`` of the project.

    Returns
    -------
    pandas.DataFrame
        One row per survey figure; shares are fractions.

    Raises
    ------
    DataValidationError
        Listing every problem in the file, by line and column.
    """
    return read_csv_validated(
        _path(path, paths.CUSTOMER_SURVEYS), SURVEYS_SCHEMA, what="customer surveys"
    )


def load_experiments(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the field experiments and panels.

    Parameters
    ----------
    path
        The CSV file; defaults to ``data/field_experiments.csv`` of the project.

    Returns
    -------
    pandas.DataFrame
        One row per study.

    Raises
    ------
    DataValidationError
        Listing every problem in the file, by line and column.
    """
    return read_csv_validated(
        _path(path, paths.FIELD_EXPERIMENTS), EXPERIMENTS_SCHEMA, what="field experiments"
    )
