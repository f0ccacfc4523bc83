"""Measuring the switching conversion with a pilot: plan it, then let its counts replace the prior.

No study measures how many of the customers who would consider leaving over AI service
actually leave (the switching conversion k). A company can measure it with a randomised
pilot: customers assigned at random to an AI arm (service run as the piloted scenario
would run it) or a control arm (today's service) for some months. This module is the
pure mathematics of that pilot (the contract is ``PILOT.md``; ``docs/pilot.md`` says how
to use it and argues every departure):

- before the pilot, :func:`plan_pilot`: churn in each arm if k sits at the break-even,
  the customers per arm for a two-sided 5% test with 80% power
  (:func:`n_per_arm`), the expected value of the pilot's information
  (:func:`expected_value_of_sample_information`) beside the value of knowing k exactly,
  and the expected cost of the customers the AI arm loses;
- after it, :func:`update_with_pilot`: Beta posteriors of each arm's churn, annualised,
  their difference (the extra annual churn u), ``k = u / z`` draw by draw (z of the
  piloted scenario on the same draw) clipped to 0..1, and the decision recomputed with
  these draws of k in every scenario, paired draw by draw with every other input.

The link from the piloted scenario to the others is an assumption, stated wherever the
update is shown (:data:`ASSUMPTION`): k is a property of the customers, not of the
scenario.

:func:`read_pilot_file` reads a pilot's counts from a CSV file (layout in
``data/README.md``); :func:`pilot_summary` and :func:`prior_posterior_chart` give what a
report shows. Everything is seeded: the same seed gives the same figures, bit for bit.

Example
-------
>>> counts = PilotCounts(scenario="full_automation", months=12, ai_customers=1000,
...                      ai_churned=180, control_customers=1000, control_churned=150)
>>> counts.ai_share_churned
0.18
>>> n_per_arm(0.10, 0.12)
3835
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from cxtradeoff import paths
from cxtradeoff.contracts import (
    ConversionInterval,
    ConversionPosterior,
    ExtraChurnPosterior,
    PilotDecision,
    PilotResult,
    PilotScenario,
)
from cxtradeoff.datafiles import read_csv_validated, row_check
from cxtradeoff.decision import (
    DEFAULT_DRAWS,
    EVPPI_BINS,
    Decision,
    compared_scenarios,
    decide,
    evppi,
)
from cxtradeoff.errors import DataValidationError, ParameterError
from cxtradeoff.formatting import (
    COLOURS,
    break_even_words,
    chance,
    customers,
    money,
    scenario_colour,
    scenario_label,
    scenario_title,
    share,
)
from cxtradeoff.model import (
    SCENARIO_NAMES,
    Parameters,
    evaluate,
    get_scenario,
    loyalty_figures,
    scenario_phases,
)
from cxtradeoff.uncertainty import (
    DEFAULT_SEED,
    SIGMA_CONVERSION,
    random_numbers,
    sample_phases,
)

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn, not with the module
    from matplotlib.figure import Figure

__all__ = [
    "ALPHA",
    "ARMS",
    "ASSUMPTION",
    "MAX_DRAWS",
    "MAX_MONTHS",
    "MIN_MONTHS",
    "PILOTS_DIR",
    "PILOT_COLUMNS",
    "PILOT_SCHEMA",
    "POWER",
    "PilotCounts",
    "PilotDraws",
    "PilotPlan",
    "PilotUpdate",
    "annualise",
    "cohens_h",
    "conversion_from_extra_churn",
    "expected_value_of_sample_information",
    "n_per_arm",
    "parse_arm",
    "pilot_churn",
    "pilot_draws",
    "pilot_file_path",
    "pilot_summary",
    "piloted_scenarios",
    "plan_pilot",
    "plan_summary",
    "posterior_churn",
    "prior_posterior_chart",
    "prior_posterior_table",
    "read_pilot_file",
    "update_with_pilot",
]

#: where pilot files live (``data/README.md``, "pilots/")
PILOTS_DIR: Path = paths.DATA_DIR / "pilots"
#: shortest and longest pilot, in months
MIN_MONTHS: int = 1
MAX_MONTHS: int = 24
#: most Monte Carlo draws a pilot command takes (memory grows with the draws)
MAX_DRAWS: int = 2_000_000
#: the test the pilot is sized for: two-sided, 5% significance, 80% power
ALPHA: float = 0.05
POWER: float = 0.80
#: the two arms of a pilot, as the pilot file names them
ARMS: tuple[str, ...] = ("ai", "control")
#: the assumption that links a pilot of one scenario to every scenario, in words
ASSUMPTION: str = (
    "The share of would-be leavers who actually leave is taken to be a property of the "
    "customers, not of the service: measured in the piloted scenario, it is applied to "
    "every scenario (each scenario keeps its own exposure, hand-offs and easy path to a "
    "person)."
)
#: seeds of the pilot's own random numbers, apart from the inputs' streams
#: (``SeedSequence(seed).spawn`` gives the inputs the spawn keys 0, 1, ...)
_STREAM_AI: int = 1_000
_STREAM_CONTROL: int = 1_001
_STREAM_EVSI: int = 1_002
#: groups of prior draws per bin of the AI arm's churn in the EVSI (the likelihood is
#: summed over groups of neighbouring draws, see expected_value_of_sample_information)
_GROUPS_PER_BIN: int = 32
#: simulated pilots weighed together in one block of the EVSI (bounds memory)
_EVSI_BLOCK: int = 256
#: smallest and largest churn over a pilot used in a log-likelihood
_TINY: float = 1e-12


# ---------------------------------------------------------------------------
# The pilot's counts
# ---------------------------------------------------------------------------


def piloted_scenarios() -> tuple[str, ...]:
    """The scenarios a pilot can run in its AI arm: every scenario with AI in it."""
    return tuple(name for name in SCENARIO_NAMES if name != "status_quo")


def _check_scenario(scenario: Any) -> str:
    if not isinstance(scenario, str):
        raise ParameterError(
            f"scenario = {scenario!r} is not allowed; expected one of: "
            f"{', '.join(piloted_scenarios())}"
        )
    get_scenario(scenario)  # unknown: ParameterError naming the valid ones
    if scenario not in piloted_scenarios():
        raise ParameterError(
            f"scenario = {scenario!r} has no AI to pilot; pilot one of: "
            f"{', '.join(piloted_scenarios())}"
        )
    return scenario


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _months_problem(months: Any) -> str | None:
    if _is_int(months) and MIN_MONTHS <= months <= MAX_MONTHS:
        return None
    return (
        f"months = {months!r} is not allowed; expected a whole number of months from "
        f"{MIN_MONTHS} to {MAX_MONTHS} (how long the pilot ran)"
    )


def _check_months(months: Any) -> int:
    problem = _months_problem(months)
    if problem:
        raise ParameterError(problem)
    return int(months)


@dataclass(frozen=True)
class PilotCounts:
    """A pilot's data: the piloted scenario, its duration and the four counts.

    ``ai_customers`` customers were served as ``scenario`` would serve them for
    ``months`` months, and ``ai_churned`` of them left; ``control_customers`` kept
    today's service and ``control_churned`` of them left. ``profile`` names the company
    profile when the counts come from a pilot file.

    Raises
    ------
    ParameterError
        Naming every field at fault at once: a count that is not a whole number, fewer
        than 1 customer in an arm, a negative count or more churned than customers,
        months outside 1..24, an unknown scenario or one with no AI.

    Examples
    --------
    >>> PilotCounts(scenario="hybrid", months=6, ai_customers=100, ai_churned=120,
    ...             control_customers=100, control_churned=5)
    Traceback (most recent call last):
    ...
    cxtradeoff.errors.ParameterError: invalid pilot: ai_churned = 120 is above ai_customers = 100; expected at most the customers in the arm
    """

    scenario: str
    months: int
    ai_customers: int
    ai_churned: int
    control_customers: int
    control_churned: int
    profile: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        try:
            _check_scenario(self.scenario)
        except ParameterError as exc:
            problems.append(str(exc))
        month_problem = _months_problem(self.months)
        if month_problem:
            problems.append(month_problem)
        for arm in ARMS:
            size, churned = f"{arm}_customers", f"{arm}_churned"
            n, c = getattr(self, size), getattr(self, churned)
            n_ok = _is_int(n) and n > 0
            if not n_ok:
                problems.append(
                    f"{size} = {n!r} is not allowed; expected a whole number above 0 "
                    f"(customers in the {arm.replace('ai', 'AI')} arm)"
                )
            if not _is_int(c) or c < 0:
                problems.append(
                    f"{churned} = {c!r} is not allowed; expected a whole number from 0 "
                    f"(customers of the {arm.replace('ai', 'AI')} arm who left)"
                )
            elif n_ok and c > n:
                problems.append(
                    f"{churned} = {c!r} is above {size} = {n!r}; expected at most the "
                    "customers in the arm"
                )
        if problems:
            raise ParameterError("invalid pilot: " + "; ".join(problems))

    @property
    def ai_share_churned(self) -> float:
        """Share of the AI arm who left during the pilot."""
        return self.ai_churned / self.ai_customers

    @property
    def control_share_churned(self) -> float:
        """Share of the control arm who left during the pilot."""
        return self.control_churned / self.control_customers


_ARM_TEXT = re.compile(r"^\s*(-?[0-9][0-9_,]*)\s*:\s*(-?[0-9][0-9_,]*)\s*$")


def parse_arm(text: str, *, arm: Literal["ai", "control"]) -> tuple[int, int]:
    """Parse one arm's counts written ``CUSTOMERS:CHURNED`` (the command line's form).

    Digits may be grouped with ``_`` or ``,`` (``20_000:1_150``). The counts' ranges
    are checked by :class:`PilotCounts`.

    Raises
    ------
    ParameterError
        Naming ``--ai`` or ``--control`` when the text is not two whole numbers
        separated by a colon.

    Examples
    --------
    >>> parse_arm("20_000:1150", arm="ai")
    (20000, 1150)
    """
    match = _ARM_TEXT.match(text)
    if not match:
        raise ParameterError(
            f"--{arm} {text!r} is not allowed; expected CUSTOMERS:CHURNED, two whole numbers "
            f"separated by a colon, e.g. 20000:1150 ({arm}_customers:{arm}_churned)"
        )
    first, second = (int(group.replace("_", "").replace(",", "")) for group in match.groups())
    return first, second


# ---------------------------------------------------------------------------
# The pilot file
# ---------------------------------------------------------------------------

#: columns of a pilot file, in order (``data/README.md``, "Pilot results")
PILOT_COLUMNS: tuple[str, ...] = (
    "profile",
    "scenario",
    "arm",
    "months",
    "customers",
    "churned",
    "started",
    "source",
)


def _text(*checks: pa.Check, nullable: bool = False) -> pa.Column:
    return pa.Column(str, list(checks), nullable=nullable)


PILOT_SCHEMA: pa.DataFrameSchema = pa.DataFrameSchema(
    {
        "profile": _text(
            pa.Check.str_matches(
                r"^[a-z][a-z0-9_]*$", error="a profile id (lower case, digits, underscores)"
            )
        ),
        "scenario": _text(
            pa.Check.isin(
                list(piloted_scenarios()),
                error=f"a scenario with AI in it: {', '.join(piloted_scenarios())}",
            )
        ),
        "arm": _text(pa.Check.isin(list(ARMS), error="ai or control")),
        "months": pa.Column(
            "Int64",
            pa.Check.in_range(
                MIN_MONTHS, MAX_MONTHS, error=f"a whole number from {MIN_MONTHS} to {MAX_MONTHS}"
            ),
        ),
        "customers": pa.Column("Int64", pa.Check.gt(0, error="a whole number above 0")),
        "churned": pa.Column("Int64", pa.Check.ge(0, error="a whole number from 0")),
        "started": _text(
            pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$", error="a date written YYYY-MM-DD"),
            nullable=True,
        ),
        "source": _text(
            pa.Check.str_length(min_value=1, error="where the counts come from, in words")
        ),
    },
    strict=True,
    ordered=False,
    checks=[
        row_check(
            "churned",
            lambda df: df["churned"] <= df["customers"],
            expected="at most the arm's customers",
            name="churned within customers",
        )
    ],
)


def _cell(value: Any) -> str:
    """A cell's value as the file shows it: numbers bare, text quoted."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "an empty cell"
    if isinstance(value, str):
        return repr(value)
    return str(int(value)) if float(value).is_integer() else str(float(value))


def pilot_file_path(name: str | Path) -> Path:
    """A pilot file given by name: a full path as it is, a bare name inside :data:`PILOTS_DIR`.

    >>> pilot_file_path("telecom-illustrative-pilot.csv") == PILOTS_DIR / "telecom-illustrative-pilot.csv"
    True
    """
    path = Path(name)
    return path if path.is_absolute() or path.parent != Path() else PILOTS_DIR / path


def read_pilot_file(path: str | Path) -> PilotCounts:
    """Read a pilot's counts from a CSV file: two rows, one per arm.

    The layout is in ``data/README.md`` ("Pilot results"): columns ``profile``,
    ``scenario``, ``arm`` (``ai`` or ``control``), ``months``, ``customers``,
    ``churned``, ``started`` (optional date) and ``source``. Both rows must name the
    same profile, scenario, months and start date.

    Returns
    -------
    PilotCounts
        With ``profile`` set from the file.

    Raises
    ------
    DataValidationError
        Naming the file, the line and the column of every problem at once (through
        :func:`cxtradeoff.datafiles.read_csv_validated`), or the lines of an arm missing,
        repeated, or rows that disagree.
    """
    path = Path(path)
    frame = read_csv_validated(path, PILOT_SCHEMA, what="pilot results", index_by_line=True)
    name = path.name
    problems: list[str] = []
    for arm in ARMS:
        lines = [int(line) for line in frame.index[frame["arm"] == arm]]
        if not lines:
            problems.append(f"{name}: no row for the {arm} arm; expected one row per arm")
        elif len(lines) > 1:
            problems.append(
                f"{name}, lines {', '.join(map(str, lines))}, column 'arm': the {arm} arm "
                "appears more than once; expected one row per arm (one pilot per file)"
            )
    first_line = int(frame.index[0])
    for column in ("profile", "scenario", "months", "started"):
        values = frame[column]
        first = values.iloc[0]
        for line, value in values.items():
            same = (pd.isna(value) and pd.isna(first)) or value == first
            if not same:
                problems.append(
                    f"{name}, line {line}, column '{column}': {_cell(value)} differs from "
                    f"{_cell(first)} on line {first_line}; both arms belong to one pilot"
                )
    if problems:
        raise DataValidationError(path, problems)
    row = {arm: frame[frame["arm"] == arm].iloc[0] for arm in ARMS}
    try:
        return PilotCounts(
            profile=str(row["ai"]["profile"]),
            scenario=str(row["ai"]["scenario"]),
            months=int(row["ai"]["months"]),
            ai_customers=int(row["ai"]["customers"]),
            ai_churned=int(row["ai"]["churned"]),
            control_customers=int(row["control"]["customers"]),
            control_churned=int(row["control"]["churned"]),
            source=str(row["ai"]["source"]),
        )
    except ParameterError as exc:  # pragma: no cover - the schema checks the same ranges
        raise DataValidationError(path, [str(exc)]) from None


# ---------------------------------------------------------------------------
# Churn over a pilot
# ---------------------------------------------------------------------------


def annualise(theta: Any, months: int) -> Any:
    """Churn over ``months`` months as churn over a year: 1 - (1 - theta)^(12 / months).

    >>> round(float(annualise(0.05, 3)), 6)
    0.185494
    """
    return 1.0 - np.power(1.0 - np.asarray(theta, dtype=float), 12.0 / months)[()]


def pilot_churn(retention_rate: Any, extra_annual_churn: Any, months: int) -> Any:
    """Churn over a pilot of ``months`` months, with ``extra_annual_churn`` added to 1 - r.

    theta = 1 - (1 - (1 - r) - delta)^(months / 12), the share of customers who leave
    during the pilot when a year's retention r falls by delta; delta = 0 gives the
    control arm, theta_c = 1 - r^(months / 12). A retention below 0 (delta > r) reads as
    every customer leaving.

    >>> round(float(pilot_churn(0.82, 0.0, 12)), 12), round(float(pilot_churn(0.82, 0.02, 12)), 12)
    (0.18, 0.2)
    """
    kept = np.maximum(np.subtract(retention_rate, extra_annual_churn), 0.0)
    return (1.0 - np.power(kept, months / 12.0))[()]


def cohens_h(theta_1: float, theta_2: float) -> float:
    """Cohen's h between two proportions: |2 asin(sqrt(theta_1)) - 2 asin(sqrt(theta_2))|.

    >>> round(cohens_h(0.5, 0.6), 6)
    0.201358
    """
    return abs(2.0 * math.asin(math.sqrt(theta_1)) - 2.0 * math.asin(math.sqrt(theta_2)))


def n_per_arm(
    theta_control: float, theta_ai: float, *, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Customers per arm to tell ``theta_ai`` from ``theta_control``: two-sided test, two arms.

    The normal approximation on Cohen's h for two independent samples of n each, as
    ``statsmodels.stats.power.NormalIndPower`` solves it (ratio 1): the power
    Phi(h sqrt(n/2) - z) + Phi(-h sqrt(n/2) - z), z = z_(1 - alpha/2), equals ``power``;
    rounded up. Without the far tail this is n = 2 ((z_(1-alpha/2) + z_power) / h)^2.
    ``PILOT.md`` leaves out the 2 (the variance of the second arm), which halves the
    pilot: see ``docs/pilot.md``.

    Returns
    -------
    int or None
        None when the two churns are equal (no pilot can tell them apart).

    Examples
    --------
    >>> n_per_arm(0.10, 0.12)
    3835
    """
    h = cohens_h(theta_control, theta_ai)
    if not h > 0:
        return None
    normal = NormalDist()
    z_alpha = normal.inv_cdf(1.0 - alpha / 2.0)
    t = z_alpha + normal.inv_cdf(power)  # t = h sqrt(n / 2) without the far tail
    for _ in range(50):  # fixed point with the far tail: Phi(t - z) = power - Phi(-t - z)
        updated = z_alpha + normal.inv_cdf(power - normal.cdf(-t - z_alpha))
        if abs(updated - t) < 1e-15:
            break
        t = updated
    n = 2.0 * (t / h) ** 2
    return max(1, math.ceil(n * (1.0 - 1e-12)))


# ---------------------------------------------------------------------------
# Draws of the piloted scenario
# ---------------------------------------------------------------------------


def _phase_weights(scenario: str, months: int) -> list[float]:
    """Share of the pilot's months spent in each phase of ``scenario`` (years from 1)."""
    phases = get_scenario(scenario).phases
    weights = []
    for i, phase in enumerate(phases):
        begin = 12 * (phase.start - 1)
        end = 12 * (phases[i + 1].start - 1) if i + 1 < len(phases) else math.inf
        weights.append(max(0.0, min(end, months) - begin) / months)
    return weights


def _phase_figures(values: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """Risk factor z, extra annual churn delta (e * k capped) and V of one phase."""
    loyalty = loyalty_figures(values)
    return loyalty.risk_factor, loyalty.extra_churn, loyalty.value


@dataclass(frozen=True)
class PilotDraws:
    """The piloted scenario over the pilot, draw by draw (the Monte Carlo's draws).

    ``risk_factor`` is z (extra annual churn per unit of k) averaged over the pilot's
    months when the scenario changes phase during it (the reversal after 12 months);
    ``extra_churn`` is the extra annual churn under the prior's k (e * k capped at 1);
    ``value_per_lost_customer`` is V; ``conversion`` the prior's draws of k. Draw i is
    draw i of :func:`cxtradeoff.uncertainty.simulate` with the same seed.
    """

    scenario: str
    months: int
    risk_factor: np.ndarray
    extra_churn: np.ndarray
    value_per_lost_customer: np.ndarray
    conversion: np.ndarray


def _check_draws_and_seed(draws: Any, seed: Any) -> tuple[int, int]:
    if not _is_int(draws) or not 1 <= draws <= MAX_DRAWS:
        raise ParameterError(
            f"draws = {draws!r} is not allowed; expected a whole number from 1 to {MAX_DRAWS:,}"
        )
    if not _is_int(seed) or seed < 0:
        raise ParameterError(f"seed = {seed!r} is not allowed; expected a whole number >= 0")
    return int(draws), int(seed)


def pilot_draws(
    params: Parameters,
    scenario: str,
    *,
    months: int,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    overrides: Mapping[str, Any] | None = None,
) -> PilotDraws:
    """The piloted scenario's z, extra churn and V on each Monte Carlo draw.

    Uses the Monte Carlo's own random numbers (:func:`cxtradeoff.uncertainty.random_numbers`
    and :func:`~cxtradeoff.uncertainty.sample_phases`), so draw i pairs with draw i of
    :func:`cxtradeoff.uncertainty.simulate` for the same seed and overrides.

    Raises
    ------
    ParameterError
        Naming a scenario with no AI, months outside 1..24, bad draws or seed.
    """
    _check_scenario(scenario)
    months = _check_months(months)
    draws, seed = _check_draws_and_seed(draws, seed)
    phases = scenario_phases(params, scenario, overrides=overrides)
    weights = _phase_weights(scenario, months)
    z_all = np.empty(draws)
    delta_all = np.empty(draws)
    v_all = np.empty(draws)
    k_all = np.empty(draws)
    start = 0
    for random in random_numbers(draws, seed):
        stop = start + random.shape[1]
        inputs = sample_phases(phases, random)
        z_sum: Any = 0.0
        delta_sum: Any = 0.0
        for weight, values in zip(weights, inputs, strict=True):
            if weight > 0:
                z, delta, _ = _phase_figures(values)
                z_sum = z_sum + weight * np.asarray(z)
                delta_sum = delta_sum + weight * np.asarray(delta)
        _, _, v = _phase_figures(inputs[0])
        z_all[start:stop] = z_sum
        delta_all[start:stop] = delta_sum
        v_all[start:stop] = v
        k_all[start:stop] = inputs[0]["switch_conversion"]
        start = stop
    return PilotDraws(
        scenario=scenario,
        months=months,
        risk_factor=z_all,
        extra_churn=delta_all,
        value_per_lost_customer=v_all,
        conversion=k_all,
    )


def _base_pilot(
    params: Parameters, scenario: str, months: int, overrides: Mapping[str, Any] | None
) -> tuple[float, float | None, float]:
    """Base case of the piloted scenario: z over the pilot, k*_npv (None if undefined), V."""
    phases = scenario_phases(params, scenario, overrides=overrides)
    z = 0.0
    for weight, (_, p) in zip(_phase_weights(scenario, months), phases, strict=True):
        if weight > 0:
            z += weight * float(_phase_figures(p.as_inputs())[0])
    v = float(_phase_figures(phases[0][1].as_inputs())[2])
    k_star = evaluate(params, scenario, overrides=overrides).to_dict()["break_even_conversion_npv"]
    return z, k_star, v


# ---------------------------------------------------------------------------
# Plan (before the pilot)
# ---------------------------------------------------------------------------


def expected_value_of_sample_information(
    npv: np.ndarray,
    theta_ai: np.ndarray,
    *,
    customers_per_arm: int,
    seed: int,
    bins: int = EVPPI_BINS,
) -> float:
    """EVSI: what a pilot with ``customers_per_arm`` customers in its AI arm is worth.

    Preposterior analysis on the prior's draws. For each draw j, a pilot is simulated
    from the prior: the AI arm's churn over the pilot is ``theta_ai[j]`` and the count
    who leave is Binomial(n, theta_ai[j]). The prior draws are reweighted by each
    simulated pilot's likelihood, theta_ai^y (1 - theta_ai)^(n - y) (the control arm's
    likelihood is the same for every draw, since the baseline retention is fixed in the
    model, and cancels); the best scenario is the one with the highest posterior mean
    NPV. EVSI = mean over pilots of [max_s posterior mean NPV_s - posterior mean NPV of
    the scenario best on the prior], a sum of non-negative terms: it is >= 0 exactly.

    Two steps keep it fast and stable (``docs/pilot.md``): y depends on a draw only
    through theta_ai, so each draw's NPV is replaced by the mean NPV of its bin of
    theta_ai (``bins`` equal-count bins, as the EVPPI), an estimate of
    E[NPV | theta_ai] whose noise does not inflate the maximum; and the likelihood is
    summed over groups of neighbouring draws (32 per bin), at their mean theta_ai, one
    block of distinct counts y at a time. With these bins, EVSI cannot exceed the value
    of knowing theta_ai exactly (the EVPPI of the piloted scenario's extra churn).

    Parameters
    ----------
    npv
        Shape ``(scenarios, draws)``: every scenario compared, on common draws.
    theta_ai
        Shape ``(draws,)``: the AI arm's churn over the pilot in each draw.
    customers_per_arm
        Customers in the AI arm (>= 1).
    seed
        Seed of the simulated pilots' counts.
    bins
        Equal-count bins of theta_ai.

    Returns
    -------
    float
        In the NPV's currency.
    """
    rows = np.asarray(npv, dtype=float)
    theta = np.clip(np.asarray(theta_ai, dtype=float), _TINY, 1.0 - _TINY)
    if rows.ndim != 2 or theta.shape != (rows.shape[1],) or rows.shape[1] < 1:
        raise ValueError(f"npv {rows.shape} and theta_ai {theta.shape} do not pair draw by draw")
    n = int(customers_per_arm)
    if n < 1:
        raise ParameterError(f"customers_per_arm = {n} is not allowed; expected at least 1")
    draws = theta.size
    count = min(int(bins), draws)
    order = np.argsort(theta, kind="stable")
    sorted_theta = theta[order]
    rank_bin = np.arange(draws, dtype=np.intp) * count // draws
    bin_of = np.empty(draws, dtype=np.intp)
    bin_of[order] = rank_bin
    per_bin = np.bincount(bin_of, minlength=count).astype(float)
    sums = np.stack([np.bincount(bin_of, weights=row, minlength=count) for row in rows])
    best_prior = int(np.argmax(sums.sum(axis=1)))
    means = sums / per_bin
    # groups of neighbouring draws inside each bin: their mean theta and their size
    bin_start = np.searchsorted(rank_bin, np.arange(count))
    within = np.arange(draws) - bin_start[rank_bin]
    group = rank_bin * _GROUPS_PER_BIN + within * _GROUPS_PER_BIN // per_bin[rank_bin].astype(
        np.intp
    )
    _, group_index, mass = np.unique(group, return_inverse=True, return_counts=True)
    theta_group = np.bincount(group_index, weights=sorted_theta) / mass
    group_bin = rank_bin[np.searchsorted(group_index, np.arange(mass.size))]
    bin_first_group = np.searchsorted(group_bin, np.arange(count))
    log_theta, log_rest = np.log(theta_group), np.log1p(-theta_group)
    log_mass = np.log(mass)
    # simulated pilots from the prior, one per draw; distinct counts weighed once
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(_STREAM_EVSI,)))
    counts, times = np.unique(rng.binomial(n, theta), return_counts=True)
    total = 0.0
    for start in range(0, counts.size, _EVSI_BLOCK):
        y = counts[start : start + _EVSI_BLOCK].astype(float)[:, None]
        log_like = y * log_theta + (n - y) * log_rest + log_mass
        log_like -= log_like.max(axis=1, keepdims=True)
        weight = np.add.reduceat(np.exp(log_like), bin_first_group, axis=1)
        posterior = (weight @ means.T) / weight.sum(axis=1, keepdims=True)
        gain = posterior.max(axis=1) - posterior[:, best_prior]
        total += float(np.dot(times[start : start + _EVSI_BLOCK], gain))
    return total / draws


@dataclass(frozen=True)
class PilotPlan:
    """What a pilot of ``scenario`` for ``months`` months needs and is worth (PILOT.md, Plan).

    ``theta_control`` and ``theta_ai_at_break_even`` are the churn over the pilot in each
    arm if k sits at the piloted scenario's break-even over the horizon (base case);
    ``n_per_arm`` the customers per arm to tell them apart (None where the break-even is
    undefined or outside 0..1: the pilot cannot change that scenario's call);
    ``customers_per_arm`` the pilot size valued (``n_per_arm`` or the one asked for);
    ``evsi`` its expected value of information, beside ``evppi_switch_conversion``, the
    value of knowing k exactly, and ``evppi_extra_churn``, the value of knowing exactly
    what the pilot measures (the AI arm's churn over the pilot, i.e. z * k of the piloted
    scenario): the most any pilot of it can be worth, EVSI's exact ceiling (it can exceed
    the EVPPI of k by a few percent, since the pilot also measures z);
    ``expected_pilot_cost`` the expected value of the extra customers the AI arm loses
    during the pilot (``expected_extra_customers_lost`` of them; None without a pilot
    size).
    """

    scenario: str
    months: int
    theta_control: float
    theta_ai_at_break_even: float | None
    break_even_conversion_npv: float | None
    n_per_arm: int | None
    customers_per_arm: int | None
    evsi: float | None
    evppi_switch_conversion: float
    evppi_extra_churn: float
    expected_pilot_cost: float | None
    expected_extra_customers_lost: float | None
    recommended: str
    draws: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """The contract's keys first, then the context; JSON-able (None for undefined)."""
        return {
            "months": self.months,
            "theta_control": self.theta_control,
            "theta_ai_at_break_even": self.theta_ai_at_break_even,
            "n_per_arm": self.n_per_arm,
            "evsi": self.evsi,
            "evppi_switch_conversion": self.evppi_switch_conversion,
            "expected_pilot_cost": self.expected_pilot_cost,
            "evppi_extra_churn": self.evppi_extra_churn,
            "scenario": self.scenario,
            "customers_per_arm": self.customers_per_arm,
            "break_even_conversion_npv": self.break_even_conversion_npv,
            "expected_extra_customers_lost": self.expected_extra_customers_lost,
            "recommended": self.recommended,
            "draws": self.draws,
            "seed": self.seed,
        }


def plan_pilot(
    params: Parameters,
    scenario: str,
    *,
    months: int,
    customers_per_arm: int | None = None,
    scenarios: Sequence[str] = SCENARIO_NAMES,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    overrides: Mapping[str, Any] | None = None,
) -> PilotPlan:
    """Plan a pilot of ``scenario`` for ``months`` months (PILOT.md, "Plan").

    Parameters
    ----------
    params
        The company profile.
    scenario
        The scenario the AI arm runs (one with AI in it).
    months
        Duration, 1..24.
    customers_per_arm
        Pilot size to value; default: the size for 80% power (``n_per_arm``).
    scenarios
        Scenarios compared in the decision (the status quo is always added).
    draws, seed
        Monte Carlo draws of the prior and the seed.
    overrides
        Parameter overrides applied after each scenario.

    Returns
    -------
    PilotPlan

    Raises
    ------
    ParameterError
        Naming the scenario, months, customers per arm, draws or seed at fault.
    """
    _check_scenario(scenario)
    months = _check_months(months)
    draws, seed = _check_draws_and_seed(draws, seed)
    if customers_per_arm is not None and (not _is_int(customers_per_arm) or customers_per_arm < 1):
        raise ParameterError(
            f"customers_per_arm = {customers_per_arm!r} is not allowed; expected a whole "
            "number above 0"
        )
    used = params.updated(dict(overrides or {}))
    r = used.retention_rate
    z, k_star, _ = _base_pilot(params, scenario, months, overrides)
    theta_c = float(pilot_churn(r, 0.0, months))
    theta_ai: float | None = None
    n_power: int | None = None
    if k_star is not None and 0.0 <= k_star <= 1.0:
        theta_ai = float(pilot_churn(r, z * k_star, months))
        n_power = n_per_arm(theta_c, theta_ai)
    n = customers_per_arm if customers_per_arm is not None else n_power
    names = compared_scenarios(scenarios)
    decision = decide(params, scenarios=names, draws=draws, seed=seed, overrides=overrides)
    sim = decision.simulation
    drawn = pilot_draws(
        params, scenario, months=months, draws=draws, seed=seed, overrides=overrides
    )
    theta_draws = np.asarray(pilot_churn(r, drawn.extra_churn, months), dtype=float)
    value: float | None = None
    cost: float | None = None
    lost: float | None = None
    if n is not None:
        value = expected_value_of_sample_information(
            sim.npv, theta_draws, customers_per_arm=n, seed=seed
        )
        extra = theta_draws - theta_c
        lost = float(n * np.mean(extra))
        cost = float(n * np.mean(extra * drawn.value_per_lost_customer))
    return PilotPlan(
        scenario=scenario,
        months=months,
        theta_control=theta_c,
        theta_ai_at_break_even=theta_ai,
        break_even_conversion_npv=k_star,
        n_per_arm=n_power,
        customers_per_arm=n,
        evsi=value,
        evppi_switch_conversion=evppi(sim.npv, sim.conversion),
        evppi_extra_churn=evppi(sim.npv, theta_draws),
        expected_pilot_cost=cost,
        expected_extra_customers_lost=lost,
        recommended=decision.recommended,
        draws=draws,
        seed=seed,
    )


# ---------------------------------------------------------------------------
# Update (after the pilot)
# ---------------------------------------------------------------------------


def posterior_churn(
    counts: PilotCounts, *, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of each arm's annual churn after the pilot (uniform priors, PILOT.md steps 1-2).

    theta ~ Beta(1 + churned, 1 + customers - churned) over the pilot, then annualised:
    1 - (1 - theta)^(12 / months). Each arm has its own seeded stream, apart from the
    model inputs' streams.

    Returns
    -------
    (theta_ai_year, theta_control_year)
        Two arrays of ``draws`` values.
    """
    draws, seed = _check_draws_and_seed(draws, seed)
    out = []
    for arm, key in (("ai", _STREAM_AI), ("control", _STREAM_CONTROL)):
        n, c = getattr(counts, f"{arm}_customers"), getattr(counts, f"{arm}_churned")
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))
        theta = rng.beta(1.0 + c, 1.0 + n - c, size=draws)
        out.append(np.asarray(annualise(theta, counts.months), dtype=float))
    return out[0], out[1]


def conversion_from_extra_churn(
    extra_annual_churn: np.ndarray, risk_factor: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """k = u / z draw by draw, clipped to 0..1 (PILOT.md step 4).

    Returns
    -------
    (k, share_clipped, share_clipped_at_one)
        The draws of k; the share of draws set to 0 (the pilot saw no extra churn
        there) and the share set to 1 (more extra churn than z allows).

    Raises
    ------
    ParameterError
        If z is 0 in a draw (nobody meets the AI in the piloted scenario).

    Examples
    --------
    >>> k, low, high = conversion_from_extra_churn(np.array([-0.01, 0.01, 0.5]), np.full(3, 0.2))
    >>> k.round(6).tolist(), round(low, 4), round(high, 4)
    ([0.0, 0.05, 1.0], 0.3333, 0.3333)
    """
    u = np.asarray(extra_annual_churn, dtype=float)
    z = np.asarray(risk_factor, dtype=float)
    if np.any(z <= 0):
        raise ParameterError(
            "the piloted scenario exposes no customer to the AI in some draws (z = 0), so a "
            "pilot cannot measure the switching conversion there"
        )
    ratio = u / z
    return np.clip(ratio, 0.0, 1.0), float(np.mean(ratio < 0)), float(np.mean(ratio > 1))


def _pilot_decision(decision: Decision) -> PilotDecision:
    return PilotDecision(
        recommended=decision.recommended,
        scenarios={
            s.name: PilotScenario(npv_mean=s.npv_mean, p_loss=s.p_loss, p_best=s.p_best)
            for s in decision.scenarios
        },
        evppi_switch_conversion=decision.evppi_switch_conversion,
    )


@dataclass(frozen=True)
class PilotUpdate:
    """A pilot's counts and what they change: the posterior and the decision before and after.

    ``extra_annual_churn`` (u) and ``conversion`` (k) hold the posterior draws;
    ``prior`` and ``posterior`` are the decisions on the same draws of every other
    input, with the prior's k and with the posterior's. ``break_even_conversion_npv`` is
    the piloted scenario's break-even (base case), for the chart.
    """

    counts: PilotCounts
    assumed_switch_conversion: float
    break_even_conversion_npv: float | None
    extra_annual_churn: np.ndarray = field(repr=False)
    conversion: np.ndarray = field(repr=False)
    share_clipped: float
    share_clipped_at_one: float
    prior: Decision = field(repr=False)
    posterior: Decision = field(repr=False)

    def to_contract(self) -> PilotResult:
        """The update as the results file keeps it (:class:`cxtradeoff.contracts.PilotResult`)."""
        u, k = self.extra_annual_churn, self.conversion
        u10, u90 = (float(v) for v in np.percentile(u, [10.0, 90.0]))
        k10, k50, k90 = (float(v) for v in np.percentile(k, [10.0, 50.0, 90.0]))
        prior_k = self.prior.simulation.conversion
        p10, p50, p90 = (float(v) for v in np.percentile(prior_k, [10.0, 50.0, 90.0]))
        k_star = self.break_even_conversion_npv

        def below(draws: np.ndarray) -> float | None:
            return None if k_star is None else float(np.mean(draws < k_star))

        c = self.counts
        return PilotResult(
            scenario=c.scenario,
            months=c.months,
            ai_customers=c.ai_customers,
            ai_churned=c.ai_churned,
            control_customers=c.control_customers,
            control_churned=c.control_churned,
            source=c.source,
            assumption=ASSUMPTION,
            prior_switch_conversion=ConversionInterval(
                mean=float(np.mean(prior_k)), p10=p10, p50=p50, p90=p90
            ),
            extra_annual_churn=ExtraChurnPosterior(mean=float(np.mean(u)), p10=u10, p90=u90),
            switch_conversion=ConversionPosterior(
                mean=float(np.mean(k)),
                p10=k10,
                p50=k50,
                p90=k90,
                share_clipped=self.share_clipped,
                share_clipped_at_one=self.share_clipped_at_one,
            ),
            break_even_conversion_npv=k_star,
            prior_p_below_break_even=below(prior_k),
            posterior_p_below_break_even=below(k),
            prior=_pilot_decision(self.prior),
            posterior=_pilot_decision(self.posterior),
        )

    def to_dict(self) -> dict[str, Any]:
        """PILOT.md's output keys (and the pilot and draws behind them), JSON-able."""
        result = self.to_contract().model_dump(mode="json")
        return {
            "scenario": result["scenario"],
            "months": result["months"],
            **{
                f"{arm}_{what}": result[f"{arm}_{what}"]
                for arm in ARMS
                for what in ("customers", "churned")
            },
            "extra_annual_churn": result["extra_annual_churn"],
            "switch_conversion": result["switch_conversion"],
            "prior": result["prior"],
            "posterior": result["posterior"],
            "prior_switch_conversion": result["prior_switch_conversion"],
            "break_even_conversion_npv": result["break_even_conversion_npv"],
            "prior_p_below_break_even": result["prior_p_below_break_even"],
            "posterior_p_below_break_even": result["posterior_p_below_break_even"],
            "assumption": result["assumption"],
            "draws": self.posterior.draws,
            "seed": self.posterior.seed,
        }


def update_with_pilot(
    params: Parameters,
    counts: PilotCounts,
    *,
    scenarios: Sequence[str] = SCENARIO_NAMES,
    permitted: Mapping[str, bool] | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    overrides: Mapping[str, Any] | None = None,
) -> PilotUpdate:
    """Replace the prior of k by what a pilot measured, and decide again (PILOT.md, "Update").

    Steps: each arm's churn over the pilot has a Beta posterior (uniform priors),
    annualised (:func:`posterior_churn`); u = theta_ai_year - theta_control_year; with
    z of the piloted scenario on the same Monte Carlo draw (:func:`pilot_draws`),
    k = u / z clipped to 0..1 (:func:`conversion_from_extra_churn`); these draws of k
    replace the prior's in every scenario, paired draw by draw
    (:func:`cxtradeoff.decision.decide` with ``conversion``), under the assumption
    :data:`ASSUMPTION`.

    Returns
    -------
    PilotUpdate

    Raises
    ------
    ParameterError
        Naming a scenario, override, draws or seed at fault.
    """
    draws, seed = _check_draws_and_seed(draws, seed)
    names = compared_scenarios(scenarios)
    prior = decide(
        params,
        scenarios=names,
        draws=draws,
        seed=seed,
        overrides=overrides,
        permitted=permitted,
    )
    drawn = pilot_draws(
        params, counts.scenario, months=counts.months, draws=draws, seed=seed, overrides=overrides
    )
    theta_ai, theta_control = posterior_churn(counts, draws=draws, seed=seed)
    u = theta_ai - theta_control
    k, low, high = conversion_from_extra_churn(u, drawn.risk_factor)
    posterior = decide(
        params,
        scenarios=names,
        draws=draws,
        seed=seed,
        overrides=overrides,
        conversion=k,
        permitted=permitted,
    )
    _, k_star, _ = _base_pilot(params, counts.scenario, counts.months, overrides)
    return PilotUpdate(
        counts=counts,
        assumed_switch_conversion=float(params.updated(dict(overrides or {})).switch_conversion),
        break_even_conversion_npv=k_star,
        extra_annual_churn=u,
        conversion=k,
        share_clipped=low,
        share_clipped_at_one=high,
        prior=prior,
        posterior=posterior,
    )


# ---------------------------------------------------------------------------
# What a report shows
# ---------------------------------------------------------------------------


def plan_summary(plan: PilotPlan, *, currency: str, customers_total: int) -> list[str]:
    """A pilot plan in sentences for a report (plain text).

    Parameters
    ----------
    plan
        The plan (:func:`plan_pilot`).
    currency
        Label for money amounts.
    customers_total
        The company's active customers (to say when a pilot needs more than it has).

    Returns
    -------
    list of str
        What the pilot must tell apart and the customers per arm it needs; what its
        information is worth; what it is expected to cost; the value net of that cost.
    """
    piloted = scenario_label(plan.scenario)
    months = f"{plan.months} month{'s' if plan.months != 1 else ''}"
    sentences = []
    n = plan.n_per_arm
    if n is None or plan.theta_ai_at_break_even is None:
        sentences.append(
            f"A pilot cannot change the call on {piloted} on its own: its break-even is "
            f"{break_even_words(plan.break_even_conversion_npv)} (the share of would-be leavers "
            "who leave each year at which it stops paying), outside what a pilot can find."
        )
    else:
        sentences.append(
            f"To tell whether {piloted} loses more customers than today's service, a "
            f"randomised pilot of {months} needs {n:,} customers in each arm (a two-sided 5% "
            f"test with 80% power): over the pilot, {share(plan.theta_control, digits=2)} of "
            f"the control arm would leave, and {share(plan.theta_ai_at_break_even, digits=2)} "
            "of the AI arm if the share of would-be leavers who leave sat at the break-even, "
            f"{share(plan.break_even_conversion_npv)} each year."
        )
    size = plan.customers_per_arm
    if size is not None and 2 * size > customers_total:
        sentences.append(
            f"Two arms of {size:,} are more than the company's {customers_total:,} customers: "
            "a pilot this size cannot be run; a longer one needs fewer customers."
        )
    if size is not None and plan.evsi is not None and plan.expected_pilot_cost is not None:
        sentences.append(
            f"With {size:,} customers per arm, what the pilot would tell is worth "
            f"{money(plan.evsi, currency)} on average (the expected value of sample "
            f"information), against {money(plan.evppi_switch_conversion, currency)} for knowing "
            f"the share of would-be leavers who leave exactly, and at most "
            f"{money(plan.evppi_extra_churn, currency)} for any pilot of this scenario."
        )
        net = plan.evsi - plan.expected_pilot_cost
        worth = (
            f"net of that cost, it is worth {money(net, currency)}"
            if net > 0
            else "that is more than its information is worth"
        )
        sentences.append(
            f"It is expected to cost {money(plan.expected_pilot_cost, currency)}, the lifetime "
            f"value of {customers(plan.expected_extra_customers_lost)} extra customers lost in "
            f"the AI arm during the pilot; {worth}."
        )
    return sentences


def prior_posterior_table(pilot: PilotResult, *, currency: str) -> pd.DataFrame:
    """Each scenario before and after the pilot, in words (a table for a report).

    Returns
    -------
    DataFrame
        Index: scenario titles; columns: expected net present value, chance of losing
        money and chance of being the best choice, each before and after the pilot; the
        recommended scenario marked in a last pair of columns.
    """
    rows = {}
    for name in pilot.prior.scenarios:
        before = pilot.prior.scenarios[name]
        after = pilot.posterior.scenarios.get(name)
        rows[scenario_title(name)] = {
            "Expected value, before": money(before.npv_mean, currency),
            "Expected value, after": money(after.npv_mean if after else None, currency),
            "Chance of loss, before": chance(before.p_loss),
            "Chance of loss, after": chance(after.p_loss if after else None),
            "Chance best, before": chance(before.p_best),
            "Chance best, after": chance(after.p_best if after else None),
            "Recommended, before": "yes" if name == pilot.prior.recommended else "",
            "Recommended, after": "yes" if name == pilot.posterior.recommended else "",
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "Scenario"
    return frame


def _more_or_fewer(value: float) -> str:
    return "more" if value >= 0 else "fewer"


def pilot_summary(pilot: PilotResult, *, currency: str, years: int) -> list[str]:
    """The pilot and what it changed, in sentences for a report (plain text).

    Parameters
    ----------
    pilot
        The update as the results file keeps it (``ResultsFile.pilot`` or
        :meth:`PilotUpdate.to_contract`).
    currency
        Label for money amounts.
    years
        Years in the net present value.

    Returns
    -------
    list of str
        The pilot's counts; the extra churn it measured; the switching conversion it
        implies against the one assumed; the recommendation before and after; the
        assumption that carries the measurement to every scenario.
    """
    ai = pilot.ai_churned / pilot.ai_customers
    control = pilot.control_churned / pilot.control_customers
    u, k = pilot.extra_annual_churn, pilot.switch_conversion
    sentences = [
        f"A randomised pilot ran {scenario_label(pilot.scenario)} for {pilot.months} "
        f"month{'s' if pilot.months != 1 else ''}: {pilot.ai_churned:,} of "
        f"{pilot.ai_customers:,} customers served that way left ({share(ai)}), against "
        f"{pilot.control_churned:,} of {pilot.control_customers:,} kept on today's service "
        f"({share(control)}).",
        f"Over a year, that is {share(abs(u.mean))} {_more_or_fewer(u.mean)} customers lost "
        f"with the AI than without it (80% interval {share(u.p10)} to {share(u.p90)}).",
    ]
    clipped = (
        f"; in {chance(k.share_clipped)} of the draws the pilot saw no extra churn at all"
        if k.share_clipped > 0
        else ""
    )
    before_k = pilot.prior_switch_conversion
    sentences.append(
        f"So of the customers who would consider leaving over AI, {share(k.mean)} actually "
        f"leave each year on average (80% interval {share(k.p10)} to {share(k.p90)}), against "
        f"{share(before_k.mean)} assumed before the pilot (80% interval {share(before_k.p10)} "
        f"to {share(before_k.p90)}){clipped}."
    )
    k_star = pilot.break_even_conversion_npv
    prior_below, posterior_below = (
        pilot.prior_p_below_break_even,
        pilot.posterior_p_below_break_even,
    )
    if k_star is not None and 0 < k_star < 1 and prior_below is not None:
        sentences.append(
            f"{scenario_title(pilot.scenario)} pays over the horizon only if fewer than "
            f"{share(k_star)} leave each year: the chance of that goes from "
            f"{chance(prior_below)} before the pilot to {chance(posterior_below)} after it."
        )
    before, after = pilot.prior, pilot.posterior
    b, a = before.scenarios[before.recommended], after.scenarios[after.recommended]
    after_words = (
        f"{scenario_label(after.recommended)}, with an expected net present value of "
        f"{money(a.npv_mean, currency)} over {years} years and a {chance(a.p_loss)} chance "
        "of losing money"
    )
    if before.recommended == after.recommended:
        sentences.append(f"The pilot confirms the recommendation: {after_words}.")
    else:
        sentences.append(
            f"The pilot changes the recommendation: before it, {scenario_label(before.recommended)} "
            f"(expected net present value {money(b.npv_mean, currency)}, a {chance(b.p_loss)} "
            f"chance of losing money); after it, {after_words}."
        )
    piloted = pilot.scenario
    if piloted in before.scenarios and piloted in after.scenarios:
        sentences.append(
            f"With {scenario_title(piloted).lower()}, the chance of losing money goes from "
            f"{chance(before.scenarios[piloted].p_loss)} before the pilot to "
            f"{chance(after.scenarios[piloted].p_loss)} after it."
        )
    sentences.append(f"This rests on one assumption. {ASSUMPTION}")
    return sentences


def _density(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A smooth density of ``values`` on ``grid`` (Gaussian kernel, reflected at 0).

    Values at exactly 0 (the clipped draws) are left out: the caller shows them apart.
    The density integrates to the share of values above 0.
    """
    inside = values[values > 0]
    if inside.size < 2:
        return np.zeros_like(grid)
    spread = float(np.std(inside))
    q75, q25 = np.percentile(inside, [75.0, 25.0])
    scale = min(spread, float(q75 - q25) / 1.349) if q75 > q25 else spread
    width = max(0.9 * scale * inside.size ** (-0.2), (grid[1] - grid[0]) / 2.0, 1e-9)
    edges = np.linspace(0.0, float(grid[-1]) * 1.5, 3001)
    counts, _ = np.histogram(inside, bins=edges)
    centres = (edges[1:] + edges[:-1]) / 2.0
    out = np.zeros_like(grid)
    for sign in (1.0, -1.0):  # the kernel's mass below 0 is reflected back
        diff = (grid[:, None] - sign * centres[None, :]) / width
        out += np.exp(-0.5 * diff**2) @ counts
    return out / (values.size * width * math.sqrt(2.0 * math.pi))


def _prior_density(median: float, grid: np.ndarray) -> np.ndarray:
    """Density of the prior of k on ``grid`` (0 < k < 1): the registry's lognormal."""
    k = np.maximum(grid, 1e-300)
    if median <= 0:
        return np.zeros_like(grid)
    z = np.log(k / median) / SIGMA_CONVERSION
    density = np.exp(-0.5 * z**2) / (k * SIGMA_CONVERSION * math.sqrt(2.0 * math.pi))
    return np.where(grid > 0, density, 0.0)


def prior_posterior_chart(update: PilotUpdate) -> Figure:
    """The switching conversion before and after the pilot, with the break-even marked.

    Two densities of k (each year): the prior's (assumed: the registry's lognormal,
    drawn exactly) and the posterior's (the pilot: a smoothed density of the draws the
    decision used); a dashed line at the piloted scenario's
    break-even over the horizon (below it, that scenario pays); the share of posterior
    draws at 0 (no extra churn seen) is written on the chart. Labels are in words.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    from cxtradeoff.theme import PAGE_WIDTH_IN

    prior = update.prior.simulation.conversion  # for the axis; its curve is exact
    posterior = update.conversion
    k_star = update.break_even_conversion_npv
    top = max(float(np.percentile(prior, 99.0)), float(np.percentile(posterior, 99.5)))
    if k_star is not None and 0 < k_star < 1:
        top = max(top, 1.25 * k_star)
    grid = np.linspace(0.0, min(1.0, max(top, 0.01)), 400)
    scenario = update.counts.scenario
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.6))
    prior_curve = _prior_density(update.assumed_switch_conversion, grid)
    ax.fill_between(grid, prior_curve, color=COLOURS["qualitative"], alpha=0.25)
    ax.plot(
        grid,
        prior_curve,
        color=COLOURS["qualitative"],
        label="Before the pilot (an assumption)",
    )
    ax.fill_between(grid, _density(posterior, grid), color=scenario_colour(scenario), alpha=0.2)
    ax.plot(
        grid,
        _density(posterior, grid),
        color=scenario_colour(scenario),
        linewidth=2.0,
        label=f"After the pilot ({scenario_title(scenario).lower()} measured)",
    )
    if k_star is not None and 0 < k_star <= grid[-1]:
        ax.axvline(k_star, color=COLOURS["net"], linestyle="--", linewidth=1.2)
        ax.annotate(
            f"{scenario_title(scenario)} pays below {share(k_star)}",
            xy=(k_star, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -14),
            textcoords="offset points",
            fontsize=8,
        )
    if update.share_clipped >= 0.005:
        ax.annotate(
            f"{chance(update.share_clipped)} of the draws after the pilot at 0: no extra "
            "churn seen",
            xy=(0.0, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, 28),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xlim(0.0, grid[-1])
    ax.set_ylim(bottom=0.0)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_yticks([])
    ax.set_xlabel("Of the customers who would consider leaving over AI, share who leave each year")
    ax.set_ylabel("How likely")
    ax.set_title("What the pilot says about the customers who actually leave")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig
