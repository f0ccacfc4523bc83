"""The savings-versus-loyalty model (contract version 2): parameters, equations, scenarios.

The parameter names are those of the model contract (``docs/model.md``): profiles,
notebooks, the command line (``--set name=value``) and the JSON output all use them.

Every equation is a pure function that takes scalars (the base case) or numpy arrays
of Monte Carlo draws (broadcast together) and returns the same shape. :func:`compute`
chains them for one scenario phase; :func:`compute_phases` adds the reversal scenario
(full automation in year 1, hybrid afterwards, with a one-off rehiring cost).

Example
-------
>>> params = parameters_from_mapping(WORKED_CHECK)
>>> round(float(evaluate(params, "full_automation", overrides=WORKED_CHECK_OVERRIDES).npv), 2)
-8785643.84
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

# Upper bounds on counts and amounts sit far above any real company (ten billion customers,
# a billion a year per customer, ten trillion of running cost) and far below where a
# product of them overflows a float: an absurd value is refused by name, never turned
# into an infinite or undefined result.


class Parameters(BaseModel):
    """Every model input for one company in one scenario, validated.

    Build it with :func:`parameters_from_mapping` (or :meth:`updated`), which turn
    pydantic's errors into a :class:`~cxtradeoff.errors.ParameterError` naming the
    parameter, the value and the allowed range.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, validate_default=True
    )

    customers: int = Field(gt=0, le=10_000_000_000, description="N: active customers")
    revenue_per_customer: float = Field(gt=0, le=1e9, description="R: annual revenue per customer")
    margin: float = Field(ge=0, le=1, description="g: contribution margin on revenue")
    retention_rate: float = Field(ge=0, lt=1, description="r: baseline annual retention")
    discount_rate: float = Field(ge=0, le=1, description="d: annual discount rate")
    horizon_years: int = Field(ge=1, le=30, description="T: years in the net present value")
    contacts_per_customer: float = Field(
        ge=0, le=10_000, description="c: service contacts per customer per year (at least p)"
    )
    contact_reach: float = Field(
        ge=0, le=1, description="p: share of customers who contact service in a year"
    )
    cost_human_contact: float = Field(
        ge=0, le=1e6, description="C_h: fully loaded cost of a human-handled contact"
    )
    cost_ai_contact: float = Field(ge=0, le=1e6, description="C_ai: cost of an AI-handled contact")
    ai_resolution_share: float = Field(
        ge=0, le=1, description="a: share of contacts fully resolved by AI"
    )
    ai_escalation_share: float = Field(
        ge=0, le=1, description="q: share of contacts that try AI, then go to a human"
    )
    assist_productivity: float = Field(
        ge=0, le=1, description="pi: cost saved on human contacts by AI assistance"
    )
    ai_fixed_cost_per_year: float = Field(ge=0, le=1e13, description="O: AI platform running cost")
    implementation_cost: float = Field(
        ge=0, le=1e13, description="F: one-off build and integration cost at year 0 (no severance)"
    )
    severance_months: float = Field(
        default=0.0,
        ge=0,
        le=36,
        description="sigma: months of an agent's loaded cost paid per agent removed",
    )
    consider_switch_share: float = Field(
        ge=0, le=1, description="w: share of exposed customers who would consider switching"
    )
    switch_conversion: float = Field(
        ge=0, le=1, description="k: share of those who actually leave each year (a prior)"
    )
    escalation_mitigation: float = Field(
        ge=0, le=1, description="h: share of the risk removed by an easy path to a human"
    )
    escalation_penalty: float = Field(
        default=1.0,
        ge=1,
        le=5,
        description=(
            "e: risk of a customer whose AI contact failed, relative to one resolved by AI"
        ),
    )
    retention_spend_per_customer: float = Field(
        ge=0, le=1e9, description="s_r: annual spend to retain one customer (below g * R)"
    )
    acquisition_multiplier: float = Field(
        ge=1, le=1000, description="M: acquisition cost / retention cost"
    )
    replace_lost_customers: bool = Field(
        default=False, description="true: a lost customer is valued at min(CLV, CAC)"
    )
    # --- extension (reversal scenario only; off everywhere else) -------------------
    contacts_per_agent_per_year: float = Field(
        default=6000.0,
        gt=0,
        le=1e7,
        description="reversal: contacts one full-time human agent handles in a year",
    )
    rehiring_cost_per_agent: float | None = Field(
        default=None,
        ge=0,
        le=1e9,
        description=(
            "reversal: one-off cost to recruit and train one agent; empty = a quarter of "
            "an agent's annual loaded cost (contacts_per_agent_per_year * cost_human_contact / 4)"
        ),
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Parameters:
        problems = cross_check_problems(self.model_dump())
        if problems:
            raise ValueError("; ".join(problems))
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
#: MODEL.md inputs with a default that keeps a profile's meaning (a profile may omit them)
DEFAULTED_INPUTS: tuple[str, ...] = (
    "severance_months",
    "escalation_penalty",
    "replace_lost_customers",
)
#: MODEL.md inputs every profile must state
REQUIRED_INPUTS: tuple[str, ...] = tuple(n for n in MODEL_INPUTS if n not in DEFAULTED_INPUTS)
#: names of the parameters this project adds (each off unless its scenario uses it)
EXTENSION_INPUTS: tuple[str, ...] = ("contacts_per_agent_per_year", "rehiring_cost_per_agent")
PARAMETER_NAMES: tuple[str, ...] = tuple(Parameters.model_fields)

#: the company of the contract's worked check (version 2)
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
        "ai_escalation_share": 0.1,
        "assist_productivity": 0.0,
        "ai_fixed_cost_per_year": 500_000.0,
        "implementation_cost": 0.0,
        "severance_months": 3.0,
        "consider_switch_share": 0.53,
        "switch_conversion": 0.05,
        "escalation_mitigation": 0.0,
        "escalation_penalty": 1.5,
        "retention_spend_per_customer": 20.0,
        "acquisition_multiplier": 5.0,
        "replace_lost_customers": False,
    }
)
#: the worked check is the ``full_automation`` scenario with h = 0 (the scenario has 0.15)
WORKED_CHECK_OVERRIDES: Mapping[str, Any] = MappingProxyType({"escalation_mitigation": 0.0})


def _finite_number(value: Any) -> float | None:
    """A finite int or float as float; anything else (bool, text, None, NaN) as None."""
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def cross_check_problems(values: Mapping[str, Any]) -> list[str]:
    """The checks that tie parameters together, each problem in words.

    A check is skipped when one of its parameters is missing or not a finite number
    (that parameter's own problem is reported instead), so every problem can be
    named at once.

    Checks: ``ai_resolution_share + ai_escalation_share <= 1``,
    ``contacts_per_customer >= contact_reach``,
    ``retention_spend_per_customer < margin * revenue_per_customer`` and
    ``escalation_penalty * switch_conversion <= 1``.

    Examples
    --------
    >>> cross_check_problems({"contacts_per_customer": 0.2, "contact_reach": 0.5})
    ['contacts_per_customer = 0.2 is below contact_reach = 0.5; allowed: contacts_per_customer >= contact_reach (a customer who contacts service makes at least one contact)']
    """
    v = {name: _finite_number(values.get(name)) for name in PARAMETER_NAMES}
    problems: list[str] = []
    a, q = v["ai_resolution_share"], v["ai_escalation_share"]
    if a is not None and q is not None and a + q > 1 + SHARE_SUM_TOLERANCE:
        problems.append(
            f"ai_resolution_share + ai_escalation_share = {a!r} + {q!r} = {a + q!r}; "
            "allowed: at most 1 (a contact is resolved by AI, escalated, or handled by a "
            "human from the start)"
        )
    c, p = v["contacts_per_customer"], v["contact_reach"]
    if c is not None and p is not None and c < p * (1 - SHARE_SUM_TOLERANCE):
        problems.append(
            f"contacts_per_customer = {c!r} is below contact_reach = {p!r}; allowed: "
            "contacts_per_customer >= contact_reach (a customer who contacts service makes "
            "at least one contact)"
        )
    s_r, g, revenue = (
        v["retention_spend_per_customer"],
        v["margin"],
        v["revenue_per_customer"],
    )
    if s_r is not None and g is not None and revenue is not None and s_r >= g * revenue:
        problems.append(
            f"retention_spend_per_customer = {s_r!r} is not below margin * "
            f"revenue_per_customer = {g!r} * {revenue!r} = {g * revenue!r}; allowed: below "
            "the margin per customer (else a customer is worth nothing or less)"
        )
    e, k = v["escalation_penalty"], v["switch_conversion"]
    if e is not None and k is not None and e * k > 1 + SHARE_SUM_TOLERANCE:
        problems.append(
            f"escalation_penalty * switch_conversion = {e!r} * {k!r} = {e * k!r}; allowed: "
            "at most 1 (the share of customers whose AI contact failed who leave cannot "
            "exceed 1)"
        )
    return problems


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
    if not loc:  # the model validator (the cross-checks)
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
        Every MODEL.md input (those of :data:`DEFAULTED_INPUTS` and the extensions
        optional). Values must already have the parameter's type: ``int`` for counts,
        ``int`` or ``float`` for numbers, ``bool`` for flags (use :func:`parse_value`
        for text).

    Returns
    -------
    Parameters

    Raises
    ------
    ParameterError
        Naming every unknown parameter (with the closest valid names), every value of
        the wrong type or out of range (with the allowed range), and every failed
        cross-check (:func:`cross_check_problems`), all at once.
    """
    plain = {k: _plain(v) for k, v in values.items()}
    try:
        return Parameters.model_validate(plain)
    except ValidationError as exc:
        errors = exc.errors()
        problems = [_describe_error(e) for e in errors]
        if all(e.get("loc") for e in errors):  # field errors stopped the cross-checks
            bad = {str(e["loc"][0]) for e in errors}
            defaults = {
                name: info.default
                for name, info in Parameters.model_fields.items()
                if not info.is_required()
            }
            good = {k: v for k, v in {**defaults, **plain}.items() if k not in bad}
            problems += cross_check_problems(good)
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


def parse_assignments(items: Sequence[str], *, base: Parameters | None = None) -> dict[str, Any]:
    """Parse ``["name=value", ...]`` (the command line's ``--set``) into typed values.

    Parameters
    ----------
    items
        ``name=value`` texts.
    base
        The parameters the values will override; when given, the cross-checks
        (:func:`cross_check_problems`) run on the result too, so that a value out of
        range and, say, e * k > 1 are named in the same message.

    Raises
    ------
    ParameterError
        If an item has no ``=``, names an unknown parameter or has a value of the
        wrong type or out of range, or (with ``base``) a cross-check fails; every
        problem is reported at once.
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
    if base is not None:
        bad = {item.partition("=")[0].strip() for item in items} - set(out)
        merged = {k: v for k, v in {**base.model_dump(), **out}.items() if k not in bad}
        problems += cross_check_problems(merged)
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
    margin_per_customer: Value,
    retention_rate: Value,
    discount_rate: Value,
    retention_spend_per_customer: Value = 0.0,
) -> Value:
    """CLV = (m - s_r) * r / (1 + d - r): lifetime margin net of retention spend.

    The divisor is > 0 because r < 1 and d >= 0.
    """
    net = np.subtract(margin_per_customer, retention_spend_per_customer)
    return np.multiply(net, retention_rate) / (np.add(1.0, discount_rate) - retention_rate)


def acquisition_cost(acquisition_multiplier: Value, retention_spend_per_customer: Value) -> Value:
    """CAC = M * s_r."""
    return np.multiply(acquisition_multiplier, retention_spend_per_customer)


def value_per_lost_customer(clv: Value, cac: Value, replace_lost_customers: Value) -> Value:
    """V = min(CLV, CAC) if lost customers are replaced, else CLV."""
    if isinstance(replace_lost_customers, bool | np.bool_):  # the usual case: no array work
        return np.minimum(clv, cac) if replace_lost_customers else clv
    return np.where(replace_lost_customers, np.minimum(clv, cac), clv)[()]


def _reach_power(contact_reach: Value, contacts_per_customer: Value, share: Value) -> Value:
    """p * (1 - (1 - share)^n) with n = c / p; 0 where p = 0.

    A tiny p makes n overflow to infinity; (1 - share)^inf is then 0 (or 1 where the
    share is 0), the right limit, so the overflow is not an error.
    """
    p = np.asarray(contact_reach, dtype=float)
    stay = np.maximum(np.subtract(1.0, share), 0.0)  # 1 - a - q may round to -1e-17
    with np.errstate(over="ignore"):
        if p.ndim == 0:  # the usual case: one reach for every draw
            if float(p) <= 0.0:
                return np.zeros_like(np.multiply(stay, contacts_per_customer), dtype=float)[()]
            n = np.divide(contacts_per_customer, float(p))
            return float(p) * (1.0 - np.power(stay, n))
        positive = p > 0
        n = np.divide(contacts_per_customer, np.where(positive, p, 1.0))
        return np.where(positive, p * (1.0 - np.power(stay, n)), 0.0)[()]


def exposure(
    contact_reach: Value,
    contacts_per_customer: Value,
    ai_resolution_share: Value,
    ai_escalation_share: Value,
) -> Value:
    """x = p * (1 - (1 - a - q)^n), n = c / p: share of all customers who meet the AI.

    A contacting customer makes n contacts a year; each reaches the AI (resolved or
    escalated) with probability a + q, so the customer meets it at least once with
    probability 1 - (1 - a - q)^n. 0 where p = 0.
    """
    return _reach_power(
        contact_reach,
        contacts_per_customer,
        np.add(ai_resolution_share, ai_escalation_share),
    )


def failed_ai_exposure(
    contact_reach: Value, contacts_per_customer: Value, ai_escalation_share: Value
) -> Value:
    """x_f = p * (1 - (1 - q)^n): share of all customers who meet an AI that hands them on."""
    return _reach_power(contact_reach, contacts_per_customer, ai_escalation_share)


def risk_factor(
    exposure: Value,
    failed_ai_exposure: Value,
    consider_switch_share: Value,
    escalation_mitigation: Value,
    escalation_penalty: Value,
) -> Value:
    """z = w * (1 - h) * (x + (e - 1) * x_f): extra churn per unit of conversion k."""
    weighted = np.add(exposure, np.subtract(escalation_penalty, 1.0) * failed_ai_exposure)
    return np.multiply(consider_switch_share, np.subtract(1.0, escalation_mitigation)) * weighted


def extra_churn(
    exposure: Value,
    failed_ai_exposure: Value,
    consider_switch_share: Value,
    switch_conversion: Value,
    escalation_mitigation: Value,
    escalation_penalty: Value,
) -> Value:
    """delta = z * k: extra annual churn as a share of all customers.

    Written as w (1 - h) (k x + (min(e k, 1) - k) x_f): customers whose AI contact
    failed leave at e * k, capped at 1 for a draw where e * k > 1 (validated
    parameters have e * k <= 1, where this is exactly z * k).
    """
    k = switch_conversion
    failed = np.minimum(np.multiply(escalation_penalty, k), 1.0)
    weighted = np.multiply(k, exposure) + np.subtract(failed, k) * failed_ai_exposure
    return np.multiply(consider_switch_share, np.subtract(1.0, escalation_mitigation)) * weighted


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


def human_cost_removed(
    customers: Value,
    contacts_per_customer: Value,
    cost_human_contact: Value,
    ai_resolution_share: Value,
    assist_productivity: Value,
) -> Value:
    """H = N * c * C_h * (a + (1 - a) * pi): annual cost of the human work AI removes."""
    share = np.add(
        ai_resolution_share,
        np.subtract(1.0, ai_resolution_share) * np.asarray(assist_productivity),
    )
    return np.multiply(customers, contacts_per_customer) * np.multiply(cost_human_contact, share)


def severance_cost(human_cost_removed: Value, severance_months: Value) -> Value:
    """severance_cost = H * sigma / 12: paid once, at year 0, for the agents removed."""
    return np.multiply(human_cost_removed, severance_months) / 12.0


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
    one_off_cost: Value,
    discount_rate: Value,
    horizon_years: int,
) -> Value:
    """NPV = -(F + severance_cost) + (S - L) * A; ``one_off_cost`` is F + severance_cost."""
    net = np.subtract(annual_savings, annual_loyalty_cost)
    return net * annuity_factor(discount_rate, horizon_years) - one_off_cost


def break_even_churn(
    annual_savings: Value,
    customers: Value,
    value_per_lost_customer: Value,
) -> Value:
    """delta* = S / (N * V): the contract's (annual) break-even extra churn.

    The extra churn at which a year's loyalty cost equals a year's savings. It leaves
    out the one-off costs (see :func:`break_even_churn_npv`). NaN where N * V = 0.
    Negative: automation never pays, even with no lost customers.
    """
    return _safe_divide(annual_savings, np.multiply(customers, value_per_lost_customer))


def break_even_churn_npv(
    annual_savings: Value,
    customers: Value,
    value_per_lost_customer: Value,
    one_off_cost: Value,
    discount_rate: Value,
    horizon_years: int,
) -> Value:
    """delta*_npv = (S - (F + severance_cost) / A) / (N * V): extra churn where NPV = 0.

    The one-off costs are spread over the horizon by the annuity factor A. With no
    one-off cost it equals :func:`break_even_churn`. NaN where N * V = 0.
    """
    recurring = np.subtract(
        annual_savings,
        np.divide(one_off_cost, annuity_factor(discount_rate, horizon_years)),
    )
    return _safe_divide(recurring, np.multiply(customers, value_per_lost_customer))


def break_even_conversion(break_even_churn: Value, risk_factor: Value) -> Value:
    """k* = delta* / z; NaN where z = 0.

    Given the contract's delta* it is the contract's k*; given delta*_npv it is
    k*_npv = (S - (F + severance_cost) / A) / (N * V * z), the conversion where NPV = 0
    (exact while e * k*_npv <= 1; beyond, the cap of e * k at 1 bends the line).
    """
    return _safe_divide(break_even_churn, risk_factor)


def human_workload(ai_resolution_share: Value, assist_productivity: Value) -> Value:
    """u = (1 - a) * (1 - pi): agent effort per contact, as a share of a human-only contact.

    The human cost removed is H = N * c * C_h * (1 - u).
    """
    return np.subtract(1.0, ai_resolution_share) * np.subtract(1.0, assist_productivity)


def agents_to_rehire(
    customers: Value,
    contacts_per_customer: Value,
    human_workload_before: Value,
    human_workload_after: Value,
    contacts_per_agent_per_year: Value,
) -> Value:
    """Agents to hire back: N * c * max(0, u_after - u_before) / contacts per agent."""
    extra = np.maximum(np.subtract(human_workload_after, human_workload_before), 0.0)
    return np.multiply(customers, contacts_per_customer) * extra / contacts_per_agent_per_year


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
    are averages over the horizon, ``severance_cost`` is what is paid for cutting
    agents (at year 0, and at the start of year 2 if the second phase cuts more)
    and ``rehiring_cost`` the one-off cost paid at the start of year 2 (0 in every
    other scenario). Break-even values are NaN where undefined (divisor 0).

    ``break_even_churn`` and ``break_even_conversion`` are the contract's (annual)
    break-even: a year's savings equal a year's loyalty cost. The ``_npv`` pair is
    where NPV over the horizon is exactly 0, the one-off costs counted; the contract
    defines k*_npv, and ``break_even_churn_npv`` is the extra churn there. With no
    one-off cost the pairs are equal.
    """

    margin_per_customer: Value
    clv: Value
    value_per_lost_customer: Value
    exposure: Value
    failed_ai_exposure: Value
    extra_churn: Value
    customers_lost_per_year: Value
    annual_savings: Value
    annual_loyalty_cost: Value
    severance_cost: Value
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
#: the JSON output names the contract lists (the other result fields are this project's)
CONTRACT_OUTPUTS: tuple[str, ...] = (
    "margin_per_customer",
    "clv",
    "value_per_lost_customer",
    "exposure",
    "failed_ai_exposure",
    "extra_churn",
    "customers_lost_per_year",
    "annual_savings",
    "annual_loyalty_cost",
    "severance_cost",
    "npv",
    "break_even_churn",
    "break_even_conversion",
    "break_even_conversion_npv",
)


@dataclass(frozen=True)
class LoyaltyFigures:
    """The loyalty side of one phase, from its inputs: who meets the AI, who leaves, at
    what value. Scalars or arrays of draws, like every equation here."""

    margin: Value
    clv: Value
    value: Value
    exposure: Value
    failed_ai_exposure: Value
    risk_factor: Value
    extra_churn: Value


def loyalty_figures(p: Mapping[str, Any]) -> LoyaltyFigures:
    """Margin, CLV, value per lost customer, exposures, risk factor z and extra churn delta
    (e * k capped at 1) of one phase's inputs: the chain of MODEL.md's loyalty equations,
    written once for the model and for the pilot."""
    m = margin_per_customer(p["margin"], p["revenue_per_customer"])
    clv = customer_lifetime_value(
        m, p["retention_rate"], p["discount_rate"], p["retention_spend_per_customer"]
    )
    cac = acquisition_cost(p["acquisition_multiplier"], p["retention_spend_per_customer"])
    x = exposure(
        p["contact_reach"],
        p["contacts_per_customer"],
        p["ai_resolution_share"],
        p["ai_escalation_share"],
    )
    x_f = failed_ai_exposure(
        p["contact_reach"], p["contacts_per_customer"], p["ai_escalation_share"]
    )
    shared = (p["consider_switch_share"], p["escalation_mitigation"], p["escalation_penalty"])
    return LoyaltyFigures(
        margin=m,
        clv=clv,
        value=value_per_lost_customer(clv, cac, p["replace_lost_customers"]),
        exposure=x,
        failed_ai_exposure=x_f,
        risk_factor=risk_factor(x, x_f, *shared),
        extra_churn=extra_churn(
            x,
            x_f,
            p["consider_switch_share"],
            p["switch_conversion"],
            p["escalation_mitigation"],
            p["escalation_penalty"],
        ),
    )


@dataclass(frozen=True)
class _Phase:
    """Intermediate figures of one phase that the reversal also needs."""

    result: ModelResult
    risk_factor: Value
    human_workload: Value


def _compute_phase(inputs: Mapping[str, Any], *, break_evens: bool = True) -> _Phase:
    """One phase's figures; ``break_evens=False`` (the Monte Carlo's NPV-only path)
    leaves the break-even fields NaN instead of computing them for every draw."""
    p = inputs
    T = int(p["horizon_years"])
    loyalty = loyalty_figures(p)
    m, v, z, delta = loyalty.margin, loyalty.value, loyalty.risk_factor, loyalty.extra_churn
    clv = loyalty.clv
    x, x_f = loyalty.exposure, loyalty.failed_ai_exposure
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
    removed = human_cost_removed(
        p["customers"],
        p["contacts_per_customer"],
        p["cost_human_contact"],
        p["ai_resolution_share"],
        p["assist_productivity"],
    )
    severance = severance_cost(removed, p["severance_months"])
    one_off = np.add(p["implementation_cost"], severance)
    loss = annual_loyalty_cost(p["customers"], delta, v)
    npv = net_present_value(s, loss, one_off, p["discount_rate"], T)
    if break_evens:
        d_star = break_even_churn(s, p["customers"], v)
        d_star_npv = break_even_churn_npv(s, p["customers"], v, one_off, p["discount_rate"], T)
        k_star = break_even_conversion(d_star, z)
        k_star_npv = break_even_conversion(d_star_npv, z)
    else:
        d_star = d_star_npv = k_star = k_star_npv = math.nan
    result = ModelResult(
        margin_per_customer=m,
        clv=clv,
        value_per_lost_customer=v,
        exposure=x,
        failed_ai_exposure=x_f,
        extra_churn=delta,
        customers_lost_per_year=lost,
        annual_savings=s,
        annual_loyalty_cost=loss,
        severance_cost=severance,
        npv=npv,
        break_even_churn=d_star,
        break_even_conversion=k_star,
        break_even_churn_npv=d_star_npv,
        break_even_conversion_npv=k_star_npv,
    )
    workload = human_workload(p["ai_resolution_share"], p["assist_productivity"])
    return _Phase(result=result, risk_factor=z, human_workload=workload)


def compute(inputs: Mapping[str, Any]) -> ModelResult:
    """Chain the contract's equations for one phase.

    Parameters
    ----------
    inputs
        ``name -> value`` for every MODEL.md input; values may be scalars or arrays
        that broadcast together (``horizon_years`` must be a scalar integer).

    Returns
    -------
    ModelResult
    """
    return _compute_phase(inputs).result


def compute_reversal(first: Mapping[str, Any], later: Mapping[str, Any]) -> ModelResult:
    """The reversal scenario: ``first`` in year 1, ``later`` in years 2..T.

    Cash flows: -(F + severance for the year-1 cut) at year 0; (S1 - L1) at the end
    of year 1; at the start of year 2 (discounted one year) the rehiring cost,
    agents_to_rehire * cost per agent, and severance on any further cut,
    max(0, H2 - H1) * sigma / 12; (S2 - L2) at the end of years 2..T. With T = 1
    there is no year 2. NPV is linear in k (while e * k <= 1), so
    ``break_even_conversion_npv`` = NPV(k = 0) / (PV of the loss per unit of k), and
    ``break_even_churn_npv`` is the horizon-average extra churn there. The contract's
    pair is its equations on the horizon averages: ``break_even_churn`` = S / (N * V),
    ``break_even_conversion`` = that divided by the horizon-average z.
    """
    return _combine_reversal(first, later, _compute_phase(first), _compute_phase(later))


@dataclass(frozen=True)
class _ReversalCash:
    """The reversal's NPV and the one-off costs of year 2."""

    npv: Value
    npv_without_loss: Value
    rehire: Value
    severance_2: Value
    factors: list[Value]
    later_factor: Value


def _reversal_cash(
    first: Mapping[str, Any], later: Mapping[str, Any], one_phase: _Phase, two_phase: _Phase
) -> _ReversalCash:
    T = int(first["horizon_years"])
    one, two = one_phase.result, two_phase.result
    factors = discount_factors(first["discount_rate"], T)
    later_factor: Value = sum(factors[1:], start=0.0)
    agents = agents_to_rehire(
        later["customers"],
        later["contacts_per_customer"],
        one_phase.human_workload,
        two_phase.human_workload,
        later["contacts_per_agent_per_year"],
    )
    cost_per_agent = rehiring_cost_per_agent(
        later.get("rehiring_cost_per_agent"),
        later["contacts_per_agent_per_year"],
        later["cost_human_contact"],
    )
    # H = N c C_h (1 - u): a second cut removes N c C_h (u1 - u2) more
    further_cut = np.maximum(
        np.subtract(one_phase.human_workload, two_phase.human_workload), 0.0
    ) * np.multiply(
        np.multiply(later["customers"], later["contacts_per_customer"]),
        later["cost_human_contact"],
    )
    if T > 1:
        rehire = np.multiply(agents, cost_per_agent)
        severance_2 = severance_cost(further_cut, later["severance_months"])
    else:
        rehire = np.zeros_like(np.asarray(agents, dtype=float))
        severance_2 = np.zeros_like(np.asarray(further_cut, dtype=float))
    npv_without_loss = (
        -np.add(first["implementation_cost"], one.severance_cost)
        + np.multiply(one.annual_savings, factors[0])
        - np.multiply(np.add(rehire, severance_2), factors[0])
        + np.multiply(two.annual_savings, later_factor)
    )
    loss_pv = np.multiply(one.annual_loyalty_cost, factors[0]) + np.multiply(
        two.annual_loyalty_cost, later_factor
    )
    return _ReversalCash(
        npv=npv_without_loss - loss_pv,
        npv_without_loss=npv_without_loss,
        rehire=rehire,
        severance_2=severance_2,
        factors=factors,
        later_factor=later_factor,
    )


def _combine_reversal(
    first: Mapping[str, Any], later: Mapping[str, Any], one_phase: _Phase, two_phase: _Phase
) -> ModelResult:
    T = int(first["horizon_years"])
    one, two = one_phase.result, two_phase.result
    cash = _reversal_cash(first, later, one_phase, two_phase)
    factors, later_factor = cash.factors, cash.later_factor
    npv_without_loss, rehire, severance_2 = cash.npv_without_loss, cash.rehire, cash.severance_2
    npv = cash.npv

    def horizon_mean(a: Value, b: Value) -> Any:
        mean = (np.asarray(a, dtype=float) + (T - 1) * np.asarray(b, dtype=float)) / T
        return mean[()]

    z1, z2 = one_phase.risk_factor, two_phase.risk_factor
    unit_loss_pv = np.multiply(later["customers"], one.value_per_lost_customer) * (
        np.multiply(z1, factors[0]) + np.multiply(z2, later_factor)
    )
    unit_churn = horizon_mean(z1, z2)
    k_star_npv = _safe_divide(npv_without_loss, unit_loss_pv)
    # δ* = k* × mean z, formed without k* so that a vanishing z (an underflow to 0
    # beside an overflowing k*) gives 0 or NaN, never inf × 0.
    d_star_npv = _safe_divide(np.multiply(npv_without_loss, unit_churn), unit_loss_pv)
    savings = horizon_mean(one.annual_savings, two.annual_savings)
    d_star = break_even_churn(savings, later["customers"], one.value_per_lost_customer)
    k_star = _safe_divide(d_star, unit_churn)
    return ModelResult(
        margin_per_customer=one.margin_per_customer,
        clv=one.clv,
        value_per_lost_customer=one.value_per_lost_customer,
        exposure=horizon_mean(one.exposure, two.exposure),
        failed_ai_exposure=horizon_mean(one.failed_ai_exposure, two.failed_ai_exposure),
        extra_churn=horizon_mean(one.extra_churn, two.extra_churn),
        customers_lost_per_year=horizon_mean(
            one.customers_lost_per_year, two.customers_lost_per_year
        ),
        annual_savings=savings,
        annual_loyalty_cost=horizon_mean(one.annual_loyalty_cost, two.annual_loyalty_cost),
        severance_cost=np.asarray(np.add(one.severance_cost, severance_2), dtype=float)[()],
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


def npv_of_phases(
    phases: Sequence[Mapping[str, Any]], *, cache: dict[int, Any] | None = None
) -> Value:
    """NPV of a scenario's phases, reusing phases already computed in ``cache``.

    ``cache`` maps ``id(inputs)`` to the computed phase; the Monte Carlo passes the
    same inputs dict to every scenario that shares a phase (the reversal's phases are
    the full automation and hybrid scenarios), so each phase is computed once. The
    caller keeps the inputs dicts alive while the cache is used.
    """
    store: dict[int, Any] = {} if cache is None else cache
    computed = []
    for inputs in phases:
        key = id(inputs)
        if key not in store:
            store[key] = _compute_phase(inputs, break_evens=False)
        computed.append(store[key])
    if len(phases) == 1:
        return computed[0].result.npv
    if len(phases) == 2:
        return _reversal_cash(phases[0], phases[1], computed[0], computed[1]).npv
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
        # no AI means no AI platform to run or build and no agent to lay off (the
        # contract says the status quo's savings and one-off costs are 0; setting only
        # a, q, pi, h would leave S = -O and a one-off cost F)
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
            "no AI; savings, loyalty cost and one-off costs are 0",
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


#: keys of :func:`break_even_both_valuations`
VALUATION_KEYS: tuple[str, ...] = (
    "npv_clv",
    "npv_replacement",
    "break_even_conversion_npv_clv",
    "break_even_conversion_npv_replacement",
)


def break_even_both_valuations(
    params: Parameters, scenario: str, *, overrides: Mapping[str, Any] | None = None
) -> dict[str, float | None]:
    """NPV and break-even conversion with lost customers valued both ways.

    The contract asks every report to show the break-even under both valuations of a
    lost customer, whatever the profile chose: at its lifetime value (``_clv``,
    ``replace_lost_customers = false``) and at min(CLV, CAC) (``_replacement``, true).

    Returns
    -------
    dict
        ``npv_clv``, ``npv_replacement``, ``break_even_conversion_npv_clv``,
        ``break_even_conversion_npv_replacement`` (``None`` where undefined).

    Examples
    --------
    >>> p = parameters_from_mapping(WORKED_CHECK)
    >>> both = break_even_both_valuations(p, "full_automation", overrides=WORKED_CHECK_OVERRIDES)
    >>> round(both["break_even_conversion_npv_clv"], 10)
    0.0289437092
    """
    out: dict[str, float | None] = {}
    for suffix, replace in (("clv", False), ("replacement", True)):
        chosen = {**dict(overrides or {}), "replace_lost_customers": replace}
        result = evaluate(params, scenario, overrides=chosen).to_dict()
        out[f"npv_{suffix}"] = result["npv"]
        out[f"break_even_conversion_npv_{suffix}"] = result["break_even_conversion_npv"]
    return {key: out[key] for key in VALUATION_KEYS}
