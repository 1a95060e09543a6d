"""The scheduling engine: day-by-day direct tapers that a pharmacy can dispense.

How a plan is built (every step exact, in ``Fraction`` and ``Decimal``):

1. The products give the doses that can be made at one dose time (a *ladder*).
2. From the current regimen, a *reduction path* lists every configuration the taper may pass
   through: each one is the previous with one dose time lowered to the next dose down its
   ladder, chosen by the reduction order (daytime doses first, night first, or evenly). Along
   the path no dose time ever goes up, and every configuration can be dispensed.
3. The method gives an *ideal* daily total for each interval (exponential percent cuts,
   fixed mg steps, CKS bands, an explicit list, or equal steps in receptor occupancy). The
   plan takes the configuration on the path whose total is nearest the ideal, never going
   back. When the products cannot make a smaller cut yet, the dose is held until the ideal
   reaches the next dose that can be made.
4. The plan stops (to zero) after the final dose has been taken for one interval.

Checks follow the 2025 Joint Clinical Practice Guideline on Benzodiazepine Tapering: an
initial pace of 5-10% every 2-4 weeks, and generally not more than 25% every 2 weeks.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from taper.dispensing import quantities, supply_periods, units_used
from taper.doses import parse_dose
from taper.errors import HighDoseError, InvalidRequestError, UndispensableDoseError
from taper.formatting import format_dose, format_number
from taper.guardrails import PatientFactors, assess, parse_duration_of_use
from taper.params import (
    SLOTS,
    TIMES,
    parse_date,
    parse_days,
    parse_dose_list,
    parse_hold,
    parse_percent,
    parse_positive_number,
    parse_regimen,
)
from taper.plan import (
    Checks,
    Crossover,
    DoseTime,
    Method,
    Order,
    Plan,
    Step,
    TaperRequest,
    diazepam_of,
)
from taper.products import (
    Formulary,
    formulary_for,
    parse_product,
    product_drug,
)
from taper.table import Drug, EquivalenceSource, EquivalenceTable, load_table

if TYPE_CHECKING:
    from taper.convert import Conversion

#: 2025 Joint Guideline: generally not more than 25% every 2 weeks.
CEILING_FRACTION = Fraction(25, 100)
#: 2025 Joint Guideline: an initial pace of 5-10% every 2-4 weeks.
START_FRACTION = Fraction(10, 100)
WINDOW_DAYS = 14
#: NICE CKS fixed-step bands (diazepam mg/day): above the threshold, cut by the step.
#: CKS gives 2-4, 1-2, 1 and 0.5-1 mg; the gentler end of each range is used.
CKS_BANDS = (
    (Decimal(20), Decimal(2)),
    (Decimal(10), Decimal(1)),
    (Decimal(5), Decimal(1)),
    (Decimal(0), Decimal("0.5")),
)
#: A cut at least this many times the method's own cut is flagged as forced by the products.
FORCED_FACTOR = Fraction(3, 2)
#: Plans longer than this are refused (ten years).
MAX_PLAN_DAYS = 3653


# --------------------------------------------------------------------------- building


def _formulary(table: EquivalenceTable, drug: Drug, request: TaperRequest) -> Formulary:
    """The products used for ``drug`` in a plan (see :func:`products_for`)."""
    tapered = table.drug(request.switch_to or request.drug).name
    return products_for(table, drug, request.region, request.products, tapered)


def products_for(
    table: EquivalenceTable,
    drug: Drug,
    region: str,
    given: Sequence[str],
    default_drug: str,
) -> Formulary:
    """The products for ``drug``: those given (``--product``), else the region's.

    A given product naming a drug ("lorazepam 1mg tablet") applies to that drug; one naming
    none applies to ``default_drug``.
    """
    mine = []
    for text in given:
        named = product_drug(text)
        owner = table.drug(named).name if named else default_drug
        if owner == drug.name:
            mine.append(parse_product(text, drug.name, named))
    if mine:
        return formulary_for(drug.name, tuple(mine))
    products = drug.products_in(region)
    if not products:
        regions = sorted({region for p in drug.products for region in p.regions})
        where = f" (products are listed for: {', '.join(regions)})" if regions else ""
        raise InvalidRequestError(
            f"no {drug.name} products are listed for region {region!r}{where}; "
            f"give the products with --product, e.g. --product '{drug.name} 1mg tablet'"
        )
    return formulary_for(drug.name, products)


def ratio_to_diazepam(
    table: EquivalenceTable, drug: Drug, source: EquivalenceSource
) -> tuple[Fraction, Fraction] | None:
    """Diazepam mg per mg of ``drug`` under ``source`` as (low, high), or None."""
    if drug.name == table.reference_drug:
        return Fraction(1), Fraction(1)
    own = drug.equivalents.get(source.id)
    reference = table.drugs[table.reference_drug].equivalents.get(source.id)
    if own is None or reference is None:
        return None
    return (
        Fraction(reference.low) / Fraction(own.high),
        Fraction(reference.high) / Fraction(own.low),
    )


def _reduction_path(
    start: tuple[Decimal, ...], slots: tuple[str, ...], formulary: Formulary, order: Order
) -> tuple[list[tuple[Decimal, ...]], list[int]]:
    """Every configuration from the regimen down to zero, one dose time lowered at a time,
    with each configuration's daily total in quanta of the formulary (for fast search)."""
    ladders = [formulary.ladder(dose) for dose in start]
    steps = [formulary.ladder_units(dose) for dose in start]
    positions = [len(ladder) - 1 for ladder in ladders]
    is_night = [slot == "night" for slot in slots]
    path = [start]
    totals = [sum(ladder[-1] for ladder in steps)]
    while any(positions):
        candidates = [i for i in range(len(slots)) if positions[i] > 0]
        daytime = [i for i in candidates if not is_night[i]]
        night = [i for i in candidates if is_night[i]]
        if order is Order.DAYTIME_FIRST:
            pool = daytime or night
        elif order is Order.NIGHT_FIRST:
            pool = night or daytime
        else:
            pool = candidates
        # The largest dose in the pool first; on a tie, daytime before night, then earlier.
        chosen = max(pool, key=lambda i: (steps[i][positions[i]], not is_night[i], -i))
        drop = steps[chosen][positions[chosen]] - steps[chosen][positions[chosen] - 1]
        positions[chosen] -= 1
        path.append(tuple(ladders[i][positions[i]] for i in range(len(slots))))
        totals.append(totals[-1] - drop)
    return path, totals


def _band_step(diazepam_total: Decimal) -> Decimal:
    return next(step for threshold, step in CKS_BANDS if diazepam_total > threshold)


def _ideal_function(
    request: TaperRequest,
    ratio: tuple[Fraction, Fraction] | None,
    source: EquivalenceSource,
    drug: Drug,
) -> Callable[[Decimal], Decimal]:
    """The next ideal daily total from the current one.

    The ideal trajectory is a target, not a dose: it is computed in Decimal at 34 significant
    digits (see :func:`_walk`), and only ever used to choose among doses that can be made.
    """
    method = request.method
    if method is Method.PERCENT:
        keep = 1 - request.rate_percent / 100
        slow_keep = 1 - (request.slow_rate_percent or request.rate_percent) / 100
        slow_below = request.slow_below_mg

        def percent(ideal: Decimal) -> Decimal:
            return ideal * (slow_keep if slow_below is not None and ideal <= slow_below else keep)

        return percent
    if method is Method.LINEAR:
        if request.step_mg is None:
            raise InvalidRequestError("the linear method needs --step, e.g. --step 0.125mg")
        step = request.step_mg
        return lambda ideal: ideal - step
    if method is Method.BANDS:
        if ratio is None or ratio[0] != ratio[1]:
            what = "no value" if ratio is None else "a range"
            raise InvalidRequestError(
                f"the bands method converts through diazepam and needs one equivalence value; "
                f"source {source.id!r} gives {what} for {drug.name}: choose another --source"
            )
        per_mg = Decimal(ratio[0].numerator) / Decimal(ratio[0].denominator)
        return lambda ideal: ideal - _band_step(ideal * per_mg) / per_mg
    if method is Method.OCCUPANCY:
        if request.ed50_mg is None:
            raise InvalidRequestError(
                "the occupancy method needs --ed50 (and optionally --emax); no published "
                "values exist for benzodiazepines, so give ones you can cite"
            )
        ed50, emax, delta = request.ed50_mg, request.emax_percent, request.occupancy_step

        def occupancy(ideal: Decimal) -> Decimal:
            occupied = emax * ideal / (ed50 + ideal) - delta
            return Decimal(0) if occupied <= 0 else ed50 * occupied / (emax - occupied)

        return occupancy
    raise AssertionError(method)  # steps are handled by the caller


_P = ParamSpec("_P")
_T = TypeVar("_T")


@dataclass
class _RawStep:
    index: int
    days: int
    hold_days: int = 0
    intended_cut: Fraction | None = None
    stalled: bool = False


def _decimal_targets(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run ``function`` with 34 significant digits: the same targets whatever the caller's
    decimal context."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with localcontext(prec=34):
            return function(*args, **kwargs)

    return wrapper


@_decimal_targets
def _walk(
    request: TaperRequest,
    totals: Sequence[int],
    quantum_fraction: Fraction,
    next_ideal: Callable[[Decimal], Decimal] | None,
    interval: int,
) -> list[_RawStep]:
    """Pick, interval by interval, the configurations of the plan (indices into the path).

    ``totals`` are the path's daily totals in quanta (descending integers, the last zero).
    """
    quantum = Decimal(quantum_fraction.numerator) / Decimal(quantum_fraction.denominator)
    last_nonzero = len(totals) - 2
    negated = [-total for total in totals]
    final = totals[last_nonzero]
    if request.final_mg:
        final = max(final, int((request.final_mg / quantum).to_integral_value(ROUND_FLOOR)))
    raw = [_RawStep(index=0, days=interval)]
    plan_days = interval
    reductions = 0
    ideal = totals[0] * quantum
    held_at: set[int] = set()

    def add_holds(step: _RawStep) -> None:
        for number, hold in enumerate(request.holds):
            applies = (
                (hold.kind == "after-step" and reductions == hold.step)
                or (hold.kind == "every" and reductions % hold.step == 0)
                or (
                    hold.kind == "at"
                    and totals[step.index] * quantum <= hold.dose_mg
                    and number not in held_at
                )
            )
            if applies:
                held_at.add(number)
                step.hold_days += hold.days
                step.days += hold.days

    def add(step: _RawStep) -> None:
        nonlocal plan_days
        add_holds(step)
        raw.append(step)
        plan_days += step.days

    while True:
        if plan_days > MAX_PLAN_DAYS:
            raise InvalidRequestError(
                "the plan would last more than ten years; choose a faster pace or a final dose"
            )
        current = raw[-1]
        if next_ideal is None:  # explicit steps
            if reductions >= len(request.steps_mg):
                break
            target = request.steps_mg[reductions] / quantum
            found = [i for i in range(current.index + 1, len(totals)) if totals[i] == target]
            if not found:
                raise UndispensableDoseError(
                    f"step {format_dose(request.steps_mg[reductions])} cannot be made at these "
                    "dose times from the products, or is not below the dose before it"
                )
            reductions += 1
            add(_RawStep(index=found[0], days=interval))
            continue
        if totals[current.index] <= final:
            break
        ideal = next_ideal(ideal)
        if ideal <= 0:
            break
        in_quanta = ideal / quantum
        floor = int(in_quanta.to_integral_value(ROUND_FLOOR))
        lowest = bisect.bisect_left(negated, -floor, current.index, last_nonzero + 1)
        choices = [i for i in (lowest - 1, lowest) if current.index <= i <= last_nonzero]
        chosen = min(choices, key=lambda i: (abs(totals[i] - in_quanta), i))
        if chosen == current.index:
            current.days += interval
            plan_days += interval
            current.stalled = True
            continue
        reductions += 1
        # The method's own cut from the dose actually taken: what the pace asks for.
        before = totals[current.index] * quantum
        intended = Fraction((before - next_ideal(before)) / before)
        add(_RawStep(index=chosen, days=interval, intended_cut=intended))
    return raw


def _percent(fraction: Fraction) -> Decimal:
    value = fraction * 100
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.1"))


@dataclass
class _Segment:
    """A stretch of days at one configuration (doses aligned with the plan's layout)."""

    config: tuple[Decimal, ...]
    days: int
    phase: str
    hold_days: int = 0
    intended_cut: Fraction | None = None
    stalled: bool = False
    notes: tuple[str, ...] = ()


def _taper_segments(
    request: TaperRequest,
    table: EquivalenceTable,
    drug: Drug,
    regimen: Mapping[str, Decimal],
    formulary: Formulary,
    ratio: tuple[Fraction, Fraction] | None,
    source: EquivalenceSource,
    today: dt.date | None,
) -> tuple[list[_Segment], tuple[str, ...], TaperRequest, str | None]:
    """The taper of one drug from ``regimen``: its segments (the first is ``regimen``
    itself, lasting one interval), its dose times, the request as resolved, and the pace
    found for a target end (if one was asked for)."""
    slots = tuple(slot for slot in SLOTS if slot in regimen)
    start_config = tuple(regimen[slot] for slot in slots)
    total = sum(start_config, Decimal(0))
    if request.final_mg is not None and request.final_mg >= total:
        raise InvalidRequestError("the final dose must be below the current daily dose")
    path, totals = _reduction_path(start_config, slots, formulary, request.order)
    quantum = formulary.quantum
    resolved_pace = None
    if request.until is not None or request.duration_days is not None:
        request, resolved_pace = _fit_pace(request, totals, quantum, ratio, source, drug, today)
    if request.method is Method.STEPS and not request.steps_mg:
        raise InvalidRequestError("the steps method needs --steps, e.g. --steps '0.75mg,0.5mg'")
    next_ideal = (
        None if request.method is Method.STEPS else _ideal_function(request, ratio, source, drug)
    )
    raw = _walk(request, totals, quantum, next_ideal, request.interval_days)
    segments = []
    for item in raw:
        notes = []
        if item.stalled:
            notes.append("held: the products cannot make a smaller cut yet")
        if item.hold_days:
            notes.append(f"includes a hold of {item.hold_days} days")
        segments.append(
            _Segment(
                config=path[item.index],
                days=item.days,
                phase="taper",
                hold_days=item.hold_days,
                intended_cut=item.intended_cut,
                stalled=item.stalled,
                notes=tuple(notes),
            )
        )
    return segments, slots, request, resolved_pace


def _check_regimen(
    drug: Drug, regimen: Mapping[str, Decimal], formulary: Formulary, request: TaperRequest
) -> None:
    """The current doses: not above the usual maximum (unless allowed), and dispensable."""
    total = sum(regimen.values(), Decimal(0))
    if drug.max_daily and total > drug.max_daily.mg and not request.allow_high_dose:
        raise HighDoseError(
            drug.name, format_dose(total), format_dose(drug.max_daily.mg), drug.max_daily.note
        )
    for slot, dose in regimen.items():
        if not formulary.can_make(dose):
            raise UndispensableDoseError(
                f"{drug.name} {format_dose(dose)} ({slot}) cannot be made from "
                f"{formulary.describe()}; give the products with --product"
            )


def build_plan(
    request: TaperRequest, table: EquivalenceTable | None = None, *, today: dt.date | None = None
) -> Plan:
    """Build the plan a request describes. See the module docstring for how."""
    table = table if table is not None else load_table()
    if request.switch_to is not None or request.also:
        from taper.substitution import build_substitution

        return build_substitution(request, table, today=today)
    drug = table.drug(request.drug)
    source = table.source(request.source or table.default_source)
    if not request.regimen:
        raise InvalidRequestError("give the current dose")
    formulary = _formulary(table, drug, request)
    _check_regimen(drug, request.regimen, formulary, request)
    ratio = ratio_to_diazepam(table, drug, source)
    segments, slots, request, resolved_pace = _taper_segments(
        request, table, drug, request.regimen, formulary, ratio, source, today
    )
    warnings = []
    if ratio is None:
        warnings.append(
            f"source {source.id!r} gives no equivalent for {drug.name}: diazepam equivalents "
            "are not shown"
        )
    return finish_plan(
        request=request,
        drugs=(drug,),
        layout=tuple((drug.name, slot) for slot in slots),
        segments=segments,
        formularies={drug.name: formulary},
        ratios={drug.name: ratio},
        source=source,
        resolved_pace=resolved_pace,
        warnings=warnings,
        today=today,
        table=table,
    )


def finish_plan(
    *,
    request: TaperRequest,
    drugs: tuple[Drug, ...],
    layout: tuple[tuple[str, str], ...],
    segments: Sequence[_Segment],
    formularies: Mapping[str, Formulary],
    ratios: Mapping[str, tuple[Fraction, Fraction] | None],
    source: EquivalenceSource,
    resolved_pace: str | None,
    warnings: Sequence[str],
    today: dt.date | None,
    table: EquivalenceTable,
    conversion: Conversion | None = None,
) -> Plan:
    """Turn segments into a plan: steps with their cuts and flags, checks, warnings and the
    quantities to dispense. The last drug of ``drugs`` is the one tapered."""
    drug = drugs[-1]
    start_date = request.start or today or dt.date.today()
    steps, loads = _steps(segments, layout, formularies, ratios)
    checks, check_warnings = _checks(steps, loads, formularies[drug.name], drug, start_date)
    start_load = diazepam_of(steps[0].doses, ratios)
    risk = assess(request.factors, start_load)
    all_warnings = [*risk.warnings, *warnings, *check_warnings]
    if resolved_pace is not None and checks.largest_14_day_reduction_percent > 25:
        all_warnings.insert(
            0,
            f"to stop by the target the plan needs {resolved_pace}, which breaks the guideline "
            "ceiling of 25% every 2 weeks: consider a later target or a higher final dose",
        )
    products = tuple(product for d in drugs for product in formularies[d.name].products)
    supply = supply_periods(steps, request.supply_days, products) if request.supply_days else ()
    return Plan(
        request=request,
        drug=drug,
        drugs=drugs,
        source=source,
        formularies=formularies,
        slots=tuple(slot for slot in SLOTS if any(slot == s for _, s in layout)),
        start_date=start_date,
        start_is_default=request.start is None,
        steps=tuple(steps),
        checks=checks,
        warnings=tuple(all_warnings),
        dispensing=quantities(
            units_used((step.doses, step.days) for step in steps if step.phase != "stop"),
            products,
        ),
        supply=supply,
        resolved_pace=resolved_pace,
        ratios=ratios,
        conversion=conversion,
        risk=risk,
        table=table,
    )


def _steps(
    segments: Sequence[_Segment],
    layout: tuple[tuple[str, str], ...],
    formularies: Mapping[str, Formulary],
    ratios: Mapping[str, tuple[Fraction, Fraction] | None],
) -> tuple[list[Step], list[Fraction]]:
    """The plan's steps, and each step's *load*: its diazepam equivalent under the source
    (for a single drug without one, its mg), on which cuts and guideline checks are measured.
    """
    steps: list[Step] = []
    loads: list[Fraction] = []
    starts: list[int] = []
    made: dict[tuple[str, str, Decimal], DoseTime] = {}
    scale = {drug: (Fraction(1) if ratio is None else ratio[0]) for drug, ratio in ratios.items()}

    def dose_times(config: tuple[Decimal, ...]) -> tuple[DoseTime, ...]:
        result = []
        for (drug, slot), dose in zip(layout, config, strict=True):
            key = (drug, slot, dose)
            if key not in made:
                preparation = formularies[drug].preparation(dose)
                assert preparation is not None, key
                made[key] = DoseTime(drug, slot, dose, preparation)
            result.append(made[key])
        return tuple(result)

    def load_of(config: tuple[Decimal, ...]) -> Fraction:
        return sum(
            (scale[drug] * Fraction(dose) for (drug, _), dose in zip(layout, config, strict=True)),
            Fraction(0),
        )

    day = 1
    for number, segment in enumerate(segments, start=1):
        load = load_of(segment.config)
        cut = None
        forced = exceeds = False
        if steps:
            previous = loads[-1]
            actual = (previous - load) / previous
            cut = _percent(actual)
            if segment.intended_cut is not None:
                forced = actual >= segment.intended_cut * FORCED_FACTOR
            before = loads[bisect.bisect_right(starts, max(1, day - WINDOW_DAYS)) - 1]
            exceeds = (before - load) / before > CEILING_FRACTION
        starts.append(day)
        loads.append(load)
        steps.append(
            Step(
                number=number,
                start_day=day,
                days=segment.days,
                doses=dose_times(segment.config),
                total_mg=sum(segment.config, Decimal(0)),
                cut_percent=cut,
                phase=segment.phase,
                hold_days=segment.hold_days,
                forced=forced,
                exceeds_ceiling=exceeds,
                notes=segment.notes,
            )
        )
        day += segment.days
    last = steps[-1]
    stopped_from = " and ".join(
        f"{format_dose(total)} of {drug}" for drug, total in last.totals_by_drug().items()
    )
    steps.append(
        Step(
            number=len(steps) + 1,
            start_day=day,
            days=1,
            doses=dose_times(tuple(Decimal(0) for _ in layout)),
            total_mg=Decimal(0),
            cut_percent=Decimal(100),
            phase="stop",
            notes=(f"stop (from {stopped_from} a day)",),
        )
    )
    return steps, loads


def _checks(
    steps: Sequence[Step],
    loads: Sequence[Fraction],
    formulary: Formulary,
    drug: Drug,
    start_date: dt.date,
) -> tuple[Checks, list[str]]:
    """Guideline checks on the loads of the steps before the stop.

    Doses never go up in the taper, so the largest cut over any 14 days is found in a window
    that ends on the first day of a step: only those windows are measured. The first 14 days
    of the taper start the day before its first cut (after any crossover).
    """
    starts = [step.start_day for step in steps[:-1]]

    def load_on(day: int) -> Fraction:
        return loads[bisect.bisect_right(starts, max(1, day)) - 1]

    def cut_between(first: int, last: int) -> Fraction:
        return (load_on(first) - load_on(last)) / load_on(first)

    windows = [
        (cut_between(step.start_day - WINDOW_DAYS, step.start_day), max(1, step.start_day - 14))
        for step in steps[1:-1]
        if step.phase == "taper"
    ]
    largest, largest_start = max(
        windows, key=lambda window: (window[0], -window[1]), default=(Fraction(0), 1)
    )
    first_cut = next((s for s in steps if s.phase == "taper" and s.cut_percent is not None), None)
    first = Fraction(0)
    if first_cut is not None:
        taper_start = first_cut.start_day - 1
        first = cut_between(taper_start, min(taper_start + WINDOW_DAYS, starts[-1]))
    stop_step = steps[-1]
    stop_from = steps[-2].total_mg
    smallest = formulary.ladder(stop_from)[1] if stop_from > 0 else Decimal(0)
    checks = Checks(
        duration_days=stop_step.start_day - 1,
        reductions=sum(
            1 for step in steps if step.phase in {"taper", "stop"} and step.cut_percent is not None
        ),
        end_date=start_date + dt.timedelta(days=stop_step.start_day - 1),
        largest_14_day_reduction_percent=_percent(largest),
        largest_14_day_window_start=largest_start,
        first_14_day_reduction_percent=_percent(first),
        stop_from_mg=stop_from,
        smallest_dose_mg=smallest,
    )
    warnings = []
    guideline = "2025 Joint Clinical Practice Guideline on Benzodiazepine Tapering"
    if largest > CEILING_FRACTION:
        warnings.append(
            f"the plan cuts {format_number(_percent(largest))}% in 2 weeks (from day "
            f"{largest_start}), above the ceiling of 25% every 2 weeks ({guideline})"
        )
    if first > START_FRACTION:
        warnings.append(
            f"the plan starts faster than 10% per 2 weeks ({format_number(_percent(first))}% in "
            f"the first 2 weeks); the {guideline} suggests starting at 5-10% every 2-4 weeks"
        )
    forced = [step for step in steps if step.forced]
    if forced:
        finer = _finer_products(drug, formulary)
        numbers = ", ".join(str(step.number) for step in forced)
        warnings.append(
            f"the products force larger cuts than the chosen pace at step(s) {numbers}; "
            f"{finer} would allow smaller steps"
        )
    if stop_from > smallest:
        warnings.append(
            f"the plan stops from {format_dose(stop_from)} a day, although the products allow "
            f"stopping from {format_dose(smallest)}"
        )
    return checks, warnings


def _finer_products(drug: Drug, formulary: Formulary) -> str:
    """Name products of the drug (any region) that make smaller steps than those in use."""
    finer = [
        product
        for product in drug.products
        if product not in formulary.products and product.smallest_piece_mg < formulary.quantum
    ]
    names = sorted(
        {
            f"{product.label()} (marketed in {'/'.join(product.regions).upper()})"
            for product in finer
        }
    )
    return " or ".join([*names[:2], "an oral liquid compounded by a pharmacy"])


def _fit_pace(
    request: TaperRequest,
    totals: Sequence[int],
    quantum: Fraction,
    ratio: tuple[Fraction, Fraction] | None,
    source: EquivalenceSource,
    drug: Drug,
    today: dt.date | None,
) -> tuple[TaperRequest, str]:
    """The slowest pace of the chosen method that stops by the target end."""
    if request.until is not None:
        start = request.start or today or dt.date.today()
        target = (request.until - start).days
    else:
        assert request.duration_days is not None
        target = request.duration_days
    if target < 1:
        raise InvalidRequestError("the target end must be after the start date")

    def ends_in_time(candidate: TaperRequest) -> bool:
        try:
            next_ideal = (
                None
                if candidate.method is Method.STEPS
                else _ideal_function(candidate, ratio, source, drug)
            )
            raw = _walk(candidate, totals, quantum, next_ideal, candidate.interval_days)
            return sum(step.days for step in raw) <= target
        except InvalidRequestError:
            return False

    # Candidate paces, from the slowest to the fastest.
    if request.method is Method.PERCENT:
        count = 99

        def option(n: int) -> TaperRequest:
            return replace(request, rate_percent=Decimal(n + 1) / 2)  # 0.5% to 49.5%

    elif request.method is Method.LINEAR:
        step = Decimal(quantum.numerator) / Decimal(quantum.denominator)
        count = totals[0]

        def option(n: int) -> TaperRequest:
            return replace(request, step_mg=step * (n + 1))

    else:
        count = 56

        def option(n: int) -> TaperRequest:
            return replace(request, interval_days=56 - n)  # every 56 days to every day

    low, high = 0, count - 1
    if not ends_in_time(option(high)):
        raise InvalidRequestError(
            f"no {request.method.value} plan from these products stops within {target} days"
        )
    while low < high:
        middle = (low + high) // 2
        if ends_in_time(option(middle)):
            high = middle
        else:
            low = middle + 1
    chosen = option(low)
    if chosen.method is Method.PERCENT:
        pace = f"{format_number(chosen.rate_percent)}% every {chosen.interval_days} days"
    elif chosen.method is Method.LINEAR:
        pace = f"{format_dose(chosen.step_mg or 0)} every {chosen.interval_days} days"
    else:
        pace = f"a step every {chosen.interval_days} days"
    return chosen, pace


def split_daily_dose(
    total: Decimal, slots: Sequence[str], formulary: Formulary
) -> dict[str, Decimal]:
    """Split a daily total over dose times as evenly as the products allow.

    Every dose time but night gets the same dose, the largest that leaves a night dose the
    products can make and at least as large; night takes the remainder.
    """
    if len(slots) == 1:
        return {slots[0]: total}
    others = [slot for slot in slots if slot != "night"] if "night" in slots else list(slots[:-1])
    last = "night" if "night" in slots else slots[-1]
    share = Fraction(total) / len(slots)
    for dose in reversed(formulary.ladder(Decimal(math.floor(share * 1000)) / 1000)):
        remainder = total - dose * len(others)
        if dose > 0 and remainder >= dose and formulary.can_make(remainder):
            split = dict.fromkeys(others, dose) | {last: remainder}
            return {slot: split[slot] for slot in SLOTS if slot in split}
    raise UndispensableDoseError(
        f"{format_dose(total)} cannot be split over {len(slots)} dose times with "
        f"{formulary.describe()}"
    )


def plan_taper(
    drug: str | Sequence[tuple[str, str]],
    dose: str | None = None,
    *,
    times: int | None = None,
    method: str = "percent",
    rate: str | None = None,
    every: str | None = None,
    step: str | None = None,
    steps: str | None = None,
    slow_below: str | None = None,
    slow_rate: str | None = None,
    final: str | None = None,
    holds: Sequence[str] = (),
    order: str = "daytime-first",
    start: str | None = None,
    until: str | None = None,
    duration: str | None = None,
    region: str = "us",
    products: Sequence[str] = (),
    source: str | None = None,
    ed50: str | None = None,
    emax: str = "100",
    occupancy_step: str = "5",
    supply: str | None = None,
    switch_to: str | None = None,
    crossover: str = "slot",
    stage: str = "1w",
    stabilize: str = "2w",
    part: str | None = None,
    used_for: str | None = None,
    days_per_week: int | None = None,
    age: int | None = None,
    seizures: bool = False,
    with_opioids: bool = False,
    with_alcohol: bool = False,
    liver_impairment: bool = False,
    cautious: bool = False,
    allow_high_dose: bool = False,
    table: EquivalenceTable | None = None,
    today: dt.date | None = None,
) -> Plan:
    """Plan a taper from text options, as the command line takes them.

    ``drug`` and ``dose`` name the current drug and its dose: a daily total (``"1.5mg"``,
    split over ``times`` dose times) or doses per dose time (``"morning=0.5mg,night=1mg"``).
    Several current drugs are given as ``[("lorazepam", "1mg"), ("alprazolam", "0.5mg")]``
    (``dose`` left out) and need ``switch_to``, the drug to cross over to before the taper.
    ``rate`` and ``every`` default to 10% every 2 weeks, or with ``cautious`` to 5% every 4
    weeks with a 2-week hold after every third reduction (unless holds are given).
    """
    table = table if table is not None else load_table()
    current = [(drug, dose)] if isinstance(drug, str) else list(drug)
    if isinstance(drug, str) and dose is None:
        raise InvalidRequestError("give the current dose")
    if not current:
        raise InvalidRequestError("give the current drug and dose")
    if len(current) > 1 and switch_to is None:
        raise InvalidRequestError(
            "several current drugs are tapered by crossing them over to one: add --switch-to"
        )
    the_method = _choice(Method, method, "method")
    the_order = _choice(Order, order, "order")
    the_crossover = _choice(Crossover, crossover, "crossover")
    if region not in {"us", "uk"}:
        raise InvalidRequestError(f"unknown region {region!r}; use us or uk")
    if until is not None and duration is not None:
        raise InvalidRequestError("give a target end date (--until) or a duration, not both")
    if slow_rate and not slow_below:
        raise InvalidRequestError("--slow-rate needs --slow-below, the dose below which it applies")
    if times is not None and times not in TIMES:
        raise InvalidRequestError("--times must be 1, 2, 3 or 4")
    if days_per_week is not None and not 1 <= days_per_week <= 7:
        raise InvalidRequestError("--days-per-week must be from 1 to 7")
    if age is not None and not 0 <= age <= 130:
        raise InvalidRequestError("--age must be from 0 to 130")
    factors = PatientFactors(
        used_for_days=parse_duration_of_use(used_for) if used_for else None,
        days_per_week=days_per_week,
        age=age,
        seizures=seizures,
        with_opioids=with_opioids,
        with_alcohol=with_alcohol,
        liver_impairment=liver_impairment,
    )
    rate = rate or ("5%" if cautious else "10%")
    every = every or ("4w" if cautious else "2w")
    if cautious and not holds:
        holds = ["every:3:2w"]
    drugs = [table.drug(name) for name, _ in current]
    names = [d.name for d in drugs]
    if len(set(names)) != len(names):
        raise InvalidRequestError("a current drug is given twice; give its doses once")
    request = TaperRequest(
        drug=drugs[0].name,
        regimen={},
        method=the_method,
        rate_percent=parse_percent(rate),
        interval_days=parse_days(every),
        step_mg=parse_dose(step) if step else None,
        steps_mg=parse_dose_list(steps) if steps else (),
        slow_below_mg=parse_dose(slow_below) if slow_below else None,
        slow_rate_percent=parse_percent(slow_rate, "slow rate") if slow_rate else None,
        final_mg=parse_dose(final) if final else None,
        holds=tuple(parse_hold(text) for text in holds),
        order=the_order,
        start=parse_date(start, "start date") if start else None,
        region=region,
        products=tuple(products),
        source=source,
        ed50_mg=parse_dose(ed50) if ed50 else None,
        emax_percent=parse_positive_number(emax, "Emax"),
        occupancy_step=parse_positive_number(occupancy_step, "occupancy step"),
        until=parse_date(until, "target end date") if until else None,
        duration_days=parse_days(duration, "duration") if duration else None,
        supply_days=parse_days(supply, "supply period") if supply else None,
        allow_high_dose=allow_high_dose,
        switch_to=table.drug(switch_to).name if switch_to else None,
        crossover=the_crossover,
        stage_days=parse_days(stage, "stage"),
        stabilize_days=0
        if stabilize.strip() in {"0", "0d", "0w"}
        else parse_days(stabilize, "stabilisation"),
        part_mg=parse_dose(part) if part else None,
        factors=factors,
        cautious=cautious,
    )
    regimens = [
        _parse_current(table, the_drug, text, times, request)
        for the_drug, (_, text) in zip(drugs, current, strict=True)
    ]
    request = replace(
        request, regimen=regimens[0], also=tuple(zip(names[1:], regimens[1:], strict=True))
    )
    if request.switch_to == request.drug and not request.also:
        request = replace(request, switch_to=None)  # to itself: a direct taper
    return build_plan(request, table, today=today)


_Choice = TypeVar("_Choice", Method, Order, Crossover)


def _choice(kind: type[_Choice], value: str, what: str) -> _Choice:
    """The member of an enumeration of choices that ``value`` names."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidRequestError(f"unknown {what} {value!r}; use {choices}") from None


def _parse_current(
    table: EquivalenceTable, drug: Drug, text: str | None, times: int | None, request: TaperRequest
) -> dict[str, Decimal]:
    """One current drug's regimen: doses per dose time, or a daily total split evenly."""
    if text is None:
        raise InvalidRequestError(f"give the dose of {drug.name}")
    if "=" in text:
        if times is not None:
            raise InvalidRequestError("give --times only with a daily total, not with dose times")
        return parse_regimen(text)
    total = parse_dose(text)
    count = times if times is not None else 1
    formulary = _formulary(table, drug, request)
    if not formulary.can_make(total) and count == 1:
        raise UndispensableDoseError(
            f"{drug.name} {format_dose(total)} cannot be made from {formulary.describe()}"
        )
    return split_daily_dose(total, TIMES[count], formulary)
