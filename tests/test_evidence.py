"""The evidence files as committed, and malformed copies of them."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from cxtradeoff import paths
from cxtradeoff.errors import DataValidationError
from cxtradeoff.evidence import (
    CUSTOMER_TOPICS,
    EVENT_KINDS,
    FORECAST_KINDS,
    REFERENCE_UNITS,
    REFERENCE_USES,
    STATUSES,
    SURVEY_TOPICS,
    TOPICS,
    UNITS,
    load_claims,
    load_events,
    load_experiments,
    load_forecasts,
    load_reference,
    load_surveys,
)

# The seed evidence lies beside the checkout (shared/seed/), where the team keeps it.
EVIDENCE_MD = next(
    (
        p
        for p in (
            paths.ROOT.parent / "shared" / "seed" / "EVIDENCE.md",
            Path("/work/shared/seed/EVIDENCE.md"),
        )
        if p.is_file()
    ),
    paths.ROOT.parent / "shared" / "seed" / "EVIDENCE.md",
)


def _table_rows(markdown: str, first_header_cell: str) -> int:
    """Number of body rows of the markdown table whose header starts with ``first_header_cell``."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header_cell}"))
    rows = 0
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows += 1
    return rows


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def modified_claims(tmp_path: Path, change: Callable[[list[list[str]]], None]) -> Path:
    rows = read_rows(paths.EVIDENCE_CLAIMS)
    change(rows)
    return write_rows(tmp_path / "evidence_claims.csv", rows)


def set_cell(rows: list[list[str]], row_id: str, column: str, value: str) -> None:
    col = rows[0].index(column)
    (row,) = (r for r in rows[1:] if r[0] == row_id)
    row[col] = value


def line_of(rows: list[list[str]], row_id: str) -> int:
    """CSV line of a row (no cell in these files spans lines; the header is line 1)."""
    return 1 + next(i for i, r in enumerate(rows) if r and r[0] == row_id)


def problems(loader: Callable[[Path], object], path: Path) -> list[str]:
    with pytest.raises(DataValidationError) as info:
        loader(path)
    return info.value.problems


# --------------------------------------------------------------------------- real files


def test_row_counts() -> None:
    assert len(load_claims()) == 12
    assert len(load_events()) == 7
    assert len(load_reference()) == 10
    assert len(load_forecasts()) == 7
    assert len(load_surveys()) == 8
    assert len(load_experiments()) == 5


@pytest.mark.skipif(not EVIDENCE_MD.is_file(), reason="the seed evidence file is not here")
def test_one_row_per_row_of_the_evidence_tables() -> None:
    text = EVIDENCE_MD.read_text(encoding="utf-8")
    assert len(load_claims()) == _table_rows(text, "id (suggested)")
    events = load_events()
    assert (events["cited_by"] == "article").sum() == _table_rows(text, "company")
    # the third table has six rows; three of them hold two figures each, one row per figure here
    assert _table_rows(text, "figure") == 6
    reference = load_reference()
    seed = reference[reference["id"] != "klarna_service_cost_fall"]  # added from the 2025 review
    assert len(seed.drop_duplicates(["source_publisher", "source_date"])) == 6


def test_claims_use_the_suggested_ids() -> None:
    claims = load_claims()
    assert claims["id"].tolist() == [
        "prefer_human_hubspot",
        "dislike_ai_hubspot",
        "prefer_human_verint",
        "open_to_ai_verint",
        "prefer_no_ai_gartner",
        "consider_switch_gartner",
        "self_service_only_gartner",
        "savings_mckinsey",
        "acquisition_vs_retention",
        "cso_existing_growth_gartner",
        "cso_retention_gartner",
        "qualtrics_opinionway",
    ]


def test_vocabularies_and_unique_ids_in_all_files() -> None:
    claims, events, reference = load_claims(), load_events(), load_reference()
    forecasts, surveys, experiments = load_forecasts(), load_surveys(), load_experiments()
    for frame in (claims, events, reference, forecasts, surveys, experiments):
        assert frame["id"].is_unique
        assert set(frame.get("status", pd.Series(dtype=str))) <= set(STATUSES)
    assert set(events["event_kind"]) <= set(EVENT_KINDS)
    assert set(forecasts["kind"]) == set(FORECAST_KINDS)
    assert set(surveys["topic"]) <= set(SURVEY_TOPICS)
    assert set(claims["unit"]) <= set(UNITS)
    assert set(claims["topic"]) <= set(TOPICS)
    assert set(reference["unit"]) <= set(REFERENCE_UNITS)
    assert set(reference["use"]) <= set(REFERENCE_USES)
    assert set(CUSTOMER_TOPICS) <= set(TOPICS)


def test_statuses_follow_the_checks_of_the_evidence() -> None:
    status = load_claims().set_index("id")["status"]
    assert status["prefer_human_hubspot"] == "wording differs"
    assert status["dislike_ai_hubspot"] == "wording differs"
    assert status["consider_switch_gartner"] == "wording differs"
    assert status["prefer_no_ai_gartner"] == "verified"
    assert status["self_service_only_gartner"] == "number differs"
    assert status["savings_mckinsey"] == "unverified"
    assert status["open_to_ai_verint"] == "unverified"
    assert status["qualtrics_opinionway"] == "qualitative"
    events = load_events().set_index("id")["status"]
    assert events["atlassian_layoffs"] == "number differs"
    assert events["salesforce_support_cuts"] == "verified"
    assert events["cba_voice_bot_reversal"] == "verified"
    assert events["klarna_headcount_2025"] == "secondary only"


def test_shares_are_fractions_and_ranges_are_ordered() -> None:
    claims = load_claims()
    shares = claims[claims["unit"] == "share"]
    for column in ("article_value", "source_value"):
        values = shares[column].dropna()
        assert ((values >= 0) & (values <= 1)).all()
    row = claims.set_index("id").loc["acquisition_vs_retention"]
    assert (row["unit"], row["article_value"], row["article_value_high"]) == ("multiple", 5, 25)
    gartner = claims.set_index("id").loc["prefer_no_ai_gartner"]
    assert gartner["sample_size"] == 5728
    assert gartner["source_date"] == "2024-07-09"


def test_every_checked_figure_names_its_source() -> None:
    claims = load_claims()
    checked = claims[claims["status"].isin(["verified", "wording differs", "number differs"])]
    assert checked["source_publisher"].notna().all()
    assert checked["source_value"].notna().all()
    links = claims["source_link"].dropna()
    assert all(re.match(r"^https://", link) for link in links)


def test_notes_explain_the_doubtful_claims() -> None:
    notes = load_claims().set_index("id")["note"]
    assert "Gartner" in notes["savings_mckinsey"] and "30%" in notes["savings_mckinsey"]
    assert "61%" in notes["prefer_human_verint"]
    assert "14%" in notes["self_service_only_gartner"]
    klarna = load_events().set_index("id").loc["klarna_cuts_rehire", "note"]
    assert "Two different 700s" in klarna and "2022" in klarna and "2024" in klarna


def test_loaders_accept_a_path(tmp_path: Path) -> None:
    copy = write_rows(tmp_path / "claims.csv", read_rows(paths.EVIDENCE_CLAIMS))
    assert load_claims(copy).equals(load_claims())
    assert load_claims(str(copy))["id"].tolist() == load_claims()["id"].tolist()


def test_code_does_not_write_data_files() -> None:
    before = {p: p.stat().st_mtime_ns for p in paths.DATA_DIR.glob("*.csv")}
    load_claims(), load_events(), load_reference()
    assert {p: p.stat().st_mtime_ns for p in paths.DATA_DIR.glob("*.csv")} == before


# --------------------------------------------------------------------------- malformed


def test_missing_column_is_named(tmp_path: Path) -> None:
    def drop_status(rows: list[list[str]]) -> None:
        col = rows[0].index("status")
        for row in rows:
            del row[col]

    (problem,) = problems(load_claims, modified_claims(tmp_path, drop_status))
    assert problem.startswith("evidence_claims.csv, line 1 (header): column 'status' is missing")


def test_share_above_one_is_named(tmp_path: Path) -> None:
    path = modified_claims(
        tmp_path, lambda r: set_cell(r, "prefer_no_ai_gartner", "article_value", "64")
    )
    line = line_of(read_rows(path), "prefer_no_ai_gartner")
    assert problems(load_claims, path) == [
        f"evidence_claims.csv, line {line}, column 'article_value': 64 is not a share between "
        "0 and 1 (the unit is 'share')",
        # 64 is no longer equal to the source's 0.64, which a verified claim requires
        f"evidence_claims.csv, line {line}, column 'source_value': 0.64 is not equal to "
        "article_value (the status is 'verified')",
    ]


def test_unknown_status_lists_the_vocabulary(tmp_path: Path) -> None:
    path = modified_claims(
        tmp_path, lambda r: set_cell(r, "savings_mckinsey", "status", "doubtful")
    )
    line = line_of(read_rows(path), "savings_mckinsey")
    assert problems(load_claims, path) == [
        f"evidence_claims.csv, line {line}, column 'status': 'doubtful' is not one of: verified, "
        "wording differs, number differs, secondary only, unverified, qualitative"
    ]


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = modified_claims(
        tmp_path,
        lambda r: set_cell(r, "cso_retention_gartner", "id", "cso_existing_growth_gartner"),
    )
    assert problems(load_claims, path) == [
        "evidence_claims.csv, line 11, column 'id': 'cso_existing_growth_gartner' is a duplicate; "
        "values must be unique (also on line 12)",
        "evidence_claims.csv, line 12, column 'id': 'cso_existing_growth_gartner' is a duplicate; "
        "values must be unique (also on line 11)",
    ]


def test_empty_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "workforce_events.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_events(path)
    assert str(path) in str(info.value)
    assert info.value.problems == [
        "workforce_events.csv: the workforce events file is empty; expected a header line of columns"
    ]


def test_missing_file_is_named(tmp_path: Path) -> None:
    (problem,) = problems(load_reference, tmp_path / "reference_figures.csv")
    assert problem.startswith("reference_figures.csv: the reference figures file does not exist")


def test_text_in_numeric_column_is_reported_as_text(tmp_path: Path) -> None:
    path = modified_claims(
        tmp_path, lambda r: set_cell(r, "prefer_no_ai_gartner", "sample_size", "about 5,700")
    )
    line = line_of(read_rows(path), "prefer_no_ai_gartner")
    assert problems(load_claims, path) == [
        f"evidence_claims.csv, line {line}, column 'sample_size': 'about 5,700' is text, but a "
        "whole number is expected"
    ]


def test_percent_sign_in_share_is_text(tmp_path: Path) -> None:
    path = modified_claims(
        tmp_path, lambda r: set_cell(r, "dislike_ai_hubspot", "source_value", "53%")
    )
    line = line_of(read_rows(path), "dislike_ai_hubspot")
    assert problems(load_claims, path) == [
        f"evidence_claims.csv, line {line}, column 'source_value': '53%' is text, but a number "
        "is expected"
    ]


def test_bad_date_and_bad_link(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        set_cell(rows, "prefer_no_ai_gartner", "source_date", "09/07/2024")
        set_cell(rows, "prefer_no_ai_gartner", "source_link", "gartner.com")

    path = modified_claims(tmp_path, change)
    line = line_of(read_rows(path), "prefer_no_ai_gartner")
    assert problems(load_claims, path) == [
        f"evidence_claims.csv, line {line}, column 'source_date': '09/07/2024' is not an ISO date "
        "(YYYY, YYYY-MM or YYYY-MM-DD)",
        f"evidence_claims.csv, line {line}, column 'source_link': 'gartner.com' is not a web "
        "address (http or https)",
    ]


def test_checked_status_needs_a_source(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        set_cell(rows, "self_service_only_gartner", "source_value", "")
        set_cell(rows, "self_service_only_gartner", "source_publisher", "")

    path = modified_claims(tmp_path, change)
    line = line_of(read_rows(path), "self_service_only_gartner")
    assert problems(load_claims, path) == [
        f"evidence_claims.csv, line {line}, column 'source_publisher': an empty cell is not a "
        "publisher (a checked status needs its source)",
        f"evidence_claims.csv, line {line}, column 'source_value': an empty cell is not a number "
        "(a checked status needs the source's figure)",
    ]


def test_several_problems_in_one_file_are_reported_at_once(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        rows[0].append("comment")
        for row in rows[1:]:
            row.append("")
        set_cell(rows, "prefer_human_hubspot", "article_value", "1.4")
        set_cell(rows, "dislike_ai_hubspot", "status", "checked")
        set_cell(rows, "prefer_no_ai_gartner", "sample_size", "many")
        set_cell(rows, "acquisition_vs_retention", "article_value_high", "2")
        set_cell(rows, "qualtrics_opinionway", "id", "prefer_human_hubspot")

    path = modified_claims(tmp_path, change)
    rows = read_rows(path)
    found = problems(load_claims, path)
    assert found == [
        "evidence_claims.csv, line 1 (header): unexpected column 'comment' (expected columns: "
        + ", ".join(rows[0][:-1])
        + ")",
        "evidence_claims.csv, line 2, column 'id': 'prefer_human_hubspot' is a duplicate; values "
        "must be unique (also on line 13)",
        "evidence_claims.csv, line 2, column 'article_value': 1.4 is not a share between 0 and 1 "
        "(the unit is 'share')",
        "evidence_claims.csv, line 3, column 'status': 'checked' is not one of: verified, "
        "wording differs, number differs, secondary only, unverified, qualitative",
        f"evidence_claims.csv, line {line_of(rows, 'prefer_no_ai_gartner')}, column "
        "'sample_size': 'many' is text, but a whole number is expected",
        f"evidence_claims.csv, line {line_of(rows, 'acquisition_vs_retention')}, column "
        "'article_value_high': 2 is not at least article_value (the high end of a range)",
        "evidence_claims.csv, line 13, column 'id': 'prefer_human_hubspot' is a duplicate; values "
        "must be unique (also on line 2)",
    ]


def test_events_verified_number_must_match(tmp_path: Path) -> None:
    rows = read_rows(paths.EVIDENCE_EVENTS)
    set_cell(rows, "sky_agent_cuts", "source_value", "1800")
    set_cell(rows, "atlassian_layoffs", "country", "Australia")
    path = write_rows(tmp_path / "workforce_events.csv", rows)
    assert problems(load_events, path) == [
        f"workforce_events.csv, line {line_of(rows, 'atlassian_layoffs')}, column 'country': "
        "'Australia' is not a two-letter ISO country code",
        f"workforce_events.csv, line {line_of(rows, 'sky_agent_cuts')}, column 'source_value': "
        "1800 is not equal to claim_value (the status is 'verified')",
    ]


def test_reference_unknown_use_and_negative_cost(tmp_path: Path) -> None:
    rows = read_rows(paths.REFERENCE_FIGURES)
    set_cell(rows, "cost_assisted_contact_gartner", "value", "-8.01")
    set_cell(rows, "assist_productivity_nber", "use", "assumption")
    path = write_rows(tmp_path / "reference_figures.csv", rows)
    assert problems(load_reference, path) == [
        f"reference_figures.csv, line {line_of(rows, 'cost_assisted_contact_gartner')}, column "
        "'value': -8.01 is not a cost of at least 0 (the unit is 'usd_per_contact')",
        f"reference_figures.csv, line {line_of(rows, 'assist_productivity_nber')}, column 'use': "
        "'assumption' is not one of: input, sanity_check, context",
    ]


# --------------------------------------------------------------------------- since the article


def test_events_since_the_article_carry_their_source() -> None:
    events = load_events().set_index("id")
    review = events[events["cited_by"] == "review"]
    assert set(review.index) == {
        "cba_voice_bot_reversal",
        "klarna_human_on_request_2025",
        "klarna_headcount_2025",
    }
    assert review["source_publisher"].notna().all() and review["source_link"].notna().all()
    cba = events.loc["cba_voice_bot_reversal"]
    assert (cba["event_kind"], cba["claim_value"], cba["country"]) == ("reversal", 45, "AU")
    assert "2,000 fewer calls a week" in cba["note"]
    klarna = events.loc["klarna_human_on_request_2025"]
    assert klarna["unit"] == "none" and pd.isna(klarna["claim_value"])
    assert "always a human" in klarna["note"] and "No churn figure" in klarna["note"]
    headcount = events.loc["klarna_headcount_2025"]
    assert headcount["claim_value"] == 2500 and "5,500" in headcount["claim"]
    # the article's events now name the source that was found for them
    for event_id in ("salesforce_support_cuts", "atlassian_layoffs"):
        assert events.loc[event_id, "source_link"].startswith("https://")


def test_forecasts_match_the_sources_found() -> None:
    forecasts = load_forecasts().set_index("id")
    assert forecasts.loc["gartner_no_f500_agentless_2028", "value"] == 0
    assert forecasts.loc["gartner_no_f500_agentless_2028", "source_date"] == "2025-09-10"
    rehire = forecasts.loc["gartner_rehire_2027"]
    assert (rehire["value"], rehire["target_year"], rehire["source_date"]) == (
        0.5,
        2027,
        "2026-02-03",
    )
    survey = forecasts.loc["gartner_cut_because_of_ai"]
    assert (survey["kind"], survey["value"], survey["sample_size"]) == ("leader survey", 0.2, 321)
    # seen only in write-ups: marked as such
    assert forecasts.loc["gartner_agentic_resolve_2029", "status"] == "secondary only"
    assert "McKinsey" in forecasts.loc["gartner_agentic_cost_2029", "note"]
    assert forecasts.loc[forecasts["kind"] == "forecast", "target_year"].notna().all()


def test_newer_surveys_mark_vendor_surveys() -> None:
    surveys = load_surveys().set_index("id")
    assert surveys["vendor_survey"].all()  # every newer survey comes from a CX vendor
    assert surveys.loc["qualtrics_2026_ai_no_benefit", "fieldwork"] == "2025-Q3"
    assert surveys.loc["five9_2026_repeat_after_handoff", "value"] == 0.83
    assert surveys.loc["acquire_bpo_2024_switch", "sample_size"] == 600
    # 53% of bad experiences, not of consumers; the 15% was not seen
    spend = surveys.loc["qualtrics_2024_cut_spending"]
    assert spend["status"] == "wording differs" and "15%" in spend["note"]
    claims = load_claims().set_index("id")
    assert claims.loc["prefer_human_hubspot", "vendor_survey"]
    assert not claims.loc["prefer_no_ai_gartner", "vendor_survey"]
    assert pd.isna(claims.loc["savings_mckinsey", "vendor_survey"])


def test_field_experiments_say_what_they_do_not_show() -> None:
    experiments = load_experiments().set_index("id")
    luo = experiments.loc["luo_chatbot_disclosure_2019"]
    assert (luo["value"], luo["sample_size"]) == (0.797, 6200)
    assert "not service contacts" in luo["does_not_show"]
    qje = experiments.loc["brynjolfsson_li_raymond_2025"]
    # the published paper's numbers, not the working paper's the review quoted
    assert (qje["value"], qje["sample_size"], qje["status"]) == (0.15, 5172, "number differs")
    gap = experiments.loc["de_mesquita_intention_gap_2023"]
    assert gap["sample_size"] == 821 and "no usable conversion ratio" in gap["does_not_show"]
    assert experiments["does_not_show"].str.len().gt(20).all()


def test_links_are_web_addresses_in_every_new_table() -> None:
    for frame in (load_forecasts(), load_surveys(), load_experiments(), load_events()):
        links = frame["source_link"].dropna()
        assert all(link.startswith("https://") for link in links)


def _modified(tmp_path: Path, source: Path, change: Callable[[list[list[str]]], None]) -> Path:
    rows = read_rows(source)
    change(rows)
    return write_rows(tmp_path / source.name, rows)


def test_bad_forecast_rows_are_named(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        set_cell(rows, "gartner_rehire_2027", "target_year", "by 2027")
        set_cell(rows, "gartner_no_f500_agentless_2028", "target_year", "")
        set_cell(rows, "gartner_keep_human_agents", "value", "95")

    path = _modified(tmp_path, paths.FORECASTS, change)
    rows = read_rows(path)
    assert problems(load_forecasts, path) == [
        f"forecasts.csv, line {line_of(rows, 'gartner_keep_human_agents')}, column 'value': 95 "
        "is not a share between 0 and 1 (the unit is 'share')",
        f"forecasts.csv, line {line_of(rows, 'gartner_no_f500_agentless_2028')}, column "
        "'target_year': an empty cell is not a year (a forecast needs the year it is about)",
        f"forecasts.csv, line {line_of(rows, 'gartner_rehire_2027')}, column 'target_year': "
        "'by 2027' is text, but a whole number is expected",
    ]


def test_bad_survey_rows_are_named(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        set_cell(rows, "five9_2026_prefer_human", "vendor_survey", "maybe")
        set_cell(rows, "five9_2026_prefer_human", "fieldwork", "summer 2026")
        set_cell(rows, "acquire_bpo_2024_switch", "topic", "loyalty")

    path = _modified(tmp_path, paths.CUSTOMER_SURVEYS, change)
    rows = read_rows(path)
    line = line_of(rows, "five9_2026_prefer_human")
    assert problems(load_surveys, path) == [
        f"customer_surveys.csv, line {line}, column 'vendor_survey': 'maybe' is not true or false",
        f"customer_surveys.csv, line {line}, column 'fieldwork': 'summer 2026' is not a date or "
        "a quarter (YYYY, YYYY-MM or YYYY-Q1..Q4)",
        f"customer_surveys.csv, line {line_of(rows, 'acquire_bpo_2024_switch')}, column 'topic': "
        "'loyalty' is not one of: preference_for_humans, attitude_to_ai, switching_risk, "
        "spending_after_bad_experience, transparency, handoff",
    ]


def test_bad_experiment_rows_are_named(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        set_cell(rows, "wirtz_switching_intent_2014", "value", "0.3")
        set_cell(rows, "de_mesquita_intention_gap_2023", "country", "Brazil")
        set_cell(rows, "luo_chatbot_disclosure_2019", "sample_size", "over 6,200")

    path = _modified(tmp_path, paths.FIELD_EXPERIMENTS, change)
    rows = read_rows(path)
    assert problems(load_experiments, path) == [
        f"field_experiments.csv, line {line_of(rows, 'luo_chatbot_disclosure_2019')}, column "
        "'sample_size': 'over 6,200' is text, but a whole number is expected",
        f"field_experiments.csv, line {line_of(rows, 'wirtz_switching_intent_2014')}, column "
        "'value': 0.3 is not empty (the unit is 'none')",
        f"field_experiments.csv, line {line_of(rows, 'de_mesquita_intention_gap_2023')}, column "
        "'country': 'Brazil' is not a two-letter ISO country code",
    ]


def test_bad_event_rows_are_named(tmp_path: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        set_cell(rows, "cba_voice_bot_reversal", "source_publisher", "")
        set_cell(rows, "cba_voice_bot_reversal", "event_kind", "u-turn")
        set_cell(rows, "klarna_human_on_request_2025", "claim_value", "700")

    path = _modified(tmp_path, paths.EVIDENCE_EVENTS, change)
    rows = read_rows(path)
    line = line_of(rows, "cba_voice_bot_reversal")
    assert problems(load_events, path) == [
        f"workforce_events.csv, line {line}, column 'event_kind': 'u-turn' is not one of: cut, "
        "planned cut, reversal",
        f"workforce_events.csv, line {line}, column 'source_publisher': an empty cell is not a "
        "publisher (an event found since the article needs its source)",
        f"workforce_events.csv, line {line_of(rows, 'klarna_human_on_request_2025')}, column "
        "'claim_value': 700 is not empty (the unit is 'none')",
    ]
