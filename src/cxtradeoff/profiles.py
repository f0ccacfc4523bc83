"""Company profiles: illustrative parameter sets, each value with its basis.

``data/company_profiles.csv`` is tidy and long: one row per (profile, parameter)::

    profile,display_name,currency,parameter,value,basis
    telecom,Telecom operator (illustrative),EUR,customers,8000000,assumption: ...

``display_name`` and ``currency`` repeat on every row of a profile (and must agree);
``value`` is text parsed by the parameter's type (``true``/``false`` for flags, empty
for an optional extension's default); ``basis`` is a one-line source or
``assumption: ...``. Every MODEL.md input must appear once per profile, except those
with a default that keeps a profile's meaning (``severance_months``,
``escalation_penalty``, ``replace_lost_customers``: model.DEFAULTED_INPUTS). The file is
checked on load: structure with pandera, values with the model's own parameter
rules; every problem is reported at once, naming the file, the CSV line and the
column. ``display_name`` is free text and is never treated as markup here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import pandera.pandas as pa

from cxtradeoff import paths
from cxtradeoff.datafiles import read_csv_checked
from cxtradeoff.errors import DataValidationError, ParameterError
from cxtradeoff.model import (
    EXTENSION_INPUTS,
    MODEL_INPUTS,
    PARAMETER_NAMES,
    REQUIRED_INPUTS,
    Parameters,
    parameters_from_mapping,
    parse_value,
    suggest,
    validate_value,
)
from cxtradeoff.rules import ISO_COUNTRIES, SECTORS

COLUMNS: tuple[str, ...] = ("profile", "display_name", "currency", "parameter", "value", "basis")

#: what each column expects, in words (used in error messages)
COLUMN_RULES: Mapping[str, str] = MappingProxyType(
    {
        "profile": "an id of lowercase letters, digits and '_', starting with a letter",
        "display_name": "non-empty free text",
        "currency": "a three-letter ISO 4217 code in capitals, e.g. EUR",
        "parameter": "a model parameter name",
        "value": "the parameter's value",
        "basis": "a one-line source, or 'assumption: ...'",
    }
)


def _text_column(pattern: str | None, rule: str, *, nullable: bool = False) -> pa.Column:
    checks = [pa.Check.str_matches(pattern, error=rule)] if pattern else []
    return pa.Column(str, checks=checks, nullable=nullable)


#: structure of one row of the profiles file (all columns are text)
PROFILE_ROW_SCHEMA = pa.DataFrameSchema(
    {
        "profile": _text_column(r"^[a-z][a-z0-9_]*$", COLUMN_RULES["profile"]),
        "display_name": _text_column(r"\S", COLUMN_RULES["display_name"]),
        "currency": _text_column(r"^[A-Z]{3}$", COLUMN_RULES["currency"]),
        "parameter": _text_column(None, COLUMN_RULES["parameter"]),
        "value": _text_column(None, COLUMN_RULES["value"], nullable=True),
        "basis": _text_column(r"\S", COLUMN_RULES["basis"]),
    },
    strict=True,
    ordered=False,
)


#: facts about the company that are not model inputs but decide which rules bind it;
#: each is optional (a profile without a jurisdiction is checked against no rule)
COMPANY_FACTS: Mapping[str, str] = MappingProxyType(
    {
        "jurisdiction": "an ISO 3166-1 alpha-2 country code in capitals, e.g. ES",
        "employees": "a whole number of people employed, at least 1",
        "sector": f"one of: {', '.join(SECTORS)}, or other",
        "sells_to_consumers": "true or false",
    }
)


def _parse_fact(name: str, text: str) -> Any:
    """A company fact's value, or ParameterError saying what was expected."""
    expected = COMPANY_FACTS[name]
    if name == "jurisdiction" and text in ISO_COUNTRIES:
        return text
    if name == "employees" and text.isdigit() and int(text) >= 1:
        return int(text)
    if name == "sector" and text in (*SECTORS, "other"):
        return None if text == "other" else text
    if name == "sells_to_consumers" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise ParameterError(f"{name} = {text!r} is not {expected}")


@dataclass(frozen=True)
class Profile:
    """One company: its validated parameters, the basis of each value, and the facts
    that decide which rules bind it (jurisdiction, employees, sector, consumer-facing)."""

    id: str
    display_name: str
    currency: str
    parameters: Parameters
    basis: Mapping[str, str]
    jurisdiction: str | None = None
    employees: int | None = None
    sector: str | None = None
    sells_to_consumers: bool = True

    @property
    def turnover(self) -> float:
        """Annual turnover: customers times revenue per customer."""
        return float(self.parameters.customers * self.parameters.revenue_per_customer)

    def basis_of(self, name: str) -> str:
        """The recorded basis of a parameter, or the default's note for an extension."""
        if name in self.basis:
            return self.basis[name]
        return "default of the model (docs/model.md)"


def _read_rows(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Read the CSV through the package's one reader; the index is each row's CSV line."""
    frame, problems = read_csv_checked(path, PROFILE_ROW_SCHEMA, what="company profiles")
    if frame is None:
        raise DataValidationError(path, problems)
    text = frame.astype(object).where(frame.notna(), "")
    return text.map(lambda cell: str(cell).strip()), problems


def _value_problems(path: Path, frame: pd.DataFrame) -> tuple[dict[int, Any], list[str]]:
    """Parse and range-check each value; return {line: value} for the good ones."""
    values: dict[int, Any] = {}
    problems: list[str] = []
    if not {"parameter", "value"} <= set(frame.columns):
        return values, problems
    for line, name, text in zip(frame.index, frame["parameter"], frame["value"], strict=True):
        where = f"{path}: line {line}"
        if name in COMPANY_FACTS:
            try:
                values[int(line)] = _parse_fact(name, text)
            except ParameterError as exc:
                problems.append(f"{where}, column 'value': {exc}")
            continue
        if name not in PARAMETER_NAMES:
            close = suggest(name) or difflib.get_close_matches(name, list(COMPANY_FACTS), n=1)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            problems.append(f"{where}, column 'parameter': unknown parameter {name!r}{hint}")
            continue
        if text == "" and name in MODEL_INPUTS:
            problems.append(
                f"{where}, column 'value': {name} is empty; every model input needs a value"
            )
            continue
        try:
            value = parse_value(name, text)
            if value is not None:
                validate_value(name, value)
        except ParameterError as exc:
            problems.append(f"{where}, column 'value': {exc}")
            continue
        values[int(line)] = value
    return values, problems


def _profile_problems(
    path: Path, frame: pd.DataFrame, values: Mapping[int, Any]
) -> tuple[dict[str, Profile], list[str]]:
    profiles: dict[str, Profile] = {}
    problems: list[str] = []
    if not set(COLUMNS) <= set(frame.columns):
        return profiles, problems
    for pid, rows in frame.groupby("profile", sort=False):
        first = int(rows.index[0])
        for column in ("display_name", "currency"):
            distinct = rows[column].unique()
            if len(distinct) > 1:
                lines = ", ".join(str(i) for i in rows.index[rows[column] != rows[column].iloc[0]])
                problems.append(
                    f"{path}: line {lines}, column {column!r}: profile {pid!r} has "
                    f"{column} {rows[column].iloc[0]!r} on line {first} but also "
                    f"{', '.join(repr(v) for v in distinct[1:])}; it must be the same on every row"
                )
        seen: dict[str, int] = {}
        given: dict[str, Any] = {}
        basis: dict[str, str] = {}
        for line, name, why in zip(rows.index, rows["parameter"], rows["basis"], strict=True):
            if name in seen:
                problems.append(
                    f"{path}: line {line}, column 'parameter': {name} appears again for "
                    f"profile {pid!r} (first on line {seen[name]})"
                )
                continue
            seen[name] = int(line)
            basis[name] = why
            if int(line) in values:
                given[name] = values[int(line)]
        missing = [n for n in REQUIRED_INPUTS if n not in seen]
        if missing:
            problems.append(
                f"{path}: line {first}, column 'parameter': profile {pid!r} lacks "
                f"{', '.join(missing)} (every model input needs one row)"
            )
        if len(given) < len(seen) or missing:
            continue  # value problems already reported
        facts = {k: given.pop(k) for k in list(given) if k in COMPANY_FACTS}
        given = {k: v for k, v in given.items() if v is not None or k not in EXTENSION_INPUTS}
        try:
            params = parameters_from_mapping(given)
        except ParameterError as exc:
            named = [n for n in seen if re.search(rf"\b{n}\b", str(exc))] or list(seen)[:1]
            lines = ", ".join(str(seen[n]) for n in named)
            problems.append(f"{path}: line {lines}, column 'value': profile {pid!r}: {exc}")
            continue
        profiles[str(pid)] = Profile(
            id=str(pid),
            display_name=str(rows["display_name"].iloc[0]),
            currency=str(rows["currency"].iloc[0]),
            parameters=params,
            basis=MappingProxyType(basis),
            **facts,
        )
    return profiles, problems


def load_profiles(path: str | Path | None = None) -> dict[str, Profile]:
    """Load and validate the company profiles.

    Parameters
    ----------
    path
        The CSV file; ``None`` (or ``""``) means ``data/company_profiles.csv``.

    Returns
    -------
    dict
        ``profile id -> Profile``, in file order.

    Raises
    ------
    DataValidationError
        Listing every problem at once, each naming the file, the CSV line and the column.
    """
    csv_path = Path(path) if path else paths.COMPANY_PROFILES
    frame, problems = _read_rows(csv_path)
    values, value_problems = _value_problems(csv_path, frame)
    problems += value_problems
    profiles, profile_problems = _profile_problems(csv_path, frame, values)
    problems += profile_problems
    if not problems and not profiles:
        problems.append(f"{csv_path}: no profile rows after the header")
    if problems:
        raise DataValidationError(csv_path, problems)
    return profiles


def get_profile(profiles: Mapping[str, Profile], name: str) -> Profile:
    """Return one profile, or raise ParameterError naming it and the valid ones."""
    try:
        return profiles[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, list(profiles), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ParameterError(
            f"unknown profile {name!r}{hint} (valid: {', '.join(profiles)})"
        ) from None


def profiles_table(profiles: Mapping[str, Profile]) -> pd.DataFrame:
    """One row per profile: id, display name, currency and a few headline inputs."""
    rows = [
        {
            "profile": p.id,
            "display_name": p.display_name,
            "currency": p.currency,
            "customers": p.parameters.customers,
            "revenue_per_customer": p.parameters.revenue_per_customer,
            "retention_rate": p.parameters.retention_rate,
        }
        for p in profiles.values()
    ]
    return pd.DataFrame(rows)


def assumptions_table(profile: Profile, used: Parameters | None = None) -> pd.DataFrame:
    """Every input's value and its source, for the report's assumptions table.

    Parameters
    ----------
    profile
        The company profile (gives each value's basis).
    used
        The parameters actually used (after a scenario or overrides); values that
        differ from the profile are marked as such.

    Returns
    -------
    DataFrame
        Columns ``parameter``, ``meaning``, ``value``, ``source`` (the recorded basis;
        ``assumption`` first when the basis is one) and ``status``.
    """
    used = used or profile.parameters
    base = profile.parameters.model_dump()
    rows = []
    for name, info in Parameters.model_fields.items():
        value = getattr(used, name)
        basis = profile.basis_of(name)
        changed = value != base[name]
        rows.append(
            {
                "parameter": name,
                "meaning": info.description or "",
                "value": "default" if value is None else value,
                "source": "set by the scenario or an override" if changed else basis,
                "status": (
                    "override"
                    if changed
                    else "assumption"
                    if basis.lower().startswith("assumption") or name not in profile.basis
                    else "public figure"
                ),
            }
        )
    return pd.DataFrame(rows)
