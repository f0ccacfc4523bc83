"""The rules that bind customer-service AI, and whether a scenario breaks one.

``data/service_rules.csv`` holds one row per rule and scope: a law that binds large
firms of any sector and small firms of some sectors is two rows. Each row says where
the rule applies (an ISO 3166-1 alpha-2 country code, or ``EU`` for every member state
of the Union), which firms it binds (sectors, consumer-facing or not, size thresholds
and how they combine), from when (in force, and bound after the adaptation period),
what it requires (machine-usable requirement codes and a sentence) and its source.
``data/README.md`` documents every column.

Everything here takes and returns plain values: a profile passes its jurisdiction,
staff and turnover, a date, and whether humans stay reachable, and gets back the rules
that bind it and whether a scenario is permitted.

When is a human "reachable"?
----------------------------
The rule that matters today is ``human_on_request`` (Spain's Law 10/2025): a customer
who asks for a person must get one, and an automated channel may not be the only one.
The model does not simulate individual requests; it carries the quality of the path to
a human in one number, ``escalation_mitigation`` (*h*: the share of the loyalty risk
removed by an easy path to a human). The decision rule, in
:func:`is_human_reachable`, is:

* a phase with **no AI** (``ai_resolution_share == 0``, the status quo) keeps humans
  reachable: every contact is handled by a person;
* a phase **with AI** keeps humans reachable when ``escalation_mitigation >= 0.5``
  (:data:`HUMAN_REACHABLE_MITIGATION`): the easy path to a person removes at least half
  of the risk, which it can only do if a customer who asks for a person gets one.

With the model's scenarios this gives: status quo and hybrid (*h* = 0.70) reachable;
full automation (*h* = 0.15) not reachable, and so neither is the first year of the
reversal scenario (full automation, then hybrid). The threshold is deliberately in the
middle: the scenario values sit far on either side of it, so the verdict does not hinge
on its exact value; and a firm that overrides *h* above one half is asserting the very
thing the law demands, an easy path to a person, which it must then provide. A scenario
with several phases is permitted only if every phase that runs while a rule binds is;
that bookkeeping belongs to the caller, who knows the phases and their dates.

Rules are bound from the end of their adaptation period (``applies_from``), the date
from which a breach can be sanctioned; before that (including between entry into force
and the end of adaptation) a scenario is permitted, and a caller planning years ahead
should ask about the dates the plan will run, not only today.

Examples
--------
>>> from datetime import date
>>> rules = load_rules()
>>> [r.id for r in binding_rules(rules, jurisdiction="ES", staff=4000, turnover=2e9,
...                              on=date(2027, 1, 1))]
['es_law_10_2025_large_firms', 'eu_ai_act_art_50_1']
>>> scenario_permitted(rules, jurisdiction="ES", staff=4000, turnover=2e9,
...                    on=date(2027, 1, 1), human_reachable=False).permitted
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pandera.pandas as pa

from cxtradeoff import paths
from cxtradeoff.datafiles import read_csv_validated, row_check
from cxtradeoff.evidence import (
    STATUSES,
    identifier_column,
    link_column,
    text_column,
)

__all__ = [
    "COMBINATIONS",
    "EU_MEMBERS",
    "HUMAN_REACHABLE_MITIGATION",
    "ISO_COUNTRIES",
    "JURISDICTIONS",
    "REQUIREMENTS",
    "REQUIREMENT_LABELS",
    "RULES_SCHEMA",
    "RULE_KINDS",
    "SECTORS",
    "Permission",
    "Rule",
    "binding_rules",
    "describe_firms",
    "is_human_reachable",
    "jurisdiction_name",
    "load_rules",
    "load_rules_table",
    "rules_from_table",
    "scenario_permitted",
]

#: ISO 3166-1 alpha-2 country codes (officially assigned)
ISO_COUNTRIES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)
#: the 27 member states of the European Union (ISO codes: Greece is GR)
EU_MEMBERS: frozenset[str] = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
#: where a rule may apply: a country, or the whole Union
JURISDICTIONS: frozenset[str] = ISO_COUNTRIES | {"EU"}
#: what kind of rule it is; a proposal never binds
RULE_KINDS: tuple[str, ...] = ("statute", "regulation", "case law", "proposal")
#: machine-usable requirements
REQUIREMENTS: tuple[str, ...] = (
    "human_on_request",
    "ai_disclosure",
    "call_answer_time",
    "complaint_deadline",
    "chatbot_liability",
)
#: each requirement in words, for reports
REQUIREMENT_LABELS: Mapping[str, str] = {
    "human_on_request": "a person on request",
    "ai_disclosure": "say it is an AI",
    "call_answer_time": "calls answered quickly",
    "complaint_deadline": "complaints answered in time",
    "chatbot_liability": "liable for what the chatbot says",
}
#: sectors a rule may be limited to
SECTORS: tuple[str, ...] = ("utilities", "passenger_transport", "postal", "telecom", "financial")
_SECTOR_LABELS: Mapping[str, str] = {
    "utilities": "water, gas and electricity",
    "passenger_transport": "passenger transport",
    "postal": "postal services",
    "telecom": "telecoms",
    "financial": "financial services",
}
#: how several size thresholds combine: any one is enough, or all are needed
COMBINATIONS: tuple[str, ...] = ("any", "all")
#: escalation mitigation at or above which an AI phase keeps humans reachable
HUMAN_REACHABLE_MITIGATION: float = 0.5

_FULL_DATE = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
_THRESHOLDS = ("staff_at_least", "turnover_above", "balance_sheet_above")
_MONEY = ("turnover_above", "balance_sheet_above")
_NAMES: Mapping[str, str] = {
    "EU": "European Union",
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "BR": "Brazil",
    "CA": "Canada",
    "CH": "Switzerland",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HR": "Croatia",
    "HU": "Hungary",
    "IE": "Ireland",
    "IT": "Italy",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MT": "Malta",
    "NL": "Netherlands",
    "NO": "Norway",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SE": "Sweden",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "US": "United States",
}


def _codes_in(column: str, allowed: Iterable[str], *, what: str) -> pa.Check:
    """Every ``;``-separated code of ``column`` is one of ``allowed``."""
    allowed = tuple(allowed)

    def ok(df: pd.DataFrame) -> pd.Series:
        return df[column].map(
            lambda cell: (
                pd.isna(cell) or all(code.strip() in allowed for code in str(cell).split(";"))
            )
        )

    return row_check(
        column,
        ok,
        expected=f"a list of {what} separated by ';' (from: {', '.join(allowed)})",
        name=f"{column} codes",
    )


def _any_threshold(df: pd.DataFrame) -> pd.Series:
    return df[list(_THRESHOLDS)].notna().any(axis=1)


RULES_SCHEMA = pa.DataFrameSchema(
    {
        "id": identifier_column(),
        "name": text_column(),
        "kind": text_column(pa.Check.isin(RULE_KINDS)),
        "jurisdiction": text_column(
            pa.Check.isin(
                sorted(JURISDICTIONS),
                error="an ISO 3166-1 alpha-2 country code (ES, FR, DE...) or EU",
            )
        ),
        "sectors": text_column(nullable=True),
        "consumers_only": pa.Column(bool, coerce=True),
        "staff_at_least": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "turnover_above": pa.Column(float, pa.Check.ge(0), nullable=True),
        "balance_sheet_above": pa.Column(float, pa.Check.ge(0), nullable=True),
        "currency": text_column(
            pa.Check.str_matches(r"^[A-Z]{3}$", error="an ISO 4217 currency code (EUR, USD...)"),
            nullable=True,
        ),
        "thresholds_combine": text_column(pa.Check.isin(COMBINATIONS), nullable=True),
        "in_force": text_column(
            pa.Check.str_matches(_FULL_DATE, error="a date (YYYY-MM-DD)"), nullable=True
        ),
        "applies_from": text_column(
            pa.Check.str_matches(_FULL_DATE, error="a date (YYYY-MM-DD)"), nullable=True
        ),
        "requirements": text_column(nullable=True),
        "requirement_text": text_column(),
        "source_publisher": text_column(),
        "source_title": text_column(),
        "source_date": text_column(
            pa.Check.str_matches(
                r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$",
                error="an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)",
            ),
            nullable=True,
        ),
        "source_link": link_column(),
        "status": text_column(pa.Check.isin(STATUSES)),
        "note": text_column(nullable=True),
    },
    checks=[
        _codes_in("sectors", SECTORS, what="sectors"),
        _codes_in("requirements", REQUIREMENTS, what="requirements"),
        row_check(
            "requirements",
            lambda df: (df["kind"] == "proposal") | df["requirements"].notna(),
            expected="at least one requirement (only a proposal may have none)",
            name="requirements required",
            ignore_missing=False,
        ),
        row_check(
            "in_force",
            lambda df: (df["kind"] == "proposal") | df["in_force"].notna(),
            expected="a date (only a proposal may have no date in force)",
            name="in_force required",
            ignore_missing=False,
        ),
        row_check(
            "in_force",
            lambda df: (df["kind"] != "proposal") | df["in_force"].isna(),
            expected="empty (a proposal is not in force)",
            name="proposal not in force",
        ),
        row_check(
            "applies_from",
            lambda df: pd.Series(
                [
                    pd.isna(start) or pd.isna(end) or str(end) >= str(start)
                    for start, end in zip(df["in_force"], df["applies_from"], strict=True)
                ],
                index=df.index,
            ),
            expected="on or after in_force (the end of the adaptation period)",
            name="applies_from after in_force",
        ),
        row_check(
            "currency",
            lambda df: df[list(_MONEY)].isna().all(axis=1) | df["currency"].notna(),
            expected="a currency (a turnover or balance-sheet threshold needs one)",
            name="currency required",
            ignore_missing=False,
        ),
        row_check(
            "thresholds_combine",
            lambda df: ~_any_threshold(df) | df["thresholds_combine"].notna(),
            expected="any or all (the rule has size thresholds)",
            name="combination required",
            ignore_missing=False,
        ),
        row_check(
            "thresholds_combine",
            lambda df: _any_threshold(df) | df["thresholds_combine"].isna(),
            expected="empty (the rule has no size threshold)",
            name="no combination without thresholds",
        ),
    ],
    strict=True,
    name="service rules",
)


@dataclass(frozen=True)
class Rule:
    """One rule and the firms it binds (a row of ``data/service_rules.csv``)."""

    id: str
    name: str
    kind: str
    jurisdiction: str
    sectors: tuple[str, ...]
    consumers_only: bool
    staff_at_least: int | None
    turnover_above: float | None
    balance_sheet_above: float | None
    currency: str | None
    thresholds_combine: str | None
    in_force: date | None
    applies_from: date | None
    requirements: tuple[str, ...]
    requirement_text: str
    source_publisher: str
    source_title: str
    source_link: str | None
    status: str

    @property
    def binds_from(self) -> date | None:
        """First day a breach can be sanctioned: the end of adaptation, else entry into force."""
        return self.applies_from or self.in_force

    def covers(self, jurisdiction: str) -> bool:
        """Whether the rule applies in ``jurisdiction`` (an EU rule covers every member state)."""
        if self.jurisdiction == jurisdiction:
            return True
        return self.jurisdiction == "EU" and jurisdiction in EU_MEMBERS

    def binds_firm(
        self,
        *,
        staff: int,
        turnover: float,
        balance_sheet: float | None = None,
        sector: str | None = None,
        sells_to_consumers: bool = True,
        currency: str = "EUR",
    ) -> bool:
        """Whether the rule binds a firm of this size and sector (wherever and whenever)."""
        if self.sectors and sector not in self.sectors:
            return False
        if self.consumers_only and not sells_to_consumers:
            return False
        met: list[bool] = []
        if self.staff_at_least is not None:
            met.append(staff >= self.staff_at_least)
        money = ((self.turnover_above, turnover), (self.balance_sheet_above, balance_sheet))
        if any(limit is not None for limit, _ in money) and currency != self.currency:
            raise ValueError(
                f"rule {self.id!r} sets its thresholds in {self.currency}, but the firm's "
                f"figures are in {currency}: convert them to {self.currency} first"
            )
        for limit, value in money:
            if limit is not None:
                met.append(value is not None and value > limit)
        if not met:
            return True
        return any(met) if self.thresholds_combine == "any" else all(met)


class Permission(NamedTuple):
    """Whether a scenario is permitted, and the name of the rule it breaks if not."""

    permitted: bool
    rule: str | None


def _path(path: str | Path | None) -> Path:
    return paths.SERVICE_RULES if path is None else Path(path)


def load_rules_table(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the rules file as a table (for reports).

    Parameters
    ----------
    path
        The CSV file; defaults to ``data/service_rules.csv`` of the project.

    Returns
    -------
    pandas.DataFrame
        One row per rule and scope, columns as in ``data/README.md``.

    Raises
    ------
    DataValidationError
        Listing every problem in the file (unknown jurisdiction, text in a numeric
        threshold, a threshold without currency...), by line and column.
    """
    return read_csv_validated(_path(path), RULES_SCHEMA, what="service rules")


def _none(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


def _codes(cell: Any) -> tuple[str, ...]:
    cell = _none(cell)
    return () if cell is None else tuple(code.strip() for code in str(cell).split(";"))


def _date(cell: Any) -> date | None:
    cell = _none(cell)
    return None if cell is None else date.fromisoformat(str(cell))


def rules_from_table(table: pd.DataFrame) -> tuple[Rule, ...]:
    """Turn a validated rules table into :class:`Rule` objects, in file order."""
    rules = []
    for row in table.to_dict("records"):
        staff = _none(row["staff_at_least"])
        turnover = _none(row["turnover_above"])
        balance = _none(row["balance_sheet_above"])
        rules.append(
            Rule(
                id=row["id"],
                name=row["name"],
                kind=row["kind"],
                jurisdiction=row["jurisdiction"],
                sectors=_codes(row["sectors"]),
                consumers_only=bool(row["consumers_only"]),
                staff_at_least=None if staff is None else int(staff),
                turnover_above=None if turnover is None else float(turnover),
                balance_sheet_above=None if balance is None else float(balance),
                currency=_none(row["currency"]),
                thresholds_combine=_none(row["thresholds_combine"]),
                in_force=_date(row["in_force"]),
                applies_from=_date(row["applies_from"]),
                requirements=_codes(row["requirements"]),
                requirement_text=row["requirement_text"],
                source_publisher=row["source_publisher"],
                source_title=row["source_title"],
                source_link=_none(row["source_link"]),
                status=row["status"],
            )
        )
    return tuple(rules)


def load_rules(path: str | Path | None = None) -> tuple[Rule, ...]:
    """Load, validate and return the rules as :class:`Rule` objects.

    Parameters
    ----------
    path
        The CSV file; defaults to ``data/service_rules.csv`` of the project.

    Returns
    -------
    tuple of Rule

    Raises
    ------
    DataValidationError
        When the file breaks its schema (see :func:`load_rules_table`).
    """
    return rules_from_table(load_rules_table(path))


def _check_jurisdiction(jurisdiction: str) -> None:
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(
            f"unknown jurisdiction {jurisdiction!r}: expected an ISO 3166-1 alpha-2 country "
            "code (ES, FR, DE...) or EU"
        )


def binding_rules(
    rules: Iterable[Rule],
    *,
    jurisdiction: str,
    staff: int,
    turnover: float,
    on: date,
    balance_sheet: float | None = None,
    sector: str | None = None,
    sells_to_consumers: bool = True,
    currency: str = "EUR",
) -> list[Rule]:
    """The rules that bind a firm on a given date.

    A rule binds when it covers the jurisdiction (an ``EU`` rule covers every member
    state), the firm meets its scope (sector, consumer-facing, size thresholds combined
    as the rule says) and ``on`` is on or after the end of its adaptation period.
    Proposals never bind.

    Parameters
    ----------
    rules
        From :func:`load_rules`.
    jurisdiction
        Where the firm serves its customers: an ISO 3166-1 alpha-2 code, or ``EU``.
    staff
        Headcount (people employed, group level where the rule counts groups).
    turnover
        Annual turnover, in ``currency``.
    on
        The date at which the scenario would run.
    balance_sheet
        Balance-sheet total, in ``currency``; ``None`` when unknown (that threshold is
        then taken as not met).
    sector
        One of :data:`SECTORS`, or ``None`` for any other sector: rules limited to
        listed sectors then do not bind.
    sells_to_consumers
        Whether the firm sells mainly to consumers (some rules bind only those).
    currency
        ISO 4217 code of ``turnover`` and ``balance_sheet``; must match the rule's.

    Returns
    -------
    list of Rule
        In file order.

    Raises
    ------
    ValueError
        An unknown jurisdiction, or money figures in another currency than a rule's.
    """
    _check_jurisdiction(jurisdiction)
    bound = []
    for rule in rules:
        start = rule.binds_from
        if rule.kind == "proposal" or start is None or on < start:
            continue
        if not rule.covers(jurisdiction):
            continue
        if rule.binds_firm(
            staff=staff,
            turnover=turnover,
            balance_sheet=balance_sheet,
            sector=sector,
            sells_to_consumers=sells_to_consumers,
            currency=currency,
        ):
            bound.append(rule)
    return bound


def scenario_permitted(
    rules: Iterable[Rule],
    *,
    jurisdiction: str,
    staff: int,
    turnover: float,
    on: date,
    human_reachable: bool,
    balance_sheet: float | None = None,
    sector: str | None = None,
    sells_to_consumers: bool = True,
    currency: str = "EUR",
) -> Permission:
    """Whether a scenario is lawful for a firm on a date.

    A scenario that leaves humans hard to reach (``human_reachable=False``, see
    :func:`is_human_reachable`) breaks any binding rule that requires
    ``human_on_request``. Other requirements (disclosure, answer times, liability)
    are obligations a scenario can meet at some cost, not grounds to rule it out.

    Parameters
    ----------
    rules, jurisdiction, staff, turnover, on, balance_sheet, sector, sells_to_consumers, currency
        As for :func:`binding_rules`.
    human_reachable
        Whether a customer who asks for a person gets one in this scenario.

    Returns
    -------
    Permission
        ``(True, None)``, or ``(False, name of the first rule broken)``; it unpacks as
        a pair.

    Examples
    --------
    >>> from datetime import date
    >>> scenario_permitted(load_rules(), jurisdiction="ES", staff=40, turnover=5e6,
    ...                    on=date(2027, 1, 1), human_reachable=False)
    Permission(permitted=True, rule=None)
    """
    if human_reachable:
        _check_jurisdiction(jurisdiction)
        return Permission(True, None)
    for rule in binding_rules(
        rules,
        jurisdiction=jurisdiction,
        staff=staff,
        turnover=turnover,
        on=on,
        balance_sheet=balance_sheet,
        sector=sector,
        sells_to_consumers=sells_to_consumers,
        currency=currency,
    ):
        if "human_on_request" in rule.requirements:
            return Permission(False, rule.name)
    return Permission(True, None)


def is_human_reachable(*, ai_resolution_share: float, escalation_mitigation: float) -> bool:
    """The decision rule: does a scenario phase keep a person within a customer's reach?

    No AI (``ai_resolution_share == 0``): yes. With AI: when ``escalation_mitigation``
    is at least :data:`HUMAN_REACHABLE_MITIGATION` (the module docstring argues why).

    Examples
    --------
    >>> is_human_reachable(ai_resolution_share=0.4, escalation_mitigation=0.70)  # hybrid
    True
    >>> is_human_reachable(ai_resolution_share=0.6, escalation_mitigation=0.15)  # full
    False
    >>> is_human_reachable(ai_resolution_share=0.0, escalation_mitigation=0.0)  # status quo
    True
    """
    if ai_resolution_share <= 0:
        return True
    return escalation_mitigation >= HUMAN_REACHABLE_MITIGATION


def jurisdiction_name(code: str) -> str:
    """A jurisdiction in words: ``"ES"`` gives ``"Spain"``; unknown names give the code."""
    return _NAMES.get(code, code)


def _money(amount: float, currency: str | None) -> str:
    if amount >= 1e9 and amount % 1e8 == 0:
        text = f"{amount / 1e9:g} billion"
    elif amount >= 1e6:
        text = f"{amount / 1e6:g} million"
    else:
        text = f"{amount:,.0f}"
    return f"{currency or ''} {text}".strip()


def describe_firms(rule: Rule) -> str:
    """Which firms a rule binds, in words (for reports).

    Examples
    --------
    >>> print(describe_firms(load_rules()[0]))
    Firms selling mainly to consumers with at least 250 staff, or turnover above EUR 50 million, or balance sheet above EUR 43 million (any one is enough)
    """
    parts = []
    if rule.staff_at_least is not None:
        parts.append(f"at least {rule.staff_at_least:,} staff")
    if rule.turnover_above is not None:
        parts.append(f"turnover above {_money(rule.turnover_above, rule.currency)}")
    if rule.balance_sheet_above is not None:
        parts.append(f"balance sheet above {_money(rule.balance_sheet_above, rule.currency)}")
    who = "Firms selling mainly to consumers" if rule.consumers_only else "Firms"
    if rule.sectors:
        sectors = [_SECTOR_LABELS.get(s, s) for s in rule.sectors]
        listed = ", ".join(sectors[:-1]) + " and " + sectors[-1] if len(sectors) > 1 else sectors[0]
        who = f"{who} in {listed}"
    if not parts:
        return f"{who}, whatever their size" if rule.sectors else "Every firm, whatever its size"
    joiner = ", or " if rule.thresholds_combine == "any" else ", and "
    text = f"{who} with {joiner.join(parts)}"
    if len(parts) > 1:
        text += " (any one is enough)" if rule.thresholds_combine == "any" else " (all needed)"
    return text
