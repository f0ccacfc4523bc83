"""Benchmark: the whole decision for one profile at 1,000,000 draws, in process.

Run: ``.venv/bin/python benchmarks/bench_model.py [--draws 1000000] [--repeat 3]``

Times, in this process, what a report needs from the model for one profile:
``decide`` (base cases, one chunked Monte Carlo of every scenario on common draws, mean,
P10/P50/P90, P(loss), p_best, the recommendation and the EVPPI of k) plus a tornado and
a 41 x 41 NPV grid for each AI scenario; best of ``--repeat`` runs (goal: under 1 s).

Then, as baselines in the same process:

- a per-draw loop of the equations in plain Python floats over the same draws (every
  scenario), timed on the first ``--loop-subset`` draws and scaled up linearly (the loop
  is linear in the draws), after checking that it computes the same NPVs;
- the unchunked path: ``monte_carlo`` once per scenario (every output's draws kept).

Peak memory is measured with ``tracemalloc`` (numpy reports its allocations to it) in a
separate, untimed run, and the process's peak resident set is read from ``resource``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cxtradeoff.decision import decide
from cxtradeoff.model import SCENARIO_NAMES, Parameters, scenario_phases
from cxtradeoff.profiles import load_profiles
from cxtradeoff.uncertainty import (
    draw_random,
    monte_carlo,
    npv_grid,
    sample_phases,
    simulate,
    tornado,
)

AI_SCENARIOS = tuple(s for s in SCENARIO_NAMES if s != "status_quo")


def npv_plain(phases: list[Mapping[str, Any]]) -> float:
    """NPV of one draw in plain Python floats (the contract's equations and the reversal)."""

    def parts(p: Mapping[str, Any]) -> tuple[float, float, float, float]:
        m = p["margin"] * p["revenue_per_customer"]
        s_r = p["retention_spend_per_customer"]
        clv = (m - s_r) * p["retention_rate"] / (1 + p["discount_rate"] - p["retention_rate"])
        v = min(clv, p["acquisition_multiplier"] * s_r) if p["replace_lost_customers"] else clv
        a, q, reach, c = (
            p["ai_resolution_share"],
            p["ai_escalation_share"],
            p["contact_reach"],
            p["contacts_per_customer"],
        )
        if reach > 0:
            n = c / reach
            x = reach * (1 - max(1 - a - q, 0.0) ** n)
            x_f = reach * (1 - max(1 - q, 0.0) ** n)
        else:
            x = x_f = 0.0
        k, e = p["switch_conversion"], p["escalation_penalty"]
        w_h = p["consider_switch_share"] * (1 - p["escalation_mitigation"])
        delta = w_h * (k * x + (min(e * k, 1.0) - k) * x_f)
        c_h, c_ai, pi = p["cost_human_contact"], p["cost_ai_contact"], p["assist_productivity"]
        volume = p["customers"] * c
        s = (
            volume * (a * (c_h - c_ai) - q * c_ai + (1 - a) * pi * c_h)
            - p["ai_fixed_cost_per_year"]
        )
        workload = (1 - a) * (1 - pi)
        severance = volume * c_h * (1 - workload) * p["severance_months"] / 12
        return s, p["customers"] * delta * v, workload, severance

    first = phases[0]
    d, years = first["discount_rate"], int(first["horizon_years"])
    s1, l1, u1, sev1 = parts(first)
    npv = -first["implementation_cost"] - sev1
    if len(phases) == 1:
        return npv + (s1 - l1) * sum((1 + d) ** -t for t in range(1, years + 1))
    later = phases[1]
    s2, l2, u2, _ = parts(later)
    npv += (s1 - l1) / (1 + d)
    if years > 1:
        volume = later["customers"] * later["contacts_per_customer"]
        agents = volume * max(0.0, u2 - u1) / later["contacts_per_agent_per_year"]
        per_agent = later["rehiring_cost_per_agent"]
        if per_agent is None:
            per_agent = later["contacts_per_agent_per_year"] * later["cost_human_contact"] / 4
        further = volume * later["cost_human_contact"] * max(0.0, u1 - u2)
        npv -= (agents * per_agent + further * later["severance_months"] / 12) / (1 + d)
        npv += (s2 - l2) * sum((1 + d) ** -t for t in range(2, years + 1))
    return npv


def _draw_inputs(drawn: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    return [
        {k: (float(v[i]) if isinstance(v, np.ndarray) else v) for k, v in phase.items()}
        for phase in drawn
    ]


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _peak_traced(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="telecom")
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20251114)
    parser.add_argument("--loop-subset", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--skip-unchunked", action="store_true", help="do not time the unchunked baseline"
    )
    args = parser.parse_args()

    params: Parameters = load_profiles()[args.profile].parameters

    def everything() -> object:
        decision = decide(params, draws=args.draws, seed=args.seed)
        for s in AI_SCENARIOS:
            tornado(params, s)
            npv_grid(params, s)
        return decision

    everything()  # warm-up (imports, caches, the PERT tables)
    t_all = _best(everything, args.repeat)
    rss_after_timing = _rss_mib()
    peak_all = _peak_traced(everything)

    t_sim = _best(lambda: simulate(params, SCENARIO_NAMES, draws=args.draws, seed=args.seed), 1)

    # baseline 1: the equations in plain Python floats, per draw, on a subset
    n = min(args.loop_subset, args.draws)
    random = draw_random(n, args.seed)
    subset = {s: sample_phases(scenario_phases(params, s), random) for s in SCENARIO_NAMES}
    inputs = {s: [_draw_inputs(subset[s], i) for i in range(n)] for s in SCENARIO_NAMES}
    reference = simulate(params, SCENARIO_NAMES, draws=n, seed=args.seed)
    for s in SCENARIO_NAMES:  # the loop computes the same numbers
        got = np.array([npv_plain(x) for x in inputs[s]])
        np.testing.assert_allclose(got, reference.npv_of(s), rtol=1e-9, atol=1e-6)

    def loop_plain() -> None:
        for s in SCENARIO_NAMES:
            for x in inputs[s]:
                npv_plain(x)

    scale = args.draws / n
    t_loop = _best(loop_plain, max(1, args.repeat)) * scale

    print(f"profile {args.profile}, {args.draws:,} draws x {len(SCENARIO_NAMES)} scenarios")
    print(
        f"decide (Monte Carlo, mean/P10/P50/P90, P(loss), p_best, EVPPI) + tornado + "
        f"41x41 grid per AI scenario: {t_all:.3f} s (best of {args.repeat}; goal < 1 s)"
    )
    print(f"  of which the chunked Monte Carlo of every scenario: {t_sim:.3f} s")
    print(
        f"  peak traced memory (tracemalloc): {peak_all / 2**20:.1f} MiB; "
        f"process peak RSS: {rss_after_timing:.0f} MiB"
    )
    print(
        f"baseline, per-draw loop in plain Python floats: {t_loop:.1f} s "
        f"(timed on {n:,} draws per scenario, scaled x{scale:g})"
    )
    print(f"  ratio baseline / everything vectorised: {t_loop / t_all:.0f}x")
    print(f"  ratio baseline / vectorised Monte Carlo alone: {t_loop / t_sim:.0f}x")
    if not args.skip_unchunked:

        def unchunked() -> None:
            for s in SCENARIO_NAMES:
                monte_carlo(params, s, draws=args.draws, seed=args.seed)

        t_unchunked = _best(unchunked, 1)
        peak_unchunked = _peak_traced(unchunked)
        print(
            f"baseline, unchunked monte_carlo per scenario (every output kept): "
            f"{t_unchunked:.3f} s, peak traced memory {peak_unchunked / 2**20:.0f} MiB"
        )


if __name__ == "__main__":
    main()
