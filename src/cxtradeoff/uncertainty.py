"""Uncertainty: the distributions of the uncertain inputs, Monte Carlo, tornado, grid.

Every distribution is stated once, in :data:`DISTRIBUTIONS` (the registry), and every
input left fixed once, in :data:`FIXED_INPUTS`, with the reason. The report shows them
with :func:`distributions_frame` and :func:`fixed_inputs_frame`;
:func:`distribution_table` gives the numbers for a profile and scenario. The rule for
each input: bounds from the evidence (or multiples of the base value where the evidence
gives no absolute scale), the mode (or median) at the profile's base value in the
scenario, bounds widened to include the base value when it falls outside them.

Monte Carlo is vectorised and seeded: each uncertain input draws from its own numpy
``Generator``, spawned from the seed in the registry's order, so the same seed gives
the same figures bit for bit, whatever the number of draws per chunk. Every scenario
uses the same draws (common random numbers); the two phases of the reversal scenario
share the same draw of each input. :func:`simulate` runs all scenarios at once, in
chunks that bound memory, computing each distinct phase once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from cxtradeoff.errors import ParameterError
from cxtradeoff.model import (
    ModelResult,
    Parameters,
    compute_phases,
    get_scenario,
    npv_of_phases,
    scenario_phases,
)

#: seed used when none is given (the article's publication date)
DEFAULT_SEED: int = 20251114
#: draws per chunk in :func:`simulate`: bounds memory, keeps the arrays in cache
DEFAULT_CHUNK: int = 16_384
#: z such that P(Z <= z) = 0.95 (a 90% central interval is +-Z95 sigma)
Z95: float = NormalDist().inv_cdf(0.95)
#: log-sd of switch_conversion: the 90% interval is median / 5 .. median * 5
SIGMA_CONVERSION: float = math.log(5.0) / Z95
#: intervals of the tabulated PERT quantile function
_PERT_TABLE_SIZE: int = 16_384


@dataclass(frozen=True)
class Shape:
    """A concrete distribution: ``family`` with its numbers.

    ``triangular(low, mode, high)``; ``uniform(low, high)``; ``beta``: a PERT beta on
    ``[low, high]`` with mode ``mode``; ``lognormal``: median ``mode``, log-sd
    ``sigma``, capped at ``high``; ``fixed``: always ``mode``.
    """

    family: str
    low: float
    mode: float
    high: float
    sigma: float = 0.0

    @property
    def varies(self) -> bool:
        """False for a fixed value (or a range of width 0)."""
        if self.family == "lognormal":
            return self.sigma > 0 and self.mode > 0
        return self.family != "fixed" and self.high > self.low

    @property
    def uses_normals(self) -> bool:
        """True if :meth:`sample` takes standard normals rather than uniforms."""
        return self.family == "lognormal"

    def sample(self, r: np.ndarray) -> np.ndarray:
        """Draws from random numbers ``r``: standard normals for the lognormal, else uniforms."""
        if self.family == "lognormal":
            return np.minimum(self.mode * np.exp(self.sigma * r), self.high)
        return self.ppf(r)

    def ppf(self, u: np.ndarray | float) -> np.ndarray:
        """Inverse cumulative distribution function (quantile function)."""
        u = np.asarray(u, dtype=float)
        lo, mode, hi = self.low, self.mode, self.high
        if not self.varies:
            return np.full_like(u, mode)
        if self.family == "uniform":
            return lo + u * (hi - lo)
        if self.family == "triangular":
            c = (mode - lo) / (hi - lo)
            left = lo + np.sqrt(u * ((hi - lo) * (mode - lo)))
            right = hi - np.sqrt((1.0 - u) * ((hi - lo) * (hi - mode)))
            return np.where(u < c, left, right)
        if self.family == "beta":
            table = _pert_quantiles((mode - lo) / (hi - lo))
            position = u * _PERT_TABLE_SIZE
            index = np.minimum(position.astype(np.intp), _PERT_TABLE_SIZE - 1)
            frac = position - index
            below = table[index]
            return lo + (hi - lo) * (below + frac * (table[index + 1] - below))
        if self.family == "lognormal":
            z = np.vectorize(NormalDist().inv_cdf, otypes=[float])(np.clip(u, 1e-12, 1 - 1e-12))
            return np.minimum(mode * np.exp(self.sigma * z), hi)
        raise ValueError(f"unknown distribution family {self.family!r}")

    def quantile(self, q: float) -> float:
        """One quantile, e.g. ``quantile(0.1)`` for the P10."""
        return float(self.ppf(np.asarray([q]))[0])

    def describe(self) -> str:
        """The distribution in words, e.g. ``triangular(0.45, 0.53, 0.64)``."""
        if not self.varies:
            return f"fixed at {self.mode:.4g}"
        if self.family == "uniform":
            return f"uniform({self.low:.4g}, {self.high:.4g})"
        if self.family == "triangular":
            return f"triangular({self.low:.4g}, {self.mode:.4g}, {self.high:.4g})"
        if self.family == "beta":
            return f"PERT beta on [{self.low:.4g}, {self.high:.4g}], mode {self.mode:.4g}"
        lo, hi = (
            self.mode / math.exp(self.sigma * Z95),
            min(self.mode * math.exp(self.sigma * Z95), self.high),
        )
        return (
            f"lognormal, median {self.mode:.4g}, 90% interval {lo:.3g} to {hi:.3g}, "
            f"capped at {self.high:g}"
        )


@lru_cache(maxsize=64)
def _pert_quantiles(relative_mode: float) -> np.ndarray:
    """Quantile function of a PERT beta on [0, 1], tabulated at u = 0, 1/M, ..., 1.

    The CDF is integrated (trapezoids) on a fine grid of x, then inverted at equally
    spaced u; alpha, beta >= 1, so the density is finite. Draws interpolate linearly
    between the M + 1 points.
    """
    alpha = 1.0 + 4.0 * relative_mode
    beta = 1.0 + 4.0 * (1.0 - relative_mode)
    grid = np.linspace(0.0, 1.0, 8 * _PERT_TABLE_SIZE + 1)
    density = grid ** (alpha - 1.0) * (1.0 - grid) ** (beta - 1.0)
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2.0)])
    cdf /= cdf[-1]
    table = np.interp(np.linspace(0.0, 1.0, _PERT_TABLE_SIZE + 1), cdf, grid)
    table.setflags(write=False)
    return table


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain input of the registry: its distribution rule and evidence basis.

    ``family`` with bounds ``low`` and ``high``, absolute or (``relative``) multiples of
    the base value; the mode or median is the base value. Special rules (stated in
    ``rule``) are applied by :meth:`shape`.
    """

    parameter: str
    symbol: str
    family: str
    low: float
    high: float
    relative: bool
    rule: str
    basis: str

    def shape(self, base: float, kind: str, params: Parameters) -> Shape:
        """The concrete distribution around ``base`` in a phase of kind ``kind``."""
        name = self.parameter
        if name == "switch_conversion":
            return Shape("lognormal", 0.0, base, self.high, SIGMA_CONVERSION)
        if name == "escalation_mitigation":
            low, high = ESCALATION_RANGES.get(kind, (base, base))
            return _widened("beta", low, base, high)
        if name in ZERO_MEANS_FIXED and base <= 0:
            return Shape("fixed", base, base, base)
        low, high = (self.low * base, self.high * base) if self.relative else (self.low, self.high)
        if name == "ai_resolution_share":  # a + q <= 1 in every draw
            high = min(high, 1.0 - params.ai_escalation_share)
        elif name == "contacts_per_customer":  # c >= p in every draw
            low = max(low, params.contact_reach)
        elif name == "severance_months":
            high = min(high, 36.0)
        return _widened(self.family, low, base, high)


def _widened(family: str, low: float, mode: float, high: float) -> Shape:
    low, high = min(low, mode), max(high, mode)
    if high <= low:
        return Shape("fixed", mode, mode, mode)
    return Shape(family, low, mode, high)


#: range of escalation_mitigation by scenario kind (the beta's support)
ESCALATION_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"hybrid": (0.5, 0.9), "full_automation": (0.0, 0.3)}
)
#: inputs that stay at 0 where their base is 0 (no assistance, no severance, no AI)
ZERO_MEANS_FIXED: frozenset[str] = frozenset(
    {"assist_productivity", "severance_months", "ai_resolution_share"}
)

#: THE registry of distributions (the only place they are stated), in draw order
DISTRIBUTIONS: tuple[UncertainInput, ...] = (
    UncertainInput(
        "consider_switch_share",
        "w",
        "triangular",
        0.45,
        0.64,
        False,
        "triangular(0.45, base, 0.64)",
        "Gartner press release 2024-07-09 (5,728 customers, Dec 2023): 53% would consider "
        "switching (mode); 64% would rather companies not use AI in service (upper bound, a "
        "proxy); the lower bound is an assumption",
    ),
    UncertainInput(
        "switch_conversion",
        "k",
        "lognormal",
        0.0,
        1.0,
        False,
        "lognormal, median base, 90% interval base/5 to base*5, capped at 1",
        "a prior: no published study converts 'would consider switching' into leaving; "
        "intention explains little of actual exit (Wirtz et al. 2014; de Mesquita et al. "
        "2023); median 0.05, 90% interval 0.01 to 0.25 is an assumption",
    ),
    UncertainInput(
        "escalation_penalty",
        "e",
        "triangular",
        1.0,
        3.0,
        False,
        "triangular(1, base, 3); e * k capped at 1 in each draw",
        "Gartner 2023: 62% of self-service-to-agent hand-offs are high-effort; CEB/Gartner "
        "2013: 96% more disloyal after a high-effort interaction, 9% after a low-effort one; "
        "Five9 (vendor survey, 3,000 consumers): 83% repeat themselves after a hand-off; "
        "Zhang & Narayandas 2025: a failed chatbot makes even good human replies land worse; "
        "1 = no penalty; the upper bound 3 is an assumption",
    ),
    UncertainInput(
        "escalation_mitigation",
        "h",
        "beta",
        0.0,
        1.0,
        False,
        "PERT beta, mode base; hybrid on [0.5, 0.9], full automation on [0, 0.3]",
        "Gartner 2023: 74% with an easy hand-off return to self-service; Gartner 2024: the "
        "top worry (60%) is a harder path to a person; the ranges are assumptions",
    ),
    UncertainInput(
        "acquisition_multiplier",
        "M",
        "triangular",
        5.0,
        25.0,
        False,
        "triangular(5, base, 25)",
        "Harvard Business Review (A. Gallo, 2014-10-29): 'five to 25 times', a rhetorical "
        "range across studies, not a measurement; matters only where lost customers are "
        "valued at min(CLV, CAC)",
    ),
    UncertainInput(
        "cost_ai_contact",
        "C_ai",
        "triangular",
        0.125,
        2.5,
        True,
        "triangular(0.125 base, base, 2.5 base); (0.1, 0.8, 2.0) at base 0.8",
        "Gartner 2019 poll: about USD 0.10 per self-service contact (low end); generative "
        "AI costs more per contact; scaled to the base so it holds in any currency",
    ),
    UncertainInput(
        "assist_productivity",
        "pi",
        "triangular",
        0.05,
        0.35,
        False,
        "triangular(0.05, base, 0.35) where the scenario assists agents; else fixed at 0",
        "Brynjolfsson, Li & Raymond, Quarterly Journal of Economics 2025 (5,179 agents): "
        "+14% productivity on average, +34% for novices (upper bound); the lower bound is "
        "an assumption",
    ),
    UncertainInput(
        "ai_resolution_share",
        "a",
        "beta",
        0.14,
        0.8,
        False,
        "PERT beta on [0.14, min(0.8, 1 - q)], mode base",
        "Gartner 2024: 14% of issues fully resolved in self-service (lower bound); Klarna "
        "2024: two-thirds of chats handled by its assistant; Salesforce 2025: AI handles "
        "about half of conversations; Gartner 2025 forecast: 80% of common issues by 2029 "
        "(upper bound)",
    ),
    UncertainInput(
        "contacts_per_customer",
        "c",
        "triangular",
        0.75,
        1.25,
        True,
        "triangular(max(0.75 base, p), base, 1.25 base)",
        "contact volumes in the profiles are illustrative; they move: Sky UK expected its "
        "25M calls a year to fall to 17M by 2029 (March 2025); +-25% is an assumption",
    ),
    UncertainInput(
        "cost_human_contact",
        "C_h",
        "triangular",
        0.75,
        1.25,
        True,
        "triangular(0.75 base, base, 1.25 base)",
        "Gartner 2019 poll: about USD 8.01 per assisted contact, an average across service "
        "leaders; loaded costs differ by country and channel; +-25% is an assumption",
    ),
    UncertainInput(
        "ai_fixed_cost_per_year",
        "O",
        "triangular",
        0.8,
        1.5,
        True,
        "triangular(0.8 base, base, 1.5 base)",
        "assumption: platform prices are contracted but usage and the running team grow; "
        "skewed up like IT costs (Flyvbjerg & Budzier, HBR 2011: 1,471 IT projects, "
        "average cost overrun 27%)",
    ),
    UncertainInput(
        "implementation_cost",
        "F",
        "triangular",
        0.9,
        2.0,
        True,
        "triangular(0.9 base, base, 2 base)",
        "Flyvbjerg & Budzier, Harvard Business Review 2011 (1,471 IT projects): average "
        "cost overrun 27% (this distribution's mean is +30%), one in six overran by 200% "
        "(a fat tail this triangle leaves out)",
    ),
    UncertainInput(
        "severance_months",
        "sigma",
        "triangular",
        0.5,
        1.5,
        True,
        "triangular(0.5 base, base, 1.5 base), at most 36; fixed at 0 where the base is 0",
        "labour law sets a floor and practice a range: statutory minimums (France: a "
        "quarter of a month per year of service; Spain: 20 days per year) against "
        "negotiated social plans and settlements (Germany: half a month per year); "
        "tenure varies; half to one and a half times the profile's value is an assumption",
    ),
)
UNCERTAIN_NAMES: tuple[str, ...] = tuple(d.parameter for d in DISTRIBUTIONS)
_ROW: Mapping[str, int] = MappingProxyType({name: i for i, name in enumerate(UNCERTAIN_NAMES)})
_NORMAL_ROWS: frozenset[int] = frozenset(
    i for i, d in enumerate(DISTRIBUTIONS) if d.family == "lognormal"
)

#: every other input, left fixed, with its symbol and the reason
FIXED_INPUTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "customers": ("N", "the company's own count"),
        "revenue_per_customer": (
            "R",
            "the company's own accounts (illustrative in the profiles; set with --set)",
        ),
        "margin": ("g", "the company's own accounts (illustrative in the profiles)"),
        "retention_rate": ("r", "the company's own churn data (illustrative in the profiles)"),
        "discount_rate": ("d", "a choice of the decision-maker, not an uncertain quantity"),
        "horizon_years": ("T", "a choice of the decision-maker, not an uncertain quantity"),
        "contact_reach": ("p", "the company's own service data (who contacted service)"),
        "ai_escalation_share": (
            "q",
            "the scenario's design target; what AI fails to resolve is carried by the "
            "distributions of a and e",
        ),
        "retention_spend_per_customer": ("s_r", "the company's own budget"),
        "replace_lost_customers": (
            "-",
            "a valuation choice, not an uncertainty: the break-even is shown both ways",
        ),
        "contacts_per_agent_per_year": (
            "-",
            "reversal only: sets the number of agents rehired; a secondary assumption",
        ),
        "rehiring_cost_per_agent": (
            "-",
            "reversal only: one-off cost per agent rehired; a secondary assumption",
        ),
    }
)


def distributions_frame() -> pd.DataFrame:
    """The registry of distributions (rule and evidence basis), for the report.

    Returns
    -------
    DataFrame
        Columns ``parameter``, ``symbol``, ``distribution``, ``basis``; one row per
        uncertain input, in :data:`DISTRIBUTIONS` order.
    """
    return pd.DataFrame(
        [
            {"parameter": d.parameter, "symbol": d.symbol, "distribution": d.rule, "basis": d.basis}
            for d in DISTRIBUTIONS
        ]
    )


def fixed_inputs_frame() -> pd.DataFrame:
    """The inputs left fixed in the Monte Carlo, with the reason, for the report.

    Returns
    -------
    DataFrame
        Columns ``parameter``, ``symbol``, ``reason``; one row per fixed input.
    """
    return pd.DataFrame(
        [
            {"parameter": name, "symbol": symbol, "reason": reason}
            for name, (symbol, reason) in FIXED_INPUTS.items()
        ]
    )


def _has_ai(params: Parameters) -> bool:
    return (
        params.ai_resolution_share + params.ai_escalation_share > 0
        or params.assist_productivity > 0
    )


def phase_shapes(kind: str, params: Parameters) -> dict[str, Shape]:
    """The distribution of every uncertain input in one phase (``kind`` as in the model).

    In a phase without AI (a = q = pi = 0, e.g. the status quo) nothing varies: no one
    meets an AI and nothing is saved, so NPV is 0 in every draw.
    """
    shapes = {}
    active = _has_ai(params)
    for spec in DISTRIBUTIONS:
        base = float(getattr(params, spec.parameter))
        if not active:
            shapes[spec.parameter] = Shape("fixed", base, base, base)
        else:
            shapes[spec.parameter] = spec.shape(base, kind, params)
    return shapes


def distribution_table(
    params: Parameters, scenario: str, *, overrides: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The distributions as used for one profile and scenario, with P10/P50/P90.

    Returns
    -------
    DataFrame
        Columns ``parameter``, ``symbol``, ``phase``, ``base``, ``distribution``,
        ``p10``, ``p50``, ``p90``, ``basis``; one row per input and phase.
    """
    rows = []
    phases = scenario_phases(params, scenario, overrides=overrides)
    for kind, p in phases:
        shapes = phase_shapes(kind, p)
        for spec in DISTRIBUTIONS:
            shape = shapes[spec.parameter]
            rows.append(
                {
                    "parameter": spec.parameter,
                    "symbol": spec.symbol,
                    "phase": kind,
                    "base": float(getattr(p, spec.parameter)),
                    "distribution": shape.describe(),
                    "p10": shape.quantile(0.1),
                    "p50": shape.quantile(0.5),
                    "p90": shape.quantile(0.9),
                    "basis": spec.basis,
                }
            )
    return pd.DataFrame(rows)


def _check_draws_and_seed(draws: Any, seed: Any) -> None:
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise ParameterError(f"draws = {draws!r} is not allowed; expected an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed = {seed!r} is not allowed; expected an integer >= 0")


def random_numbers(
    draws: int, seed: int, *, chunk_size: int = DEFAULT_CHUNK
) -> Iterator[np.ndarray]:
    """The random numbers of one Monte Carlo run, chunk by chunk.

    Each uncertain input has its own stream (``SeedSequence(seed).spawn``, in registry
    order): standard normals for the lognormal, uniforms on [0, 1) otherwise. A stream
    is consumed in order, so the numbers do not depend on ``chunk_size``.

    Yields
    ------
    ndarray
        Shape ``(len(DISTRIBUTIONS), m)``, row i for input i; m = ``chunk_size``
        except in the last chunk.

    Raises
    ------
    ParameterError
        If ``draws`` < 1, ``seed`` < 0 or ``chunk_size`` < 1.
    """
    _check_draws_and_seed(draws, seed)
    if chunk_size < 1:
        raise ParameterError(f"chunk_size = {chunk_size!r} is not allowed; expected >= 1")
    children = np.random.SeedSequence(int(seed)).spawn(len(DISTRIBUTIONS))
    streams = [np.random.default_rng(child) for child in children]
    total = int(draws)
    for start in range(0, total, chunk_size):
        m = min(chunk_size, total - start)
        out = np.empty((len(streams), m))
        for i, rng in enumerate(streams):
            if i in _NORMAL_ROWS:
                rng.standard_normal(m, out=out[i])
            else:
                rng.random(m, out=out[i])
        yield out


def draw_random(draws: int, seed: int) -> np.ndarray:
    """All the random numbers of one run at once (see :func:`random_numbers`).

    Raises
    ------
    ParameterError
        If ``draws`` < 1 or ``seed`` < 0.
    """
    return next(random_numbers(draws, seed, chunk_size=max(1, int(draws))))


class _Sampler:
    """Turns one chunk of random numbers into input draws, sharing equal distributions."""

    def __init__(self, random: np.ndarray) -> None:
        self.random = random
        self._cache: dict[tuple[int, Shape], np.ndarray] = {}

    def draw(self, name: str, shape: Shape) -> np.ndarray:
        key = (_ROW[name], shape)
        if key not in self._cache:
            self._cache[key] = shape.sample(self.random[_ROW[name]])
        return self._cache[key]

    def inputs(self, params: Parameters, shapes: Mapping[str, Shape]) -> dict[str, Any]:
        values = params.as_inputs()
        for name, shape in shapes.items():
            if shape.varies:
                values[name] = self.draw(name, shape)
        return values


def sample_phases(
    phases: Sequence[tuple[str, Parameters]], random: np.ndarray
) -> list[dict[str, Any]]:
    """Model inputs for each phase with the uncertain inputs replaced by draws.

    ``random`` is one chunk of :func:`random_numbers` (or :func:`draw_random`).
    """
    sampler = _Sampler(random)
    return [sampler.inputs(p, phase_shapes(kind, p)) for kind, p in phases]


@dataclass(frozen=True)
class Simulation:
    """NPV draws of several scenarios on common random numbers.

    ``npv[i]`` holds the draws of ``scenarios[i]``; ``conversion`` the draws of the
    switching conversion k (the same in every scenario), for the value of information.
    """

    scenarios: tuple[str, ...]
    draws: int
    seed: int
    npv: np.ndarray
    conversion: np.ndarray

    def npv_of(self, scenario: str) -> np.ndarray:
        """The NPV draws of one scenario."""
        return self.npv[self.scenarios.index(scenario)]


def simulate(
    params: Parameters,
    scenarios: Sequence[str],
    *,
    draws: int,
    seed: int,
    overrides: Mapping[str, Any] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    conversion: np.ndarray | None = None,
) -> Simulation:
    """Seeded, vectorised Monte Carlo of several scenarios on the same draws.

    The draws are processed ``chunk_size`` at a time (memory stays bounded: only NPV
    and k are kept); within a chunk each distinct phase (the reversal's phases are the
    full automation and hybrid scenarios) is computed once. The figures do not depend
    on ``chunk_size``.

    Parameters
    ----------
    params
        The company profile.
    scenarios
        Scenario names (each once).
    draws, seed
        Number of draws (>= 1) and the seed (>= 0).
    overrides
        Parameter overrides applied after each scenario (they set the base values).
    conversion
        Optional draws of switch_conversion, shape ``(draws,)``, values in 0..1, that
        replace the prior's draws of k in every phase of every scenario, paired draw by
        draw (draw i of every other input is unchanged). A pilot's posterior of k
        (:mod:`cxtradeoff.pilot`) enters the decision this way; ``Simulation.conversion``
        then holds these draws.

    Returns
    -------
    Simulation
    """
    names = tuple(scenarios)
    if not names:
        raise ParameterError("scenarios is empty; give at least one scenario name")
    if len(set(names)) != len(names):
        raise ParameterError(f"scenarios {list(names)!r} name a scenario twice")
    for name in names:
        get_scenario(name)
    _check_draws_and_seed(draws, seed)
    replacement = None if conversion is None else _replacement_conversion(conversion, draws)
    plans = [scenario_phases(params, name, overrides=overrides) for name in names]
    distinct: dict[tuple[str, Parameters], dict[str, Shape]] = {}
    for plan in plans:
        for kind, p in plan:
            if (kind, p) not in distinct:
                distinct[(kind, p)] = phase_shapes(kind, p)
    k_shape = DISTRIBUTIONS[_ROW["switch_conversion"]].shape(
        float(params.updated(dict(overrides or {})).switch_conversion), "", params
    )
    npv = np.empty((len(names), int(draws)))
    k_draws = np.empty(int(draws))
    start = 0
    for random in random_numbers(draws, seed, chunk_size=chunk_size):
        stop = start + random.shape[1]
        sampler = _Sampler(random)
        inputs = {key: sampler.inputs(key[1], shapes) for key, shapes in distinct.items()}
        if replacement is None:
            k_draws[start:stop] = sampler.draw("switch_conversion", k_shape)
        else:
            k_draws[start:stop] = replacement[start:stop]
            for values in inputs.values():
                values["switch_conversion"] = k_draws[start:stop]
        cache: dict[int, Any] = {}
        for i, plan in enumerate(plans):
            npv[i, start:stop] = npv_of_phases([inputs[key] for key in plan], cache=cache)
        start = stop
    return Simulation(
        scenarios=names, draws=int(draws), seed=int(seed), npv=npv, conversion=k_draws
    )


def _replacement_conversion(conversion: np.ndarray, draws: int) -> np.ndarray:
    """Check replacement draws of k for :func:`simulate`: one per draw, finite, 0..1."""
    k = np.asarray(conversion, dtype=float)
    if k.shape != (int(draws),):
        raise ParameterError(
            f"conversion has shape {k.shape}; expected ({int(draws)},), one switch_conversion "
            "per draw"
        )
    if not np.all(np.isfinite(k)) or np.any(k < 0) or np.any(k > 1):
        raise ParameterError("conversion draws must be finite numbers from 0 to 1")
    return k


@dataclass(frozen=True)
class MonteCarloResult:
    """Draws of every model output of one scenario and the summary of NPV."""

    scenario: str
    draws: int
    seed: int
    result: ModelResult
    npv: np.ndarray
    npv_mean: float
    npv_p10: float
    npv_p50: float
    npv_p90: float
    p_loss: float

    def summary(self) -> dict[str, float]:
        """``npv_mean``, ``npv_p10``, ``npv_p50``, ``npv_p90``, ``p_loss`` (share of NPV < 0)."""
        return {
            "npv_mean": self.npv_mean,
            "npv_p10": self.npv_p10,
            "npv_p50": self.npv_p50,
            "npv_p90": self.npv_p90,
            "p_loss": self.p_loss,
        }


def monte_carlo(
    params: Parameters,
    scenario: str,
    *,
    draws: int,
    seed: int,
    overrides: Mapping[str, Any] | None = None,
) -> MonteCarloResult:
    """Seeded, vectorised Monte Carlo of one scenario, keeping every output's draws.

    Its NPV draws are those :func:`simulate` gives the scenario with the same seed,
    bit for bit. For several scenarios and the decision, use :func:`simulate` (or
    :func:`cxtradeoff.decision.decide`), which keeps only NPV and bounds memory.

    Returns
    -------
    MonteCarloResult
    """
    get_scenario(scenario)
    random = draw_random(draws, seed)
    phases = scenario_phases(params, scenario, overrides=overrides)
    result = compute_phases(sample_phases(phases, random))
    npv = np.broadcast_to(np.asarray(result.npv, dtype=float), (int(draws),))
    p10, p50, p90 = (float(v) for v in np.percentile(npv, [10.0, 50.0, 90.0]))
    return MonteCarloResult(
        scenario=scenario,
        draws=int(draws),
        seed=int(seed),
        result=result,
        npv=npv,
        npv_mean=float(np.mean(npv)),
        npv_p10=p10,
        npv_p50=p50,
        npv_p90=p90,
        p_loss=float(np.mean(npv < 0)),
    )


TORNADO_COLUMNS: tuple[str, ...] = (
    "parameter",
    "symbol",
    "low",
    "high",
    "npv_low",
    "npv_high",
    "npv_base",
    "swing",
)


def tornado(
    params: Parameters, scenario: str, *, overrides: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """NPV with each uncertain input swung between its P10 and P90, the others at base.

    In the reversal scenario an input is swung in both phases at once (same quantile).

    Returns
    -------
    DataFrame
        Columns ``parameter``, ``symbol``, ``low``, ``high`` (the input's P10 and P90
        in the first phase where it varies), ``npv_low``, ``npv_high``, ``npv_base``,
        ``swing`` (|npv_high - npv_low|), sorted by swing, largest first. Inputs fixed in
        this scenario are left out.
    """
    phases = scenario_phases(params, scenario, overrides=overrides)
    shapes = [phase_shapes(kind, p) for kind, p in phases]
    names = [n for n in UNCERTAIN_NAMES if any(s[n].varies for s in shapes)]
    base = float(compute_phases([p.as_inputs() for _, p in phases]).npv)
    if not names:
        return pd.DataFrame(columns=list(TORNADO_COLUMNS))
    width = 2 * len(names)
    inputs = []
    for (_, p), phase_shape in zip(phases, shapes, strict=True):
        values = p.as_inputs()
        for i, name in enumerate(names):
            column = np.full(width, float(values[name]))
            column[2 * i] = phase_shape[name].quantile(0.1)
            column[2 * i + 1] = phase_shape[name].quantile(0.9)
            values[name] = column
        inputs.append(values)
    npv = np.asarray(compute_phases(inputs).npv, dtype=float)
    symbols = {d.parameter: d.symbol for d in DISTRIBUTIONS}
    rows = []
    for i, name in enumerate(names):
        first = next(s[name] for s in shapes if s[name].varies)
        rows.append(
            {
                "parameter": name,
                "symbol": symbols[name],
                "low": first.quantile(0.1),
                "high": first.quantile(0.9),
                "npv_low": float(npv[2 * i]),
                "npv_high": float(npv[2 * i + 1]),
                "npv_base": base,
                "swing": abs(float(npv[2 * i + 1] - npv[2 * i])),
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class NpvGrid:
    """NPV over automation share (columns) x switch conversion (rows), with break-even.

    ``break_even_conversion_npv`` is the NPV = 0 contour (one-off costs counted);
    ``break_even_conversion`` is the contract's annual break-even at each automation share.
    """

    automation: np.ndarray
    conversion: np.ndarray
    npv: np.ndarray
    break_even_conversion: np.ndarray
    break_even_conversion_npv: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """The grid as a DataFrame: index switch_conversion, columns ai_resolution_share."""
        return pd.DataFrame(
            self.npv,
            index=pd.Index(self.conversion, name="switch_conversion"),
            columns=pd.Index(self.automation, name="ai_resolution_share"),
        )


def npv_grid(
    params: Parameters,
    scenario: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    automation: Sequence[float] | np.ndarray | None = None,
    conversion: Sequence[float] | np.ndarray | None = None,
) -> NpvGrid:
    """NPV of a scenario over a grid of automation share x switch conversion.

    Parameters
    ----------
    automation
        Values of ``ai_resolution_share`` (default 41 points from 0 to 1 - q); set in
        every phase of the scenario.
    conversion
        Values of ``switch_conversion`` (default 41 points from 0 to 0.30, which
        covers the prior's 90% interval). Where e * k > 1 the product is capped at 1.

    Returns
    -------
    NpvGrid
        ``npv[i, j]`` at ``conversion[i]``, ``automation[j]``;
        ``break_even_conversion_npv[j]`` is the k at which NPV = 0 at ``automation[j]``
        (the contour); ``break_even_conversion[j]`` the contract's annual k*; NaN where
        undefined.
    """
    phases = scenario_phases(params, scenario, overrides=overrides)
    q = max(p.ai_escalation_share for _, p in phases)
    a = np.asarray(np.linspace(0.0, 1.0 - q, 41) if automation is None else automation, dtype=float)
    k = np.asarray(np.linspace(0.0, 0.30, 41) if conversion is None else conversion, dtype=float)
    if np.any(a < 0) or np.any(a + q > 1 + 1e-12) or np.any(k < 0) or np.any(k > 1):
        raise ParameterError(
            "grid values out of range: ai_resolution_share must be in 0..1 - "
            f"ai_escalation_share ({1 - q:g}) and switch_conversion in 0..1"
        )
    inputs = []
    for _, p in phases:
        values = p.as_inputs()
        values["ai_resolution_share"] = a[None, :]
        values["switch_conversion"] = k[:, None]
        inputs.append(values)
    result = compute_phases(inputs)
    npv = np.broadcast_to(np.asarray(result.npv, dtype=float), (k.size, a.size)).copy()

    def per_automation(values: Any) -> np.ndarray:
        return np.broadcast_to(np.asarray(values, dtype=float), (k.size, a.size))[0].copy()

    return NpvGrid(
        automation=a,
        conversion=k,
        npv=npv,
        break_even_conversion=per_automation(result.break_even_conversion),
        break_even_conversion_npv=per_automation(result.break_even_conversion_npv),
    )


def probability_conversion_below(
    threshold: float | None, *, median: float, sigma: float = SIGMA_CONVERSION
) -> float | None:
    """P(k < threshold) under the prior of switch_conversion (lognormal, capped at 1).

    Parameters
    ----------
    threshold
        The break-even conversion; the reports pass ``break_even_conversion_npv``, so
        the chance is that automation pays over the horizon. ``None`` or NaN gives
        ``None``.
    median
        The prior's median (the base value of switch_conversion).

    Returns
    -------
    float or None
        The chance that automation pays, judged only on the conversion prior.

    Examples
    --------
    >>> round(probability_conversion_below(0.05, median=0.05), 3)
    0.5
    """
    if threshold is None or math.isnan(threshold):
        return None
    if threshold <= 0:
        return 0.0
    if threshold > 1:
        return 1.0
    if median <= 0:
        return 1.0
    return NormalDist().cdf(math.log(threshold / median) / sigma)


def conversion_curve(
    params: Parameters,
    scenario: str,
    *,
    conversion: Sequence[float] | np.ndarray,
    overrides: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """NPV of a scenario at each value of switch_conversion, the rest at base.

    Where e * k > 1 the product is capped at 1 (the curve bends there).

    Raises
    ------
    ParameterError
        If a conversion value is outside 0..1.
    """
    k = np.asarray(conversion, dtype=float)
    if np.any(k < 0) or np.any(k > 1):
        raise ParameterError("switch_conversion values must be in 0..1")
    phases = scenario_phases(params, scenario, overrides=overrides)
    inputs = [{**p.as_inputs(), "switch_conversion": k} for _, p in phases]
    return np.broadcast_to(np.asarray(compute_phases(inputs).npv, dtype=float), k.shape).copy()
