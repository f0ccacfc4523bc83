"""Shared fixtures: small throw-away projects for pipeline tests."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import nbformat
import pytest
from hypothesis import settings

# Property tests: no per-example deadline (a loaded 2-core machine is slow, not wrong), and
# under CI the same examples every run, so that a red CI is reproducible.
settings.register_profile("cxtradeoff", deadline=None)
settings.register_profile("cxtradeoff-ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("cxtradeoff-ci" if os.environ.get("CI") else "cxtradeoff")

KERNELSPEC = {"name": "cxtradeoff", "display_name": "Python (cxtradeoff)", "language": "python"}


def make_notebook(path: Path, parameters: str, *cells: str, title: str = "Test report") -> Path:
    """Write a notebook: a title, a ``parameters`` cell, then code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    params = nbformat.v4.new_code_cell(textwrap.dedent(parameters).strip())
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), params]
    nb.cells += [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


ANALYSIS_CELLS = (
    """
    import json
    import csv
    from pathlib import Path
    rows = list(csv.DictReader(open(data_file)))
    value = sum(float(r["value"]) for r in rows) * scale
    print(f"{label}: total {value:.2f}")
    """,
    """
    import matplotlib.pyplot as plt
    from IPython.display import display, Markdown
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.bar([r["name"] for r in rows], [float(r["value"]) for r in rows])
    ax.set_title(label)
    plt.show()
    display(Markdown(f"**{label}** total is {value:.2f}"))
    """,
    """
    if fail:
        raise ValueError("deliberate failure for the test")
    if results_path:  # a results file as cxtradeoff.contracts.ResultsFile defines it
        figures = {"annual_savings": value * 1000, "npv": value, "break_even_conversion": 0.059,
                   "break_even_conversion_npv": 0.059, "p_loss": 0.25}
        scenario = {**figures, "margin_per_customer": 1.0, "clv": 1.0,
                    "value_per_lost_customer": 1.0, "exposure": 1.0, "extra_churn": 0.0,
                    "customers_lost_per_year": 0.0, "annual_loyalty_cost": 0.0,
                    "break_even_churn": 0.01, "break_even_churn_npv": 0.01,
                    "rehiring_cost": 0.0, "p_conversion_below_break_even": 0.5}
        Path(results_path).write_text(json.dumps({
            "schema_version": 1, "profile": label.lower(), "display_name": label,
            "currency": "EUR", "horizon_years": 3, "draws": 0, "seed": 0, "overrides": {},
            "scenarios": {"hybrid": scenario}, "headline": {"scenario": "hybrid", **figures}}))
    """,
)


@pytest.fixture
def tiny_project(tmp_path: Path) -> Path:
    """A project with two data files, an analysis notebook, a comparison notebook and a config."""
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.csv").write_text("name,value\nx,1\ny,2\n")
    (root / "data" / "b.csv").write_text("name,value\nx,10\ny,20\n")
    make_notebook(
        root / "notebooks" / "analysis.ipynb",
        """
        data_file: str = "a.csv"  # data to read
        label: str = "A"  # display name
        scale: float = 1.0  # multiplier
        fail: bool = False  # raise on purpose
        results_path: str = ""  # where to write results
        """,
        *ANALYSIS_CELLS,
    )
    make_notebook(
        root / "notebooks" / "compare.ipynb",
        """
        results_files: list = []  # results of the reports compared
        """,
        """
        import json
        rows = [json.load(open(f)) for f in results_files]
        for r in rows:
            print(r["display_name"], r["headline"]["annual_savings"])
        """,
        title="Comparison",
    )
    write_config(root, fail_b=False)
    return root


def write_config(root: Path, *, fail_b: bool) -> Path:
    config = {
        "reports": [
            {"name": "rep-a", "notebook": "notebooks/analysis.ipynb", "title": "Report A",
             "profile": "alpha", "inputs": ["data/a.csv"],
             "parameters": {"data_file": str(root / "data/a.csv"), "label": "Alpha"}},
            {"name": "rep-b", "notebook": "notebooks/analysis.ipynb", "title": "Report B",
             "profile": "beta", "inputs": ["data/b.csv"],
             "parameters": {"data_file": str(root / "data/b.csv"), "label": "Beta", "fail": fail_b}},
            {"name": "compare", "notebook": "notebooks/compare.ipynb", "title": "Comparison",
             "depends_on": ["rep-a", "rep-b"]},
        ]
    }  # fmt: skip
    path = root / "reports.yaml"
    path.write_text(json.dumps(config, indent=1))
    return path


# --- pipeline fixtures ---
# Helpers of the build's tests: run `cxtradeoff build` on a project (in this process or as
# a command), read its manifest, and write notebooks that report what their kernel saw.


def _build_argv(root: Path, args: tuple[str, ...]) -> list[str]:
    out = [] if "--out" in args else ["--out", str(root / "out")]
    return ["build", "--config", str(root / "reports.yaml"), *out, *args]


@pytest.fixture
def run_build():
    """``run_build(root, *args)``: `cxtradeoff build` of ``root/reports.yaml`` into
    ``root/out`` (unless ``--out`` is given) in this process; its exit status."""
    from cxtradeoff.cli import main

    return lambda root, *args: main(_build_argv(root, args))


@pytest.fixture
def build_command():
    """``build_command(root, *args)``: the same build as a command line for a subprocess."""
    import sys

    return lambda root, *args: [sys.executable, "-m", "cxtradeoff.cli", *_build_argv(root, args)]


@pytest.fixture
def read_manifest():
    """``read_manifest(root)``: the manifest of ``root/out``, as the typed model."""
    from cxtradeoff.contracts import load_manifest

    return lambda root, out="out": load_manifest(root / out / "manifest.json")


class Probes:
    """Reports whose notebook runs some code and saves the dict ``seen`` it makes."""

    def report(self, root: Path, name: str, code: str) -> dict:
        """Write ``root/name/name.ipynb`` running ``code``; its configuration entry."""
        notebook = make_notebook(
            root / name / f"{name}.ipynb",
            'probe: str = ""  # file the notebook writes what it saw into',
            textwrap.dedent(code).strip(),
            "from pathlib import Path as _P\nimport json as _j\n_P(probe).write_text(_j.dumps(seen))",
        )
        probe = root / "probes" / f"{name}.json"
        probe.parent.mkdir(exist_ok=True)
        return {"name": name, "notebook": str(notebook.relative_to(root)),
                "parameters": {"probe": str(probe)}}  # fmt: skip

    def read(self, root: Path, name: str) -> dict:
        """What the notebook of report ``name`` saw."""
        return json.loads((root / "probes" / f"{name}.json").read_text())


@pytest.fixture
def probes() -> Probes:
    """Notebooks that report what their kernel saw (see :class:`Probes`)."""
    return Probes()


@pytest.fixture
def tiny_config():
    """``tiny_config(root, fail_b=...)``: rewrite the tiny project's configuration."""
    return write_config


@pytest.fixture
def tmpfs(tmp_path: Path):
    """``tmpfs(size="4m", read_only=False)``: a small real file system mounted for the test
    (a disk that fills up, a read-only one); the test is skipped where mounting is refused."""
    import subprocess

    mounted: list[Path] = []

    def mount(size: str = "4m", *, read_only: bool = False) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        options = f"size={size},mode=0755" + (",ro" if read_only else "")
        run = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                             capture_output=True, text=True, check=False)  # fmt: skip
        if run.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {run.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
