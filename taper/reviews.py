"""When the prescriber reviews the plan with the patient: the review schedule of a plan.

The rule (``docs/revise.md``; clinical reference, section 8):

- **After a switch**: 5-7 days after the switch to the new drug is complete (NHS Scotland
  2024: "review 5-7 days after a switch"); the review is placed on day 5 after the last
  crossover stage starts, to be held by day 7.
- **With the reductions**: on the day of a cut, before the new dose is taken (the 2025 Joint
  Guideline evaluates signs and symptoms with each reduction; NHS Scotland reviews and
  reduces every 2-4 weeks), but not within 2 weeks of the review before: the patient's
  symptom diary covers the cuts in between.
- **Never more than 4 weeks without one** (NHS Scotland's every 2-4 weeks), which also keeps
  the Joint Guideline's review of risks and benefits at least every 3 months.
- **On a weekday**, where a clinic can hold it: a review due on a Saturday or Sunday is held
  on the Friday before (still before the cut it is for); the review after a switch on the
  first weekday of its 5-7 days.

Reviews are a schedule to agree with the patient, not a rule of the taper: the plan's doses
do not depend on them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from taper.formatting import format_dose
from taper.plan import Plan

NHS_SCOTLAND = "NHS Scotland 2024 (Quality prescribing for benzodiazepines, section 5)"
JOINT = "2025 Joint Clinical Practice Guideline on Benzodiazepine Tapering (Recs 1, 6, 9)"
#: The review after a switch: from this many days after it ...
SWITCH_REVIEW_DAYS = 5
#: ... to this many (NHS Scotland: 5-7 days).
SWITCH_REVIEW_BY_DAYS = 7
#: No review at a cut within this many days of the one before (NHS Scotland: 2-4 weeks).
LEAST_GAP_DAYS = 14
#: Never longer than this without a review (NHS Scotland: 2-4 weeks).
MOST_GAP_DAYS = 28


@dataclass(frozen=True)
class Review:
    """One review: its day of the plan, date, why it is due and the source of the rule."""

    day: int
    date: dt.date
    kind: str  # "switch", "reduction" or "interval"
    reason: str
    source: str


def plan_reviews(plan: Plan) -> tuple[Review, ...]:
    """The plan's review schedule, in order of date (see the module docstring)."""
    due: list[tuple[int, str, str]] = []  # (day, kind, what) in order of day
    crossover = [step for step in plan.steps if step.phase == "crossover"]
    switch_day = None
    if crossover:
        switch_day = crossover[-1].start_day + SWITCH_REVIEW_DAYS
        due.append((switch_day, "switch", ""))
    for step in plan.steps[1:]:
        if step.phase in {"taper", "stop"} and step.cut_percent and step.cut_percent > 0:
            what = (
                "the stop"
                if step.phase == "stop"
                else f"the cut to {format_dose(step.total_mg)} a day"
            )
            due.append((step.start_day, "reduction", what))
    due.sort(key=lambda item: item[0])
    reviews: list[Review] = []
    last = 1  # the plan is drafted with the patient on its first day

    def add(day: int, kind: str, reason: str, source: str) -> None:
        nonlocal last
        weekend = plan.date_of(day).weekday() - 4  # 1 on a Saturday, 2 on a Sunday
        if weekend > 0:  # the Friday before, or the Monday after within a switch's window
            day += 3 - weekend if kind == "switch" else -weekend
        reviews.append(Review(day, plan.date_of(day), kind, reason, source))
        last = day

    stop_day = plan.steps[-1].start_day
    for day, kind, what in due:
        if day > stop_day:
            break
        while day - last > MOST_GAP_DAYS:
            add(last + MOST_GAP_DAYS, "interval", "at least every 4 weeks", NHS_SCOTLAND)
        if kind == "switch":
            by = plan.date_of(day - SWITCH_REVIEW_DAYS + SWITCH_REVIEW_BY_DAYS).isoformat()
            add(
                day,
                "switch",
                f"5-7 days after the switch to {plan.drug.name} (by {by}): how the new drug suits",
                NHS_SCOTLAND,
            )
        elif day - last >= LEAST_GAP_DAYS:
            add(
                day,
                "reduction",
                f"before {what}: symptoms since the last change; go ahead, pause or slow down",
                f"{JOINT}; {NHS_SCOTLAND}",
            )
    return tuple(reviews)
