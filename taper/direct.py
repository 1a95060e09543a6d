"""The direct taper of one drug: from its current regimen, the configurations of the plan.

How (every step exact, in ``Fraction`` and ``Decimal``):

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

With a target end (``--until``, ``--duration``) the slowest pace on the method's grid (rates
of 0.5% to 49.5% in steps of 0.5%; steps of one to all quanta; intervals of 56 days down to
1) whose plan stops in time is found by trying every pace from the slowest up, each planned
as that pace given alone would be. Whether a pace stops in time is not monotonic in the pace
(the products' steps make some faster paces end later), so no bisection is used.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import ParamSpec, TypeVar

from taper.assemble import Segment
from taper.errors import InvalidRequestError, UndispensableDoseError
from taper.formatting import format_dose, format_number
from taper.guideline import (
    END_DIAZEPAM_MG,
    LAST_BAND_FROM_DIAZEPAM_MG,
    LAST_BAND_STEP_DIAZEPAM_MG,
    TAIL_FROM_DIAZEPAM_MG,
    WINDOW_DAYS,
    cks_band_step,
    over_ceiling,
    smallest_cut,
)
from taper.options import End, Method, Order, TaperRequest
from taper.params import SLOTS
from taper.plan import Phase
from taper.products import Formulary
from taper.rational import Fraction
from taper.regimen import dose_step
from taper.table import Drug, EquivalenceSource, EquivalenceTable

#: Plans longer than this are refused (ten years).
MAX_PLAN_DAYS = 3653
#: Tablets keep the pace where their smallest cut is at most this many times the method's.
COARSE_FACTOR = Fraction(3, 2)


def _as_decimal(value: Fraction) -> Decimal:
    with localcontext(prec=34):
        return Decimal(value.numerator) / Decimal(value.denominator)


#: Daytime-first and night-first take one dose time at a time to zero, in this order: the
#: Ashton Manual's and NHS Scotland's schedules reduce the midday dose, then the morning
#: dose, then the night dose.
SEQUENCES = {
    Order.DAYTIME_FIRST: ("midday", "afternoon", "evening", "morning", "night"),
    Order.NIGHT_FIRST: ("night", "midday", "afternoon", "evening", "morning"),
}


def resolved_order(order: Order, drug: Drug) -> Order:
    """``auto``: daytime-first for long-acting drugs, even for short-acting ones, which need
    several doses a day to avoid withdrawal between doses (clinical reference, 6b)."""
    if order is not Order.AUTO:
        return order
    return Order.EVEN if drug.acting == "short" else Order.DAYTIME_FIRST


def reduction_path(
    start: tuple[Decimal, ...],
    slots: tuple[str, ...],
    formulary: Formulary,
    order: Order,
    dose_step: Fraction | None = None,
    liquids: bool = True,
    bottle: bool = False,
) -> tuple[list[tuple[Decimal, ...]], list[int]]:
    """Every configuration from the regimen down to zero, one dose time lowered at a time,
    with each configuration's daily total in quanta of the formulary (for fast search).
    With ``bottle`` (and a liquid among the products), each dose time, once cut, goes
    through the doses the liquid measures only: it never goes back to tablets."""
    if bottle and formulary.has_liquid:
        ladders = [formulary.bottle_ladder(dose, dose_step) for dose in start]
        steps = [formulary.bottle_ladder_units(dose, dose_step) for dose in start]
    else:
        ladders = [formulary.ladder(dose, dose_step, liquids=liquids) for dose in start]
        steps = [formulary.ladder_units(dose, dose_step, liquids=liquids) for dose in start]
    positions = [len(ladder) - 1 for ladder in ladders]
    is_night = [slot == "night" for slot in slots]
    sequence = SEQUENCES.get(order)
    path = [start]
    totals = [sum(ladder[-1] for ladder in steps)]
    while any(positions):
        candidates = [i for i in range(len(slots)) if positions[i] > 0]
        if sequence is not None:
            chosen = min(candidates, key=lambda i: sequence.index(slots[i]))
        else:
            # The largest dose first; on a tie, daytime before night, then earlier.
            chosen = max(candidates, key=lambda i: (steps[i][positions[i]], not is_night[i], -i))
        drop = steps[chosen][positions[chosen]] - steps[chosen][positions[chosen] - 1]
        positions[chosen] -= 1
        path.append(tuple(ladders[i][positions[i]] for i in range(len(slots))))
        totals.append(totals[-1] - drop)
    return path, totals


#: A reduction path and its daily totals in quanta (see :func:`reduction_path`).
ReductionPath = tuple[list[tuple[Decimal, ...]], list[int]]


def dispensable_path(
    start: tuple[Decimal, ...],
    slots: tuple[str, ...],
    formulary: Formulary,
    order: Order,
    step: Fraction | None,
    ratio: tuple[Fraction, Fraction] | None,
    next_ideal: Callable[[Decimal], Decimal] | None,
    reduce: Callable[[tuple[Decimal, ...], bool], ReductionPath] | None = None,
    breaks_ceiling: Callable[[int, int], bool] | None = None,
    coarse_above: Callable[[int, int], tuple[Decimal, Fraction]] | None = None,
) -> ReductionPath:
    """The reduction path in tablets and capsules, as far as they keep the pace: their
    smallest cut within the guideline's ceiling, and not more than 1.5 times the method's
    cut there; from there on, with the doses a liquid makes too (if that gives smaller
    cuts). A liquid is used only where the solids cannot keep the pace.

    ``reduce(config, liquids)``: the reduction path from ``config`` (by default
    :func:`reduction_path` with these arguments); ``breaks_ceiling(before, after)``: whether
    a cut between these totals in quanta is over the guideline's ceiling;
    ``coarse_above(before, after)``: see :func:`coarse_threshold`. A pace search passes
    memoised ones (the lists ``reduce`` returns are not changed)."""
    if reduce is None:

        def reduce(config: tuple[Decimal, ...], liquids: bool) -> ReductionPath:
            return reduction_path(
                config, slots, formulary, order, step, liquids=liquids, bottle=liquids
            )

    if not all(formulary.is_solid(dose) for dose in start if dose):
        return reduce(start, True)
    path, totals = reduce(start, False)
    quantum = Fraction(formulary.quantum)
    if breaks_ceiling is None:
        breaks_ceiling = ceiling_rule(formulary, ratio)
    if coarse_above is None:
        coarse_above = functools.partial(coarse_threshold, quantum)

    def too_coarse(index: int) -> bool:
        before, after = totals[index], totals[index + 1]
        if breaks_ceiling(before, after):
            return True
        if next_ideal is None:
            return False
        dose, threshold = coarse_above(before, after)
        return Fraction(next_ideal(dose)) > threshold

    for index in range(len(totals) - 1):
        if too_coarse(index):
            rest, rest_totals = reduce(path[index], True)
            if rest_totals[1] <= totals[index + 1]:
                break  # a liquid gives no smaller cut here
            offset = totals[index] - rest_totals[0]
            return path[:index] + rest, totals[:index] + [t + offset for t in rest_totals]
    return path, totals


def coarse_threshold(quantum: Fraction, before: int, after: int) -> tuple[Decimal, Fraction]:
    """The dose at ``before`` quanta, as the method's ideal takes it, and the ideal next dose
    above which the cut to ``after`` quanta is more than :data:`COARSE_FACTOR` times the
    method's own cut: ``cut > COARSE_FACTOR * (dose - ideal)`` exactly when
    ``ideal > dose - cut / COARSE_FACTOR``."""
    dose = quantum * before
    return _as_decimal(dose), dose - (before - after) * quantum / COARSE_FACTOR


def ceiling_rule(
    formulary: Formulary, ratio: tuple[Fraction, Fraction] | None
) -> Callable[[int, int], bool]:
    """Whether a cut between two daily totals in quanta of ``formulary`` is over the
    guideline's ceiling (see :func:`taper.guideline.over_ceiling`)."""
    scale = Fraction(formulary.quantum) * (ratio[0] if ratio is not None else 1)

    def breaks_ceiling(before: int, after: int) -> bool:
        return over_ceiling(scale * before, scale * after, ratio is not None)

    return breaks_ceiling


@dataclass(frozen=True)
class TaperEnd:
    """How a taper ends, in mg of the drug a day.

    ``tail_from``: below this ideal dose, a cut that shrinks with the dose goes on in fixed
    steps: the method's fraction of ``tail_from`` (None: never). ``stop_below``: the plan
    stops once the ideal dose is below it and the dose taken is no more than it (or than the
    smallest dose the products make).
    """

    tail_from: Decimal | None
    stop_below: Decimal
    #: Below ``last_band_from`` (CKS's last band, 5 mg diazepam) no tail step is larger than
    #: ``last_band_step`` (its 1 mg): the end slows down, never speeds up.
    last_band_from: Decimal = Decimal(0)
    last_band_step: Decimal = Decimal(0)


def taper_end(
    request: TaperRequest, ratio: tuple[Fraction, Fraction] | None, start: Decimal
) -> TaperEnd:
    """The end rule of a plan: the clinical end (NICE CKS) unless ``--end micro`` or the drug
    has no diazepam equivalent under the source; a final dose given replaces its stop.

    A plan that starts below the tail (``start`` mg a day) goes on in the method's own cut at
    the start, so that its first cuts keep the guideline's starting pace.
    """
    if request.end is End.MICRO or ratio is None:
        return TaperEnd(None, request.final_mg or Decimal(0))
    per_mg = Decimal(ratio[0].numerator) / Decimal(ratio[0].denominator)
    tail_from = min(TAIL_FROM_DIAZEPAM_MG / per_mg, start)
    return TaperEnd(
        tail_from,
        request.final_mg or END_DIAZEPAM_MG / per_mg,
        LAST_BAND_FROM_DIAZEPAM_MG / per_mg,
        LAST_BAND_STEP_DIAZEPAM_MG / per_mg,
    )


def _ideal_function(
    request: TaperRequest,
    ratio: tuple[Fraction, Fraction] | None,
    source: EquivalenceSource,
    drug: Drug,
) -> Callable[[Decimal], Decimal]:
    """The next ideal daily total from the current one.

    The ideal trajectory is a target, not a dose: it is computed in Decimal at 34 significant
    digits (see :func:`choose_configurations`), and only ever used to choose among doses
    that can be made.
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
            raise InvalidRequestError(
                "the linear method needs {step} (e.g. 0.125mg)", parameters={"step": None}
            )
        step = request.step_mg
        return lambda ideal: ideal - step
    if method is Method.BANDS:
        if ratio is None or ratio[0] != ratio[1]:
            what = "no value" if ratio is None else "a range"
            raise InvalidRequestError(
                f"the bands method converts through diazepam and needs one equivalence value; "
                f"source {source.id!r} gives {what} for {drug.name}: choose another {{source}}",
                parameters={"source": None},
            )
        per_mg = Decimal(ratio[0].numerator) / Decimal(ratio[0].denominator)
        return lambda ideal: ideal - cks_band_step(ideal * per_mg) / per_mg
    if method is Method.OCCUPANCY:
        if request.ed50_mg is None:
            raise InvalidRequestError(
                "the occupancy method needs {ed50} (and optionally {emax}); no published "
                "values exist for benzodiazepines, so give ones you can cite",
                parameters={"ed50": None, "emax": None},
            )
        ed50, emax, delta = request.ed50_mg, request.emax_percent, request.occupancy_step

        def occupancy(ideal: Decimal) -> Decimal:
            occupied = emax * ideal / (ed50 + ideal) - delta
            return Decimal(0) if occupied <= 0 else ed50 * occupied / (emax - occupied)

        return occupancy
    raise AssertionError(method)  # steps are handled by the caller


_P = ParamSpec("_P")
_T = TypeVar("_T")


class PastTarget(Exception):
    """A plan being built is already longer than the target (its days so far)."""

    def __init__(self, days: int) -> None:
        super().__init__(days)
        self.days = days


@dataclass
class PathStep:
    """A stretch of the plan at one configuration of the reduction path."""

    index: int
    days: int
    hold_days: int = 0
    stalled: bool = False


def _decimal_targets(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run ``function`` with 34 significant digits: the same targets whatever the caller's
    decimal context."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with localcontext(prec=34):
            return function(*args, **kwargs)

    return wrapper


def with_tail(
    next_ideal: Callable[[Decimal], Decimal], end: TaperEnd
) -> Callable[[Decimal], Decimal]:
    """The method's next ideal dose, in fixed steps below the end's tail: the fraction the
    method cuts at a dose, of the tail's dose (10% cuts become 1 mg diazepam steps)."""
    tail_from = end.tail_from
    if tail_from is None:
        return next_ideal

    def tailed(ideal: Decimal) -> Decimal:
        after = next_ideal(ideal)
        if ideal <= 0 or ideal >= tail_from:
            return after
        cut = (ideal - after) * tail_from / ideal
        if ideal <= end.last_band_from:
            cut = min(cut, max(end.last_band_step, ideal - after))
        return ideal - cut

    return tailed


@_decimal_targets
def choose_configurations(
    request: TaperRequest,
    totals: Sequence[int],
    quantum_fraction: Fraction,
    next_ideal: Callable[[Decimal], Decimal] | None,
    interval: int,
    end: TaperEnd,
    give_up_after: int | None = None,
) -> list[PathStep]:
    """Pick, interval by interval, the configurations of the plan (indices into the path).

    ``totals`` are the path's daily totals in quanta (descending integers, the last zero).
    Each interval takes the configuration with the smallest total that is not below the
    ideal, nor below the method's next dose from the dose actually taken: a cut is never
    larger than the method asks when a smaller one can be made. When the products cannot
    make a cut that small, the dose is held until the ideal reaches the next dose down, so
    that the average pace is the method's (and the end is never faster than the middle).
    The plan stops once the ideal is below the end's dose and the dose taken is no more than
    it (or than the smallest dose the products make).

    ``give_up_after``: raise :class:`PastTarget` as soon as the plan is known to last more
    than this many days (the days only ever grow while it is built).
    """
    quantum = Decimal(quantum_fraction.numerator) / Decimal(quantum_fraction.denominator)
    last_nonzero = len(totals) - 2
    negated = [-total for total in totals]
    # Stop once the ideal is below the end (without one: below the smallest dose there is).
    stop_below = end.stop_below or totals[last_nonzero] * quantum
    may_stop_from = max(
        totals[last_nonzero], int((stop_below / quantum).to_integral_value(ROUND_FLOOR))
    )
    raw = [PathStep(index=0, days=interval)]
    plan_days = interval
    reductions = 0
    ideal = totals[0] * quantum
    held_at: set[int] = set()

    def add_holds(step: PathStep) -> None:
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

    def add(step: PathStep) -> None:
        nonlocal plan_days
        add_holds(step)
        raw.append(step)
        plan_days += step.days

    while True:
        if give_up_after is not None and plan_days > give_up_after:
            raise PastTarget(plan_days)
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
            add(PathStep(index=found[0], days=interval))
            continue
        ideal = next_ideal(ideal)
        now = totals[current.index]
        if now <= may_stop_from and (ideal < stop_below or ideal <= 0):
            if len(raw) > 1:  # the last dose lasts as long as the one before: never faster
                before = raw[-2].days - raw[-2].hold_days
                plan_days += max(0, before - (current.days - current.hold_days))
                current.days = max(current.days, before + current.hold_days)
            break
        # The slowest configuration not below the ideal, and never a larger cut than the
        # method asks from the dose actually taken.
        target = max(ideal, next_ideal(now * quantum)) / quantum
        ceiling = max(1, int(target.to_integral_value(ROUND_CEILING)))
        chosen = bisect.bisect_right(negated, -ceiling, current.index, last_nonzero + 1) - 1
        chosen = min(max(chosen, current.index), last_nonzero)
        if chosen == current.index and current.index < last_nonzero:
            # The products cannot make a cut that small: cut to the next dose down once the
            # ideal has reached it, so that the average pace stays the method's.
            following = current.index + 1
            if totals[following] * quantum >= ideal:
                chosen = following
        if chosen == current.index:
            current.days += interval
            plan_days += interval
            current.stalled = True
            continue
        reductions += 1
        add(PathStep(index=chosen, days=interval))
    return raw


@_decimal_targets
def ideal_outlasts(
    next_ideal: Callable[[Decimal], Decimal],
    start_units: int,
    quantum_fraction: Fraction,
    stop_below: Decimal,
    interval: int,
    days: int,
) -> bool:
    """Whether every plan of :func:`choose_configurations` following this ideal from
    ``start_units`` quanta, with a stop below ``stop_below`` (> 0), lasts more than ``days``.

    A lower bound, whatever the path: the ideal does not depend on the doses chosen, the plan
    cannot stop before the ideal is below ``stop_below`` (or zero), and until then every
    interval adds at least ``interval`` days. False says only that the bound does not decide.
    """
    quantum = Decimal(quantum_fraction.numerator) / Decimal(quantum_fraction.denominator)
    ideal = start_units * quantum
    plan_days = interval
    while plan_days <= days:
        ideal = next_ideal(ideal)
        if ideal < stop_below or ideal <= 0:
            return False
        plan_days += interval
    return True


def taper_segments(
    request: TaperRequest,
    table: EquivalenceTable,
    drug: Drug,
    regimen: Mapping[str, Decimal],
    formulary: Formulary,
    ratio: tuple[Fraction, Fraction] | None,
    source: EquivalenceSource,
    today: dt.date | None,
) -> DirectTaper:
    """The taper of one drug from ``regimen`` (see :class:`DirectTaper`)."""
    slots = tuple(slot for slot in SLOTS if slot in regimen)
    start_config = tuple(regimen[slot] for slot in slots)
    total = sum(start_config, Decimal(0))
    if request.final_mg is not None and request.final_mg >= total:
        raise InvalidRequestError("the final dose must be below the current daily dose")
    request = request.varied(order=resolved_order(request.order, drug))
    step = dose_step(request, ratio, formulary)
    quantum = formulary.quantum
    resolved_pace = None
    if request.until is not None or request.duration_days is not None:
        request, resolved_pace, (path, totals) = _fit_pace(
            request, start_config, slots, formulary, step, ratio, source, drug, today, total
        )
    else:
        asked, _ = method_pace(request, ratio, source, drug, total)
        path, totals = dispensable_path(
            start_config, slots, formulary, request.order, step, ratio, asked
        )
    if request.method is Method.STEPS and not request.steps_mg:
        raise InvalidRequestError(
            "the steps method needs {steps} (e.g. '0.75mg,0.5mg')", parameters={"steps": None}
        )
    next_ideal, end = method_pace(request, ratio, source, drug, total)
    raw = choose_configurations(request, totals, quantum, next_ideal, request.interval_days, end)
    segments = []
    for item in raw:
        notes = []
        if item.stalled:
            notes.append("held: the products cannot make a smaller cut yet")
        if item.hold_days:
            notes.append(f"includes a hold of {item.hold_days} days")
        segments.append(
            Segment(
                config=path[item.index],
                days=item.days,
                phase=Phase.TAPER,
                hold_days=item.hold_days,
                stalled=item.stalled,
                notes=tuple(notes),
                next_possible=smallest_cut(path[item.index], formulary, step),
            )
        )
    return DirectTaper(
        segments, slots, request, resolved_pace, _start_cut(request, next_ideal, total)
    )


@dataclass(frozen=True)
class DirectTaper:
    """A direct taper: its segments (the first is the current regimen itself, lasting one
    interval), its dose times, the request as resolved (order and pace), the pace found for
    a target end (if one was asked for), and the cut the method itself asks for in the first
    2 weeks (None for explicit steps)."""

    segments: list[Segment]
    slots: tuple[str, ...]
    request: TaperRequest
    resolved_pace: str | None
    start_cut: Fraction | None


@_decimal_targets
def _start_cut(
    request: TaperRequest, next_ideal: Callable[[Decimal], Decimal] | None, total: Decimal
) -> Fraction | None:
    """The method's own cut over the first 2 weeks of cuts (the ideal, not the doses)."""
    if next_ideal is None:
        return None
    ideal = total
    for _ in range(max(1, WINDOW_DAYS // request.interval_days)):
        ideal = max(Decimal(0), next_ideal(ideal))
    return Fraction(total - ideal) / Fraction(total)


def method_pace(
    request: TaperRequest,
    ratio: tuple[Fraction, Fraction] | None,
    source: EquivalenceSource,
    drug: Drug,
    start: Decimal,
) -> tuple[Callable[[Decimal], Decimal] | None, TaperEnd]:
    """The method's next ideal daily dose from any dose (None for explicit steps), with the
    tail of the clinical end, and the end rule."""
    end = taper_end(request, ratio, start)
    if request.method is Method.STEPS:
        return None, end
    method_step = _ideal_function(request, ratio, source, drug)
    if request.method in {Method.PERCENT, Method.OCCUPANCY}:
        return with_tail(method_step, end), end
    return method_step, end


def _fit_pace(
    request: TaperRequest,
    start_config: tuple[Decimal, ...],
    slots: tuple[str, ...],
    formulary: Formulary,
    step: Fraction | None,
    ratio: tuple[Fraction, Fraction] | None,
    source: EquivalenceSource,
    drug: Drug,
    today: dt.date | None,
    start: Decimal,
) -> tuple[TaperRequest, str, ReductionPath]:
    """The slowest pace on the method's grid whose plan stops by the target end, described,
    with its reduction path (``start``: the daily dose the taper starts from).

    Every pace is planned as it would be if given alone (its own reduction path), from the
    slowest up, until one stops in time: the first found is the slowest, with no assumption
    that faster paces stop sooner (they need not: a faster rate can end later when the
    products' steps fall differently). A plan is abandoned as soon as it runs past the target.
    """
    if request.until is not None:
        first_day = request.start or today or dt.date.today()
        target = (request.until - first_day).days
    else:
        assert request.duration_days is not None
        target = request.duration_days
    if target < 1:
        raise InvalidRequestError("the target end must be after the start date")
    quantum = formulary.quantum

    # Memoised within this search: what does not depend on the pace is worked out once.
    @functools.cache
    def reduce(config: tuple[Decimal, ...], liquids: bool) -> ReductionPath:
        return reduction_path(
            config, slots, formulary, request.order, step, liquids=liquids, bottle=liquids
        )

    breaks_ceiling = functools.cache(ceiling_rule(formulary, ratio))
    coarse_above = functools.cache(functools.partial(coarse_threshold, Fraction(quantum)))
    paths: dict[tuple[Decimal, Decimal | None], ReductionPath] = {}
    units = Fraction(start) / quantum
    start_units = units.numerator if units.denominator == 1 else None

    def plan_days(candidate: TaperRequest) -> tuple[int, ReductionPath] | None:
        """The candidate's length and path, or None if it does not stop in time."""
        try:
            next_ideal, end = method_pace(candidate, ratio, source, drug, start)
            if (
                next_ideal is not None
                and start_units is not None
                and end.stop_below > 0
                and ideal_outlasts(
                    next_ideal,
                    start_units,
                    quantum,
                    end.stop_below,
                    candidate.interval_days,
                    target,
                )
            ):
                return None  # too slow whatever the products: no path needed
            # The path depends on the pace through the method's ideal, not the interval.
            key = (candidate.rate_percent, candidate.step_mg)
            if key not in paths:
                paths[key] = dispensable_path(
                    start_config,
                    slots,
                    formulary,
                    candidate.order,
                    step,
                    ratio,
                    next_ideal,
                    reduce,
                    breaks_ceiling,
                    coarse_above,
                )
            path, totals = paths[key]
            raw = choose_configurations(
                candidate, totals, quantum, next_ideal, candidate.interval_days, end, target
            )
        except (InvalidRequestError, PastTarget):
            return None
        days = sum(item.days for item in raw)
        return (days, (path, totals)) if days <= target else None

    # Candidate paces, from the slowest to the fastest (requests made only when tried).
    quantum_mg = _as_decimal(quantum)
    if request.method is Method.PERCENT:
        count, spacing = 99, "in steps of 0.5%"
    elif request.method is Method.LINEAR:
        count = int(Fraction(start) / quantum)
        spacing = f"in steps of {format_dose(quantum_mg)}"
    else:
        count, spacing = 56, "in whole days"

    def candidate(index: int) -> TaperRequest:
        n = index % count + 1
        if request.method is Method.PERCENT:
            return request.varied(rate_percent=Decimal(n) / 2)  # 0.5% to 49.5%
        if request.method is Method.LINEAR:
            return request.varied(step_mg=quantum_mg * n)
        return request.varied(interval_days=57 - n)  # every 56 days to every day

    tried = ((index, plan_days(candidate(index))) for index in range(count))
    index, found = next(((i, f) for i, f in tried if f is not None), (-1, None))
    if found is None:
        slowest, fastest = _describe_pace(candidate(0)), _describe_pace(candidate(-1))
        paces = slowest if slowest == fastest else f"{slowest} to {fastest}, {spacing}"
        within = "1 day" if target == 1 else f"{target} days"
        raise InvalidRequestError(
            f"no {request.method.value} plan from these products stops within {within} "
            f"(tried {paces})"
        )
    chosen = candidate(index)
    days, chosen_path = found
    pace = _describe_pace(chosen)
    early = target - days
    if early >= chosen.interval_days:
        why = (
            "the slowest pace tried" if index == 0 else f"no slower pace, {spacing}, stops in time"
        )
        pace += f" (it stops {early} days before the target: {why})"
    return chosen, pace, chosen_path


def _describe_pace(request: TaperRequest) -> str:
    if request.method is Method.PERCENT:
        return f"{format_number(request.rate_percent)}% every {request.interval_days} days"
    if request.method is Method.LINEAR:
        return f"{format_dose(request.step_mg or 0)} every {request.interval_days} days"
    return f"a step every {request.interval_days} days"
