"""Benchmark: ``cxtradeoff pilot plan`` with EVSI over 20,000 prior draws (goal: under 2 s).

Run: ``.venv/bin/python benchmarks/bench_pilot.py [--profile telecom] [--draws 20000]``

Times, in this process, what ``pilot plan`` computes for one profile
(:func:`cxtradeoff.pilot.plan_pilot`: the base case, one Monte Carlo of every scenario on
common draws, the piloted scenario's churn in each draw, the EVPPI of the switching
conversion and of the pilot's churn, and the EVSI of a pilot of ``n_per_arm``
customers); best of ``--repeat`` runs. Then the command itself, end to end, in a
subprocess (Python start-up and imports included).

Baselines, in the same process and on the same draws (the EVSI only):

- the plain definition: for each simulated pilot, every prior draw reweighted by its
  likelihood and the posterior mean NPV of each scenario taken on the raw draws (numpy
  over the draws, a Python loop over the pilots), timed on ``--subset`` pilots and scaled
  up linearly (it is linear in the pilots);
- the same in plain Python floats (a loop over pilots and draws), timed on
  ``--loop-subset`` pilots and scaled up.

The fast EVSI is printed beside the plain definition's on the full run (the estimators
differ slightly: the fast one averages NPV within bins of the pilot's churn, see
``docs/pilot.md``).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

from cxtradeoff.decision import decide
from cxtradeoff.pilot import (
    expected_value_of_sample_information,
    pilot_churn,
    pilot_draws,
    plan_pilot,
)
from cxtradeoff.profiles import load_profiles

#: the spawn key of the EVSI's simulated pilots (cxtradeoff.pilot._STREAM_EVSI)
EVSI_STREAM = 1_002


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _pilots(theta: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(EVSI_STREAM,)))
    return rng.binomial(n, theta)


def evsi_plain_numpy(npv: np.ndarray, theta: np.ndarray, y: np.ndarray, n: int) -> float:
    """The definition: every draw reweighted for every simulated pilot (raw NPVs)."""
    best = int(np.argmax(npv.mean(axis=1)))
    log_theta, log_rest = np.log(theta), np.log1p(-theta)
    total = 0.0
    for count in y:
        log_like = count * log_theta + (n - count) * log_rest
        weight = np.exp(log_like - log_like.max())
        posterior = npv @ weight / weight.sum()
        total += float(posterior.max() - posterior[best])
    return total / y.size


def evsi_plain_python(npv: list[list[float]], theta: list[float], y: list[int], n: int) -> float:
    """The same definition in plain Python floats."""
    scenarios, draws = len(npv), len(theta)
    means = [sum(row) / draws for row in npv]
    best = max(range(scenarios), key=means.__getitem__)
    logs = [(math.log(t), math.log1p(-t)) for t in theta]
    total = 0.0
    for count in y:
        log_like = [count * a + (n - count) * b for a, b in logs]
        top = max(log_like)
        weight = [math.exp(v - top) for v in log_like]
        norm = sum(weight)
        posterior = [sum(w * v for w, v in zip(weight, row, strict=True)) / norm for row in npv]
        total += max(posterior) - posterior[best]
    return total / len(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="telecom")
    parser.add_argument("--scenario", default="full_automation")
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20251114)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--subset", type=int, default=500, help="pilots in the numpy baseline")
    parser.add_argument("--loop-subset", type=int, default=3, help="pilots in the Python loop")
    args = parser.parse_args()

    params = load_profiles()[args.profile].parameters

    def plan() -> object:
        return plan_pilot(
            params, args.scenario, months=args.months, draws=args.draws, seed=args.seed
        )

    result = plan_pilot(params, args.scenario, months=args.months, draws=args.draws, seed=args.seed)
    n = result.customers_per_arm
    assert n is not None, "the piloted scenario has no pilot size; pick another"
    seconds = _best(plan, args.repeat)

    # the EVSI alone, and its baselines, on the same draws
    sim = decide(params, draws=args.draws, seed=args.seed).simulation
    drawn = pilot_draws(params, args.scenario, months=args.months, draws=args.draws, seed=args.seed)
    theta = np.clip(
        np.asarray(pilot_churn(params.retention_rate, drawn.extra_churn, args.months)),
        1e-12,
        1 - 1e-12,
    )
    y = _pilots(theta, n, args.seed)

    def fast() -> object:
        return expected_value_of_sample_information(
            sim.npv, theta, customers_per_arm=n, seed=args.seed
        )

    evsi_seconds = _best(fast, args.repeat)
    subset = min(args.subset, y.size)
    start = time.perf_counter()
    evsi_plain_numpy(sim.npv, theta, y[:subset], n)
    numpy_seconds = (time.perf_counter() - start) * y.size / subset
    loop = min(args.loop_subset, y.size)
    rows, thetas, counts = sim.npv.tolist(), theta.tolist(), [int(v) for v in y[:loop]]
    start = time.perf_counter()
    evsi_plain_python(rows, thetas, counts, n)
    python_seconds = (time.perf_counter() - start) * y.size / loop
    plain_value = evsi_plain_numpy(sim.npv, theta, y, n) if y.size <= 20_000 else math.nan

    command = [
        sys.executable, "-m", "cxtradeoff.cli", "pilot", "plan", "--profile", args.profile,
        "--scenario", args.scenario, "--months", str(args.months), "--draws", str(args.draws),
        "--seed", str(args.seed),
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    cli_seconds = time.perf_counter() - start

    print(
        f"pilot plan, {args.profile} / {args.scenario} / {args.months} months, "
        f"{args.draws:,} prior draws, {n:,} customers per arm"
    )
    rows = [
        (f"plan_pilot in process (best of {args.repeat})", f"{seconds:8.3f} s", "goal < 2 s"),
        ("cxtradeoff pilot plan, end to end", f"{cli_seconds:8.3f} s", "start-up included"),
        (f"EVSI alone (best of {args.repeat})", f"{evsi_seconds:8.3f} s", ""),
        (
            "EVSI by the plain definition, numpy",
            f"{numpy_seconds:8.3f} s",
            f"{subset} pilots scaled up; {numpy_seconds / evsi_seconds:,.0f} x the fast EVSI",
        ),
        (
            "EVSI by the plain definition, Python",
            f"{python_seconds:8.1f} s",
            f"{loop} pilots scaled up; {python_seconds / evsi_seconds:,.0f} x the fast EVSI",
        ),
    ]
    width = max(len(label) for label, _, _ in rows)
    for label, value, note in rows:
        print(f"  {label:<{width}}  {value}   {note}".rstrip())
    print(
        f"  EVSI: fast {result.evsi:,.0f}, plain definition {plain_value:,.0f}; "
        f"EVPPI of k {result.evppi_switch_conversion:,.0f}, "
        f"of the pilot's churn {result.evppi_extra_churn:,.0f}"
    )
    print("  within goal" if seconds < 2.0 else "  ABOVE GOAL")


if __name__ == "__main__":
    main()
