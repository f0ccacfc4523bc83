"""Every project path, built from one root in one place.

The root is the repository that holds ``data/`` and ``notebooks/``. It is found from
``CXTRADEOFF_ROOT`` when set, otherwise from the location of this package (an
editable install under ``src/``), otherwise from the current working directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def _find_root() -> Path:
    env = os.environ.get("CXTRADEOFF_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for candidate in (here.parents[2], Path.cwd().resolve(), *Path.cwd().resolve().parents):
        if (candidate / "data").is_dir() and (candidate / "notebooks").is_dir():
            return candidate
    return here.parents[2]


ROOT: Path = _find_root()
DATA_DIR: Path = ROOT / "data"
NOTEBOOKS_DIR: Path = ROOT / "notebooks"
REPORTS_DIR: Path = ROOT / "reports"
LOCK_FILE: Path = ROOT / "requirements.lock"
REPORTS_CONFIG: Path = ROOT / "reports.yaml"
PACKAGE_DIR: Path = Path(__file__).resolve().parent

EVIDENCE_CLAIMS: Path = DATA_DIR / "evidence_claims.csv"
EVIDENCE_EVENTS: Path = DATA_DIR / "workforce_events.csv"
REFERENCE_FIGURES: Path = DATA_DIR / "reference_figures.csv"
FORECASTS: Path = DATA_DIR / "forecasts.csv"
CUSTOMER_SURVEYS: Path = DATA_DIR / "customer_surveys.csv"
FIELD_EXPERIMENTS: Path = DATA_DIR / "field_experiments.csv"
SERVICE_RULES: Path = DATA_DIR / "service_rules.csv"
COMPANY_PROFILES: Path = DATA_DIR / "company_profiles.csv"

#: Name under which the project's Jupyter kernel is registered.
KERNEL_NAME: str = "cxtradeoff"
KERNEL_DISPLAY_NAME: str = "Python (cxtradeoff)"
