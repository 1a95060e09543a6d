"""The options of a schedule, declared once, and the request they resolve into.

:class:`ScheduleOptions` holds the options as people give them (``rate="10%"``,
``every="2w"``): the ``taper schedule`` command builds one from its parameters, a batch
scenario row converts into one, and :func:`taper.plan_taper` takes its fields as keyword
arguments. :func:`resolve_request` parses them, once, into a :class:`TaperRequest`: exact,
typed and normalised, which with the equivalence table reproduces a plan exactly and is
written into every output as its provenance.

Adding an option means: a field here, annotated with the kind of value it takes
(:class:`~taper.values.Value`: which Python values the library accepts for it), its parsing
in :func:`resolve_request`, the parameter of the ``schedule`` command (with a placeholder
and a help panel), and the README.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar, get_args, get_origin, get_type_hints

from taper.doses import parse_dose
from taper.errors import InvalidRequestError
from taper.formatting import format_dose, format_number
from taper.guardrails import PatientFactors, parse_duration_of_use
from taper.params import (
    TIMES,
    Hold,
    parse_date,
    parse_days,
    parse_dose_list,
    parse_hold,
    parse_percent,
    parse_positive_number,
)
from taper.values import Value, option_value


class Method(StrEnum):
    PERCENT = "percent"
    LINEAR = "linear"
    BANDS = "bands"
    STEPS = "steps"
    OCCUPANCY = "occupancy"


class Order(StrEnum):
    #: By the drug: daytime-first for long-acting drugs, even for short-acting ones.
    AUTO = "auto"
    DAYTIME_FIRST = "daytime-first"
    EVEN = "even"
    NIGHT_FIRST = "night-first"


class End(StrEnum):
    #: Stop from about 1 mg diazepam equivalent, fixed steps below 10 mg (NICE CKS).
    CLINICAL = "clinical"
    #: Percent cuts down to the smallest dose the products make (hyperbolic school).
    MICRO = "micro"


class Crossover(StrEnum):
    SLOT = "slot"
    PARTIAL = "partial"
    DIRECT = "direct"


@dataclass(frozen=True, kw_only=True)
class ScheduleOptions:
    """Every option of a schedule besides the current drugs and doses, as people give them.

    The field names are the keyword arguments of :func:`taper.plan_taper`, the parameters
    of the ``taper schedule`` command and the columns of a batch scenario file. Each field's
    :class:`~taper.values.Value` says which Python values it also takes (``rate=10``,
    ``every=timedelta(weeks=2)``, ``start=date(2027, 1, 4)``, ``step=0.125``).
    """

    times: Annotated[int | None, Value.INT] = None
    method: Annotated[str, Value.TEXT] = "percent"
    rate: Annotated[str | None, Value.PERCENT] = None
    every: Annotated[str | None, Value.DAYS] = None
    step: Annotated[str | None, Value.DOSE] = None
    steps: Annotated[str | None, Value.DOSES] = None
    slow_below: Annotated[str | None, Value.DOSE] = None
    slow_rate: Annotated[str | None, Value.PERCENT] = None
    final: Annotated[str | None, Value.DOSE] = None
    end: Annotated[str, Value.TEXT] = "clinical"
    holds: Annotated[tuple[str, ...], Value.LIST] = ()
    order: Annotated[str, Value.TEXT] = "auto"
    start: Annotated[str | None, Value.DATE] = None
    until: Annotated[str | None, Value.DATE] = None
    duration: Annotated[str | None, Value.DAYS] = None
    region: Annotated[str, Value.TEXT] = "us"
    products: Annotated[tuple[str, ...], Value.LIST] = ()
    source: Annotated[str | None, Value.TEXT] = None
    ed50: Annotated[str | None, Value.DOSE] = None
    emax: Annotated[str, Value.NUMBER] = "100"
    occupancy_step: Annotated[str, Value.NUMBER] = "5"
    supply: Annotated[str | None, Value.DAYS] = None
    switch_to: Annotated[str | None, Value.TEXT] = None
    finish_on: Annotated[str | None, Value.TEXT] = None
    finish_from: Annotated[str | None, Value.DOSE] = None
    switch_reduction: Annotated[str | None, Value.PERCENT] = None
    crossover: Annotated[str, Value.TEXT] = "slot"
    stage: Annotated[str, Value.DAYS] = "1w"
    stabilize: Annotated[str, Value.DAYS] = "2w"
    part: Annotated[str | None, Value.DOSE] = None
    used_for: Annotated[str | None, Value.DURATION_OF_USE] = None
    days_per_week: Annotated[int | None, Value.INT] = None
    age: Annotated[int | None, Value.INT] = None
    seizures: Annotated[bool, Value.BOOL] = False
    with_opioids: Annotated[bool, Value.BOOL] = False
    with_alcohol: Annotated[bool, Value.BOOL] = False
    liver_impairment: Annotated[bool, Value.BOOL] = False
    cautious: Annotated[bool, Value.BOOL] = False
    allow_high_dose: Annotated[bool, Value.BOOL] = False


def _kind(annotation: Any) -> str:
    if annotation is bool:
        return "bool"
    if get_origin(annotation) is tuple:
        return "list"
    return "int" if int in get_args(annotation) else "text"


#: The kind of each option's value: "text", "int", "bool" or "list" (from the fields' types).
OPTION_KINDS: dict[str, str] = {
    name: _kind(annotation) for name, annotation in get_type_hints(ScheduleOptions).items()
}
#: What each option's value means (:class:`~taper.values.Value`), from the fields' annotations.
OPTION_VALUES: dict[str, Value] = {
    name: annotation.__metadata__[0]
    for name, annotation in get_type_hints(ScheduleOptions, include_extras=True).items()
}


_PLAIN_TYPES = {"text": str, "int": int, "bool": bool}


def _plainly(kind: str, value: Any) -> bool:
    """Whether ``value`` is exactly of the field's kind (no subclass, no bool for an int), so
    that msgspec's conversion would return it unchanged."""
    if kind == "list":
        return type(value) is tuple and all(type(item) is str for item in value)
    return type(value) is _PLAIN_TYPES[kind]


def schedule_options(values: Mapping[str, Any]) -> ScheduleOptions:
    """Options from keyword values (text, or the Python values of :mod:`taper.values`), each
    checked against its declared kind; None means not given."""
    unknown = [name for name in values if name not in OPTION_KINDS]
    if unknown:
        raise InvalidRequestError(
            f"unknown option(s) {', '.join(unknown)}; options are {', '.join(OPTION_KINDS)}"
        )
    given = {
        name: option_value(OPTION_VALUES[name], value, name)
        for name, value in values.items()
        if value is not None
    }
    if all(_plainly(OPTION_KINDS[name], value) for name, value in given.items()):
        plain: dict[str, Any] = given
        return ScheduleOptions(**plain)  # what msgspec would return, without importing it
    import msgspec  # validation and its errors: not at import time, nor for plain values

    try:
        return msgspec.convert(given, ScheduleOptions)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"invalid option: {exc}") from None


@dataclass(frozen=True)
class TaperRequest:
    """Everything that defines a plan; with the table, it reproduces the plan exactly.

    The fields are in the order of the plan's recorded parameters (``meta.parameters`` in
    JSON, the ``#`` line of a CSV), which :func:`taper.records.request_record` writes out.
    """

    drug: str
    regimen: Mapping[str, Decimal]
    method: Method = Method.PERCENT
    rate_percent: Decimal = Decimal(10)
    interval_days: int = 14
    step_mg: Decimal | None = None
    steps_mg: tuple[Decimal, ...] = ()
    slow_below_mg: Decimal | None = None
    slow_rate_percent: Decimal | None = None
    final_mg: Decimal | None = None
    end: End = End.CLINICAL
    holds: tuple[Hold, ...] = ()
    order: Order = Order.AUTO
    start: dt.date | None = None
    until: dt.date | None = None
    duration_days: int | None = None
    region: str = "us"
    products: tuple[str, ...] = ()
    source: str | None = None
    ed50_mg: Decimal | None = None
    emax_percent: Decimal = Decimal(100)
    occupancy_step: Decimal = Decimal(5)
    supply_days: int | None = None
    allow_high_dose: bool = False
    #: Substitution: further current drugs and their regimens, the drug to cross over to,
    #: the crossover strategy, stage and stabilisation lengths, and the part moved per stage.
    also: tuple[tuple[str, Mapping[str, Decimal]], ...] = ()
    switch_to: str | None = None
    #: Finish on another drug: taper the current one to ``finish_from_mg`` (by default where
    #: its products stop keeping the pace), then cross over to ``finish_on`` and taper it.
    finish_on: str | None = None
    finish_from_mg: Decimal | None = None
    #: Start the new drug this much below the full equivalent (incomplete cross-tolerance).
    switch_reduction_percent: Decimal = Decimal(0)
    crossover: Crossover = Crossover.SLOT
    stage_days: int = 7
    stabilize_days: int = 14
    part_mg: Decimal | None = None
    #: How the drug has been used and who takes it (the guardrails; recorded flat), and
    #: whether the cautious defaults were asked for.
    factors: PatientFactors = field(default_factory=PatientFactors)
    cautious: bool = False

    def pace_text(self) -> str:
        """The method's pace in words: ``"10% of the current dose (exponential)"``."""
        return {
            Method.PERCENT: f"{format_number(self.rate_percent)}% of the current dose "
            "(exponential)",
            Method.LINEAR: f"{format_dose(self.step_mg or 0)} each time",
            Method.BANDS: "NICE CKS bands through diazepam equivalents",
            Method.STEPS: "the listed doses",
            Method.OCCUPANCY: f"{format_number(self.occupancy_step)} occupancy points "
            f"(ED50 {format_dose(self.ed50_mg or 0)}, Emax {format_number(self.emax_percent)}%)",
        }[self.method]


_Choice = TypeVar("_Choice", Method, Order, End, Crossover)


def choice(kind: type[_Choice], value: str, what: str) -> _Choice:
    """The member of an enumeration of choices that ``value`` names."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidRequestError(f"unknown {what} {value!r}; use {choices}") from None


def resolve_request(
    options: ScheduleOptions, drug: str, switch_to: str | None, finish_on: str | None = None
) -> TaperRequest:
    """Parse the options into a request for ``drug`` (its regimen left empty).

    ``drug``, ``switch_to`` and ``finish_on`` are the table's names for the drugs.
    """
    o = options
    if o.region not in {"us", "uk"}:
        raise InvalidRequestError(f"unknown region {o.region!r}; use us or uk")
    if o.until is not None and o.duration is not None:
        raise InvalidRequestError("give a target end date (--until) or a duration, not both")
    method = choice(Method, o.method, "method")
    for option, value, wanted in (
        ("--steps", o.steps, Method.STEPS),
        ("--step", o.step, Method.LINEAR),
        ("--ed50", o.ed50, Method.OCCUPANCY),
    ):
        if value and method is not wanted:  # it would be dropped without a word
            raise InvalidRequestError(
                f"{option} goes with --method {wanted.value} (this plan's method is {method.value})"
            )
    if o.rate and method is Method.PERCENT and (o.until or o.duration):
        raise InvalidRequestError(
            "give --rate or a target end (--until, --duration), not both: the target end "
            "finds the rate"
        )
    if o.step and method is Method.LINEAR and (o.until or o.duration):
        raise InvalidRequestError(
            "give --step or a target end (--until, --duration), not both: the target end "
            "finds the step"
        )
    if o.part and not (o.switch_to or o.finish_on):
        raise InvalidRequestError("--part goes with --switch-to or --finish-on")
    if o.finish_from and not o.finish_on:
        raise InvalidRequestError("--finish-from needs --finish-on, the drug to finish on")
    if o.switch_reduction and not (o.switch_to or o.finish_on):
        raise InvalidRequestError("--switch-reduction goes with --switch-to or --finish-on")
    if o.finish_on and o.switch_to:
        raise InvalidRequestError("give --switch-to (switch first) or --finish-on, not both")
    if o.slow_rate and not o.slow_below:
        raise InvalidRequestError("--slow-rate needs --slow-below, the dose below which it applies")
    if o.times is not None and o.times not in TIMES:
        raise InvalidRequestError("--times must be 1, 2, 3 or 4")
    if o.days_per_week is not None and not 1 <= o.days_per_week <= 7:
        raise InvalidRequestError("--days-per-week must be from 1 to 7")
    if o.age is not None and not 0 <= o.age <= 130:
        raise InvalidRequestError("--age must be from 0 to 130")
    holds = o.holds or (("every:3:2w",) if o.cautious else ())
    return TaperRequest(
        drug=drug,
        regimen={},
        method=method,
        rate_percent=parse_percent(o.rate or ("5%" if o.cautious else "10%")),
        interval_days=parse_days(o.every or "2w"),
        step_mg=parse_dose(o.step) if o.step else None,
        steps_mg=parse_dose_list(o.steps) if o.steps else (),
        slow_below_mg=parse_dose(o.slow_below) if o.slow_below else None,
        slow_rate_percent=parse_percent(o.slow_rate, "slow rate") if o.slow_rate else None,
        final_mg=parse_dose(o.final) if o.final else None,
        end=choice(End, o.end, "end"),
        holds=tuple(parse_hold(text) for text in holds),
        order=choice(Order, o.order, "order"),
        start=parse_date(o.start, "start date") if o.start else None,
        until=parse_date(o.until, "target end date") if o.until else None,
        duration_days=parse_days(o.duration, "duration") if o.duration else None,
        region=o.region,
        products=o.products,
        source=o.source,
        ed50_mg=parse_dose(o.ed50) if o.ed50 else None,
        emax_percent=parse_positive_number(o.emax, "Emax", maximum=Decimal(100)),
        occupancy_step=parse_positive_number(o.occupancy_step, "occupancy step", Decimal(100)),
        supply_days=parse_days(o.supply, "supply period") if o.supply else None,
        allow_high_dose=o.allow_high_dose,
        switch_to=switch_to,
        finish_on=finish_on,
        finish_from_mg=parse_dose(o.finish_from) if o.finish_from else None,
        switch_reduction_percent=parse_percent(o.switch_reduction, "switch reduction")
        if o.switch_reduction
        else Decimal(0),
        crossover=choice(Crossover, o.crossover, "crossover"),
        stage_days=parse_days(o.stage, "stage"),
        stabilize_days=0
        if o.stabilize.strip() in {"0", "0d", "0w"}
        else parse_days(o.stabilize, "stabilization"),
        part_mg=parse_dose(o.part) if o.part else None,
        factors=PatientFactors(
            used_for_days=parse_duration_of_use(o.used_for) if o.used_for else None,
            days_per_week=o.days_per_week,
            age=o.age,
            seizures=o.seizures,
            with_opioids=o.with_opioids,
            with_alcohol=o.with_alcohol,
            liver_impairment=o.liver_impairment,
        ),
        cautious=o.cautious,
    )
