"""Write a synthetic portfolio: a profiles file of N units and a configuration to build it.

Each unit starts from one of the illustrative profiles of ``data/company_profiles.csv``
(taken in turn) and has its sizes and prices drawn around that profile's values
(lognormal factors: customers and employees with a spread of 50%, revenue, contact
volumes and costs 25 to 30%); shares, rates, priors and legal facts stay the base
profile's. Every unit is marked synthetic: its id is ``unit_NNN``, its display name says
"synthetic" and which profile it is drawn around, and every basis line starts with
``synthetic:``. The file is checked with the package's own reader (every value in range,
every cross-check holds) before it is written. Same seed, same file.

    .venv/bin/python benchmarks/make_portfolio.py --units 100
    .venv/bin/cxtradeoff build --config reports-synthetic-100.yaml --param draws=1000

writes ``data/portfolios/synthetic-100.csv`` and ``reports-synthetic-100.yaml`` (one
report per unit, ``synthetic-unit-001`` ..., and the roll-up ``synthetic``), both
git-ignored.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

from cxtradeoff.files import atomic_write_text
from cxtradeoff.paths import COMPANY_PROFILES, ROOT

#: parameters drawn around the base profile's value, and the spread of their lognormal
#: factor (sigma of its log)
SPREAD = {
    "customers": 0.5,
    "employees": 0.5,
    "revenue_per_customer": 0.3,
    "contacts_per_customer": 0.25,
    "cost_human_contact": 0.25,
    "cost_ai_contact": 0.25,
    "ai_fixed_cost_per_year": 0.3,
    "implementation_cost": 0.3,
}
#: of those, the ones that are whole numbers
WHOLE = {"customers", "employees"}


def _base_rows(path: Path) -> dict[str, list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_profile: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_profile.setdefault(row["profile"], []).append(row)
    return by_profile


def _drawn(value: str, name: str, factor: float) -> str:
    number = float(value) * factor
    if name in WHOLE:
        return str(max(1, round(number)))
    return f"{number:.4g}"


def synthetic_rows(units: int, *, seed: int, base: Path = COMPANY_PROFILES) -> list[dict[str, str]]:
    """The rows of a synthetic profiles file of ``units`` units (see the module's text)."""
    rng = np.random.default_rng(seed)
    profiles = _base_rows(base)
    names = list(profiles)
    out: list[dict[str, str]] = []
    width = max(3, len(str(units)))
    for i in range(1, units + 1):
        origin = names[(i - 1) % len(names)]
        rows = {row["parameter"]: dict(row) for row in profiles[origin]}
        factors = {p: float(rng.lognormal(0.0, s)) for p, s in SPREAD.items()}
        unit = f"unit_{i:0{width}d}"
        display = f"Unit {i:0{width}d}, synthetic ({origin.replace('_', ' ')}-like)"
        for name, row in rows.items():
            value, basis = row["value"], row["basis"]
            if name in factors and value:
                value = _drawn(value, name, factors[name])
                basis = (
                    f"synthetic: {origin}'s value x {factors[name]:.2f} (lognormal, sigma "
                    f"{SPREAD[name]}; benchmarks/make_portfolio.py seed {seed}); not a real company"
                )
            else:
                basis = f"synthetic: {origin}'s value, not a real company (base: {basis})"
            out.append({**row, "profile": unit, "display_name": display, "value": value,
                        "basis": basis})  # fmt: skip
        _keep_cross_checks(out[-len(rows) :], {n: r["value"] for n, r in rows.items()})
    return out


def _keep_cross_checks(rows: list[dict[str, str]], base: dict[str, str]) -> None:
    """Hold the profile's cross-checks: contacts reach no fewer customers than contact
    service, and retention spending stays below the margin a customer brings."""
    value = {row["parameter"]: row for row in rows}
    if float(value["contacts_per_customer"]["value"]) < float(base["contact_reach"]):
        value["contacts_per_customer"]["value"] = base["contacts_per_customer"]
    margin = float(base["margin"]) * float(value["revenue_per_customer"]["value"])
    if float(base["retention_spend_per_customer"]) >= margin:
        value["revenue_per_customer"]["value"] = base["revenue_per_customer"]


def write_portfolio(units: int, *, seed: int, out: Path) -> Path:
    """Write the profiles file, after checking it with the package's reader."""
    from cxtradeoff.profiles import load_profiles

    rows = synthetic_rows(units, seed=seed)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.with_name(f".{out.name}.check")
    scratch.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        loaded = load_profiles(scratch)  # raises, naming every problem, if a draw is wrong
    finally:
        scratch.unlink(missing_ok=True)
    assert len(loaded) == units
    return atomic_write_text(out, buffer.getvalue())


def config_text(profiles: Path, *, name: str, root: Path = ROOT) -> str:
    """A report configuration for the portfolio: one report per unit and the roll-up."""
    relative = profiles.resolve().relative_to(root.resolve()).as_posix()
    return f"""\
# A synthetic portfolio (benchmarks/make_portfolio.py): one savings-versus-loyalty report
# per unit of {relative}, and the roll-up report '{name}'. Build it with
#   .venv/bin/cxtradeoff build --config {{this file}} --param draws=1000
# add --executor dask-local --workers 2 to run it on a local Dask cluster (docs/scaling.md).
defaults:
  draws: 20000
  seed: 20251114
  horizon_years: 3

reports:
  - name: "{name}-{{slug}}"
    notebook: notebooks/02-savings-vs-loyalty.ipynb
    title: "Savings versus loyalty: {{display_name}}"
    inputs: [data/service_rules.csv]
    portfolio:
      name: {name}
      profiles: {relative}
      title: "Portfolio roll-up: {name} (synthetic units)"
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, required=True, help="number of units (1 or more)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--name", default="synthetic", help="the portfolio's (roll-up's) name")
    parser.add_argument("--out", type=Path, default=None,
                        help="profiles file (default data/portfolios/synthetic-N.csv)")  # fmt: skip
    parser.add_argument("--config", type=Path, default=None,
                        help="configuration to write (default reports-synthetic-N.yaml at the "
                             "project root; '-' for none)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.units < 1:
        parser.error("--units: expected 1 or more")
    out = args.out or ROOT / "data" / "portfolios" / f"synthetic-{args.units}.csv"
    written = write_portfolio(args.units, seed=args.seed, out=out)
    print(f"{written}: {args.units} synthetic units (seed {args.seed})")
    if str(args.config) != "-":
        config = args.config or ROOT / f"reports-synthetic-{args.units}.yaml"
        atomic_write_text(config, config_text(written, name=args.name, root=config.parent))
        print(f"{config}: one report per unit and the roll-up {args.name!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
