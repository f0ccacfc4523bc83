"""Portfolios: one configuration entry for many units, validated whole; the roll-up; the
synthetic portfolio of the benchmarks."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import load_make_portfolio
from cxtradeoff.errors import ConfigError
from cxtradeoff.paths import COMPANY_PROFILES, ROOT
from cxtradeoff.pipeline.config import load_config, parse_config

NOTEBOOK = "notebooks/02-savings-vs-loyalty.ipynb"


make_portfolio = load_make_portfolio()


def _entry(**portfolio: object) -> dict:
    block = {"name": "group", "profiles": "data/company_profiles.csv", **portfolio}
    return {"name": "group-{slug}", "notebook": NOTEBOOK, "inputs": ["data/service_rules.csv"],
            "title": "Savings versus loyalty: {display_name}", "portfolio": block}  # fmt: skip


def _parse(*entries: dict, root: Path = ROOT):
    return parse_config({"reports": list(entries)}, path=root / "reports.yaml", root=root)


def _problems(*entries: dict) -> str:
    with pytest.raises(ConfigError) as info:
        _parse(*entries)
    return str(info.value)


def _profile_ids() -> list[str]:
    with COMPANY_PROFILES.open(encoding="utf-8") as fh:
        return list(dict.fromkeys(row["profile"] for row in csv.DictReader(fh)))


# --------------------------------------------------------------------------- expansion


def test_a_portfolio_expands_to_one_report_per_unit_and_a_roll_up() -> None:
    config = _parse(_entry())
    ids = _profile_ids()
    units = [f"group-{p.replace('_', '-')}" for p in ids]
    assert [r.name for r in config.reports] == [*units, "group"]
    by_name = config.by_name()
    bank = by_name["group-retail-bank"]
    assert bank.profile == "retail_bank"
    assert bank.title == "Savings versus loyalty: Retail bank (illustrative)"
    assert bank.parameters["profile"] == "retail_bank"
    # the notebook reads the file from its own folder
    assert bank.parameters["profiles_path"] == "../data/company_profiles.csv"
    assert [p.name for p in bank.inputs] == ["service_rules.csv", "company_profiles.csv"]
    assert set(bank.input_digests) == {"data/company_profiles.csv"}
    rollup = by_name["group"]
    assert rollup.notebook == ROOT / "notebooks" / "07-portfolio.ipynb"
    assert rollup.depends_on == units and rollup.reads_results
    assert rollup.title == f"Portfolio group: {len(ids)} units"
    assert rollup.parameters["title"] == rollup.title
    # each unit knows its roll-up (the e-mail sends the roll-up for them); nothing else does
    assert {by_name[u].unit_of for u in units} == {"group"} and rollup.unit_of is None
    plain = _parse({"name": "solo", "notebook": NOTEBOOK}).by_name()["solo"]
    assert plain.unit_of is None


@pytest.mark.parametrize(
    ("where", "kept"),
    [
        ({"currency": "USD"}, {"b2b_software", "fintech"}),
        ({"profile": "*telecom"}, {"telecom", "spanish_telecom"}),
        ({"jurisdiction": ["ES", "SE"]}, {"spanish_telecom", "fintech"}),
        ({"customers": {"min": 10_000_000}}, {"fintech", "spanish_telecom"}),
        ({"sells_to_consumers": False}, {"b2b_software"}),
        ({"currency": "EUR", "customers": {"max": 5_000_000}}, {"retail_bank", "ecommerce"}),
    ],
)  # fmt: skip
def test_a_filter_keeps_the_units_it_matches(where: dict, kept: set[str]) -> None:
    config = _parse(_entry(where=where))
    assert {r.profile for r in config.reports if r.profile} == kept


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"sektor": "telecom"},
         "portfolio 'group', field 'portfolio.where.sektor': data/company_profiles.csv has no "
         "column or parameter 'sektor'"),
        ({"sector": "mining"},
         "portfolio 'group', field 'portfolio.where': no profile of data/company_profiles.csv matches"),
        ({"display_name": {"min": 1}},
         "portfolio 'group', field 'portfolio.where.display_name': a range needs numbers"),
        ({"customers": {"least": 1}},
         "portfolio 'group', field 'portfolio.where.customers': a range is {min: NUMBER, max: NUMBER}"),
        ("sector == telecom", "portfolio 'group', field 'portfolio.where': expected a mapping"),
    ],
)  # fmt: skip
def test_a_bad_filter_is_rejected_by_name(where: object, expected: str) -> None:
    message = _problems(_entry(where=where))
    assert expected in message
    assert "1 problem(s)" in message


def test_a_clash_of_names_is_rejected_by_name() -> None:
    telecom = {"name": "telecom", "notebook": NOTEBOOK}
    message = _problems(telecom, {**_entry(), "name": "{slug}"})
    assert ("portfolio 'group', field 'name': unit 'telecom' makes the report name 'telecom', "
            "which report 'telecom' has already") in message  # fmt: skip
    message = _problems({**_entry(), "name": "unit"})
    assert ("portfolio 'group', field 'name': units 'telecom', 'retail_bank', 'ecommerce' and "
            "3 more all make the report name 'unit'") in message  # fmt: skip
    message = _problems({**_entry(), "name": "{display_name}"})
    assert "unit 'telecom' makes 'Telecom operator (illustrative)' (and 5 more units" in message
    message = _problems({**_entry(name="group-telecom")})
    assert ("portfolio 'group-telecom', field 'portfolio.name': the roll-up report's name "
            "'group-telecom' is taken by its unit 'telecom'") in message  # fmt: skip
    # two portfolios over the same file, with the same names
    second = {**_entry(name="other"), "name": "group-{slug}"}
    assert "which a unit of portfolio 'group' has already" in _problems(_entry(), second)


def test_what_the_units_share_is_checked_once_against_the_portfolio() -> None:
    message = _problems(
        {**_entry(), "parameters": {"drawz": 10, "profile": "x"}, "title": "{sectr}"}
    )
    assert "portfolio 'group' (every unit), field 'parameters.drawz': " in message
    assert (
        "portfolio 'group', field 'parameters.profile': set for each unit by the portfolio"
        in message
    )
    assert "portfolio 'group', field 'title': no {sectr} to fill in" in message
    assert "3 problem(s)" in message  # not one per unit
    message = _problems({**_entry(), "notebook": "notebooks/03-comparison.ipynb"})
    assert ("portfolio 'group', field 'notebook': notebooks/03-comparison.ipynb declares no "
            "'profile' parameter") in message  # fmt: skip
    message = _problems(_entry(profiles="data/none.csv", colour="red"))
    assert "portfolio 'group': unknown field 'portfolio.colour'" in message
    assert "portfolio 'group', field 'portfolio.profiles': data/none.csv does not exist" in message
    message = _problems(_entry(profiles="data/service_rules.csv"))
    assert "field 'portfolio.profiles': " in message and "not a profiles file" in message


def test_editing_one_unit_rebuilds_that_unit_and_the_roll_up_alone(tmp_path: Path) -> None:
    from cxtradeoff.pipeline.inputs import report_inputs
    from cxtradeoff.pipeline.plan import Previous, make_plan

    for folder in ("notebooks", "data"):
        (tmp_path / folder).mkdir()
    for name in ("02-savings-vs-loyalty.ipynb", "07-portfolio.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    shutil.copy(ROOT / "data" / "service_rules.csv", tmp_path / "data")
    profiles = tmp_path / "data" / "company_profiles.csv"
    shutil.copy(COMPANY_PROFILES, profiles)

    def plan(previous: dict[str, Previous]):
        config = _parse(_entry(), root=tmp_path)
        inputs = {s.name: report_inputs(s, root=tmp_path, shared={}) for s in config.reports}
        outputs = frozenset(f"{s.name}.html" for s in config.reports)
        return make_plan(config.reports, inputs=inputs, previous=previous, existing=outputs,
                         formats=("html",))  # fmt: skip

    first = plan({})
    built = {n: Previous("ok", key, (f"{n}.html",)) for n, key in first.keys.items()}
    assert plan(built).todo == []
    text = profiles.read_text(encoding="utf-8")
    profiles.write_text(text.replace("fintech,Fintech shaped on Klarna's published figures,USD,"
                                     "revenue_per_customer,35,",
                                     "fintech,Fintech shaped on Klarna's published figures,USD,"
                                     "revenue_per_customer,36,"), encoding="utf-8")  # fmt: skip
    assert {s.name for s in plan(built).todo} == {"group-fintech", "group"}


# --------------------------------------------------------------------------- synthetic


def _synthetic_config(profiles: Path, *, name: str, root: Path) -> dict:
    """The configuration ``make_portfolio.py`` writes for ``profiles``, read back, with the
    project's notebooks and rules file (the project lives elsewhere than ``root``)."""
    raw = yaml.safe_load(make_portfolio.config_text(profiles, name=name, root=root))
    raw["reports"][0]["notebook"] = str(ROOT / NOTEBOOK)
    raw["reports"][0]["inputs"] = [str(ROOT / "data" / "service_rules.csv")]
    raw["reports"][0]["portfolio"]["notebook"] = str(ROOT / "notebooks" / "07-portfolio.ipynb")
    return raw


def test_a_synthetic_portfolio_is_marked_synthetic_valid_and_reproducible(tmp_path: Path) -> None:
    from cxtradeoff.profiles import load_profiles

    out = make_portfolio.write_portfolio(7, seed=3, out=tmp_path / "p.csv")
    profiles = load_profiles(out)  # every value in range, every cross-check holds
    assert list(profiles) == [f"unit_{i:03d}" for i in range(1, 8)]
    assert all("synthetic" in p.display_name for p in profiles.values())
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(row["basis"].startswith("synthetic:") for row in rows)
    again = make_portfolio.write_portfolio(7, seed=3, out=tmp_path / "q.csv")
    assert again.read_bytes() == out.read_bytes()
    assert (
        make_portfolio.write_portfolio(7, seed=4, out=tmp_path / "r.csv").read_bytes()
        != out.read_bytes()
    )
    # its configuration expands to one report per unit and the roll-up
    config_file = tmp_path / "reports.yaml"
    raw = _synthetic_config(out, name="syn", root=tmp_path)
    config = parse_config(raw, path=config_file, root=tmp_path)
    assert [r.name for r in config.reports][:2] == ["syn-unit-001", "syn-unit-002"]
    assert len(config.reports) == 8 and config.reports[-1].name == "syn"


def test_the_committed_configuration_has_no_portfolio_and_still_loads() -> None:
    """The default report set is unchanged by this feature."""
    config = load_config(ROOT / "reports.yaml")
    assert all(not r.input_digests for r in config.reports)


# --------------------------------------------------------------------------- roll-up


@pytest.fixture(scope="module")
def unit_results():
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.results import build_results

    profiles = load_profiles()
    scenarios = ["status_quo", "hybrid", "full_automation"]
    return [build_results(profiles[p], scenarios, draws=1000, seed=5)
            for p in ("telecom", "retail_bank", "fintech", "ecommerce")]  # fmt: skip


def test_the_roll_up_ranks_totals_and_finds_the_least_certain(unit_results) -> None:
    from cxtradeoff import portfolio

    frame = portfolio.portfolio_frame(unit_results)
    assert list(frame["profile"]) == ["telecom", "retail_bank", "fintech", "ecommerce"]
    ranked = portfolio.ranked(frame)
    assert list(ranked["npv_mean"]) == sorted(frame["npv_mean"], reverse=True)
    doubtful = portfolio.least_certain(frame, 2)
    assert list(doubtful["p_best"]) == sorted(frame["p_best"])[:2]
    totals = portfolio.totals(frame).set_index("currency")
    eur = frame[frame["currency"] == "EUR"]
    assert totals.loc["EUR", "units"] == 3 and totals.loc["USD", "units"] == 1
    assert totals.loc["EUR", "npv_mean"] == pytest.approx(eur["npv_mean"].sum())
    summary = portfolio.portfolio_summary(frame)
    assert summary.startswith("Of 4 units, the analysis recommends")
    assert "In USD (1 unit)" in summary and "In EUR (3 units)" in summary
    assert "least certain for" in summary


def test_the_roll_up_tables_escape_names_and_word_numbers_as_everywhere(unit_results) -> None:
    from cxtradeoff import portfolio
    from cxtradeoff.formatting import chance, money

    hostile = unit_results[0].model_copy(update={"display_name": "<script>alert(1)</script>"})
    frame = portfolio.portfolio_frame([hostile, *unit_results[1:]])
    for html in (portfolio.ranking_table_html(frame), portfolio.least_certain_table_html(frame),
                 portfolio.totals_table_html(frame)):  # fmt: skip
        assert "<script>" not in html
    ranking = portfolio.ranking_table_html(frame)
    assert "&lt;script&gt;" in ranking
    head = hostile.headline
    assert money(head.npv_mean, hostile.currency) in ranking and chance(head.p_loss) in ranking
    assert ranking.count("</tr>") == 5  # header and four units
    assert portfolio.ranking_table_html(frame, limit=2).count("</tr>") == 3


def test_the_roll_up_refuses_results_of_another_contract(tmp_path: Path) -> None:
    from cxtradeoff import portfolio
    from cxtradeoff.errors import DataValidationError

    bad = tmp_path / "x.results.json"
    bad.write_text('{"schema_version": 1}')
    with pytest.raises(DataValidationError, match="rebuild"):
        portfolio.load_units([bad])
    with pytest.raises(DataValidationError, match="no results file given"):
        portfolio.load_units([])


# --------------------------------------------------------------------------- the roll-up in print

ROLL_UP_HEADINGS = (
    "Totals by currency",
    "Where the call is least certain",
    "How sure is each unit's call?",
    "Units ranked by expected net present value",
)


@pytest.mark.slow
def test_the_roll_up_prints_without_overlaps_orphaned_headings_or_half_empty_pages(
    tmp_path: Path,
) -> None:
    """The roll-up PDF as a director gets it, for a portfolio of 16 units (several pages,
    units whose points lie together on the certainty chart): read back with printcheck
    like every report."""
    from cxtradeoff import printcheck
    from cxtradeoff.cli import main
    from cxtradeoff.contracts import load_manifest

    profiles = make_portfolio.write_portfolio(16, seed=5, out=tmp_path / "data" / "p.csv")
    config = tmp_path / "reports.yaml"
    config.write_text(yaml.safe_dump(_synthetic_config(profiles, name="group", root=tmp_path)))
    out = tmp_path / "out"
    assert main(["build", "--config", str(config), "--out", str(out), "--jobs", "2",
                 "--param", "draws=1000"]) == 0  # fmt: skip
    manifest = load_manifest(out / "manifest.json")  # the units are recorded as such
    assert {e.unit_of for n, e in manifest.reports.items() if n != "group"} == {"group"}
    assert manifest.reports["group"].unit_of is None
    pdf = out / "group.pdf"
    overlaps = printcheck.overlapping_characters(pdf)
    assert not overlaps, "\n".join(map(str, overlaps))
    pages = printcheck.pdf_text(pdf)
    assert printcheck.code_identifiers("\n".join(pages)) == []
    assert printcheck.smallest_font_pt(pdf) >= 7.95
    fill = printcheck.page_fill(pdf)
    assert len(fill) >= 2 and all(f >= 2 / 3 for f in fill[:-1]), fill
    for heading in ROLL_UP_HEADINGS:  # each with what it introduces, on the same page
        (page,) = [p for p in pages if heading in p]
        assert len(page.split(heading, 1)[1].strip()) > 150, heading
    # the chart numbers the least certain units as the table does
    assert "#" in pages[0] and "Numbered: the least certain units" in " ".join(pages)
