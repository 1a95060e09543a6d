"""Revising a running plan (taper/revise.py): each rule, the history, the files read back,
the calendar that updates in place, and the one-line refusals."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper import load_plan, plan_taper
from taper.check import check_plan
from taper.csvout import plan_csv
from taper.errors import DataFileError, InvalidRequestError, TaperError
from taper.records import dumps_json, plan_document
from taper.reviews import MOST_GAP_DAYS, plan_reviews
from taper.schedule import TaperPlan
from taper.table import EquivalenceTable

from .conftest import ROOT

START = "2027-01-04"


def _plan(table: EquivalenceTable, *args: Any, **options: Any) -> TaperPlan:
    return plan_taper(*args, table=table, start=START, **options)


@pytest.fixture(scope="module")
def diazepam(table: EquivalenceTable) -> TaperPlan:
    return _plan(table, "diazepam", "20mg", times=2)


@pytest.fixture(scope="module")
def switch(table: EquivalenceTable) -> TaperPlan:
    return _plan(table, "clonazepam", "2mg", switch_to="diazepam")


def _rows(plan: TaperPlan) -> list[str]:
    """The CSV's day rows (no # lines, no header)."""
    return [line for line in plan.to_csv().splitlines() if not line.startswith(("#", "day,"))]


def _before(plan: TaperPlan, day: int) -> list[str]:
    return [row for row in _rows(plan) if int(row.split(",")[0]) < day]


def _totals(plan: TaperPlan) -> dict[int, Decimal]:
    """Each day's total dose of the drug tapered."""
    return {
        day.day: sum((d.dose_mg for d in day.doses if d.drug == plan.drug.name), Decimal(0))
        for day in plan.days()
    }


def _day(plan: TaperPlan, date: str) -> int:
    return (dt.date.fromisoformat(date) - plan.start_date).days + 1


def _json_days_before(plan: TaperPlan, day: int) -> list[Any]:
    return [d for d in plan.to_dict()["days"] if d["day"] < day]


# --- the rules --------------------------------------------------------------------------------


def test_hold_keeps_the_dose_of_the_day_before_then_shifts_the_rest(diazepam: TaperPlan) -> None:
    on = diazepam.date_of(diazepam.steps[3].start_day + 5)
    day = _day(diazepam, on.isoformat())
    revised = diazepam.revise(on=on, hold=dt.timedelta(weeks=2), reason="poor sleep")
    assert _before(revised, day) == _before(diazepam, day)
    assert _json_days_before(revised, day) == _json_days_before(diazepam, day)
    before, after = _totals(diazepam), _totals(revised)
    assert all(after[d] == before[day - 1] for d in range(day, day + 14))
    assert all(after[d + 14] == before[d] for d in before if d >= day)
    assert revised.checks.duration_days == diazepam.checks.duration_days + 14
    held = [d for d in revised.days() if day <= d.day < day + 14]
    assert {d.phase for d in held} == {"hold"}


def test_hold_on_a_cut_day_and_on_the_stop_day(diazepam: TaperPlan) -> None:
    cut = diazepam.steps[2].start_day
    revised = diazepam.revise(on=diazepam.date_of(cut), hold="10d")
    assert _totals(revised)[cut] == diazepam.steps[1].total_mg
    assert _totals(revised)[cut + 10] == diazepam.steps[2].total_mg
    stop = diazepam.steps[-1].start_day
    longer = diazepam.revise(on=diazepam.date_of(stop), hold=7)
    assert longer.steps[-1].start_day == stop + 7
    assert _totals(longer)[stop + 6] == diazepam.steps[-2].total_mg


def test_back_returns_to_the_previous_dose_then_cuts_no_larger(diazepam: TaperPlan) -> None:
    current = diazepam.steps[4]
    on = diazepam.date_of(current.start_day + 3)
    day = _day(diazepam, on.isoformat())
    revised = diazepam.revise(on=on, back=True, reason="withdrawal")
    assert _before(revised, day) == _before(diazepam, day)
    back = next(step for step in revised.steps if step.start_day == day)
    assert back.total_mg == diazepam.steps[3].total_mg > current.total_mg
    # 5% would make the same 1 mg cuts as 10% from 16 mg: the same cuts twice as far apart.
    assert back.days == 2 * diazepam.request.interval_days
    # Cuts from each dose never larger than the first draft's from the same dose, and the
    # pace half the first draft's: each dose lasts at least as long, the dose gone back to too.
    first_cut = {s.total_mg: s.cut_percent for s in diazepam.steps[1:]}
    first_days = {}
    for earlier, later in zip(diazepam.steps, diazepam.steps[1:], strict=False):
        first_days[earlier.total_mg] = earlier.days
        first_cut[earlier.total_mg] = later.cut_percent
    after = [s for s in revised.steps if s.start_day > day]
    previous = back
    for step in after:
        assert step.total_mg <= previous.total_mg  # never rising
        assert step.cut_percent is not None
        assert step.cut_percent <= (first_cut.get(previous.total_mg) or Decimal(100))
        if step.phase != "stop":
            assert previous.days >= first_days.get(previous.total_mg, 0)
        previous = step
    assert "half the pace" in revised.history[-1].description


def test_back_with_a_named_pace_must_be_slower(diazepam: TaperPlan) -> None:
    on = diazepam.date_of(diazepam.steps[4].start_day + 1)
    slower = diazepam.revise(on=on, back=True, every="4w", hold="3w")
    assert "every 28 days" in slower.history[-1].description
    first = next(s for s in slower.steps if s.start_day == _day(diazepam, on.isoformat()))
    assert first.days == 21
    with pytest.raises(InvalidRequestError, match="resumes more slowly"):
        diazepam.revise(on=on, back=True, rate="25%")


def test_back_said_half_the_pace_but_repeated_the_cuts_that_failed(diazepam: TaperPlan) -> None:
    """A step back said "half the pace: 5% ... every 14 days" and went 17, 16, 15, 14 mg a
    fortnight apart: the first draft's 1 mg every 14 days (5% and 10% of 14-17 mg both make
    1 mg cuts from 1 mg steps). The plan is now slower there, and says how."""
    held = diazepam.revise(on="2027-02-10", hold="2w", reason="poor sleep")
    back = held.revise(on="2027-03-15", back=True, reason="anxiety")
    day = _day(back, "2027-03-15")
    new = [(s.total_mg, s.days) for s in back.steps if s.start_day >= day][:4]
    assert new == [(17, 28), (16, 28), (15, 28), (14, 28)]
    description = back.history[-1].description
    assert description == (
        "back to 17 mg a day (step 5, the last dose before 16 mg), then half the pace: 10% of "
        "the current dose (exponential) every 28 days (5% would make the same 1 mg cuts from "
        "these products); from 17 mg that is 1 mg after 28 days, where the plan cut 1 mg after "
        "14 days and a hold of 14 days (anxiety)"
    )
    # Where the products make smaller cuts, half the cut: lorazepam 3.5 mg to 3 mg in 0.2 mg.
    lorazepam = plan_taper("lorazepam", "4mg", times=2, start=START)
    smaller = lorazepam.revise(on=lorazepam.date_of(lorazepam.steps[2].start_day + 2), back=True)
    assert "5% of the current dose (exponential) every 14 days; from 3.5 mg that is 0.2 mg " in (
        smaller.history[-1].description
    )


def test_a_new_pace_cut_after_one_interval_where_the_method_holds(diazepam: TaperPlan) -> None:
    """A revision's first step lasted exactly one interval even where the method waits for
    the products (5% of 17 mg is 0.85 mg; the tablets cut 1 mg): 17 to 16 mg after 14 days
    at "5% every 14 days", a 5.9% cut. It now waits as the method does."""
    revised = diazepam.revise(on="2027-02-10", rate="5%")
    day = _day(revised, "2027-02-10")
    first = next(s for s in revised.steps if s.start_day == day)
    assert (first.total_mg, first.days) == (17, 28)
    assert "held: the products cannot make a smaller cut yet" in first.notes


def test_back_with_a_named_pace_the_products_make_no_slower_is_refused(
    diazepam: TaperPlan,
) -> None:
    """7% every 14 days is slower than 10% on paper, but makes the same 1 mg cuts from 17 mg
    at the same time: refused, naming an interval that works."""
    held = diazepam.revise(on="2027-02-10", hold="2w")
    with pytest.raises(InvalidRequestError, match=r"give a longer every= \(28 days is slower\)"):
        held.revise(on="2027-03-15", back=True, rate="7%")
    works = held.revise(on="2027-03-15", back=True, rate="7%", every=28)
    assert "from 17 mg that is 1 mg after 28 days" in works.history[-1].description


def _stretches(
    steps: list[Any], name: str, whole_first: bool
) -> list[tuple[Decimal, int, Decimal]]:
    """(daily total, days at it without its holds, cut after it) for each dose of ``name`` the
    steps pass through; with ``whole_first`` the first dose's days count whole."""
    merged: list[list[Any]] = []
    for index, step in enumerate(steps):
        total = step.totals_by_drug().get(name, Decimal(0))
        days = step.days if whole_first and index == 0 else step.days - step.hold_days
        if merged and merged[-1][0] == total:
            merged[-1][1] += days
        else:
            merged.append([total, days])
    return [(t, d, t - n) for (t, d), (n, _) in itertools.pairwise(merged) if n < t]


_BACK_CASES = [
    ("diazepam", "20mg", 2),
    ("diazepam", "6mg", 1),
    ("diazepam", "30mg", 3),
    ("clonazepam", "2mg", 2),
    ("clonazepam", "1mg", 1),
    ("lorazepam", "4mg", 2),
    ("lorazepam", "2mg", 2),
    ("alprazolam", "2mg", 2),
    ("chlordiazepoxide", "30mg", 2),
    ("oxazepam", "60mg", 3),
]


@given(
    case=st.sampled_from(_BACK_CASES),
    rate=st.decimals(min_value=5, max_value=25, places=0),
    where=st.integers(min_value=0, max_value=10_000),
    offset=st.integers(min_value=0, max_value=13),
    hold_first=st.booleans(),
)
def test_property_after_a_step_back_no_cut_is_larger_or_sooner(
    case: tuple[str, str, int], rate: Decimal, where: int, offset: int, hold_first: bool
) -> None:
    """After --back, over the doses the plan passes through again, each cut is no larger and
    comes no sooner than the plan's cut from that dose was (holds aside), and at least one
    is smaller or later; a cut from a dose between two of the plan's is no larger than the
    plan's over it."""
    drug, dose, times = case
    plan = plan_taper(drug, dose, times=times, start=START, rate=f"{rate}%")
    if hold_first:
        step = plan.steps[1 + where % (len(plan.steps) - 2)]
        plan = plan.revise(on=plan.date_of(step.start_day + 1), hold="2w")
    name = plan.drug.name
    tapering = [s for s in plan.steps if s.phase in ("taper", "stop")]
    since = _day(plan, plan.revisions[-1].on.isoformat()) if hold_first else 1
    later = [
        s for s in tapering[1:-1] if s.total_mg < tapering[0].total_mg and s.start_day >= since
    ]
    if not later:
        return
    step = later[where % len(later)]
    day = min(step.start_day + offset, step.end_day) + 1  # the day before is in the step
    revised = plan.revise(on=plan.date_of(day), back=True)
    old = _stretches(tapering, name, whole_first=False)
    new = _stretches([s for s in revised.steps if s.start_day >= day], name, whole_first=True)
    by_dose = {total: (days, cut) for total, days, cut in reversed(old)}
    stricter = False
    for total, days, cut in new:
        if total in by_dose:
            old_days, old_cut = by_dose[total]
            assert cut <= old_cut, (total, cut, old_cut)
            assert days >= old_days, (total, days, old_days)
            stricter = stricter or cut < old_cut or days > old_days
        else:
            over = next(c for t, _, c in old if t >= total > t - c)
            assert cut <= over
            stricter = True
    assert stricter


def test_taken_continues_from_the_dose_taken_never_rising(diazepam: TaperPlan) -> None:
    on = diazepam.date_of(diazepam.steps[2].start_day + 2)
    day = _day(diazepam, on.isoformat())
    for taken in ("12mg", "morning=4mg,night=10mg", {"night": "16mg"}):
        revised = diazepam.revise(on=on, taken=taken)
        assert _before(revised, day) == _before(diazepam, day)
        totals = _totals(revised)
        expected = {"12mg": 12, "morning=4mg,night=10mg": 14}.get(str(taken), 16)
        assert totals[day] == expected
        later = [totals[d] for d in sorted(totals) if d >= day]
        assert all(b <= a for a, b in itertools.pairwise(later))
    faster = diazepam.revise(on=on, taken="10mg")
    assert "faster than the plan" in faster.history[-1].notes[0]


def test_a_dose_taken_that_the_products_cannot_make_is_refused_not_rounded(
    table: EquivalenceTable,
) -> None:
    """A fresh user's review: a daily total the products cannot make was rounded down to
    their grid when split over dose times (lorazepam 1.25 mg as 0.2 + 1 mg); a dose taken is
    what the patient takes from now, so it is refused, naming the products."""
    from taper.errors import UndispensableDoseError

    lorazepam = _plan(table, "lorazepam", "2mg", times=2, region="us")
    on = lorazepam.date_of(30)
    with pytest.raises(UndispensableDoseError, match=r"^lorazepam 1\.25 mg cannot be made from"):
        lorazepam.revise(on=on, taken="1.25mg")
    assert _totals(lorazepam.revise(on=on, taken="1.2mg"))[30] == Decimal("1.2")


def test_taken_above_the_starting_dose_needs_allow_high_dose(diazepam: TaperPlan) -> None:
    on = diazepam.date_of(30)
    with pytest.raises(InvalidRequestError, match="above the plan's starting dose"):
        diazepam.revise(on=on, taken="25mg")
    assert _totals(diazepam.revise(on=on, taken="25mg", allow_high_dose=True))[30] == 25


def test_a_new_rate_or_interval_from_the_date(diazepam: TaperPlan) -> None:
    on = diazepam.date_of(diazepam.steps[3].start_day + 1)
    day = _day(diazepam, on.isoformat())
    slower = diazepam.revise(on=on, every="4w")
    assert _before(slower, day) == _before(diazepam, day)
    after = [s for s in slower.steps if s.start_day >= day and s.phase != "stop"]
    assert all(s.days >= 28 for s in after[:-1])
    assert slower.checks.duration_days > diazepam.checks.duration_days
    gentler = diazepam.revise(on=on, rate=5)
    assert gentler.checks.duration_days > diazepam.checks.duration_days


def test_a_revision_of_a_revision_keeps_its_history(table: EquivalenceTable) -> None:
    first = _plan(table, "diazepam", "20mg", times=2)
    once = first.revise(on="2027-02-20", hold="2w", reason="exams")
    twice = once.revise(on="2027-04-01", back=True, reason="anxiety")
    assert [(r.number, r.action, r.reason) for r in twice.history] == [
        (1, "hold", "exams"),
        (2, "back", "anxiety"),
    ]
    assert twice.history[0].replaces_sha256 == first.sha256
    assert twice.history[1].replaces_sha256 == once.sha256
    assert twice.replaces is not None
    assert twice.replaces.sha256 == once.sha256
    assert _before(twice, _day(first, "2027-02-20")) == _before(first, _day(first, "2027-02-20"))
    document = twice.to_dict()
    assert document["meta"]["revision"] == 2
    assert [r["reason"] for r in document["meta"]["revisions"]] == ["exams", "anxiety"]
    assert document["plan_sha256"] == twice.sha256


@given(
    offset=st.integers(min_value=1, max_value=300),
    hold=st.integers(min_value=1, max_value=60),
)
def test_property_days_before_the_date_never_change(offset: int, hold: int) -> None:
    plan = _property_plan()
    stop = plan.steps[-1].start_day
    day = 1 + offset % (stop - 1) + 1
    revised = plan.revise(on=plan.date_of(day), hold=hold)
    assert _before(revised, day) == _before(plan, day)
    totals, before = _totals(revised), _totals(plan)
    assert all(totals[d + hold] == before[d] for d in before if d >= day)


@given(
    offset=st.integers(min_value=1, max_value=300),
    taken=st.decimals(min_value=Decimal(1), max_value=Decimal(20), places=0),
)
def test_property_taken_never_rises_after_the_dose_taken(offset: int, taken: Decimal) -> None:
    plan = _property_plan()
    day = 2 + offset % (plan.steps[-1].start_day - 2)
    revised = plan.revise(on=plan.date_of(day), taken=f"night={taken}mg")
    totals = _totals(revised)
    assert totals[day] == taken
    later = [totals[d] for d in sorted(totals) if d >= day]
    assert all(b <= a for a, b in itertools.pairwise(later))


_PROPERTY_PLAN: list[TaperPlan] = []


def _property_plan() -> TaperPlan:
    if not _PROPERTY_PLAN:
        _PROPERTY_PLAN.append(plan_taper("diazepam", "20mg", start=START))
    return _PROPERTY_PLAN[0]


# --- refusals, one line each ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"on": "2026-12-01", "hold": "2w"}, "outside the plan"),
        ({"on": "2027-01-04", "hold": "2w"}, "outside the plan"),
        ({"on": "2031-01-01", "hold": "2w"}, "outside the plan"),
        ({"on": "2027-02-01"}, "say how the plan changes"),
        ({"on": "2027-02-01", "hold": "2w", "rate": "5%"}, "keeps the plan's pace"),
        ({"on": "2027-02-01", "back": True, "taken": "5mg"}, "not both"),
        ({"on": "2027-01-10", "back": True}, "no earlier dose"),
        ({"on": "2027-02-01", "taken": "midday=5mg"}, "not a dose time of the plan"),
        ({"on": "2027-02-01", "hold": "0d"}, "at least one day"),
        ({"on": "2027-02-01", "hold": "1w", "reason": "a\x00b"}, "control character"),
        ({"on": "2027-02-01", "hold": "1w", "reason": "x" * 201}, "longer than 200"),
    ],
)
def test_impossible_revisions_are_one_line(
    diazepam: TaperPlan, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaperError, match=message) as caught:
        diazepam.revise(**options)
    assert "\n" not in str(caught.value)


def test_a_revision_before_the_last_one_is_refused(diazepam: TaperPlan) -> None:
    once = diazepam.revise(on="2027-03-01", hold="1w")
    with pytest.raises(InvalidRequestError, match="before revision 1's"):
        once.revise(on="2027-02-01", hold="1w")


def test_back_or_taken_during_a_switch_is_refused_hold_works(switch: TaperPlan) -> None:
    on = switch.date_of(switch.steps[1].start_day + 2)
    with pytest.raises(InvalidRequestError, match="crossover phase"):
        switch.revise(on=on, back=True)
    held = switch.revise(on=on, hold="1w")
    assert held.checks.duration_days == switch.checks.duration_days + 7


def test_a_hold_during_a_crossover_is_described_on_one_line(table: EquivalenceTable) -> None:
    """A hold in the README's lorazepam switch at the Ashton pace was described as 'hold 7
    days on 1 mg lorazepam\\n10 mg diazepam a day': a newline in the terminal, the JSON and
    the handout. The drugs are joined as elsewhere, on one line."""
    plan = _plan(table, "lorazepam", "2mg", times=3, switch_to="diazepam", pace="ashton")
    held = plan.revise(on="2027-01-20", hold="1w")
    assert held.history[-1].description == (
        "hold 7 days on 1 mg lorazepam + 10 mg diazepam a day (the dose of 2027-01-19), then "
        "the rest of the plan 7 days later"
    )
    assert "\\n" not in dumps_json(plan_document(held, table))
    with pytest.raises(InvalidRequestError, match=r"\(1 mg lorazepam \+ 10 mg diazepam\)"):
        plan.revise(on="2027-01-20", back=True)


def test_a_revision_said_the_pace_and_small_volumes_twice(table: EquivalenceTable) -> None:
    """A revision kept the plan's notes of its named pace and of concentrate doses under
    0.5 mL and had them worked out again: 'Note: pace ashton: ...' twice, and two
    small-volume warnings, one naming the first draft's steps."""
    plan = _plan(table, "lorazepam", "2mg", times=3, switch_to="diazepam", pace="ashton")
    held = plan.revise(on="2027-01-20", hold="1w")
    said = [str(w) for w in held.warnings]
    assert said.count(f"pace ashton: {plan.request.pace_source}") == 1
    assert len(said) == len(set(said))
    small = _plan(table, "lorazepam", "1mg")
    revised = small.revise(on=small.date_of(small.steps[1].start_day + 1), hold="1w")
    volumes = [str(w) for w in revised.warnings if w.kind.value == "small-volume"]
    assert len(volumes) == 1
    assert "at step(s) 2-7:" in volumes[0]


def test_revise_prints_the_pace_note_once(run: Any, tmp_path: Path) -> None:
    """`taper revise` of an Ashton-pace plan printed "Note: pace ashton: ..." twice."""
    plan = tmp_path / "plan.json"
    made = run(
        "schedule", "lorazepam", "2mg", "--times", "3", "--switch-to", "diazepam",
        "--pace", "ashton", "--start", "2027-01-04", "-o", str(plan),
    )  # fmt: skip
    assert made.exit_status == 0, made.stderr
    revised = run("revise", str(plan), "--on", "2027-01-20", "--hold", "1w")
    assert revised.exit_status == 0, revised.stderr
    assert revised.stdout.count("Note: pace ashton:") == 1
    assert "hold 7 days on 1 mg lorazepam + 10 mg diazepam a day" in " ".join(
        revised.stdout.split()
    )


# --- files read back ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_revised_plan_file_reads_back_exactly(
    table: EquivalenceTable, tmp_path: Path, suffix: str
) -> None:
    plan = _plan(table, "lorazepam", "2mg", times=2, finish_on="diazepam")
    revised = plan.revise(on="2027-02-15", hold="2w").revise(on="2027-06-01", every="4w")
    path = tmp_path / f"plan{suffix}"
    text = (
        plan_csv(revised, table) if suffix == ".csv" else dumps_json(plan_document(revised, table))
    )
    path.write_text(text, encoding="utf-8")
    again = load_plan(path, table=table)
    assert again.sha256 == revised.sha256
    assert [r.description for r in again.history] == [r.description for r in revised.history]


def test_finish_on_plan_rebuilds_from_its_recorded_parameters(
    table: EquivalenceTable, tmp_path: Path
) -> None:
    """The recorded order was the second drug's, so the first drug's lead-in came out in
    another order when the plan was rebuilt from its parameters."""
    plan = _plan(table, "alprazolam", "2mg", times=3, finish_on="diazepam")
    path = tmp_path / "plan.json"
    path.write_text(dumps_json(plan_document(plan, table)), encoding="utf-8")
    assert load_plan(path, table=table).sha256 == plan.sha256


@pytest.mark.parametrize(
    ("suffix", "edit"),
    [
        (".csv", lambda text: text.replace(",morning,10,", ",morning,9,", 1)),
        (".csv", lambda text: text.replace('"reason":"exams"', '"reason":"none"', 1)),
        (".json", lambda text: text.replace('"dose_mg": 10', '"dose_mg": 9', 1)),
        (".json", lambda text: text.replace('"rate_percent": 10', '"rate_percent": 5', 1)),
        # Outside the checksummed content (an attacker's review): a warning, a revision's
        # description, an equivalent, what to dispense: each was read back as written.
        (".json", lambda text: text.replace('"message": "', '"message": "No risk. ', 1)),
        (".json", lambda text: text.replace('"description": "', '"description": "None. ', 1)),
        (".json", lambda text: text.replace('"quantity": ', '"quantity": 1', 1)),
        (".csv", lambda text: text.replace('"description":"', '"description":"None. ', 1)),
        (".csv", lambda text: text.replace(",morning,10,10,", ",morning,10,1,", 1)),
        (".csv", lambda text: text.replace("\n# reviews [", "\n# reviews [] [", 1)),
    ],
)
def test_a_plan_edited_by_hand_is_refused_by_its_checksum(
    table: EquivalenceTable, tmp_path: Path, suffix: str, edit: Any
) -> None:
    plan = _plan(table, "diazepam", "20mg", times=2).revise(
        on="2027-02-01", hold="1w", reason="exams"
    )
    text = plan_csv(plan, table) if suffix == ".csv" else dumps_json(plan_document(plan, table))
    edited = edit(text)
    assert edited != text
    path = tmp_path / f"plan{suffix}"
    path.write_text(edited, encoding="utf-8")
    with pytest.raises(DataFileError, match="checksum") as caught:
        load_plan(path, table=table)
    assert "\n" not in str(caught.value)


def test_a_plan_file_with_a_key_twice_is_refused(table: EquivalenceTable, tmp_path: Path) -> None:
    """Readers disagree on a JSON object with a key twice (most keep the last, some the
    first): a pharmacy system could show one dose while taper checked another."""
    plan = _plan(table, "diazepam", "20mg", times=2)
    text = dumps_json(plan_document(plan, table))
    doubled = text.replace('"dose_mg": 10,', '"dose_mg": 9, "dose_mg": 10,', 1)
    assert doubled != text
    path = tmp_path / "plan.json"
    path.write_text(doubled, encoding="utf-8")
    with pytest.raises(DataFileError, match="'dose_mg' appears twice") as caught:
        load_plan(path, table=table)
    assert "\n" not in str(caught.value)


def test_a_plan_file_loads_with_its_table_named_otherwise(tmp_path: Path) -> None:
    """The same table (by its sha256) given by another path: the file still loads."""
    copy = tmp_path / "mine.toml"
    copy.write_bytes((ROOT / "equivalences.toml").read_bytes())
    plan = plan_taper("diazepam", "20mg", times=2, table=copy)
    for suffix in (".csv", ".json"):
        path = tmp_path / f"plan{suffix}"
        path.write_text(
            plan.to_csv() if suffix == ".csv" else dumps_json(plan.to_dict()), encoding="utf-8"
        )
        assert load_plan(path, table=tmp_path / "." / "mine.toml").sha256 == plan.sha256


def test_every_output_names_the_revision(table: EquivalenceTable) -> None:
    plan = _plan(table, "diazepam", "20mg", times=2).revise(
        on="2027-02-01", hold="1w", reason="exams"
    )
    csv_head = [line for line in plan_csv(plan, table).splitlines() if line.startswith("#")]
    assert any(line.endswith("; revision 1") for line in csv_head)
    revisions = next(line for line in csv_head if line.startswith("# revisions "))
    record = json.loads(revisions.removeprefix("# revisions "))[0]
    assert (record["revision"], record["on"], record["reason"]) == (1, "2027-02-01", "exams")
    assert plan.to_dict()["meta"]["revisions"][0]["on"] == "2027-02-01"


# --- taper check --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "revision",
    [{"hold": "2w"}, {"back": True}, {"taken": "night=14mg,morning=4mg"}, {"every": "3w"}],
    ids=["hold", "back", "taken", "every"],
)
def test_a_revised_plan_passes_taper_check(
    table: EquivalenceTable, tmp_path: Path, revision: dict[str, Any]
) -> None:
    plan = _plan(table, "diazepam", "20mg", times=2)
    path = tmp_path / "plan.csv"
    path.write_text(plan_csv(plan, table), encoding="utf-8")
    assert check_plan(path, table).clean
    on = plan.date_of(plan.steps[2].start_day + 3)
    revised = plan.revise(on=on, **revision)
    path.write_text(plan_csv(revised, table), encoding="utf-8")
    result = check_plan(path, table)
    assert result.clean, result.problems
    if "back" in revision:
        assert any("the dose goes up: revision 1" in note for note in result.notes)


def test_a_step_back_is_a_problem_again_once_the_file_is_edited(
    table: EquivalenceTable, tmp_path: Path
) -> None:
    plan = _plan(table, "diazepam", "20mg", times=2)
    revised = plan.revise(on=plan.date_of(plan.steps[2].start_day + 3), back=True)
    path = tmp_path / "plan.csv"
    path.write_text(
        plan_csv(revised, table).replace('"reason":null', '"reason":"x"'), encoding="utf-8"
    )
    result = check_plan(path, table)
    assert [p.kind for p in result.problems] == ["edited", "increase"]
    assert "its revisions are not taken into account" in result.problems[0].message


# --- reviews ------------------------------------------------------------------------------------


def test_reviews_follow_the_switch_the_cuts_and_four_weeks_at_most(switch: TaperPlan) -> None:
    reviews = plan_reviews(switch)
    crossover = [s for s in switch.steps if s.phase == "crossover"]
    assert reviews[0].kind == "switch"
    assert 5 <= reviews[0].day - crossover[-1].start_day <= 7
    days = [1, *(r.day for r in reviews)]
    assert all(b - a <= MOST_GAP_DAYS for a, b in itertools.pairwise(days))
    cut_days = {s.start_day for s in switch.steps if s.phase == "taper" and s.cut_percent}
    cut_days.add(switch.steps[-1].start_day)
    for review in reviews:  # on its cut's day, or the Friday before a cut at the weekend
        if review.kind == "reduction":
            assert {review.day, review.day + 1, review.day + 2} & cut_days
    assert "NHS Scotland" in reviews[0].source


@given(start=st.dates(min_value=dt.date(2027, 1, 4), max_value=dt.date(2027, 1, 10)))
def test_property_reviews_fall_on_weekdays_before_their_cut(start: dt.date) -> None:
    """A prescriber's review: reviews fell on Saturdays and Sundays whenever the cuts did (a
    plan started on a Saturday had every review at a weekend)."""
    for plan in _weekday_plans(start):
        reviews = plan_reviews(plan)
        assert all(review.date.weekday() < 5 for review in reviews)
        cut_days = {s.start_day for s in plan.steps[1:] if s.cut_percent and s.cut_percent > 0}
        for review in reviews:
            if review.kind == "reduction":  # held before the cut, never after it
                assert min(d - review.day for d in cut_days if d >= review.day) <= 2
            if review.kind == "switch":
                crossover = [s for s in plan.steps if s.phase == "crossover"]
                assert 5 <= review.day - crossover[-1].start_day <= 7


_WEEKDAY_PLANS: dict[dt.date, list[TaperPlan]] = {}


def _weekday_plans(start: dt.date) -> list[TaperPlan]:
    if start not in _WEEKDAY_PLANS:
        _WEEKDAY_PLANS[start] = [
            plan_taper("diazepam", "20mg", times=2, start=start),
            plan_taper("lorazepam", "2mg", times=2, switch_to="diazepam", start=start),
        ]
    return _WEEKDAY_PLANS[start]


# --- the calendar ---------------------------------------------------------------------------


def _store(store: dict[str, Any], calendar: bytes) -> None:
    """Import a calendar as a calendar app does (RFC 5546): an event replaces the one with its
    UID when its SEQUENCE is not lower; a cancelled one removes it."""
    import icalendar

    for event in icalendar.Calendar.from_ical(calendar).walk("VEVENT"):
        uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
        held = store.get(uid)
        if held is not None and int(held["SEQUENCE"]) > sequence:
            continue
        if str(event.get("STATUS", "")) == "CANCELLED":
            store.pop(uid, None)
        else:
            store[uid] = event


def test_a_revised_calendar_replaces_the_old_events_in_place(table: EquivalenceTable) -> None:
    pytest.importorskip("icalendar")
    from taper.ics import plan_calendar, plan_key

    plan = _plan(table, "diazepam", "20mg", times=2)
    times = {"morning": dt.time(8), "night": dt.time(22)}
    once = plan.revise(on="2027-02-20", taken="10mg")  # shorter: events to cancel
    twice = once.revise(on="2027-03-10", hold="2w")
    key = plan_key(plan)
    for previous, revised in ((plan, once), (once, twice), (plan, twice)):
        store: dict[str, Any] = {}
        _store(store, plan_calendar(previous, times))
        old = dict(store)
        new_calendar = plan_calendar(revised, times)
        _store(store, new_calendar)
        fresh: dict[str, Any] = {}
        _store(fresh, new_calendar)
        # What the app holds is exactly the revision's events.
        assert {u: e.to_ical() for u, e in store.items()} == {
            u: e.to_ical() for u, e in fresh.items()
        }
        day = revised.revisions[previous.revision].on  # the first change since ``previous``
        for uid, event in old.items():
            assert uid.startswith(key)
            # issue 22: a reminder recurs daily until its RRULE's UNTIL; one that ended before
            # the revision keeps its UID and SEQUENCE
            end = event["RRULE"]["UNTIL"][0] if "RRULE" in event else event.decoded("DTSTART")
            end = end.date() if isinstance(end, dt.datetime) else end
            if uid in store and end < day and "-change-" not in uid:
                assert store[uid]["SEQUENCE"] == event["SEQUENCE"]  # unchanged, same UID
        assert any(int(e["SEQUENCE"]) == revised.revision for e in store.values())
    import icalendar

    parsed = icalendar.Calendar.from_ical(plan_calendar(once, times))
    cancelled = [e for e in parsed.walk("VEVENT") if str(e.get("STATUS", "")) == "CANCELLED"]
    assert cancelled
    assert all(int(e["SEQUENCE"]) == 1 for e in cancelled)
    assert "revision 1 of 2027-02-20" in str(parsed["X-WR-CALNAME"])


# --- the command line ---------------------------------------------------------------------------


def test_cli_revise_writes_the_revision(run: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    made = run("schedule", "diazepam", "20mg", "--times", "2", "--start", START, "-o", str(plan))
    assert made.exit_status == 0, made.stderr
    revised = tmp_path / "plan-1.csv"
    result = run(
        "revise", str(plan), "--on", "2027-02-10", "--hold", "2w", "--reason", "poor sleep",
        "-o", str(revised),
    )  # fmt: skip
    assert result.exit_status == 0, result.stderr
    text = revised.read_text(encoding="utf-8")
    assert "poor sleep" in text
    assert "; revision 1\n" in text
    again = run("revise", str(revised), "--on", "2027-03-01", "--back", "-f", "json")
    assert again.exit_status == 0, again.stderr
    assert json.loads(again.stdout)["meta"]["revision"] == 2
    pdf = tmp_path / "plan-2.pdf"
    letter = run(
        "revise", str(revised), "--on", "2027-03-01", "--every", "4w", "--handout", str(pdf),
        "--paper", "letter", "--note", "Call on Mondays.", "-o", str(tmp_path / "plan-2.json"),
    )  # fmt: skip
    assert letter.exit_status == 0, letter.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    shown = run("revise", str(revised), "--on", "2027-03-01", "--every", "4w")
    assert "Revision 2 from 2027-03-01" in shown.stdout


def test_cli_revise_refuses_in_one_line(run: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    run("schedule", "diazepam", "20mg", "--start", START, "-o", str(plan))
    outside = run("revise", str(plan), "--on", "2030-01-01", "--hold", "2w")
    assert outside.exit_status == 2  # a request the plan cannot take
    assert outside.stderr.startswith("taper: error: the revision date 2030-01-01 is outside")
    assert outside.stderr.count("\n") == 1
    plan.write_text(plan.read_text().replace(",night,20,", ",night,19,", 1), encoding="utf-8")
    edited = run("revise", str(plan), "--on", "2027-02-01", "--hold", "2w")
    assert edited.exit_status == 1
    assert "does not match its checksum" in edited.stderr
    assert edited.stderr.count("\n") == 1
    same = run("revise", str(plan), "--on", "2027-02-01", "--hold", "2w", "-o", str(plan))
    assert same.exit_status != 0


def test_a_negative_cut_is_shown_as_a_rise(diazepam: TaperPlan) -> None:
    """A step back made the terminal table fail: 'a dose cannot be negative'."""
    from taper.render import plan_text

    revised = diazepam.revise(on=diazepam.date_of(diazepam.steps[3].start_day + 2), back=True)
    assert "up " in plan_text(revised, revised.table, daily=False)


# --- the handout ----------------------------------------------------------------------------


def _pdf_pages(pdf: bytes) -> list[str]:
    pypdfium2 = pytest.importorskip("pypdfium2")
    document = pypdfium2.PdfDocument(pdf)
    texts = [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    return [text.replace("\u00a0", " ") for text in texts]


def test_the_revised_handout_says_what_it_replaces_and_starts_on_the_date(
    diazepam: TaperPlan,
) -> None:
    pytest.importorskip("fpdf")
    from taper.handout import plan_handout

    revised = diazepam.revise(on="2027-02-10", back=True, reason="poor sleep")
    pages = _pdf_pages(plan_handout(revised, patient="J. Smith"))
    first = pages[0]
    assert "revised 10 February 2027" in first
    assert (
        "Revised on Wednesday 10 February 2027 (revision 1) because of poor sleep. This "
        "replaces the plan of Monday 4 January 2027" in first
    )
    assert "What to take from Wednesday 10 February 2027" in first
    calendar = " ".join(page for page in pages if "Dates Morning Night" in page)
    assert "Wed 10 Feb 2027" in calendar
    assert "Mon 4 Jan" not in calendar  # the days before the revision are not repeated
    prescriber = next(i for i, page in enumerate(pages) if "For the prescriber and" in page)
    assert "Revision 1 from 2027-02-10" in " ".join(pages[prescriber:])


def test_the_handout_has_reviews_and_a_symptom_diary_that_is_no_scale(
    diazepam: TaperPlan,
) -> None:
    pytest.importorskip("fpdf")
    from taper.handout import DIARY_DAYS, DIARY_DOMAINS, plan_handout

    pages = _pdf_pages(plan_handout(diazepam))
    text = " ".join(pages)
    assert "Your reviews with your prescriber" in text
    first_review = plan_reviews(diazepam)[0].date
    assert f"{first_review.year} {first_review:%a %-d %b}" in text  # under its year's row
    diary = [page for page in pages if "Your symptom diary" in page]
    assert len(diary) == 1  # the kinds of symptom and four weeks of days on one page
    assert "This diary is not a validated scale" in diary[0]
    for title, _ in DIARY_DOMAINS:
        assert title in diary[0]
    assert "Get urgent help now (call 911) for a starred symptom" in diary[0]
    assert diary[0].count("☐") == DIARY_DAYS * len(DIARY_DOMAINS)
    # The scales are cited for the prescriber, never reproduced.
    prescriber = " ".join(pages[pages.index(diary[0]) + 1 :])
    assert "For the prescriber and pharmacist" in prescriber
    assert "CIWA-B (Busto et al. 1989)" in prescriber
    assert "their items are not reproduced" in prescriber


def test_a_revision_after_a_new_pace_goes_on_at_that_pace(diazepam: TaperPlan) -> None:
    """A revision after a new interval went back to the first draft's interval."""
    slower = diazepam.revise(on="2027-02-10", every="3w")
    later = slower.revise(on="2027-04-01", taken="12mg")
    assert "every 21 days" in later.history[-1].description
    held = slower.revise(on="2027-03-01", hold="1w").revise(on="2027-05-01", rate="5%")
    assert "5% of the current dose (exponential) every 21 days" in held.history[-1].description


@pytest.mark.parametrize(
    ("drug", "dose", "options"),
    [
        ("clonazepam", "2mg", {"switch_to": "diazepam"}),
        ("lorazepam", "2mg", {"times": 2, "finish_on": "diazepam"}),
        ("diazepam", "30mg", {"times": 3, "until": "2027-12-01"}),
        ("diazepam", "20mg", {"method": "bands", "times": 2}),
        ("diazepam", "15mg", {"method": "linear", "step": "1mg"}),
        ("diazepam", "10mg", {"method": "steps", "steps": "8mg,6mg,4mg,2mg,1mg"}),
    ],
    ids=["switch", "finish-on", "until", "bands", "linear", "steps"],
)
def test_every_kind_of_plan_revises_cleanly(
    table: EquivalenceTable, tmp_path: Path, drug: str, dose: str, options: dict[str, Any]
) -> None:
    """Each action on each kind of plan: the days before kept, taper check clean, the file
    read back to the same plan."""
    plan = _plan(table, drug, dose, **options)
    middle = [s for s in plan.steps if s.phase == "taper"]
    step = middle[len(middle) // 2]
    day = step.start_day + 2
    path = tmp_path / "plan.csv"
    for action in (
        {"hold": "2w"},
        {"back": True},
        {"taken": f"{step.total_mg}mg"},
        {"every": "4w"},
    ):
        revised = plan.revise(on=plan.date_of(day), **action)
        assert _before(revised, day) == _before(plan, day)
        path.write_text(plan_csv(revised, table), encoding="utf-8")
        result = check_plan(path, table)
        assert result.clean, (action, result.problems)
        assert load_plan(path, table=table).sha256 == revised.sha256


def test_a_revised_plan_checked_from_standard_input_reads_its_revisions(
    diazepam: TaperPlan,
) -> None:
    """`taper check -` of a revised plan re-opened the path '-' to read its revisions and
    failed with 'cannot write to standard output: No such file or directory'."""
    from typer.testing import CliRunner

    from cli import app

    current = diazepam.steps[4]
    revised = diazepam.revise(on=diazepam.date_of(current.start_day + 3), back=True)
    result = CliRunner().invoke(app, ["check", "-"], input=revised.to_csv(), prog_name="taper")
    assert result.exit_code == 0, result.output
    assert "the dose goes up: revision 1" in result.output


# ------------------------------------------------------------------ an attacker's review


def test_a_file_of_many_revision_records_is_refused_before_any_is_replayed(
    diazepam: TaperPlan, table: EquivalenceTable, tmp_path: Path
) -> None:
    """500 copies of one revision record (a 108 kB file) took 27 s to replay before the
    checksum failed; 2,000 ran past 5 minutes."""
    revised = diazepam.revise(on=diazepam.date_of(30), hold="2w")
    document = json.loads(dumps_json(plan_document(revised, table)))
    record = document["meta"]["revisions"][0]
    document["meta"]["revisions"] = [dict(record, revision=i + 1) for i in range(2000)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DataFileError, match="records 2,000 revisions; a plan file holds at most"):
        load_plan(path, table=table)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(plan_sha256=None), "not a plan taper wrote"),
        (lambda d: d["days"][20]["doses"][0].update(dose_mg=True), "not a plan taper wrote"),
        (lambda d: d["meta"]["parameters"].update(rate_percent="NaN"), "was edited"),
    ],
)
def test_a_hand_edited_plan_file_is_one_line_never_an_internal_error(
    diazepam: TaperPlan, table: EquivalenceTable, tmp_path: Path, edit: Any, message: str
) -> None:
    """A null checksum, a dose of true and a NaN rate were internal errors (exit 70)."""
    document = json.loads(dumps_json(plan_document(diazepam, table)))
    edit(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DataFileError, match=message):
        load_plan(path, table=table)


def test_deeply_nested_revisions_are_one_line(
    diazepam: TaperPlan, table: EquivalenceTable, tmp_path: Path
) -> None:
    """A '# revisions' line of 50,000 nested brackets raised RecursionError."""
    lines = plan_csv(diazepam, table).split("\n")
    lines.insert(3, "# revisions " + "[" * 50_000 + "]" * 50_000)
    path = tmp_path / "nested.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataFileError, match="nested too deeply"):
        load_plan(path, table=table)
    check_plan(path, table)  # a note, not an internal error


def test_a_plan_csv_with_windows_line_ends_is_revised(
    diazepam: TaperPlan, table: EquivalenceTable, tmp_path: Path
) -> None:
    """A plan CSV saved with CRLF line ends was refused as 'not a plan CSV'."""
    path = tmp_path / "crlf.csv"
    path.write_bytes(plan_csv(diazepam, table).replace("\n", "\r\n").encode())
    assert load_plan(path, table=table).content_sha256() == diazepam.content_sha256()


def test_no_formula_reaches_a_cell_through_the_revisions_line(
    diazepam: TaperPlan, table: EquivalenceTable
) -> None:
    """'--reason a,=1+2' put '=1+2' in a cell of a spreadsheet that splits the '# revisions'
    line on commas; the reason still reads back as written."""
    import csv
    import io

    revised = diazepam.revise(on=diazepam.date_of(30), hold="2w", reason="a,=1+2;@x")
    text = plan_csv(revised, table)
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.lstrip(' "').startswith(("=", "+", "@")), cell
    from taper.revise import plan_from_text

    assert plan_from_text(text, table, "plan.csv").revisions[-1].reason == "a,=1+2;@x"


@pytest.mark.parametrize(
    ("on", "said"),
    [
        ("2027-02-31", "date '2027-02-31' is not a real date (day is out of range for month)"),
        ("10/02/2027", "cannot read date '10/02/2027'; write it as YYYY-MM-DD"),
    ],
)
def test_a_revision_date_that_cannot_be_read_was_named_on_equals_on_the_command_line(
    diazepam: TaperPlan, tmp_path: Path, run: Any, on: str, said: str
) -> None:
    """``taper revise --on 2027-02-31`` said "on= date ...", Python's spelling, where the
    command line names its option --on."""
    path = tmp_path / "plan.csv"
    diazepam.to_csv(path)
    result = run("revise", str(path), "--on", on, "--hold", "2w")
    assert result.exit_status == 2
    assert result.stderr == f"taper: error: --on: {said}\n"
    with pytest.raises(InvalidRequestError) as raised:
        diazepam.revise(on=on, hold="2w")
    assert str(raised.value) == f"on=: {said}"


@pytest.mark.parametrize(
    ("suffix", "edit", "where"),
    [
        (
            ".json",
            lambda text: text.replace('"message": "', '"message": "No risk. ', 1),
            "warnings[0].message",
        ),
        (".csv", lambda text: text.replace(",morning,10,10,", ",morning,10,1,", 1), "line 7:"),
    ],
)
def test_an_edit_outside_the_doses_is_named_where_it_is_not_blamed_on_the_checksum(
    table: EquivalenceTable, tmp_path: Path, suffix: str, edit: Any, where: str
) -> None:
    """A reviewer: an edited equivalent or warning was refused as 'does not match its
    checksum' although the checksum line was the same, and no line was named."""
    plan = _plan(table, "diazepam", "20mg", times=2).revise(
        on="2027-02-01", hold="1w", reason="exams"
    )
    text = plan_csv(plan, table) if suffix == ".csv" else dumps_json(plan_document(plan, table))
    path = tmp_path / f"plan{suffix}"
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises(DataFileError, match="is not what taper writes") as caught:
        load_plan(path, table=table)
    assert where in str(caught.value)
    assert "does not match its checksum" not in str(caught.value)


@pytest.mark.parametrize(
    ("dose", "times", "region", "on", "revision"),
    [
        ("4mg", 4, "uk", "2027-05-06", {"every": "4w"}),
        ("4mg", 4, "uk", "2027-05-06", {"taken": "30mg"}),
        ("2mg", 2, "us", "2027-03-11", {"every": "4w"}),
        ("2mg", 2, "us", "2027-03-11", {"taken": "10mg"}),
        ("2mg", 2, "us", "2027-03-11", {"taken": "36mg", "every": "4w", "allow_high_dose": True}),
    ],
)
def test_a_revised_ashton_switch_goes_on_down_ashtons_steps_never_stopping_at_once(
    table: EquivalenceTable, dose: str, times: int, region: str, on: str, revision: Any
) -> None:
    """A fresh user's review: a clonazepam plan switched to diazepam with --pace ashton,
    revised with --every or --taken, held the dose and then stopped from 30-36 mg of
    diazepam a day, exit 0: a switch plan records the method (the listed doses) but not the
    Ashton steps its taper worked out from the switched dose, and the revision found none
    left. The revision goes on down the Ashton steps from the dose it starts from."""
    made = _plan(table, "clonazepam", dose, times=times, region=region, switch_to="diazepam",
                 pace="ashton")  # fmt: skip
    revised = made.revise(on=dt.date.fromisoformat(on), **revision)
    totals = [step.total_mg for step in revised.steps if step.start_day >= _day(revised, on)]
    assert totals[-2] <= 1, totals  # stops from the clinical end, as the plan did
    cuts = [a - b for a, b in itertools.pairwise(totals[:-1])]
    assert cuts, totals
    assert max(cuts) <= 2, totals  # Ashton: 2 mg off the daytime, then 1 mg
    assert not [w for w in revised.warnings if "more than its clinical end" in w.message]


def test_a_total_taken_that_the_plan_gives_keeps_the_plans_own_doses(
    table: EquivalenceTable,
) -> None:
    """A fresh user's review: diazepam 20 mg x2, '--taken 15mg' on a day the plan gave 5 mg
    morning and 10 mg night became 7 mg and 8 mg from then on (the night dose cut 20%, the
    morning raised 40%), described as 'the same as the plan's 15 mg'. A total one of the
    plan's steps gives is taken as that step's doses."""
    made = _plan(table, "diazepam", "20mg", times=2)
    on = dt.date(2027, 3, 3)
    current = next(s for s in made.steps if s.start_day <= _day(made, on.isoformat()) <= s.end_day)
    revised = made.revise(on=on, taken=f"{current.total_mg}mg")
    after = next(s for s in revised.steps if s.start_day == _day(revised, on.isoformat()))
    assert {d.slot: d.dose_mg for d in after.doses} == {d.slot: d.dose_mg for d in current.doses}
    lower = revised.revise(on=on, taken="13mg")
    thirteen = next(s for s in made.steps if s.total_mg == 13)
    at = next(s for s in lower.steps if s.start_day == _day(lower, on.isoformat()))
    assert {d.slot: d.dose_mg for d in at.doses} == {d.slot: d.dose_mg for d in thirteen.doses}


def test_a_linear_step_back_says_the_step_it_cuts(table: EquivalenceTable) -> None:
    """A fresh user's review: UK clonazepam 1 mg x2 at 0.125 mg a step, stepped back, said
    'half the pace: 0.062 mg each time' (half of 0.125 mg as the formatter writes it) where
    the cuts made were 0.05 mg: the half step is taken on the grid the doses are written on."""
    made = _plan(table, "clonazepam", "1mg", times=2, region="uk", method="linear",
                 step="0.125mg")  # fmt: skip
    revised = made.revise(on=dt.date(2027, 3, 4), back=True)
    said = revised.history[-1].description
    assert "0.062" not in said
    assert "half the pace: 0.05 mg each time" in said
    assert "that is 0.05 mg after 14 days" in said


def test_a_step_taken_out_of_a_warning_keeps_the_space_before_the_words_after_it() -> None:
    """Regression: a revised plan's warning read "step(s) 10cut more in 2 weeks" once the
    patient's own step was taken out of "step(s) 9, 10 cut more ..." (the step list's pattern
    took the space after the last number with it)."""
    from taper import revise
    from taper.notices import Kind, Notice

    warning = Notice(Kind.CEILING, "step(s) 9, 10 cut more in 2 weeks than the ceiling")
    (kept,) = revise._without_step([warning], 9)
    assert kept.message == "step(s) 10 cut more in 2 weeks than the ceiling"
    (kept,) = revise._without_step([warning], 10)
    assert kept.message == "step(s) 9 cut more in 2 weeks than the ceiling"
    assert revise._without_step([Notice(Kind.CEILING, "step(s) 9 cut more")], 9) == []
