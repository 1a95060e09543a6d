"""Revising a running plan from a date: a hold, a step back, the dose actually taken, a new
pace. Every day before the date stays as it was; the revision is recorded in the plan (its
number, date, reason and what it replaces), so that a revision of a revision works and the
whole history can be rebuilt from a plan file.

The rules (``docs/revise.md`` gives them with their sources):

- **hold** ``N`` days: the dose taken the day before the date, for ``N`` days; then the rest
  of the plan as it was, shifted by ``N`` days.
- **back**: the dose of the last step before the current one (the last tolerated) for one
  interval (or ``hold``), then the plan's method from there at half the pace (half the
  percent or the mg step where the products then cut less over the doses gone back over,
  else the same cuts twice as far apart), or at a slower pace named with ``rate``/``every``:
  from each dose the cuts are no larger and no sooner than before, and over the doses gone
  back over one is smaller or later (else refused).
- **taken**: the dose actually taken from the date (faster or slower than the plan), for one
  interval; then the plan's method from it, never rising. Above the plan's starting dose only
  with ``allow_high_dose``.
- **pace** (``rate``/``every`` alone): the dose of the day before the date for one interval
  of the new pace, then the plan's method at that pace.

A plan file (JSON, or CSV through its ``#`` lines) is read back by :func:`load_plan`: the plan
is rebuilt from its recorded parameters and revisions and must match the file exactly, and
its checksum (:meth:`taper.plan.Plan.content_sha256`) must hold; a plan edited by hand is
refused in one line.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import itertools
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, get_type_hints

from taper.assemble import Segment, assemble_plan
from taper.csvout import CSV_COLUMNS, plan_csv
from taper.direct import taper_segments
from taper.doses import parse_dose
from taper.engine import make_plan
from taper.errors import DataFileError, InvalidRequestError, ParameterError, TaperError, literal
from taper.files import read_text
from taper.formatting import format_dose, format_number, to_decimal
from taper.guardrails import PatientFactors
from taper.guideline import smallest_cut
from taper.notices import Kind, Notice
from taper.options import Crossover, End, Method, Order, TaperRequest
from taper.params import SLOTS, Hold, parse_date, parse_days, parse_percent, parse_regimen
from taper.plan import (
    ContentRevision,
    ContentStep,
    Phase,
    Plan,
    Revision,
    Step,
    content_checksum,
)
from taper.presets import DEPRESCRIBING_NEAR_END
from taper.rational import Fraction
from taper.records import dumps_json, loads_json, plan_document
from taper.regimen import check_regimen, dose_step, split_daily_dose
from taper.substitution import paced
from taper.table import EquivalenceTable, table_of

#: Plan files larger than this are refused (a plan of ten years at four dose times is ~2 MB).
MAX_PLAN_FILE_BYTES = 64 * 1024 * 1024
#: The longest reason a revision records (it is printed in the handout and the calendar).
MAX_REASON = 200
#: The warnings the assembly of a plan works out again for a revised plan (kept from the plan
#: revised as well, they were said twice: the named pace, small volumes of a concentrate).
_RECOMPUTED = {
    Kind.CEILING,
    Kind.TARGET_PACE,
    Kind.LONG_PLAN,
    Kind.FORCED_CUT,
    Kind.STOP_DOSE,
    Kind.PACE,
    Kind.SMALL_VOLUME,
}
#: Warnings about cuts that name their cause ("the chosen pace", "the products").
_CAUSED = {Kind.CEILING, Kind.TARGET_PACE, Kind.FORCED_CUT}


def revise_plan(
    plan: Plan,
    *,
    on: dt.date | str,
    hold: dt.timedelta | int | str | None = None,
    back: bool = False,
    taken: str | Mapping[str, Any] | Decimal | int | None = None,
    rate: str | Decimal | int | None = None,
    every: dt.timedelta | int | str | None = None,
    reason: str | None = None,
    allow_high_dose: bool = False,
) -> Plan:
    """The next revision of ``plan`` from the date ``on`` (see the module docstring).

    Give one action: ``hold`` (a length: ``timedelta(weeks=2)``, days, or ``"2w"``),
    ``back=True``, ``taken`` (a daily total, ``"0.5mg"``, or doses per dose time,
    ``"morning=0.25mg,night=0.5mg"`` or ``{"night": "0.5mg"}``), or a new pace alone
    (``rate``, ``every``). ``back`` takes ``hold`` (how long at the dose gone back to) and a
    slower ``rate``/``every``; ``taken`` takes ``rate``/``every`` too.
    """
    if not isinstance(plan, Plan):
        raise ParameterError("plan", plan, "a Plan")
    on_date = _date(on, "on")
    hold_days = _days(hold, "hold")
    rate_percent = None if rate is None else parse_percent(_text(rate, "rate"), "rate")
    interval = _days(every, "every")
    if not isinstance(back, bool):
        raise ParameterError("back", back, "True or False")
    if not isinstance(allow_high_dose, bool):
        raise ParameterError("allow_high_dose", allow_high_dose, "True or False")
    if reason is not None and not isinstance(reason, str):
        raise ParameterError("reason", reason, "text")
    if reason is not None:
        reason = " ".join(reason.split()) or None
    if reason is not None:
        if any(unicodedata.category(char).startswith("C") for char in reason):
            raise InvalidRequestError(
                "{reason} has a control character: write plain text", parameters={"reason": None}
            )
        if len(reason) > MAX_REASON:
            raise InvalidRequestError(
                "{reason} is longer than " + f"{MAX_REASON} characters: write a short reason",
                parameters={"reason": None},
            )
    actions = [name for name, given in (("back", back), ("taken", taken is not None)) if given]
    if len(actions) > 1:
        raise InvalidRequestError(
            "give one of {back} and {taken}, not both", parameters={"back": True, "taken": None}
        )
    if actions:
        action = actions[0]
        if action == "taken" and hold_days is not None:
            raise InvalidRequestError(
                "{hold} goes with {back} or alone, not with {taken}",
                parameters={"hold": None, "back": True, "taken": None},
            )
    elif hold_days is not None:
        action = "hold"
        if rate_percent is not None or interval is not None:
            raise InvalidRequestError(
                "a hold keeps the plan's pace: give {hold} alone, or {back} with {rate} or {every}",
                parameters={"hold": None, "back": True, "rate": None, "every": None},
            )
    elif rate_percent is not None or interval is not None:
        action = "pace"
    else:
        raise InvalidRequestError(
            "say how the plan changes: {hold}, {back}, {taken} or a new {rate} or {every}",
            parameters={"hold": None, "back": True, "taken": None, "rate": None, "every": None},
        )
    day = _revision_day(plan, on_date)
    parameters: dict[str, Any] = {}
    if hold_days is not None:
        parameters["hold_days"] = hold_days
    if rate_percent is not None:
        parameters["rate_percent"] = rate_percent
    if interval is not None:
        parameters["interval_days"] = interval
    if allow_high_dose:
        parameters["allow_high_dose"] = True
    layout, segments = plan_segments(plan)
    kept = _kept(plan, segments, day)
    current = _step_on(plan, day - 1)
    notes: list[str] = []
    number = plan.revision + 1
    mark = f"revision {number} from {on_date.isoformat()}"
    request: TaperRequest | None = None  # the pace from the date (None: a hold keeps it)
    if action == "hold":
        assert hold_days is not None
        tail = _held(plan, segments, day, hold_days, mark)
        description = (
            f"hold {hold_days} days on {plan.doses_line(current.doses)} a day (the dose of "
            f"{(on_date - dt.timedelta(days=1)).isoformat()}), then the rest of the plan "
            f"{hold_days} days later"
        )
    else:
        name = _tapered_drug(plan, current, action)
        if action == "back":
            before = _last_tolerated(plan, current, name)
            regimen = _regimen(before, name)
            first = hold_days
            request, back_tail, pace = _stepped_back(
                plan, layout, name, before, regimen, rate_percent, interval, on_date, first, mark
            )
            description = (
                f"back to {plan.doses_line(before.doses)} a day (step {before.number}, the "
                f"last dose before {plan.doses_line(current.doses)}), then {pace}"
            )
        elif action == "taken":
            regimen = _taken(plan, current, name, taken, allow_high_dose)
            parameters["taken_mg"] = dict(regimen)
            request = _paced(plan, rate_percent, interval)
            first = None
            taken_total = sum(regimen.values(), Decimal(0))
            planned = _total_of(current, name)
            how = (
                "less than"
                if taken_total < planned
                else "more than"
                if taken_total > planned
                else "the same as"
            )
            description = (
                f"taken from {on_date.isoformat()}: {_regimen_text(regimen)} "
                f"({format_dose(taken_total)} a day, {how} the plan's "
                f"{format_dose(planned)}), then {request.pace_text()} every "
                f"{request.interval_days} days from it"
            )
            if taken_total < planned:
                notes.append(
                    f"the patient went faster than the plan from {on_date.isoformat()}: a cut "
                    "over the guideline's ceiling there is the patient's own, not the plan's"
                )
        else:
            regimen = _regimen(current, name)
            request = _paced(plan, rate_percent, interval)
            first = None
            description = (
                f"from {plan.doses_line(current.doses)} a day, {request.pace_text()} every "
                f"{request.interval_days} days"
            )
        what = {
            "back": "back to the last dose before the current one",
            "taken": "the dose taken",
            "pace": "a new pace",
        }[action]
        if action == "back":
            tail = back_tail
        else:
            tail = _continued(plan, layout, name, regimen, request, on_date, first, mark, what)
    if reason:
        description += f" ({reason})"
    revision = Revision(
        number=number,
        on=on_date,
        action=action,
        description=description,
        reason=reason,
        replaces_sha256=plan.content_sha256(),
        replaces_start=plan.start_date,
        parameters=parameters,
        notes=tuple(notes),
        pace=None if action == "hold" else request,
    )
    return _assembled(plan, layout, [*kept, *tail], revision, own_cut=action == "taken")


def current_pace(plan: Plan) -> TaperRequest:
    """The request whose method and pace the plan follows now: its own, or that of the last
    revision that changed the pace."""
    for revision in reversed(plan.revisions):
        if revision.pace is not None:
            return revision.pace
    return plan.request


def plan_history(plan: Plan) -> list[Plan]:
    """The plan and every plan it revised, the first draft first."""
    chain = [plan]
    while chain[-1].replaces is not None:
        previous = chain[-1].replaces
        assert previous is not None
        chain.append(previous)
    return chain[::-1]


# --- the pieces of a revision ---------------------------------------------------------------


def plan_segments(plan: Plan) -> tuple[tuple[tuple[str, str], ...], list[Segment]]:
    """The plan's layout (drug, dose time) and its segments, as the engine made them: each
    step but the stop, with the smallest cut the products allow from a taper step (which the
    guideline checks of the step after it need)."""
    layout = tuple((dose.drug, dose.slot) for dose in plan.steps[0].doses)
    segments = []
    for step in plan.steps[:-1]:
        config = tuple(dose.dose_mg for dose in step.doses)
        segments.append(
            Segment(
                config=config,
                days=step.days,
                phase=step.phase,
                hold_days=step.hold_days,
                stalled=any(note.startswith("held:") for note in step.notes),
                notes=step.notes,
                next_possible=_next_possible(plan, layout, step),
            )
        )
    return layout, segments


def _next_possible(
    plan: Plan, layout: tuple[tuple[str, str], ...], step: Step
) -> tuple[Decimal, ...] | None:
    if step.phase != "taper":
        return None
    drugs = {dose.drug for dose in step.doses if dose.dose_mg}
    if len(drugs) != 1:
        return None
    (name,) = drugs
    formulary = plan.formularies[name]
    quantum = dose_step(plan.request, plan.ratios.get(name), formulary)
    mine = tuple(dose.dose_mg for dose in step.doses if dose.drug == name)
    cut = iter(smallest_cut(mine, formulary, quantum))
    return tuple(
        next(cut) if drug == name else dose
        for (drug, _), dose in zip(layout, (d.dose_mg for d in step.doses), strict=True)
    )


def _revision_day(plan: Plan, on: dt.date) -> int:
    """The plan's day number of the date ``on``, which must be after its first day and no
    later than its stop, and not before the last revision's date."""
    day = (on - plan.start_date).days + 1
    stop = plan.steps[-1].start_day
    if not 2 <= day <= stop:
        raise InvalidRequestError(
            f"the revision date {on.isoformat()} is outside the plan: give a date from "
            f"{plan.date_of(2).isoformat()} to {plan.date_of(stop).isoformat()} (the plan runs "
            f"from {plan.start_date.isoformat()}, its first day without any drug is "
            f"{plan.date_of(stop).isoformat()})"
        )
    if plan.revisions and on < plan.revisions[-1].on:
        last = plan.revisions[-1]
        raise InvalidRequestError(
            f"the revision date {on.isoformat()} is before revision {last.number}'s "
            f"({last.on.isoformat()}): a revision changes the plan from its date on, so give "
            f"{last.on.isoformat()} or later"
        )
    return day


def _step_on(plan: Plan, day: int) -> Step:
    return next(step for step in plan.steps if step.start_day <= day <= step.end_day)


def _kept(plan: Plan, segments: Sequence[Segment], day: int) -> list[Segment]:
    """The segments before ``day``, the one running then cut to end the day before (its
    hold, which comes at its end, cut with it)."""
    kept = []
    for step, segment in zip(plan.steps, segments, strict=False):
        if step.start_day >= day:
            break
        if step.end_day >= day:
            days = day - step.start_day
            held = max(0, days - (step.days - step.hold_days))
            segment = replace(segment, days=days, hold_days=held)
        kept.append(segment)
    return kept


def _held(
    plan: Plan, segments: Sequence[Segment], day: int, hold_days: int, mark: str
) -> list[Segment]:
    """A hold from ``day``: the dose of the day before, then the rest as it was."""
    current = _step_on(plan, day - 1)
    segment = segments[current.number - 1]
    tail = [
        replace(
            segment,
            days=hold_days,
            hold_days=hold_days,
            stalled=False,
            notes=(f"{mark}: hold {hold_days} days",),
        )
    ]
    rest = current.end_day - day + 1
    if rest > 0:
        tail.append(replace(segment, days=rest, hold_days=min(segment.hold_days, rest)))
    tail += segments[current.number :]
    return tail


def _tapered_drug(plan: Plan, current: Step, action: str) -> str:
    """The drug whose dose the revision changes: the drug tapered, alone, in a taper step."""
    drugs = current.totals_by_drug()
    if current.phase != "taper" or set(drugs) != {plan.drug.name}:
        what = {"back": "{back}", "taken": "{taken}", "pace": "{rate} or {every}"}[action]
        raise InvalidRequestError(
            f"on the day before the revision the plan is in its {current.phase} phase "
            f"({literal(plan.doses_line(current.doses))}): {what} "
            f"revises the taper of {plan.drug.name} only; give {{hold}} to stay on the dose",
            parameters={"back": True, "taken": None, "rate": None, "every": None, "hold": None},
        )
    return plan.drug.name


def _total_of(step: Step, name: str) -> Decimal:
    return step.totals_by_drug().get(name, Decimal(0))


def _regimen(step: Step, name: str) -> dict[str, Decimal]:
    return {dose.slot: dose.dose_mg for dose in step.doses if dose.drug == name and dose.dose_mg}


def _regimen_text(regimen: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{format_dose(dose)} {slot}" for slot, dose in regimen.items())


def _last_tolerated(plan: Plan, current: Step, name: str) -> Step:
    """The last step before ``current`` with a higher dose of the drug."""
    now = _total_of(current, name)
    for step in reversed(plan.steps[: current.number - 1]):
        if set(step.totals_by_drug()) - {name}:
            break  # a crossover: going back there is not a dose of this drug alone
        if _total_of(step, name) > now:
            return step
    raise InvalidRequestError(
        f"there is no earlier dose of {name} alone to go back to before "
        f"{literal(plan.doses_line(current.doses))} a day (step {current.number}); give "
        "{hold} or {taken}",
        parameters={"hold": None, "taken": None},
    )


def _taken(
    plan: Plan,
    current: Step,
    name: str,
    taken: str | Mapping[str, Any] | Decimal | int | None,
    allow_high_dose: bool,
) -> dict[str, Decimal]:
    """The doses taken from the revision's date, per dose time of the plan."""
    slots = tuple(dose.slot for dose in plan.steps[0].doses if dose.drug == name)
    formulary = plan.formularies[name]
    if isinstance(taken, Mapping):
        text = ",".join(f"{slot}={_text(dose, 'taken')}" for slot, dose in taken.items())
    else:
        text = _text(taken, "taken")
    if "=" in text:
        regimen = parse_regimen(text)
        other = [slot for slot in regimen if slot not in slots]
        if other:
            raise InvalidRequestError(
                f"{{taken}} gives a dose at {literal(', '.join(other))}, which is not a dose "
                f"time of the plan ({', '.join(slots)})",
                parameters={"taken": text},
            )
    else:
        total = parse_dose(text)
        using = (
            tuple(
                slot
                for slot in slots
                if any(
                    dose.slot == slot and dose.drug == name and dose.dose_mg
                    for dose in current.doses
                )
            )
            or slots[-1:]
        )
        quantum = dose_step(plan.request, plan.ratios.get(name), formulary)
        # The plan's own doses where one of its steps has this total (a fresh user's review:
        # the plan's 15 mg as 5 mg morning and 10 mg night, taken from a date, became 7 mg
        # and 8 mg, said to be "the same as the plan's"); else the total split afresh.
        own = _plan_split(plan, current, name, total)
        if own is not None:
            regimen = own
        else:
            regimen = split_daily_dose(total, using, formulary, quantum) if total else {}
    regimen = {slot: dose for slot, dose in regimen.items() if dose}
    total = sum(regimen.values(), Decimal(0))
    start = max(_total_of(step, name) for step in plan.steps)
    if total > start and not allow_high_dose:
        raise InvalidRequestError(
            f"the dose taken ({format_dose(total)} of {name} a day) is above the plan's "
            f"starting dose ({format_dose(start)} a day): check it, and give "
            "{allow_high_dose} if it is right",
            parameters={"allow_high_dose": True},
        )
    check_regimen(
        plan.drug, regimen, formulary, replace(plan.request, allow_high_dose=allow_high_dose)
    )
    return regimen


def _plan_split(plan: Plan, current: Step, name: str, total: Decimal) -> dict[str, Decimal] | None:
    """The doses of ``name`` at the plan's step nearest ``current`` whose total of it is
    ``total`` and that gives no other drug, or None if no step has that total."""
    steps = [
        step
        for step in plan.steps
        if _total_of(step, name) == total and not set(step.totals_by_drug()) - {name}
    ]
    if not total or not steps:
        return None
    nearest = min(steps, key=lambda step: (abs(step.number - current.number), step.number))
    return _regimen(nearest, name)


def _paced(plan: Plan, rate: Decimal | None, interval: int | None) -> TaperRequest:
    """The plan's request with a new pace, where given."""
    request = current_pace(plan)
    if rate is not None:
        if request.method is not Method.PERCENT:
            raise InvalidRequestError(
                f"{{rate}} is a pace of the percent method; this plan's method is "
                f"{request.method.value}: give {{every}}",
                parameters={"rate": None, "every": None},
            )
        request = replace(request, rate_percent=rate)
    if interval is not None:
        request = replace(request, interval_days=interval)
    return request


def _slower(plan: Plan, rate: Decimal | None, interval: int | None) -> list[TaperRequest]:
    """The paces to try after a step back, the first slower one in the plan taken: the one
    named (which must be slower), else half the plan's, as smaller cuts (half the percent or
    mg step) and then as the same cuts twice as far apart (for the other methods only the
    latter)."""
    request = current_pace(plan)
    if rate is not None or interval is not None:
        slower = _paced(plan, rate, interval)
        if (
            slower.rate_percent > request.rate_percent
            or slower.interval_days < request.interval_days
            or (
                slower.rate_percent == request.rate_percent
                and slower.interval_days == request.interval_days
            )
        ):
            raise InvalidRequestError(
                f"{{back}} resumes more slowly than the plan ({request.pace_text()} every "
                f"{request.interval_days} days): give a smaller {{rate}} or a longer {{every}}",
                parameters={"back": True, "rate": None, "every": None},
            )
        return [slower]
    apart = replace(request, interval_days=request.interval_days * 2)
    if request.method is Method.PERCENT:
        return [replace(request, rate_percent=request.rate_percent / 2), apart]
    if request.method is Method.LINEAR and request.step_mg is not None:
        # Half the step on the grid the plan's doses are written on, so that the pace said
        # is the cut made (a fresh user's review: "half the pace: 0.062 mg each time", half
        # of 0.125 mg as the formatter writes it, where the cuts made were 0.05 mg).
        name = plan.drug.name
        formulary = plan.formularies[name]
        grid = dose_step(request, plan.ratios.get(name), formulary) or formulary.quantum
        units = int(Fraction(request.step_mg) / 2 / grid)
        if units:
            return [replace(request, step_mg=to_decimal(grid * units)[0]), apart]
    return [apart]


@dataclasses.dataclass(frozen=True)
class _Cut:
    """A stretch of a plan at one daily total of the drug tapered: how long (days of holds
    left out, but for a step back's own days at the dose) and the cut after it."""

    total: Decimal
    days: int
    cut: Decimal
    #: Days of holds at the dose, left out of ``days``.
    held: int = 0


def _cuts(stretches: Sequence[tuple[Decimal, int, int]]) -> list[_Cut]:
    """The cuts of consecutive (total, days, days held) stretches, equal totals merged; the
    last (the stop, or a dose the stretches end on) has none."""
    merged: list[list[Any]] = []
    for total, days, held in stretches:
        if merged and merged[-1][0] == total:
            merged[-1][1] += days
            merged[-1][2] += held
        else:
            merged.append([total, days, held])
    return [
        _Cut(total, days, total - following, held)
        for (total, days, held), (following, _, _) in itertools.pairwise(merged)
        if following < total
    ]


def _plan_cuts(plan: Plan, name: str, first: Step) -> list[_Cut]:
    """The cuts of ``plan``'s taper of ``name`` from the dose of the step ``first`` on (from
    the first of the steps at that dose; holds left out: the pace between cuts)."""
    start = first.number - 1
    while start > 0 and _total_of(plan.steps[start - 1], name) == _total_of(first, name):
        start -= 1
    return _cuts(
        [
            (_total_of(step, name), step.days - step.hold_days, step.hold_days)
            for step in plan.steps[start:]
            if step.phase in ("taper", "stop")
        ]
    )


def _tail_cuts(
    layout: tuple[tuple[str, str], ...], name: str, tail: Sequence[Segment]
) -> list[_Cut]:
    """The cuts of a revision's new segments: the first stretch (the dose gone back to, for
    one interval or the hold given) counted whole, holds left out after it."""
    return _cuts(
        [
            (
                sum(
                    (
                        dose
                        for (drug, _), dose in zip(layout, s.config, strict=True)
                        if drug == name
                    ),
                    Decimal(0),
                ),
                s.days if index == 0 else s.days - s.hold_days,
                0 if index == 0 else s.hold_days,
            )
            for index, s in enumerate(
                [*tail, replace(tail[-1], config=tuple(Decimal(0) for _ in layout))]
            )
        ]
    )


def _is_slower(new: Sequence[_Cut], old: Sequence[_Cut], held_first: bool) -> bool:
    """Whether the cuts ``new`` are slower than ``old`` over the doses both pass through:
    from each dose, a cut no larger and no sooner, and at least one smaller or later. A cut
    from a dose ``old`` does not stop at is compared with the cut ``old`` makes past it.
    ``held_first``: the time at the first dose was given (a hold), it is not compared."""
    stricter = False
    for index, cut in enumerate(new):
        if index == 0 and held_first:
            cut = replace(cut, days=max(cut.days, old[0].days) if old else cut.days)
        over = next((c for c in old if c.total >= cut.total > c.total - c.cut), None)
        if over is None:
            continue
        if cut.cut > over.cut:
            return False
        if over.total == cut.total:
            if cut.days < over.days:
                return False
            stricter = stricter or cut.days > over.days or cut.cut < over.cut
        else:
            stricter = True  # a dose between two of the old plan's: a smaller cut
    return stricter


def _cuts_text(cuts: Sequence[_Cut]) -> str:
    return ", then ".join(f"{format_dose(cut.cut)} after {cut.days} days" for cut in cuts)


def _stepped_back(
    plan: Plan,
    layout: tuple[tuple[str, str], ...],
    name: str,
    before: Step,
    regimen: Mapping[str, Decimal],
    rate: Decimal | None,
    interval: int | None,
    on: dt.date,
    first_days: int | None,
    mark: str,
) -> tuple[TaperRequest, list[Segment], str]:
    """The pace, the new segments and the words of a step back to ``before``'s dose: the
    first of :func:`_slower`'s paces whose plan is slower than ``plan`` over the doses both
    pass through (:func:`_is_slower`); the words say how it cuts over the doses gone back
    over, as the products make it, against the plan's cut there."""
    old = _plan_cuts(plan, name, before)
    failed = old[0]
    what = "back to the last dose before the current one"
    paces = _slower(plan, rate, interval)
    held_first = first_days is not None
    passed_over = ""  # why half the cut was not taken

    def slower_over(request: TaperRequest) -> tuple[list[Segment], list[_Cut], bool, bool]:
        """The new segments, the cuts over the doses gone back over, whether the plan is
        slower than before (:func:`_is_slower`) and whether a cut there is smaller."""
        tail = _continued(plan, layout, name, regimen, request, on, first_days, mark, what)
        new = _tail_cuts(layout, name, tail)
        retraced = [cut for cut in new if cut.total > failed.total - failed.cut]
        smaller = any(cut.cut < failed.cut for cut in retraced)
        # Over the doses gone back over, a smaller cut or a later one (unless the time at the
        # dose gone back to was given: a hold).
        later = held_first or (retraced[0].total == failed.total and retraced[0].days > failed.days)
        slower = _is_slower(new, old, held_first) and (smaller or later)
        return tail, retraced, slower, smaller

    for request in paces:
        tail, retraced, slower, smaller = slower_over(request)
        # Half the cut is taken only where the products make a smaller cut over the doses
        # gone back over; else the same cuts twice as far apart.
        if slower and (smaller or request is paces[-1]):
            break
        passed_over = (
            f"make the same {format_dose(failed.cut)} cuts"
            if _is_slower(_tail_cuts(layout, name, tail), old, held_first)
            else "cut sooner or more somewhere"
        )
    else:
        named = rate is not None or interval is not None
        longer = replace(request, interval_days=request.interval_days * 2)
        remedy = (
            f"give a longer {{every}} ({longer.interval_days} days is slower)"
            if named and slower_over(longer)[2]
            else "give {taken} with the dose to go on from and its pace"
        )
        raise InvalidRequestError(
            f"from these products, {'the pace given' if named else 'half the pace'} would not "
            f"cut more slowly than the plan from {format_dose(failed.total)} (where it cut "
            f"{format_dose(failed.cut)} after {failed.days} days): {remedy}",
            parameters={"every": None, "taken": None},
        )
    pace = f"{request.pace_text()} every {request.interval_days} days"
    if rate is None and interval is None:
        pace = f"half the pace: {pace}"
        if passed_over:
            half = paces[0]
            smaller_text = (
                f"{format_number(half.rate_percent)}%"
                if half.method is Method.PERCENT
                else f"{format_dose(half.step_mg or 0)} steps"
            )
            pace += f" ({smaller_text} would {passed_over} from these products)"
    held = f" and a hold of {failed.held} days" if failed.held else ""
    realised = (
        f"{pace}; from {format_dose(failed.total)} that is {_cuts_text(retraced)}, where the "
        f"plan cut {format_dose(failed.cut)} after {failed.days} days{held}"
    )
    return request, tail, realised


def _pace_derived(
    plan: Plan, request: TaperRequest, name: str, regimen: Mapping[str, Decimal]
) -> TaperRequest:
    """The request with what its named pace works out from the dose tapered, where the plan's
    record does not hold it: a switch plan records its taper's method but not what the pace
    derived from the switched dose (a fresh user's review: an Ashton switch revised with
    --every or --taken found no listed doses left, held the dose, then stopped from 30-36 mg
    of diazepam a day). The Ashton Manual's diazepam steps are worked out again from the
    dose the revision starts from (2 mg less from the daytime doses, then 1 mg less from the
    night dose); deprescribing.org's 12.5% steps start from a quarter of the dose the taper
    started from, not of the revised dose; the label's last dose is the label's."""
    if request.pace == "deprescribing" and request.slow_below_mg is None:
        start = max(_total_of(step, name) for step in plan.steps)
        request = replace(request, slow_below_mg=start * DEPRESCRIBING_NEAR_END)
    if request.pace == "ashton" and request.method is Method.STEPS and request.steps_mg:
        return request  # the steps recorded (a direct taper): kept
    return paced(request, name, regimen)


def _continued(
    plan: Plan,
    layout: tuple[tuple[str, str], ...],
    name: str,
    regimen: Mapping[str, Decimal],
    request: TaperRequest,
    on: dt.date,
    first_days: int | None,
    mark: str,
    what: str,
) -> list[Segment]:
    """The plan's method from ``regimen`` on ``on``: the regimen for one interval (or
    ``first_days``), then the method's cuts, laid out over the plan's dose times."""
    drug = plan.drug
    formulary = plan.formularies[name]
    total = sum(regimen.values(), Decimal(0))
    request = _pace_derived(plan, request, name, regimen)
    note = f"{mark}: {_regimen_text(regimen) or 'no dose'} ({what})"
    days = first_days or request.interval_days
    first_hold = first_days or 0
    if not total:
        return []
    taper = replace(
        request,
        drug=name,
        regimen=dict(regimen),
        switch_to=None,
        also=(),
        finish_on=None,
        finish_from_mg=None,
        switch_reduction_percent=Decimal(0),
        part_mg=None,
        crossover=Crossover.SLOT,
        start=on,
        until=None,
        duration_days=None,
        # Holds after a numbered step counted the first draft's steps: they do not carry
        # over; holds at a dose and after every few cuts do.
        holds=tuple(hold for hold in request.holds if hold.kind != "after-step"),
        steps_mg=tuple(dose for dose in request.steps_mg if dose < total),
    )
    finished = (taper.method is Method.STEPS and not taper.steps_mg) or (
        taper.final_mg is not None and total <= taper.final_mg
    )
    used = tuple(slot for slot in SLOTS if slot in regimen)
    if finished:
        config = tuple(regimen[slot] for slot in used)
        own = [Segment(config=config, days=days, phase=Phase.TAPER)]
    else:
        own = taper_segments(
            taper, plan.table, drug, regimen, formulary, plan.ratios.get(name), plan.source, on
        ).segments
    # The method's own first step is one interval at the dose, longer where the products
    # cannot make a cut as small as the pace asks yet (it waits for the ideal to reach the
    # next dose down): the revision's first days replace that one interval, not the wait.
    waited = 0 if finished else own[0].days - request.interval_days
    held = ("held: the products cannot make a smaller cut yet",) if waited else ()
    own[0] = replace(
        own[0], days=days + waited, hold_days=first_hold, stalled=waited > 0, notes=(note, *held)
    )
    aligned = []
    for segment in own:
        possible = segment.next_possible
        aligned.append(
            replace(
                segment,
                config=_aligned(layout, name, dict(zip(used, segment.config, strict=True))),
                next_possible=None
                if possible is None
                else _aligned(layout, name, dict(zip(used, possible, strict=True))),
            )
        )
    return aligned


def _aligned(
    layout: tuple[tuple[str, str], ...], name: str, doses: Mapping[str, Decimal]
) -> tuple[Decimal, ...]:
    return tuple(
        doses.get(slot, Decimal(0)) if drug == name else Decimal(0) for drug, slot in layout
    )


def _assembled(
    plan: Plan,
    layout: tuple[tuple[str, str], ...],
    segments: list[Segment],
    revision: Revision,
    *,
    own_cut: bool,
) -> Plan:
    risk = set(plan.risk.warnings) if plan.risk is not None else set()
    kept = [w for w in plan.warnings if w not in risk and w.kind not in _RECOMPUTED]
    revised = assemble_plan(
        request=plan.request,
        drugs=plan.drugs,
        layout=layout,
        segments=segments,
        formularies=plan.formularies,
        ratios=plan.ratios,
        source=plan.source,
        resolved_pace=plan.resolved_pace,
        warnings=kept,
        today=plan.start_date,
        table=plan.table,
        conversion=plan.conversion,
    )
    warnings = list(revised.warnings)
    if own_cut:
        day = (revision.on - plan.start_date).days + 1
        own = next((s for s in revised.steps if s.start_day == day), None)
        if own is not None and (own.exceeds_ceiling or own.forced):
            warnings = _without_step(warnings, own.number)
            warnings.append(
                Notice(
                    Kind.CEILING,
                    f"step {own.number} (the dose taken from {revision.on.isoformat()}, "
                    f"revision {revision.number}) cuts more in 2 weeks than the ceiling of 25% "
                    "every 2 weeks (2025 Joint Guideline); the cause is the patient's own cut, "
                    "not the plan's pace: watch for withdrawal",
                )
            )
    return replace(
        revised,
        warnings=tuple(warnings),
        revisions=(*plan.revisions, revision),
        replaces=plan,
    )


_STEP_LIST = re.compile(r"step\(s\) ([0-9]+(?:, [0-9]+)*)")


def _without_step(warnings: list[Notice], number: int) -> list[Notice]:
    """The warnings with step ``number`` taken out of those that name a cause for a cut."""
    result = []
    for notice in warnings:
        match = _STEP_LIST.search(notice.message) if notice.kind in _CAUSED else None
        if match is None:
            result.append(notice)
            continue
        numbers = [n.strip() for n in match.group(1).split(",") if n.strip() != str(number)]
        if numbers:
            message = notice.message.replace(match.group(0), f"step(s) {', '.join(numbers)}", 1)
            result.append(Notice(notice.kind, message))
    return result


# --- values people give ---------------------------------------------------------------------


def _text(value: object, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ParameterError(name, value, "text, an int or a Decimal")
    return str(value)


def _date(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise ParameterError(name, value, "a datetime.date or 'YYYY-MM-DD'")
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(value)
    except InvalidRequestError as exc:  # named as the caller names it: --on, on=
        said = exc.render(lambda parameter, _: parameter)
        raise InvalidRequestError(f"{{{name}}}: {literal(said)}", parameters={name: None}) from None


def _days(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        if value.seconds or value.microseconds or value.days < 1:
            raise ParameterError(name, value, "a whole number of days, at least one")
        return parse_days(str(value.days), name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ParameterError(name, value, "a timedelta, a number of days or text such as '2w'")
    return parse_days(str(value), name)


# --- reading a plan file back ---------------------------------------------------------------


def request_from_record(record: Mapping[str, Any]) -> TaperRequest:
    """The request a plan's recorded parameters describe (the inverse of
    :func:`taper.records.request_record`)."""
    hints = get_type_hints(TaperRequest)
    factor_names = {f.name for f in dataclasses.fields(PatientFactors)}
    values: dict[str, Any] = {}
    for f in dataclasses.fields(TaperRequest):
        if f.name == "factors":
            values["factors"] = PatientFactors(
                **{name: record[name] for name in factor_names if name in record}
            )
            continue
        key = "regimen_mg" if f.name == "regimen" else f.name
        if key not in record:
            raise KeyError(key)
        values[f.name] = _field_value(f.name, str(hints[f.name]), record[key])
    return TaperRequest(**values)


_ENUMS: dict[str, Any] = {"method": Method, "end": End, "order": Order, "crossover": Crossover}
_HOLD = re.compile(r"hold ([0-9]+) days (?:after step ([0-9]+)|after every ([0-9]+) steps|at (.+))")


def _field_value(name: str, hint: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _ENUMS:
        return _ENUMS[name](value)
    if name == "regimen":
        return {slot: Decimal(str(dose)) for slot, dose in value.items()}
    if name == "also":
        return tuple(
            (item["drug"], {s: Decimal(str(d)) for s, d in item["regimen_mg"].items()})
            for item in value
        )
    if name == "holds":
        return tuple(_hold(text) for text in value)
    if name == "steps_mg":
        return tuple(Decimal(str(dose)) for dose in value)
    if name == "products":
        return tuple(str(text) for text in value)
    if "date" in hint:
        return dt.date.fromisoformat(value)
    if "Decimal" in hint:
        return Decimal(str(value))
    return value


def _hold(text: str) -> Hold:
    match = _HOLD.fullmatch(text)
    if match is None:
        raise ValueError(f"cannot read hold {text!r}")
    days = int(match.group(1))
    if match.group(2):
        return Hold("after-step", days, step=int(match.group(2)))
    if match.group(3):
        return Hold("every", days, step=int(match.group(3)))
    return Hold("at", days, dose_mg=parse_dose(match.group(4)))


@dataclasses.dataclass(frozen=True)
class _Recorded:
    """What a plan file records: enough to rebuild the plan and check it."""

    table_sha256: str
    parameters: Mapping[str, Any]
    start: dt.date
    checksum: str
    revisions: Sequence[Mapping[str, Any]]
    #: Whether the file's days and steps give back its recorded checksum and match a
    #: rebuilt plan's (True: they do).
    same_days: Any
    #: Where the whole file first differs from what taper writes for a rebuilt plan, as
    #: (line or None, what), or None where it does not (only the equivalence table's path may
    #: differ): nothing outside the checksummed content (warnings, equivalents, descriptions,
    #: dispensing) may have been edited either.
    difference: Any


def load_plan(
    path: str | os.PathLike[str], table: EquivalenceTable | str | os.PathLike[str] | None = None
) -> Plan:
    """Read a plan file taper wrote (JSON, or CSV with its ``#`` lines) back into the plan,
    its revisions included: rebuilt from its parameters and checked against the file."""
    shown = str(path)

    def fail(line: int | None, reason: str) -> DataFileError:
        return DataFileError(shown, line, reason)

    file = Path(os.fspath(path))
    text, _ = read_text(file, kind="plan file", max_bytes=MAX_PLAN_FILE_BYTES, fail=fail)
    return plan_from_text(text, table, shown)


#: The most revisions a plan file may record: each is replayed to check the file, so a small
#: file of thousands of records would cost minutes (an attacker's review: 500 took 27 s).
MAX_REVISIONS = 100


def plan_from_text(
    text: str, table: EquivalenceTable | str | os.PathLike[str] | None, shown: str
) -> Plan:
    """The plan of a file's text (see :func:`load_plan`); ``shown`` names the file in errors."""

    def fail(line: int | None, reason: str) -> DataFileError:
        return DataFileError(shown, line, reason)

    table = table_of(table)
    text = text.replace("\r\n", "\n")  # a file saved on Windows, or mailed: the same plan
    edited = (ValueError, KeyError, TypeError, AttributeError, IndexError, ArithmeticError)
    try:
        if text.lstrip().startswith("{"):
            recorded = _json_recorded(text)
        else:
            recorded = _csv_recorded(text, fail)
        if not isinstance(recorded.checksum, str) or not isinstance(recorded.table_sha256, str):
            raise ValueError("no checksum")
        if len(recorded.revisions) > MAX_REVISIONS:
            raise fail(
                None,
                f"records {len(recorded.revisions):,} revisions; a plan file holds at most "
                f"{MAX_REVISIONS} (draft the plan again with 'taper schedule')",
            )
        request = request_from_record(recorded.parameters)
    except DataFileError:
        raise
    except RecursionError:
        raise fail(None, "has JSON nested too deeply: not a plan taper wrote") from None
    except edited as exc:
        raise fail(
            None,
            f"is not a plan taper wrote, or its parameters were edited ({_reason(exc)}); give "
            "the JSON or CSV of 'taper schedule'",
        ) from None
    if recorded.table_sha256 != table.sha256:
        raise fail(
            None,
            f"was made with the equivalence table of sha256 {recorded.table_sha256[:12]}..., "
            f"not this one ({table.sha256[:12]}...): give the table it was made with",
        )
    try:
        plan = make_plan(request, table, today=recorded.start)
        for record in recorded.revisions:
            plan = _replayed(plan, record, fail)
    except edited as exc:  # parameters edited into values no plan of taper's has
        if isinstance(exc, TaperError):
            raise
        raise fail(
            None,
            f"does not rebuild into a plan ({_reason(exc)}): it was edited after taper wrote "
            "it; revise the file taper wrote, or draft the plan again",
        ) from None
    checksum = plan.content_sha256()
    if checksum != recorded.checksum or not recorded.same_days(plan, table):
        raise fail(
            None,
            f"does not match its checksum (plan sha256 {recorded.checksum[:12]}...): it was "
            "edited after taper wrote it, or written by another version of taper; revise the "
            "file taper wrote, or draft the plan again with 'taper schedule'",
        )
    difference = recorded.difference(plan, table)
    if difference is not None:
        line, what = difference
        raise fail(
            line,
            f"is not what taper writes for the plan it records{f' ({what})' if what else ''}, "
            "though its doses match their checksum: it was edited after taper wrote it, or "
            "written by another version of taper; revise the file taper wrote, or draft the plan "
            "again with 'taper schedule'",
        )
    return plan


def _reason(exc: Exception) -> str:
    """Why a file is not a plan taper wrote, in words for its reader: a key or value it lacks,
    never the name of a Python exception."""
    if isinstance(exc, KeyError):
        key = repr(exc.args[0]) if exc.args else "value"
        return f"it gives no {key} where taper writes one"
    return str(exc) or "a value taper does not write"


def _replayed(plan: Plan, record: Mapping[str, Any], fail: Any) -> Plan:
    parameters = record.get("parameters", {})
    taken = parameters.get("taken_mg")
    try:
        return revise_plan(
            plan,
            on=dt.date.fromisoformat(record["on"]),
            hold=parameters.get("hold_days"),
            back=record["action"] == "back",
            taken=None
            if taken is None
            else ",".join(f"{slot}={dose}mg" for slot, dose in taken.items()) or "0mg",
            rate=None
            if parameters.get("rate_percent") is None
            else str(parameters["rate_percent"]),
            every=parameters.get("interval_days"),
            reason=record.get("reason"),
            allow_high_dose=bool(parameters.get("allow_high_dose", False)),
        )
    except (InvalidRequestError, KeyError, ValueError, TypeError) as exc:
        raise fail(None, f"has a revision taper cannot make again ({exc})") from None


def _plain(value: object) -> str:
    return f"{Decimal(str(value)).normalize():f}"


def _content_revisions(records: Sequence[Mapping[str, Any]]) -> list[ContentRevision]:
    return [(r["revision"], r["on"], r["action"], r["parameters"], r["reason"]) for r in records]


def csv_content_checksum(
    start: dt.date, rows: Sequence[Sequence[str]], revisions: Sequence[Mapping[str, Any]]
) -> str:
    """The checksum of what a plan's CSV says (:func:`taper.plan.content_checksum`): its
    rows (day, date, step, phase, drug, slot, dose_mg, take) grouped by step, and its
    revisions as recorded on its ``# revisions`` line."""
    steps: list[ContentStep] = []
    by_step: dict[str, list[Sequence[str]]] = {}
    for row in rows:
        by_step.setdefault(row[2], []).append(row)
    for group in by_step.values():
        days = sorted({int(row[0]) for row in group})
        held = {int(row[0]) for row in group if row[3] == "hold"}
        first = [row for row in group if int(row[0]) == days[0]]
        doses = [(row[4], row[5], _plain(row[6]), _take(row[7])) for row in first]
        steps.append((days[0], len(days), len(held), first[0][3], doses))
    return content_checksum(start, steps, _content_revisions(revisions))


def _take(cell: str) -> str:
    """A 'take' cell as taper made it (without the ``'`` that neutralises a formula)."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@") else cell


def _day_rows(plan: Plan) -> list[tuple[str, ...]]:
    """The plan's rows as its CSV and JSON write them: day, date, step, phase, drug, dose time,
    dose in mg, what to take."""
    return [
        (
            str(day.day),
            day.date.isoformat(),
            str(day.step),
            day.phase,
            dose.drug,
            dose.slot,
            f"{dose.dose_mg.normalize():f}",
            dose.preparation.text(),
        )
        for day in plan.days()
        for dose in day.doses
    ]


def _json_recorded(text: str) -> _Recorded:
    document = loads_json(text, parse_float=Decimal)
    meta = document["meta"]
    found = [
        (
            str(day["day"]),
            day["date"],
            str(day["step"]),
            day["phase"],
            dose["drug"],
            dose["slot"],
            _plain(dose["dose_mg"]),
        )
        for day in document["days"]
        for dose in day["doses"]
    ]

    revisions = meta.get("revisions", [])
    steps = [
        (
            step["start_day"],
            step["days"],
            step["hold_days"],
            "hold" if step["hold_days"] == step["days"] else step["phase"],
            [(d["drug"], d["slot"], _plain(d["dose_mg"]), d["take"]) for d in step["doses"]],
        )
        for step in document["steps"]
    ]
    start = dt.date.fromisoformat(meta["start_date"])
    content = content_checksum(start, steps, _content_revisions(revisions))

    def same_days(plan: Plan, table: EquivalenceTable) -> bool:
        return content == document["plan_sha256"] and found == [row[:-1] for row in _day_rows(plan)]

    def difference(plan: Plan, table: EquivalenceTable) -> tuple[None, str] | None:
        written = loads_json(dumps_json(plan_document(plan, table)), parse_float=Decimal)
        written["table"]["path"] = document["table"]["path"]  # the table may be named otherwise
        where = _first_difference(document, written)
        return None if where is None else (None, f"first at {literal(where)}")

    return _Recorded(
        table_sha256=document["table"]["sha256"],
        parameters=meta["parameters"],
        start=start,
        checksum=document["plan_sha256"],
        revisions=revisions,
        same_days=same_days,
        difference=difference,
    )


def _first_difference(found: Any, written: Any, where: str = "") -> str | None:
    """The path of the first value in which two JSON documents differ (``warnings[2].message``),
    or None where they are the same."""
    if isinstance(found, dict) and isinstance(written, dict):
        for key in [*written, *(key for key in found if key not in written)]:
            if key not in found or key not in written:
                return f"{where}.{key}".lstrip(".")
            inner = _first_difference(found[key], written[key], f"{where}.{key}")
            if inner is not None:
                return inner.lstrip(".")
        return None
    if isinstance(found, list) and isinstance(written, list):
        for index, (one, other) in enumerate(zip(found, written, strict=False)):
            inner = _first_difference(one, other, f"{where}[{index}]")
            if inner is not None:
                return inner
        return None if len(found) == len(written) else f"{where}[{min(len(found), len(written))}]"
    same = found == written and isinstance(found, bool) is isinstance(written, bool)
    return None if same else where.lstrip(".") or "the document"


_TABLE_LINE = re.compile(r"# taper \S+; table .* sha256 ([0-9a-f]{64})")


def recorded_table(text: str) -> str | None:
    """The sha256 of the equivalence table that a plan CSV taper wrote names in its first
    line, or None."""
    match = _TABLE_LINE.fullmatch(text.split("\n", 1)[0].rstrip("\r"))
    return None if match is None else match.group(1)


_PLAN_LINE = re.compile(r"# plan sha256 ([0-9a-f]{64}); revision ([0-9]+)")
#: The columns of a plan's CSV that say what is taken (the others are worked out from them).
_ROW_COLUMNS = ("day", "date", "step", "phase", "drug", "slot", "dose_mg", "take")


def _csv_recorded(text: str, fail: Any) -> _Recorded:
    lines = text.splitlines(keepends=True)
    comments = 0
    while comments < len(lines) and lines[comments].startswith("#"):
        comments += 1
    head = [line.rstrip("\n") for line in lines[:comments]]
    table_match = _TABLE_LINE.fullmatch(head[0]) if head else None
    plan_match = next((m for line in head if (m := _PLAN_LINE.fullmatch(line))), None)
    detail = re.fullmatch(r"# source \S+; parameters (\{.*\})", head[1]) if len(head) > 1 else None
    if table_match is None or detail is None or plan_match is None:
        raise fail(
            1,
            "has no '# taper', '# source ... parameters' and '# plan sha256' lines: not a "
            "plan CSV of 'taper schedule' (or written before plans had a checksum)",
        )
    revisions: list[Any] = []
    for line in head:
        if line.startswith("# revisions "):
            revisions = loads_json(line.removeprefix("# revisions "), parse_float=Decimal)
    reader = csv.DictReader(io.StringIO("".join(lines[comments:])))
    missing = [column for column in _ROW_COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        # a column dropped after taper wrote the file (a reader's review: "(KeyError: 'take')")
        names = ", ".join(f"'{column}'" for column in missing)
        raise fail(
            None,
            f"has no {names} column{'s' * (len(missing) > 1)} in its header (line "
            f"{comments + 1}), of the columns {', '.join(CSV_COLUMNS)} that 'taper schedule' "
            "writes: it was edited after taper wrote it",
        )
    records = list(reader)
    if not records:
        raise fail(None, "has a header but no days")
    found = [tuple(record[column] for column in _ROW_COLUMNS) for record in records]
    start = dt.date.fromisoformat(found[0][1])
    content = csv_content_checksum(start, found, revisions)

    def same_days(plan: Plan, table: EquivalenceTable) -> bool:
        expected = _day_rows(plan)
        return (
            content == plan_match.group(1)
            and len(found) == len(expected)
            and all(
                row[:-1] == want[:-1] and row[-1] in (want[-1], "'" + want[-1])
                for row, want in zip(found, expected, strict=True)
            )
        )

    def difference(plan: Plan, table: EquivalenceTable) -> tuple[int, str] | None:
        # Every line as taper writes it (with or without --raw-csv); the first line's table
        # path may differ (the same table, by its sha256, named otherwise).
        own = "".join(lines).rstrip("\n").split("\n")
        first: tuple[int, str] | None = None
        for raw in (False, True):
            written = plan_csv(plan, table, raw=raw).rstrip("\n").split("\n")
            if own[0].split(";")[0] != written[0].split(";")[0]:
                return 1, "another version of taper wrote it"
            pairs = enumerate(zip(own, written, strict=False), start=1)
            number = next(
                (n for n, (a, b) in pairs if n > 1 and a != b),
                None if len(own) == len(written) else min(len(own), len(written)) + 1,
            )
            if number is None:
                return None
            if first is None or number > first[0]:
                first = number, ""
        return first

    return _Recorded(
        table_sha256=table_match.group(1),
        parameters=loads_json(detail.group(1), parse_float=Decimal),
        start=start,
        checksum=plan_match.group(1),
        revisions=revisions,
        same_days=same_days,
        difference=difference,
    )
