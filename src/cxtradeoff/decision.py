"""Decisions on the distribution: which scenario to recommend, and how sure to be.

The model contract (version 2, section "Decision") ranks scenarios on their Monte Carlo
distribution, never on the base case:

- per scenario: mean NPV, P10/P50/P90, ``p_loss`` = P(NPV < 0) and ``p_best`` = the
  share of draws in which the scenario has the highest NPV among those compared, the
  status quo (NPV 0) always among them; the ``p_best`` sum to 1;
- the recommended scenario has the highest mean NPV;
- ``evppi_switch_conversion``: the expected value of perfect information on the
  switching conversion k, what a pilot that measured k exactly would be worth.

The first functions are pure, on arrays of draws (one row per scenario, the same draws
in every row); :func:`decide` runs everything for one profile, with one Monte Carlo run
shared by all scenarios, and returns a :class:`Decision` whose :meth:`Decision.to_dict`
is what ``cxtradeoff analyse --scenario all`` prints.

Ties are broken by the order of the scenarios (status quo, hybrid, full automation,
reversal): the one listed first wins, so the status quo wins a draw where no AI
scenario does better than 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cxtradeoff.errors import ParameterError
from cxtradeoff.model import (
    RESULT_FIELDS,
    SCENARIO_NAMES,
    VALUATION_KEYS,
    Parameters,
    break_even_both_valuations,
    evaluate,
    get_scenario,
)
from cxtradeoff.uncertainty import (
    DEFAULT_CHUNK,
    DEFAULT_SEED,
    Simulation,
    probability_conversion_below,
    simulate,
)

#: bins of k in the value of information (the contract's 50 equal-count bins)
EVPPI_BINS: int = 50
#: Monte Carlo draws when none are given (the reports' default; P(loss) to about +-0.4
#: points, 50 bins of 400 draws for the value of information)
DEFAULT_DRAWS: int = 20_000
#: the scenario every comparison includes (NPV 0 in every draw)
STATUS_QUO: str = "status_quo"
#: keys of the distribution summary of one scenario
DISTRIBUTION_KEYS: tuple[str, ...] = (
    "npv_mean",
    "npv_p10",
    "npv_p50",
    "npv_p90",
    "p_loss",
    "p_best",
)
#: keys of the base case of one scenario (the single-scenario ``analyse`` output)
BASE_CASE_KEYS: tuple[str, ...] = (
    *RESULT_FIELDS,
    "p_conversion_below_break_even",
    *VALUATION_KEYS,
)


def _rows(npv: np.ndarray) -> np.ndarray:
    rows = np.asarray(npv, dtype=float)
    if rows.ndim != 2 or rows.shape[0] < 1 or rows.shape[1] < 1:
        raise ValueError(f"npv must be (scenarios, draws) with both >= 1, not {rows.shape}")
    return rows


def npv_summary(npv: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, P10, P50, P90 and P(NPV < 0) of each row of draws.

    Parameters
    ----------
    npv
        Shape ``(scenarios, draws)``.

    Returns
    -------
    dict
        ``npv_mean``, ``npv_p10``, ``npv_p50``, ``npv_p90``, ``p_loss``: arrays of one
        value per scenario (percentiles interpolate linearly, as ``numpy.percentile``).

    Examples
    --------
    >>> s = npv_summary(np.array([[-1.0, 1.0, 3.0, 5.0]]))
    >>> float(s["npv_mean"][0]), float(s["p_loss"][0])
    (2.0, 0.25)
    """
    rows = _rows(npv)
    # row by row: numpy.percentile copies its input, one row is enough at a time
    p10, p50, p90 = np.stack([np.percentile(row, [10.0, 50.0, 90.0]) for row in rows], axis=1)
    return {
        "npv_mean": rows.mean(axis=1),
        "npv_p10": p10,
        "npv_p50": p50,
        "npv_p90": p90,
        "p_loss": (rows < 0).mean(axis=1),
    }


def best_shares(npv: np.ndarray) -> np.ndarray:
    """p_best: the share of draws in which each row has the highest NPV.

    Ties go to the row listed first, so the shares sum to 1.

    Examples
    --------
    >>> best_shares(np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.0]])).tolist()
    [0.6666666666666666, 0.3333333333333333]
    """
    rows = _rows(npv)
    # a running maximum row by row (argmax over the columns of a (scenarios, draws)
    # array would copy it); a strict > keeps a tie with the row listed first
    best = rows[0].copy()
    winners = np.zeros(rows.shape[1], dtype=np.intp)
    for i in range(1, rows.shape[0]):
        better = rows[i] > best
        winners[better] = i
        np.maximum(best, rows[i], out=best)
    return np.bincount(winners, minlength=rows.shape[0]) / rows.shape[1]


def recommended_index(
    npv_mean: Sequence[float] | np.ndarray, *, allowed: Sequence[bool] | None = None
) -> int:
    """Index of the highest mean NPV among the allowed scenarios (the first one on a tie).

    A scenario that is not allowed (a rule binding the company forbids it) is never
    recommended, whatever its mean.

    >>> recommended_index([0.0, 5.0, 9.0], allowed=[True, True, False])
    1
    """
    means = np.asarray(npv_mean, dtype=float)
    if means.ndim != 1 or means.size < 1 or not np.all(np.isfinite(means)):
        raise ValueError("npv_mean must be a non-empty vector of finite numbers")
    mask = np.ones(means.size, dtype=bool) if allowed is None else np.asarray(allowed, bool)
    if mask.shape != means.shape or not mask.any():
        raise ValueError("allowed must flag one entry per scenario, at least one of them true")
    return int(np.argmax(np.where(mask, means, -np.inf)))


def evppi(npv: np.ndarray, conversion: np.ndarray, *, bins: int = EVPPI_BINS) -> float:
    """Expected value of perfect information on k (partial EVPI), from common draws.

    EVPPI = mean over ``bins`` equal-count bins of k of [max_s mean NPV_s in the bin]
    - max_s mean NPV_s. Draws are ranked by k (ties in a deterministic order) and cut
    into bins whose counts differ by at most one (``min(bins, draws)`` bins); each bin
    weighs its share of the draws, which is the plain mean over bins when the draws
    divide evenly. Computed as the weighted mean over bins of [max_s mean NPV_s in
    the bin - mean NPV in the bin of the scenario best on average], a sum of
    non-negative terms: it is >= 0 exactly, not only up to rounding.

    Parameters
    ----------
    npv
        Shape ``(scenarios, draws)``: the NPV of each scenario in each draw.
    conversion
        Shape ``(draws,)``: the draw of k behind each column.
    bins
        Number of equal-count bins (>= 1).

    Returns
    -------
    float
        In the NPV's currency; 0 when learning k would change no decision.

    Examples
    --------
    >>> k = np.array([0.01, 0.02, 0.3, 0.4])
    >>> npv = np.array([[0.0, 0.0, 0.0, 0.0], [10.0, 10.0, -30.0, -30.0]])
    >>> evppi(npv, k, bins=2)  # knowing k, the AI is taken where it pays: 10 half the time
    5.0
    """
    rows = _rows(npv)
    k = np.asarray(conversion, dtype=float)
    if k.shape != (rows.shape[1],):
        raise ValueError(f"conversion has shape {k.shape}; expected ({rows.shape[1]},)")
    if bins < 1:
        raise ValueError(f"bins = {bins!r}; expected >= 1")
    draws = rows.shape[1]
    count = min(int(bins), draws)
    rank_bin = np.arange(draws, dtype=np.intp)  # the bin of the i-th smallest k, in place
    rank_bin *= count
    rank_bin //= draws
    bin_of = np.empty(draws, dtype=np.intp)
    bin_of[np.argsort(k)] = rank_bin
    del rank_bin
    counts = np.bincount(bin_of, minlength=count).astype(float)
    sums = np.stack([np.bincount(bin_of, weights=row, minlength=count) for row in rows])
    in_bin = sums / counts
    best_overall = int(np.argmax(sums.sum(axis=1)))
    gain = in_bin.max(axis=0) - in_bin[best_overall]
    return float(np.dot(counts / draws, gain))


@dataclass(frozen=True)
class ScenarioOutcome:
    """One scenario: its base case and its distribution over the common draws.

    ``base`` holds every key of :data:`BASE_CASE_KEYS` (``None`` where undefined);
    the distribution fields are those of :data:`DISTRIBUTION_KEYS`.
    """

    name: str
    base: Mapping[str, float | None]
    npv_mean: float
    npv_p10: float
    npv_p50: float
    npv_p90: float
    p_loss: float
    p_best: float

    def to_dict(self) -> dict[str, float | None]:
        """Every base-case key, then every distribution key: plain floats or None."""
        return {
            **{key: self.base[key] for key in BASE_CASE_KEYS},
            **{key: float(getattr(self, key)) for key in DISTRIBUTION_KEYS},
        }


@dataclass(frozen=True)
class Decision:
    """The decision for one profile: every scenario, the recommendation, the EVPPI.

    ``simulation`` holds the NPV draws behind it (for charts); it is not part of
    :meth:`to_dict`.
    """

    scenarios: tuple[ScenarioOutcome, ...]
    recommended: str
    evppi_switch_conversion: float
    draws: int
    seed: int
    simulation: Simulation = field(repr=False, compare=False)

    def scenario(self, name: str) -> ScenarioOutcome:
        """The outcome of the scenario called ``name``."""
        for outcome in self.scenarios:
            if outcome.name == name:
                return outcome
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """The scenarios compared, in order."""
        return tuple(s.name for s in self.scenarios)

    def to_dict(self) -> dict[str, Any]:
        """``{"draws", "seed", "scenarios": {name: {...}}, "recommended",
        "evppi_switch_conversion"}``, JSON-able (plain floats, None for undefined)."""
        return {
            "draws": self.draws,
            "seed": self.seed,
            "scenarios": {s.name: s.to_dict() for s in self.scenarios},
            "recommended": self.recommended,
            "evppi_switch_conversion": self.evppi_switch_conversion,
        }


def base_case(
    params: Parameters, scenario: str, *, overrides: Mapping[str, Any] | None = None
) -> dict[str, float | None]:
    """The base case of one scenario: every model output and the break-even both ways.

    Returns
    -------
    dict
        Every key of :data:`BASE_CASE_KEYS`: the model's outputs
        (:data:`cxtradeoff.model.RESULT_FIELDS`), ``p_conversion_below_break_even``
        (P(k < ``break_even_conversion_npv``) under the prior of k) and the NPV and
        break-even with lost customers valued at CLV and at min(CLV, CAC)
        (:func:`cxtradeoff.model.break_even_both_valuations`). ``None`` where undefined.
    """
    out: dict[str, float | None] = dict(evaluate(params, scenario, overrides=overrides).to_dict())
    median = float(params.updated(dict(overrides or {})).switch_conversion)
    out["p_conversion_below_break_even"] = probability_conversion_below(
        out["break_even_conversion_npv"], median=median
    )
    out.update(break_even_both_valuations(params, scenario, overrides=overrides))
    return {key: out[key] for key in BASE_CASE_KEYS}


def compared_scenarios(scenarios: Sequence[str]) -> tuple[str, ...]:
    """The scenarios a decision compares: the status quo first, then ``scenarios`` once each.

    Raises
    ------
    ParameterError
        Naming an unknown scenario.
    """
    for name in scenarios:
        get_scenario(name)
    ordered = [STATUS_QUO, *scenarios]
    return tuple(dict.fromkeys(ordered))


def decide_on_draws(
    names: Sequence[str],
    npv: np.ndarray,
    conversion: np.ndarray,
    *,
    bins: int = EVPPI_BINS,
    allowed: Sequence[bool] | None = None,
) -> tuple[dict[str, dict[str, float]], str, float]:
    """The decision metrics from common draws (pure).

    ``allowed`` flags the scenarios the company may choose (default: all); the others
    are summarised and count in ``p_best`` but are never recommended, and the value of
    information is over the allowed ones (a measurement can only lead to a lawful choice).

    Parameters
    ----------
    names
        Scenario names, one per row of ``npv``, in tie-breaking order.
    npv
        Shape ``(scenarios, draws)``.
    conversion
        Shape ``(draws,)``: k in each draw.

    Returns
    -------
    per_scenario : dict
        ``name -> {key of DISTRIBUTION_KEYS: float}``.
    recommended : str
        The scenario with the highest mean NPV.
    evppi_switch_conversion : float
    """
    rows = _rows(npv)
    if len(names) != rows.shape[0]:
        raise ValueError(f"{len(names)} names for {rows.shape[0]} rows of draws")
    summary = npv_summary(rows)
    summary["p_best"] = best_shares(rows)
    per_scenario = {
        name: {key: float(summary[key][i]) for key in DISTRIBUTION_KEYS}
        for i, name in enumerate(names)
    }
    recommended = names[recommended_index(summary["npv_mean"], allowed=allowed)]
    mask = np.ones(len(names), dtype=bool) if allowed is None else np.asarray(allowed, bool)
    return per_scenario, recommended, evppi(rows[mask], conversion, bins=bins)


def decide(
    params: Parameters,
    *,
    scenarios: Sequence[str] = SCENARIO_NAMES,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    overrides: Mapping[str, Any] | None = None,
    bins: int = EVPPI_BINS,
    chunk_size: int = DEFAULT_CHUNK,
    permitted: Mapping[str, bool] | None = None,
    conversion: np.ndarray | None = None,
) -> Decision:
    """Everything the decision needs for one profile, from one Monte Carlo run.

    Parameters
    ----------
    params
        The company profile's parameters.
    scenarios
        Scenarios to compare (default: all); the status quo is always added first.
    draws, seed
        Monte Carlo draws (>= 1) and seed; every scenario uses the same draws.
    overrides
        Parameter overrides applied after each scenario.
    bins
        Equal-count bins of k for the value of information.
    conversion
        Optional draws of switch_conversion, one per draw, that replace the prior's in
        every scenario, paired draw by draw (a pilot's posterior of k; see
        :func:`cxtradeoff.uncertainty.simulate`). The metrics, the recommendation and
        the EVPPI are then those of these draws; the base cases stay at the base values.

    Returns
    -------
    Decision

    Raises
    ------
    ParameterError
        Naming an unknown scenario, a bad override, or draws/seed out of range.

    Examples
    --------
    >>> from cxtradeoff.model import WORKED_CHECK, parameters_from_mapping
    >>> d = decide(parameters_from_mapping(WORKED_CHECK), draws=2000, seed=1)
    >>> d.names
    ('status_quo', 'hybrid', 'full_automation', 'reversal')
    >>> round(sum(s.p_best for s in d.scenarios), 12)
    1.0
    """
    names = compared_scenarios(scenarios)
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ParameterError(f"bins = {bins!r} is not allowed; expected an integer >= 1")
    bases = {name: base_case(params, name, overrides=overrides) for name in names}
    sim = simulate(
        params,
        names,
        draws=draws,
        seed=seed,
        overrides=overrides,
        chunk_size=chunk_size,
        conversion=conversion,
    )
    allowed = [name == STATUS_QUO or (permitted or {}).get(name, True) for name in names]
    per_scenario, recommended, value = decide_on_draws(
        names, sim.npv, sim.conversion, bins=bins, allowed=allowed
    )
    outcomes = tuple(
        ScenarioOutcome(name=name, base=bases[name], **per_scenario[name]) for name in names
    )
    return Decision(
        scenarios=outcomes,
        recommended=recommended,
        evppi_switch_conversion=value,
        draws=sim.draws,
        seed=sim.seed,
        simulation=sim,
    )


@dataclass(frozen=True)
class Flip:
    """Where the call changes as the switching conversion k moves away from its prior.

    Expected NPV given k is a straight line in k for each scenario (k is drawn
    independently of the other inputs and NPV is linear in it below the e*k cap), fitted
    on the common draws. ``conversion`` is the nearest k, above or below the prior's
    mean, at which another scenario's line overtakes the recommended one; ``to`` is
    that scenario and ``direction`` ``"above"`` or ``"below"``. ``conversion`` is None
    when no other scenario overtakes it for any k in 0..1.
    """

    assumed: float
    conversion: float | None
    to: str | None
    direction: Literal["above", "below"] | None


def conditional_lines(npv: np.ndarray, conversion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intercept and slope of E[NPV | k] for each scenario (least squares on the draws).

    The line passes through (mean k, mean NPV), so at the prior's mean of k it gives
    each scenario's mean NPV: the ranking there is the recommendation's.
    """
    rows = _rows(npv)
    k = np.asarray(conversion, dtype=float)
    k_mean = float(k.mean())
    centred = k - k_mean
    variance = float(np.dot(centred, centred))
    means = rows.mean(axis=1)
    slope = rows @ centred / variance if variance > 0 else np.zeros(rows.shape[0])
    return means - slope * k_mean, slope


def flip_point(
    names: Sequence[str],
    npv: np.ndarray,
    conversion: np.ndarray,
    recommended: str,
    *,
    allowed: Sequence[bool] | None = None,
) -> Flip:
    """The switching conversion at which the recommendation changes (see :class:`Flip`).

    Examples
    --------
    >>> k = np.linspace(0.0, 0.2, 201)
    >>> npv = np.vstack([np.zeros_like(k), 15.0 - 100.0 * k])  # pays while k < 0.15
    >>> f = flip_point(["status_quo", "full_automation"], npv, k, "full_automation")
    >>> (round(f.assumed, 6), round(f.conversion, 6), f.to, f.direction)
    (0.1, 0.15, 'status_quo', 'above')
    """
    intercept, slope = conditional_lines(npv, conversion)
    assumed = float(np.mean(conversion))
    r = list(names).index(recommended)
    best: tuple[float, str, Literal["above", "below"]] | None = None
    for i, name in enumerate(names):
        if i == r or slope[i] == slope[r] or (allowed is not None and not allowed[i]):
            continue
        crossing = float((intercept[r] - intercept[i]) / (slope[i] - slope[r]))
        if not 0.0 <= crossing <= 1.0:
            continue
        direction: Literal["above", "below"] = "above" if crossing > assumed else "below"
        # the other scenario must win beyond the crossing, on the far side from the prior
        beyond = crossing + (1e-9 if direction == "above" else -1e-9)
        if intercept[i] + slope[i] * beyond <= intercept[r] + slope[r] * beyond:
            continue
        if best is None or abs(crossing - assumed) < abs(best[0] - assumed):
            best = (crossing, name, direction)
    if best is None:
        return Flip(assumed=assumed, conversion=None, to=None, direction=None)
    return Flip(assumed=assumed, conversion=best[0], to=best[1], direction=best[2])
