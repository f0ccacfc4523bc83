"""notebooks/02-savings-vs-loyalty.ipynb: committed clean, and executed by papermill."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from cxtradeoff import paths
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
    markdown = [
        o["data"]["text/markdown"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    ]
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    k = round(100 * full["break_even_conversion_npv"], 1)
    assert f"pays only if fewer than {k}% of the customers who would consider leaving" in summary
    assert "Recommended: " in summary.split("\n")[2]
    assert "with the one-off costs counted as well" in summary
    html_outputs = " ".join(
        o["data"]["text/html"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    )
    everything = " ".join(markdown) + html_outputs
    assert "<script>alert(1)" not in everything
    assert "<b>report</b>" not in everything
    assert "&lt;script&gt;" in " ".join(markdown)
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 5  # savings, break-even, heatmap, tornado, Monte Carlo
    assert "Caveats" in " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
