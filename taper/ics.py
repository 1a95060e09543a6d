"""Calendar files: an event on the first day and on every dose change and, if asked, daily
dose reminders as recurring events.

Written with icalendar (an optional extra: ``pip install 'taper[ics]'``), imported only when
a calendar is asked for. A reminder is one event per dose time per stretch of days at one
dose (``RRULE:FREQ=DAILY;UNTIL=...``), at a floating local time (no time zone: a dose at
08:00 stays at 08:00 wherever the patient is). The file is reproducible: event ids are
derived from the plan, and ``DTSTAMP`` is ``SOURCE_DATE_EPOCH`` when set, else the date of
the revision that last changed the event (the plan's first day for a first draft), never
the time the file was made."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from taper.errors import InvalidRequestError, ParameterError, require_extra
from taper.formatting import format_dose
from taper.plan import DoseTime, Plan, Step
from taper.process import current as environment
from taper.reviews import plan_reviews

PRODUCT_ID = "-//taper//benzodiazepine taper drafting aid//EN"


def parse_reminders(text: str, slots: tuple[str, ...]) -> dict[str, dt.time]:
    """``"08:00,22:00"`` -> a reminder time for each dose time of the plan, in order."""
    times = []
    for part in text.split(","):
        if not re.fullmatch(r"\s*[0-9]{1,2}:[0-9]{2}\s*", part, re.ASCII):
            raise InvalidRequestError(f"cannot read reminder time {part.strip()!r}; write HH:MM")
        hour, minute = (int(n) for n in part.strip().split(":"))
        if hour > 23 or minute > 59:
            raise InvalidRequestError(f"reminder time {part.strip()!r} is not a time of day")
        times.append(dt.time(hour, minute))
    if len(times) != len(slots):
        raise InvalidRequestError(
            f"give one reminder time for each dose time ({', '.join(slots)}): "
            f"{len(slots)} time(s), not {len(times)}"
        )
    if times != sorted(times) or len(set(times)) != len(times):
        raise InvalidRequestError("reminder times must go through the day in order")
    return dict(zip(slots, times, strict=True))


def plan_key(plan: Plan, patient: str | None = None) -> str:
    """What identifies a plan across revisions: the patient, the drugs and the first day.

    Not the doses: a revised plan (a hold added, a slower pace) keeps its key, so a calendar
    that imports the revision replaces the events it imported before.
    """
    identity = "\n".join([patient or "", *(drug.name for drug in plan.drugs), str(plan.start_date)])
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


#: The largest revision an iCalendar SEQUENCE holds (RFC 5545: a signed 32-bit integer).
MAX_REVISION = 2**31 - 1


@dataclass(frozen=True)
class _Event:
    """What a calendar event says: a dose change, a review or a reminder."""

    summary: str
    description: str
    start: dt.date | dt.datetime
    #: An all-day event lasts the day; a reminder 15 minutes, with an alarm.
    reminder: bool = False
    #: A reminder repeats every day until this time (floating, as its start), if given.
    until: dt.datetime | None = None


def _taken(step: Step) -> tuple[DoseTime, ...]:
    return tuple(dose for dose in step.doses if dose.dose_mg)


def _dose_key(doses: tuple[DoseTime, ...]) -> tuple[tuple[str, str, Decimal, str], ...]:
    """What the patient takes, dose time by dose time: a change event only where it moves."""
    return tuple((d.slot, d.drug, d.dose_mg, d.preparation.words()) for d in doses)


def _dose_line(dose: DoseTime) -> str:
    """``"morning: clonazepam 1 mg, one 1 mg tablet"``: the drug, the dose and the form."""
    return f"{dose.slot}: {dose.drug} {format_dose(dose.dose_mg)}, {dose.preparation.words()}"


def _change_events(plan: Plan) -> dict[str, _Event]:
    """An event on the first day and on each day the doses change, and on the stop day; none
    where the doses stay as they were (the start of stabilisation after a crossover)."""
    changes: list[Step] = []
    for step in plan.steps:
        moved = not changes or _dose_key(_taken(step)) != _dose_key(_taken(changes[-1]))
        if step.phase == "stop" or moved:
            changes.append(step)
    events: dict[str, _Event] = {}
    for index, step in enumerate(changes):
        if step.phase == "stop":
            summary = f"Stop {plan.drug.name}: no more doses from today"
            description = "The last dose was yesterday. Do not restart without the prescriber."
        else:
            taken = _taken(step)
            parts = [f"{dose.slot}: {dose.drug} {format_dose(dose.dose_mg)}" for dose in taken]
            heading = "Your doses from today" if index == 0 else "New doses from today"
            summary = f"{heading}: {'; '.join(parts)}"
            following = changes[index + 1] if index + 1 < len(changes) else None
            last_day = following.start_day - 1 if following is not None else step.end_day
            days = last_day - step.start_day + 1
            description = (
                "\n".join(_dose_line(dose) for dose in taken)
                + f"\nFor {days} days, until {plan.date_of(last_day).isoformat()}."
            )
        events[f"change-{step.number}"] = _Event(summary, description, plan.date_of(step.start_day))
    return events


def reminder_runs(plan: Plan) -> list[tuple[dt.date, dt.date, DoseTime]]:
    """Each dose time's stretches of days at one dose (first day, last day, dose): a step,
    or several in a row where that dose time's dose does not move."""
    runs: list[tuple[dt.date, dt.date, DoseTime]] = []
    open_runs: dict[tuple[str, str], int] = {}
    for step in plan.steps:
        if step.phase == "stop":
            continue
        first, last = plan.date_of(step.start_day), plan.date_of(step.end_day)
        current = {}
        for dose in _taken(step):
            key = (dose.slot, dose.drug)
            index = open_runs.get(key)
            if index is not None:
                begun, ended, held = runs[index]
                if ended == first - dt.timedelta(days=1) and _dose_key((held,)) == _dose_key(
                    (dose,)
                ):
                    runs[index] = (begun, last, held)
                    current[key] = index
                    continue
            runs.append((first, last, dose))
            current[key] = len(runs) - 1
        open_runs = current
    return runs


def _plan_events(plan: Plan, reminders: dict[str, dt.time] | None) -> dict[str, _Event]:
    """The events of one plan, by event id (without the plan's key)."""
    events = _change_events(plan)
    for number, review in enumerate(plan_reviews(plan), start=1):
        events[f"review-{number}"] = _Event(
            "Review with your prescriber",
            f"{review.reason}. Bring your symptom diary.",
            review.date,
        )
    if reminders is not None:
        ordinal: Counter[tuple[str, str]] = Counter()
        for first, last, dose in reminder_runs(plan):
            at = reminders[dose.slot]
            # the n-th stretch of a dose time's drug: a plan drafted again with a hold (or a
            # revision) keeps the ids of the one before, so its events replace them
            ordinal[dose.slot, dose.drug] += 1
            number = ordinal[dose.slot, dose.drug]
            events[f"reminder-{dose.slot}-{dose.drug}-{number}"] = _Event(
                f"Take {dose.drug} {format_dose(dose.dose_mg)} ({dose.slot})",
                f"{dose.preparation.words()}\nEvery day from {first.isoformat()} to "
                f"{last.isoformat()}.",
                dt.datetime.combine(first, at),
                reminder=True,
                until=dt.datetime.combine(last, at) if last > first else None,
            )
    return events


def plan_calendar(
    plan: Plan,
    reminders: dict[str, dt.time] | None = None,
    *,
    patient: str | None = None,
    revision: int | None = None,
) -> bytes:
    """The plan as an iCalendar file: a dose change, a review, and with ``reminders`` a dose.

    Event ids name the plan (:func:`plan_key`) and the event, never its content: the n-th
    dose change is ``change-n``, the n-th review ``review-n``, the n-th stretch of a dose
    time's drug ``reminder-SLOT-DRUG-n`` (a daily recurring event). For a revised plan
    (:mod:`taper.revise`) every event of the plans it replaced is written too: one unchanged
    since keeps its ``SEQUENCE``, one changed or new takes the number of the revision that
    changed it, and one a revision removed is written ``STATUS:CANCELLED``, so that a
    calendar app that imported any earlier revision updates in place. ``revision`` sets
    every ``SEQUENCE`` of a plan without recorded revisions (a plan drafted again by hand:
    then one with fewer stretches leaves the earlier one's reminders after its end).
    """
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
        raise ParameterError("revision", revision, "a whole number")
    if revision is not None and not 0 <= revision <= MAX_REVISION:
        raise InvalidRequestError(
            "{revision} must be from 0 to " + f"{MAX_REVISION:,} (an iCalendar SEQUENCE)",
            parameters={"revision": revision},
        )
    require_extra("icalendar", "a calendar", "ics", parameter="ics")
    import icalendar

    if revision is not None and plan.revisions and revision != plan.revision:
        raise InvalidRequestError(
            f"this plan is revision {plan.revision}: its calendar numbers its own events "
            "(leave out {revision})",
            parameters={"revision": revision},
        )
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    name = f"{plan.drug.name} taper (draft for clinical review)"
    if plan.revisions:
        last = plan.revisions[-1]
        name += f", revision {last.number} of {last.on.isoformat()}"
        calendar.add(
            "x-wr-caldesc",
            "; ".join(
                f"Revision {r.number}, {r.on.isoformat()}: {r.description}" for r in plan.revisions
            )
            + f". Replaces the plan of {last.replaces_start.isoformat()}.",
        )
    calendar.add("x-wr-calname", name)
    key = plan_key(plan, patient)
    fixed = environment().source_date()
    # Each event's last content over the plans of the history, and the revision (number and
    # date) that last changed it, added it or cancelled it.
    chain = [plan]
    while chain[-1].replaces is not None:
        chain.append(chain[-1].replaces)
    sequence: dict[str, int] = {}
    stamp: dict[str, dt.date] = {}
    seen: dict[str, _Event] = {}
    current: dict[str, _Event] = {}
    for version in reversed(chain):
        number = version.revision
        changed_on = version.revisions[-1].on if version.revisions else version.start_date
        before, current = current, _plan_events(version, reminders)
        for uid in current.keys() | before.keys():
            if current.get(uid) != before.get(uid):
                sequence[uid], stamp[uid] = number, changed_on
        seen |= current
    for uid, item in seen.items():
        cancelled = uid not in current
        component = icalendar.Event()
        component.add("uid", f"{key}-{uid}@taper")
        on = stamp[uid] if plan.revisions else plan.start_date
        component.add("dtstamp", fixed or dt.datetime.combine(on, dt.time(0, 0), tzinfo=dt.UTC))
        component.add("sequence", revision if revision is not None else sequence[uid])
        component.add("summary", ("Cancelled: " if cancelled else "") + item.summary)
        component.add("description", item.description)
        component.add("dtstart", item.start)
        if item.until is not None:
            component.add("rrule", {"freq": "daily", "until": item.until})
        if item.reminder:
            component.add("duration", dt.timedelta(minutes=15))
        else:
            component.add("dtend", item.start + dt.timedelta(days=1))
        if cancelled:
            component.add("status", "CANCELLED")
        elif item.reminder:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", item.summary)
            alarm.add("trigger", dt.timedelta(0))
            component.add_component(alarm)
        calendar.add_component(component)
    return bytes(calendar.to_ical())
