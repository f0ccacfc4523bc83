"""Benchmark: vectorised Monte Carlo against a plain Python loop over the same draws.

Run: ``.venv/bin/python benchmarks/bench_model.py [--draws 100000] [--loop-subset 5000]``

Times, in this process, 100,000 draws x 3 scenarios (hybrid, full automation,
reversal) plus a tornado and a 41 x 41 NPV grid for each scenario, best of
``--repeat`` runs. Then times two per-draw loops over the same draws:

- the package's own scalar path (``compute_phases`` called once per draw), and
- the equations in plain Python floats (no numpy; the per-draw inputs are built
  beforehand from the same draws, so only the equations are timed),

each on the first ``--loop-subset`` draws, scaled up linearly to the full count
(the loops are linear in the number of draws; the report says it is scaled).
Both loops are checked against the vectorised NPV before timing counts.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cxtradeoff.model import compute_phases, scenario_phases
from cxtradeoff.profiles import load_profiles
from cxtradeoff.uncertainty import draw_random, npv_grid, sample_phases, tornado

SCENARIOS = ("hybrid", "full_automation", "reversal")


def npv_plain(phases: list[Mapping[str, float]]) -> float:
    """NPV of one draw in plain Python floats (base equations plus the reversal)."""

    def parts(p: Mapping[str, float]) -> tuple[float, float]:
        m = p["margin"] * p["revenue_per_customer"]
        clv = m * p["retention_rate"] / (1 + p["discount_rate"] - p["retention_rate"])
        v = (
            min(clv, p["acquisition_multiplier"] * p["retention_spend_per_customer"])
            if p["replace_lost_customers"]
            else clv
        )
        a, q = p["ai_resolution_share"], p["ai_escalation_share"]
        x = p["contact_reach"] * (a + q)
        delta = x * p["consider_switch_share"] * p["switch_conversion"]
        delta *= 1 - p["escalation_mitigation"]
        c_h, c_ai = p["cost_human_contact"], p["cost_ai_contact"]
        per_contact = a * (c_h - c_ai) - q * c_ai + (1 - a) * p["assist_productivity"] * c_h
        s = p["customers"] * p["contacts_per_customer"] * per_contact - p["ai_fixed_cost_per_year"]
        return s, p["customers"] * delta * v

    first = phases[0]
    d, years = first["discount_rate"], int(first["horizon_years"])
    s1, l1 = parts(first)
    npv = -first["implementation_cost"]
    if len(phases) == 1:
        for t in range(1, years + 1):
            npv += (s1 - l1) / (1 + d) ** t
        return npv
    later = phases[1]
    s2, l2 = parts(later)
    npv += (s1 - l1) / (1 + d)
    if years > 1:
        u1 = (1 - first["ai_resolution_share"]) * (1 - first["assist_productivity"])
        u2 = (1 - later["ai_resolution_share"]) * (1 - later["assist_productivity"])
        agents = later["customers"] * later["contacts_per_customer"] * max(0.0, u2 - u1)
        agents /= later["contacts_per_agent_per_year"]
        per_agent = later["rehiring_cost_per_agent"]
        if per_agent is None:
            per_agent = later["contacts_per_agent_per_year"] * later["cost_human_contact"] / 4
        npv -= agents * per_agent / (1 + d)
        for t in range(2, years + 1):
            npv += (s2 - l2) / (1 + d) ** t
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="telecom")
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20251114)
    parser.add_argument("--loop-subset", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    params = load_profiles()[args.profile].parameters

    def vectorised() -> dict[str, np.ndarray]:
        uniforms, normals = draw_random(args.draws, args.seed)
        out = {}
        for s in SCENARIOS:
            drawn = sample_phases(scenario_phases(params, s), uniforms, normals)
            out[s] = np.asarray(compute_phases(drawn).npv)
            tornado(params, s)
            npv_grid(params, s)
        return out

    vectorised()  # warm-up (imports, caches)
    t_vec = _best(vectorised, args.repeat)
    reference = vectorised()

    uniforms, normals = draw_random(args.draws, args.seed)
    drawn = {s: sample_phases(scenario_phases(params, s), uniforms, normals) for s in SCENARIOS}
    n = min(args.loop_subset, args.draws)

    def loop_package() -> None:
        for s in SCENARIOS:
            for i in range(n):
                compute_phases(_draw_inputs(drawn[s], i))

    subset_inputs = {s: [_draw_inputs(drawn[s], i) for i in range(n)] for s in SCENARIOS}

    def loop_plain() -> None:
        for s in SCENARIOS:
            for inputs in subset_inputs[s]:
                npv_plain(inputs)

    for s in SCENARIOS:  # the loops compute the same numbers as the vectorised path
        for i in range(0, n, max(1, n // 50)):
            want = float(reference[s][i])
            assert np.isclose(float(compute_phases(_draw_inputs(drawn[s], i)).npv), want)
            assert np.isclose(npv_plain(subset_inputs[s][i]), want, rtol=1e-9)

    scale = args.draws / n
    t_pkg = _best(loop_package, 1) * scale
    t_plain = _best(loop_plain, max(1, args.repeat // 2)) * scale

    # the vectorised Monte Carlo alone (no tornado, no grid) for a like-for-like ratio
    def mc_only() -> None:
        u, z = draw_random(args.draws, args.seed)
        for s in SCENARIOS:
            compute_phases(sample_phases(scenario_phases(params, s), u, z))

    t_mc = _best(mc_only, args.repeat)

    print(f"profile {args.profile}, {args.draws:,} draws x {len(SCENARIOS)} scenarios")
    print(
        f"vectorised Monte Carlo + tornado + 41x41 grid, all scenarios: {t_vec:.3f} s "
        f"(best of {args.repeat}; goal < 1 s)"
    )
    print(f"vectorised Monte Carlo only:                                   {t_mc:.3f} s")
    print(
        f"per-draw loop, package scalar path: {t_pkg:8.2f} s  "
        f"(timed on {n:,} draws per scenario, scaled x{scale:g})"
    )
    print(
        f"per-draw loop, plain Python floats: {t_plain:8.2f} s  "
        f"(timed on {n:,} draws per scenario, scaled x{scale:g})"
    )
    print(f"speed-up of the vectorised Monte Carlo over the package loop: {t_pkg / t_mc:8.0f}x")
    print(f"speed-up of the vectorised Monte Carlo over the plain loop:   {t_plain / t_mc:8.0f}x")
    print(
        f"speed-up of everything vectorised (with tornado and grid) over the plain loop "
        f"(Monte Carlo only): {t_plain / t_vec:6.0f}x"
    )


if __name__ == "__main__":
    main()
