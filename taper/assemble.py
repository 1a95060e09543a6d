"""Assembling a plan: from segments (stretches of days at one configuration) to a
:class:`~taper.plan.Plan`, with each step's cut and flags, the guideline checks, the
warnings and the quantities to dispense.

Both the direct taper (:mod:`taper.direct`) and the substitution (:mod:`taper.substitution`)
produce segments; this module turns them into the plan.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from taper.convert import Conversion
from taper.dispensing import quantities, supply_periods, units_used
from taper.formatting import format_dose, format_number
from taper.guardrails import assess
from taper.guideline import (
    CEILING_FRACTION,
    FORCED_FACTOR,
    JOINT_GUIDELINE,
    START_FRACTION,
    WINDOW_DAYS,
    percent,
    smallest_stop_mg,
)
from taper.notices import Kind, Notice
from taper.options import TaperRequest
from taper.params import SLOTS
from taper.plan import Checks, DoseTime, Plan, Step, diazepam_of
from taper.products import Formulary
from taper.table import Drug, EquivalenceSource, EquivalenceTable


@dataclass
class Segment:
    """A stretch of days at one configuration (doses aligned with the plan's layout)."""

    config: tuple[Decimal, ...]
    days: int
    phase: str
    hold_days: int = 0
    intended_cut: Fraction | None = None
    stalled: bool = False
    notes: tuple[str, ...] = ()


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
    conversion: Conversion | None = None,
) -> Plan:
    """Turn segments into a plan: steps with their cuts and flags, checks, warnings and the
    quantities to dispense. The last drug of ``drugs`` is the one tapered."""
    drug = drugs[-1]
    start_date = request.start or today or dt.date.today()
    steps, loads = build_steps(segments, layout, formularies, ratios)
    checks, check_warnings = plan_checks(steps, loads, formularies[drug.name], drug, start_date)
    start_load = diazepam_of(steps[0].doses, ratios)
    risk = assess(request.factors, start_load)
    all_warnings = [*risk.warnings, *warnings, *check_warnings]
    if resolved_pace is not None and checks.largest_14_day_reduction_percent > percent(
        CEILING_FRACTION
    ):
        all_warnings.insert(
            0,
            Notice(
                Kind.TARGET_PACE,
                f"to stop by the target the plan needs {resolved_pace}, which breaks the guideline "
                "ceiling of 25% every 2 weeks: consider a later target or a higher final dose",
            ),
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


def build_steps(
    segments: Sequence[Segment],
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
            cut = percent(actual)
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


def plan_checks(
    steps: Sequence[Step],
    loads: Sequence[Fraction],
    formulary: Formulary,
    drug: Drug,
    start_date: dt.date,
) -> tuple[Checks, list[Notice]]:
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
    first_cut = next((s for s in steps if s.phase == "taper" and s.cut_percent is not None), None)
    first = Fraction(0)
    if first_cut is not None:
        taper_start = first_cut.start_day - 1
        first = cut_between(taper_start, min(taper_start + WINDOW_DAYS, starts[-1]))
    stop_step = steps[-1]
    stop_from = steps[-2].total_mg
    smallest = smallest_stop_mg(formulary, stop_from)
    checks = Checks(
        duration_days=stop_step.start_day - 1,
        reductions=sum(
            1 for step in steps if step.phase in {"taper", "stop"} and step.cut_percent is not None
        ),
        end_date=start_date + dt.timedelta(days=stop_step.start_day - 1),
        largest_14_day_reduction_percent=percent(largest),
        largest_14_day_window_start=largest_start,
        first_14_day_reduction_percent=percent(first),
        stop_from_mg=stop_from,
        smallest_dose_mg=smallest,
    )
    warnings = []
    guideline = JOINT_GUIDELINE
    if largest > CEILING_FRACTION:
        warnings.append(
            Notice(
                Kind.CEILING,
                f"the plan cuts {format_number(percent(largest))}% in 2 weeks (from day "
                f"{largest_start}), above the ceiling of 25% every 2 weeks ({guideline})",
            )
        )
    if first > START_FRACTION:
        warnings.append(
            Notice(
                Kind.START_PACE,
                f"the plan starts faster than 10% per 2 weeks ({format_number(percent(first))}% in "
                f"the first 2 weeks); the {guideline} suggests starting at 5-10% every 2-4 weeks",
            )
        )
    forced = [step for step in steps if step.forced]
    if forced:
        finer = _finer_products(drug, formulary)
        numbers = ", ".join(str(step.number) for step in forced)
        warnings.append(
            Notice(
                Kind.FORCED_CUT,
                f"the products force larger cuts than the chosen pace at step(s) {numbers}; "
                f"{finer} would allow smaller steps",
            )
        )
    if stop_from > smallest:
        warnings.append(
            Notice(
                Kind.STOP_DOSE,
                f"the plan stops from {format_dose(stop_from)} a day, although the products allow "
                f"stopping from {format_dose(smallest)}",
            )
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
