"""Assembling a plan: from segments (stretches of days at one configuration) to a
:class:`~taper.plan.Plan`, with each step's cut and flags, the guideline checks, the
warnings and the quantities to dispense.

Both the direct taper (:mod:`taper.direct`) and the substitution (:mod:`taper.substitution`)
produce segments; this module turns them into the plan.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from taper.convert import Conversion
from taper.dispensing import (
    SMALL_VOLUME_ADVICE,
    DosePreparer,
    quantities,
    small_volumes,
    supply_periods,
    units_used,
)
from taper.errors import InvalidRequestError, UndispensableDoseError
from taper.formatting import (
    consecutive_runs,
    dose_argument,
    format_dose,
    format_number,
    format_percent_range,
)
from taper.guardrails import assess
from taper.guideline import (
    JOINT_GUIDELINE,
    LAST_BAND_STEP_DIAZEPAM_MG,
    LONG_PLAN_DAYS,
    START_FRACTION,
    WINDOW_DAYS,
    CutVerdict,
    clinical_end_mg,
    judge_cut,
    over_ceiling,
    percent,
    smallest_dose_mg,
)
from taper.notices import Kind, Notice
from taper.options import End, Method, TaperRequest
from taper.params import SLOTS
from taper.plan import Checks, DoseTime, Phase, Plan, Step, diazepam_of
from taper.presets import LABEL_LAST_DOSE_MG
from taper.products import MEASURABLE_CONCENTRATE_ML, Formulary, Preparation
from taper.rational import Fraction
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ratio_to_diazepam


@dataclass
class Segment:
    """A stretch of days at one configuration (doses aligned with the plan's layout)."""

    config: tuple[Decimal, ...]
    days: int
    phase: Phase
    hold_days: int = 0
    stalled: bool = False
    notes: tuple[str, ...] = ()
    #: The configuration one step down the reduction path from this one: the smallest cut
    #: the products allow from here (None where there is no path, e.g. a crossover).
    next_possible: tuple[Decimal, ...] | None = None


def assemble_plan(
    *,
    request: TaperRequest,
    drugs: tuple[Drug, ...],
    layout: tuple[tuple[str, str], ...],
    segments: Sequence[Segment],
    formularies: Mapping[str, Formulary],
    ratios: Mapping[str, tuple[Fraction, Fraction] | None],
    source: EquivalenceSource,
    resolved_pace: str | None,
    warnings: Sequence[Notice],
    today: dt.date | None,
    table: EquivalenceTable,
    method_start_cut: Fraction | None = None,
    conversion: Conversion | None = None,
    crossover_ceiling: str | None = None,
) -> Plan:
    """Turn segments into a plan: steps with their cuts and flags, checks, warnings and the
    quantities to dispense. The last drug of ``drugs`` is the one tapered.

    ``method_start_cut`` is the cut the method itself asks for in the first 2 weeks of the
    taper (None for explicit steps); the start-pace warning is about the method, not about
    rounding to the products.
    """
    drug = drugs[-1]
    start_date = request.start or today or dt.date.today()
    diazepam = all(ratio is not None for ratio in ratios.values())
    steps, loads = build_steps(segments, layout, formularies, ratios, diazepam)
    last_day = max(step.end_day for step in steps)
    if last_day > (dt.date.max - start_date).days + 1:
        raise InvalidRequestError(
            f"a plan starting {start_date.isoformat()} would run past the last date the "
            f"calendar can write ({dt.date.max.isoformat()}); choose an earlier {{start}}",
            parameters={"start": None},
        )
    checks = plan_checks(steps, loads, formularies[drug.name], start_date)
    start_load = diazepam_of(steps[0].doses, ratios)
    current = steps[0].totals_by_drug()
    risk = assess(
        request.factors,
        start_load,
        current,
        cautious=request.cautious,
        highest=highest_diazepam(table, current),
    )
    # The stop alone over the ceiling (not the 2 weeks before it): the final dose is the cause.
    stop_alone = over_ceiling(loads[-1], Fraction(0), diazepam)
    volumes = _small_volume_warnings(steps)
    pace = _pace_warnings(
        steps, checks, request, method_start_cut, resolved_pace, stop_alone, crossover_ceiling
    )
    ends = _end_warnings(steps, request, drug, formularies[drug.name], ratios[drug.name])
    products = tuple(product for d in drugs for product in formularies[d.name].products)
    runs = [(step.start_day, step.end_day, step.doses) for step in steps if step.phase != "stop"]
    supply = supply_periods(runs, request.supply_days, products) if request.supply_days else ()
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
        warnings=(
            *[w for w in warnings if w.kind is Kind.DOSE_TIME_ADDED],
            *pace_notices(request),
            *risk.warnings,
            *[w for w in warnings if w.kind is not Kind.DOSE_TIME_ADDED],
            *pace,
            *ends,
            *volumes,
        ),
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


def pace_notices(request: TaperRequest) -> list[Notice]:
    """The named pace and its source, and each option given that overrides it."""
    if request.pace is None:
        return []
    notices = [Notice(Kind.PACE, f"pace {request.pace}: {request.pace_source}")]
    if request.pace_overrides:
        notices.append(
            Notice(
                Kind.PACE,
                f"options given override pace {request.pace}: " + ", ".join(request.pace_overrides),
            )
        )
    return notices


def highest_diazepam(
    table: EquivalenceTable, doses: Mapping[str, Decimal]
) -> tuple[Fraction, str] | None:
    """The highest diazepam equivalent of some daily doses under any source that covers
    them all (the low end of a source's range), with that source's id (None if no source
    covers them)."""
    best: tuple[Fraction, str] | None = None
    for source in table.sources.values():
        total = Fraction(0)
        for name, mg in doses.items():
            ratio = ratio_to_diazepam(table, table.drug(name), source)
            if ratio is None:
                break
            total += ratio[0] * Fraction(mg)
        else:
            if best is None or total > best[0]:
                best = (total, source.id)
    return best


def build_steps(
    segments: Sequence[Segment],
    layout: tuple[tuple[str, str], ...],
    formularies: Mapping[str, Formulary],
    ratios: Mapping[str, tuple[Fraction, Fraction] | None],
    diazepam: bool,
) -> tuple[list[Step], list[Fraction]]:
    """The plan's steps, and each step's *load*: its diazepam equivalent under the source
    (for a single drug without one, its mg), on which cuts and guideline checks are measured.

    A step whose 2 weeks cut more than the guideline allows (see
    :func:`taper.guideline.over_ceiling`) is flagged: *forced* when even the smallest cut the
    products allow from the dose before would be over (the products are the cause), *over
    the ceiling* otherwise (the pace is the cause). ``diazepam`` says the loads are diazepam
    equivalents.
    """
    steps: list[Step] = []
    loads: list[Fraction] = []
    starts: list[int] = []
    made: dict[tuple[str, str, Decimal, Preparation], DoseTime] = {}
    scale = {drug: (Fraction(1) if ratio is None else ratio[0]) for drug, ratio in ratios.items()}

    preparer = DosePreparer(formularies)

    def dose_times(config: tuple[Decimal, ...], taper: bool = True) -> tuple[DoseTime, ...]:
        result = []
        for (drug, slot), dose in zip(layout, config, strict=True):
            # Every dose goes through the preparer, in day order: it follows each dose
            # time's bottle (see DosePreparer).
            preparation = preparer.prepare(drug, dose, taper=taper, slot=slot)
            if preparation is None:
                raise UndispensableDoseError(
                    f"{drug} {format_dose(dose)} ({slot}) cannot be made from "
                    f"{formularies[drug].describe()}"
                )
            key = (drug, slot, dose, preparation)
            if key not in made:
                made[key] = DoseTime(drug, slot, dose, preparation)
            result.append(made[key])
        return tuple(result)

    def load_of(config: tuple[Decimal, ...]) -> Fraction:
        return sum(
            (scale[drug] * Fraction(dose) for (drug, _), dose in zip(layout, config, strict=True)),
            Fraction(0),
        )

    def flags(index: int, day: int, load: Fraction) -> tuple[bool, bool]:
        """(forced, over the ceiling) for a step starting on ``day`` at ``load``."""
        window_start = loads[bisect.bisect_right(starts, max(1, day - WINDOW_DAYS)) - 1]
        possible = segments[index - 1].next_possible
        verdict = judge_cut(
            window_start,
            loads[-1],
            load,
            None if possible is None else load_of(possible),
            diazepam,
        )
        return verdict is CutVerdict.FORCED, verdict is CutVerdict.BREACH

    day = 1
    for number, segment in enumerate([*segments, None], start=1):
        config = segment.config if segment else tuple(Decimal(0) for _ in layout)
        load = load_of(config)
        cut = None
        forced = exceeds = False
        if steps:
            cut = percent((loads[-1] - load) / loads[-1]) if loads[-1] else None
            forced, exceeds = flags(number - 1, day, load)
        notes = segment.notes if segment else (_stop_note(steps[-1]),)
        starts.append(day)
        loads.append(load)
        steps.append(
            Step(
                number=number,
                start_day=day,
                days=segment.days if segment else 1,
                doses=dose_times(config, segment is None or segment.phase == "taper"),
                total_mg=sum(config, Decimal(0)),
                cut_percent=cut,
                phase=segment.phase if segment else Phase.STOP,
                hold_days=segment.hold_days if segment else 0,
                forced=forced,
                exceeds_ceiling=exceeds,
                notes=notes,
            )
        )
        day += steps[-1].days
    loads.pop()  # the stop's load (zero) is not a load taken
    return steps, loads


def _small_volume_warnings(steps: Sequence[Step]) -> list[Notice]:
    """A dose measured from a concentrate in less than a measurable 0.5 mL, said so."""
    small = small_volumes((step.number, dose) for step in steps for dose in step.doses)
    return [
        Notice(
            Kind.SMALL_VOLUME,
            f"doses of the {product.label()} under {format_dose(MEASURABLE_CONCENTRATE_ML, 'mL')}"
            f" (as little as {format_dose(least, 'mL')}) at step(s) "
            f"{_step_list(numbers)}: {SMALL_VOLUME_ADVICE}",
        )
        for product, (least, numbers) in small.items()
    ]


def _step_list(numbers: Sequence[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in consecutive_runs(numbers))


def _stop_note(last: Step) -> str:
    stopped_from = " and ".join(
        f"{format_dose(total)} of {drug}" for drug, total in last.totals_by_drug().items()
    )
    return f"stop (from {stopped_from} a day)"


def plan_checks(
    steps: Sequence[Step], loads: Sequence[Fraction], formulary: Formulary, start_date: dt.date
) -> Checks:
    """The plan's measures: duration, cuts, the largest cut over any 14 days and the first.

    Doses never go up in the taper, so the largest cut over any 14 days is found in a window
    that ends on the first day of a step: only those windows are measured. The first 14 days
    of a direct taper are its days 1 to 15; after a crossover, those from the day before the
    taper's first cut.
    """
    starts = [step.start_day for step in steps[:-1]]

    def load_on(day: int) -> Fraction:
        return loads[bisect.bisect_right(starts, max(1, day)) - 1]

    def cut_between(first: int, last: int) -> Fraction:
        return (load_on(first) - load_on(last)) / load_on(first)

    windows = [
        (
            cut_between(step.start_day - WINDOW_DAYS, step.start_day),
            max(1, step.start_day - WINDOW_DAYS),
        )
        for step in steps[1:-1]
        if step.phase == "taper"
    ]
    largest, largest_start = max(
        windows, key=lambda window: (window[0], -window[1]), default=(Fraction(0), 1)
    )
    first_taper = next((s for s in steps if s.phase == "taper"), None)
    first = Fraction(0)
    if first_taper is not None:
        # A direct taper starts on day 1; after a crossover, on the last day before its cut.
        taper_start = first_taper.start_day - (first_taper.cut_percent is not None)
        first = cut_between(taper_start, min(taper_start + WINDOW_DAYS, starts[-1]))
    stop_step = steps[-1]
    stop_from = steps[-2].total_mg
    return Checks(
        duration_days=stop_step.start_day - 1,
        reductions=sum(
            1 for step in steps if step.phase in {"taper", "stop"} and step.cut_percent is not None
        ),
        end_date=start_date + dt.timedelta(days=stop_step.start_day - 1),
        largest_14_day_reduction_percent=percent(largest),
        largest_14_day_window_start=largest_start,
        first_14_day_reduction_percent=percent(first),
        stop_from_mg=stop_from,
        smallest_dose_mg=smallest_dose_mg(formulary, stop_from),
    )


#: The cause named by a ceiling warning when the method's own pace goes over the ceiling;
#: :func:`taper.engine.make_plan` follows it with a remedy checked on the plan.
METHOD_PACE_CAUSE = "the cause is the method's pace: "


def _pace_warnings(
    steps: Sequence[Step],
    checks: Checks,
    request: TaperRequest,
    method_start_cut: Fraction | None,
    resolved_pace: str | None,
    stop_alone: bool = False,
    crossover_ceiling: str | None = None,
) -> list[Notice]:
    """Warnings about the pace: each only where it is true, naming its cause
    (``crossover_ceiling``: the cause of the crossover's own breaches, a switch reduction)."""
    warnings = []
    over = [step for step in steps if step.exceeds_ceiling]
    if crossover_ceiling is not None:
        crossing = [step for step in over if step.phase in {"crossover", "stabilization"}]
        if crossing:
            numbers = ", ".join(str(step.number) for step in crossing)
            warnings.append(
                Notice(
                    Kind.CEILING,
                    f"step(s) {numbers} cut more in 2 weeks than the ceiling of 25% every 2 "
                    f"weeks ({JOINT_GUIDELINE}); the cause is {crossover_ceiling}",
                )
            )
        over = [step for step in over if step not in crossing]
    slower = "a slower pace (--rate, --every)" + ("" if request.cautious else " or --cautious")
    final = request.final_mg is not None and stop_alone
    stops = [step for step in over if step.phase == "stop" and final]
    tapering = [
        step for step in over if step.phase == "taper" or (step.phase == "stop" and not final)
    ]
    others = [step for step in over if step.phase not in {"taper", "stop"}]
    for group, method_cause in ((stops, None), (tapering, True), (others, False)):
        if not group:
            continue
        numbers = ", ".join(str(step.number) for step in group)
        if method_cause is None:
            cause = (
                f"the final dose asked for (--final {dose_argument(request.final_mg or 0)}): "
                "a lower --final, or none (the clinical end), avoids it"
            )
        elif resolved_pace:
            cause = f"the pace found for the target end ({resolved_pace}): consider a later target"
        elif method_cause:
            cause = "the method's pace: a slower pace avoids it"
        else:
            cause = f"the chosen pace or order of dose times: {slower} or another --order avoids it"
        warnings.append(
            Notice(
                Kind.TARGET_PACE if resolved_pace else Kind.CEILING,
                f"step(s) {numbers} cut more in 2 weeks than the ceiling of 25% every 2 weeks "
                f"({JOINT_GUIDELINE}; below 8 mg diazepam equivalent, CKS's 2 mg); the cause "
                f"is {cause}",
            )
        )
    if method_start_cut is not None and method_start_cut > START_FRACTION:
        asked = format_number(percent(method_start_cut))
        made = format_number(checks.first_14_day_reduction_percent)
        # The plan's own figure too where the products' doses make it another (a helper's
        # review: diazepam 5 mg at 1.9 mg a week said 76%, the plan's table cut 40%).
        plan_cut = "" if made == asked else f"; the plan, on the products' doses, cuts {made}%"
        warnings.append(
            Notice(
                Kind.START_PACE,
                f"the method starts faster than 10% per 2 weeks ({asked}% in the first 2 "
                f"weeks{plan_cut}); the {JOINT_GUIDELINE} suggests starting at 5-10% every "
                "2-4 weeks",
            )
        )
    if checks.duration_days > LONG_PLAN_DAYS:
        warnings.append(
            Notice(
                Kind.LONG_PLAN,
                f"the plan runs {checks.duration_days} days, more than two years: check that "
                "this pace is what the patient needs"
                + (" (--end micro makes long plans)" if request.end is End.MICRO else ""),
            )
        )
    return warnings


def _end_warnings(
    steps: Sequence[Step],
    request: TaperRequest,
    drug: Drug,
    formulary: Formulary,
    ratio: tuple[Fraction, Fraction] | None,
) -> list[Notice]:
    """Cuts the products force (with the ways out), and a stop from a needlessly high dose."""
    warnings = []
    # The clonazepam label pace stops from its own last dose (0.125 mg twice daily): that
    # stop is the label's, not forced by the products nor asked for.
    label_end = (
        request.pace == "label"
        and request.final_mg == LABEL_LAST_DOSE_MG
        and not any(given.startswith("final=") for given in request.pace_overrides)
    )
    forced = [step for step in steps if step.forced and not (label_end and step.phase == "stop")]
    if forced:
        numbers = ", ".join(str(step.number) for step in forced)
        warnings.append(
            Notice(
                Kind.FORCED_CUT,
                f"the products force cuts over the guideline's ceiling at step(s) {numbers}: "
                f"no smaller cut of {drug.name} can be made at these dose times (the products' "
                f"finest step is {format_dose(formulary.quantum)}). Ways out: "
                + _remedies(drug, formulary, request),
            )
        )
    warnings += _slow_end_warnings(steps, request, drug, ratio)
    stop_from = steps[-2].total_mg
    clinical_end = clinical_end_mg(formulary, stop_from, None if ratio is None else ratio[0])
    if stop_from > clinical_end and label_end:
        warnings.append(
            Notice(
                Kind.STOP_DOSE,
                f"the plan stops from {format_dose(stop_from)} of {drug.name} a day, the label "
                "pace's last dose (the US label decreases by 0.125 mg twice daily every 3 days, "
                "so its last dose is 0.125 mg twice daily), more than the clinical end of "
                f"{format_dose(clinical_end)} a day"
                + ("" if ratio is None else " (about 1 mg diazepam equivalent, NICE CKS)")
                + f": a final dose of {format_dose(clinical_end)} (--final "
                f"{dose_argument(clinical_end)}) adds that step",
            )
        )
    elif stop_from > clinical_end:
        asked = " (the final dose asked for)" if request.final_mg is not None else ""
        warnings.append(
            Notice(
                Kind.STOP_DOSE,
                f"the plan stops from {format_dose(stop_from)} of {drug.name} a day{asked}, "
                f"more than its clinical end of {format_dose(clinical_end)} a day"
                + ("" if ratio is None else " (about 1 mg diazepam equivalent, NICE CKS)"),
            )
        )
    return warnings


def _slow_end_warnings(
    steps: Sequence[Step],
    request: TaperRequest,
    drug: Drug,
    ratio: tuple[Fraction, Fraction] | None,
) -> list[Notice]:
    """Where a slower rate near the end (``slow_below``/``slow_rate``, e.g. the
    deprescribing pace's 12.5%) gives way to the clinical end's fixed steps: which rule
    wins, why, and how to have the other."""
    slow_below, slow_rate = request.slow_below_mg, request.slow_rate_percent
    if (
        request.method is not Method.PERCENT
        or slow_below is None
        or slow_rate is None
        or request.end is not End.CLINICAL
        or ratio is None
    ):
        return []
    larger = [
        after.cut_percent
        for before, after in itertools.pairwise(steps)
        if after.phase == Phase.TAPER
        and before.total_mg <= slow_below
        and after.cut_percent is not None
        and after.cut_percent > slow_rate
    ]
    if not larger:
        return []
    per_mg = Decimal(ratio[0].numerator) / Decimal(ratio[0].denominator)
    return [
        Notice(
            Kind.PACE,
            f"below {format_dose(slow_below)} of {drug.name} a day the plan cuts "
            f"{format_percent_range(min(larger), max(larger))} a step, not the "
            f"{format_number(slow_rate)}% near the end "
            + (f"that the {request.pace} pace sets" if request.pace else "asked for")
            + ": the clinical end's fixed steps win there (NICE CKS: from 5 mg diazepam "
            "equivalent, 0.5-1 mg every 1-2 weeks until stopped; here at most "
            f"{format_dose(LAST_BAND_STEP_DIAZEPAM_MG / per_mg)} of {drug.name} a step), so "
            "that the plan stops in weeks rather than ever smaller doses; --end micro "
            f"follows the {format_number(slow_rate)}% rule to the end instead, spacing out "
            "the products' smallest steps (a longer plan)",
        )
    ]


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _remedies(drug: Drug, formulary: Formulary, request: TaperRequest) -> str:
    """The ways to smaller steps: finishing on diazepam (Ashton), products of the plan's
    region that make smaller steps, a liquid compounded by a pharmacy."""
    ways = []
    factors = request.factors
    accumulates = (factors.age is not None and factors.age >= 65) or factors.liver_impairment
    if drug.name != "diazepam" and request.finish_on is None and not accumulates:
        ways.append(
            f"finish on diazepam (--finish-on diazepam: taper {drug.name} while its products "
            "keep the pace, then cross over; Ashton Manual)"
        )
    finer = sorted(
        {
            product.label()
            for product in drug.products_in(request.region)
            if product not in formulary.products and product.smallest_piece_mg < formulary.quantum
        }
    )
    if finer and not request.products:
        ways.append("products that make smaller steps: " + ", ".join(finer[:3]))
    ways.append("an oral liquid compounded by a pharmacy (give it with --product)")
    return "; ".join(ways)
