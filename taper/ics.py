"""Calendar files: an event for every dose change and, if asked, daily dose reminders.

Written with icalendar (an optional extra: ``pip install 'taper[ics]'``), imported only when
a calendar is asked for. The file is reproducible: event ids are derived from the plan and
the time stamp is the plan's first day, not the time the file was made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any

from taper.errors import InvalidRequestError, ParameterError, require_extra, shown_value
from taper.formatting import format_dose
from taper.plan import DoseTime, Plan

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


def plan_calendar(
    plan: Plan,
    reminders: dict[str, dt.time] | None = None,
    *,
    patient: str | None = None,
    revision: int = 0,
) -> bytes:
    """The plan as an iCalendar file.

    Event ids name the plan (:func:`plan_key`) and the event, never its content: the n-th
    dose change is ``change-n``, a reminder is its date and dose time. ``SEQUENCE`` is the
    plan's ``revision``, so a calendar replaces the events of an earlier revision on import.
    A revision that ends earlier leaves the earlier one's reminders after its end: remove the
    old calendar first in that case (the README says so).
    """
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise ParameterError("revision", revision, "a whole number")
    if not 0 <= revision <= MAX_REVISION:
        raise InvalidRequestError(
            f"revision={shown_value(revision)} must be from 0 to {MAX_REVISION:,} "
            "(an iCalendar SEQUENCE)"
        )
    require_extra("icalendar", "--ics", "ics")
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{plan.drug.name} taper (draft for clinical review)")
    stamp = dt.datetime.combine(plan.start_date, dt.time(0, 0), tzinfo=dt.UTC)
    key = plan_key(plan, patient)

    def event(uid: str, summary: str, description: str) -> icalendar.Event:
        item = icalendar.Event()
        item.add("uid", f"{key}-{uid}@taper")
        item.add("dtstamp", stamp)
        item.add("sequence", revision)
        item.add("summary", summary)
        item.add("description", description)
        return item

    for step in plan.steps:
        taken = [dose for dose in step.doses if dose.dose_mg]
        if step.phase == "stop":
            summary = f"Stop {plan.drug.name}: no more doses from today"
            description = "The last dose was yesterday. Do not restart without the prescriber."
        else:
            parts = [f"{dose.slot}: {dose.drug} {format_dose(dose.dose_mg)}" for dose in taken]
            summary = f"New doses from today: {'; '.join(parts)}"
            description = (
                "\n".join(f"{dose.slot}: {dose.preparation.words()}" for dose in taken)
                + f"\nFor {step.days} days, until {plan.date_of(step.end_day).isoformat()}."
            )
        change = event(f"change-{step.number}", summary, description)
        change.add("dtstart", plan.date_of(step.start_day))
        change.add("dtend", plan.date_of(step.start_day) + dt.timedelta(days=1))
        calendar.add_component(change)
    if reminders is not None:
        for day in plan.days():
            for dose in day.doses:
                if dose.dose_mg:
                    calendar.add_component(_reminder(event, day.date, dose, reminders))
    return bytes(calendar.to_ical())


def _reminder(
    event: Callable[[str, str, str], Any],
    date: dt.date,
    dose: DoseTime,
    reminders: dict[str, dt.time],
) -> Any:
    import icalendar

    reminder = event(
        f"{date.isoformat()}-{dose.slot}-{dose.drug}",
        f"Take {dose.drug} {format_dose(dose.dose_mg)} ({dose.slot})",
        dose.preparation.words(),
    )
    reminder.add("dtstart", dt.datetime.combine(date, reminders[dose.slot]))
    reminder.add("duration", dt.timedelta(minutes=15))
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", reminder["summary"])
    alarm.add("trigger", dt.timedelta(0))
    reminder.add_component(alarm)
    return reminder
