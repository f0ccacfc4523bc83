"""The evidence behind the report: schemas and loaders of the three evidence files.

``data/evidence_claims.csv``
    Every figure the source article (LeMagIT, 2025-11-14) cites, beside what the
    primary source says and how far it was verified.
``data/workforce_events.csv``
    The staff cuts (and the reversal) the article cites as examples.
``data/reference_figures.csv``
    Other public figures used as model inputs or sanity checks.

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
    "REFERENCE_SCHEMA",
    "REFERENCE_UNITS",
    "REFERENCE_USES",
    "STATUSES",
    "TOPICS",
    "UNITS",
    "load_claims",
    "load_events",
    "load_reference",
]

#: verification statuses, from best to worst supported, then "qualitative"
STATUSES: tuple[str, ...] = (
    "verified",
    "wording differs",
    "number differs",
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
#: unit of a workforce event's values
EVENT_UNITS: tuple[str, ...] = ("jobs",)
#: unit of a reference figure's values
REFERENCE_UNITS: tuple[str, ...] = ("share", "multiple", "usd_per_contact")
#: how a reference figure is used in the report
REFERENCE_USES: tuple[str, ...] = ("input", "sanity_check", "context")

#: ISO 8601 date at the precision known: YYYY, YYYY-MM or YYYY-MM-DD
_ISO_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
_ID = r"^[a-z][a-z0-9_]*$"
_LINK = r"^https?://\S+$"
_STATUSES_WITH_SOURCE = ("verified", "wording differs", "number differs")


def _text(*checks: pa.Check, nullable: bool = False, unique: bool = False) -> pa.Column:
    return pa.Column(str, list(checks), nullable=nullable, unique=unique)


def _iso_date(*, nullable: bool) -> pa.Column:
    return _text(
        pa.Check.str_matches(_ISO_DATE, error="an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)"),
        nullable=nullable,
    )


def _identifier() -> pa.Column:
    return _text(
        pa.Check.str_matches(_ID, error="an identifier (lower case, digits, underscores)"),
        unique=True,
    )


def _link() -> pa.Column:
    return _text(pa.Check.str_matches(_LINK, error="a web address (http or https)"), nullable=True)


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
        "id": _identifier(),
        "topic": _text(pa.Check.isin(TOPICS)),
        "article_claim": _text(),
        "article_source": _text(),
        "article_value": pa.Column(float, nullable=True),
        "article_value_high": pa.Column(float, nullable=True),
        "unit": _text(pa.Check.isin(UNITS)),
        "source_publisher": _text(nullable=True),
        "source_title": _text(nullable=True),
        "source_date": _iso_date(nullable=True),
        "sample_size": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "population": _text(nullable=True),
        "source_link": _link(),
        "source_value": pa.Column(float, nullable=True),
        "source_value_high": pa.Column(float, nullable=True),
        "status": _text(pa.Check.isin(STATUSES)),
        "note": _text(nullable=True),
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
        "id": _identifier(),
        "company": _text(),
        "country": _text(
            pa.Check.str_matches(r"^[A-Z]{2}$", error="a two-letter ISO country code")
        ),
        "article_claim": _text(),
        "article_value": pa.Column(float, pa.Check.ge(0)),
        "unit": _text(pa.Check.isin(EVENT_UNITS)),
        "event_date": _iso_date(nullable=False),
        "source_publisher": _text(nullable=True),
        "source_title": _text(nullable=True),
        "source_link": _link(),
        "source_value": pa.Column(float, pa.Check.ge(0), nullable=True),
        "status": _text(pa.Check.isin(STATUSES)),
        "note": _text(),
    },
    checks=[
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
    name="workforce events",
)

REFERENCE_SCHEMA = pa.DataFrameSchema(
    {
        "id": _identifier(),
        "figure": _text(),
        "value": pa.Column(float),
        "value_high": pa.Column(float, nullable=True),
        "unit": _text(pa.Check.isin(REFERENCE_UNITS)),
        "source_publisher": _text(),
        "source_title": _text(nullable=True),
        "source_date": _iso_date(nullable=False),
        "sample_size": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "population": _text(nullable=True),
        "use": _text(pa.Check.isin(REFERENCE_USES)),
        "model_parameter": _text(
            pa.Check.str_matches(_ID, error="a parameter name of the model"), nullable=True
        ),
        "note": _text(nullable=True),
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
    """Load and validate the workforce events the article cites.

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
