"""``cxtradeoff analyse`` (one profile, one scenario) and ``cxtradeoff profiles`` (the list).

Examples::

    cxtradeoff analyse --profile telecom --scenario hybrid
    cxtradeoff analyse --profile fintech --scenario full_automation \\
        --set switch_conversion=0.1 --draws 10000 --seed 7 --format table
    cxtradeoff profiles

The JSON output holds every model output unrounded (``null`` where undefined) and,
with ``--draws`` > 0, ``npv_p10``, ``npv_p50``, ``npv_p90`` and ``p_loss``.
``break_even_churn`` and ``break_even_conversion`` are the model contract's equations
(delta* = S / (N V), k* = delta* / (x w (1 - h))); ``break_even_churn_npv`` and
``break_even_conversion_npv`` are where NPV over the horizon is 0, the one-off costs
counted; ``p_conversion_below_break_even`` is the prior's chance of staying below the latter. A bad
``--set``, an unknown profile or scenario exits with status 2 and a message naming it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cxtradeoff.errors import ParameterError

# The model, pandas and pandera are imported when the command runs, not when the command
# line is parsed, so that other commands (a no-op ``build``) start fast.
#: scenario names shown in --help; tests check they equal cxtradeoff.model.SCENARIOS
SCENARIO_NAMES: tuple[str, ...] = ("status_quo", "hybrid", "full_automation", "reversal")
#: the default seed; tests check it equals cxtradeoff.results.DEFAULT_SEED
DEFAULT_SEED: int = 20251114


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; expected an integer >= 0")
    return value


def register(subparsers: Any) -> None:
    """Add the ``analyse`` and ``profiles`` subcommands."""
    parser = subparsers.add_parser(
        "analyse",
        help="savings against loyalty cost for one profile and scenario",
        description="Savings against loyalty cost for one company profile and one scenario.",
    )
    parser.add_argument("--profile", required=True, help="profile id (see 'cxtradeoff profiles')")
    parser.add_argument("--scenario", required=True, help=f"one of: {', '.join(SCENARIO_NAMES)}")
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter (repeatable); booleans are true/false",
    )
    parser.add_argument(
        "--draws", type=_non_negative_int, default=0, help="Monte Carlo draws (0: none)"
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=DEFAULT_SEED, help="Monte Carlo seed"
    )
    parser.add_argument("--format", choices=("json", "table"), default="json")
    parser.add_argument(
        "--profiles-file", default=None, help="profiles CSV (default: data/company_profiles.csv)"
    )
    parser.set_defaults(func=run)

    listing = subparsers.add_parser(
        "profiles",
        help="list the company profiles and the scenarios",
        description="List the company profiles and the scenarios, names first on each line.",
    )
    listing.add_argument(
        "--profiles-file", default=None, help="profiles CSV (default: data/company_profiles.csv)"
    )
    listing.set_defaults(func=run_profiles)


def _table(payload: dict[str, Any]) -> str:
    width = max(len(k) for k in payload)
    lines = []
    for key, value in payload.items():
        if isinstance(value, float):
            text = f"{value:,.6g}" if abs(value) < 1e4 else f"{value:,.2f}"
        elif value is None:
            text = "n/a"
        else:
            text = str(value)
        lines.append(f"{key:<{width}}  {text}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``cxtradeoff analyse``; returns the exit status."""
    from cxtradeoff.model import get_scenario, parse_assignments
    from cxtradeoff.profiles import get_profile, load_profiles
    from cxtradeoff.results import analyse_scenario

    profiles = load_profiles(args.profiles_file)
    profile = get_profile(profiles, args.profile)
    get_scenario(args.scenario)  # before parsing --set: name the bad scenario first
    overrides = parse_assignments(args.assignments)
    result = analyse_scenario(
        profile, args.scenario, overrides=overrides, draws=args.draws, seed=args.seed
    )
    payload: dict[str, Any] = {
        "profile": profile.id,
        "display_name": profile.display_name,
        "currency": profile.currency,
        "scenario": args.scenario,
        "overrides": overrides,
        **result,
    }
    if args.draws:
        payload.update({"draws": args.draws, "seed": args.seed})
    if args.format == "json":
        try:
            text = json.dumps(payload, indent=2, allow_nan=False, ensure_ascii=False)
        except ValueError as exc:  # pragma: no cover - results are cleaned of NaN
            raise ParameterError(f"result is not valid JSON: {exc}") from None
    else:
        payload.pop("overrides")
        text = _table(payload)
    sys.stdout.write(text + "\n")
    return 0


def run_profiles(args: argparse.Namespace) -> int:
    """Run ``cxtradeoff profiles``: one line per profile, then one per scenario, name first."""
    from cxtradeoff.model import SCENARIOS
    from cxtradeoff.profiles import load_profiles

    profiles = load_profiles(args.profiles_file)
    width = max(len(name) for name in [*profiles, *SCENARIOS])
    lines = [
        f"{p.id:<{width}}  profile   {p.currency}  {p.display_name}" for p in profiles.values()
    ]
    lines += [f"{s.name:<{width}}  scenario  {s.description}" for s in SCENARIOS.values()]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
