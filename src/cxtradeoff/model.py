"""The savings-versus-loyalty model: parameters, equations and scenarios.

The parameter names are those of the model contract (``docs/model.md``): profiles,
notebooks, the command line (``--set name=value``) and the JSON output all use them.

Every equation is a pure function that takes scalars (the base case) or numpy arrays
of Monte Carlo draws (broadcast together) and returns the same shape. :func:`compute`
chains them for one scenario phase; :func:`compute_phases` adds the reversal extension
(full automation in year 1, hybrid afterwards, with a one-off rehiring cost).

Example
-------
>>> params = parameters_from_mapping(WORKED_CHECK)
>>> round(float(evaluate(params, "full_automation",
...     overrides={"ai_escalation_share": 0.0, "escalation_mitigation": 0.0}).npv), 2)
2175000.75
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Annotated, Any

import annotated_types
import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from cxtradeoff.errors import ParameterError

#: a scalar or an array of draws; every equation broadcasts its arguments
Value = float | np.ndarray

#: tolerance on ``ai_resolution_share + ai_escalation_share <= 1`` (float sums)
SHARE_SUM_TOLERANCE: float = 1e-12


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


class Parameters(BaseModel):
    """Every model input for one company in one scenario, validated.

    Build it with :func:`parameters_from_mapping` (or :meth:`updated`), which turn
    pydantic's errors into a :class:`~cxtradeoff.errors.ParameterError` naming the
    parameter, the value and the allowed range.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, validate_default=True
    )

    customers: int = Field(gt=0, description="N: active customers")
    revenue_per_customer: float = Field(gt=0, description="R: annual revenue per customer")
    margin: float = Field(ge=0, le=1, description="g: contribution margin on revenue")
    retention_rate: float = Field(ge=0, lt=1, description="r: baseline annual retention")
    discount_rate: float = Field(ge=0, le=1, description="d: annual discount rate")
    horizon_years: int = Field(ge=1, le=30, description="T: years in the net present value")
    contacts_per_customer: float = Field(
        ge=0, description="c: service contacts per customer per year"
    )
    contact_reach: float = Field(
        ge=0, le=1, description="p: share of customers who contact service in a year"
    )
    cost_human_contact: float = Field(
        ge=0, description="C_h: fully loaded cost of a human-handled contact"
    )
    cost_ai_contact: float = Field(ge=0, description="C_ai: cost of an AI-handled contact")
    ai_resolution_share: float = Field(
        ge=0, le=1, description="a: share of contacts fully resolved by AI"
    )
    ai_escalation_share: float = Field(
        ge=0, le=1, description="q: share of contacts that try AI, then go to a human"
    )
    assist_productivity: float = Field(
        ge=0, le=1, description="pi: cost saved on human contacts by AI assistance"
    )
    ai_fixed_cost_per_year: float = Field(ge=0, description="O: AI platform running cost")
    implementation_cost: float = Field(ge=0, description="F: one-off cost at year 0")
    consider_switch_share: float = Field(
        ge=0, le=1, description="w: share of exposed customers who would consider switching"
    )
    switch_conversion: float = Field(
        ge=0, le=1, description="k: share of those who actually leave (a prior)"
    )
    escalation_mitigation: float = Field(
        ge=0, le=1, description="h: share of the risk removed by an easy path to a human"
    )
    retention_spend_per_customer: float = Field(
        ge=0, description="s_r: annual spend to retain one customer"
    )
    acquisition_multiplier: float = Field(ge=1, description="M: acquisition cost / retention cost")
    replace_lost_customers: bool = Field(
        description="true: a lost customer is replaced at acquisition cost"
    )
    # --- extension (reversal scenario only; off everywhere else) -------------------
    contacts_per_agent_per_year: float = Field(
        default=6000.0,
        gt=0,
        description="reversal: contacts one full-time human agent handles in a year",
    )
    rehiring_cost_per_agent: float | None = Field(
        default=None,
        ge=0,
        description=(
            "reversal: one-off cost to recruit and train one agent; empty = a quarter of "
            "an agent's annual loaded cost (contacts_per_agent_per_year * cost_human_contact / 4)"
        ),
    )

    @model_validator(mode="after")
    def _shares_fit(self) -> Parameters:
        total = self.ai_resolution_share + self.ai_escalation_share
        if total > 1 + SHARE_SUM_TOLERANCE:
            raise ValueError(
                f"ai_resolution_share + ai_escalation_share = {self.ai_resolution_share!r} + "
                f"{self.ai_escalation_share!r} = {total!r}; allowed: at most 1 (a contact is "
                "resolved by AI, escalated, or handled by a human from the start)"
            )
        return self

    def updated(self, changes: Mapping[str, Any]) -> Parameters:
        """Return a validated copy with ``changes`` applied (raises ParameterError)."""
        return parameters_from_mapping({**self.model_dump(), **dict(changes)})

    def as_inputs(self) -> dict[str, Any]:
        """The parameters as a plain ``name -> value`` dict for the equations."""
        return self.model_dump()


#: names of the MODEL.md inputs, in the contract's order
MODEL_INPUTS: tuple[str, ...] = tuple(
    name
    for name in Parameters.model_fields
    if name not in ("contacts_per_agent_per_year", "rehiring_cost_per_agent")
)
#: names of the parameters this project adds (each off unless its scenario uses it)
EXTENSION_INPUTS: tuple[str, ...] = ("contacts_per_agent_per_year", "rehiring_cost_per_agent")
PARAMETER_NAMES: tuple[str, ...] = tuple(Parameters.model_fields)

#: the worked check of the model contract (full automation with q = 0 and h = 0 on top)
WORKED_CHECK: Mapping[str, Any] = MappingProxyType(
    {
        "customers": 1_000_000,
        "revenue_per_customer": 600.0,
        "margin": 0.30,
        "retention_rate": 0.85,
        "discount_rate": 0.10,
        "horizon_years": 3,
        "contacts_per_customer": 2.0,
        "contact_reach": 0.5,
        "cost_human_contact": 6.0,
        "cost_ai_contact": 0.8,
        "ai_resolution_share": 0.6,
        "ai_escalation_share": 0.0,
        "assist_productivity": 0.0,
        "ai_fixed_cost_per_year": 500_000.0,
        "implementation_cost": 0.0,
        "consider_switch_share": 0.53,
        "switch_conversion": 0.05,
        "escalation_mitigation": 0.0,
        "retention_spend_per_customer": 20.0,
        "acquisition_multiplier": 5.0,
        "replace_lost_customers": False,
    }
)


def parameter_kind(name: str) -> type:
    """Return ``int``, ``float`` or ``bool``: the type a parameter's value must have."""
    _check_known([name])
    annotation = Parameters.model_fields[name].annotation
    if annotation is bool:
        return bool
    if annotation is int:
        return int
    return float


def allowed_range(name: str) -> str:
    """Describe in words the values a parameter accepts, e.g. ``"a number from 0 to 1"``."""
    kind = parameter_kind(name)
    if kind is bool:
        return "true or false"
    lower = upper = ""
    for item in Parameters.model_fields[name].metadata:
        if isinstance(item, annotated_types.Gt):
            lower = f"> {item.gt:g}"
        elif isinstance(item, annotated_types.Ge):
            lower = f">= {item.ge:g}"
        elif isinstance(item, annotated_types.Lt):
            upper = f"< {item.lt:g}"
        elif isinstance(item, annotated_types.Le):
            upper = f"<= {item.le:g}"
    noun = "an integer" if kind is int else "a number"
    if lower.startswith(">=") and upper.startswith("<="):
        text = f"{noun} from {lower[3:]} to {upper[3:]}"
    elif lower.startswith(">=") and upper.startswith("<"):
        text = f"{noun} from {lower[3:]} to below {upper[2:]}"
    elif lower or upper:
        text = f"{noun} {' and '.join(x for x in (lower, upper) if x)}"
    else:
        text = noun
    if (
        Parameters.model_fields[name].default is None
        and not Parameters.model_fields[name].is_required()
    ):
        text += ", or empty for the default"
    return text


def suggest(name: str) -> list[str]:
    """Return the valid parameter names closest to ``name`` (best first)."""
    return difflib.get_close_matches(name, PARAMETER_NAMES, n=3, cutoff=0.5)


def _unknown_message(name: str) -> str:
    close = suggest(name)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown parameter {name!r}{hint} (valid names: {', '.join(PARAMETER_NAMES)})"


def _check_known(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in Parameters.model_fields]
    if unknown:
        raise ParameterError("; ".join(_unknown_message(n) for n in unknown))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars (strict pydantic rejects np.float64)."""
    return value.item() if isinstance(value, np.generic) else value


def _describe_error(error: Mapping[str, Any]) -> str:
    loc = error.get("loc") or ()
    if error.get("type") == "extra_forbidden" and loc:
        return _unknown_message(str(loc[0]))
    if not loc:  # the model validator (a + q <= 1)
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ")
    name = str(loc[0])
    if error.get("type") == "missing":
        return f"{name}: missing; expected {allowed_range(name)}"
    return f"{name} = {error.get('input')!r} is not allowed; expected {allowed_range(name)}"


def parameters_from_mapping(values: Mapping[str, Any]) -> Parameters:
    """Validate a ``name -> value`` mapping into :class:`Parameters`.

    Parameters
    ----------
    values
        Every MODEL.md input (extensions optional). Values must already have the
        parameter's type: ``int`` for counts, ``int`` or ``float`` for numbers,
        ``bool`` for flags (use :func:`parse_value` for text).

    Returns
    -------
    Parameters

    Raises
    ------
    ParameterError
        Naming every unknown parameter (with the closest valid names), every value of
        the wrong type or out of range (with the allowed range), and a + q > 1.
    """
    try:
        return Parameters.model_validate({k: _plain(v) for k, v in values.items()})
    except ValidationError as exc:
        problems = [_describe_error(e) for e in exc.errors()]
        raise ParameterError("invalid parameters: " + "; ".join(problems)) from None


def validate_value(name: str, value: Any) -> Any:
    """Check one parameter's value against its type and range (not the cross-checks).

    Raises
    ------
    ParameterError
        Naming the parameter, the value and the allowed range.
    """
    _check_known([name])
    info = Parameters.model_fields[name]
    adapter: TypeAdapter[Any] = TypeAdapter(
        Annotated[info.annotation, info],  # type: ignore[arg-type]
        config=ConfigDict(strict=True, allow_inf_nan=False),
    )
    try:
        return adapter.validate_python(_plain(value))
    except ValidationError:
        raise ParameterError(
            f"{name} = {value!r} is not allowed; expected {allowed_range(name)}"
        ) from None


def parse_value(name: str, text: str) -> int | float | bool | None:
    """Parse the text of one parameter value by the parameter's type.

    ``bool`` accepts ``true``/``false`` (any case); ``int`` accepts ``1000000``,
    ``1_000_000`` or an integral ``1e6``; ``float`` accepts any finite number.
    The range is checked later, by :func:`parameters_from_mapping`.

    Raises
    ------
    ParameterError
        If the name is unknown or the text is not of the parameter's type.
    """
    _check_known([name])
    kind = parameter_kind(name)
    raw = text.strip()
    expected = f"expected {allowed_range(name)}"
    if kind is bool:
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ParameterError(f"{name} = {text!r} is not allowed; {expected}")
    if raw == "" and Parameters.model_fields[name].default is None:
        return None
    try:
        number = float(raw.replace("_", ""))
    except ValueError:
        raise ParameterError(f"{name} = {text!r} is not a number; {expected}") from None
    if not math.isfinite(number):
        raise ParameterError(f"{name} = {text!r} is not a finite number; {expected}")
    if kind is int:
        if not number.is_integer():
            raise ParameterError(f"{name} = {text!r} is not an integer; {expected}")
        return int(number)
    return number


def parse_assignments(items: Sequence[str]) -> dict[str, Any]:
    """Parse ``["name=value", ...]`` (the command line's ``--set``) into typed values.

    Raises
    ------
    ParameterError
        If an item has no ``=``, names an unknown parameter or has a value of the
        wrong type or out of range; every problem is reported at once.
    """
    out: dict[str, Any] = {}
    problems: list[str] = []
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(f"--set {item!r}: expected name=value")
            continue
        try:
            value = parse_value(name, text)
            out[name] = value if value is None else validate_value(name, value)
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError("; ".join(problems))
    return out


# ---------------------------------------------------------------------------
# Equations (one per line of the contract; scalars or arrays)
# ---------------------------------------------------------------------------


def _safe_divide(numerator: Value, denominator: Value) -> Value:
    """``numerator / denominator`` with NaN wherever the denominator is 0."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
    return out[()] if out.ndim == 0 else out


def margin_per_customer(margin: Value, revenue_per_customer: Value) -> Value:
    """m = g * R."""
    return np.multiply(margin, revenue_per_customer)


def customer_lifetime_value(
    margin_per_customer: Value, retention_rate: Value, discount_rate: Value
) -> Value:
    """CLV = m * r / (1 + d - r); the divisor is > 0 because r < 1 and d >= 0."""
    return np.multiply(margin_per_customer, retention_rate) / (
        np.add(1.0, discount_rate) - retention_rate
    )


def acquisition_cost(acquisition_multiplier: Value, retention_spend_per_customer: Value) -> Value:
    """CAC = M * s_r."""
    return np.multiply(acquisition_multiplier, retention_spend_per_customer)


def value_per_lost_customer(clv: Value, cac: Value, replace_lost_customers: Value) -> Value:
    """V = min(CLV, CAC) if lost customers are replaced, else CLV."""
    return np.where(replace_lost_customers, np.minimum(clv, cac), clv)[()]


def exposure(contact_reach: Value, ai_resolution_share: Value, ai_escalation_share: Value) -> Value:
    """x = p * (a + q): share of customers who meet the AI in a year."""
    return np.multiply(contact_reach, np.add(ai_resolution_share, ai_escalation_share))


def extra_churn(
    exposure: Value,
    consider_switch_share: Value,
    switch_conversion: Value,
    escalation_mitigation: Value,
) -> Value:
    """delta = x * w * k * (1 - h): extra annual churn as a share of all customers."""
    return (
        np.multiply(exposure, consider_switch_share)
        * switch_conversion
        * np.subtract(1.0, escalation_mitigation)
    )


def customers_lost_per_year(customers: Value, extra_churn: Value) -> Value:
    """N * delta."""
    return np.multiply(customers, extra_churn)


def annual_savings(
    customers: Value,
    contacts_per_customer: Value,
    ai_resolution_share: Value,
    ai_escalation_share: Value,
    cost_human_contact: Value,
    cost_ai_contact: Value,
    assist_productivity: Value,
    ai_fixed_cost_per_year: Value,
) -> Value:
    """S = N * c * (a * (C_h - C_ai) - q * C_ai + (1 - a) * pi * C_h) - O."""
    a, q = ai_resolution_share, ai_escalation_share
    per_contact = (
        np.multiply(a, np.subtract(cost_human_contact, cost_ai_contact))
        - np.multiply(q, cost_ai_contact)
        + np.subtract(1.0, a) * np.multiply(assist_productivity, cost_human_contact)
    )
    return np.multiply(customers, contacts_per_customer) * per_contact - ai_fixed_cost_per_year


def annual_loyalty_cost(
    customers: Value, extra_churn: Value, value_per_lost_customer: Value
) -> Value:
    """L = N * delta * V."""
    return np.multiply(customers, extra_churn) * value_per_lost_customer


def discount_factors(discount_rate: Value, horizon_years: int) -> list[Value]:
    """[(1 + d)^-t for t = 1..T]."""
    return [np.power(np.add(1.0, discount_rate), -t) for t in range(1, int(horizon_years) + 1)]


def annuity_factor(discount_rate: Value, horizon_years: int) -> Value:
    """A = sum over t = 1..T of (1 + d)^-t."""
    total: Value = sum(discount_factors(discount_rate, horizon_years), start=0.0)
    return total


def net_present_value(
    annual_savings: Value,
    annual_loyalty_cost: Value,
    implementation_cost: Value,
    discount_rate: Value,
    horizon_years: int,
) -> Value:
    """NPV = -F + sum over t = 1..T of (S - L) / (1 + d)^t."""
    net = np.subtract(annual_savings, annual_loyalty_cost)
    total = sum(net * f for f in discount_factors(discount_rate, horizon_years))
    return np.subtract(total, implementation_cost)


def break_even_churn(
    annual_savings: Value,
    customers: Value,
    value_per_lost_customer: Value,
) -> Value:
    """delta* = S / (N * V): the contract's (annual) break-even extra churn.

    The extra churn at which a year's loyalty cost equals a year's savings. It leaves
    out the one-off implementation cost F (see :func:`break_even_churn_npv`). NaN
    where N * V = 0. Negative: automation never pays, even with no lost customers.
    """
    return _safe_divide(annual_savings, np.multiply(customers, value_per_lost_customer))


def break_even_churn_npv(
    annual_savings: Value,
    customers: Value,
    value_per_lost_customer: Value,
    implementation_cost: Value,
    discount_rate: Value,
    horizon_years: int,
) -> Value:
    """delta*_npv = (S - F / A) / (N * V): the extra churn at which NPV = 0.

    The project's extension of the contract's :func:`break_even_churn`: the one-off
    cost F is spread over the horizon by the annuity factor A, so NPV is exactly 0 at
    this churn (with F > 0 the contract's delta* leaves NPV = -F). With F = 0 the two
    are equal. NaN where N * V = 0.
    """
    recurring = np.subtract(
        annual_savings,
        np.divide(implementation_cost, annuity_factor(discount_rate, horizon_years)),
    )
    return _safe_divide(recurring, np.multiply(customers, value_per_lost_customer))


def break_even_conversion(
    break_even_churn: Value,
    exposure: Value,
    consider_switch_share: Value,
    escalation_mitigation: Value,
) -> Value:
    """k* = delta* / (x * w * (1 - h)); NaN where the divisor is 0.

    Given the contract's delta* it is the contract's k*; given delta*_npv it is the
    conversion at which NPV = 0.
    """
    divisor = np.multiply(exposure, consider_switch_share) * np.subtract(1.0, escalation_mitigation)
    return _safe_divide(break_even_churn, divisor)


def agents_to_rehire(
    customers: Value,
    contacts_per_customer: Value,
    human_workload_before: Value,
    human_workload_after: Value,
    contacts_per_agent_per_year: Value,
) -> Value:
    """Agents to hire back: N * c * max(0, u_after - u_before) / contacts per agent.

    ``u = (1 - a) * (1 - pi)`` is the human workload per contact (contacts a human
    handles, less what assistance saves).
    """
    extra = np.maximum(np.subtract(human_workload_after, human_workload_before), 0.0)
    return np.multiply(customers, contacts_per_customer) * extra / contacts_per_agent_per_year


def human_workload(ai_resolution_share: Value, assist_productivity: Value) -> Value:
    """u = (1 - a) * (1 - pi): agent effort per contact, as a share of a human-only contact."""
    return np.subtract(1.0, ai_resolution_share) * np.subtract(1.0, assist_productivity)


def rehiring_cost_per_agent(
    rehiring_cost_per_agent: Value | None,
    contacts_per_agent_per_year: Value,
    cost_human_contact: Value,
) -> Value:
    """The given cost per agent, or by default a quarter of an agent's annual loaded cost."""
    if rehiring_cost_per_agent is not None:
        return rehiring_cost_per_agent
    return np.multiply(contacts_per_agent_per_year, cost_human_contact) / 4.0


# ---------------------------------------------------------------------------
# Result and composition
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelResult:
    """Outputs of the model for one scenario: scalars, or arrays of draws.

    For the reversal scenario the per-year figures (exposure .. annual_loyalty_cost)
    are averages over the horizon and ``rehiring_cost`` is the one-off cost paid at
    the start of year 2 (0 in every other scenario). Break-even values are NaN
    where undefined (divisor 0).

    ``break_even_churn`` and ``break_even_conversion`` are the contract's (annual)
    break-even: a year's savings equal a year's loyalty cost. The ``_npv`` pair is
    the project's extension: where NPV over the horizon is exactly 0, the one-off
    costs counted. With no one-off cost (F = 0, no reversal) the pairs are equal.
    """

    margin_per_customer: Value
    clv: Value
    value_per_lost_customer: Value
    exposure: Value
    extra_churn: Value
    customers_lost_per_year: Value
    annual_savings: Value
    annual_loyalty_cost: Value
    npv: Value
    break_even_churn: Value
    break_even_conversion: Value
    break_even_churn_npv: Value
    break_even_conversion_npv: Value
    rehiring_cost: Value = field(default=0.0)

    def to_dict(self) -> dict[str, float | None]:
        """Scalar results as plain floats; NaN becomes ``None`` (JSON ``null``).

        Raises
        ------
        ValueError
            If the result holds arrays of draws (summarise them first).
        """
        out: dict[str, float | None] = {}
        for f in fields(self):
            value = np.asarray(getattr(self, f.name), dtype=float)
            if value.ndim != 0:
                raise ValueError(f"{f.name} holds {value.size} draws, not one value")
            number = float(value)
            out[f.name] = None if math.isnan(number) else number
        return out


RESULT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ModelResult))


def compute(inputs: Mapping[str, Any]) -> ModelResult:
    """Chain the base equations for one phase.

    Parameters
    ----------
    inputs
        ``name -> value`` for every MODEL.md input; values may be scalars or arrays
        that broadcast together (``horizon_years`` must be a scalar integer).

    Returns
    -------
    ModelResult
    """
    p = inputs
    T = int(p["horizon_years"])
    m = margin_per_customer(p["margin"], p["revenue_per_customer"])
    clv = customer_lifetime_value(m, p["retention_rate"], p["discount_rate"])
    cac = acquisition_cost(p["acquisition_multiplier"], p["retention_spend_per_customer"])
    v = value_per_lost_customer(clv, cac, p["replace_lost_customers"])
    x = exposure(p["contact_reach"], p["ai_resolution_share"], p["ai_escalation_share"])
    delta = extra_churn(
        x, p["consider_switch_share"], p["switch_conversion"], p["escalation_mitigation"]
    )
    lost = customers_lost_per_year(p["customers"], delta)
    s = annual_savings(
        p["customers"],
        p["contacts_per_customer"],
        p["ai_resolution_share"],
        p["ai_escalation_share"],
        p["cost_human_contact"],
        p["cost_ai_contact"],
        p["assist_productivity"],
        p["ai_fixed_cost_per_year"],
    )
    loss = annual_loyalty_cost(p["customers"], delta, v)
    npv = net_present_value(s, loss, p["implementation_cost"], p["discount_rate"], T)
    d_star = break_even_churn(s, p["customers"], v)
    k_star = break_even_conversion(
        d_star, x, p["consider_switch_share"], p["escalation_mitigation"]
    )
    d_star_npv = break_even_churn_npv(
        s, p["customers"], v, p["implementation_cost"], p["discount_rate"], T
    )
    k_star_npv = break_even_conversion(
        d_star_npv, x, p["consider_switch_share"], p["escalation_mitigation"]
    )
    return ModelResult(
        margin_per_customer=m,
        clv=clv,
        value_per_lost_customer=v,
        exposure=x,
        extra_churn=delta,
        customers_lost_per_year=lost,
        annual_savings=s,
        annual_loyalty_cost=loss,
        npv=npv,
        break_even_churn=d_star,
        break_even_conversion=k_star,
        break_even_churn_npv=d_star_npv,
        break_even_conversion_npv=k_star_npv,
    )


def compute_reversal(first: Mapping[str, Any], later: Mapping[str, Any]) -> ModelResult:
    """The reversal extension: ``first`` in year 1, ``later`` in years 2..T.

    Cash flows: -F at year 0; (S1 - L1) at the end of year 1; the rehiring cost
    R = agents_to_rehire * cost per agent at the start of year 2 (discounted one
    year); (S2 - L2) at the end of years 2..T. With T = 1 there is no year 2 and no
    rehiring. NPV is linear in k, so ``break_even_conversion_npv`` = NPV(k = 0) / (PV
    of loss per unit of k), and ``break_even_churn_npv`` is the horizon-average extra
    churn at it. The contract's pair is its equations on the horizon averages:
    ``break_even_churn`` = S / (N * V) and ``break_even_conversion`` = that divided
    by the average extra churn per unit of k, x * w * (1 - h).
    """
    T = int(first["horizon_years"])
    d = first["discount_rate"]
    one = compute(first)
    two = compute(later)
    factors = discount_factors(d, T)
    later_factor: Value = sum(factors[1:], start=0.0)
    workload_1 = human_workload(first["ai_resolution_share"], first["assist_productivity"])
    workload_2 = human_workload(later["ai_resolution_share"], later["assist_productivity"])
    agents = agents_to_rehire(
        later["customers"],
        later["contacts_per_customer"],
        workload_1,
        workload_2,
        later["contacts_per_agent_per_year"],
    )
    cost_per_agent = rehiring_cost_per_agent(
        later.get("rehiring_cost_per_agent"),
        later["contacts_per_agent_per_year"],
        later["cost_human_contact"],
    )
    rehire = np.multiply(agents, cost_per_agent) if T > 1 else np.zeros_like(agents)
    npv_without_loss = (
        -np.asarray(first["implementation_cost"], dtype=float)
        + np.multiply(one.annual_savings, factors[0])
        - np.multiply(rehire, factors[0])
        + np.multiply(two.annual_savings, later_factor)
    )
    loss_pv = np.multiply(one.annual_loyalty_cost, factors[0]) + np.multiply(
        two.annual_loyalty_cost, later_factor
    )
    npv = npv_without_loss - loss_pv

    def horizon_mean(a: Value, b: Value) -> Any:
        mean = (np.asarray(a, dtype=float) + (T - 1) * np.asarray(b, dtype=float)) / T
        return mean[()]

    # loss in PV per unit of conversion k (k > 0 in the scenario), or via unit churn
    unit_churn_1 = np.multiply(one.exposure, first["consider_switch_share"]) * np.subtract(
        1.0, first["escalation_mitigation"]
    )
    unit_churn_2 = np.multiply(two.exposure, later["consider_switch_share"]) * np.subtract(
        1.0, later["escalation_mitigation"]
    )
    unit_loss_pv = np.multiply(later["customers"], one.value_per_lost_customer) * (
        unit_churn_1 * factors[0] + unit_churn_2 * later_factor
    )
    unit_churn = horizon_mean(unit_churn_1, unit_churn_2)
    k_star_npv = _safe_divide(npv_without_loss, unit_loss_pv)
    # δ* = k* × mean unit churn, formed without k* so that a vanishing churn (an
    # underflow to 0 beside an overflowing k*) gives 0 or NaN, never inf × 0.
    d_star_npv = _safe_divide(np.multiply(npv_without_loss, unit_churn), unit_loss_pv)
    # the contract's equations on the horizon-average figures the result reports:
    # delta* = S / (N * V), k* = delta* / (average churn per unit of conversion)
    savings = horizon_mean(one.annual_savings, two.annual_savings)
    d_star = break_even_churn(savings, later["customers"], one.value_per_lost_customer)
    k_star = _safe_divide(d_star, unit_churn)
    return ModelResult(
        margin_per_customer=one.margin_per_customer,
        clv=one.clv,
        value_per_lost_customer=one.value_per_lost_customer,
        exposure=horizon_mean(one.exposure, two.exposure),
        extra_churn=horizon_mean(one.extra_churn, two.extra_churn),
        customers_lost_per_year=horizon_mean(
            one.customers_lost_per_year, two.customers_lost_per_year
        ),
        annual_savings=savings,
        annual_loyalty_cost=horizon_mean(one.annual_loyalty_cost, two.annual_loyalty_cost),
        npv=np.asarray(npv)[()],
        break_even_churn=np.asarray(d_star)[()],
        break_even_conversion=np.asarray(k_star)[()],
        break_even_churn_npv=np.asarray(d_star_npv)[()],
        break_even_conversion_npv=np.asarray(k_star_npv)[()],
        rehiring_cost=np.asarray(rehire, dtype=float)[()],
    )


def compute_phases(phases: Sequence[Mapping[str, Any]]) -> ModelResult:
    """One phase: :func:`compute`; two phases (year 1, then the rest): :func:`compute_reversal`."""
    if len(phases) == 1:
        return compute(phases[0])
    if len(phases) == 2:
        return compute_reversal(phases[0], phases[1])
    raise ValueError(f"a scenario has one or two phases, not {len(phases)}")


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """Overrides that hold from year ``start`` on; ``kind`` names the base scenario."""

    kind: str
    start: int
    overrides: Mapping[str, float]


@dataclass(frozen=True)
class Scenario:
    """A named set of overrides on a company profile, in one or two phases."""

    name: str
    description: str
    phases: tuple[Phase, ...]


_STATUS_QUO = MappingProxyType(
    {
        "ai_resolution_share": 0.0,
        "ai_escalation_share": 0.0,
        "assist_productivity": 0.0,
        "escalation_mitigation": 0.0,
        # no AI means no AI platform to run or build (the contract's table omits these,
        # which would leave S = -O instead of the 0 it promises)
        "ai_fixed_cost_per_year": 0.0,
        "implementation_cost": 0.0,
    }
)
_HYBRID = MappingProxyType(
    {
        "ai_resolution_share": 0.40,
        "ai_escalation_share": 0.10,
        "assist_productivity": 0.14,
        "escalation_mitigation": 0.70,
    }
)
_FULL = MappingProxyType(
    {
        "ai_resolution_share": 0.60,
        "ai_escalation_share": 0.10,
        "assist_productivity": 0.0,
        "escalation_mitigation": 0.15,
    }
)

SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        "status_quo": Scenario(
            "status_quo",
            "no AI; savings and loyalty cost are 0",
            (Phase("status_quo", 1, _STATUS_QUO),),
        ),
        "hybrid": Scenario(
            "hybrid",
            "AI assists agents, a human is always one step away",
            (Phase("hybrid", 1, _HYBRID),),
        ),
        "full_automation": Scenario(
            "full_automation",
            "Klarna-style: AI first, humans hard to reach",
            (Phase("full_automation", 1, _FULL),),
        ),
        "reversal": Scenario(
            "reversal",
            "full automation in year 1, then hybrid, paying to rehire agents",
            (Phase("full_automation", 1, _FULL), Phase("hybrid", 2, _HYBRID)),
        ),
    }
)
SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIOS)


def get_scenario(name: str) -> Scenario:
    """Return the scenario called ``name`` or raise ParameterError listing the valid ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        close = difflib.get_close_matches(name, SCENARIO_NAMES, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ParameterError(
            f"unknown scenario {name!r}{hint} (valid: {', '.join(SCENARIO_NAMES)})"
        ) from None


def scenario_phases(
    params: Parameters, scenario: str, *, overrides: Mapping[str, Any] | None = None
) -> list[tuple[str, Parameters]]:
    """Apply a scenario, then the user's overrides, to a profile's parameters.

    Parameters
    ----------
    params
        The company profile.
    scenario
        One of :data:`SCENARIO_NAMES`.
    overrides
        ``name -> value`` applied last (they win over the scenario), to every phase.

    Returns
    -------
    list of (kind, Parameters)
        One entry per phase, in time order; ``kind`` is the base scenario of the phase.
    """
    spec = get_scenario(scenario)
    extra = dict(overrides or {})
    _check_known(list(extra))
    return [(ph.kind, params.updated({**ph.overrides, **extra})) for ph in spec.phases]


def evaluate(
    params: Parameters, scenario: str, *, overrides: Mapping[str, Any] | None = None
) -> ModelResult:
    """The base case of one scenario for one profile (scalars).

    Examples
    --------
    >>> p = parameters_from_mapping(WORKED_CHECK)
    >>> float(evaluate(p, "status_quo").npv)
    0.0
    """
    phases = scenario_phases(params, scenario, overrides=overrides)
    return compute_phases([p.as_inputs() for _, p in phases])
