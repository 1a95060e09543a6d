"""A calendar a phone can manage (issue 22): reminders as recurring events, change events
that name drug, dose and form and only where the doses move, a reproducible DTSTAMP."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import icalendar
import pytest
from dateutil.rrule import rrulestr

from taper.errors import InvalidRequestError
from taper.formatting import format_dose
from taper.ics import parse_reminders, plan_calendar
from taper.plan import Plan
from taper.revise import revise_plan
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

START = "2027-01-04"
FOUR_TIMES = "08:00,12:00,17:00,22:00"


@pytest.fixture(scope="module")
def year_plan(table: EquivalenceTable) -> Plan:
    """A plan of over a year with four dose times."""
    plan = plan_taper(
        "diazepam", "morning=10mg,midday=10mg,evening=10mg,night=10mg", start=START, table=table
    )
    assert plan.checks.duration_days > 365
    return plan


@pytest.fixture(scope="module")
def switch_plan(table: EquivalenceTable) -> Plan:
    return plan_taper(
        "clonazepam", "morning=0.5mg,night=1mg", switch_to="diazepam", start=START, table=table
    )


def _events(calendar: bytes) -> list[Any]:
    return list(icalendar.Calendar.from_ical(calendar).walk("VEVENT"))


def _expanded(events: list[Any]) -> Counter[tuple[dt.date, str, str, str]]:
    """Every reminder a phone shows, recurrences expanded with dateutil: (day, dose time,
    drug, dose)."""
    shown: Counter[tuple[dt.date, str, str, str]] = Counter()
    for event in events:
        match = re.fullmatch(r"Take (\S+) (.+) \((\w+)\)", str(event["SUMMARY"]))
        if match is None or str(event.get("STATUS", "")) == "CANCELLED":
            continue
        drug, dose, slot = match.groups()
        start = event.decoded("DTSTART")
        assert start.tzinfo is None  # floating: the dose at 08:00 wherever the phone is
        if "RRULE" in event:
            rule = event["RRULE"].to_ical().decode()
            assert "FREQ=DAILY" in rule
            assert not rule.endswith("Z")  # UNTIL floating, as its start (RFC 5545)
            days = [when.date() for when in rrulestr(rule, dtstart=start)]
        else:
            days = [start.date()]
        for day in days:
            shown[day, slot, drug, dose] += 1
    return shown


def _doses(plan: Plan, from_date: dt.date | None = None) -> Counter[tuple[dt.date, str, str, str]]:
    return Counter(
        (day.date, dose.slot, dose.drug, format_dose(dose.dose_mg))
        for day in plan.days()
        for dose in day.doses
        if dose.dose_mg and (from_date is None or day.date >= from_date)
    )


@pytest.mark.parametrize("kind", ["year", "switch"])
def test_recurring_reminders_expand_to_exactly_the_plans_doses(
    year_plan: Plan, switch_plan: Plan, kind: str
) -> None:
    """Regression: four reminders a day for 406 days were 907 separate events (298 KB),
    which a phone can only stop by deleting the calendar."""
    plan = year_plan if kind == "year" else switch_plan
    times = FOUR_TIMES if kind == "year" else "08:00,22:00"
    calendar = plan_calendar(plan, parse_reminders(times, plan.slots))
    events = _events(calendar)
    assert _expanded(events) == _doses(plan)
    reminders = [e for e in events if str(e["SUMMARY"]).startswith("Take ")]
    steps = [step for step in plan.steps if step.phase != "stop"]
    assert len(reminders) <= len(steps) * len(plan.slots) * len(plan.drugs)
    if kind == "year":
        assert len(events) < 200
        assert len(calendar) < 100_000


def test_a_revised_calendar_expands_to_the_revisions_doses(year_plan: Plan) -> None:
    times = parse_reminders(FOUR_TIMES, year_plan.slots)
    revised = revise_plan(year_plan, on="2027-03-01", hold="3w", reason="a hard month")
    store: dict[str, Any] = {}
    for calendar in (plan_calendar(year_plan, times), plan_calendar(revised, times)):
        for event in _events(calendar):  # imported as a phone does (RFC 5546)
            uid = str(event["UID"])
            held = store.get(uid)
            if held is not None and int(held["SEQUENCE"]) > int(event["SEQUENCE"]):
                continue
            if str(event.get("STATUS", "")) == "CANCELLED":
                store.pop(uid, None)
            else:
                store[uid] = event
    assert _expanded(list(store.values())) == _doses(revised)


def test_change_events_name_the_drug_dose_and_form_in_a_crossover(switch_plan: Plan) -> None:
    """Regression: during a crossover the change events said 'morning: one 1 mg tablet /
    morning: one 10 mg tablet' without the drugs."""
    changes = [e for e in _events(plan_calendar(switch_plan)) if "-change-" in str(e["UID"])]
    crossover = str(changes[1]["DESCRIPTION"])
    assert "morning: clonazepam 0.5 mg, one 0.5 mg tablet" in crossover
    assert "night: diazepam 20 mg, two 10 mg tablets" in crossover


def test_no_change_event_where_the_doses_stay(switch_plan: Plan) -> None:
    """Regression: a 'New doses from today' event at the start of stabilisation, where the
    doses did not change."""
    stabilization = next(s for s in switch_plan.steps if s.phase == "stabilization")
    events = _events(plan_calendar(switch_plan))
    starts = {e.decoded("DTSTART") for e in events if "-change-" in str(e["UID"])}
    assert switch_plan.date_of(stabilization.start_day) not in starts
    summaries = [str(e["SUMMARY"]) for e in events if "-change-" in str(e["UID"])]
    assert len(summaries) == len(set(summaries))  # no two events say the same doses
    assert summaries[0].startswith("Your doses from today: ")


def test_dtstamp_is_source_date_epoch_or_reproducible(
    switch_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: DTSTAMP was the plan's first day, in the future, with no way to set it."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert plan_calendar(switch_plan) == plan_calendar(switch_plan)  # reproducible default
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")  # 2025-12-01 00:00 UTC
    events = _events(plan_calendar(switch_plan))
    assert {e.decoded("DTSTAMP") for e in events} == {dt.datetime(2025, 12, 1, tzinfo=dt.UTC)}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InvalidRequestError, match="SOURCE_DATE_EPOCH='yesterday' is not"):
        plan_calendar(switch_plan)
