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
   converted to the new drug and made as near as its products allow (a tie goes to the lower
   dose) without the day's new doses adding up to more than the equivalent of what has
   moved. The diazepam equivalent of each day therefore stays the same through the
   crossover, within what the products allow, and never goes above where it started.
2. **Stabilisation** on the new drug (``--stabilize``, 2 weeks by default, 0 allowed).
3. **Taper** of the new drug with any method and control of the scheduling engine.

The new drug's dose depends on the equivalence source (clonazepam 1 mg is diazepam 20 mg by
Ashton, 10 mg by VA/DoD 2021): every plan carries the conversion under every source that
covers the drugs, and warns when they spread 1.5-fold or more.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_CEILING, Decimal

from taper.assemble import Segment, assemble_plan
from taper.convert import Conversion, convert_dose
from taper.direct import taper_segments
from taper.errors import (
    HighDoseError,
    InvalidRequestError,
    NoEquivalenceError,
    TaperError,
    UndispensableDoseError,
)
from taper.formatting import dose_argument, format_dose, format_dose_range, format_number
from taper.guardrails import dose_band
from taper.guideline import JOINT_GUIDELINE, WINDOW_DAYS, over_ceiling, percent
from taper.notices import Kind, Notice
from taper.options import CAUTIOUS_HOLD, Crossover, Method, TaperRequest
from taper.params import SLOTS, TIMES, parse_hold
from taper.plan import Phase, Plan
from taper.presets import DEPRESCRIBING_NEAR_END, LABEL_LAST_DOSE_MG, ashton_diazepam_steps
from taper.products import Formulary
from taper.rational import Fraction
from taper.regimen import (
    SPLIT_PREFERENCE,
    check_regimen,
    request_formulary,
    split_daily_dose,
)
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ratio_to_diazepam

#: The order in which dose times are switched: the night dose first, then the morning, then
#: midday (the Ashton Manual's schedules, as the issue that asked for them reads them; the
#: clinical reference, section 4: "usually starting with the night dose").
CROSSOVER_ORDER = ("night", "evening", "morning", "afternoon", "midday")
#: The Ashton crossover moves a dose time in halves from this much diazepam equivalent
#: (clinical reference section 9: "often half a dose time per stage (e.g. clonazepam
#: 0.25 mg -> diazepam 5 mg)", which halves clonazepam 0.5 mg, diazepam 10 mg by Ashton).
HALVES_FROM_DIAZEPAM_MG = Fraction(10)
#: Above this daily diazepam equivalent the Ashton crossover also cuts the old drug as it
#: is replaced (issue 19 and clinical reference section 9: "at high starting doses the old
#: drug is also cut during the crossover"; about 5-10 mg diazepam equivalent every 1-2
#: weeks): at most CROSSOVER_CUT_MG a stage, at most half of what the stage moves, and
#: never below this dose.
CUT_ABOVE_DIAZEPAM_MG = Fraction(40)
CROSSOVER_CUT_MG = Fraction(10)
#: The largest single diazepam dose the Ashton Manual's schedules write (clinical reference
#: section 9: "single diazepam doses of 15-25 mg appear in the schedules"); not a stated
#: maximum, so a larger one is said, and the dose times are kept.
LARGEST_WRITTEN_DIAZEPAM_MG = Decimal(25)
#: No switch reaches more than this diazepam equivalent a day unless allowed, whatever the
#: drug switched to: diazepam's usual maximum (40 mg a day; clinical reference section 6),
#: where Australian guidance puts specialist care.
EXPOSURE_CEILING_DIAZEPAM_MG = Fraction(40)

Config = dict[tuple[str, str], Decimal]
#: Drugs without active metabolites, which may suit older people and liver impairment
#: better than diazepam or chlordiazepoxide (UK Specialist Pharmacy Service).
ALTERNATIVES = ("oxazepam", "lorazepam")


def build_substitution(
    request: TaperRequest,
    table: EquivalenceTable,
    *,
    today: dt.date | None = None,
    lead_in: Sequence[Segment] = (),
    recorded: TaperRequest | None = None,
) -> Plan:
    """Build a crossover, stabilisation and taper plan (see the module docstring).

    ``lead_in``: segments of a direct taper of the current drug (its own dose times) that
    come first; the crossover then starts from the request's regimen without a stage of it.
    ``recorded``: the request to record as the plan's parameters (by default ``request``).
    """
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
        if not lead_in:
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
    crossing = _Crossing(request, current, drugs, target, formularies, ratios)
    crossing.check_limits(table, source)
    stages = crossing.stages()
    stage_days = crossing.stage_days()
    layout = crossing.layout
    segments = [_aligned_segment(segment, crossing.lead_slots, layout) for segment in lead_in]
    if not lead_in:
        segments.append(
            Segment(
                config=_aligned(crossing.start, layout),
                days=stage_days,
                phase=Phase.CROSSOVER,
                notes=("current regimen",),
            )
        )
    segments += [
        Segment(
            config=_aligned(config, layout),
            days=stage_days,
            phase=Phase.CROSSOVER,
            notes=(note,),
        )
        for config, note in stages
    ]
    switched = stages[-1][0] if stages else crossing.start
    if request.stabilize_days:
        segments.append(
            Segment(
                config=_aligned(switched, layout),
                days=request.stabilize_days,
                phase=Phase.STABILIZATION,
                notes=(f"stabilization on {target.name}",),
            )
        )
    new_regimen = {
        slot: switched[target.name, slot] for slot in crossing.slots if switched[target.name, slot]
    }
    elapsed = sum(segment.days for segment in segments)
    taper = taper_segments(
        _taper_request(request, target, new_regimen, elapsed),
        table,
        target,
        new_regimen,
        formularies[target.name],
        ratios[target.name],
        source,
        today,
    )
    for segment in taper.segments[1:]:  # the first is the new regimen: the stages cover it
        segments.append(_aligned_segment(segment, taper.slots, layout, target.name))
    resolved = taper.request
    plan_request = replace(
        recorded or request,
        stage_days=stage_days,
        method=resolved.method,
        rate_percent=resolved.rate_percent,
        step_mg=resolved.step_mg,
        interval_days=resolved.interval_days,
        # A plan that finishes on another drug records the order as given: the lead-in
        # resolved it for its own drug, and only "auto" rebuilds both.
        order=resolved.order if recorded is None else recorded.order,
    )
    warnings = _warnings(request, conversion, target, crossing, switched, resolved)
    return assemble_plan(
        request=plan_request,
        drugs=drugs,
        layout=layout,
        segments=segments,
        formularies=formularies,
        ratios=ratios,
        source=source,
        resolved_pace=taper.resolved_pace,
        warnings=warnings,
        today=today,
        table=table,
        method_start_cut=taper.start_cut,
        conversion=conversion,
        crossover_ceiling=crossing.ceiling_cause(stage_days),
    )


def _aligned_segment(
    segment: Segment,
    slots: tuple[str, ...],
    layout: tuple[tuple[str, str], ...],
    drug: str | None = None,
) -> Segment:
    """A segment of one drug's own dose times, laid out over the plan's (drug, dose time)."""
    name = drug if drug is not None else layout[0][0]

    def aligned(config: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        doses = dict.fromkeys(layout, Decimal(0))
        for slot, dose in zip(slots, config, strict=True):
            doses[name, slot] = dose
        return _aligned(doses, layout)

    possible = segment.next_possible
    return replace(
        segment,
        config=aligned(segment.config),
        next_possible=None if possible is None else aligned(possible),
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
            f"choose another {{source}}{' (' + ' or '.join(single) + ')' if single else ''}",
            parameters={"source": None},
        )
    return ratio


def _aligned(config: Config, layout: tuple[tuple[str, str], ...]) -> tuple[Decimal, ...]:
    return tuple(config[key] for key in layout)


def _at_most(formulary: Formulary, amount: Fraction) -> Decimal:
    """The largest dose the products make that is not above ``amount``, from tablets or
    capsules; a liquid only where they make no dose at all (no diazepam 4.8 mg as 12 mL of
    solution where tablets make 4 mg: what the products lose is said in the plan's
    warnings). Zero where nothing up to ``amount`` is made."""
    for liquids in (False, True):
        ladder = formulary.ladder(Decimal(int(amount) + 1), liquids=liquids)
        position = bisect.bisect_right([Fraction(dose) for dose in ladder], amount)
        if position > 1:  # the ladder starts at zero
            return ladder[position - 1]
    return Decimal(0)


class _Crossing:
    """The crossover: which dose times the plan uses, and its stages.

    Each new dose is the diazepam equivalent of what has moved so far at its dose time,
    converted under the source (less any reduction and the Ashton cuts) and made as near as
    the products allow without the day's new doses adding up to more than the equivalent of
    what has moved (see :meth:`new_dose`).
    """

    def __init__(
        self,
        request: TaperRequest,
        current: Sequence[tuple[Drug, Mapping[str, Decimal]]],
        drugs: Sequence[Drug],
        target: Drug,
        formularies: Mapping[str, Formulary],
        ratios: Mapping[str, tuple[Fraction, Fraction]],
    ) -> None:
        self.request = request
        self._arguments = (current, drugs, target, formularies, ratios)
        self.target = target
        self.old = [drug.name for drug in drugs if drug.name != target.name]
        self.formularies = formularies
        self.per_mg = {name: ratio[0] for name, ratio in ratios.items()}
        self.keep = 1 - Fraction(request.switch_reduction_percent) / 100
        #: The new drug's usual maximum in the plan's region (None: none recorded).
        self.limit = target.maximum(request.region)
        self.base = {
            slot: self.per_mg[target.name] * Fraction(regimen[slot])
            for drug, regimen in current
            if drug.name == target.name
            for slot in regimen
        }
        self.lead_slots = tuple(slot for slot in SLOTS if slot in current[0][1])
        given = {slot for _, regimen in current for slot in regimen}
        self.given = given
        self.spread = self._spread_slots(current, given)
        self.slots = tuple(slot for slot in SLOTS if slot in given | set(self.spread))
        self.layout = tuple((drug.name, slot) for drug in drugs for slot in self.slots)
        self._stages: list[tuple[Config, str]] | None = None
        #: The diazepam equivalent a day cut during the crossover (Ashton, high doses).
        self.cut = Fraction(0)
        #: The diazepam equivalent a day the switch aims at: the full equivalent, less any
        #: switch reduction (asked for, or for the patient); the Ashton crossover's cuts go
        #: on from there, never below CUT_ABOVE_DIAZEPAM_MG.
        own = sum(self.base.values(), Fraction(0))
        self.reduced = own + self.keep * (
            sum(
                (self.per_mg[d.name] * Fraction(v) for d, r in current for v in r.values()),
                Fraction(0),
            )
            - own
        )
        self.start: Config = dict.fromkeys(self.layout, Decimal(0))
        for drug, regimen in current:
            for slot, dose in regimen.items():
                self.start[drug.name, slot] = dose

    def _spread_slots(
        self, current: Sequence[tuple[Drug, Mapping[str, Decimal]]], given: set[str]
    ) -> tuple[str, ...]:
        """The dose times the new drug needs so that no single dose is above the largest
        the label gives (none beyond the current ones if it fits)."""
        limit = self.limit.single_mg if self.limit else None
        if limit is None:
            return ()
        load = sum(
            (self.per_mg[d.name] * Fraction(v) for d, r in current for v in r.values()),
            Fraction(0),
        )
        total = load * self.keep / self.per_mg[self.target.name]
        needed = math.ceil(total / Fraction(limit))
        if needed <= len(given):
            return ()
        if needed > 4:
            return TIMES[4]
        return TIMES[needed]

    def load(self, config: Config, slot: str | None = None) -> Fraction:
        return sum(
            (
                self.per_mg[name] * Fraction(dose)
                for (name, at), dose in config.items()
                if slot is None or at == slot
            ),
            Fraction(0),
        )

    def reached(self) -> Fraction:
        """The new drug a day (mg) the switch reaches: the full equivalent less any
        reduction, and for the Ashton crossover, less its cuts."""
        if self.request.crossover is Crossover.ASHTON:  # what the cuts reach
            return self.load(self.stages()[-1][0]) / self.per_mg[self.target.name]
        return self.load(self.start) * self.keep / self.per_mg[self.target.name]

    def fits(self) -> bool:
        """Whether the switch stays within its ceiling and the label's largest single
        doses (four dose times at most), as :meth:`check_limits` requires."""
        total = self.reached()
        single = self.limit.single_mg if self.limit else None
        return total <= self.ceiling()[0] and (single is None or total <= 4 * Fraction(single))

    def check_limits(self, table: EquivalenceTable, source: EquivalenceSource) -> None:
        """Refuse a switch above the new drug's usual maximum a day, unless allowed."""
        target, maximum = self.target, self.limit
        if self.request.allow_high_dose:
            return
        total = self.reached()
        ceiling, note = self.ceiling()
        if total <= ceiling:
            single = maximum.single_mg if maximum else None
            if single is not None and total > 4 * Fraction(single):
                smaller = self._reduction_way() or "a lower start ({switch_reduction})"
                raise InvalidRequestError(
                    f"{target.name} {format_dose(_decimal(total))} a day cannot be given in four "
                    f"doses or fewer within the label's largest single dose of "
                    f"{format_dose(single)}; give {smaller} or another "
                    "{source}, or pass {allow_high_dose} to go ahead deliberately",
                    parameters={"switch_reduction": None, "source": None, "allow_high_dose": True},
                )
            return
        diazepam = self.load(self.start)
        lower = [
            source_id
            for source_id, other in table.sources.items()
            if source_id != source.id and _converts_below(table, other, self, ceiling)
        ]
        ways = [
            f"a source whose equivalents give less ({', '.join(lower)})" if lower else "",
            self._ashton_way(ceiling),
            self._reduction_way(),
            "switching part of the dose and tapering the rest first",
            "specialist advice above 40 mg diazepam equivalent a day, and inpatient withdrawal "
            "above 50 mg (Australian guidance)",
            "{allow_high_dose} to go ahead deliberately",
        ]
        raise HighDoseError(
            target.name,
            format_dose(_decimal(total)),
            format_dose(_decimal(ceiling)),
            note,
            advice=f"the switch converts {format_dose(_decimal(diazepam))} diazepam equivalent "
            "a day. Ways forward: " + "; ".join(way for way in ways if way),
            limit="the usual maximum"
            if maximum is not None and Fraction(maximum.mg) == ceiling
            else "the ceiling of a switch",
            parameters={"pace": "ashton", "crossover": "ashton"},
        )

    def ceiling(self) -> tuple[Fraction, str]:
        """The most of the new drug a switch may reach a day (mg), and why: its usual
        maximum in the region, and never more than 40 mg diazepam equivalent under the
        plan's source, whatever the drug (the guardrail depends on the exposure, not on the
        drug picked: diazepam's maximum, 40 mg a day)."""
        exposure = EXPOSURE_CEILING_DIAZEPAM_MG / self.per_mg[self.target.name]
        if self.limit is not None and Fraction(self.limit.mg) <= exposure:
            return Fraction(self.limit.mg), self.limit.note
        return exposure, (
            f"{format_dose(_decimal(EXPOSURE_CEILING_DIAZEPAM_MG))} diazepam equivalent a day "
            "under the plan's source, the ceiling of every switch: diazepam's usual maximum "
            "(Pharmacist's Letter: 'Max total daily dose: 40 mg'), above which Australian "
            "guidance advises specialist care"
        )

    def loads(self) -> list[Fraction]:
        """The day's diazepam equivalent at the start and after each stage."""
        return [self.load(self.start)] + [self.load(config) for config, _ in self.stages()]

    def breaches(self, stage_days: int) -> bool:
        """Whether, with stages of ``stage_days``, some 2 weeks of the crossover cut more
        than the ceiling (a 14-day window takes in ``ceil(14 / stage_days)`` stages)."""
        loads = self.loads()
        reach = math.ceil(WINDOW_DAYS / stage_days)
        return any(
            over_ceiling(loads[i], loads[j], True)
            for i in range(len(loads))
            for j in range(i + 1, min(len(loads), i + reach + 1))
        )

    def stage_days(self) -> int:
        """The length of a stage: as asked, else 7 days, or 14 where a switch reduction
        would cut more than the ceiling within 2 weeks of 7-day stages (and not of 14)."""
        if self.request.stage_days is not None:
            return self.request.stage_days
        if self.keep != 1 and self.breaches(7) and not self.breaches(WINDOW_DAYS):
            return WINDOW_DAYS
        return 7

    def ceiling_cause(self, stage_days: int) -> str | None:
        """Where the switch reduction, taken within the crossover, cuts more than the
        ceiling: the cause in words, with a remedy that removes it (None: it does not)."""
        percent_asked = self.request.switch_reduction_percent
        if self.keep == 1 or not self.breaches(stage_days):
            return None
        cause = (
            f"the switch reduction ({format_number(percent_asked)}%) taken within crossover "
            f"stages of {stage_days} days"
        )
        if stage_days < WINDOW_DAYS and not self.breaches(WINDOW_DAYS):
            return f"{cause}: stages of 2 weeks (--stage 2w) keep it within the ceiling"
        for smaller in range(int(percent_asked) - 5, 0, -5):
            trial = _Crossing(
                replace(self.request, switch_reduction_percent=Decimal(smaller)),
                *self._arguments,
            )
            try:
                fits = not trial.breaches(stage_days)
            except TaperError:
                continue
            if fits:
                return (
                    f"{cause}: a reduction of {smaller}% (--switch-reduction {smaller}%) "
                    "keeps it within the ceiling"
                )
        return f"{cause}: no smaller reduction keeps it within the ceiling at these stages"

    def _reduction_way(self) -> str:
        """A lower start as a way forward: the smallest whole-percent switch reduction that
        clears this refusal, found by planning the crossover with it ("" if none up to 90%
        does)."""
        asked = int(self.request.switch_reduction_percent)
        start = self.load(self.start)
        ceiling = self.ceiling()[0] * self.per_mg[self.target.name]
        # The reduction that brings the full equivalent to the ceiling: none smaller clears
        # a crossover without cuts; the Ashton crossover's cuts may clear a smaller one.
        least = (
            0 if self.request.crossover is Crossover.ASHTON else int(100 * (1 - ceiling / start))
        )
        for reduction in range(max(asked + 1, least, 1), 91):
            trial = _Crossing(
                replace(self.request, switch_reduction_percent=Decimal(reduction)),
                *self._arguments,
            )
            try:
                if not trial.fits():
                    continue
            except TaperError:
                continue
            advice = (
                ""
                if reduction <= 50
                else ", more than the 25-50% converters advise: a clinical judgement"
            )
            return (
                "a start lower than the full equivalent ({switch_reduction} of at least "
                f"{reduction}%{advice})"
            )
        return ""

    def _ashton_way(self, maximum: Fraction) -> str:
        """The Ashton crossover as a way forward, where its cuts reach the maximum."""
        if self.request.crossover is Crossover.ASHTON:
            return ""
        trial = _Crossing(replace(self.request, crossover=Crossover.ASHTON), *self._arguments)
        try:
            reached = trial.load(trial.stages()[-1][0]) / self.per_mg[self.target.name]
        except TaperError:
            return ""
        if reached > maximum:
            return ""
        return (
            f"the Ashton Manual's crossover, which cuts the old drug as it is replaced "
            f"({{pace}} or {{crossover}}: {self.target.name} "
            f"{format_dose(_decimal(reached))} a day)"
        )

    def new_dose(self, config: Config, slot: str, moved: Mapping[str, Fraction]) -> Decimal:
        """The new drug's dose at ``slot`` (``config`` has none there yet): the largest the
        products make that keeps the new drug's doses of the day within the equivalent of
        what has moved (diazepam mg, less any reduction and cut): what it had at the start and
        what has moved there, plus what the other dose times lost to the products' steps, so
        that losses to rounding are made up where the products allow instead of adding up."""
        per_mg = self.per_mg[self.target.name]
        ideal = {at: self.base.get(at, Fraction(0)) + moved[at] * self.keep for at in self.slots}
        others = sum(
            (per_mg * Fraction(config[self.target.name, at]) for at in self.slots if at != slot),
            Fraction(0),
        )
        room = (sum(ideal.values(), Fraction(0)) - others) / per_mg
        dose = _at_most(self.formularies[self.target.name], room)
        if dose == 0:
            raise UndispensableDoseError(
                f"the {slot} dose converts to {format_dose(_decimal(room))} of "
                f"{self.target.name}, less than the smallest dose the products can make "
                f"({self.formularies[self.target.name].describe()})"
                + (
                    "; choose a larger {part}"
                    if self.request.crossover is Crossover.PARTIAL
                    else ""
                ),
                parameters={"part": None},
            )
        return dose

    def stages(self) -> list[tuple[Config, str]]:
        """The configurations of the crossover stages, each with a note saying what changed
        (worked out once)."""
        if self._stages is None:
            self._stages = self._make_stages()
        return self._stages

    def _make_stages(self) -> list[tuple[Config, str]]:
        request, target = self.request, self.target
        to_switch = [
            slot
            for slot in CROSSOVER_ORDER
            if slot in self.slots and any(self.start[name, slot] for name in self.old)
        ]
        mode = request.crossover
        if mode is Crossover.SLOT and len(to_switch) == 1:
            mode = Crossover.PARTIAL  # one dose time is never moved in one step
        config = dict(self.start)
        moved = dict.fromkeys(self.slots, Fraction(0))
        stages: list[tuple[Config, str]] = []

        def move(
            slot: str, amounts: Mapping[str, Decimal], cut_above: Fraction | None = None
        ) -> None:
            """Move ``amounts`` of the old drugs at ``slot`` to the new drug; above
            ``cut_above`` (diazepam mg a day) the new dose is less by the Ashton cut."""
            nonlocal config
            # Where the crossover ends before this stage's cut: the reduced target less the
            # cuts so far (and no more than the day holds now).
            reaches = min(self.load(config), self.reduced - self.cut)
            config = dict(config)
            now = Fraction(0)
            for name, amount in amounts.items():
                config[name, slot] -= amount
                now += self.per_mg[name] * Fraction(amount)
            moved[slot] += now
            if cut_above is not None and reaches > cut_above:
                cut = min(CROSSOVER_CUT_MG, reaches - cut_above, now * self.keep / 2)
                moved[slot] -= cut / self.keep
                self.cut += cut
            config[target.name, slot] = Decimal(0)
            config[target.name, slot] = self.new_dose(config, slot, moved)

        if mode is Crossover.DIRECT:
            for slot in to_switch:
                move(slot, {name: config[name, slot] for name in self.old})
            stages.append((config, f"all doses switched to {target.name} at once"))
        elif mode is Crossover.ASHTON:
            for slot in to_switch:
                for name in self.old:
                    dose = config[name, slot]
                    if not dose:
                        continue
                    halves = self.per_mg[name] * Fraction(dose) >= HALVES_FROM_DIAZEPAM_MG
                    part = self._default_part(name, dose) if halves else dose
                    while config[name, slot] > 0:
                        step = min(part, config[name, slot])
                        move(slot, {name: step}, CUT_ABOVE_DIAZEPAM_MG)
                        what = "the" if step == dose else f"{format_dose(step)} of the"
                        stages.append((config, f"{what} {slot} {name} dose switched"))
        elif mode is Crossover.SLOT:
            for slot in to_switch:
                move(slot, {name: config[name, slot] for name in self.old})
                stages.append((config, f"{slot} dose switched to {target.name}"))
        else:
            for slot in to_switch:
                for name in self.old:
                    dose = config[name, slot]
                    if not dose:
                        continue
                    part = request.part_mg or self._default_part(name, dose)
                    if part > dose:
                        raise InvalidRequestError(
                            f"the crossover part {format_dose(part)} is larger than the {slot} "
                            f"dose of {name} it replaces ({format_dose(dose)})"
                        )
                    while config[name, slot] > 0:
                        step = min(part, config[name, slot])
                        remaining = config[name, slot] - step
                        if not self.formularies[name].can_make(remaining):
                            raise UndispensableDoseError(
                                f"after moving {format_dose(step)} of the {slot} {name} dose, "
                                f"{format_dose(remaining)} is left, which the products cannot "
                                "make; choose another {part}",
                                parameters={"part": dose_argument(part)},
                            )
                        move(slot, {name: step})
                        stages.append(
                            (config, f"{format_dose(step)} of the {slot} {name} dose switched")
                        )
        return [(self._night_largest(self._spread(stage)), note) for stage, note in stages]

    def _night_largest(self, config: Config) -> Config:
        """The stage with the new drug's night dose at least as large as any daytime dose
        that has finished switching (the Ashton Manual and NHS Scotland reduce daytime doses
        before the night dose; lorazepam's label gives the largest dose at bedtime): the
        largest such daytime dose and the night dose change places, the day's total kept."""
        name = self.target.name
        night = "night" if "night" in self.slots else self.slots[-1]

        def switched(slot: str) -> bool:
            return not any(config[old, slot] for old in self.old)

        daytime = [slot for slot in self.slots if slot != night and switched(slot)]
        if not switched(night) or not daytime:
            return config
        largest = max(daytime, key=lambda slot: config[name, slot])
        if config[name, largest] <= config[name, night]:
            return config
        swapped = dict(config)
        swapped[name, night], swapped[name, largest] = config[name, largest], config[name, night]
        return swapped

    def _spread(self, config: Config) -> Config:
        """The new drug's doses of a stage, divided over as many dose times as it takes so
        that no single dose is above the label's largest (see :meth:`_spread_slots`)."""
        limit = self.limit.single_mg if self.limit else None
        name = self.target.name
        if limit is None or all(config[name, slot] <= limit for slot in self.slots):
            return config
        total = sum((config[name, slot] for slot in self.slots), Decimal(0))
        order = sorted(self.slots, key=SPLIT_PREFERENCE.index)
        for count in range(max(1, math.ceil(total / limit)), len(order) + 1):
            times = TIMES[count] if count in TIMES and set(TIMES[count]) <= set(order) else None
            split = split_daily_dose(
                total,
                times or tuple(s for s in SLOTS if s in order[:count]),
                self.formularies[name],
            )
            if all(dose <= limit for dose in split.values()):
                spread = dict(config)
                for slot in self.slots:
                    spread[name, slot] = split.get(slot, Decimal(0))
                return spread
        raise InvalidRequestError(
            f"{name} {format_dose(total)} a day cannot be divided over the day within the "
            f"label's largest single dose of {format_dose(limit)}"
        )

    def _default_part(self, name: str, dose: Decimal) -> Decimal:
        """About half the dose: the largest the products make up to half whose equivalent the
        new drug's products make exactly (so no rounding is carried), else the largest.

        A crossover dose is never under a clinically meaningful amount: where tablets or
        capsules make the dose, the part and what it leaves are made from them too (no
        clonazepam 0.02 mg as 0.2 mL of solution), and where they can make no such half,
        the dose time moves whole."""
        formulary = self.formularies[name]
        if formulary.is_solid(dose):
            solid = formulary.ladder(dose, liquids=False)
            halves = [
                step for step in solid if 0 < step <= dose / 2 and formulary.is_solid(dose - step)
            ] or [dose]
        else:
            ladder = formulary.ladder(dose)
            halves = [step for step in ladder if 0 < step <= dose / 2] or [dose]
        target = self.formularies[self.target.name]
        ratio = self.per_mg[name] * self.keep / self.per_mg[self.target.name]
        exact = [step for step in halves if target.can_make(Fraction(step) * ratio)]
        return (exact or halves)[-1]


def _converts_below(
    table: EquivalenceTable, source: EquivalenceSource, crossing: _Crossing, ceiling: Fraction
) -> bool:
    """Whether ``source`` converts the current regimen to no more than ``ceiling`` (mg of the
    target a day under the plan's source; rescaled to ``source`` through diazepam)."""
    target = crossing.target
    total = Fraction(0)
    for (name, _), dose in crossing.start.items():
        if not dose:
            continue
        ratio = ratio_to_diazepam(table, table.drug(name), source)
        if ratio is None:
            return False
        total += ratio[1] * Fraction(dose)
    own = ratio_to_diazepam(table, target, source)
    if own is None:
        return False
    # The ceiling in diazepam under the plan's source, then in the target under ``source``.
    diazepam_ceiling = ceiling * crossing.per_mg[target.name]
    if crossing.limit is not None:
        diazepam_ceiling = min(
            Fraction(crossing.limit.mg) * own[0],
            EXPOSURE_CEILING_DIAZEPAM_MG,
        )
    return total * crossing.keep <= diazepam_ceiling


def _decimal(value: Fraction) -> Decimal:
    """A fraction of a mg as a Decimal at the 0.001 mg resolution of doses (rounded up)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.001"), rounding=ROUND_CEILING
    )


def paced(request: TaperRequest, drug: str, regimen: Mapping[str, Decimal]) -> TaperRequest:
    """The taper request with what a named pace fixes from the dose tapered: the Ashton
    Manual's diazepam steps (unless a method or rate is given), deprescribing.org's 12.5%
    steps from a quarter of the start (unless given)."""
    given = {override.split("=", 1)[0] for override in request.pace_overrides}
    total = sum(regimen.values(), Decimal(0))
    if request.pace == "ashton" and drug == "diazepam" and not given & {"method", "rate"}:
        steps = ashton_diazepam_steps(regimen)
        if steps:
            return replace(request, method=Method.STEPS, steps_mg=steps)
    if request.pace == "label" and request.final_mg is None and total > LABEL_LAST_DOSE_MG:
        # The label's last decrement: 0.125 mg twice daily to none (the clinical end would
        # add a step of 0.125 mg once a day).
        return replace(request, final_mg=LABEL_LAST_DOSE_MG)
    if request.pace == "deprescribing" and request.slow_below_mg is None:
        return replace(request, slow_below_mg=total * DEPRESCRIBING_NEAR_END)
    return request


def _taper_request(
    request: TaperRequest, target: Drug, regimen: Mapping[str, Decimal], elapsed: int
) -> TaperRequest:
    """The request for the taper phase: the new drug, starting after the crossover."""
    taper = replace(request, drug=target.name, regimen=regimen, switch_to=None, also=())
    taper = paced(taper, target.name, regimen)
    if request.until is not None and request.start is not None:
        taper = replace(taper, start=request.start + dt.timedelta(days=elapsed))
    if request.duration_days is not None:
        if request.duration_days <= elapsed:
            raise InvalidRequestError(
                f"the crossover and stabilization alone take {elapsed} days, longer than the "
                "duration asked for"
            )
        taper = replace(taper, duration_days=request.duration_days - elapsed)
    return taper


def _warnings(
    request: TaperRequest,
    conversion: Conversion,
    target: Drug,
    crossing: _Crossing,
    switched: Config,
    resolved: TaperRequest,
) -> list[Notice]:
    """The switch's warnings; ``resolved``: the request its taper phase was planned with."""
    warnings: list[Notice] = []
    older = request.factors.age is not None and request.factors.age >= 65
    for_patient = " and ".join(
        what
        for what, given in (
            (f"age {request.factors.age}", older),
            ("liver impairment", request.factors.liver_impairment),
        )
        if given
    )
    added = [slot for slot in crossing.slots if slot not in crossing.given]
    if added and crossing.limit is not None and crossing.limit.single_mg is not None:
        warnings.append(
            Notice(
                Kind.DOSE_TIME_ADDED,
                f"dose time(s) added ({', '.join(added)}): {target.name} at the patient's "
                f"{len(crossing.given)} dose time(s) would be above its largest single dose "
                f"of {format_dose(crossing.limit.single_mg)} ({crossing.limit.note})",
            )
        )
    if target.name == "diazepam":
        large = {
            slot: dose
            for (name, slot), dose in switched.items()
            if name == target.name and dose > LARGEST_WRITTEN_DIAZEPAM_MG
        }
        if large:
            at = ", ".join(f"{format_dose(dose)} {slot}" for slot, dose in large.items())
            warnings.append(
                Notice(
                    Kind.LARGE_SINGLE_DOSE,
                    f"diazepam {at} at one time: the Ashton Manual's schedules write single "
                    f"doses of at most {format_dose(LARGEST_WRITTEN_DIAZEPAM_MG)}; no label "
                    "states a largest single dose, so the patient's dose times are kept: give "
                    "more dose times (--times, or doses per dose time) to divide it",
                )
            )
    spread = conversion.spread
    if spread is not None and spread.is_wide:
        warnings.append(
            Notice(
                Kind.SOURCE_SPREAD,
                f"the {target.name} dose depends on the equivalence source: "
                f"{format_dose_range(spread.low_mg, spread.high_mg)} a day across "
                f"{spread.source_count} sources with a value ({spread.agreement()}); this "
                "plan uses "
                f"{conversion.chosen.source.id} ({conversion.chosen.text()})",
            )
        )
    before, after = crossing.load(crossing.start), crossing.load(switched)
    largest = _largest_stage(crossing)
    if request.crossover is Crossover.DIRECT or largest > before / 2:
        warnings.append(
            Notice(
                Kind.SWITCH_AT_ONCE,
                f"one stage of the crossover moves {format_number(percent(largest / before))}% "
                f"of the daily dose; the {JOINT_GUIDELINE} suggests moving to another "
                "benzodiazepine over 1-2 weeks (smaller stages: --crossover partial)",
            )
        )
    adjusted = request.adjusted_for_patient
    if request.switch_reduction_percent:
        why = (
            f"for the patient ({for_patient}: converters advise 25-50% lower in older people; "
            "give a switch reduction, 0% for the full equivalent, to change it)"
            if any(item.startswith("switch_reduction") for item in adjusted)
            else "as asked"
        )
        # Why the stages are 2 weeks long where 1 week is the default (a fresh user's
        # review: the length changed with the reduction, unexplained). Said of the plan as
        # it is, whether or not the length was given, so that a plan rebuilt from its record
        # says the same.
        longer = crossing.stage_days() == WINDOW_DAYS and crossing.breaches(7)
        warnings.append(
            Notice(
                Kind.SWITCH_REDUCTION,
                f"the {target.name} dose starts {format_number(request.switch_reduction_percent)}"
                f"% below the full equivalent, {why} (incomplete cross-tolerance): diazepam "
                f"equivalent {format_dose(_decimal(crossing.reduced))} a day instead of "
                f"{format_dose(_decimal(crossing.load(crossing.start)))}"
                + (
                    f"; stages of {WINDOW_DAYS} days, as stages of 7 days would cut more than "
                    "the ceiling within 2 weeks"
                    if longer
                    else ""
                ),
            )
        )
    if crossing.cut:
        start = (
            "the full equivalent"
            if crossing.keep == 1
            else f"the equivalent less the {format_number(request.switch_reduction_percent)}% "
            "reduction"
        )
        warnings.append(
            Notice(
                Kind.CROSSOVER_CUT,
                f"the crossover also cuts {format_dose(_decimal(crossing.cut))} diazepam "
                f"equivalent a day as the old drug is replaced, from "
                f"{format_dose(_decimal(crossing.reduced))} a day ({start}) to "
                f"{format_dose(_decimal(crossing.reduced - crossing.cut))} before rounding to "
                f"the products: at most {format_dose(_decimal(CROSSOVER_CUT_MG))} a stage and "
                "half of what a stage moves, never below "
                f"{format_dose(_decimal(CUT_ABOVE_DIAZEPAM_MG))} (the Ashton Manual's method "
                "above about 40 mg)",
            )
        )
    loads = crossing.loads()
    for stage, (earlier, load) in enumerate(itertools.pairwise(loads), start=1):
        if load > earlier:
            warnings.append(
                Notice(
                    Kind.CROSSOVER_RISE,
                    f"the diazepam equivalent goes up at stage {stage} of {len(loads) - 1} of "
                    f"the crossover, from {format_dose(_decimal(earlier))} to "
                    f"{format_dose(_decimal(load))} a day "
                    f"(+{format_number(percent((load - earlier) / earlier))}%): "
                    f"the stage makes up what rounding to the {target.name} products lost at "
                    "an earlier one, and the day's equivalent never goes above the "
                    f"{format_dose(_decimal(before))} a day the switch starts from",
                )
            )
    full = crossing.reduced - crossing.cut
    if full != after and full > 0:
        change = (after - full) / full * 100
        rounded = Decimal(change.numerator) / Decimal(change.denominator)
        aimed = (
            ""
            if full == before
            else " (the full equivalent less the "
            + " and ".join(
                what
                for what, given in (
                    (
                        "switch reduction"
                        + (
                            " for the patient"
                            if any(a.startswith("switch_reduction") for a in adjusted)
                            else " asked"
                        ),
                        crossing.keep != 1,
                    ),
                    ("crossover's cuts", bool(crossing.cut)),
                )
                if given
            )
            + ")"
        )
        warnings.append(
            Notice(
                Kind.SWITCH_ROUNDING,
                f"the {target.name} products make no dose at the exact equivalent: the nearest "
                "they make without going above it changes the diazepam equivalent from "
                f"{format_dose(_decimal(full))}{aimed} to {format_dose(_decimal(after))} "
                f"a day at the crossover ({'+' if change > 0 else '-'}"
                f"{format_number(abs(rounded).quantize(Decimal('0.1')))}%)",
            )
        )
    new_total = sum((v for (d, _), v in switched.items() if d == target.name), Decimal(0))
    maximum = crossing.limit
    if maximum and new_total > maximum.mg:
        warnings.append(
            Notice(
                Kind.ABOVE_MAXIMUM,
                f"{target.name} {format_dose(new_total)} a day is above its usual maximum of "
                f"{format_dose(maximum.mg)} ({maximum.note}), as allowed",
            )
        )
    switched_band = dose_band({target.name: new_total}, (after, after))[0]
    current = {
        name: sum((dose for (drug, _), dose in crossing.start.items() if drug == name), Decimal(0))
        for name in crossing.old
    }
    current_band = dose_band(current, (before, before))[0]
    order = ["low", "moderate", "high"]
    if (
        switched_band in order
        and current_band in order
        and order.index(switched_band) > order.index(current_band)
    ):
        warnings.append(
            Notice(
                Kind.HIGH_DOSE,
                f"after the switch, {target.name} {format_dose(new_total)} a day is in the "
                f"{switched_band} dose band of the {JOINT_GUIDELINE}, although the current dose "
                f"is {current_band}: {conversion.chosen.source.id} converts to more than the "
                "guideline's own examples imply; review the source and the switched dose",
            )
        )
    factors = request.factors
    older = factors.age is not None and factors.age >= 65
    if target.metabolite_half_life_hours and (older or factors.liver_impairment):
        who = " and ".join(
            what
            for what, given in (
                ("older people", older),
                ("liver impairment", factors.liver_impairment),
            )
            if given
        )
        others = " or ".join(name for name in ALTERNATIVES if name not in crossing.old)
        changes = []
        if any(item.startswith("switch_reduction") for item in adjusted):
            changes.append(
                f"starts {format_number(request.switch_reduction_percent)}% below the full "
                "equivalent (converters advise 25-50% lower in older people)"
            )
        if any(item.startswith("cautious") for item in adjusted):
            interval = format_number(Decimal(resolved.interval_days))
            if resolved.method is Method.PERCENT:
                changes.append(
                    f"tapers at {format_number(resolved.rate_percent)}% of the current dose "
                    f"every {interval} days (the cautious pace: the slow end of the Joint "
                    "Guideline's 5-10%, unless a rate is given)"
                )
            if parse_hold(CAUTIOUS_HOLD) in resolved.holds:
                changes.append("holds each dose 2 weeks longer after every third cut")
        changed = (
            "; so this switch "
            + " and ".join(changes)
            + " (a switch reduction, rate or holds given replace these)"
            if changes
            else ""
        )
        warnings.append(
            Notice(
                Kind.ACCUMULATION,
                f"{target.name} has long-lived active metabolites and can accumulate in {who}: "
                "switching to it may not suit this patient (UK Specialist Pharmacy Service; "
                "NHS Scotland warns of next-day sedation in older people). Alternatives: "
                f"taper {' and '.join(crossing.old)} itself (no switch)"
                + (f", or switch to {others} (no active metabolites)" if others else "")
                + changed,
            )
        )
    return warnings


def _largest_stage(crossing: _Crossing) -> Fraction:
    """The most diazepam equivalent of the old drugs that one stage moves."""
    old = crossing.old
    previous = crossing.start
    largest = Fraction(0)
    for config, _ in crossing.stages():
        moved = sum(
            (
                crossing.per_mg[name] * Fraction(previous[name, slot] - config[name, slot])
                for name, slot in crossing.layout
                if name in old
            ),
            Fraction(0),
        )
        largest = max(largest, moved)
        previous = config
    return largest
