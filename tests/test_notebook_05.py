"""notebooks/05-pilot.ipynb: committed clean, thin, and executed by papermill."""

from __future__ import annotations

import nbformat
import pytest

from cxtradeoff import paths
from cxtradeoff.formatting import scenario_label
from cxtradeoff.pilot import ASSUMPTION, plan_pilot, read_pilot_file, update_with_pilot
from cxtradeoff.profiles import load_profiles

NOTEBOOK = paths.NOTEBOOKS_DIR / "05-pilot.ipynb"
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
        "scenario: str =",
        "months: int =",
        "customers_per_arm: int =",
        "pilot_file: str =",
        "draws: int =",
        "seed: int =",
        "overrides: dict =",
        "profiles_path: str =",
        "title: str =",
    ):
        assert line in source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None
    # thin: the logic is in the package, the notebook only calls it
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "np." not in code and "def " not in code
    assert "property of the customers" in " ".join(
        c.source for c in nb.cells if c.cell_type == "markdown"
    )


def _outputs(nb: nbformat.NotebookNode, kind: str) -> list[str]:
    return [
        o["data"][kind] for c in nb.cells for o in c.get("outputs", []) if kind in o.get("data", {})
    ]


def _run(tmp_path, **parameters):
    import papermill as pm

    output = tmp_path / "executed.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters=parameters,
        kernel_name="cxtradeoff",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    nb = nbformat.read(output, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    return nb


@pytest.mark.slow
def test_notebook_plans_reads_the_pilot_and_shows_what_changed(tmp_path):
    profiles = tmp_path / "profiles.csv"
    profiles.write_text(
        paths.COMPANY_PROFILES.read_text(encoding="utf-8").replace(
            "Telecom operator (illustrative)", f'"{HOSTILE}"'
        ),
        encoding="utf-8",
    )
    pilot_file = paths.DATA_DIR / "pilots" / "telecom-illustrative-pilot.csv"
    nb = _run(
        tmp_path,
        profile="telecom",
        scenario="full_automation",
        months=3,
        customers_per_arm=0,
        pilot_file=str(pilot_file),
        draws=2000,
        seed=7,
        overrides={},
        profiles_path=str(profiles),
        title="Pilot <b>test</b>",
    )
    markdown = " ".join(_outputs(nb, "text/markdown"))
    telecom = load_profiles()["telecom"].parameters
    plan = plan_pilot(telecom, "full_automation", months=3, draws=2000, seed=7)
    assert f"needs {plan.n_per_arm:,} customers in each arm" in markdown
    counts = read_pilot_file(pilot_file)
    assert f"{counts.ai_churned:,} of {counts.ai_customers:,}" in markdown
    update = update_with_pilot(telecom, counts, draws=2000, seed=7)
    verb = "confirms" if update.prior.recommended == update.posterior.recommended else "changes"
    assert f"The pilot {verb} the recommendation" in markdown
    assert scenario_label(update.posterior.recommended) in markdown
    assert ASSUMPTION in markdown
    assert "&lt;script&gt;" in markdown and "<script>alert(1)" not in markdown
    assert "<b>test</b>" not in markdown
    tables = " ".join(_outputs(nb, "text/html"))
    assert "Chance of loss, before" in tables and "Chance of loss, after" in tables
    assert len(_outputs(nb, "image/png")) == 1  # the prior against the posterior


@pytest.mark.slow
def test_notebook_without_a_pilot_file_plans_only(tmp_path):
    nb = _run(tmp_path, pilot_file="", draws=1000, scenario="hybrid", months=6)
    markdown = " ".join(_outputs(nb, "text/markdown"))
    assert "plans a pilot only" in markdown
    assert "customers in each arm" in markdown
    assert _outputs(nb, "image/png") == []
