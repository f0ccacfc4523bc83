"""``cxtradeoff pilot plan`` and ``cxtradeoff pilot update``: measure the switching conversion.

Examples::

    cxtradeoff pilot plan --profile telecom --scenario full_automation --months 3
    cxtradeoff pilot plan --profile telecom --scenario hybrid --months 6 \\
        --customers-per-arm 20000 --format table
    cxtradeoff pilot update --profile telecom --scenario full_automation --months 3 \\
        --ai 30000:1600 --control 30000:1450 --format table
    cxtradeoff pilot update --profile telecom \\
        --pilot-file data/pilots/telecom-illustrative-pilot.csv

``plan`` prints (JSON) ``months``, ``theta_control``, ``theta_ai_at_break_even``,
``n_per_arm``, ``evsi``, ``evppi_switch_conversion``, ``expected_pilot_cost``, then the
context: ``evppi_extra_churn`` (the most any pilot of the scenario can be worth),
``scenario``, ``customers_per_arm`` (the size valued), ``break_even_conversion_npv``,
``expected_extra_customers_lost``, ``recommended`` (today), ``draws``, ``seed``.

``update`` prints the pilot's counts, ``extra_annual_churn`` (mean, p10, p90),
``switch_conversion`` (mean, p10, p50, p90, share_clipped, share_clipped_at_one),
``prior_switch_conversion`` (mean, p10, p50, p90 before the pilot), the piloted
scenario's ``break_even_conversion_npv`` with ``prior_p_below_break_even`` and
``posterior_p_below_break_even``, and
``prior`` and ``posterior``, each with ``recommended``, ``scenarios`` (per scenario
``npv_mean``, ``p_loss``, ``p_best``) and ``evppi_switch_conversion``; then the
assumption it rests on, the draws and the seed. The math is in ``cxtradeoff.pilot``
and ``docs/pilot.md``.

Bad counts (churned above customers, negatives, zero customers), months outside 1..24,
an unknown scenario or one with no AI, a malformed ``CUSTOMERS:CHURNED`` or a bad pilot
file exit with status 2 and a message naming the field.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from cxtradeoff.errors import ParameterError

if TYPE_CHECKING:
    from cxtradeoff.pilot import PilotPlan, PilotUpdate
    from cxtradeoff.profiles import Profile

# The model is imported when the command runs, not when the command line is parsed.
#: the default seed and draws; tests check they equal cxtradeoff.uncertainty.DEFAULT_SEED
#: and cxtradeoff.decision.DEFAULT_DRAWS
DEFAULT_SEED: int = 20251114
DEFAULT_DRAWS: int = 20_000
#: scenarios a pilot can run, shown in --help; tests check them against the package
PILOTED: tuple[str, ...] = ("hybrid", "full_automation", "reversal")


def _whole_number(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", required=True, help="profile id (see 'cxtradeoff profiles')")
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter (repeatable), as in 'cxtradeoff analyse'",
    )
    parser.add_argument(
        "--draws",
        type=_whole_number,
        default=DEFAULT_DRAWS,
        help=f"Monte Carlo draws (default {DEFAULT_DRAWS:,})",
    )
    parser.add_argument("--seed", type=_whole_number, default=DEFAULT_SEED, help="Monte Carlo seed")
    parser.add_argument("--format", choices=("json", "table"), default="json")
    parser.add_argument(
        "--profiles-file", default=None, help="profiles CSV (default: data/company_profiles.csv)"
    )


def register(subparsers: Any) -> None:
    """Add the ``pilot`` subcommand and its ``plan`` and ``update`` subcommands."""
    parser = subparsers.add_parser(
        "pilot",
        help="plan a pilot that measures the switching conversion, or update on its counts",
        description=(
            "Measure, don't guess, the share of customers who would consider leaving over AI "
            "who actually leave: plan a randomised pilot (its size and what it is worth), "
            "then let its counts replace the prior and decide again."
        ),
    )
    sub = parser.add_subparsers(dest="pilot_command", metavar="ACTION")
    sub.required = True

    plan = sub.add_parser(
        "plan",
        help="customers per arm, value of the pilot's information and its cost",
        description=(
            "Before a pilot: churn in each arm if the conversion sits at the break-even, "
            "customers per arm for a two-sided 5%% test with 80%% power, the expected value "
            "of the pilot's information (EVSI) beside the value of knowing the conversion "
            "exactly (EVPPI), and the expected cost of the customers the AI arm loses."
        ),
    )
    _common(plan)
    plan.add_argument(
        "--scenario", required=True, help=f"scenario to pilot: one of {', '.join(PILOTED)}"
    )
    plan.add_argument(
        "--months", required=True, type=_whole_number, help="pilot duration, 1 to 24 months"
    )
    plan.add_argument(
        "--customers-per-arm",
        type=_whole_number,
        default=None,
        help="pilot size to value (default: the size for 80%% power)",
    )
    plan.set_defaults(func=run_plan)

    update = sub.add_parser(
        "update",
        help="replace the prior of the switching conversion by a pilot's counts",
        description=(
            "After a pilot: the posterior of the extra annual churn and of the switching "
            "conversion, and the decision before and after. Assumes the conversion is a "
            "property of the customers, not of the scenario: measured in the piloted "
            "scenario, it is applied to every scenario."
        ),
    )
    _common(update)
    update.add_argument(
        "--scenario", default=None, help=f"piloted scenario: one of {', '.join(PILOTED)}"
    )
    update.add_argument("--months", type=_whole_number, default=None, help="months the pilot ran")
    update.add_argument(
        "--ai", default=None, metavar="CUSTOMERS:CHURNED", help="the AI arm's counts"
    )
    update.add_argument(
        "--control", default=None, metavar="CUSTOMERS:CHURNED", help="the control arm's counts"
    )
    update.add_argument(
        "--pilot-file",
        default=None,
        help="a pilot results CSV (layout in data/README.md) instead of the four options above",
    )
    update.set_defaults(func=run_update)


def _load(args: argparse.Namespace) -> tuple[Profile, dict[str, Any]]:
    from cxtradeoff.model import parse_assignments
    from cxtradeoff.profiles import get_profile, load_profiles

    profile = get_profile(load_profiles(args.profiles_file), args.profile)
    overrides = parse_assignments(args.assignments, base=profile.parameters)
    return profile, overrides


def _emit(payload: dict[str, Any], table: str, fmt: str) -> int:
    if fmt == "json":
        text = json.dumps(payload, indent=2, allow_nan=False, ensure_ascii=False)
    else:
        text = table
    sys.stdout.write(text + "\n")
    return 0


def _context(profile: Profile) -> dict[str, Any]:
    return {
        "profile": profile.id,
        "display_name": profile.display_name,
        "currency": profile.currency,
    }


def run_plan(args: argparse.Namespace) -> int:
    """Run ``cxtradeoff pilot plan``; returns the exit status."""
    from cxtradeoff.pilot import plan_pilot

    profile, overrides = _load(args)
    plan = plan_pilot(
        profile.parameters,
        args.scenario,
        months=args.months,
        customers_per_arm=args.customers_per_arm,
        draws=args.draws,
        seed=args.seed,
        overrides=overrides,
    )
    payload = {**plan.to_dict(), **_context(profile), "overrides": overrides}
    customers_total = profile.parameters.updated(overrides).customers
    return _emit(payload, plan_table(plan, profile, customers_total), args.format)


def _counts(args: argparse.Namespace, profile: Profile) -> Any:
    from cxtradeoff.pilot import PilotCounts, parse_arm, read_pilot_file

    if args.pilot_file is not None:
        given = [f"--{n}" for n in ("ai", "control") if getattr(args, n) is not None]
        if given:
            raise ParameterError(
                f"--pilot-file and {' and '.join(given)} both give the pilot's counts; "
                "give one or the other"
            )
        counts = read_pilot_file(args.pilot_file)
        for option, value in (("scenario", args.scenario), ("months", args.months)):
            if value is not None and value != getattr(counts, option):
                raise ParameterError(
                    f"--{option} {value} differs from the pilot file's {option} = "
                    f"{getattr(counts, option)!r}; leave it out or make them agree"
                )
        if counts.profile != profile.id:
            raise ParameterError(
                f"the pilot file is for profile {counts.profile!r}, not --profile {profile.id!r}"
            )
        return counts
    missing = [
        f"--{option.replace('_', '-')}"
        for option in ("scenario", "months", "ai", "control")
        if getattr(args, option) is None
    ]
    if missing:
        raise ParameterError(
            f"missing {', '.join(missing)}: give the piloted scenario, the months it ran and "
            "each arm's CUSTOMERS:CHURNED, or --pilot-file"
        )
    problems: list[str] = []
    arms: dict[str, tuple[int, int]] = {}
    for arm in ("ai", "control"):
        try:
            arms[arm] = parse_arm(getattr(args, arm), arm=arm)
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError("; ".join(problems))
    return PilotCounts(
        profile=profile.id,
        scenario=args.scenario,
        months=args.months,
        ai_customers=arms["ai"][0],
        ai_churned=arms["ai"][1],
        control_customers=arms["control"][0],
        control_churned=arms["control"][1],
    )


def run_update(args: argparse.Namespace) -> int:
    """Run ``cxtradeoff pilot update``; returns the exit status."""
    from cxtradeoff.pilot import update_with_pilot

    profile, overrides = _load(args)
    counts = _counts(args, profile)
    update = update_with_pilot(
        profile.parameters, counts, draws=args.draws, seed=args.seed, overrides=overrides
    )
    payload = {**update.to_dict(), **_context(profile), "overrides": overrides}
    years = profile.parameters.updated(overrides).horizon_years
    return _emit(payload, update_table(update, profile, years), args.format)


# --------------------------------------------------------------------------- tables


def _rows(rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(label) for label, _ in rows)
    return [f"{label:<{width}}  {value}" for label, value in rows]


def plan_table(plan: PilotPlan, profile: Profile, customers_total: int) -> str:
    """``pilot plan --format table``: each figure in words, one per line."""
    from cxtradeoff.formatting import customers, money, scenario_label, scenario_title, share

    cur = profile.currency
    n = plan.n_per_arm
    if n is None:
        power = (
            "n/a: the break-even is outside 0 to 100%, so a pilot cannot change this "
            "scenario's call on its own"
        )
    else:
        power = f"{n:,}"
        if 2 * n > customers_total:
            power += f" (more than the company's {customers_total:,} customers: too few to pilot)"
    lost = plan.expected_extra_customers_lost
    cost = (
        "n/a"
        if plan.expected_pilot_cost is None
        else f"{money(plan.expected_pilot_cost, cur)} ({customers(lost)} extra customers lost)"
    )
    rows = [
        ("Scenario piloted", f"{scenario_title(plan.scenario)}, for {plan.months} months"),
        (
            "Churn over the pilot, control arm (today's service)",
            share(plan.theta_control, digits=2),
        ),
        (
            "Churn over the pilot, AI arm at the break-even",
            "n/a"
            if plan.theta_ai_at_break_even is None
            else f"{share(plan.theta_ai_at_break_even, digits=2)} (break-even: "
            f"{share(plan.break_even_conversion_npv)} of would-be leavers leave each year)",
        ),
        ("Customers per arm for 80% power (two-sided 5% test)", power),
        (
            "Customers per arm valued below",
            "n/a" if plan.customers_per_arm is None else f"{plan.customers_per_arm:,}",
        ),
        ("Expected value of the pilot's information (EVSI)", money(plan.evsi, cur)),
        (
            "Value of knowing the conversion exactly (EVPPI)",
            money(plan.evppi_switch_conversion, cur),
        ),
        ("Most any pilot of this scenario can be worth", money(plan.evppi_extra_churn, cur)),
        ("Expected cost of the pilot in lost customers", cost),
        ("Recommended before any pilot", scenario_label(plan.recommended)),
        ("Monte Carlo", f"{plan.draws:,} draws, seed {plan.seed}"),
    ]
    head = f"Pilot plan: {profile.display_name} ({cur})"
    return "\n".join([head, *_rows(rows)])


def update_table(update: PilotUpdate, profile: Profile, years: int) -> str:
    """``pilot update --format table``: the pilot, the posterior, the decision before and after."""
    from cxtradeoff.formatting import chance, money, scenario_title, share
    from cxtradeoff.pilot import ASSUMPTION

    cur = profile.currency
    result = update.to_contract()
    c = update.counts
    u, k = result.extra_annual_churn, result.switch_conversion
    before = result.prior_switch_conversion
    rows = [
        ("Scenario piloted", f"{scenario_title(c.scenario)}, for {c.months} months"),
        (
            "AI arm",
            f"{c.ai_churned:,} of {c.ai_customers:,} customers left "
            f"({share(c.ai_share_churned, digits=2)})",
        ),
        (
            "Control arm",
            f"{c.control_churned:,} of {c.control_customers:,} customers left "
            f"({share(c.control_share_churned, digits=2)})",
        ),
        (
            "Extra churn a year with the AI",
            f"{share(u.mean, digits=2)} (80% interval {share(u.p10, digits=2)} to "
            f"{share(u.p90, digits=2)})",
        ),
        (
            "Would-be leavers who leave each year",
            f"{share(k.mean)} on average (80% interval {share(k.p10)} to {share(k.p90)})",
        ),
        (
            "Assumed before the pilot",
            f"{share(before.mean)} on average (80% interval {share(before.p10)} to "
            f"{share(before.p90)})",
        ),
        ("Draws where the pilot saw no extra churn", chance(k.share_clipped)),
    ]
    if result.posterior_p_below_break_even is not None:
        rows.append(
            (
                "Chance the share is below the break-even",
                f"{chance(result.prior_p_below_break_even)} before, "
                f"{chance(result.posterior_p_below_break_even)} after (break-even: "
                f"{share(result.break_even_conversion_npv)} leave each year)",
            )
        )
    lines = [f"Pilot update: {profile.display_name} ({cur})", *_rows(rows), ""]
    names = list(result.prior.scenarios)
    header = ("", "Mean NPV", "Chance of loss", "Chance best")
    table: list[tuple[str, str, str, str]] = []
    for label, decision in (
        ("Before the pilot", result.prior),
        ("After the pilot", result.posterior),
    ):
        table.append((label, "", "", ""))
        for name in names:
            s = decision.scenarios[name]
            mark = " (recommended)" if name == decision.recommended else ""
            table.append(
                (
                    f"  {scenario_title(name)}{mark}",
                    money(s.npv_mean, cur),
                    chance(s.p_loss),
                    chance(s.p_best),
                )
            )
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(4)]
    for row in [header, *table]:
        cells = [f"{row[0]:<{widths[0]}}"] + [
            f"{cell:>{w}}" for cell, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    lines += [
        "",
        f"Net present values over {years} years; {update.posterior.draws:,} draws, seed "
        f"{update.posterior.seed}; every other input keeps its draws.",
        f"Assumption: {ASSUMPTION}",
    ]
    return "\n".join(lines)
