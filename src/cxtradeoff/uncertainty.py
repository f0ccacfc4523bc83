"""Uncertainty: the distributions of the uncertain inputs, Monte Carlo, tornado, grid.

Every distribution is stated once, in :data:`DISTRIBUTIONS`; :func:`distributions_frame`
shows that table in the report and :func:`distribution_table` gives the numbers for a
given profile and scenario. The rule for each input: bounds from the evidence, the
mode (or median) at the base value of the profile and scenario, bounds widened to
include the base value when it falls outside them. With the model contract's base
values the distributions are exactly those it suggests.

Monte Carlo is vectorised and seeded with a numpy ``Generator``: the same seed gives
the same figures, bit for bit. Every scenario consumes the same random numbers (one
uniform row per uncertain input, one normal row for ``switch_conversion``), so
scenarios are compared on common draws; the two phases of the reversal scenario
share the same draw of each input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
    scenario_phases,
)

#: z such that P(Z <= z) = 0.95 (a 90% central interval is +-Z95 sigma)
Z95: float = NormalDist().inv_cdf(0.95)
#: log-sd of switch_conversion: the 90% interval is median / 5 .. median * 5
SIGMA_CONVERSION: float = math.log(5.0) / Z95


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

    def sample(self, u: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Transform uniforms ``u`` (or, for the lognormal, normals ``z``) into draws."""
        if self.family == "lognormal":
            return np.minimum(self.mode * np.exp(self.sigma * z), self.high)
        return self.ppf(u)

    def ppf(self, u: np.ndarray | float) -> np.ndarray:
        """Inverse cumulative distribution function (quantile function)."""
        u = np.asarray(u, dtype=float)
        lo, mode, hi = self.low, self.mode, self.high
        if self.family == "fixed" or hi <= lo:
            return np.full_like(u, mode)
        if self.family == "uniform":
            return lo + u * (hi - lo)
        if self.family == "triangular":
            c = (mode - lo) / (hi - lo)
            left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
            right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
            return np.where(u < c, left, right)
        if self.family == "beta":
            grid, cdf = _pert_cdf((mode - lo) / (hi - lo))
            return lo + (hi - lo) * np.interp(u, cdf, grid)
        if self.family == "lognormal":
            z = np.vectorize(NormalDist().inv_cdf, otypes=[float])(np.clip(u, 1e-12, 1 - 1e-12))
            return np.minimum(mode * np.exp(self.sigma * z), hi)
        raise ValueError(f"unknown distribution family {self.family!r}")

    def quantile(self, q: float) -> float:
        """One quantile, e.g. ``quantile(0.1)`` for the P10."""
        return float(self.ppf(np.asarray([q]))[0])

    def describe(self) -> str:
        """The distribution in words, e.g. ``triangular(0.45, 0.53, 0.64)``."""
        if self.family == "fixed":
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
def _pert_cdf(relative_mode: float) -> tuple[np.ndarray, np.ndarray]:
    """Tabulated CDF of a PERT beta on [0, 1] (alpha, beta >= 1, so the density is finite)."""
    alpha = 1.0 + 4.0 * relative_mode
    beta = 1.0 + 4.0 * (1.0 - relative_mode)
    grid = np.linspace(0.0, 1.0, 4097)
    density = grid ** (alpha - 1.0) * (1.0 - grid) ** (beta - 1.0)
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2.0)])
    cdf /= cdf[-1]
    return grid, cdf


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain input: its rule, reference numbers and evidence basis."""

    parameter: str
    symbol: str
    family: str
    low: float
    reference: float
    high: float
    rule: str
    basis: str

    def shape(self, base: float, kind: str) -> Shape:
        """The concrete distribution around a base value in a phase of kind ``kind``."""
        if self.parameter == "escalation_mitigation":
            low, high = ESCALATION_RANGES.get(kind, (base, base))
            return Shape("beta", min(low, base), base, max(high, base))
        if self.parameter == "assist_productivity" and base <= 0:
            return Shape("fixed", base, base, base)
        if self.family == "lognormal":
            return Shape("lognormal", 0.0, base, self.high, SIGMA_CONVERSION)
        if self.parameter == "cost_ai_contact":
            scale = base / self.reference
            return Shape("triangular", self.low * scale, base, self.high * scale)
        if self.family == "uniform":
            return Shape("uniform", min(self.low, base), base, max(self.high, base))
        return Shape(self.family, min(self.low, base), base, max(self.high, base))


#: range of escalation_mitigation by scenario kind (the beta's support)
ESCALATION_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"hybrid": (0.5, 0.9), "full_automation": (0.0, 0.3)}
)

#: THE table of distributions (the only place they are stated)
DISTRIBUTIONS: tuple[UncertainInput, ...] = (
    UncertainInput(
        "consider_switch_share",
        "w",
        "triangular",
        0.45,
        0.53,
        0.64,
        "triangular(0.45, base, 0.64)",
        "Gartner 2024 (5,728 customers): 53% would consider switching (mode); 64% would "
        "rather companies not use AI in service (upper); lower bound an assumption",
    ),
    UncertainInput(
        "switch_conversion",
        "k",
        "lognormal",
        0.01,
        0.05,
        1.0,
        "lognormal, median base, 90% interval base/5 to base*5, capped at 1",
        "a prior: no published study converts 'would consider switching' into leaving; "
        "median 0.05, 90% interval 0.01 to 0.25 is an assumption",
    ),
    UncertainInput(
        "acquisition_multiplier",
        "M",
        "uniform",
        5.0,
        5.0,
        25.0,
        "uniform(5, 25)",
        "Harvard Business Review (A. Gallo, 2014): 'five to 25 times', a rhetorical range "
        "across studies, not a measurement",
    ),
    UncertainInput(
        "escalation_mitigation",
        "h",
        "beta",
        0.0,
        0.5,
        1.0,
        "PERT beta, mode base; hybrid on [0.5, 0.9], full automation on [0, 0.3]",
        "Gartner 2023: 74% with an easy hand-off return to self-service; Gartner 2024: the "
        "top worry (60%) is a harder path to a person; the ranges are assumptions",
    ),
    UncertainInput(
        "cost_ai_contact",
        "C_ai",
        "triangular",
        0.1,
        0.8,
        2.0,
        "triangular(0.125 base, base, 2.5 base); (0.1, 0.8, 2.0) at base 0.8",
        "Gartner 2019 poll: about USD 0.10 per self-service contact (low end); generative "
        "AI costs more; scaled to the base so it holds in any currency; assumption",
    ),
    UncertainInput(
        "assist_productivity",
        "pi",
        "triangular",
        0.05,
        0.14,
        0.35,
        "triangular(0.05, base, 0.35) where the scenario assists agents; else fixed at 0",
        "Brynjolfsson, Li & Raymond, NBER 2023 (about 5,000 agents): +14% productivity; "
        "the range is an assumption",
    ),
)
UNCERTAIN_NAMES: tuple[str, ...] = tuple(d.parameter for d in DISTRIBUTIONS)
_ROW = {name: i for i, name in enumerate(UNCERTAIN_NAMES)}


def distributions_frame() -> pd.DataFrame:
    """The table of distributions (rule and evidence basis), for the report."""
    return pd.DataFrame(
        [
            {"parameter": d.parameter, "symbol": d.symbol, "distribution": d.rule, "basis": d.basis}
            for d in DISTRIBUTIONS
        ]
    )


def _phase_shapes(kind: str, params: Parameters) -> dict[str, Shape]:
    shapes = {}
    exposed = params.ai_resolution_share + params.ai_escalation_share > 0
    for spec in DISTRIBUTIONS:
        base = float(getattr(params, spec.parameter))
        if not exposed:  # no AI in this phase: no one is exposed, nothing varies
            shapes[spec.parameter] = Shape("fixed", base, base, base)
        else:
            shapes[spec.parameter] = spec.shape(base, kind)
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
        shapes = _phase_shapes(kind, p)
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


def draw_random(draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The random numbers of one Monte Carlo run: uniforms (one row per input), normals.

    Raises
    ------
    ParameterError
        If ``draws`` < 1 or ``seed`` < 0.
    """
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise ParameterError(f"draws = {draws!r} is not allowed; expected an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed = {seed!r} is not allowed; expected an integer >= 0")
    rng = np.random.default_rng(int(seed))
    uniforms = rng.random((len(DISTRIBUTIONS), int(draws)))
    normals = rng.standard_normal(int(draws))
    return uniforms, normals


def sample_phases(
    phases: Sequence[tuple[str, Parameters]], uniforms: np.ndarray, normals: np.ndarray
) -> list[dict[str, Any]]:
    """Model inputs for each phase with the uncertain inputs replaced by draws."""
    out = []
    for kind, params in phases:
        inputs = params.as_inputs()
        for name, shape in _phase_shapes(kind, params).items():
            if shape.family != "fixed":
                inputs[name] = shape.sample(uniforms[_ROW[name]], normals)
        out.append(inputs)
    return out


@dataclass(frozen=True)
class MonteCarloResult:
    """Draws of every model output and the summary of NPV."""

    scenario: str
    draws: int
    seed: int
    result: ModelResult
    npv: np.ndarray
    npv_p10: float
    npv_p50: float
    npv_p90: float
    p_loss: float

    def summary(self) -> dict[str, float]:
        """``npv_p10``, ``npv_p50``, ``npv_p90`` and ``p_loss`` (share of draws with NPV < 0)."""
        return {
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
    """Seeded, vectorised Monte Carlo of one scenario.

    Parameters
    ----------
    params
        The company profile.
    scenario
        A scenario name.
    draws
        Number of draws (>= 1).
    seed
        Seed of the numpy ``Generator``; the same seed gives the same bits.
    overrides
        Parameter overrides applied after the scenario (they set the base values).

    Returns
    -------
    MonteCarloResult
    """
    get_scenario(scenario)
    uniforms, normals = draw_random(draws, seed)
    phases = scenario_phases(params, scenario, overrides=overrides)
    result = compute_phases(sample_phases(phases, uniforms, normals))
    npv = np.broadcast_to(np.asarray(result.npv, dtype=float), (int(draws),))
    p10, p50, p90 = (float(v) for v in np.percentile(npv, [10.0, 50.0, 90.0]))
    return MonteCarloResult(
        scenario=scenario,
        draws=int(draws),
        seed=int(seed),
        result=result,
        npv=npv,
        npv_p10=p10,
        npv_p50=p50,
        npv_p90=p90,
        p_loss=float(np.mean(npv < 0)),
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
    shapes = [_phase_shapes(kind, p) for kind, p in phases]
    names = [n for n in UNCERTAIN_NAMES if any(s[n].family != "fixed" for s in shapes)]
    base = float(compute_phases([p.as_inputs() for _, p in phases]).npv)
    if not names:
        return pd.DataFrame(
            columns=[
                "parameter",
                "symbol",
                "low",
                "high",
                "npv_low",
                "npv_high",
                "npv_base",
                "swing",
            ]
        )
    width = 2 * len(names)
    inputs = []
    for (_, p), phase_shapes in zip(phases, shapes, strict=True):
        values = p.as_inputs()
        for i, name in enumerate(names):
            column = np.full(width, float(values[name]))
            column[2 * i] = phase_shapes[name].quantile(0.1)
            column[2 * i + 1] = phase_shapes[name].quantile(0.9)
            values[name] = column
        inputs.append(values)
    npv = np.asarray(compute_phases(inputs).npv, dtype=float)
    symbols = {d.parameter: d.symbol for d in DISTRIBUTIONS}
    rows = []
    for i, name in enumerate(names):
        first = next(s[name] for s in shapes if s[name].family != "fixed")
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
        covers the prior's 90% interval).

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
