"""Calendar files: an event for every dose change and, if asked, daily dose reminders.

Written with icalendar (an optional extra: ``pip install 'taper[ics]'``), imported only when
a calendar is asked for. The file is reproducible: event ids are derived from the plan and
the time stamp is the plan's first day, not the time the file was made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from taper.errors import InvalidRequestError, require_extra
from taper.formatting import format_dose
from taper.plan import Plan

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


def plan_calendar(plan: Plan, reminders: dict[str, dt.time] | None = None) -> bytes:
    """The plan as an iCalendar file."""
    require_extra("icalendar", "--ics", "ics")
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{plan.drug.name} taper (draft for clinical review)")
    stamp = dt.datetime.combine(plan.start_date, dt.time(0, 0), tzinfo=dt.UTC)
    key = hashlib.sha256(repr((plan.request, plan.start_date)).encode()).hexdigest()[:16]

    def event(uid: str, summary: str, description: str) -> icalendar.Event:
        item = icalendar.Event()
        item.add("uid", f"{key}-{uid}@taper")
        item.add("dtstamp", stamp)
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
                "\n".join(f"{dose.slot}: {dose.preparation.text()}" for dose in taken)
                + f"\nFor {step.days} days, until {plan.date_of(step.end_day).isoformat()}."
            )
        change = event(f"step-{step.number}", summary, description)
        change.add("dtstart", plan.date_of(step.start_day))
        change.add("dtend", plan.date_of(step.start_day) + dt.timedelta(days=1))
        calendar.add_component(change)
        if reminders is None or step.phase == "stop":
            continue
        for dose in taken:
            reminder = event(
                f"step-{step.number}-{dose.drug}-{dose.slot}",
                f"Take {dose.drug} {format_dose(dose.dose_mg)} ({dose.slot})",
                dose.preparation.text(),
            )
            start = dt.datetime.combine(plan.date_of(step.start_day), reminders[dose.slot])
            reminder.add("dtstart", start)
            reminder.add("duration", dt.timedelta(minutes=15))
            reminder.add("rrule", {"freq": "daily", "count": step.days})
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", reminder["summary"])
            alarm.add("trigger", dt.timedelta(0))
            reminder.add_component(alarm)
            calendar.add_component(reminder)
    return bytes(calendar.to_ical())
