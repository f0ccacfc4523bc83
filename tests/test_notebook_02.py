"""notebooks/02-savings-vs-loyalty.ipynb: committed clean, and executed by papermill."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from cxtradeoff import paths
from cxtradeoff.formatting import scenario_title
from cxtradeoff.results import ANALYSE_KEYS, MONTE_CARLO_KEYS

NOTEBOOK = paths.NOTEBOOKS_DIR / "02-savings-vs-loyalty.ipynb"
HOSTILE = "<script>alert(1)</script> & Sons"


def test_committed_notebook_is_stripped_and_parameterised():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"] == {
        "name": "cxtradeoff",
        "display_name": "Python (cxtradeoff)",
        "language": "python",
    }
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    source = tagged[0].source
    for line in (
        "profile: str =",
        "scenarios: list =",
        "horizon_years: int =",
        "draws: int =",
        "seed: int =",
        "currency: str =",
        "overrides: dict =",
        "profiles_path: str =",
        "pilot_file: str =",
        "results_path: str =",
        "title: str =",
    ):
        assert line in source
    for text in source.splitlines():
        assert "  # " in text  # every parameter has a comment
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


def test_the_notebook_is_thin():
    """Parameters, prose and calls: under 40 lines of code, the parameters cell included;
    the logic (and the one break-even chart the exploration panel shares) is in the package."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [
        line
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if line.strip()
    ]
    assert len(code) < 40, f"{len(code)} lines of code"
    source = "\n".join(code)
    assert "plots.break_even_figure(" in source
    assert source.count("analyse_profile(") == 1  # one Monte Carlo per report
    for computed in ("conversion_curve", "npv_grid", "monte_carlo(", "simulate("):
        assert computed not in source


def _cli(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "cxtradeoff.cli", "analyse", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_notebook_runs_and_its_headline_matches_the_command_line(tmp_path):
    import papermill as pm

    profiles = tmp_path / "profiles.csv"
    profiles.write_text(
        paths.COMPANY_PROFILES.read_text(encoding="utf-8").replace(
            "Telecom operator (illustrative)", f'"{HOSTILE}"'
        ),
        encoding="utf-8",
    )
    results_path = tmp_path / "out" / "results.json"
    params = {
        "profile": "telecom",
        "scenarios": ["status_quo", "full_automation", "hybrid"],
        "horizon_years": 4,
        "draws": 1000,
        "seed": 7,
        "currency": "",
        "overrides": {"switch_conversion": 0.1, "replace_lost_customers": False},
        "profiles_path": str(profiles),
        "results_path": str(results_path),
        "title": "Test <b>report</b>",
    }
    output = tmp_path / "executed.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters=params,
        kernel_name="cxtradeoff",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    results = json.loads(results_path.read_text(encoding="utf-8"))
    assert results["profile"] == "telecom"
    assert results["display_name"] == HOSTILE
    assert results["currency"] == "EUR"
    assert (results["horizon_years"], results["draws"], results["seed"]) == (4, 1000, 7)
    assert list(results["scenarios"]) == params["scenarios"]
    for scenario in results["scenarios"].values():
        for key in (*ANALYSE_KEYS, *MONTE_CARLO_KEYS, "p_best"):
            assert key in scenario
    means = {name: s["npv_mean"] for name, s in results["scenarios"].items()}
    assert results["recommended"] == max(means, key=means.get)
    head = results["headline"]
    assert head["scenario"] == results["recommended"]
    full = results["scenarios"]["full_automation"]

    cli = _cli(
        "--profile",
        "telecom",
        "--scenario",
        "full_automation",
        "--set",
        "switch_conversion=0.1",
        "--set",
        "replace_lost_customers=false",
        "--set",
        "horizon_years=4",
        "--draws",
        "1000",
        "--seed",
        "7",
        "--profiles-file",
        str(profiles),
    )
    # telecom has one-off costs (severance): the two break-evens differ
    assert full["break_even_conversion_npv"] < full["break_even_conversion"]
    for key in (*ANALYSE_KEYS, *MONTE_CARLO_KEYS):
        assert full[key] == cli[key], key
    assert 0.0 < full["p_loss"] < 1.0

    nb = nbformat.read(output, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    markdown = _outputs(nb, "text/markdown")
    decision = next(m for m in markdown if m.startswith("## The decision"))
    assert "Recommended: " in decision
    assert "pilot measured" not in decision  # no pilot, no note
    scenarios = next(m for m in markdown if m.startswith("## Scenario by scenario"))
    k = round(100 * full["break_even_conversion_npv"], 1)
    assert f"pays only if fewer than {k}% of the customers who would consider leaving" in scenarios
    assert "with the one-off costs counted as well" in scenarios
    assert not any(m.startswith("## What the pilot measured") for m in markdown)
    html_outputs = " ".join(_outputs(nb, "text/html"))
    everything = " ".join(markdown) + html_outputs
    assert "<script>alert(1)" not in everything
    assert "<b>report</b>" not in everything
    assert "&lt;script&gt;" in " ".join(markdown)
    # the options table: every scenario in words, the recommended one marked
    assert f"{scenario_title(results['recommended'])} (recommended)" in html_outputs
    for name in params["scenarios"]:
        assert scenario_title(name) in html_outputs
    # code names only in the analysts' appendix, the last table
    appendix = html_outputs.rindex('id="cx-code-names"')
    assert "switch_conversion" not in html_outputs[:appendix]
    assert "switch_conversion" in html_outputs[appendix:]
    assert "e+0" not in everything  # no number in scientific notation
    svgs = _outputs(nb, "image/svg+xml")
    assert len(svgs) == 5  # savings, break-even, heat map, tornado, Monte Carlo
    assert _outputs(nb, "image/png") == []
    assert all("<text" in svg for svg in svgs)  # text kept as text, measurable in the PDF
    assert "Caveats" in " ".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _outputs(nb, mime: str) -> list[str]:
    return [
        o["data"][mime] for c in nb.cells for o in c.get("outputs", []) if mime in o.get("data", {})
    ]


@pytest.mark.slow
def test_with_a_pilot_the_report_uses_its_posterior_and_says_so(tmp_path):
    """``pilot_file`` set: one analysis with the pilot's counts, the decision says the figures
    use its posterior and states the assumption, and a section shows what it measured."""
    import papermill as pm

    from cxtradeoff.pilot import ASSUMPTION, read_pilot_file
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.results import analyse_profile

    results_path = tmp_path / "results.json"
    params = {
        "profile": "telecom",
        "draws": 2000,
        "seed": 11,
        "pilot_file": "telecom-illustrative-pilot.csv",
        "results_path": str(results_path),
        "as_of": "2026-01-01",
    }
    output = tmp_path / "executed.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters=params,
        kernel_name="cxtradeoff",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    results = json.loads(results_path.read_text(encoding="utf-8"))
    pilot = results["pilot"]
    assert pilot is not None
    assert (pilot["scenario"], pilot["ai_customers"], pilot["ai_churned"]) == (
        "full_automation",
        25000,
        1335,
    )
    # the same analysis from the package: the notebook passed the pilot's counts through
    from datetime import date

    expected = analyse_profile(
        load_profiles()["telecom"],
        ["status_quo", "hybrid", "full_automation", "reversal"],
        draws=2000,
        seed=11,
        as_of=date(2026, 1, 1),
        pilot=read_pilot_file(paths.DATA_DIR / "pilots" / "telecom-illustrative-pilot.csv"),
    ).results
    assert results["recommended"] == expected.recommended
    assert results["headline"]["npv_mean"] == pytest.approx(expected.headline.npv_mean)

    nb = nbformat.read(output, as_version=4)
    markdown = _outputs(nb, "text/markdown")
    decision = next(m for m in markdown if m.startswith("## The decision"))
    assert "These figures use what an illustrative pilot measured" in decision
    flat = " ".join(decision.replace("\\", "").split())
    assert " ".join(ASSUMPTION.split()) in flat
    section = next(m for m in markdown if m.startswith("## What the pilot measured"))
    assert "randomised pilot" in section
    html_outputs = " ".join(_outputs(nb, "text/html"))
    assert 'id="cx-pilot"' in html_outputs
    svgs = _outputs(nb, "image/svg+xml")
    assert len(svgs) == 6  # the five charts and the prior against the posterior
    assert "What the pilot says" in svgs[-1]
