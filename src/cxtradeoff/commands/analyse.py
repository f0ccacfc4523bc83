"""``cxtradeoff analyse`` (one profile, one or all scenarios) and ``cxtradeoff profiles``.

Examples::

    cxtradeoff analyse --profile telecom --scenario hybrid
    cxtradeoff analyse --profile fintech --scenario full_automation \\
        --set switch_conversion=0.1 --draws 10000 --seed 7 --format table
    cxtradeoff analyse --profile telecom --scenario all
    cxtradeoff profiles

One scenario: the JSON output holds the base case, every model output unrounded
(``null`` where undefined), ``p_conversion_below_break_even`` and the NPV and break-even
with lost customers valued both ways (``npv_clv``, ``npv_replacement``,
``break_even_conversion_npv_clv``, ``break_even_conversion_npv_replacement``); with
``--draws`` > 0 also ``npv_mean``, ``npv_p10``, ``npv_p50``, ``npv_p90`` and ``p_loss``.

``--scenario all``: ``{"scenarios": {name: {every single-scenario key, npv_mean,
npv_p10, npv_p50, npv_p90, p_loss, p_best}}, "recommended": name,
"evppi_switch_conversion": float}`` plus the profile, overrides, draws and seed; every
scenario on the same draws (default :data:`DEFAULT_DRAWS_ALL`), the status quo included;
the recommendation is the highest mean NPV (``cxtradeoff.decision``).

``break_even_churn`` and ``break_even_conversion`` are the model contract's annual
break-even (delta* = S / (N V), k* = delta* / z); ``break_even_conversion_npv`` is where
NPV over the horizon is 0, the one-off costs (implementation and severance) counted. A
bad ``--set``, an unknown profile or scenario exits with status 2 and a message naming it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cxtradeoff.errors import ParameterError
from cxtradeoff.limits import draws_problem

# The model, pandas and pandera are imported when the command runs, not when the command
# line is parsed, so that other commands (a no-op ``build``) start fast.
#: scenario names shown in --help; tests check they equal cxtradeoff.model.SCENARIOS
SCENARIO_NAMES: tuple[str, ...] = ("status_quo", "hybrid", "full_automation", "reversal")
#: the default seed; tests check it equals cxtradeoff.uncertainty.DEFAULT_SEED
DEFAULT_SEED: int = 20251114
#: the value of --scenario that runs every scenario and the decision
ALL: str = "all"
#: Monte Carlo draws of ``--scenario all`` when --draws is not given; tests check it
#: equals cxtradeoff.decision.DEFAULT_DRAWS (the reports' default)
DEFAULT_DRAWS_ALL: int = 20_000


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
        help="savings against loyalty cost for one profile and scenario (or all)",
        description=(
            "Savings against loyalty cost for one company profile and one scenario, or "
            "with --scenario all every scenario on common Monte Carlo draws, the "
            "recommended one (highest mean NPV) and the value of knowing the switching "
            "conversion."
        ),
    )
    parser.add_argument("--profile", required=True, help="profile id (see 'cxtradeoff profiles')")
    parser.add_argument(
        "--scenario", required=True, help=f"one of: {', '.join(SCENARIO_NAMES)}, or {ALL}"
    )
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter (repeatable); booleans are true/false",
    )
    parser.add_argument(
        "--draws",
        type=_non_negative_int,
        default=None,
        help=(
            f"Monte Carlo draws (one scenario: default 0, none; {ALL}: default "
            f"{DEFAULT_DRAWS_ALL:,}, at least 1)"
        ),
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=DEFAULT_SEED, help="Monte Carlo seed"
    )
    parser.add_argument("--format", choices=("json", "table"), default="json")
    parser.add_argument(
        "--profiles-file", default=None, help="profiles CSV (default: data/company_profiles.csv)"
    )
    parser.add_argument(
        "--as-of",
        default="",
        metavar="YYYY-MM-DD",
        help=(
            "date the plan starts (default: today): a scenario that breaks a rule binding "
            "the company over the horizon from then is shown but never recommended"
        ),
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
    listing.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="json: a list of {id, display_name, currency, jurisdiction} and the scenarios",
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


def _scenario_table(payload: dict[str, Any]) -> str:
    scenarios = payload["scenarios"]
    names = list(scenarios)
    keys = list(next(iter(scenarios.values())))

    def cell(value: Any) -> str:
        if value is None:
            return "n/a"
        if isinstance(value, bool | str):
            return str(value)
        return f"{value:,.6g}" if abs(value) < 1e4 else f"{value:,.0f}"

    header = {key: str(payload[key]) for key in ("profile", "display_name", "currency")}
    widths = [max(len(k) for k in keys)] + [
        max(len(n), *(len(cell(scenarios[n][k])) for k in keys)) for n in names
    ]
    lines = [f"{k:<{widths[0]}}  {v}" for k, v in header.items()]
    lines.append("  ".join(f"{h:>{w}}" for h, w in zip(["", *names], widths, strict=True)))
    for key in keys:
        cells = [f"{key:<{widths[0]}}"] + [
            f"{cell(scenarios[n][key]):>{w}}" for n, w in zip(names, widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    lines.append(f"{'recommended':<{widths[0]}}  {payload['recommended']}")
    lines.append(
        f"{'evppi_switch_conversion':<{widths[0]}}  {cell(payload['evppi_switch_conversion'])}"
    )
    lines.append(f"{'draws':<{widths[0]}}  {payload['draws']} (seed {payload['seed']})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``cxtradeoff analyse``; returns the exit status."""
    from cxtradeoff.compliance import parse_as_of, scenario_permissions
    from cxtradeoff.decision import base_case, compared_scenarios, decide, npv_summary
    from cxtradeoff.model import SCENARIO_NAMES, get_scenario, parse_assignments
    from cxtradeoff.profiles import get_profile, load_profiles
    from cxtradeoff.uncertainty import simulate

    profiles = load_profiles(args.profiles_file)
    profile = get_profile(profiles, args.profile)
    every = args.scenario == ALL
    if not every:
        get_scenario(args.scenario)  # before parsing --set: name the bad scenario first
    params = profile.parameters
    overrides = parse_assignments(args.assignments, base=params)  # every problem at once
    as_of = parse_as_of(args.as_of)
    permissions = scenario_permissions(
        profile,
        compared_scenarios(SCENARIO_NAMES if every else [args.scenario]),
        as_of=as_of,
        overrides=overrides,
    )
    payload: dict[str, Any] = {
        "profile": profile.id,
        "display_name": profile.display_name,
        "currency": profile.currency,
        "jurisdiction": profile.jurisdiction,
        "as_of": as_of.isoformat(),
        "scenario": args.scenario,
        "overrides": overrides,
    }
    if every:
        draws = DEFAULT_DRAWS_ALL if args.draws is None else args.draws
        problem = draws_problem(draws, allow_none=False)
        if problem:
            raise ParameterError(
                f"--draws: {problem} (with --scenario {ALL} the decision is taken on the "
                "Monte Carlo distribution)"
            )
        decision = decide(
            params,
            draws=draws,
            seed=args.seed,
            overrides=overrides,
            permitted={name: p.permitted for name, p in permissions.items()},
        )
        payload.update(decision.to_dict())
        for name, result in payload["scenarios"].items():
            result.update(permitted=permissions[name].permitted, blocked_by=permissions[name].rule)
    else:
        payload.update(base_case(params, args.scenario, overrides=overrides))
        verdict = permissions[args.scenario]
        payload.update(permitted=verdict.permitted, blocked_by=verdict.rule)
        draws = args.draws or 0
        problem = draws_problem(draws)
        if problem:
            raise ParameterError(f"--draws: {problem}")
        if draws:
            sim = simulate(
                params, [args.scenario], draws=draws, seed=args.seed, overrides=overrides
            )
            payload.update({k: float(v[0]) for k, v in npv_summary(sim.npv).items()})
            payload.update({"draws": draws, "seed": args.seed})
    if args.format == "json":
        try:
            text = json.dumps(payload, indent=2, allow_nan=False, ensure_ascii=False)
        except ValueError as exc:  # pragma: no cover - results are cleaned of NaN
            raise ParameterError(f"result is not valid JSON: {exc}") from None
    elif every:
        text = _scenario_table(payload)
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
    if args.format == "json":
        listing = {
            "profiles": [
                {
                    "id": p.id,
                    "display_name": p.display_name,
                    "currency": p.currency,
                    "jurisdiction": p.jurisdiction,
                }
                for p in profiles.values()
            ],
            "scenarios": [{"id": s.name, "description": s.description} for s in SCENARIOS.values()],
        }
        sys.stdout.write(json.dumps(listing, indent=2, ensure_ascii=False) + "\n")
        return 0
    width = max(len(name) for name in [*profiles, *SCENARIOS])
    lines = [
        f"{p.id:<{width}}  profile   {p.currency}  {p.jurisdiction or '--'}  {p.display_name}"
        for p in profiles.values()
    ]
    lines += [f"{s.name:<{width}}  scenario  {s.description}" for s in SCENARIOS.values()]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
