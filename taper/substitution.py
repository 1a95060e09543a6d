"""Substitution tapers: cross over to another benzodiazepine, stabilise, then taper it.

A substitution plan has three phases, all in one day-by-day schedule:

1. **Crossover.** Day 1 is the current regimen, kept for one stage. Then, stage by stage,
   the current drug(s) are replaced by the new one:

   - ``slot`` (default): the whole dose at one time of day per stage, the night dose first,
     then evening, afternoon, midday and morning (the Ashton Manual's method: substitute one
     dose at a time, starting with the night dose, in stages of about a week);
   - ``partial``: a fixed part (``--part``, in mg of the current drug; by default half of the
     dose time's dose) of one dose time per stage, for regimens where a whole dose time is too
     big a jump;
   - ``direct``: everything on one day (the 2025 Joint Guideline suggests 1-2 weeks instead,
     and the plan says so).

   Each new dose is the diazepam equivalent of what it replaces, under the chosen source,
   converted to the new drug and rounded to the nearest dose its products can make (a tie
   goes to the lower dose). The diazepam equivalent of each day therefore stays the same
   through the crossover, within what the products allow.
2. **Stabilisation** on the new drug (``--stabilize``, 2 weeks by default, 0 allowed).
3. **Taper** of the new drug with any method and control of the scheduling engine.

The new drug's dose depends on the equivalence source (clonazepam 1 mg is diazepam 20 mg by
Ashton, 10 mg by VA/DoD 2021): every plan carries the conversion under every source that
covers the drugs, and warns when they spread 1.5-fold or more.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from taper.assemble import Segment, assemble_plan
from taper.convert import Conversion, convert_dose, format_fold
from taper.direct import taper_segments
from taper.errors import InvalidRequestError, NoEquivalenceError, UndispensableDoseError
from taper.formatting import format_dose, format_dose_range, format_number
from taper.notices import Kind, Notice
from taper.options import Crossover, TaperRequest
from taper.params import SLOTS
from taper.plan import Plan
from taper.products import Formulary
from taper.regimen import check_regimen, request_formulary
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ratio_to_diazepam

#: The order in which dose times are switched: the night dose first (Ashton).
CROSSOVER_ORDER = ("night", "evening", "afternoon", "midday", "morning")

Config = dict[tuple[str, str], Decimal]


def build_substitution(
    request: TaperRequest, table: EquivalenceTable, *, today: dt.date | None = None
) -> Plan:
    """Build a crossover, stabilisation and taper plan (see the module docstring)."""
    assert request.switch_to is not None
    target = table.drug(request.switch_to)
    source = table.source(request.source or table.default_source)
    current = [(table.drug(request.drug), request.regimen)]
    current += [(table.drug(name), regimen) for name, regimen in request.also]
    if not all(regimen for _, regimen in current):
        raise InvalidRequestError("give the current dose of every drug")
    drugs = tuple([drug for drug, _ in current if drug.name != target.name] + [target])
    formularies: dict[str, Formulary] = {}
    for drug, regimen in current:
        formularies[drug.name] = request_formulary(table, drug, request)
        check_regimen(drug, regimen, formularies[drug.name], request)
    formularies.setdefault(target.name, request_formulary(table, target, request))

    conversion = convert_dose(
        [(drug.name, sum(regimen.values(), Decimal(0))) for drug, regimen in current],
        target.name,
        source=source.id,
        table=table,
        allow_high_dose=True,
    )
    ratios = {drug.name: _point_ratio(table, drug, source, drugs) for drug in drugs}

    slots = tuple(slot for slot in SLOTS if any(slot in regimen for _, regimen in current))
    layout = tuple((drug.name, slot) for drug in drugs for slot in slots)
    start: Config = dict.fromkeys(layout, Decimal(0))
    for drug, regimen in current:
        for slot, dose in regimen.items():
            start[drug.name, slot] = dose

    stages = _crossover(request, start, slots, drugs, target, formularies, ratios)
    segments = [
        Segment(
            config=_aligned(start, layout),
            days=request.stage_days,
            phase="crossover",
            notes=("current regimen",),
        )
    ]
    segments += [
        Segment(
            config=_aligned(config, layout),
            days=request.stage_days,
            phase="crossover",
            notes=(note,),
        )
        for config, note in stages
    ]
    switched = stages[-1][0] if stages else start
    if request.stabilize_days:
        segments.append(
            Segment(
                config=_aligned(switched, layout),
                days=request.stabilize_days,
                phase="stabilization",
                notes=(f"stabilisation on {target.name}",),
            )
        )
    new_regimen = {
        slot: switched[target.name, slot] for slot in slots if switched[target.name, slot]
    }
    elapsed = sum(segment.days for segment in segments)
    taper_request = _taper_request(request, target, new_regimen, elapsed)
    taper, taper_slots, resolved, resolved_pace = taper_segments(
        taper_request,
        table,
        target,
        new_regimen,
        formularies[target.name],
        ratios[target.name],
        source,
        today,
    )
    for segment in taper[1:]:  # the first is the new regimen itself: the stages above cover it
        doses = dict.fromkeys(layout, Decimal(0))
        for slot, dose in zip(taper_slots, segment.config, strict=True):
            doses[target.name, slot] = dose
        segments.append(replace(segment, config=_aligned(doses, layout)))

    plan_request = replace(
        request,
        method=resolved.method,
        rate_percent=resolved.rate_percent,
        step_mg=resolved.step_mg,
        interval_days=resolved.interval_days,
    )
    warnings = _warnings(request, conversion, target, start, switched, ratios, drugs)
    return assemble_plan(
        request=plan_request,
        drugs=drugs,
        layout=layout,
        segments=segments,
        formularies=formularies,
        ratios=ratios,
        source=source,
        resolved_pace=resolved_pace,
        warnings=warnings,
        today=today,
        table=table,
        conversion=conversion,
    )


def _point_ratio(
    table: EquivalenceTable, drug: Drug, source: EquivalenceSource, drugs: Sequence[Drug]
) -> tuple[Fraction, Fraction]:
    """Diazepam mg per mg of ``drug``: a crossover needs one value, not a range."""
    ratio = ratio_to_diazepam(table, drug, source)
    if ratio is None:
        covering = [
            source_id
            for source_id in table.sources
            if all(ratio_to_diazepam(table, d, table.sources[source_id]) for d in drugs)
        ]
        raise NoEquivalenceError(drug.name, source.id, covering)
    if ratio[0] != ratio[1]:
        single = [
            source_id
            for source_id in table.sources
            if all(
                (r := ratio_to_diazepam(table, d, table.sources[source_id])) is not None
                and r[0] == r[1]
                for d in drugs
            )
        ]
        raise InvalidRequestError(
            f"source {source.id!r} gives a range for {drug.name}; a crossover needs one value: "
            f"choose --source {' or '.join(single) if single else 'another source'}"
        )
    return ratio


def _aligned(config: Config, layout: tuple[tuple[str, str], ...]) -> tuple[Decimal, ...]:
    return tuple(config[key] for key in layout)


def _nearest(formulary: Formulary, amount: Fraction, what: str) -> Decimal:
    """The dose nearest ``amount`` that the products can make (a tie goes to the lower)."""
    ladder = formulary.ladder(Decimal(int(amount * 2) + 1))
    position = bisect.bisect_left([Fraction(dose) for dose in ladder], amount)
    candidates = ladder[max(0, position - 1) : position + 1]
    chosen = min(candidates, key=lambda dose: (abs(Fraction(dose) - amount), dose))
    if chosen == 0:
        raise UndispensableDoseError(
            f"{what} converts to {format_dose(Fraction(amount))}, less than the smallest dose "
            f"the products can make ({formulary.describe()})"
        )
    return chosen


def _crossover(
    request: TaperRequest,
    start: Config,
    slots: tuple[str, ...],
    drugs: Sequence[Drug],
    target: Drug,
    formularies: Mapping[str, Formulary],
    ratios: Mapping[str, tuple[Fraction, Fraction]],
) -> list[tuple[Config, str]]:
    """The configurations of the crossover stages, each with a note saying what changed."""
    old = [drug.name for drug in drugs if drug.name != target.name]
    to_switch = [
        slot for slot in CROSSOVER_ORDER if slot in slots and any(start[name, slot] for name in old)
    ]
    target_ratio = ratios[target.name][0]

    def converted(load: Fraction, slot: str) -> Decimal:
        return _nearest(formularies[target.name], load / target_ratio, f"the {slot} dose")

    def load_at(config: Config, slot: str) -> Fraction:
        return sum((ratios[d.name][0] * Fraction(config[d.name, slot]) for d in drugs), Fraction(0))

    stages: list[tuple[Config, str]] = []
    config = dict(start)
    if request.crossover is Crossover.DIRECT:
        for slot in to_switch:
            config[target.name, slot] = converted(load_at(config, slot), slot)
            for name in old:
                config[name, slot] = Decimal(0)
        return [(config, f"all doses switched to {target.name} at once")]
    for slot in to_switch:
        if request.crossover is Crossover.SLOT:
            config = dict(config)
            config[target.name, slot] = converted(load_at(config, slot), slot)
            for name in old:
                config[name, slot] = Decimal(0)
            stages.append((config, f"{slot} dose switched to {target.name}"))
            continue
        # partial: a fixed part of this dose time per stage. What has moved so far is
        # converted in one go at each stage, so rounding never accumulates.
        base = ratios[target.name][0] * Fraction(start[target.name, slot])
        moved = Fraction(0)
        for name in old:
            dose = config[name, slot]
            if not dose:
                continue
            part = request.part_mg or _default_part(formularies[name], dose)
            if part > dose:
                raise InvalidRequestError(
                    f"the crossover part {format_dose(part)} is larger than the {slot} dose of "
                    f"{name} it replaces ({format_dose(dose)})"
                )
            while config[name, slot] > 0:
                config = dict(config)
                step = min(part, config[name, slot])
                remaining = config[name, slot] - step
                if not formularies[name].can_make(remaining):
                    raise UndispensableDoseError(
                        f"after moving {format_dose(step)} of the {slot} {name} dose, "
                        f"{format_dose(remaining)} is left, which the products cannot make; "
                        "choose another --part"
                    )
                config[name, slot] = remaining
                moved += ratios[name][0] * Fraction(step)
                config[target.name, slot] = converted(base + moved, slot)
                stages.append((config, f"{format_dose(step)} of the {slot} {name} dose switched"))
    return stages


def _default_part(formulary: Formulary, dose: Decimal) -> Decimal:
    """Half the dose, rounded down to what the products can make (at least one step)."""
    ladder = formulary.ladder(dose)
    half = [step for step in ladder if 0 < step <= dose / 2]
    return half[-1] if half else dose


def _taper_request(
    request: TaperRequest, target: Drug, regimen: Mapping[str, Decimal], elapsed: int
) -> TaperRequest:
    """The request for the taper phase: the new drug, starting after the crossover."""
    taper = replace(request, drug=target.name, regimen=regimen, switch_to=None, also=())
    if request.until is not None and request.start is not None:
        taper = replace(taper, start=request.start + dt.timedelta(days=elapsed))
    if request.duration_days is not None:
        if request.duration_days <= elapsed:
            raise InvalidRequestError(
                f"the crossover and stabilisation alone take {elapsed} days, longer than the "
                "duration asked for"
            )
        taper = replace(taper, duration_days=request.duration_days - elapsed)
    return taper


def _warnings(
    request: TaperRequest,
    conversion: Conversion,
    target: Drug,
    start: Config,
    switched: Config,
    ratios: Mapping[str, tuple[Fraction, Fraction]],
    drugs: Sequence[Drug],
) -> list[Notice]:
    warnings: list[Notice] = []
    spread = conversion.spread
    if spread is not None and spread.is_wide:
        warnings.append(
            Notice(
                Kind.SOURCE_SPREAD,
                f"the {target.name} dose depends on the equivalence source: "
                f"{format_dose_range(spread.low_mg, spread.high_mg)} a day across "
                f"{spread.source_count} sources ({format_fold(spread.fold)}); this plan uses "
                f"{conversion.chosen.source.id} ({conversion.chosen.text()})",
            )
        )
    if request.crossover is Crossover.DIRECT:
        warnings.append(
            Notice(
                Kind.SWITCH_AT_ONCE,
                "everything is switched on one day; the 2025 Joint Clinical Practice Guideline on "
                "Benzodiazepine Tapering suggests moving to another benzodiazepine over 1-2 weeks",
            )
        )
    before = sum((ratios[d][0] * Fraction(v) for (d, _), v in start.items()), Fraction(0))
    after = sum((ratios[d][0] * Fraction(v) for (d, _), v in switched.items()), Fraction(0))
    if before != after:
        change = (after - before) / before * 100
        rounded = Decimal(change.numerator) / Decimal(change.denominator)
        warnings.append(
            Notice(
                Kind.SWITCH_ROUNDING,
                f"rounding to the {target.name} products changes the diazepam equivalent from "
                f"{format_dose(before)} to {format_dose(after)} a day at the crossover "
                f"({'+' if change > 0 else '-'}"
                f"{format_number(abs(rounded).quantize(Decimal('0.1')))}%)",
            )
        )
    new_total = sum((v for (d, _), v in switched.items() if d == target.name), Decimal(0))
    if target.max_daily and new_total > target.max_daily.mg:
        warnings.append(
            Notice(
                Kind.ABOVE_MAXIMUM,
                f"{target.name} {format_dose(new_total)} a day is above its usual maximum of "
                f"{format_dose(target.max_daily.mg)} ({target.max_daily.note})",
            )
        )
    return warnings
