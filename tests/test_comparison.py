"""The cross-company comparison: its inputs, table, summary and charts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from cxtradeoff import comparison
from cxtradeoff.contracts import ResultsFile
from cxtradeoff.errors import DataValidationError
from cxtradeoff.formatting import chance, money, scenario_label
from cxtradeoff.narrative import escape_text
from cxtradeoff.profiles import load_profiles
from cxtradeoff.results import build_results, write_results


@pytest.fixture(scope="module")
def results() -> list[ResultsFile]:
    profiles = load_profiles()
    return [
        build_results(
            profiles[name], ["status_quo", "hybrid", "full_automation"], draws=300, seed=1
        )
        for name in ("telecom", "b2b_software")
    ]


def _write(tmp_path: Path, results: list[ResultsFile]) -> list[Path]:
    paths = []
    for r in results:
        path = write_results(r, tmp_path / f"{r.profile}.results.json")
        paths.append(path)
    return paths


def test_results_files_round_trip_into_one_row_per_company_and_scenario(tmp_path, results) -> None:
    frame = comparison.comparison_frame(comparison.load_results(_write(tmp_path, results)))
    assert len(frame) == 6
    row = frame[(frame["profile"] == "telecom") & (frame["scenario"] == "hybrid")].iloc[0]
    source = results[0].scenarios["hybrid"]
    assert row["npv"] == source.npv
    assert row["break_even_conversion_npv"] == source.break_even_conversion_npv
    assert row["currency"] == "EUR"


def test_missing_or_broken_results_name_the_file_and_key(tmp_path, results) -> None:
    with pytest.raises(DataValidationError, match="does not exist"):
        comparison.load_results([tmp_path / "nope.json"])
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(DataValidationError, match="not valid JSON"):
        comparison.load_results([bad])
    broken = results[0].model_dump(mode="json")
    del broken["currency"]
    del broken["scenarios"]["hybrid"]["npv"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(DataValidationError) as info:
        comparison.load_results([path])
    message = str(info.value)
    assert "broken.json" in message and "currency: Field required" in message
    assert "scenarios.hybrid.npv: Field required" in message
    assert "rebuild the report" in message
    with pytest.raises(DataValidationError, match="no results file given"):
        comparison.load_results([])


def test_summary_leads_with_each_reports_recommendation(results) -> None:
    frame = comparison.comparison_frame(results)
    text = comparison.comparison_summary(frame)
    with_ai = sum(r.recommended != "status_quo" for r in results)
    assert text.startswith(f"Of 2 companies, AI in customer service is recommended for {with_ai} ")
    for r in results:
        line = next(ln for ln in text.splitlines() if escape_text(r.display_name) in ln)
        if r.recommended == "status_quo":
            assert "keep service with people" in line
        else:
            assert scenario_label(r.recommended) in line
            assert money(r.headline.npv_mean, r.currency) in line
            assert f"a {chance(r.headline.p_loss)} chance of losing money" in line
    # the summary follows the figures: a company whose report recommends the status quo
    frame["recommended"] = frame["scenario"] == "status_quo"
    assert "is recommended for 0 " in comparison.comparison_summary(frame)


def test_decisions_table_gives_what_each_report_leads_with(results) -> None:
    html = comparison.decisions_table(results)
    for r in results:
        assert r.display_name in html
        assert money(r.headline.npv_mean, r.currency, compact=True) in html
        assert chance(r.headline.p_loss) in html
    assert "_" not in re.sub(r"<[^>]*>|#[\w-]+|\{[^}]*\}", "", html.split("</style>")[-1])


def test_table_keeps_each_currency_and_escapes_names(results) -> None:
    hostile = results[0].model_copy(update={"display_name": "<script>alert(1)</script>"})
    html = comparison.comparison_table_html(comparison.comparison_frame([hostile, results[1]]))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "EUR" in html and "USD" in html
    assert html.count('class="gt_row gt_left gt_stub"') == 6  # a row per company and scenario
    assert html.count("(recommended)") == 2  # each company's recommendation marked
    assert "e+0" not in html


def test_charts_have_a_dot_per_company_and_ai_scenario(results) -> None:
    frame = comparison.comparison_frame(results)
    for fig in (comparison.break_even_comparison(frame), comparison.loss_chance_comparison(frame)):
        ax = fig.axes[0]
        dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
        assert len(dots) == 2  # one series per AI scenario
        assert all(len(ln.get_xdata()) == 2 for ln in dots)  # a dot per company
        assert {t.get_text() for t in ax.get_yticklabels()} == set(frame["company"])
        plt.close(fig)


def test_on_its_defaults_it_analyses_every_profile() -> None:
    results = comparison.results_for_profiles(draws=50, seed=3)
    assert [r.profile for r in results] == list(load_profiles())
    again = comparison.results_for_profiles(draws=50, seed=3)
    assert results == again  # seeded
